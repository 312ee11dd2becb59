"""Every documented error status of every operation, in both error body styles, through the
real clients and the sandbox.

The operations and their error statuses are read from ``spec/openapi.yaml``; each is answered
by the sandbox in the SMSFlow style (``ErrorResponse``) and in ASP.NET Core's RFC 9457 style
(``error_style="problem"``), and the suite's contract observer validates every exchange of both
against the spec's schemas. Each call must end in the README's typed error, with ``status_code``,
``code`` (the body's code; ASP.NET bodies carry none, so the class's own), the message from
the body (title plus first field error for a problem body), ``field_errors``, ``trace_id``
(problem bodies), ``retry_after`` (429), and no secret anywhere in the error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import Any, Final

import httpx
import pytest
import yaml

from smsflow import (
    SmsFlowAuthenticationError,
    SmsFlowError,
    SmsFlowInsufficientBalanceError,
    SmsFlowRateLimitError,
    SmsFlowRequestTimeoutError,
    SmsFlowServerError,
    SmsFlowValidationError,
)
from smsflow._auth import CREDENTIALS_HINT
from smsflow._errors import error_for_response
from smsflow.testing import Sandbox
from smsflow.testing._replies import STATUS_CODES as SMSFLOW_CODES  # what the sandbox writes

from .openapi_adapter import SPEC_PATH

SECRET: Final = "style-secret-Q7!vv"  # distinctive, so a leak is easy to spot
TOKEN_PREFIX: Final = "style-token-"
MESSAGE: Final = {"destination": "27821234567", "content": "Error styles."}
RETRY_AFTER: Final = 7
VALIDATION_TITLE: Final = "One or more validation errors occurred."
INJECTED: Final = "Injected failure."
# The sandbox's endpoint name of each spec path.
ENDPOINTS: Final = {
    "/api/integration/authentication": "token",
    "/api/integration/BulkMessages": "send",
    "/api/integration/Balance": "balance",
}
# The README "Errors" table: the class of each documented error status.
CLASSES: Final[dict[int, type[SmsFlowError]]] = {
    400: SmsFlowValidationError,
    401: SmsFlowAuthenticationError,
    402: SmsFlowInsufficientBalanceError,
    403: SmsFlowAuthenticationError,
    404: SmsFlowValidationError,
    408: SmsFlowRequestTimeoutError,
    409: SmsFlowValidationError,
    415: SmsFlowValidationError,
    422: SmsFlowValidationError,
    429: SmsFlowRateLimitError,
    500: SmsFlowServerError,
    502: SmsFlowServerError,
    503: SmsFlowServerError,
    504: SmsFlowServerError,
}
# A problem body names no code: the class's own, but a 422 keeps the spec's distinct code.
PROBLEM_CODES: Final = {422: "INVALID_REQUEST_SHAPE"}


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: its client method, sandbox endpoint and error statuses."""

    method: str
    endpoint: str
    statuses: tuple[int, ...]


@cache
def operations() -> tuple[Operation, ...]:
    """The spec's operations with the error statuses each documents."""
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    found: list[Operation] = []
    for path, item in document["paths"].items():
        for operation in item.values():
            statuses = tuple(sorted(int(s) for s in operation["responses"] if int(s) >= 400))
            found.append(Operation(operation["x-smsflow-method"], ENDPOINTS[path], statuses))
    return tuple(found)


def _cases() -> Iterator[Any]:
    for op in operations():
        for status in op.statuses:
            yield pytest.param(op, status, id=f"{op.method}-{status}")


def _sandbox(style: str, **kwargs: Any) -> Sandbox:
    return Sandbox(
        client_secret=SECRET,
        error_style=style,
        token_factory=lambda n: f"{TOKEN_PREFIX}{n}",
        **kwargs,
    )


def _call(sandbox: Sandbox, method: str, flavour: str) -> SmsFlowError:
    """Call ``method`` on a client of ``flavour`` with no retries; return the error raised."""
    args: tuple[Any, ...] = ("Campaign", [MESSAGE]) if method == "send_sms" else ()
    if flavour == "sync":
        with sandbox.client(retry_retries=0) as client, pytest.raises(SmsFlowError) as raised:
            getattr(client, method)(*args)
        return raised.value

    async def main() -> SmsFlowError:
        async with sandbox.async_client(retry_retries=0) as client:
            try:
                await getattr(client, method)(*args)
            except SmsFlowError as error:
                return error
        raise AssertionError(f"{method} did not fail")

    return asyncio.run(main())


