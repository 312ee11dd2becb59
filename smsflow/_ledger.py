"""The idempotency ledger: one record per idempotency key, shared by every process that sends.

A send with ``idempotency_key=`` first *claims* its key in the ledger, sends only if the claim
won, then *settles* the key: ``completed`` (with the API's answer, so a repeat returns it and
sends nothing), released (the answer proved nothing was sent: the key may be claimed again), or
``unknown`` (the send may have been accepted: never resent without ``force_resend=True``).

States of a key (times are seconds since the epoch, by the ledger's ``clock``)::

    (absent or expired) --claim--> in_flight --complete--> completed
                                       |    \\--release--> (absent)
                                       |     \\-mark_unknown-> unknown
                                       \\-- lease runs out (the sender died) --> unknown

* The first claim of a key wins; later claims see ``completed`` (the stored answer),
  ``in_flight`` (another sender holds it, within its lease: retry later) or ``unknown``.
* ``force=True`` takes over an ``in_flight`` or ``unknown`` key (never a ``completed`` one).
* Keys expire ``ttl_s`` seconds after their last change; an expired key is claimable again.
* A key reused for a different message (another body fingerprint) is refused.

The decision is :func:`decide`, without I/O. :class:`Ledger` applies it through one atomic
read-modify-write per engine (:meth:`Ledger._update`): SQLite (``_ledger_sqlite.py``, stdlib, the
default for one machine), Redis (``_ledger_redis.py``) and PostgreSQL (``_ledger_postgres.py``).
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, Self

from ._errors import SmsFlowValidationError

__all__ = [
    "DEFAULT_LEASE_S",
    "DEFAULT_TTL_S",
    "Claim",
    "Ledger",
    "LedgerEntry",
    "decide",
]

DEFAULT_TTL_S: Final = 7 * 24 * 3600.0  # keys are remembered for 7 days
DEFAULT_LEASE_S: Final = 300.0  # a claim not settled within 5 minutes is reported unknown
MAX_KEY_LENGTH: Final = 255

State = Literal["in_flight", "completed", "unknown"]
Verdict = Literal["claimed", "completed", "in_flight", "unknown"]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger holds for one key.

    Attributes:
        key: The idempotency key.
        state: ``"in_flight"``, ``"completed"`` or ``"unknown"`` as stored (see :meth:`status`).
        fingerprint: A hash of the request body the key was first used for.
        owner: The claim's random id (only its holder may settle it).
        updated_at: When it last changed (s since the epoch).
        lease_until: An ``in_flight`` claim not settled by then is reported unknown (s).
        expires_at: When the key is forgotten (s since the epoch).
        result: The API's answer (JSON text) for a ``completed`` key, else ``None``.
    """

    key: str
    state: State
    fingerprint: str
    owner: str = field(repr=False)
    updated_at: float
    lease_until: float
    expires_at: float
    result: str | None = field(default=None, repr=False)

    def status(self, now: float) -> State:
        """The state as a reader should see it: an expired lease reads ``unknown``."""
        if self.state == "in_flight" and now >= self.lease_until:
            return "unknown"
        return self.state

    @property
    def event_id(self) -> int | None:
        """The ``eventId`` of a completed send, else ``None``."""
        if self.result is None:
            return None
        try:
            value = json.loads(self.result)["sendResponse"]["eventId"]
        except (ValueError, KeyError, TypeError):
            return None
        return value if isinstance(value, int) else None

    def to_json(self) -> str:
        """Serialise for the engines (the text holds the API's answer, never a credential)."""
        return json.dumps(
            {
                "key": self.key,
                "state": self.state,
                "fingerprint": self.fingerprint,
                "owner": self.owner,
                "updated_at": self.updated_at,
                "lease_until": self.lease_until,
                "expires_at": self.expires_at,
                "result": self.result,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> LedgerEntry:
        """Parse :meth:`to_json` output. Raises ``ValueError`` for anything else."""
        try:
            data = json.loads(text)
            state = data["state"]
            if state not in ("in_flight", "completed", "unknown"):
                raise ValueError(f"unknown state {state!r}")
            return cls(
                key=str(data["key"]),
                state=state,
                fingerprint=str(data["fingerprint"]),
                owner=str(data["owner"]),
                updated_at=float(data["updated_at"]),
                lease_until=float(data["lease_until"]),
                expires_at=float(data["expires_at"]),
                result=None if data["result"] is None else str(data["result"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a ledger entry: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Claim:
    """The answer to :meth:`Ledger.claim`.

    Attributes:
        verdict: ``"claimed"`` (you won: send, then settle), ``"completed"`` (sent before:
            ``entry.result`` holds the answer), ``"in_flight"`` or ``"unknown"``.
        entry: The key's entry after the claim.
        retry_after: For ``in_flight``, seconds until the holder's lease runs out.
    """

    verdict: Verdict
    entry: LedgerEntry
    retry_after: float | None = None


def decide(
    current: LedgerEntry | None,
    *,
    key: str,
    fingerprint: str,
    owner: str,
    now: float,
    ttl_s: float,
    lease_s: float,
    force: bool,
) -> tuple[Claim, LedgerEntry | None]:
    """The claim decision, without I/O: the verdict, and the entry to write (``None``: none).

    Raises:
        SmsFlowValidationError: the key was used for a different message
            (code ``IDEMPOTENCY_KEY_REUSED``); nothing is written.
    """
    if current is not None and now >= current.expires_at:
        current = None  # expired: forgotten
    if current is not None and current.fingerprint != fingerprint:
        raise SmsFlowValidationError(
            f"idempotency key {key!r} was already used for a different message; use a new key "
            "for a new message",
            code="IDEMPOTENCY_KEY_REUSED",
        )
    if current is not None:
        status = current.status(now)
        if status == "completed":
            return Claim("completed", current), None
        if not force:
            if status == "in_flight":
                return Claim("in_flight", current, retry_after=current.lease_until - now), None
            return Claim("unknown", current), None
    entry = LedgerEntry(
        key=key,
        state="in_flight",
        fingerprint=fingerprint,
        owner=owner,
        updated_at=now,
        lease_until=now + lease_s,
        expires_at=now + ttl_s,
    )
    return Claim("claimed", entry), entry


def _check_seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SmsFlowValidationError(
            f"{name} must be a number of seconds > 0", code="INVALID_SETTING"
        )
    if value <= 0:
        raise SmsFlowValidationError(
            f"{name} must be a number of seconds > 0", code="INVALID_SETTING"
        )
    return float(value)


def check_key(key: Any) -> str:
    """The key, checked: a non-empty ``str`` of at most 255 characters.

    Raises:
        SmsFlowValidationError: code ``INVALID_IDEMPOTENCY_KEY``.
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise SmsFlowValidationError(
            "idempotency_key must be a printable str of 1-255 characters",
            code="INVALID_IDEMPOTENCY_KEY",
        )
    return key


Change = Callable[[LedgerEntry | None], LedgerEntry | None]


class Ledger:
    """Base of the ledgers: the states above over one atomic update per engine. Thread-safe.

    Args:
        ttl_s: Seconds a key is remembered after its last change (default 7 days).
        lease_s: Seconds a claim may stay unsettled before it reads ``unknown`` (default
            300). Make it longer than your longest send (timeout x attempts).
        clock: Seconds since the epoch (injectable for tests); every process sharing a
            ledger should have a synchronised clock (NTP).

    Raises:
        SmsFlowValidationError: ``ttl_s`` or ``lease_s`` is not a number > 0.
    """

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ttl_s = _check_seconds("ttl_s", ttl_s)
        self.lease_s = _check_seconds("lease_s", lease_s)
        self._clock = clock

    # -- what an engine provides ---------------------------------------------------------

    def _update(self, key: str, change: Change) -> None:
        """Atomically: read ``key``'s entry, call ``change`` on it, write what it returns
        (``None``: delete, unless it returned the entry it was given: keep). ``change`` may
        run more than once (optimistic engines retry it) and may raise to abort."""
        raise NotImplementedError

    def _read(self, key: str) -> LedgerEntry | None:
        """The stored entry for ``key`` (expired or not), or ``None``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (the ledger reconnects if used again)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the operations ------------------------------------------------------------------

    def claim(self, key: str, fingerprint: str, *, force: bool = False) -> Claim:
        """Claim ``key`` for a send whose body hashes to ``fingerprint``.

        Raises:
            SmsFlowValidationError: an invalid key, or one used for another message.
        """
        check_key(key)
        owner = secrets.token_hex(8)
        verdict: list[Claim] = []

        def change(current: LedgerEntry | None) -> LedgerEntry | None:
            claim, entry = decide(
                current,
                key=key,
                fingerprint=fingerprint,
                owner=owner,
                now=self._clock(),
                ttl_s=self.ttl_s,
                lease_s=self.lease_s,
                force=force,
            )
            verdict[:] = [claim]
            return current if entry is None else entry

        self._update(key, change)
        return verdict[0]

    def complete(self, claim: Claim, result: str) -> None:
        """Record that the claimed send was accepted, with the API's answer (JSON text).

        Written even if the claim was taken over meanwhile: an accepted send is a fact.
        """

        def change(current: LedgerEntry | None) -> LedgerEntry | None:
            now = self._clock()
            return replace(
                claim.entry,
                state="completed",
                updated_at=now,
                lease_until=now,
                expires_at=now + self.ttl_s,
                result=result,
            )

        self._update(claim.entry.key, change)

    def mark_unknown(self, claim: Claim) -> None:
        """Record that the claimed send may or may not have been accepted."""

        def change(current: LedgerEntry | None) -> LedgerEntry | None:
            if current is None or current.owner != claim.entry.owner:
                return current
            now = self._clock()
            return replace(current, state="unknown", updated_at=now, lease_until=now)

        self._update(claim.entry.key, change)

    def release(self, claim: Claim) -> None:
        """Forget the claim: the send was proven not accepted, the key may be claimed again."""

        def change(current: LedgerEntry | None) -> LedgerEntry | None:
            if current is None or current.owner != claim.entry.owner:
                return current
            return None

        self._update(claim.entry.key, change)

    def get(self, key: str) -> LedgerEntry | None:
        """The entry for ``key`` (``entry.status(now)``, ``entry.event_id``), or ``None`` when
        the key is unknown to the ledger or expired."""
        entry = self._read(check_key(key))
        if entry is None or self._clock() >= entry.expires_at:
            return None
        return entry

    def now(self) -> float:
        """The ledger's clock (seconds since the epoch)."""
        return self._clock()
