"""A thin asyncio HTTP/1.1 keep-alive front end over the one fake SMSFlow (the sandbox).

Run it as its own process (the benchmark does)::

    python benchmarks/frontend.py [--port 0] [--fast] [--cpu 1] [--max-seconds 900]

It prints ``PORT <n>`` on stdout once it listens on 127.0.0.1, then serves until its standard
input closes (the parent exited), SIGTERM, or ``--max-seconds`` pass, whichever comes first.

Every request goes to :meth:`smsflow.testing.Sandbox.handle` (the sandbox's pure handler), so the
answers are the sandbox's own. With ``--fast`` the first answer to each distinct request (method,
path, authorization, body) is kept, already framed as HTTP bytes, and replayed for identical
requests: the bodies stay the sandbox's spec-valid bodies (built once), only their event ids and
balances stop changing. That removes the sandbox's own work (about 6 us for a balance, 20 us for
a one-message send, 4 ms for a 1000-message send on the reference machine) from the per-call and
bulk timings, so those rows measure the clients, not the fake.

Only what the benchmark needs of HTTP/1.1: ``Content-Length`` request bodies (a chunked body is
answered 411 and the connection closed), pipelining, keep-alive, ``Connection: close``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http
import os
import signal
import sys
from collections.abc import Callable
from typing import Final

from smsflow.testing import Sandbox

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "Answerer", "main"]

CLIENT_ID: Final = "bench-client"
CLIENT_SECRET: Final = "bench-secret"  # noqa: S105 - the local fake's public test secret
MAX_HEAD_BYTES: Final = 64 * 1024
MAX_BODY_BYTES: Final = 32 * 1024 * 1024
MAX_CACHED_ANSWERS: Final = 256


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class Answerer:
    """Turns one parsed request into the framed HTTP response bytes (``None``: drop it).

    Args:
        sandbox: The sandbox whose handler answers.
        fast: Keep and replay the framed answer of each distinct request (see the module doc).
    """

    def __init__(self, sandbox: Sandbox, *, fast: bool) -> None:
        self.sandbox = sandbox
        self.fast = fast
        self.requests = 0
        self._cache: dict[tuple[str, str, str, bytes], bytes | None] = {}

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> bytes | None:
        """The response bytes for one request, or ``None`` to close without answering."""
        self.requests += 1
        if not self.fast:
            return self._frame(method, target, headers, body)
        key = (method, target, headers.get("authorization", ""), body)
        try:
            return self._cache[key]
        except KeyError:
            pass
        framed = self._frame(method, target, headers, body)
        if len(self._cache) < MAX_CACHED_ANSWERS:
            self._cache[key] = framed
        return framed

    def _frame(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> bytes | None:
        reply = self.sandbox.handle(method, target, headers, body)
        if reply.action != "answer":
            return None
        lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        lines.append(f"Content-Length: {len(reply.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head + (b"" if method == "HEAD" else reply.body)


_BAD_REQUEST: Final = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_LENGTH_REQUIRED: Final = (
    b"HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parses pipelined requests and writes their answers."""

    def __init__(self, answer: Callable[[str, str, dict[str, str], bytes], bytes | None]) -> None:
        self._answer = answer
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def _fail(self, response: bytes) -> None:
        if self._transport is not None:
            self._transport.write(response)
            self._transport.close()
        self._buffer.clear()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        out: list[bytes] = []
        close = False
        # Bounded: each pass consumes one whole request from the buffer or returns.
        while buffer and not close:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    self._fail(_BAD_REQUEST)
                    return
                break
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                self._fail(_BAD_REQUEST)
                return
            method, target, _version = parts
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._fail(_LENGTH_REQUIRED)
                return
            length_text = headers.get("content-length", "0")
            if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
                self._fail(_BAD_REQUEST)
                return
            total = end + 4 + int(length_text)
            if len(buffer) < total:
                break
            body = bytes(buffer[end + 4 : total])
            del buffer[:total]
            framed = self._answer(method, target, headers, body)
            if framed is None:
                close = True
                break
            out.append(framed)
            close = headers.get("connection", "").lower() == "close"
        if self._transport is None:
            return
        if out:
            self._transport.write(b"".join(out) if len(out) > 1 else out[0])
        if close:
            self._transport.close()


async def _serve(answerer: Answerer, port: int, max_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Connection(answerer.answer), "127.0.0.1", port, backlog=512
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # Stop when the parent goes away: its end of our stdin closes.
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not os.read(0, 4096) else None)
    try:
        await asyncio.wait_for(stop.wait(), timeout=max_seconds)
    except TimeoutError:
        print("frontend: --max-seconds reached, stopping", file=sys.stderr)
    server.close()
    await server.wait_closed()


def basic_header(client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> str:
    """The ``Authorization`` value of the token call for the benchmark's credentials."""
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    """Serve until told to stop. Returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--fast", action="store_true", help="replay framed answers (module doc)")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="hard stop (s)")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    sandbox = Sandbox(
        CLIENT_ID,
        CLIENT_SECRET,
        balance=1e12,  # never runs out during a run
        record_messages=False,  # counts and 8-byte fingerprints only
        max_records=1000,
    )
    asyncio.run(_serve(Answerer(sandbox, fast=args.fast), args.port, args.max_seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
