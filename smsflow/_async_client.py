"""The asynchronous front door, :class:`AsyncSmsFlowClient`, and its asyncio-task bulk driver.

asyncio is imported on first use (``import smsflow`` stays light).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeAlias, TypeVar

import httpx

from . import _waits
from ._base_client import END_OF_INPUT, BaseClient
from ._bulk_defaults import DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_RETRIES
from ._capped_body import answer_deadline, aread_capped, mark_written, release
from ._config import TimeoutTypes, tls_context, trusts_env
from ._core import Outcome
from ._errors import SmsFlowError
from ._fetch_state import one_call
from ._idempotency import asend_once, check_ledger
from ._operation import Operation, Step
from ._results import AuthToken, Balance, SendResult
from ._retry import RetryPolicy
from ._validate import MessageLike, StartDelivery

if TYPE_CHECKING:  # asyncio and the bulk machinery load on first use (docs/performance.md)
    import asyncio

    from ._bulk import BatchAnswer, BulkEngine
    from ._bulk_run import AsyncBulkRun
    from ._bulk_types import Batch, BatchResult, BulkProgress, MessageOutcome

__all__ = ["AsyncSmsFlowClient"]

T = TypeVar("T")
AsyncSleep: TypeAlias = Callable[[float], Awaitable[None]]


class AsyncSmsFlowClient(BaseClient[httpx.AsyncClient, httpx.AsyncBaseTransport, AsyncSleep]):
    """Asynchronous client of the SMSFlow API: the same API as :class:`SmsFlowClient`, awaited.

    Safe for many concurrent tasks on one event loop (one token request however many start
    at once). Takes the same arguments, with ``sleep`` an async function and ``http_client``
    an ``httpx.AsyncClient``. Close it with ``await client.aclose()`` or ``async with``.
    """

    def _default_sleep(self) -> AsyncSleep:
        return _waits.async_sleep

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            limits=self._limits,
            transport=self._async_transport(),
            verify=tls_context(),
            trust_env=trusts_env(self._config.base_url),
        )

    async def _send_once(self, op: Operation[Any]) -> httpx.Response:
        request = op.build(self._http)
        mark_written(request)  # the auth flow marks it again after any wait for a token
        response = await self._http.send(
            request,
            auth=self._auth if op.authenticated else None,
            follow_redirects=False,
            stream=True,
        )
        deadline = answer_deadline(op, response.request)
        try:
            await aread_capped(op, self._config.max_response_bytes, response, deadline)
        finally:
            await response.aclose()
        release(response)
        return response

    async def _execute(self, op: Operation[T], policy: RetryPolicy | None = None) -> T:
        with one_call():
            return await self._execute_call(op, policy)

    async def _execute_call(self, op: Operation[T], policy: RetryPolicy | None) -> T:
        self._check_open()
        flow = self._core.run(op, policy)
        step: Step[Any] = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, float):
                await self._sleep(step)
            else:
                try:
                    outcome = await self._send_once(step)
                except (httpx.HTTPError, SmsFlowError) as exc:
                    outcome = exc
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    async def authenticate(self, *, timeout: TimeoutTypes = None) -> AuthToken:
        """Fetch a new login token now. See :meth:`SmsFlowClient.authenticate`."""
        async with self._cache.async_lock:
            return await self._execute(self._core.authenticate_op(timeout))

    async def send_sms(
        self,
        campaign_name: str,
        messages: Iterable[MessageLike],
        start_delivery_utc: StartDelivery = None,
        check_opt_outs: bool = True,
        retry: bool = False,
        *,
        timeout: TimeoutTypes = None,
        normalize_destinations: bool = True,
        idempotency_key: str | None = None,
        force_resend: bool = False,
    ) -> SendResult:
        """Send (or schedule) 1-1000 messages as one event. See :meth:`SmsFlowClient.send_sms`."""
        body, sent_to = self._send_body(
            campaign_name, messages, start_delivery_utc, check_opt_outs, normalize_destinations
        )
        op = self._core.send_op(body, retry=retry, timeout=timeout, destinations=sent_to)

        async def send() -> SendResult:
            if self._rate_limit is not None:  # the shared limit's I/O is blocking
                import asyncio

                wait = await asyncio.to_thread(self._rate_wait, body)
                if wait > 0:
                    await self._sleep(wait)
            return await self._execute(op)

        if idempotency_key is None:
            return await send()
        ledger = check_ledger(self._ledger, idempotency_key)
        return await asend_once(ledger, idempotency_key, body, send, force_resend)

    async def get_balance(self, *, timeout: TimeoutTypes = None) -> Balance:
        """The account's credit balance. See :meth:`SmsFlowClient.get_balance`."""
        return await self._execute(self._core.balance_op(timeout))

    def send_bulk(
        self,
        campaign_name: str,
        messages: Iterable[MessageLike] | AsyncIterable[MessageLike],
        *,
        start_delivery_utc: StartDelivery = None,
        check_opt_outs: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_parts: int | None = None,
        normalize_destinations: bool = True,
        default_country: str | None = None,
        messages_per_second: float | None = None,
        retries: int = DEFAULT_RETRIES,
        retry: bool = False,
        journal: str | os.PathLike[str] | None = None,
        idempotency_key: Callable[[int, Any], str] | None = None,
        resend_unknown: bool = False,
        on_progress: Callable[[BulkProgress], None] | None = None,
        total: int | None = None,
        timeout: TimeoutTypes = None,
        clock: Callable[[], float] = _waits.monotonic,
    ) -> AsyncBulkRun:
        """Send any number of messages in batches: ``async for outcome in client.send_bulk(...)``.

        The same arguments and outcomes as :meth:`SmsFlowClient.send_bulk` (not awaited: it
        returns an :class:`~smsflow.AsyncBulkRun` at once). ``messages`` may also be an async
        iterable (an async database cursor); ``concurrency`` counts tasks. Journal writes are
        synchronous (one small ``fsync``'d line per batch event). Close it with
        ``await run.aclose()`` or ``async with`` if you may stop early.
        """
        engine = self._bulk_engine(
            messages,
            on_progress,
            clock,
            campaign_name=campaign_name,
            start_delivery_utc=start_delivery_utc,
            check_opt_outs=check_opt_outs,
            batch_size=batch_size,
            concurrency=concurrency,
            max_parts=max_parts,
            normalize_destinations=normalize_destinations,
            default_country=default_country,
            messages_per_second=messages_per_second,
            retries=retries,
            retry=retry,
            journal=journal,
            idempotency_key=idempotency_key,
            resend_unknown=resend_unknown,
            total=total,
            timeout=timeout,
        )
        from ._bulk_run import AsyncBulkRun

        return AsyncBulkRun(self._bulk_outcomes(engine, messages), engine)

    async def _bulk_outcomes(
        self, engine: BulkEngine, messages: Iterable[MessageLike] | AsyncIterable[MessageLike]
    ) -> AsyncGenerator[list[MessageOutcome], None]:
        import asyncio

        items = None if isinstance(messages, AsyncIterable) else iter(messages)
        async_items = aiter(messages) if isinstance(messages, AsyncIterable) else None
        engine.start()
        running: dict[asyncio.Task[BatchResult], Batch] = {}
        try:
            more = True
            while more or running:
                while more and len(running) < engine.capacity:
                    if items is not None:
                        item = next(items, END_OF_INPUT)
                    else:
                        item = await anext(async_items, END_OF_INPUT)  # type: ignore[arg-type]
                    more = item is not END_OF_INPUT
                    outcomes, batch = engine.feed(item) if more else engine.end()
                    if outcomes:
                        yield outcomes
                    if batch is not None:
                        running[asyncio.create_task(self._send_batch(engine, batch))] = batch
                if running:
                    finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    for task in finished:
                        yield engine.finish(running.pop(task), task.result())
            engine.done()
        finally:
            engine.stop("CANCELLED", "the run was closed before it finished")
            try:
                if running:
                    await asyncio.wait(running)
            finally:
                for task in running:
                    task.cancel()
                engine.close()

    async def _send_batch(self, engine: BulkEngine, batch: Batch) -> BatchResult:
        with one_call():  # the batch's retries are one call's retries
            return await self._send_batch_flow(engine, batch)

    async def _send_batch_flow(self, engine: BulkEngine, batch: Batch) -> BatchResult:
        flow = engine.batch_flow(batch)
        answer: BatchAnswer = None
        while True:
            try:
                step = flow.send(answer)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            answer = None
            if isinstance(step, float):
                await self._sleep(step)
            else:
                try:
                    answer = await self._execute(step, engine.attempt_policy)
                except SmsFlowError as error:
                    answer = error

    async def aclose(self) -> None:
        """Release the connections (of the httpx client we created; yours stays open)."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
