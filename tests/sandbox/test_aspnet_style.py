"""The sandbox as ASP.NET Core behaves: case-insensitive paths and JSON keys, and (an option)
RFC 9457 problem bodies; the clients read both error styles alike."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from contract.observer import ContractObserver

from smsflow import (
    AsyncSmsFlowClient,
    SmsFlowAuthenticationError,
    SmsFlowClient,
    SmsFlowInsufficientBalanceError,
    SmsFlowValidationError,
)
from smsflow._errors import error_for_response
from smsflow.testing import Sandbox

MESSAGE = {"destination": "27821234567", "content": "Hello"}


def _request(sandbox: Sandbox, method: str, path: str, body: Any = None) -> httpx.Response:
    headers = {"Authorization": "Bearer " + sandbox.issue_token()}
    with httpx.Client(transport=sandbox.transport(), base_url="https://sandbox.test") as http:
        return http.request(method, path, json=body, headers=headers)


def test_paths_match_case_insensitively(contract_observer: ContractObserver) -> None:
    """``/API/INTEGRATION/balance`` is the balance, as ASP.NET routes it."""
    sandbox = Sandbox(balance=7.5)
    sandbox.remove_observer(contract_observer)  # the path is off the spec's spelling on purpose
    answer = _request(sandbox, "GET", "/API/INTEGRATION/balance")
    assert (200, {"balance": 7.5}) == (answer.status_code, answer.json())


@pytest.mark.invalid_requests  # the keys are off the spec's spelling on purpose
def test_json_keys_bind_case_insensitively() -> None:
    """``sendOptions``/``Messages``/``Content`` bind to the spec's keys, as ASP.NET binds."""
    body = {
        "sendOptions": {"StartDeliveryUtc": None, "CAMPAIGNNAME": "C", "checkoptouts": True},
        "Messages": [{"Content": "Hello", "DESTINATION": "27821234567"}],
    }
    sandbox = Sandbox()
    answer = _request(sandbox, "POST", "/api/integration/BulkMessages", body)
    assert (200, 1) == (answer.status_code, sandbox.accepted_count)


@pytest.mark.invalid_requests
def test_400_and_422_carry_distinct_codes() -> None:
    """A bad value is 400 INVALID_REQUEST; a wrong shape is 422 INVALID_REQUEST_SHAPE."""
    sandbox = Sandbox()
    base = {"SendOptions": {"startDeliveryUtc": None, "campaignName": "C", "checkOptOuts": True}}
    bad_value = _request(sandbox, "POST", "/api/integration/BulkMessages", {**base, "messages": []})
    bad_shape = _request(
        sandbox, "POST", "/api/integration/BulkMessages", {**base, "messages": "x"}
    )
    codes = [(a.status_code, a.json()["errors"][0]["code"]) for a in (bad_value, bad_shape)]
    assert [(400, "INVALID_REQUEST"), (422, "INVALID_REQUEST_SHAPE")] == codes


@pytest.mark.invalid_requests  # a destination the spec refuses, to get the 400
def test_problem_style_validation_body() -> None:
    """error_style="problem": a 400 is a ValidationProblemDetails with a traceId."""
    sandbox = Sandbox(error_style="problem")
    body = {
        "SendOptions": {"startDeliveryUtc": None, "campaignName": "C", "checkOptOuts": True},
        "messages": [{"content": "Hi", "destination": "12"}],
    }
    answer = _request(sandbox, "POST", "/api/integration/BulkMessages", body)
    problem = answer.json()
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert (400, "One or more validation errors occurred.") == (
        problem["status"],
        problem["title"],
    )
    assert ["messages[0].destination"] == list(problem["errors"])
    assert problem["traceId"].startswith("00-")


def test_clients_read_both_error_styles(error_style: str) -> None:
    """Both clients map either body style to the same error classes."""
    sandbox = Sandbox(balance=0.1, error_style=error_style)
    seen: list[type[Exception]] = []
    with SmsFlowClient(
        sandbox.client_id, sandbox.client_secret, transport=sandbox.transport()
    ) as client:
        with pytest.raises(SmsFlowInsufficientBalanceError):
            client.send_sms("C", [MESSAGE] * 3)
        seen.append(SmsFlowInsufficientBalanceError)
    with (
        SmsFlowClient(sandbox.client_id, "wrong", transport=sandbox.transport()) as client,
        pytest.raises(SmsFlowAuthenticationError) as refused,
    ):
        client.get_balance()
    assert (error_style == "problem") == (refused.value.trace_id is not None)

    async def main() -> None:
        async with AsyncSmsFlowClient(
            sandbox.client_id, sandbox.client_secret, transport=sandbox.transport()
        ) as client:
            await client.send_sms("C", [MESSAGE] * 3)

    with pytest.raises(SmsFlowInsufficientBalanceError):
        asyncio.run(main())


@pytest.mark.invalid_requests  # content over 1600 characters, to get the 400
def test_field_errors_from_both_styles(error_style: str) -> None:
    """A refused send (content over 1600 characters, sent raw past the client's checks)
    gives the same field_errors in either style; the problem style adds a trace id."""
    sandbox = Sandbox(error_style=error_style)
    raw = {
        "SendOptions": {"startDeliveryUtc": None, "campaignName": "C", "checkOptOuts": True},
        "messages": [{"destination": "27821234567", "content": "x" * 1601}],
    }
    answer = _request(sandbox, "POST", "/api/integration/BulkMessages", raw)
    error = error_for_response(answer)
    assert isinstance(error, SmsFlowValidationError)
    assert ["messages[0].content"] == list(error.field_errors)
    assert (error_style == "problem") == (error.trace_id is not None)