def _assert_no_secret(error: SmsFlowError) -> None:
    texts = [str(error), repr(error), error.message, json.dumps(error.body, default=str)]
    if error.request is not None:
        texts.append(str(error.request.headers.get("Authorization", "")))
    if error.response is not None:  # the answer itself echoes neither
        texts.append(error.response.text)
        texts.append(str(error.response.request.headers.get("Authorization", "")))
    for text in texts:
        assert SECRET not in text
        assert TOKEN_PREFIX not in text


def _expected_message(status: int, style: str, endpoint: str) -> str:
    if endpoint == "token":  # a token error keeps only identifiers: the status line
        message = f"SMSFlow answered {status} {HTTPStatus(status).phrase}"
        if status in (401, 403):  # as the lazy fetch words it
            message += CREDENTIALS_HINT
    elif style == "problem" and status in (400, 422):
        message = f"{VALIDATION_TITLE} ($: {INJECTED})"
    else:
        message = INJECTED
    if endpoint == "send" and status in (502, 504):
        message += "; the send may or may not have been accepted"
    return message


def _expected_field_errors(status: int, style: str, endpoint: str) -> dict[str, tuple[str, ...]]:
    if style == "smsflow" or status not in (400, 422):
        return {}
    return {"$": () if endpoint == "token" else (INJECTED,)}


@pytest.mark.parametrize(("op", "status"), list(_cases()))
def test_documented_error_status_in_both_styles(
    op: Operation, status: int, error_style: str, flavour: str
) -> None:
    """Each documented error status of each operation ends in its typed error, read alike
    from either body style."""
    sandbox = _sandbox(error_style)
    # A 401 on a cached token gets a new token and one replay: fail both attempts.
    count = 2 if status == 401 and op.endpoint != "token" else 1
    retry_after = RETRY_AFTER if status == 429 else None
    sandbox.fail_next(count, endpoint=op.endpoint, status=status, retry_after=retry_after)

    error = _call(sandbox, op.method, flavour)

    expected_code = (
        SMSFLOW_CODES[status]
        if error_style == "smsflow"
        else PROBLEM_CODES.get(status, CLASSES[status].default_code)
    )
    assert (CLASSES[status], status, expected_code) == (
        type(error),
        error.status_code,
        error.code,
    )
    assert _expected_message(status, error_style, op.endpoint) == error.message
    assert _expected_field_errors(status, error_style, op.endpoint) == error.field_errors
    assert (float(RETRY_AFTER) if status == 429 else None) == error.retry_after
    assert error.response is not None
    content_type = error.response.headers["Content-Type"]
    if error_style == "problem":
        assert content_type.startswith("application/problem+json")
        assert error.trace_id is not None
        assert error.trace_id.startswith("00-")
        assert error.trace_id == error.body["traceId"]
    else:
        assert content_type.startswith("application/json")
        assert error.trace_id is None
    _assert_no_secret(error)


def test_every_operation_documents_error_statuses() -> None:
    """The spec is read: each operation is found with its error statuses, and each status
    has an expected class here (a new status in the spec fails this test until it has one)."""
    ops = operations()
    assert {"authenticate", "send_sms", "get_balance"} == {op.method for op in ops}
    for op in ops:
        assert op.statuses, op.method
        assert set(op.statuses) <= set(CLASSES), (op.method, set(op.statuses) - set(CLASSES))


def test_validation_400_with_field_errors_through_the_client(error_style: str) -> None:
    """A send the sandbox refuses for a field (more messages than its batch limit) gives a
    validation error naming the field, in either style."""
    sandbox = _sandbox(error_style, max_batch=1)
    with sandbox.client(retry_retries=0) as client, pytest.raises(SmsFlowValidationError) as got:
        client.send_sms("Campaign", [MESSAGE, MESSAGE])
    error = got.value
    text = "messages must hold 1 to 1 messages."
    assert (400, {"messages": (text,)}) == (error.status_code, error.field_errors)
    if error_style == "problem":
        assert ("INVALID_REQUEST", f"{VALIDATION_TITLE} (messages: {text})") == (
            error.code,
            error.message,
        )
        assert error.trace_id is not None
    else:
        assert ("INVALID_REQUEST", text, None) == (error.code, error.message, error.trace_id)
    assert 0 == sandbox.accepted_count
    _assert_no_secret(error)


