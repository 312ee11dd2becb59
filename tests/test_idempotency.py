"""send_sms(idempotency_key=...) when the ledger fails after the send: the caller still gets
the result (the SMS went out); the key is never freed for a second send."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from smsflow import (
    SmsFlowError,
    SmsFlowIdempotencyError,
    SmsFlowInsufficientBalanceError,
    SqliteLedger,
)
from smsflow._ledger import Claim
from smsflow.testing import Sandbox

MESSAGE = [{"destination": "27821234567", "content": "Order 1001 has shipped."}]


class CompleteFails(SqliteLedger):
    """A ledger whose store goes away between the claim and the completion."""

    def complete(self, claim: Claim, result: str) -> None:
        raise OSError("disk I/O error")


def test_a_ledger_failing_after_the_send_still_returns_the_result(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The API accepted the send, the ledger cannot record it: the event id is returned, a
    warning names the key, and the key stays claimed (a repeat is refused, not resent)."""
    sandbox = Sandbox()
    ledger = CompleteFails(tmp_path / "ledger.sqlite3", lease_s=60)
    with sandbox.client(ledger=ledger) as client, caplog.at_level(logging.WARNING, "smsflow"):
        result = client.send_sms("Keys", MESSAGE, idempotency_key="order-1001")
        with pytest.raises(SmsFlowIdempotencyError) as caught:
            client.send_sms("Keys", MESSAGE, idempotency_key="order-1001")
    assert 1 == sandbox.accepted_count
    assert sandbox.events[0].event_id == result.event_id
    assert "IDEMPOTENCY_IN_FLIGHT" == caught.value.code
    assert any("order-1001" in r.getMessage() for r in caplog.records)


def test_a_ledger_failing_after_a_failed_send_keeps_the_send_error(tmp_path: Path) -> None:
    """The send failed and the ledger fails too: the caller sees the send's own error."""
    sandbox = Sandbox(balance=0)

    class ReleaseFails(SqliteLedger):
        def release(self, claim: Claim) -> None:
            raise OSError("disk I/O error")

    ledger = ReleaseFails(tmp_path / "ledger.sqlite3")
    with (
        sandbox.client(ledger=ledger) as client,
        pytest.raises(SmsFlowInsufficientBalanceError) as caught,
    ):
        client.send_sms("Keys", MESSAGE, idempotency_key="order-1002")
    assert "INSUFFICIENT_BALANCE" == caught.value.code


def test_a_ledger_that_is_down_raises_a_typed_error_before_sending(tmp_path: Path) -> None:
    """The ledger cannot claim: a retryable SmsFlowError LEDGER_UNAVAILABLE, nothing sent."""

    class ClaimFails(SqliteLedger):
        def claim(self, key: str, fingerprint: str, *, force: bool = False) -> Claim:
            raise OSError("database is locked")

    sandbox = Sandbox()
    ledger = ClaimFails(tmp_path / "ledger.sqlite3")
    with sandbox.client(ledger=ledger) as client, pytest.raises(SmsFlowError) as caught:
        client.send_sms("Keys", MESSAGE, idempotency_key="order-1003")
    assert ("LEDGER_UNAVAILABLE", True) == (caught.value.code, caught.value.retryable)
    assert 0 == sandbox.request_count
