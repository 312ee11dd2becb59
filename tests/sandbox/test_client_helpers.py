"""Sandbox.client() / async_client(): the SDK wired to the sandbox in-process, faults included.

Every request the SDK sends here is validated against the spec by the autouse observer.
"""

from __future__ import annotations

import asyncio

import pytest

import smsflow
from smsflow.testing import Sandbox

from .support import RecordingSleep

MESSAGES = [{"destination": "27821234567", "content": "Order 1001 has shipped."}]


def make() -> tuple[Sandbox, RecordingSleep]:
    sleep = RecordingSleep()
    return Sandbox(sleep=sleep, async_sleep=sleep.asleep), sleep


def test_send_and_balance() -> None:
    sandbox, _ = make()
    with sandbox.client() as client:
        result = client.send_sms(campaign_name="Orders", messages=MESSAGES)
        assert result["sendResponse"]["eventId"] == 100001
        assert result["sendResponse"]["costBreakdown"][0]["network"] == "Vodacom"
        assert client.get_balance()["balance"] == 999.75
    assert sandbox.token_requests == 1
    assert [(m.destination, m.campaign) for m in sandbox.messages] == [("27821234567", "Orders")]


def test_insufficient_balance_is_its_own_error() -> None:
    sandbox, _ = make()
    sandbox.balance = 0.1
    with sandbox.client() as client, pytest.raises(smsflow.SmsFlowInsufficientBalanceError):
        client.send_sms(campaign_name="Orders", messages=MESSAGES)
    assert sandbox.accepted_count == 0


def test_lost_response_is_delivery_unknown_and_not_retried() -> None:
    sandbox, _ = make()
    sandbox.lose_response_next()
    with (
        sandbox.client(retry_retries=3) as client,
        pytest.raises(smsflow.SmsFlowDeliveryUnknownError),
    ):
        client.send_sms(campaign_name="Orders", messages=MESSAGES, retry=True)
    assert sandbox.accepted_count == 1  # accepted once, never duplicated


def test_delay_beyond_the_timeout_is_delivery_unknown() -> None:
    sandbox, sleep = make()
    sandbox.delay_next(1, 60, endpoint="send")
    with sandbox.client(timeout=5) as client, pytest.raises(smsflow.SmsFlowDeliveryUnknownError):
        client.send_sms(campaign_name="Orders", messages=MESSAGES)
    assert sleep.calls == [5.0]
    assert sandbox.accepted_count == 1


def test_server_errors_are_retried_when_asked() -> None:
    sandbox, _ = make()
    sandbox.fail_next(2, endpoint="balance", status=503, retry_after=0)
    with sandbox.client(retry_retries=2, sleep=lambda seconds: None) as client:
        assert client.get_balance()["balance"] == 1000.0
    assert [r.status for r in sandbox.requests if r.endpoint == "balance"] == [503, 503, 200]


def test_revoked_token_is_refreshed() -> None:
    sandbox, _ = make()
    with sandbox.client() as client:
        client.get_balance()
        sandbox.revoke_tokens()
        assert client.get_balance()["balance"] == 1000.0
    assert sandbox.token_requests == 2


def test_async_client() -> None:
    sandbox, _ = make()
    sandbox.drop_next(endpoint="send")

    async def main() -> None:
        async with sandbox.async_client() as client:
            with pytest.raises(smsflow.SmsFlowError) as caught:
                await client.send_sms(campaign_name="Orders", messages=MESSAGES)
            assert caught.value.status_code is None
            result = await client.send_sms(campaign_name="Orders", messages=MESSAGES)
            assert result["sendResponse"]["messages"] == 1

    asyncio.run(main())
    assert sandbox.accepted_count == 1