def test_insufficient_balance_through_the_client(error_style: str) -> None:
    """A send the credit does not cover is refused (402) in either style; nothing is sent."""
    sandbox = _sandbox(error_style, balance=0.1)
    with (
        sandbox.client(retry_retries=0) as client,
        pytest.raises(SmsFlowInsufficientBalanceError) as got,
    ):
        client.send_sms("Campaign", [MESSAGE] * 3)
    error = got.value
    assert (402, "INSUFFICIENT_BALANCE", {}) == (error.status_code, error.code, error.field_errors)
    assert error.message.startswith("Not enough credit to send 3 parts")
    assert (error_style == "problem") == (error.trace_id is not None)
    assert (0, 0.1) == (sandbox.accepted_count, sandbox.balance)
    _assert_no_secret(error)


def test_bad_credentials_through_the_client(error_style: str) -> None:
    """Wrong credentials: an authentication error whose body keeps only identifiers."""
    sandbox = _sandbox(error_style)
    with (
        sandbox.client(client_secret="wrong-" + SECRET) as client,
        pytest.raises(SmsFlowAuthenticationError) as got,
    ):
        client.get_balance()
    error = got.value
    assert 401 == error.status_code
    assert error.message.startswith("SMSFlow answered 401 Unauthorized: ")
    assert "check client_id and client_secret" in error.message  # the hint of a lazy fetch
    expected_code = "AUTHENTICATION_FAILED"  # the body's in one style, the class's in the other
    assert expected_code == error.code
    assert (error_style == "problem") == (error.trace_id is not None)
    _assert_no_secret(error)


@pytest.mark.invalid_requests  # bodies the spec refuses, to get each refusal
@pytest.mark.parametrize(
    ("content", "content_type", "status", "field", "message"),
    [
        (
            {
                "SendOptions": {
                    "startDeliveryUtc": None,
                    "campaignName": "C",
                    "checkOptOuts": True,
                },
                "messages": [{"content": "Hi", "destination": "12"}],
            },
            "application/json",
            400,
            "messages[0].destination",
            "Destination must be 8 to 15 digits.",
        ),
        (
            {
                "SendOptions": {
                    "startDeliveryUtc": None,
                    "campaignName": "C",
                    "checkOptOuts": True,
                },
                "messages": "x",
            },
            "application/json",
            422,
            "messages",
            "messages must be an array.",
        ),
        ("x", "text/plain", 415, None, "The body must be JSON (application/json)."),
    ],
)
def test_refused_send_bodies_map_alike_in_both_styles(
    content: Any, content_type: str, status: int, field: str | None, message: str, error_style: str
) -> None:
    """Bodies the client never sends (its own checks stop them), sent raw: the answer maps
    to a validation error with the field's message, in either style."""
    sandbox = _sandbox(error_style)
    raw = content.encode() if isinstance(content, str) else json.dumps(content).encode()
    headers = {"Authorization": "Bearer " + sandbox.issue_token(), "Content-Type": content_type}
    with httpx.Client(transport=sandbox.transport(), base_url="https://sandbox.test") as http:
        answer = http.post("/api/integration/BulkMessages", content=raw, headers=headers)
    error = error_for_response(answer)
    assert (SmsFlowValidationError, status) == (type(error), error.status_code)
    assert ({field: (message,)} if field else {}) == error.field_errors
    if error_style == "problem":
        expected = f"{VALIDATION_TITLE} ({field}: {message})" if field else message
        assert (expected, PROBLEM_CODES.get(status, "INVALID_REQUEST")) == (
            error.message,
            error.code,
        )
        assert error.trace_id is not None
    else:
        codes = {400: "INVALID_DESTINATION", 422: "INVALID_REQUEST_SHAPE"}
        assert (message, codes.get(status, "UNSUPPORTED_MEDIA_TYPE")) == (
            error.message,
            error.code,
        )
        assert error.trace_id is None
