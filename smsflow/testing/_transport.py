"""An in-process httpx transport (sync and async) answering from a :class:`Sandbox`.

No socket is opened. Transport-level faults are acted out the way httpx reports them over a
real connection:

* ``drop`` and ``lose_response``: ``httpx.RemoteProtocolError("Server disconnected without
  sending a response.")``.
* ``delay``: the sandbox's ``sleep`` (``async_sleep`` for async) for the delay; when the delay
  exceeds the request's read timeout, it sleeps for the read timeout and raises
  ``httpx.ReadTimeout`` instead (the request was still processed: a send was accepted).
* ``truncate``: a response whose body stream raises ``httpx.RemoteProtocolError`` after part of
  the body.
* ``reset``: ``httpx.ReadError("[Errno 104] Connection reset by peer")``.
* ``trickle``: a body stream that yields one byte after each ``sleep`` (``async_sleep``).
* ``raise``: a copy of the fault's exception, with the request attached to an
  ``httpx.RequestError``.
* ``reply``: the canned status, headers and body; a body given as chunks is streamed without
  ``Content-Length``.

A ``base_path`` lets a client whose base URL has a path (``https://host/behind/a/proxy``)
reach the sandbox: it is taken off the request's path before routing. An ``observer`` sees
each request as the client sent it (full URL, headers, timeout extensions) with the sandbox's
reply, before any fault is acted out.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._replies import SandboxReply
    from ._sandbox import Sandbox

__all__ = ["SandboxTransport", "TransportObserver"]

#: Called as ``observer(request, reply)`` for each request the transport hands the sandbox.
TransportObserver = Callable[[httpx.Request, "SandboxReply"], None]

_DISCONNECTED = "Server disconnected without sending a response."


class _TruncatedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields the first bytes of a body, then fails as a closed connection does."""

    def __init__(self, sent: bytes, expected: int) -> None:
        self._sent = sent
        self._expected = expected

    def _error(self) -> httpx.RemoteProtocolError:
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body: "
            f"received {len(self._sent)} bytes, expected {self._expected}"
        )

    def __iter__(self) -> Iterator[bytes]:
        if self._sent:
            yield self._sent
        raise self._error()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._sent:
            yield self._sent
        raise self._error()


class _TrickleStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields a body one byte at a time, pausing before each byte."""

    def __init__(self, sandbox: Sandbox, body: bytes, pause: float) -> None:
        self._sandbox = sandbox
        self._body = body
        self._pause = pause

    def __iter__(self) -> Iterator[bytes]:
        for index in range(len(self._body)):
            self._sandbox.sleep(self._pause)
            yield self._body[index : index + 1]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index in range(len(self._body)):
            await self._sandbox.async_sleep(self._pause)
            yield self._body[index : index + 1]


class _ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Yields a canned body chunk by chunk (the body has no Content-Length)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict):
        read = timeout.get("read")
        if isinstance(read, int | float):
            return float(read)
    return None


def _exception(reply: SandboxReply, request: httpx.Request) -> BaseException:
    """A fresh copy of a ``raise`` fault's exception, with ``request`` attached."""
    original = reply.exception
    if original is None:  # not made by raise_next; act as a dropped connection
        return httpx.RemoteProtocolError(_DISCONNECTED, request=request)
    try:
        exc = copy.copy(original)
    except Exception:  # noqa: BLE001 - an exception that cannot be copied is raised as given
        exc = original
    if isinstance(exc, httpx.RequestError):
        exc.request = request
    return exc


def _response(sandbox: Sandbox, request: httpx.Request, reply: SandboxReply) -> httpx.Response:
    if reply.action == "drop":
        raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
    if reply.action == "reset":
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    if reply.action == "raise":
        raise _exception(reply, request)
    pairs = dict(reply.headers)
    if reply.chunks is None and not any(name.lower() == "content-length" for name in pairs):
        pairs["Content-Length"] = str(len(reply.body))
    # HTTP/1.1 header values are latin-1; httpx would encode a str value as ASCII.
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs.items()]
    if request.method == "HEAD":
        return httpx.Response(reply.status, headers=headers, request=request)
    if reply.action == "truncate":
        stream = _TruncatedStream(reply.body[: len(reply.body) // 2], len(reply.body))
        return httpx.Response(reply.status, headers=headers, stream=stream, request=request)
    if reply.trickle > 0:
        slow = _TrickleStream(sandbox, reply.body, reply.trickle)
        return httpx.Response(reply.status, headers=headers, stream=slow, request=request)
    if reply.chunks is not None:
        chunked = _ChunkStream(reply.chunks)
        return httpx.Response(reply.status, headers=headers, stream=chunked, request=request)
    return httpx.Response(reply.status, headers=headers, content=reply.body, request=request)


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answer httpx requests from ``sandbox`` without a network.

    Use with ``httpx.Client(transport=...)`` or ``httpx.AsyncClient(transport=...)`` and any
    base URL (the host is ignored; only the path is routed). Thread-safe as the sandbox is.

    Args:
        sandbox: The sandbox that answers.
        base_path: The path of the client's base URL (``"/behind/a/proxy"``), taken off each
            request's path before routing; other paths are routed as they are.
        observer: Called as ``observer(request, reply)`` in the requesting thread for each
            request (as the client sent it: full URL, headers, ``timeout`` extension) once the
            sandbox has answered, before a fault is acted out (a ``raise`` or ``drop`` too).

    Raises:
        ValueError: ``base_path`` is neither empty nor a path starting with ``/``.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        base_path: str = "",
        observer: TransportObserver | None = None,
    ) -> None:
        if base_path and (not base_path.startswith("/") or "?" in base_path):
            raise ValueError(f"base_path must be empty or start with '/', got {base_path!r}")
        self.sandbox = sandbox
        self.base_path = base_path.rstrip("/")
        self.observer = observer

    def _handle(self, request: httpx.Request, body: bytes) -> SandboxReply:
        path = request.url.raw_path.decode("ascii")
        base = self.base_path
        if base and path.startswith(base) and path[len(base) : len(base) + 1] in ("/", "?"):
            path = path[len(base) :]
        reply = self.sandbox.handle(request.method, path, request.headers, body)
        if self.observer is not None:
            self.observer(request, reply)
        return reply

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request.

        Raises:
            httpx.RemoteProtocolError: a ``drop`` or ``lose_response`` fault.
            httpx.ReadError: a ``reset`` fault.
            httpx.ReadTimeout: a ``delay`` fault longer than the read timeout.
            BaseException: a ``raise`` fault's exception.
        """
        reply = self._handle(request, request.read())
        if reply.delay > 0:
            read = _read_timeout(request)
            if read is not None and reply.delay > read:
                self.sandbox.sleep(read)
                raise httpx.ReadTimeout("timed out", request=request)
            self.sandbox.sleep(reply.delay)
        return _response(self.sandbox, request, reply)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (async). Raises as :meth:`handle_request` does."""
        reply = self._handle(request, await request.aread())
        if reply.delay > 0:
            read = _read_timeout(request)
            if read is not None and reply.delay > read:
                await self.sandbox.async_sleep(read)
                raise httpx.ReadTimeout("timed out", request=request)
            await self.sandbox.async_sleep(reply.delay)
        return _response(self.sandbox, request, reply)
