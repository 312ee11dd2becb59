"""The tolerant reader and exact writer of issue 10 (smsflow/_models.py, _errors.py, _core.py).

Each test names the behaviour a user relies on: a send confirmed by its eventId is a result;
ASP.NET ProblemDetails bodies become typed errors with field errors and trace ids; the token
endpoint's error keeps its codes; a scheduled time goes out in UTC with "Z".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
from helpers import EVENT_ID, MESSAGES, FakeApi, fake_api, send_json

from smsflow import (
    SmsFlowAuthenticationError,
    SmsFlowServerError,
    SmsFlowValidationError,
)


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted fake API whose clients are closed after the test."""
    yield from fake_api()


def test_send_missing_remaining_balance_is_a_result(api: FakeApi) -> None:
    """A 2xx send whose eventId proves acceptance is a result even without other fields."""
    body = send_json()
    del body["sendResponse"]["remainingBalance"]
    body["sendResponse"]["notInTheSpec"] = "b-9"  # a field the spec does not know yet
    api.queue("send", httpx.Response(200, json=body))
    result = api.client().send_sms("Campaign", MESSAGES)
    assert (EVENT_ID, "b-9") == (result.event_id, result["sendResponse"]["notInTheSpec"])


PROBLEM = {
    "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    "title": "One or more validation errors occurred.",
    "status": 400,
    "errors": {
        "Messages[0].Destination": ["The Destination field is required."],
        "SendOptions.CampaignName": ["Too long.", "Bad characters."],
    },
    "traceId": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
}


def test_validation_problem_details_become_a_typed_error(api: FakeApi) -> None:
    """ASP.NET's automatic 400 keeps its title, first field error, field errors and trace id."""
    api.queue(
        "send",
        httpx.Response(
            400, content=json.dumps(PROBLEM), headers={"Content-Type": "application/problem+json"}
        ),
    )
    with pytest.raises(SmsFlowValidationError) as info:
        api.client().send_sms("Campaign", MESSAGES)
    err = info.value
    assert (
        "One or more validation errors occurred. "
        "(Messages[0].Destination: The Destination field is required.)"
    ) == err.message
    assert {
        "Messages[0].Destination": ("The Destination field is required.",),
        "SendOptions.CampaignName": ("Too long.", "Bad characters."),
    } == err.field_errors
    assert (PROBLEM["traceId"], "INVALID_REQUEST", 400) == (err.trace_id, err.code, err.status_code)


def test_problem_details_500_keeps_title_and_trace_id(api: FakeApi) -> None:
    """An unhandled ASP.NET error (500 ProblemDetails) says its title and keeps its trace id."""
    problem = {"title": "An error occurred while processing your request.", "status": 500}
    problem["traceId"] = "00-abc-01"
    api.queue("balance", httpx.Response(500, json=problem))
    with pytest.raises(SmsFlowServerError) as info:
        api.client().get_balance()
    assert (problem["title"], "00-abc-01", {}) == (
        info.value.message,
        info.value.trace_id,
        info.value.field_errors,
    )


def test_smsflow_error_items_fill_field_errors(api: FakeApi) -> None:
    """The SMSFlow error style fills field_errors from errors[].field too."""
    body = {
        "statusCode": 400,
        "errors": [
            {"code": "INVALID_DESTINATION", "message": "8 to 15 digits.", "field": "messages[0]"}
        ],
    }
    api.queue("send", httpx.Response(400, json=body))
    with pytest.raises(SmsFlowValidationError) as info:
        api.client().send_sms("Campaign", MESSAGES)
    assert ({"messages[0]": ("8 to 15 digits.",)}, "INVALID_DESTINATION", None) == (
        info.value.field_errors,
        info.value.code,
        info.value.trace_id,
    )


@pytest.mark.parametrize("how", ["authenticate", "lazy"])
def test_token_endpoint_error_keeps_its_body(api: FakeApi, how: str) -> None:
    """A 401 from the token endpoint keeps its codes and trace id (never free text)."""
    body = {
        "statusCode": 401,
        "errors": [{"code": "AUTHENTICATION_FAILED", "message": "Invalid client credentials."}],
        "traceId": "00-def-01",
    }
    api.queue("token", httpx.Response(401, json=body))
    client = api.client()
    with pytest.raises(SmsFlowAuthenticationError) as info:
        client.authenticate() if how == "authenticate" else client.get_balance()
    expected = {
        "statusCode": 401,
        "errors": [{"code": "AUTHENTICATION_FAILED"}],
        "traceId": "00-def-01",
    }
    assert (expected, "00-def-01") == (info.value.body, info.value.trace_id)


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("2030-01-01T08:00:00Z", "2030-01-01T08:00:00Z"),
        ("2030-01-01T10:00:00+02:00", "2030-01-01T08:00:00Z"),
        (
            dt.datetime(2030, 1, 1, 10, 0, 30, 999, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2030-01-01T08:00:30Z",
        ),
        (dt.datetime(2030, 1, 1, 8, tzinfo=dt.UTC), "2030-01-01T08:00:00Z"),
    ],
)
def test_start_delivery_goes_out_in_utc_with_z(
    api: FakeApi, given: str | dt.datetime, sent: str
) -> None:
    """startDeliveryUtc is sent as YYYY-MM-DDTHH:MM:SSZ (ASP.NET shifts +00:00 values)."""
    api.client().send_sms("Campaign", MESSAGES, start_delivery_utc=given)
    assert sent == api.sent_bodies()[0]["SendOptions"]["startDeliveryUtc"]


def test_start_delivery_with_z_async(api: FakeApi) -> None:
    """The async client writes the same "Z" form."""

    async def main() -> None:
        async with api.async_client() as client:
            await client.send_sms("C", MESSAGES, start_delivery_utc="2030-06-01T12:00:00+02:00")

    asyncio.run(main())
    assert "2030-06-01T10:00:00Z" == api.sent_bodies()[0]["SendOptions"]["startDeliveryUtc"]
