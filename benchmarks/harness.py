"""The benchmark's harness: how much work each row does, the server process, its CPU load, its
ceiling, statistics, and finding the vendor's 0.2.0 venv. Nothing here is timed against anything.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import select
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import frontend
import httpx
import workloads
from workloads import CAMPAIGN, MESSAGE

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
DEFAULT_VENDOR_PYTHON: Final = "/tmp/smsflow-vendor-0.2.0/bin/python"  # noqa: S108 - a venv path
CLIENT_CPU: Final = 0
SERVER_CPU: Final = 1


@dataclass(frozen=True)
class Sizes:
    """How much work each row does."""

    calls: int  # sequential calls per client and operation
    warmup: int  # untimed calls first
    rounds: int  # the clients take turns this many times
    bulk_messages: int
    batch: int
    bulk_reps: int
    concurrency: int
    concurrent_calls: int
    throughput_reps: int
    import_samples: int
    memory_small: int
    memory_large: int
    ceiling_requests: int


FULL: Final = Sizes(
    calls=4000,
    warmup=200,
    rounds=16,
    bulk_messages=100_000,
    batch=1000,
    bulk_reps=3,
    concurrency=200,
    concurrent_calls=1_000,
    throughput_reps=5,
    import_samples=10,
    memory_small=100_000,
    memory_large=1_000_000,
    ceiling_requests=20_000,
)
SMOKE: Final = Sizes(
    calls=40,
    warmup=5,
    rounds=2,
    bulk_messages=2_000,
    batch=1000,
    bulk_reps=1,
    concurrency=200,
    concurrent_calls=400,
    throughput_reps=1,
    import_samples=3,
    memory_small=2_000,
    memory_large=6_000,
    ceiling_requests=500,
)


# -- statistics -----------------------------------------------------------------------------


def median(values: list[float]) -> float:
    """The median (``nan`` for no values)."""
    return statistics.median(values) if values else math.nan


def p99(values: list[float]) -> float:
    """The 99th percentile by nearest rank (``nan`` for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


# -- the server process ---------------------------------------------------------------------


class Server:
    """``benchmarks/frontend.py`` in its own process; stops when this one closes its stdin."""

    def __init__(self, fast: bool) -> None:
        command = [sys.executable, str(HERE / "frontend.py"), "--port", "0"]
        if fast:
            command.append("--fast")
        if _can_pin():
            command += ["--cpu", str(SERVER_CPU)]
        self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30.0)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the front end did not start (said {line!r})")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (``nan`` where /proc is missing)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Ask it to stop (close its stdin); terminate it if it lingers."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


_CAN_PIN: Final = hasattr(os, "sched_setaffinity") and {CLIENT_CPU, SERVER_CPU} <= set(
    os.sched_getaffinity(0)
)


def _can_pin() -> bool:
    """Whether the client and the server can each have a CPU of their own (read at start)."""
    return _CAN_PIN


class Load:
    """Server CPU use during the timed rows: the busiest row shows the server was not the limit."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.rows: dict[str, float] = {}

    @contextlib.contextmanager
    def measure(self, row: str) -> Iterator[None]:
        """Record the server's busy fraction while the block runs."""
        cpu, wall = self.server.cpu_seconds(), time.perf_counter()
        yield
        elapsed = time.perf_counter() - wall
        if elapsed > 0:
            self.rows[row] = (self.server.cpu_seconds() - cpu) / elapsed


# -- server ceiling -------------------------------------------------------------------------


def _request_bytes(port: int, method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: application/json",
        f"Authorization: Bearer {token}",
    ]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def ceiling(port: int, request: bytes, total: int, depth: int = 32) -> float:
    """Requests per second one pipelining raw-socket connection gets answered (server limit).

    Keeps ``depth`` requests in flight; counts answers by their ``Content-Length``.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10.0) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        sent = answered = 0
        started = time.perf_counter()
        while answered < total:  # bounded: each pass gets data or the 10 s timeout raises
            burst = min(depth - (sent - answered), total - sent)
            if burst > 0:
                sock.sendall(request * burst)
                sent += burst
            data = sock.recv(1 << 20)
            if not data:
                raise RuntimeError("the server closed the connection")
            buffer += data
            while True:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buffer[:end]).lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
                if len(buffer) < end + 4 + length:
                    break
                if not head.startswith(b"http/1.1 200"):
                    raise RuntimeError(f"ceiling request answered {head[:40]!r}")
                del buffer[: end + 4 + length]
                answered += 1
        return total / (time.perf_counter() - started)


def _body(messages: list[dict[str, str]]) -> bytes:
    payload = {
        "SendOptions": {"startDeliveryUtc": None, "campaignName": CAMPAIGN, "checkOptOuts": True},
        "messages": messages,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def measure_ceiling(server: Server, sizes: Sizes, bulk: list[dict[str, str]]) -> dict[str, float]:
    """The server's answers per second for each kind of request (pipelined, one connection)."""
    answer = httpx.get(
        server.url + workloads.TOKEN_PATH, headers={"Authorization": frontend.basic_header()}
    )
    token = answer.json()["token"]
    n = sizes.ceiling_requests
    balance = _request_bytes(server.port, "GET", workloads.BALANCE_PATH, token)
    one = _request_bytes(server.port, "POST", workloads.SEND_PATH, token, _body([MESSAGE]))
    many = _request_bytes(server.port, "POST", workloads.SEND_PATH, token, _body(bulk))
    return {
        "balance": ceiling(server.port, balance, n),
        "send1": ceiling(server.port, one, n),
        "bulk": ceiling(server.port, many, max(5, n // 200), depth=4),
    }


def find_vendor(option: str | None) -> tuple[str | None, str]:
    """The vendor venv's python, or None and the reason."""
    candidate = option or os.environ.get("SMSFLOW_VENDOR_PYTHON") or DEFAULT_VENDOR_PYTHON
    if not Path(candidate).exists():
        return None, "not installed (run benchmarks/setup_vendor.sh)"
    check = "import importlib.metadata as m; print(m.version('smsflow'))"
    done = subprocess.run(  # noqa: S603 - fixed command, no shell
        [candidate, "-I", "-c", check], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0 or done.stdout.strip() != "0.2.0":
        return None, f"not installed ({candidate} has no smsflow 0.2.0)"
    return candidate, "installed"
