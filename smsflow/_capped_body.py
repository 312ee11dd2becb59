"""Reading one answer under a size cap and a whole-answer deadline (every call, token included)."""

from __future__ import annotations

import time
from typing import Any, Final

import httpx

from ._errors import SmsFlowUnexpectedResponseError
from ._operation import Operation

__all__ = [
    "WRITTEN_AT",
    "CappedBody",
    "answer_deadline",
    "aread_capped",
    "mark_written",
    "read_capped",
    "release",
]


def _too_large(op: Operation[Any], limit: int) -> SmsFlowUnexpectedResponseError:
    return SmsFlowUnexpectedResponseError(
        f"the answer to {op.name} is larger than max_response_bytes ({limit} bytes); refused",
        code="RESPONSE_TOO_LARGE",
        retryable=False,
        outcome_unknown=op.is_send,
    )


WRITTEN_AT: Final = "smsflow.written_at"  # request extension: monotonic time it was sent


def mark_written(request: httpx.Request) -> None:
    """Note on ``request`` the moment it is handed to the transport (see
    :func:`answer_deadline`): the auth flow calls this right before yielding a request, after
    any wait for a token."""
    request.extensions[WRITTEN_AT] = time.monotonic()


def answer_deadline(op: Operation[Any], request: httpx.Request | None = None) -> float | None:
    """The ``time.monotonic()`` by which the whole answer to ``op`` must have arrived.

    httpx's read timeout bounds each wait for bytes, so a server trickling one byte at a time
    could hold a call for ever; this bounds the whole answer by the same number of seconds,
    counted from when the request was written (:func:`mark_written` on ``request``; now,
    without one): a lazy token fetch or a wait for another call's renewal before the request
    does not eat its time. ``None`` when the read timeout is ``None``.
    """
    read = op.timeout.read
    if read is None:
        return None
    written = None if request is None else request.extensions.get(WRITTEN_AT)
    started = written if isinstance(written, float) else time.monotonic()
    return started + read


class CappedBody:
    """The size and time decisions of reading one answer (the only answer reader).

    Refuses (raising :class:`~smsflow.SmsFlowUnexpectedResponseError`, code
    ``RESPONSE_TOO_LARGE``) an answer whose declared ``Content-Length`` or whose running size
    exceeds ``limit`` bytes, before it is held in memory. Raises ``httpx.ReadTimeout`` (which
    the core maps like any read timeout) when the answer is still arriving at ``deadline``
    (see :func:`answer_deadline`). :func:`read_capped` and :func:`aread_capped` drive it.
    """

    __slots__ = ("_chunks", "_deadline", "_limit", "_op", "_request", "_size")

    def __init__(
        self,
        op: Operation[Any],
        limit: int,
        response: httpx.Response,
        deadline: float | None = None,
    ) -> None:
        self._op = op
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []
        self._deadline = deadline
        self._request = response.request
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(op, limit)
        self._check_time()

    def _check_time(self) -> None:
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise httpx.ReadTimeout(
                f"the answer to {self._op.name} took longer than the timeout "
                f"({self._op.timeout.read} s)",
                request=self._request,
            )

    def add(self, chunk: bytes) -> None:
        """Take the next decoded chunk. Raises ``RESPONSE_TOO_LARGE`` past the limit, and
        ``httpx.ReadTimeout`` past the deadline."""
        self._check_time()
        self._size += len(chunk)
        if self._size > self._limit:
            raise _too_large(self._op, self._limit)
        self._chunks.append(chunk)

    def content(self) -> bytes:
        """The whole body read so far."""
        return b"".join(self._chunks)


def read_capped(
    op: Operation[Any], limit: int, response: httpx.Response, deadline: float | None
) -> None:
    """Read the streamed ``response`` to ``op`` into ``response.content`` (sync).

    Raises:
        SmsFlowUnexpectedResponseError: ``RESPONSE_TOO_LARGE`` (more than ``limit`` bytes).
        httpx.ReadTimeout: the answer was still arriving at ``deadline``.
    """
    body = CappedBody(op, limit, response, deadline)
    for chunk in response.iter_bytes():
        body.add(chunk)
    response._content = body.content()


async def aread_capped(
    op: Operation[Any], limit: int, response: httpx.Response, deadline: float | None
) -> None:
    """:func:`read_capped` for an async response."""
    body = CappedBody(op, limit, response, deadline)
    async for chunk in response.aiter_bytes():
        body.add(chunk)
    response._content = body.content()


def release(response: httpx.Response) -> None:
    """Let ``response`` (read and closed) be freed as soon as its last user drops it.

    httpx leaves a reference cycle between a response and its stream, so each response, its
    request and the request's body (about 60 KB for 1,000 messages) wait for the garbage
    collector; under a steady stream of sends that is megabytes. With the stream swapped for
    one holding the already-read body, reference counting frees them at once.
    """
    response.stream = httpx.ByteStream(response.content)
