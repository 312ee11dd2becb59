"""Per-message idempotency keys in ``send_bulk``: claim before a batch is sent, settle after.

``send_bulk(..., idempotency_key=lambda index, message: ...)`` gives each message a key in the
client's ledger (the same ledger as ``send_sms(idempotency_key=...)``). When a batch closes,
each of its messages' keys is claimed: a key completed earlier becomes ``already_sent`` (with
the stored ``event_id``), one in flight elsewhere or unknown becomes ``unknown`` (code
``IDEMPOTENCY_IN_FLIGHT`` / ``IDEMPOTENCY_UNKNOWN``; ``resend_unknown=True`` takes them over),
one used for another message is ``rejected`` (``IDEMPOTENCY_KEY_REUSED``). Only claimed
messages are sent. When the batch ends, its keys are completed (sent), released (proven not
sent) or marked unknown. A run closed early releases the keys of batches never sent.

With keys, the ledger does what a journal does for a keyless run (a re-run skips what was
sent), for any split of the work across processes; so ``journal=`` is refused alongside.
Ledger I/O runs in the thread (or event loop) that reads the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ._bulk_types import Batch, BatchResult, BulkSettings, MessageOutcome
from ._errors import SmsFlowValidationError
from ._idempotency import proves_not_sent_status
from ._ledger import Claim, Ledger, check_key
from ._logging import logger

__all__ = ["BatchKeys", "keys_for_run"]

KeyFunction = Callable[[int, Any], str]


def keys_for_run(ledger: Ledger | None, settings: BulkSettings) -> BatchKeys | None:
    """The run's keys, when ``send_bulk`` was given ``idempotency_key=``.

    Raises:
        SmsFlowValidationError: keys without a ledger on the client (``NO_LEDGER``).
    """
    if settings.idempotency_key is None:
        return None
    if ledger is None:
        raise SmsFlowValidationError(
            "idempotency_key needs a ledger: SmsFlowClient(ledger=SqliteLedger('ledger.db'))",
            code="NO_LEDGER",
        )
    return BatchKeys(ledger, settings, settings.idempotency_key)


class BatchKeys:
    """The keys of one bulk run's messages, their claims and settlements."""

    def __init__(self, ledger: Ledger, settings: BulkSettings, key_for: KeyFunction) -> None:
        self._ledger = ledger
        self._settings = settings
        self._key_for = key_for
        self._pending: dict[int, Batch] = {}
        start = settings.start_delivery_utc
        self._prefix = (
            f"{settings.campaign_name}\x1f{None if start is None else start.isoformat()}"
            f"\x1f{settings.check_opt_outs}\x1f"
        )

    def key(self, index: int, item: Any) -> str:
        """The key of input message ``index``.

        Raises:
            SmsFlowValidationError: the function failed or gave no valid key
                (``INVALID_IDEMPOTENCY_KEY``): the message is rejected.
        """
        try:
            value = self._key_for(index, item)
        except Exception as exc:  # noqa: BLE001 - the user's function; its error becomes a reason
            raise SmsFlowValidationError(
                f"idempotency_key({index}, message) raised {type(exc).__name__}",
                code="INVALID_IDEMPOTENCY_KEY",
            ) from None
        return check_key(value)

    def _fingerprint(self, destination: str, content: str) -> str:
        text = f"{self._prefix}{destination}\x1f{content}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def claim(
        self, batch: Batch, items: list[dict[str, str]], keys: list[str]
    ) -> tuple[list[MessageOutcome], list[dict[str, str]]]:
        """Claim every key of ``batch``; keep only claimed messages in it (and ``items``).

        Returns the outcomes of the messages dropped and the items left to send.
        """
        outcomes: list[MessageOutcome] = []
        kept: list[int] = []
        claims: list[Claim] = []
        force = self._settings.resend_unknown
        for position, key in enumerate(keys):
            index, item = batch.indices[position], items[position]
            common: dict[str, Any] = {
                "destination": batch.destinations[position],
                "batch": batch.number,
                "parts": batch.parts[position],
            }
            fingerprint = self._fingerprint(item["destination"], item["content"])
            try:
                claim = self._ledger.claim(key, fingerprint, force=force)
            except SmsFlowValidationError as error:
                outcomes.append(
                    MessageOutcome(
                        index, "rejected", code=error.code, reason=error.message, **common
                    )
                )
                continue
            except Exception as error:  # noqa: BLE001 - the ledger is down: not sent, say why
                reason = f"the ledger could not claim its key ({type(error).__name__}); not sent"
                outcomes.append(
                    MessageOutcome(
                        index, "not_sent", code="LEDGER_UNAVAILABLE", reason=reason, **common
                    )
                )
                continue
            if claim.verdict == "claimed":
                kept.append(position)
                claims.append(claim)
            elif claim.verdict == "completed":
                outcomes.append(
                    MessageOutcome(index, "already_sent", event_id=claim.entry.event_id, **common)
                )
            else:
                code = f"IDEMPOTENCY_{claim.verdict.upper()}"
                reason = (
                    f"idempotency key {key!r} is {claim.verdict.replace('_', ' ')}: another run "
                    "or process may have sent it; not sent again (resend_unknown=True to force)"
                )
                outcomes.append(
                    MessageOutcome(index, "unknown", code=code, reason=reason, **common)
                )
        batch.indices = [batch.indices[p] for p in kept]
        batch.destinations = [batch.destinations[p] for p in kept]
        batch.parts = [batch.parts[p] for p in kept]
        batch.claims = claims
        if claims:
            self._pending[batch.number] = batch
        return outcomes, [items[p] for p in kept]

    def settle(self, batch: Batch, result: BatchResult) -> None:
        """Complete, release or mark unknown the keys of a finished batch."""
        self._pending.pop(batch.number, None)
        for claim in batch.claims:
            if result.status == "sent" and result.answer is not None:
                self._safely(self._ledger.complete, claim, result.answer)
            elif proves_not_sent_status(result.status):
                self._safely(self._ledger.release, claim)
            else:
                self._safely(self._ledger.mark_unknown, claim)
        batch.claims = []

    @staticmethod
    def _safely(action: Callable[..., None], claim: Claim, *args: str) -> None:
        """A ledger failure never costs the run its outcomes: warn; the key stays claimed
        (it reads unknown after its lease and is never sent again unless forced)."""
        try:
            action(claim, *args)
        except Exception as error:  # noqa: BLE001 - reported; the key stays safely claimed
            logger.warning(
                "idempotency key %r: the ledger failed to record its outcome (%s: %s); it "
                "will read unknown after its lease",
                claim.entry.key,
                type(error).__name__,
                error,
            )

    def abandon(self) -> None:
        """The run closed early: keys of batches never sent are released, those whose
        request went out (answer unknown) marked unknown."""
        for batch in list(self._pending.values()):
            for claim in batch.claims:
                if batch.sending:
                    self._safely(self._ledger.mark_unknown, claim)
                else:
                    self._safely(self._ledger.release, claim)
            batch.claims = []
        self._pending.clear()
