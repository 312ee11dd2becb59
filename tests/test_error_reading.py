"""Error answers read alike whichever way they arrive: ASP.NET's field names in any case,
422's own code without a body code, the token call's wording on both token paths, and no
field name passed off as a message."""

from __future__ import annotations

import asyncio
import pickle

import httpx
import pytest

from smsflow import (
    SmsFlowAuthenticationError,
    SmsFlowError,
    SmsFlowValidationError,
)
from smsflow.testing import Sandbox

PROBLEM = "application/problem+json"
VALIDATION = {
    "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    "title": "One or more validation errors occurred.",
    "status": 400,
    "errors": {"Messages[0].Destination": ["The destination must be 8 to 15 digits."]},
    "traceId": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}


def answer(status: int, body: dict[str, object]) -> httpx.Response:
    request = httpx.Request("POST", "https://api.test/api/integration/BulkMessages")
    return httpx.Response(status, json=body, headers={"Content-Type": PROBLEM}, request=request)


def test_field_errors_are_found_in_the_spec_spelling_and_in_aspnets() -> None:
    from smsflow._errors import error_for_response

    error = error_for_response(answer(400, VALIDATION))

    message = ("The destination must be 8 to 15 digits.",)
    assert error.field_errors["messages[0].destination"] == message
    assert error.field_errors.get("MESSAGES[0].DESTINATION") == message
    assert "messages[0].destination" in error.field_errors
    assert error.field_errors.get("messages[1].destination") is None
    assert "messages[1].destination" not in error.field_errors
    with pytest.raises(KeyError):
        error.field_errors["content"]
    assert list(error.field_errors) == ["Messages[0].Destination"]  # as the server wrote it
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert copy.field_errors["messages[0].destination"] == message


def test_a_problem_422_keeps_the_specs_distinct_code() -> None:
    from smsflow._errors import error_for_response

    shape = error_for_response(answer(422, {**VALIDATION, "status": 422}))
    value = error_for_response(answer(400, VALIDATION))

    assert (type(shape), shape.code) == (SmsFlowValidationError, "INVALID_REQUEST_SHAPE")
    assert (type(value), value.code) == (SmsFlowValidationError, "INVALID_REQUEST")


def _authenticate_error(
    sandbox: Sandbox, flavour: str, lazy: bool, secret: str | None = None
) -> SmsFlowError:
    options = {"retry_retries": 0, "client_secret": secret or sandbox.client_secret}
    if flavour == "sync":
        with sandbox.client(**options) as client, pytest.raises(SmsFlowError) as raised:
            client.get_balance() if lazy else client.authenticate()
        return raised.value

    async def main() -> SmsFlowError:
        async with sandbox.async_client(**options) as client:
            try:
                await (client.get_balance() if lazy else client.authenticate())
            except SmsFlowError as error:
                return error
        raise AssertionError("no error")

    return asyncio.run(main())


@pytest.mark.parametrize("style", ["smsflow", "problem"])
def test_refused_credentials_read_alike_on_both_token_paths(style: str, flavour: str) -> None:
    sandbox = Sandbox(error_style=style)
    wrong = "not-the-sandbox-secret"

    explicit = _authenticate_error(sandbox, flavour, lazy=False, secret=wrong)
    lazy = _authenticate_error(sandbox, flavour, lazy=True, secret=wrong)

    assert type(explicit) is type(lazy) is SmsFlowAuthenticationError
    assert explicit.message == lazy.message
    assert "check client_id and client_secret" in explicit.message
    assert wrong not in str(explicit)


@pytest.mark.parametrize("status", [400])  # the token call's one ValidationProblemDetails
def test_a_token_problem_body_is_worded_by_its_status_not_a_field_name(
    status: int, flavour: str
) -> None:
    sandbox = Sandbox(error_style="problem")
    sandbox.fail_next(1, endpoint="token", status=status)

    error = _authenticate_error(sandbox, flavour, lazy=False)

    phrase = httpx.codes.get_reason_phrase(status)
    assert error.message == f"SMSFlow answered {status} {phrase}"
    assert error.field_errors  # the field names are kept, their words are not
