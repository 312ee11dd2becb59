"""The data of a bulk run: settings (checked), batches, and what each message's outcome is.

:class:`MessageOutcome` and :class:`BulkProgress` are public (``smsflow.MessageOutcome``,
``smsflow.BulkProgress``); :class:`BulkSettings` checks ``send_bulk``'s options;
:class:`Batch` and :class:`BatchResult` pass between :class:`~smsflow._bulk.BulkEngine` and
the clients' bulk drivers. The decisions are in ``_bulk.py``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._bulk_defaults import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_RETRIES,
    MAX_CONCURRENCY,
    MAX_RETRIES,
)
from ._config import TimeoutTypes
from ._destinations import check_default_country
from ._errors import SmsFlowValidationError, invalid
from ._validate import MAX_MESSAGES_PER_REQUEST, check_campaign_name, check_start_delivery

if TYPE_CHECKING:
    from smsflow_api.models import ErrorDetail

__all__ = [
    "Batch",
    "BatchResult",
    "BulkProgress",
    "BulkSettings",
    "MessageOutcome",
    "OutcomeStatus",
]

OutcomeStatus = Literal[
    "sent", "already_sent", "opted_out", "rejected", "refused", "not_sent", "unknown"
]


@dataclass(frozen=True, slots=True)
class MessageOutcome:
    """What happened to one input message of a bulk run.

    Attributes:
        index: Its position in the input (0-based).
        status: ``sent``, ``already_sent``, ``opted_out``, ``rejected``, ``refused``,
            ``not_sent`` or ``unknown`` (see :meth:`~smsflow.SmsFlowClient.send_bulk`).
            ``opted_out``: its batch was accepted, but the API's ``errorReport`` says
            ``OPTED_OUT`` for it: the recipient opted out and was skipped (not sent;
            ``code`` is ``OPTED_OUT``).
        destination: The destination as sent (normalised); for a rejected message, as given
            (``None`` when it was not a ``str``).
        batch: The number of its batch (0-based), ``None`` for a rejected message.
        event_id: The ``eventId`` of its batch, when sent or already sent.
        parts: SMS parts of its content (counted locally), ``None`` when rejected.
        batch_cost: Credits charged for its whole batch (the API does not split the cost per
            message), when sent or already sent.
        code: Why it was not sent: an error code (``INVALID_DESTINATION``, ``TOO_MANY_PARTS``,
            ``INSUFFICIENT_BALANCE``, ``DELIVERY_UNKNOWN``, ``INTERRUPTED``, ...), else ``None``.
        reason: One line saying why (never holds a secret), else ``None``.
        status_code: The HTTP status that refused its batch, when there was one.
        problems: Items of the API's ``errorReport`` (or error list) that name this message,
            e.g. ``OPTED_OUT``, plus any that name no message at all.
    """

    index: int
    status: OutcomeStatus
    destination: str | None = None
    batch: int | None = None
    event_id: int | None = None
    parts: int | None = None
    batch_cost: float | None = None
    code: str | None = None
    reason: str | None = None
    status_code: int | None = None
    problems: tuple[ErrorDetail, ...] = ()

    @property
    def accepted(self) -> bool:
        """True when the API accepted it (``sent`` or ``already_sent``)."""
        return self.status in ("sent", "already_sent")


@dataclass(frozen=True, slots=True)
class BulkProgress:
    """Counts of a bulk run so far (passed to ``on_progress``; also ``run.progress``).

    Attributes:
        sent: Messages accepted in this run.
        already_sent: Messages accepted in an earlier run (from the journal; not sent again).
        opted_out: Messages the API skipped because the recipient opted out (not sent).
        rejected: Invalid messages (never sent).
        refused: Messages whose batch the API refused.
        not_sent: Messages never processed (retries used up, or the run stopped early).
        unknown: Messages whose batch may or may not have been accepted.
        total: The number of input messages, when known (``len(messages)`` or ``total=``).
        elapsed: Seconds since the run started.
        batches: Batches finished (sent, refused, unknown, not sent or skipped).
        stopped: The error code that stopped the run early (``INSUFFICIENT_BALANCE``,
            ``AUTHENTICATION_FAILED``, ``CANCELLED``...), else ``None``.
        finished: True once every input message has its outcome.
    """

    sent: int = 0
    already_sent: int = 0
    opted_out: int = 0
    rejected: int = 0
    refused: int = 0
    not_sent: int = 0
    unknown: int = 0
    total: int | None = None
    elapsed: float = 0.0
    batches: int = 0
    stopped: str | None = None
    finished: bool = False

    @property
    def done(self) -> int:
        """Input messages that have their outcome."""
        return (
            self.sent
            + self.already_sent
            + self.opted_out
            + self.rejected
            + self.refused
            + self.not_sent
            + self.unknown
        )

    @property
    def failed(self) -> int:
        """Valid messages that were not sent (``refused + not_sent``; safe to send again)."""
        return self.refused + self.not_sent

    @property
    def messages_per_second(self) -> float:
        """Messages handled per second in this run (``already_sent`` ones not counted)."""
        if self.elapsed <= 0:
            return 0.0
        return (self.done - self.already_sent) / self.elapsed

    @property
    def eta(self) -> float | None:
        """Estimated seconds left, or ``None`` when ``total`` is unknown or nothing ran yet."""
        if self.finished:
            return 0.0
        rate = self.messages_per_second
        if self.total is None or rate <= 0:
            return None
        return max(0, self.total - self.done) / rate


@dataclass(frozen=True, slots=True)
class BulkSettings:
    """The validated settings of one bulk run (see ``send_bulk`` for their meaning)."""

    campaign_name: str
    start_delivery_utc: dt.datetime | None
    check_opt_outs: bool
    batch_size: int = DEFAULT_BATCH_SIZE
    concurrency: int = DEFAULT_CONCURRENCY
    max_parts: int | None = None
    normalize_destinations: bool = True
    default_country: str | None = "ZA"
    messages_per_second: float | None = None
    retries: int = DEFAULT_RETRIES
    retry: bool = False
    journal: str | os.PathLike[str] | None = None
    resend_unknown: bool = False
    total: int | None = None
    timeout: TimeoutTypes = None
    idempotency_key: Any = None

    @classmethod
    def build(cls, **options: Any) -> BulkSettings:
        """Check every option; raise :class:`~smsflow.SmsFlowValidationError` for a bad one."""
        options["campaign_name"] = check_campaign_name(options["campaign_name"])
        options["start_delivery_utc"] = check_start_delivery(options["start_delivery_utc"])
        for name in ("check_opt_outs", "normalize_destinations", "retry", "resend_unknown"):
            if name in options and not isinstance(options[name], bool):
                raise _bad(name, "True or False", options[name])
        _check_int(options, "batch_size", 1, MAX_MESSAGES_PER_REQUEST)
        _check_int(options, "concurrency", 1, MAX_CONCURRENCY)
        _check_int(options, "retries", 0, MAX_RETRIES)
        _check_int(options, "max_parts", 1, None, optional=True)
        _check_int(options, "total", 0, None, optional=True)
        rate = options.get("messages_per_second")
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or rate <= 0
        ):
            raise _bad("messages_per_second", "a number > 0 or None", rate)
        try:
            options["default_country"] = check_default_country(options.get("default_country", "ZA"))
        except ValueError as exc:
            raise invalid(str(exc), "INVALID_REQUEST", "default_country") from None
        key_for = options.get("idempotency_key")
        if key_for is not None and not callable(key_for):
            raise _bad("idempotency_key", "a function (index, message) -> str, or None", key_for)
        if key_for is not None and options.get("journal") is not None:
            raise invalid(
                "use idempotency_key= or journal=, not both: with keys, the ledger already "
                "makes a re-run skip what was sent",
                "INVALID_REQUEST",
                "journal",
            )
        journal = options.get("journal")
        if journal is not None and not isinstance(journal, str | os.PathLike):
            raise _bad("journal", "a file path or None", journal)
        return cls(**options)

    def journal_settings(self) -> dict[str, Any]:
        """What a journal must agree on to resume: whatever decides batches and their content."""
        start = self.start_delivery_utc
        return {
            "campaign_name": self.campaign_name,
            "start_delivery_utc": None if start is None else start.isoformat(),
            "check_opt_outs": self.check_opt_outs,
            "batch_size": self.batch_size,
            "normalize_destinations": self.normalize_destinations,
            "default_country": self.default_country,
            "max_parts": self.max_parts,
        }


def _bad(name: str, wanted: str, value: Any) -> SmsFlowValidationError:
    return invalid(f"{name} must be {wanted}, not {value!r}", "INVALID_REQUEST", name)


def _check_int(
    options: dict[str, Any], name: str, low: int, high: int | None, *, optional: bool = False
) -> None:
    if name not in options:
        return
    value = options[name]
    if value is None and optional:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        limits = f"from {low} to {high}" if high is not None else f">= {low}"
        raise _bad(name, f"an int {limits}" + (" or None" if optional else ""), value)


@dataclass(slots=True)
class Batch:
    """One request's worth of valid messages (only what outcomes need, plus the body)."""

    number: int
    first: int
    indices: list[int]
    destinations: list[str]
    parts: list[int]
    digest: str
    body: bytes = b""
    claims: list[Any] = field(default_factory=list)  # idempotency claims (``_bulk_keys.py``)
    sending: bool = False  # its request has been handed to the driver

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """How one sent (or not sent) batch ended; turned into outcomes by :meth:`BulkEngine.finish`."""

    status: OutcomeStatus
    event_id: int | None = None
    cost: float | None = None
    code: str | None = None
    reason: str | None = None
    status_code: int | None = None
    problems: Mapping[int, tuple[ErrorDetail, ...]] = field(default_factory=dict)
    shared_problems: tuple[ErrorDetail, ...] = ()
    opted_out: frozenset[int] = frozenset()  # positions in the batch the API skipped (OPTED_OUT)
    answer: str | None = None  # the API's answer (JSON) of a sent batch, for idempotency keys
