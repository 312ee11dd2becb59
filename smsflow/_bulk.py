"""Bulk sending: validation -> batches -> outcomes, written once for both clients.

``SmsFlowClient.send_bulk`` and ``AsyncSmsFlowClient.send_bulk`` only move data: they read the
input, run each batch's :meth:`BulkEngine.batch_flow` with their own send and sleep (threads or
tasks), and wait. Every decision is here:

* **Validation**, one message at a time, before anything is sent: the shape, content (1 to 1600
  characters, valid Unicode), the destination (normalised by
  :func:`~smsflow.normalize_destination` unless ``normalize_destinations=False``), and the SMS
  parts against ``max_parts``. An invalid message gets a ``rejected`` outcome with its input
  index and reason; it never spoils a batch.
* **Batches** of ``batch_size`` valid messages, numbered from 0. Boundaries depend only on the
  input and the settings, so a resumed run makes the same batches (the journal checks it).
* **Outcomes**, one per input message, in the order batches finish:

  ============  =============================================================================
  status        meaning
  ============  =============================================================================
  sent          accepted by the API: ``event_id`` (of its batch), ``parts``, ``batch_cost``
  already_sent  accepted in an earlier run (from the journal): ``event_id``, ``batch_cost``
  opted_out     its batch was accepted but the API skipped it: the ``errorReport`` item naming
                it has code ``OPTED_OUT`` (``check_opt_outs=True``): not sent
  rejected      invalid input, never sent: ``code`` and ``reason`` say why
  refused       the API refused its batch with a 4xx (``code``, ``reason``, ``status_code``):
                not sent
  not_sent      never processed (rate-limited or unreachable after every retry, or the run
                stopped early: ``code`` says why, e.g. ``INSUFFICIENT_BALANCE``): not sent
  unknown       the request may have been accepted (read timeout, lost connection, any 5xx,
                unreadable 200): check before sending again
  ============  =============================================================================

* **Retries** (``retries``, default 5) of failures that prove a batch was not processed: 429,
  408, a refused connection, a failed token fetch (the one :class:`~smsflow._retry.RetryPolicy`,
  send mode). A 429 or a ``Retry-After`` pauses the whole run (:class:`~smsflow._rate.RateGate`).
  5xx answers are not retried (a 500 or 503 could, in principle, come after the API acted;
  the vendor makes send retries opt-in): their batches are ``unknown``, and a resumed run
  skips them unless ``resend_unknown``. ``retry=True`` also retries 500/503 and other
  non-gateway 5xx, as ``send_sms(retry=True)`` does; a batch that got such an answer stays
  ``unknown`` if the run stops before a retry succeeds. Only an answer that proves the batch
  was not processed (:func:`proves_not_processed`) makes it ``refused`` or ``not_sent``.
  An unknown outcome is never retried.
* **Stopping early**: insufficient balance (402), refused credentials, or a closed client stop
  new batches from starting; batches in flight finish; every message not sent gets
  ``not_sent`` with that code.
* **Memory** stays bounded: at most ``concurrency`` batches in flight plus the one being
  filled; the input is read lazily, never materialised.

The data these decisions use and produce (settings, batches, outcomes, progress) is in
``_bulk_types.py``; the iterators ``send_bulk`` returns are in ``_bulk_run.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, TypeAlias, cast

from ._bulk_keys import keys_for_run
from ._bulk_types import (
    Batch,
    BatchResult,
    BulkProgress,
    BulkSettings,
    MessageOutcome,
    OutcomeStatus,
)
from ._core import Core
from ._destinations import normalized, raw_destination
from ._errors import (
    SmsFlowAuthenticationError,
    SmsFlowError,
    SmsFlowInsufficientBalanceError,
    SmsFlowRateLimitError,
    SmsFlowValidationError,
    invalid,
)
from ._journal import BatchState, Journal
from ._ledger import Ledger
from ._operation import Answer, Step
from ._rate import RateGate
from ._results import SendResult, error_details
from ._retry import RetryPolicy, not_processed
from ._shared_rate import SharedRateLimit
from ._sms import segments
from ._validate import check_message

if TYPE_CHECKING:
    from smsflow_api.models import ErrorDetail

__all__ = ["BatchAnswer", "BulkEngine", "Work", "check_item"]

_MAX_GATE_WAITS: Final = 10_000  # a bound on re-checks of a pause that keeps being extended
_OPTED_OUT: Final = "OPTED_OUT"
_OPTED_OUT_REASON: Final = "the recipient opted out; the API skipped this message (not sent)"
_MESSAGE_FIELD: Final = re.compile(r"messages\[(\d+)\]")

Work = tuple[list[MessageOutcome], Batch | None]
#: What a batch's flow gets back for each send: its result or the error it ended in.
BatchAnswer: TypeAlias = Answer[SendResult, SmsFlowError]


def _stop_code(error: SmsFlowError) -> str | None:
    """The code that stops a whole run, or ``None`` when only this batch is affected."""
    if isinstance(error, SmsFlowInsufficientBalanceError | SmsFlowAuthenticationError):
        return error.code
    if error.code == "CLIENT_CLOSED":
        return error.code
    return None


def proves_not_processed(error: SmsFlowError) -> bool:
    """True when ``error`` proves the API did not process the send: a failure before the
    request went out, a closed client, or a 4xx refusal (408 and 429 included). A 5xx, a
    3xx, an unreadable 2xx or a lost answer prove nothing: the batch may have been sent."""
    if error.outcome_unknown:
        return False
    if error.code == "CLIENT_CLOSED" or not_processed(error):
        return True
    return error.status_code is not None and 400 <= error.status_code < 500


def _problems(
    items: list[ErrorDetail],
) -> tuple[dict[int, tuple[ErrorDetail, ...]], tuple[ErrorDetail, ...]]:
    """Split API error items (generated models) into those naming a message of the batch
    and the others."""
    named: dict[int, list[ErrorDetail]] = {}
    shared: list[ErrorDetail] = []
    for detail in items:
        match = _MESSAGE_FIELD.match(detail.field or "")
        if match is None:
            shared.append(detail)
        else:
            named.setdefault(int(match.group(1)), []).append(detail)
    return {k: tuple(v) for k, v in named.items()}, tuple(shared)


def check_item(
    settings: BulkSettings, item: Any, index: int
) -> MessageOutcome | tuple[str, str, int, bytes]:
    """Validate one input message as a bulk run does (also ``smsflow send --dry-run``).

    Returns its ``rejected`` outcome, or ``(destination, content, parts, record)`` with the
    destination as it will be sent and the bytes its batch digest takes in.
    """
    try:
        checked = (
            normalized(item, index, settings.default_country)
            if settings.normalize_destinations
            else item
        )
        message = check_message(checked, index)
    except SmsFlowValidationError as error:
        return _rejected(index, item, error.code, error.message)
    destination, content = message["destination"], message["content"]
    try:
        record = f"{index}\x1f{destination}\x1f{content}\x1e".encode()
    except UnicodeEncodeError:
        return _rejected(
            index,
            item,
            "INVALID_CONTENT",
            f"messages[{index}] holds a lone surrogate (not valid Unicode text)",
        )
    parts = segments(content).parts
    limit = settings.max_parts
    if limit is not None and parts > limit:
        return _rejected(
            index,
            item,
            "TOO_MANY_PARTS",
            f"messages[{index}].content takes {parts} SMS parts; max_parts is {limit}",
        )
    return destination, content, parts, record


def _rejected(index: int, item: Any, code: str, reason: str) -> MessageOutcome:
    return MessageOutcome(
        index, "rejected", destination=raw_destination(item), code=code, reason=reason
    )


class BulkEngine:
    """The decisions of one bulk run; the clients' ``send_bulk`` drive it. No network I/O.

    Methods called by the driver's main thread or task: :meth:`start`, :meth:`feed`,
    :meth:`end`, :meth:`finish`, :meth:`done`, :meth:`close`. :meth:`batch_flow` runs in the
    worker threads or tasks (it touches only the gate, the journal and the stop flag, which
    are thread-safe).
    """

    def __init__(
        self,
        core: Core,
        settings: BulkSettings,
        *,
        clock: Callable[[], float],
        on_progress: Callable[[BulkProgress], None] | None = None,
        total: int | None = None,
        ledger: Ledger | None = None,
        shared_rate: SharedRateLimit | None = None,
    ) -> None:
        self.core = core
        self.keys = keys_for_run(ledger, settings)
        self.settings = settings
        self.concurrency = settings.concurrency
        self.gate = RateGate(settings.messages_per_second, clock=clock)
        self.shared_rate = shared_rate  # the client's rate_limit= (all processes of an account)
        # Batch retries follow the client's policy (delays, Retry-After cap, jitter) with the
        # run's retry count; each attempt itself is made once (no retries inside _execute).
        self.policy: RetryPolicy = replace(core.policy, retries=settings.retries)
        self.attempt_policy: RetryPolicy = replace(core.policy, retries=0)
        self.journal = (
            Journal(settings.journal, settings.journal_settings())
            if settings.journal is not None
            else None
        )
        self._clock = clock
        self._on_progress = on_progress
        self._total = settings.total if settings.total is not None else total
        self._started_at: float | None = None
        self._counts: dict[str, int] = dict.fromkeys(
            ("sent", "already_sent", "opted_out", "rejected", "refused", "not_sent", "unknown"), 0
        )
        self._batches = 0
        self._answered = False
        self._finished = False
        self.stopped: str | None = None
        self.stop_reason: str | None = None
        self._next_index = 0
        self._next_batch = 0
        self._reset_builder()

    def __repr__(self) -> str:
        return f"BulkEngine(campaign_name={self.settings.campaign_name!r})"

    # -- life cycle -------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """How many batches may be in flight now: 1 until the first one has an answer.

        The first batch goes alone, so a run with refused credentials or no credit ends
        after one token request or one send, not ``concurrency`` of them.
        """
        return self.concurrency if self._answered else 1

    def start(self) -> None:
        """Open the journal (if any) and start the clock.

        Raises:
            SmsFlowValidationError: ``JOURNAL_MISMATCH``, ``JOURNAL_CORRUPT``,
                ``JOURNAL_LOCKED``.
            OSError: the journal cannot be opened.
        """
        if self.journal is not None:
            self.journal.open()
        self._started_at = self._clock()

    def stop(self, code: str, reason: str) -> None:
        """Start no new batch: those not yet sent get ``not_sent`` with ``code``.

        The first stop wins; a finished run is not stopped.
        """
        if self.stopped is None and not self._finished:
            self.stopped, self.stop_reason = code, reason

    def done(self) -> None:
        """Every input message has its outcome: report the final progress."""
        self._finished = True
        self._report()

    def close(self) -> None:
        """Release the journal (and the keys of batches never sent). Idempotent."""
        if self.keys is not None:
            self.keys.abandon()
        if self.journal is not None:
            self.journal.close()

    # -- progress ---------------------------------------------------------------------------

    def progress(self) -> BulkProgress:
        """A snapshot of the counts."""
        elapsed = 0.0 if self._started_at is None else self._clock() - self._started_at
        return BulkProgress(
            **self._counts,
            total=self._total,
            elapsed=max(0.0, elapsed),
            batches=self._batches,
            stopped=self.stopped,
            finished=self._finished,
        )

    def _report(self) -> None:
        if self._on_progress is not None:
            self._on_progress(self.progress())

    def _count(self, outcomes: list[MessageOutcome], batch: bool) -> list[MessageOutcome]:
        for outcome in outcomes:
            self._counts[outcome.status] += 1
        if batch:
            self._batches += 1
            self._report()
        return outcomes

    # -- input -> batches -------------------------------------------------------------------

    def _reset_builder(self) -> None:
        self._b_indices: list[int] = []
        self._b_destinations: list[str] = []
        self._b_parts: list[int] = []
        self._b_items: list[dict[str, str]] = []
        self._b_keys: list[str] = []
        self._b_hash = hashlib.sha256()

    def feed(self, item: Any) -> Work:
        """Take the next input message: its outcome if rejected, and a full batch if one is."""
        index = self._next_index
        self._next_index += 1
        checked = self._check(item, index)
        if isinstance(checked, MessageOutcome):
            return self._count([checked], batch=False), None
        destination, content, parts, record = checked
        if self.keys is not None:
            try:
                self._b_keys.append(self.keys.key(index, item))
            except SmsFlowValidationError as error:
                return self._count([_rejected(index, item, error.code, error.message)], False), None
        self._b_indices.append(index)
        self._b_destinations.append(destination)
        self._b_parts.append(parts)
        self._b_items.append({"content": content, "destination": destination})
        self._b_hash.update(record)
        if len(self._b_indices) >= self.settings.batch_size:
            return self._close_batch()
        return [], None

    def end(self) -> Work:
        """The input is exhausted: the last, partial batch (if any)."""
        if self._b_indices:
            return self._close_batch()
        return [], None

    def _check(self, item: Any, index: int) -> MessageOutcome | tuple[str, str, int, bytes]:
        return check_item(self.settings, item, index)

    def _close_batch(self) -> Work:
        batch = Batch(
            number=self._next_batch,
            first=self._b_indices[0],
            indices=self._b_indices,
            destinations=self._b_destinations,
            parts=self._b_parts,
            digest=self._b_hash.hexdigest(),
        )
        items, keys = self._b_items, self._b_keys
        self._next_batch += 1
        self._reset_builder()
        skipped = self._from_journal(batch)
        if skipped is not None:
            return self._count(skipped, batch=True), None
        if self.stopped is not None:
            result = BatchResult("not_sent", code=self.stopped, reason=self.stop_reason)
            return self._count(self._outcomes(batch, result), batch=True), None
        skipped = []
        if self.keys is not None:
            skipped, items = self.keys.claim(batch, items, keys)
            if not items:
                return self._count(skipped, batch=True), None
        s = self.settings
        batch.body = self.core.send_body(
            campaign_name=s.campaign_name,
            messages=items,
            start_delivery_utc=s.start_delivery_utc,
            check_opt_outs=s.check_opt_outs,
            prevalidated=True,
        )
        return self._count(skipped, batch=False), batch

    def _from_journal(self, batch: Batch) -> list[MessageOutcome] | None:
        """Outcomes of a batch an earlier run settled, or ``None`` to send it."""
        if self.journal is None:
            return None
        record = self.journal.get(batch.number)
        if record is None:
            return None
        if (record.first, record.count, record.digest) != (batch.first, len(batch), batch.digest):
            raise invalid(
                f"the input differs from the run recorded in the journal "
                f"{str(self.journal.path)!r}: batch {batch.number} (input messages "
                f"{batch.first}..{batch.indices[-1]}) is not what was recorded there. Resume "
                "with exactly the same messages in the same order, or use a new journal file",
                "JOURNAL_MISMATCH",
                "journal",
            )
        if record.state == "sent":
            return self._outcomes(
                batch,
                BatchResult(
                    "already_sent",
                    event_id=record.event_id,
                    cost=record.cost,
                    opted_out=frozenset(record.opted_out),
                ),
            )
        if record.state in ("started", "unknown") and not self.settings.resend_unknown:
            code = record.code if record.state == "unknown" else "INTERRUPTED"
            why = (
                "an earlier run was stopped while sending this batch"
                if record.state == "started"
                else f"an earlier run could not tell whether it was accepted ({record.message})"
            )
            reason = (
                f"{why}; it may have been sent, so it is not sent again. Check the SMSFlow "
                "portal, then resume with resend_unknown=True to send it anyway"
            )
            return self._outcomes(batch, BatchResult("unknown", code=code, reason=reason))
        return None

    # -- one batch --------------------------------------------------------------------------

    def batch_flow(self, batch: Batch) -> Generator[Step[SendResult], BatchAnswer, BatchResult]:
        """Send one batch: yield seconds to sleep or the operation to execute once.

        The driver sends back the :class:`~smsflow.SendResult` or the
        :class:`~smsflow.SmsFlowError` of each execution (``None`` after a sleep) and gets
        the :class:`BatchResult` as the generator's return value.
        """
        op = self.core.send_op(batch.body, retry=self.settings.retry, timeout=self.settings.timeout)
        error: SmsFlowError | None = None
        maybe_processed: SmsFlowError | None = None  # an earlier answer that proves nothing
        for attempt in range(1, self.settings.retries + 2):
            wait = self.gate.reserve(len(batch))
            if self.shared_rate is not None:  # book the account-wide slot too
                wait = max(wait, self.shared_rate.reserve(len(batch)))
            for _ in range(_MAX_GATE_WAITS):
                if wait <= 0 or self.stopped is not None:
                    break
                yield wait
                wait = self.gate.pause_left()
            if self.stopped is not None:
                if maybe_processed is not None:
                    return self._record(batch, self._failed(maybe_processed))
                result = BatchResult("not_sent", code=self.stopped, reason=self.stop_reason)
                return self._record(batch, result) if attempt > 1 else result
            if attempt == 1 and self.journal is not None:
                self.journal.started(batch.number, batch.first, len(batch), batch.digest)
            batch.sending = True
            answer = yield op
            if isinstance(answer, SendResult):
                return self._record(batch, self._sent(answer))
            if not isinstance(answer, SmsFlowError):  # pragma: no cover - a driver bug
                raise TypeError(f"smsflow: a batch flow got {type(answer).__name__}")
            error = answer
            if maybe_processed is None and not proves_not_processed(error):
                maybe_processed = error
            code = _stop_code(error)
            if code is not None:
                self.stop(code, error.message)
            delay = self.policy.next_delay(error, attempt, op.mode)
            if delay is None:
                break
            if isinstance(error, SmsFlowRateLimitError) or error.retry_after is not None:
                self.gate.pause(delay)  # everyone waits, not just this batch
            else:
                yield delay
        if error is None:  # pragma: no cover - the loop always runs at least once
            raise RuntimeError("smsflow: a batch ended without an attempt")
        return self._record(batch, self._failed(maybe_processed or error))

    def _sent(self, result: SendResult) -> BatchResult:
        response = result.send_response
        named, shared = _problems(result.error_report + result.errors)
        return BatchResult(
            "sent",
            event_id=response.event_id,
            cost=float(response.cost) if isinstance(response.cost, float | int) else None,
            problems=named,
            shared_problems=shared,
            opted_out=frozenset(
                position
                for position, details in named.items()
                if any(detail.code == _OPTED_OUT for detail in details)
            ),
            answer=None if self.keys is None else json.dumps(result, separators=(",", ":")),
        )

    def _failed(self, error: SmsFlowError) -> BatchResult:
        status: OutcomeStatus
        if not proves_not_processed(error):
            status = "unknown"
        elif error.code == "CLIENT_CLOSED" or not_processed(error):
            status = "not_sent"
        else:
            status = "refused"
        body = error.body
        named, shared = _problems(
            error_details(body.get("errors") if isinstance(body, dict) else None)
        )
        return BatchResult(
            status,
            code=error.code,
            reason=error.message,
            status_code=error.status_code,
            problems=named,
            shared_problems=shared,
        )

    def _record(self, batch: Batch, result: BatchResult) -> BatchResult:
        if self.journal is not None:
            state = cast(BatchState, result.status)  # sent, refused, not_sent or unknown
            self.journal.finished(
                batch.number,
                state,
                event_id=result.event_id,
                cost=result.cost,
                code=result.code,
                message=result.reason,
                opted_out=sorted(result.opted_out),
            )
        return result

    # -- batch -> outcomes ------------------------------------------------------------------

    def finish(self, batch: Batch, result: BatchResult) -> list[MessageOutcome]:
        """The outcomes of a batch whose flow returned ``result`` (progress is reported)."""
        self._answered = True
        if self.keys is not None:
            self.keys.settle(batch, result)
        return self._count(self._outcomes(batch, result), batch=True)

    def _outcomes(self, batch: Batch, result: BatchResult) -> list[MessageOutcome]:
        shared = result.shared_problems
        skipped = result.opted_out
        return [
            MessageOutcome(
                index,
                "opted_out" if position in skipped else result.status,
                destination=batch.destinations[position],
                batch=batch.number,
                event_id=result.event_id,
                parts=batch.parts[position],
                batch_cost=result.cost,
                code=_OPTED_OUT if position in skipped else result.code,
                reason=_OPTED_OUT_REASON if position in skipped else result.reason,
                status_code=result.status_code,
                problems=(result.problems.get(position, ()) + shared)
                if result.problems
                else shared,
            )
            for position, index in enumerate(batch.indices)
        ]
