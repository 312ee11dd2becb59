"""The public API as a user writes it, with explicit annotations.

``mypy --strict tests/typing`` fails if a result changes or loses its type: annotations catch
a wrong type, and ``assert_type`` catches a type that silently became ``Any`` (an annotation
alone accepts ``Any``). pytest runs this module too, against the sandbox in-process, so the
code shown really works.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any, assert_type

import httpx
from smsflow_api.models import SendMessagesResponse

import smsflow
from smsflow import (
    AsyncSmsFlowClient,
    AuthToken,
    Balance,
    CostBreakdown,
    ErrorDetail,
    Message,
    SendResponse,
    SendResult,
    SmsFlowClient,
    SmsFlowDeliveryUnknownError,
    SmsFlowError,
    SmsFlowRateLimitError,
    Unset,
)
from smsflow.testing import Sandbox

OPTED_OUT = "27731234567"


def sandbox() -> Sandbox:
    """An account with 10.5 credits on one network, one opted-out number, tokens t1, t2..."""
    return Sandbox(
        "id",
        "secret",
        balance=10.5,
        network_prefixes={"27": "Vodacom"},
        opt_outs=[OPTED_OUT],
        first_event_id=42,
        token_factory=lambda n: f"t{n}",
    )


def messages() -> list[Message | dict[str, str]]:
    """Two messages sent (0.25 credits each) and one to the opted-out number."""
    return [
        Message(destination="27821234567", content="Hello"),
        {"destination": "27831234567", "content": "Hello"},
        Message(OPTED_OUT, "Hello"),
    ]


def takes_int(value: int) -> int:
    return value


def takes_float(value: float) -> float:
    return value


def takes_str(value: str) -> str:
    return value


def use_send_result(result: SendResult) -> tuple[int, float, str]:
    """Read a send result as a user would: the typed side is the generated models; optional
    fields are ``T | Unset`` (narrow with isinstance; ``UNSET`` is falsy)."""
    event_id: int = result.event_id
    response: SendResponse = result.send_response
    assert isinstance(response.cost_breakdown, list)
    first: CostBreakdown = response.cost_breakdown[0]
    assert isinstance(first.cost, float)
    cost: float = first.cost
    assert isinstance(first.network, str)
    network: str = first.network
    quantity: int | Unset = first.quantity
    remaining: float | Unset = response.remaining_balance
    parts: int | Unset = response.parts
    messages: int | Unset = response.messages
    sample: str | Unset | None = response.sample
    report: list[ErrorDetail] = result.error_report
    assert isinstance(report[0].code, str)
    code: str = report[0].code
    field: str | Unset | None = report[0].field
    errors: list[ErrorDetail] = result.errors
    status: int = result.status_code
    model: SendMessagesResponse = result.model
    assert_type(result.event_id, int)
    assert_type(result.model, SendMessagesResponse)
    assert_type(result.send_response, SendResponse)
    assert_type(result.send_response.cost_breakdown, list[CostBreakdown] | Unset)
    assert_type(first.quantity, int | Unset)
    assert_type(response.cost, float | Unset)
    assert_type(response.remaining_balance, float | Unset)
    assert_type(response.parts, int | Unset)
    assert_type(response.messages, int | Unset)
    assert_type(response.sample, str | None | Unset)
    assert_type(response.error_report, list[ErrorDetail] | Unset)
    assert_type(result.error_report, list[ErrorDetail])
    assert_type(result.error_report[0].code, str | Unset)
    assert_type(result.status_code, int)
    assert_type(model.additional_properties, dict[str, Any])
    vendor_style: object = result["sendResponse"]["eventId"]  # 0.2.0 code: a plain dict read
    assert vendor_style == event_id
    assert json.loads(json.dumps(result))["sendResponse"]["eventId"] == event_id
    assert (sample, field, errors, status) == ("Hello", "messages[2].destination", [], 200)
    assert (quantity, remaining, parts, messages) == (2, 10.0, 2, 2)
    return takes_int(event_id), takes_float(cost), takes_str(network + code)


def use_balance(balance: Balance) -> float:
    """Read a balance as a user would."""
    amount: float = balance.balance
    assert_type(balance.balance, float)
    assert_type(balance.model.balance, float)
    assert json.dumps(balance) == '{"balance": 10.5}'
    return takes_float(amount)


def test_sync_client_types() -> None:
    """The sync client's calls return the documented types."""
    with (
        httpx.Client(transport=sandbox().transport()) as http,
        SmsFlowClient("id", "secret", base_url="https://api.test", http_client=http) as client,
    ):
        token: AuthToken = client.authenticate()
        expires: dt.datetime = token.expires_at
        assert_type(client.authenticate(), AuthToken)
        assert_type(token.token, str)
        assert_type(client.get_balance(), Balance)
        balance: Balance = client.get_balance(timeout=5.0)
        result: SendResult = client.send_sms(
            campaign_name="Typed",
            messages=messages(),
            start_delivery_utc=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            check_opt_outs=True,
            retry=False,
        )
        base_url: str = client.base_url
    assert expires.tzinfo is not None
    assert use_balance(balance) == 10.5
    assert use_send_result(result) == (42, 0.5, "VodacomOPTED_OUT")
    assert base_url == "https://api.test"


def test_async_client_types() -> None:
    """The async client's calls return the same types, awaited."""

    async def main() -> tuple[float, int]:
        async with (
            httpx.AsyncClient(transport=sandbox().transport()) as http,
            AsyncSmsFlowClient(
                "id", "secret", base_url="https://api.test", http_client=http
            ) as client,
        ):
            token: AuthToken = await client.authenticate()
            assert_type(await client.get_balance(), Balance)
            balance: Balance = await client.get_balance()
            result: SendResult = await client.send_sms("Typed", (m for m in messages()))
        assert token.token == "t1"
        return use_balance(balance), use_send_result(result)[0]

    assert asyncio.run(main()) == (10.5, 42)


def describe(error: SmsFlowError) -> str:
    """Error attributes a handler reads, with their types."""
    status: int | None = error.status_code
    code: str = error.code
    assert_type(error.status_code, int | None)
    assert_type(error.code, str)
    assert_type(error.retry_after, float | None)
    retryable: bool = error.retryable
    retry_after: float | None = error.retry_after
    outcome_unknown: bool = error.outcome_unknown
    return f"{status} {code} {retryable} {retry_after} {outcome_unknown}"


def test_error_types() -> None:
    """Errors carry typed attributes and the hierarchy a user catches on."""
    try:
        raise SmsFlowRateLimitError("slow down", status_code=429, retryable=True, retry_after=2.0)
    except SmsFlowError as error:
        text = describe(error)
    assert text == "429 RATE_LIMITED True 2.0 False"
    unknown: SmsFlowError = SmsFlowDeliveryUnknownError("lost", outcome_unknown=True)
    network: type[smsflow.SmsFlowNetworkError] = SmsFlowDeliveryUnknownError
    assert isinstance(unknown, network)
