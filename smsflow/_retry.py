"""The one retry policy: which failures are retried, and how long to wait before each retry.

Decisions only, no I/O: the clients ask :meth:`RetryPolicy.next_delay` after each failed
attempt and sleep with their own (injected) sleep. Rules (the vendor's, made safe for sends):

* Only network failures, 408, 429 and 5xx are ever retried; validation, authentication and
  insufficient-balance errors never are.
* ``authenticate()`` and ``get_balance()`` retry all of those.
* A send (``retry=False``) retries only failures that prove it was not processed: a refused or
  timed-out connection, a failed token fetch before it, 408 and 429.
* A send with ``retry=True`` also retries 5xx answers, but never a failure after which the
  outcome is unknown (a read timeout or lost connection after the request was written, or a
  502/504 from a gateway): that raises :class:`~smsflow.SmsFlowDeliveryUnknownError` or a
  server error with ``outcome_unknown=True``.
* Backoff is exponential with full jitter: ``uniform(0, min(max_delay, base_delay * 2**n))``
  seconds before retry ``n + 1``. A ``Retry-After`` (seconds or HTTP-date) is honoured exactly
  up to ``max_retry_after`` seconds; beyond that the error (carrying ``retry_after``) is raised.
"""

from __future__ import annotations

import email.utils
import enum
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from ._errors import (
    SmsFlowDeliveryUnknownError,
    SmsFlowError,
    SmsFlowNetworkError,
    SmsFlowRateLimitError,
    SmsFlowRequestTimeoutError,
    SmsFlowValidationError,
)

__all__ = ["DEFAULT_MAX_RETRY_AFTER", "RetryMode", "RetryPolicy", "parse_retry_after"]

DEFAULT_MAX_RETRY_AFTER: Final = 60.0


class RetryMode(enum.Enum):
    """How much of the retry policy an operation may use."""

    IDEMPOTENT = "idempotent"  # token and balance calls: every retryable failure
    SEND = "send"  # a send without retry=True: only failures that prove it was not processed
    SEND_OPT_IN = "send_opt_in"  # a send with retry=True: also 5xx, never an unknown outcome


def not_processed(error: SmsFlowError) -> bool:
    """True when the failure proves the request was not processed by the API."""
    if error.before_request:
        return True
    if isinstance(error, SmsFlowRequestTimeoutError | SmsFlowRateLimitError):
        return True
    return isinstance(error, SmsFlowNetworkError) and not isinstance(
        error, SmsFlowDeliveryUnknownError
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry settings of one client.

    Attributes:
        retries: Retries after the first attempt (0: never retry). The vendor's ``retry_retries``.
        base_delay: Seconds of the first backoff step (``retry_base_delay``).
        max_delay: Cap in seconds of one backoff wait (``retry_max_delay``).
        max_retry_after: The longest ``Retry-After`` in seconds that is waited out; a longer
            one ends the call with the error, which carries ``retry_after``.
        random: A source of floats in [0, 1) for the jitter (injectable for tests).
    """

    retries: int = 0
    base_delay: float = 0.25
    max_delay: float = 2.0
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Check the settings.

        Raises:
            SmsFlowValidationError: code ``INVALID_SETTING`` (also a ``ValueError``).
        """
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise SmsFlowValidationError(
                f"retry_retries must be an int >= 0, not {self.retries!r}", code="INVALID_SETTING"
            )
        for name in ("base_delay", "max_delay", "max_retry_after"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value < math.inf  # NaN fails too
            ):
                raise SmsFlowValidationError(
                    f"retry_{name} must be a finite number of seconds >= 0, not {value!r}",
                    code="INVALID_SETTING",
                )
        if not callable(self.random):
            raise SmsFlowValidationError(
                "random_source must be a callable returning floats in [0, 1)",
                code="INVALID_SETTING",
            )

    def may_retry(self, error: SmsFlowError, mode: RetryMode) -> bool:
        """Whether this kind of failure may be retried at all in ``mode`` (ignores the count)."""
        if error.outcome_unknown or not error.retryable:
            return False
        if mode is RetryMode.IDEMPOTENT:
            return True
        if not_processed(error):
            return True
        return mode is RetryMode.SEND_OPT_IN and not isinstance(error, SmsFlowNetworkError)

    def next_delay(self, error: SmsFlowError, attempt: int, mode: RetryMode) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up and raise ``error``.

        Args:
            error: The failure of attempt number ``attempt``.
            attempt: How many attempts were made so far (1 after the first).
            mode: The operation's retry mode.
        """
        if attempt > self.retries or not self.may_retry(error, mode):
            return None
        if error.retry_after is not None:
            wait = float(error.retry_after)
            return wait if wait <= self.max_retry_after else None
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        jitter: float = self.random()
        return jitter * ceiling


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date.

    Args:
        value: The header value, or ``None``.
        now: The current time, seconds since the epoch (for HTTP-dates).

    Returns:
        Seconds (>= 0), or ``None`` when absent or unreadable.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # "²".isdigit() is True, but float("²") fails
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
