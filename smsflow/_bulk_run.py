"""What ``send_bulk`` returns: :class:`BulkRun` and :class:`AsyncBulkRun`, one outcome per message.

They only hand out the outcomes the clients' bulk drivers produce, a batch at a time, and
read the counts from the :class:`~smsflow._bulk.BulkEngine`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from types import TracebackType
from typing import Self

from ._bulk import BulkEngine
from ._bulk_types import BulkProgress, MessageOutcome

__all__ = ["AsyncBulkRun", "BulkRun"]


class BulkRun(Iterator[MessageOutcome]):
    """The outcomes of ``SmsFlowClient.send_bulk``, one per input message, as batches finish.

    Iterate it to run the send (nothing is sent before the first ``next()``). ``progress``
    holds the counts so far. Closing it early (``close()``, leaving a ``with`` block, or
    ``break`` followed by garbage collection) starts no new batch and waits for the batches
    in flight, whose outcomes go to the journal.
    """

    def __init__(self, chunks: Generator[list[MessageOutcome], None, None], engine: BulkEngine):
        self._chunks = chunks  # the driver hands out outcomes a batch (or a rejection) at a time
        self._engine = engine
        self._chunk: list[MessageOutcome] = []
        self._next = 0

    def __repr__(self) -> str:
        return f"BulkRun({self._engine.settings.campaign_name!r}, {self.progress})"

    @property
    def progress(self) -> BulkProgress:
        """The counts so far (final once the iteration is over)."""
        return self._engine.progress()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> MessageOutcome:
        while self._next >= len(self._chunk):  # bounded: the driver's chunks are never empty
            self._chunk, self._next = next(self._chunks), 0
        self._next += 1
        return self._chunk[self._next - 1]

    def stop(self, code: str = "STOPPED", reason: str = "the run was stopped") -> None:
        """Start no new batch, but keep handing out outcomes: iterate on to get those of the
        batches in flight (they finish and are journaled) and ``not_sent`` with ``code`` for
        every message not sent. Safe to call from a signal handler or another thread."""
        self._engine.stop(code, reason)

    def close(self) -> None:
        """Stop: start no new batch, wait for those in flight, release the journal."""
        self._chunks.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncBulkRun(AsyncIterator[MessageOutcome]):
    """The outcomes of ``AsyncSmsFlowClient.send_bulk`` (``async for``). See :class:`BulkRun`."""

    def __init__(
        self, chunks: AsyncGenerator[list[MessageOutcome], None], engine: BulkEngine
    ) -> None:
        self._chunks = chunks
        self._engine = engine
        self._chunk: list[MessageOutcome] = []
        self._next = 0

    def __repr__(self) -> str:
        return f"AsyncBulkRun({self._engine.settings.campaign_name!r}, {self.progress})"

    @property
    def progress(self) -> BulkProgress:
        """The counts so far (final once the iteration is over)."""
        return self._engine.progress()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> MessageOutcome:
        while self._next >= len(self._chunk):  # bounded: the driver's chunks are never empty
            self._chunk, self._next = await anext(self._chunks), 0
        self._next += 1
        return self._chunk[self._next - 1]

    def stop(self, code: str = "STOPPED", reason: str = "the run was stopped") -> None:
        """Start no new batch, but keep handing out outcomes: iterate on to get those of the
        batches in flight (they finish and are journaled) and ``not_sent`` with ``code`` for
        every message not sent. Safe to call from a signal handler or another thread."""
        self._engine.stop(code, reason)

    async def aclose(self) -> None:
        """Stop: start no new batch, wait for those in flight, release the journal."""
        await self._chunks.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
