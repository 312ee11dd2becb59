"""The synchronous front door, :class:`SmsFlowClient`, and its thread-pool bulk driver."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import httpx

from . import _waits
from ._base_client import END_OF_INPUT, BaseClient
from ._bulk_defaults import DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_RETRIES
from ._capped_body import answer_deadline, mark_written, read_capped, release
from ._config import TimeoutTypes, tls_context, trusts_env
from ._core import Outcome
from ._errors import SmsFlowError
from ._fetch_state import one_call
from ._idempotency import check_ledger, send_once
from ._operation import Operation, Step
from ._results import AuthToken, Balance, SendResult
from ._retry import RetryPolicy
from ._validate import MessageLike, StartDelivery

if TYPE_CHECKING:  # the bulk machinery loads on the first send_bulk (docs/performance.md)
    from concurrent.futures import Future

    from ._bulk import BatchAnswer, BulkEngine
    from ._bulk_run import BulkRun
    from ._bulk_types import Batch, BatchResult, BulkProgress, MessageOutcome

__all__ = ["SmsFlowClient"]

T = TypeVar("T")


class SmsFlowClient(BaseClient[httpx.Client, httpx.BaseTransport, Callable[[float], None]]):
    """Synchronous client of the SMSFlow API. Thread-safe; share one per process.

    Args:
        client_id: Your client id (default: ``SMSFLOW_CLIENT_ID``).
        client_secret: Your client secret (default: ``SMSFLOW_CLIENT_SECRET``). Never logged.
        base_url: API root (default: ``SMSFLOW_BASE_URL``, else ``https://portal.smsflow.co.za``).
            Plain http is refused for a non-loopback host unless ``allow_insecure_http=True``.
        timeout: Seconds per call (connect at most 10 s of it), or an ``httpx.Timeout``.
        retry_retries: Retries after a failed attempt (default 0: none; see docs/errors.md).
        retry_base_delay: First backoff step in seconds (full jitter, doubling).
        retry_max_delay: Cap of one backoff wait, seconds.
        retry_max_retry_after: Longest ``Retry-After`` (s) waited out; longer ones raise.
        token_timeout: Timeout of the token call (default: ``timeout``).
        token_store: Where tokens are kept (default: memory; see ``FileTokenStore``).
        http_client: Your own ``httpx.Client`` (proxies, mTLS, transports); not closed by us.
        transport: An httpx transport for the client we create (e.g. ``Sandbox().transport()``).
        limits: Connection-pool limits of the client we create (default 100, all kept alive).
        allow_insecure_http: Permit ``http://`` to a remote host (never do this in production).
        max_response_bytes: Larger answers are refused (default 1 MiB).
        clock: Seconds since the epoch, for token expiry (injectable).
        sleep: Sleeps between retries (default ``time.sleep``; for the async client an async
            function, default ``asyncio.sleep``). Injectable: tests never really sleep.
        ledger: An idempotency ledger (``SqliteLedger``, ``RedisLedger``, ``PostgresLedger``)
            for ``send_sms(idempotency_key=...)``.
        rate_limit: A limit shared by all your processes (``RedisRateLimit``): each
            ``send_sms`` and each ``send_bulk`` batch waits for its slot.
        random_source: Floats in [0, 1) for jitter (injectable).
        default_country: The country of national numbers (``082 123 4567``) in ``send_sms``
            and ``send_bulk``: a region code (default ``"ZA"``) or calling code; ``None``
            refuses national numbers (only ``+``/``00``/international digits accepted).

    Raises:
        SmsFlowAuthenticationError: missing credentials (no network call is made).
        SmsFlowValidationError: an invalid setting.
    """

    def _default_sleep(self) -> Callable[[float], None]:
        return _waits.sleep

    def _new_http(self) -> httpx.Client:
        return httpx.Client(
            limits=self._limits,
            transport=self._sync_transport(),
            verify=tls_context(),
            trust_env=trusts_env(self._config.base_url),
        )

    def _send_once(self, op: Operation[Any]) -> httpx.Response:
        request = op.build(self._http)
        mark_written(request)  # the auth flow marks it again after any wait for a token
        response = self._http.send(
            request,
            auth=self._auth if op.authenticated else None,
            follow_redirects=False,
            stream=True,
        )
        deadline = answer_deadline(op, response.request)
        try:
            read_capped(op, self._config.max_response_bytes, response, deadline)
        finally:
            response.close()
        release(response)
        return response

    def _execute(self, op: Operation[T], policy: RetryPolicy | None = None) -> T:
        with one_call():
            return self._execute_call(op, policy)

    def _execute_call(self, op: Operation[T], policy: RetryPolicy | None) -> T:
        self._check_open()
        flow = self._core.run(op, policy)
        step: Step[Any] = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, float):
                self._sleep(step)
            else:
                try:
                    outcome = self._send_once(step)
                except (httpx.HTTPError, SmsFlowError) as exc:
                    outcome = exc
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    def authenticate(self, *, timeout: TimeoutTypes = None) -> AuthToken:
        """Fetch a new login token now (calls normally fetch one lazily and cache it).

        Returns:
            The token (``repr`` hides it), with ``expires_at``.

        Raises:
            SmsFlowAuthenticationError: bad credentials. Other :class:`SmsFlowError` subclasses
                for network, server and unexpected answers (retried when ``retry_retries > 0``).
        """
        with self._cache.thread_lock:
            return self._execute(self._core.authenticate_op(timeout))

    def send_sms(
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
        """Send (or schedule) one request of 1 to 1000 messages as one event.

        Args:
            campaign_name: A label for the send, 1-255 characters.
            messages: Any iterable of ``{"destination": ..., "content": ...}`` dicts or
                :class:`~smsflow.Message` objects. Destinations follow the one phone-number
                policy (:func:`smsflow.normalize_destination`): ``+27 82 123 4567``,
                ``0027...``, spaces, dashes and brackets are sent as digits; national forms
                (``082 123 4567``) use the client's ``default_country``.
            start_delivery_utc: ``None`` to send now, an aware ``datetime`` or an ISO-8601
                string with an offset, to schedule (sent as UTC).
            check_opt_outs: Skip recipients who opted out (reported in ``error_report``).
            retry: Also retry 5xx answers (needs ``retry_retries > 0``). Failures that prove
                the send was not processed (refused connection, 408, 429) are retried anyway;
                failures after which it may have been accepted never are.
            timeout: Seconds for this call instead of the client's ``timeout``.
            normalize_destinations: ``False`` sends destinations exactly as given (they must
                then be 8-15 digits already).
            idempotency_key: Send at most once per key (1-255 characters), across every
                process sharing the client's ``ledger=``: a repeat returns the stored result
                and sends nothing. See docs/workers.md.
            force_resend: Send even if the key's earlier send is in flight or unknown.

        Returns:
            :class:`~smsflow.SendResult`: ``result.event_id``, or
            ``result["sendResponse"]["eventId"]`` as in smsflow 0.2.0; ``result.destinations``
            are the numbers as sent.

        Raises:
            SmsFlowValidationError: invalid input (nothing sent) or a 4xx refusal.
            SmsFlowInsufficientBalanceError: not enough credit; nothing sent.
            SmsFlowDeliveryUnknownError: the answer was lost; the SMS may have been sent.
            SmsFlowIdempotencyError: the key's send is in flight elsewhere or unknown
                (nothing sent); ``SmsFlowValidationError`` if the key was used for another
                message or the client has no ledger.
            SmsFlowError: any other failure (see the README's errors table).
        """
        body, sent_to = self._send_body(
            campaign_name, messages, start_delivery_utc, check_opt_outs, normalize_destinations
        )
        op = self._core.send_op(body, retry=retry, timeout=timeout, destinations=sent_to)

        def send() -> SendResult:
            if (wait := self._rate_wait(body)) > 0:
                self._sleep(wait)
            return self._execute(op)

        if idempotency_key is None:
            return send()
        ledger = check_ledger(self._ledger, idempotency_key)
        return send_once(ledger, idempotency_key, body, send, force_resend)

    def get_balance(self, *, timeout: TimeoutTypes = None) -> Balance:
        """The account's credit balance: ``balance.balance`` / ``balance["balance"]`` (credits).

        Raises:
            SmsFlowError: see the README's errors table (retried when ``retry_retries > 0``).
        """
        return self._execute(self._core.balance_op(timeout))

    def send_bulk(
        self,
        campaign_name: str,
        messages: Iterable[MessageLike],
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
    ) -> BulkRun:
        """Send any number of messages in batches, concurrently; one outcome per message.

        Nothing is sent until you iterate the result. Each input message is validated first
        (an invalid one gets a ``rejected`` outcome and is never sent); valid ones are sent in
        requests of ``batch_size``, at most ``concurrency`` at a time. Memory stays bounded
        whatever the input size: the input is read as batches are needed.

        Args:
            campaign_name: A label for every batch, 1-255 characters.
            messages: Any iterable of ``{"destination": ..., "content": ...}`` dicts or
                :class:`~smsflow.Message` objects: a list, a generator, a database cursor,
                a ``csv.DictReader`` (whose rows have exactly those two columns). Read once.
            start_delivery_utc: ``None`` to send now, or when to deliver (see ``send_sms``).
            check_opt_outs: Skip recipients who opted out (their outcome is ``opted_out``,
                with ``OPTED_OUT`` in ``problems``).
            batch_size: Messages per request, 1-1000 (default 500).
            concurrency: Requests in flight at once, 1-100 (default 4; threads).
            max_parts: Reject a message whose content takes more SMS parts than this
                (``None``: no limit beyond the 1600-character cap).
            normalize_destinations: Normalise destinations with
                :func:`~smsflow.normalize_destination` (and reject those that cannot be a
                mobile number). ``False`` sends them as given.
            default_country: The country of national numbers such as ``082 123 4567`` for
                this run; ``None`` (default): the client's ``default_country``.
            messages_per_second: A ceiling on the send rate (messages, not requests), or
                ``None``.
            retries: Retries per batch of failures that prove it was not processed (429 with
                its ``Retry-After``, 408, a refused connection, a failed token fetch). A 429
                pauses every batch of the run, not just one. Default 5.
            retry: Also retry 5xx answers other than 502/504 (as ``send_sms(retry=True)``).
                Off: a 5xx makes its batch ``unknown`` (a 5xx does not prove it was not sent).
            journal: A file recording each batch before and after it is sent. Run again with
                the same input and journal to resume a run that was killed: batches recorded
                as sent are skipped (``already_sent``), nothing confirmed is sent twice.
            resend_unknown: On resume, send again the batches whose outcome is unknown (the
                earlier run was killed mid-request, or lost the answer). Off: they are
                reported ``unknown`` and skipped; check the SMSFlow portal first.
            idempotency_key: A function ``(index, message) -> key`` giving each message an
                idempotency key in the client's ``ledger=``: a message whose key completed
                before is ``already_sent`` (its stored ``event_id``), one in flight elsewhere
                or unknown is ``unknown`` (``resend_unknown=True`` sends it anyway). Any
                number of runs, in any processes, send each key at most once. Not with
                ``journal=``.
            on_progress: Called with a :class:`~smsflow.BulkProgress` after each batch and
                at the end, in the iterating thread.
            total: The number of input messages, for ``BulkProgress.eta`` when ``messages``
                has no ``len()``.
            timeout: Seconds per request instead of the client's ``timeout``.
            clock: Monotonic seconds for the rate gate and progress (injectable for tests;
                waits use the client's ``sleep``).

        Returns:
            A :class:`~smsflow.BulkRun`: iterate it for one :class:`~smsflow.MessageOutcome`
            per input message (``sent``, ``already_sent``, ``opted_out``, ``rejected``,
            ``refused``, ``not_sent`` or ``unknown``), in the order batches finish;
            ``run.progress`` has the counts. Use it in a ``with`` block, or ``close()`` it,
            if you may stop early; ``run.stop()`` stops gracefully (outcomes keep coming).

        Raises:
            SmsFlowValidationError: an invalid argument (at once), or, when iteration starts,
                a journal from another run (``JOURNAL_MISMATCH``, also raised when a batch's
                messages differ from what the journal recorded), unreadable
                (``JOURNAL_CORRUPT``) or in use (``JOURNAL_LOCKED``).
            OSError: the journal cannot be written.

        Insufficient balance, refused credentials or a closed client stop the run early:
        batches in flight finish, every message not sent gets ``not_sent`` with the code.
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
        from ._bulk_run import BulkRun

        return BulkRun(self._bulk_outcomes(engine, messages), engine)

    def _bulk_outcomes(
        self, engine: BulkEngine, messages: Iterable[MessageLike]
    ) -> Generator[list[MessageOutcome], None, None]:
        source = iter(messages)
        engine.start()
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        running: dict[Future[BatchResult], Batch] = {}
        pool = ThreadPoolExecutor(engine.concurrency, thread_name_prefix="smsflow-bulk")
        try:
            more = True
            while more or running:
                while more and len(running) < engine.capacity:
                    item = next(source, END_OF_INPUT)
                    more = item is not END_OF_INPUT
                    outcomes, batch = engine.feed(item) if more else engine.end()
                    if outcomes:
                        yield outcomes
                    if batch is not None:
                        running[pool.submit(self._send_batch, engine, batch)] = batch
                if running:
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield engine.finish(running.pop(future), future.result())
            engine.done()
        finally:
            engine.stop("CANCELLED", "the run was closed before it finished")
            pool.shutdown(wait=True, cancel_futures=True)
            engine.close()

    def _send_batch(self, engine: BulkEngine, batch: Batch) -> BatchResult:
        with one_call():  # the batch's retries are one call's retries
            return self._send_batch_flow(engine, batch)

    def _send_batch_flow(self, engine: BulkEngine, batch: Batch) -> BatchResult:
        flow = engine.batch_flow(batch)
        answer: BatchAnswer = None
        while True:
            try:
                step = flow.send(answer)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            answer = None
            if isinstance(step, float):
                self._sleep(step)
            else:
                try:
                    answer = self._execute(step, engine.attempt_policy)
                except SmsFlowError as error:
                    answer = error

    def close(self) -> None:
        """Release the connections (of the httpx client we created; yours stays open)."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
