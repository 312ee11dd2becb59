"""``send_sms(..., idempotency_key=...)``: claim the key, send only if the claim won, settle.

:func:`begin` and :func:`settle` are the decisions both clients share; :func:`send_once` and
:func:`asend_once` only drive them (the async one runs the ledger's blocking I/O in a thread).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from ._errors import (
    SmsFlowAuthenticationError,
    SmsFlowError,
    SmsFlowIdempotencyError,
    SmsFlowInsufficientBalanceError,
    SmsFlowNetworkError,
    SmsFlowRateLimitError,
    SmsFlowRequestTimeoutError,
    SmsFlowValidationError,
)
from ._ledger import Claim, Ledger, check_key
from ._logging import logger
from ._results import SendResult
from ._shared_rate import SharedRateLimit

__all__ = ["asend_once", "begin", "fingerprint", "send_once", "settle"]


def fingerprint(body: bytes) -> str:
    """A hash of the exact request body, so a key reused for another message is caught."""
    return hashlib.sha256(body).hexdigest()


def check_ledger_setting(ledger: object) -> Ledger | None:
    """The ``ledger=`` client setting, checked.

    Raises:
        SmsFlowValidationError: not a ledger (code ``INVALID_SETTING``).
    """
    if ledger is not None and not isinstance(ledger, Ledger):
        raise SmsFlowValidationError(
            "ledger must be a SqliteLedger, RedisLedger or PostgresLedger (or None)",
            code="INVALID_SETTING",
        )
    return ledger


def check_rate_limit_setting(limit: object) -> SharedRateLimit | None:
    """The ``rate_limit=`` client setting, checked.

    Raises:
        SmsFlowValidationError: it has no ``reserve(messages)`` (code ``INVALID_SETTING``).
    """
    if limit is not None and not isinstance(limit, SharedRateLimit):
        raise SmsFlowValidationError(
            "rate_limit must have a reserve(messages) -> seconds method (e.g. RedisRateLimit)",
            code="INVALID_SETTING",
        )
    return limit


def messages_in(body: bytes) -> int:
    """How many messages an encoded send body holds."""
    return len(json.loads(body)["messages"])


def check_ledger(ledger: object, key: object) -> Ledger:
    """The client's ledger, for a call with ``idempotency_key=key``.

    Raises:
        SmsFlowValidationError: no ledger was given to the client, or the key is invalid.
    """
    check_key(key)
    if not isinstance(ledger, Ledger):
        raise SmsFlowValidationError(
            "idempotency_key needs a ledger: SmsFlowClient(ledger=SqliteLedger('ledger.db')) "
            "(or RedisLedger, PostgresLedger)",
            code="NO_LEDGER",
        )
    return ledger


def begin(claim: Claim) -> SendResult | None:
    """What a claim means for the caller: send (``None``) or the stored result.

    Raises:
        SmsFlowIdempotencyError: the key is in flight elsewhere (``IDEMPOTENCY_IN_FLIGHT``,
            retryable, ``retry_after`` = seconds left of the holder's lease) or its outcome
            is unknown (``IDEMPOTENCY_UNKNOWN``); pass ``force_resend=True`` to send anyway.
    """
    key = claim.entry.key
    if claim.verdict == "claimed":
        return None
    if claim.verdict == "completed" and claim.entry.result is not None:
        return SendResult(json.loads(claim.entry.result))
    if claim.verdict == "in_flight":
        raise SmsFlowIdempotencyError(
            f"the send with idempotency key {key!r} is in flight in another worker; try again "
            "later (nothing was sent by this call)",
            code="IDEMPOTENCY_IN_FLIGHT",
            retryable=True,
            retry_after=claim.retry_after,
        )
    raise SmsFlowIdempotencyError(
        f"the send with idempotency key {key!r} may or may not have been accepted (its sender "
        "failed or died mid-request); check the SMSFlow portal, then resend with "
        "force_resend=True if it was not (nothing was sent by this call)",
        code="IDEMPOTENCY_UNKNOWN",
        outcome_unknown=True,
    )


_NOT_SENT = (
    SmsFlowValidationError,
    SmsFlowAuthenticationError,
    SmsFlowInsufficientBalanceError,
    SmsFlowRequestTimeoutError,
    SmsFlowRateLimitError,
)


def proves_not_sent(error: BaseException) -> bool:
    """True when ``error`` proves the API did not accept the send (the key may be reused)."""
    if isinstance(error, _NOT_SENT):
        return True
    return (
        isinstance(error, SmsFlowNetworkError)
        and not error.outcome_unknown
        and type(error) is SmsFlowNetworkError
    )


def proves_not_sent_status(status: str) -> bool:
    """True for the bulk outcomes that prove a batch was not accepted."""
    return status in ("not_sent", "refused", "rejected")


def settle(ledger: Ledger, claim: Claim, outcome: SendResult | BaseException) -> None:
    """Record the outcome of a claimed send: completed, released, or unknown.

    Never raises: the send's own result or error is what the caller must get. If the ledger
    fails here, a warning names the key, which stays claimed: it reads ``in_flight``, then
    ``unknown`` once its lease runs out, and is never sent again without ``force_resend``.
    """
    try:
        if isinstance(outcome, SendResult):
            ledger.complete(claim, json.dumps(outcome, separators=(",", ":")))
        elif proves_not_sent(outcome):
            ledger.release(claim)
        else:
            ledger.mark_unknown(claim)
    except Exception as error:  # noqa: BLE001 - reported, and the key stays safely claimed
        what = f"event {outcome.event_id}" if isinstance(outcome, SendResult) else "its failure"
        logger.warning(
            "idempotency key %r: could not record %s in the ledger (%s: %s); the key stays "
            "claimed and will read unknown after its lease",
            claim.entry.key,
            what,
            type(error).__name__,
            error,
        )


def _claim(ledger: Ledger, key: str, body: bytes, force: bool) -> Claim:
    """Claim ``key``; a ledger that fails becomes a typed error (nothing was sent).

    Raises:
        SmsFlowValidationError: an invalid key, or one used for another message.
        SmsFlowError: code ``LEDGER_UNAVAILABLE`` (retryable): the ledger failed.
    """
    try:
        return ledger.claim(key, fingerprint(body), force=force)
    except SmsFlowError:
        raise
    except Exception as error:
        raise SmsFlowError(
            f"the idempotency ledger could not claim key {key!r} ({type(error).__name__}); "
            "nothing was sent",
            code="LEDGER_UNAVAILABLE",
            retryable=True,
        ) from error


def send_once(
    ledger: Ledger, key: str, body: bytes, send: Callable[[], SendResult], force: bool
) -> SendResult:
    """Send ``body`` at most once per ``key`` (see the module docstring)."""
    claim = _claim(ledger, key, body, force)
    stored = begin(claim)
    if stored is not None:
        return stored
    try:
        result = send()
    except BaseException as error:
        settle(ledger, claim, error)
        raise
    settle(ledger, claim, result)
    return result


async def asend_once(
    ledger: Ledger,
    key: str,
    body: bytes,
    send: Callable[[], Awaitable[SendResult]],
    force: bool,
) -> SendResult:
    """:func:`send_once` for the async client (ledger I/O runs in a worker thread)."""
    import asyncio  # on first use: ``import smsflow`` stays light

    claim = await asyncio.to_thread(_claim, ledger, key, body, force)
    stored = begin(claim)
    if stored is not None:
        return stored
    try:
        result = await send()
    except BaseException as error:
        await asyncio.shield(asyncio.to_thread(settle, ledger, claim, error))
        raise
    await asyncio.to_thread(settle, ledger, claim, result)
    return result
