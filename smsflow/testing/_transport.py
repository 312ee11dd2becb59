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
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._sandbox import Sandbox, SandboxReply

__all__ = ["SandboxTransport"]

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


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    if isinstance(timeout, dict):
        read = timeout.get("read")
        if isinstance(read, int | float):
            return float(read)
    return None


def _handle(sandbox: Sandbox, request: httpx.Request, body: bytes) -> SandboxReply:
    return sandbox.handle(
        request.method, request.url.raw_path.decode("ascii"), request.headers, body
    )


def _response(sandbox: Sandbox, request: httpx.Request, reply: SandboxReply) -> httpx.Response:
    if reply.action == "drop":
        raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
    if reply.action == "reset":
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    headers = {**reply.headers, "Content-Length": str(len(reply.body))}
    if request.method == "HEAD":
        return httpx.Response(reply.status, headers=headers, request=request)
    if reply.action == "truncate":
        stream = _TruncatedStream(reply.body[: len(reply.body) // 2], len(reply.body))
        return httpx.Response(reply.status, headers=headers, stream=stream, request=request)
    if reply.trickle > 0:
        slow = _TrickleStream(sandbox, reply.body, reply.trickle)
        return httpx.Response(reply.status, headers=headers, stream=slow, request=request)
    return httpx.Response(reply.status, headers=headers, content=reply.body, request=request)


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answer httpx requests from ``sandbox`` without a network.

    Use with ``httpx.Client(transport=...)`` or ``httpx.AsyncClient(transport=...)`` and any
    base URL (the host is ignored; only the path is routed). Thread-safe as the sandbox is.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request.

        Raises:
            httpx.RemoteProtocolError: a ``drop`` or ``lose_response`` fault.
            httpx.ReadError: a ``reset`` fault.
            httpx.ReadTimeout: a ``delay`` fault longer than the read timeout.
        """
        reply = _handle(self.sandbox, request, request.read())
        if reply.delay > 0:
            read = _read_timeout(request)
            if read is not None and reply.delay > read:
                self.sandbox.sleep(read)
                raise httpx.ReadTimeout("timed out", request=request)
            self.sandbox.sleep(reply.delay)
        return _response(self.sandbox, request, reply)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (async). Raises as :meth:`handle_request` does."""
        reply = _handle(self.sandbox, request, await request.aread())
        if reply.delay > 0:
            read = _read_timeout(request)
            if read is not None and reply.delay > read:
                await self.sandbox.async_sleep(read)
                raise httpx.ReadTimeout("timed out", request=request)
            await self.sandbox.async_sleep(reply.delay)
        return _response(self.sandbox, request, reply)
