"""Real-socket front ends: a loopback HTTP/1.1 server, a WSGI app, and ``serve`` for the CLI.

:class:`SandboxServer` is a stdlib ``ThreadingHTTPServer`` (one daemon thread per connection,
keep-alive, ``Content-Length`` or chunked request bodies). Faults are acted out for real:
``delay`` sleeps (the sandbox's ``sleep``) before writing the answer; ``drop`` and
``lose_response`` close the socket without a byte of response; ``truncate`` sends the headers
with the full ``Content-Length``, half of the body, and closes; ``reset`` closes the socket with
``SO_LINGER`` 0 (a TCP RST); ``trickle`` sends the headers, then one body byte per pause;
``html``, ``malformed`` and ``redirect`` are ordinary answers with those bodies; a ``reply``
is sent as given (a body given as chunks with chunked transfer encoding; the connection is
closed after a ``reply`` whose own ``Content-Length`` header may not match its body); a
``raise`` (an exception only the in-process transport can raise) closes the socket without a
byte of response, as ``drop`` does.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import logging
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Final, Self

from ._inspect import PREFIX, request_line
from ._replies import STATUS_CODES, SandboxReply, error_reply
from ._sandbox import Sandbox

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["SandboxServer", "serve", "wsgi_app"]

logger = logging.getLogger("smsflow.testing")

MAX_BODY_BYTES: Final = 32 * 1024 * 1024  # far above 1000 messages of 1600 characters
IDLE_TIMEOUT_SECONDS: Final = 60.0
_STOP_JOIN_SECONDS: Final = 5.0


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "smsflow-sandbox"
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("sandbox server: " + format, *args)  # noqa: G003 - stdlib's format string

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors http.server raises itself (bad request line, unknown method): JSON too."""
        self.close_connection = True
        reply = self.server.sandbox.styled(_error(code, message or _reason(code)))
        self._write(reply, reply.body)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` when it cannot be read (too large or malformed)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if not 0 <= length <= MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while total <= MAX_BODY_BYTES:  # bounded: every chunk adds to total, or we return
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                for _ in range(100):  # trailers, then the empty line
                    if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                        break
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                return None
            parts.append(self.rfile.read(size))
            self.rfile.readline(8)
        return None

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.send_error(400, "The request body could not be read (too large or malformed).")
            return
        sandbox = self.server.sandbox
        reply = sandbox.handle(self.command, self.path, dict(self.headers.items()), body)
        if reply.delay > 0:
            sandbox.sleep(reply.delay)
        if reply.action in ("drop", "raise"):
            self.close_connection = True
            return
        if reply.action == "reset":
            self._reset()
            return
        payload = b"" if self.command == "HEAD" else reply.body
        if reply.trickle > 0 and payload:
            self._trickle(reply, payload)
            return
        if reply.chunks is not None and self.command != "HEAD":
            self._write_chunked(reply, reply.chunks)
            return
        if reply.action == "truncate":
            self.close_connection = True
            payload = reply.body[: len(reply.body) // 2]
        self._write(reply, payload)

    def _write_chunked(self, reply: SandboxReply, chunks: Iterable[bytes]) -> None:
        """The headers with ``Transfer-Encoding: chunked``, then each chunk as it comes."""
        self._write(reply, b"", chunked=True)
        try:
            for chunk in chunks:
                if chunk:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode("ascii") + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client gave up (e.g. the answer was too large for it): stop
            self.close_connection = True

    def _reset(self) -> None:
        """Close the socket at once with SO_LINGER 0: the client gets a TCP RST, not a FIN."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # detach() leaves the socket object (and rfile/wfile) without a descriptor, so the
        # handler's later shutdown/close calls fail harmlessly and cannot touch a reused fd.
        os.close(self.connection.detach())

    def _trickle(self, reply: SandboxReply, payload: bytes) -> None:
        """The headers, then the body one byte per ``reply.trickle`` seconds (bounded by it)."""
        self.close_connection = True
        self._write(reply, b"")
        for index in range(len(payload)):
            self.server.sandbox.sleep(reply.trickle)
            try:
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
            except OSError:  # the client gave up (its deadline passed): stop
                return

    def _write(self, reply: SandboxReply, payload: bytes, *, chunked: bool = False) -> None:
        lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        elif any(name.lower() == "content-length" for name in reply.headers):
            self.close_connection = True  # a canned length may lie: end the exchange here
        else:
            lines.append(f"Content-Length: {len(reply.body)}")
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        lines.append(f"Server: {self.server_version}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + payload)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. its read timeout fired during a delay)
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        # http.server dispatches on do_<METHOD>: every method reaches the sandbox, which
        # answers 405 for a known path (404 for an unknown one), never 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


def _error(status: int, message: str) -> SandboxReply:
    return error_reply(status, STATUS_CODES.get(status, "INVALID_REQUEST"), message)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A handler failed: a vanished client is routine; anything else is logged."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            logger.debug("sandbox server: connection from %s ended: %r", client_address, error)
        else:
            logger.error("sandbox server: error while serving %s", client_address, exc_info=error)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn): skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down every open client connection (idle keep-alive ones included)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """A :class:`Sandbox` served over HTTP/1.1 on a local port, in background threads.

    Args:
        sandbox: The sandbox to serve (default: a new ``Sandbox()``).
        host: The address to bind (loopback by default).
        port: The port (0: any free port; read it from :attr:`port` or :attr:`url`).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, sandbox: Sandbox | None = None, host: str = "127.0.0.1", port: int = 0):
        self.sandbox = sandbox if sandbox is not None else Sandbox()
        self.host = host
        self._requested_port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port. Raises ``RuntimeError`` before :meth:`start`."""
        if self._httpd is None:
            raise RuntimeError("the sandbox server is not started")
        return self._httpd.server_port

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8025``. Raises ``RuntimeError`` before start."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread. Raises ``OSError`` if the port cannot be bound,
        ``RuntimeError`` if already started."""
        if self._httpd is not None:
            raise RuntimeError("the sandbox server is already started")
        httpd = _HTTPServer((self.host, self._requested_port), self.sandbox)
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"smsflow-sandbox:{httpd.server_port}",
            daemon=True,
        )
        self._httpd, self._thread = httpd, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the listening socket and every open connection. Idempotent.

        Handler threads still inside a ``delay`` fault finish on their own (daemon threads).
        """
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join(_STOP_JOIN_SECONDS)

    @property
    def open_connections(self) -> int:
        """How many client connections are open now (idle keep-alive ones included)."""
        httpd = self._httpd
        if httpd is None:
            return 0
        with httpd._connections_lock:
            return len(httpd._connections)

    def close_connections(self) -> None:
        """Close every open client connection now, as a server's idle timeout does.

        Connections busy with a request are closed too. Does nothing when stopped.
        """
        if self._httpd is not None:
            self._httpd.close_connections()

    def __enter__(self) -> Self:
        return self.start() if self._httpd is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._httpd is not None else "stopped"
        return f"SandboxServer({where}, {self.sandbox!r})"


def serve(
    port: int,
    host: str = "127.0.0.1",
    *,
    out: IO[str] | None = None,
    stop: threading.Event | None = None,
    log: IO[str] | None = None,
    **sandbox_kwargs: Any,
) -> None:
    """Serve a new sandbox on ``host:port`` until Ctrl-C, SIGTERM (or ``stop`` is set),
    printing its URL, test credentials and inspection URL to ``out`` (default: stdout).

    Args:
        port: TCP port (0: any free port).
        host: Address to bind (loopback by default).
        out: Where to print.
        stop: Set it (from another thread) to stop serving.
        log: Where to print one line per request received (method, path, status; never a
            header or body), or ``None``.
        sandbox_kwargs: Passed to :class:`Sandbox` (``balance=``, ``opt_outs=``, ...).

    Raises:
        OSError: The port cannot be bound (for instance, it is in use).
        ValueError: A sandbox argument is invalid.
    """
    stream = out if out is not None else sys.stdout
    sandbox = Sandbox(**sandbox_kwargs)
    if log is not None:
        sink = log

        def write_log(
            method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
        ) -> None:
            sink.write(request_line(method, path, headers, reply) + "\n")
            sink.flush()

        sandbox.add_observer(write_log)
    stop_event = stop if stop is not None else threading.Event()
    with SandboxServer(sandbox, host=host, port=port) as server, _stop_on_sigterm(stop_event):
        print(f"SMSFlow sandbox listening on {server.url}", file=stream)
        print(f"  client id:     {sandbox.client_id}", file=stream)
        print(f"  client secret: {sandbox.client_secret}", file=stream)
        print(f"  balance:       {sandbox.balance}", file=stream)
        print(f"  opted out:     {', '.join(sorted(sandbox.opt_outs)) or 'none'}", file=stream)
        print(f"  received:      {server.url}{PREFIX}messages", file=stream)
        print("Press Ctrl-C to stop.", file=stream, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while not stop_event.wait(0.2):  # a timed wait lets signal handlers run
                pass
    print("SMSFlow sandbox stopped.", file=stream, flush=True)


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (docker stop) stops :func:`serve` as Ctrl-C does (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def wsgi_app(sandbox: Sandbox) -> WSGIApplication:
    """A WSGI application answering from ``sandbox`` (for schemathesis or any WSGI server).

    ``delay`` faults sleep; ``drop``, ``lose_response``, ``reset`` and ``raise`` raise
    ``ConnectionAbortedError`` (WSGI cannot close a connection silently); ``truncate`` returns
    half of the body; ``trickle`` yields the body one byte per pause; a ``reply`` given as
    chunks is returned chunk by chunk without ``Content-Length``.
    """

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {
            key[5:].replace("_", "-"): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-")] = str(environ[key])
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        if environ.get("QUERY_STRING"):
            path += "?" + str(environ["QUERY_STRING"])
        reply = sandbox.handle(str(environ["REQUEST_METHOD"]), path, headers, body)
        if reply.delay > 0:
            sandbox.sleep(reply.delay)
        if not reply.answered:
            raise ConnectionAbortedError("the sandbox dropped the connection")
        payload = reply.body if reply.action == "answer" else reply.body[: len(reply.body) // 2]
        response_headers = list(reply.headers.items())
        has_length = any(name.lower() == "content-length" for name, _ in response_headers)
        if reply.chunks is None and not has_length:
            response_headers.append(("Content-Length", str(len(payload))))
        start_response(f"{reply.status} {_reason(reply.status)}", response_headers)
        if environ["REQUEST_METHOD"] == "HEAD":
            return [b""]
        if reply.chunks is not None:
            return reply.chunks
        if reply.trickle > 0:
            return _trickled(sandbox, payload, reply.trickle)
        return [payload]

    return app


def _trickled(sandbox: Sandbox, payload: bytes, pause: float) -> Iterator[bytes]:
    for index in range(len(payload)):
        sandbox.sleep(pause)
        yield payload[index : index + 1]
