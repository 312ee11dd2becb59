"""The exception hierarchy and the one status table (smsflow/_errors.py)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from helpers import BALANCE_PATH, CLIENT_SECRET, MESSAGES, FakeApi, error, fake_api

import smsflow
from smsflow._errors import (
    DEFAULT_CODE,
    STATUS_TABLE,
    SmsFlowAuthenticationError,
    SmsFlowError,
    SmsFlowInsufficientBalanceError,
    SmsFlowNetworkError,
    SmsFlowRateLimitError,
    SmsFlowRequestTimeoutError,
    SmsFlowServerError,
    SmsFlowUnexpectedResponseError,
    SmsFlowValidationError,
    error_code_from_body,
    error_for_response,
)

SPEC = Path(__file__).resolve().parent.parent / "spec" / "openapi.yaml"

# What every documented status must become: the class, and whether a retry may help.
EXPECTED: dict[int, tuple[type[SmsFlowError], bool]] = {
    400: (SmsFlowValidationError, False),
    401: (SmsFlowAuthenticationError, False),
    402: (SmsFlowInsufficientBalanceError, False),
    403: (SmsFlowAuthenticationError, False),
    404: (SmsFlowValidationError, False),
    408: (SmsFlowRequestTimeoutError, True),
    409: (SmsFlowValidationError, False),
    413: (SmsFlowValidationError, False),
    415: (SmsFlowValidationError, False),
    422: (SmsFlowValidationError, False),
    429: (SmsFlowRateLimitError, True),
    500: (SmsFlowServerError, True),
    502: (SmsFlowServerError, True),
    503: (SmsFlowServerError, True),
    504: (SmsFlowServerError, True),
}


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted fake API whose clients are closed after the test."""
    yield from fake_api()


def spec_error_statuses() -> set[int]:
    """Every non-2xx status any operation of the spec documents."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    statuses: set[int] = set()
    for item in spec["paths"].values():
        for operation in item.values():
            statuses.update(int(s) for s in operation["responses"] if not s.startswith("2"))
    return statuses


def answer(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    """A read response to a GET of the balance endpoint."""
    request = httpx.Request("GET", "https://api.smsflow.test" + BALANCE_PATH)
    return httpx.Response(status, content=body, headers=headers, request=request)


def test_every_spec_status_has_an_explicit_entry() -> None:
    """A status the spec documents can never fall through to the family default unnoticed."""
    statuses = spec_error_statuses()
    assert statuses, "the spec documents no error status: the parser is wrong"
    assert set() == statuses - set(STATUS_TABLE)


def test_table_classes_and_retryability() -> None:
    """Each documented status maps to the class and retryability the README promises."""
    assert {status: STATUS_TABLE[status] for status in EXPECTED} == EXPECTED
    assert set(STATUS_TABLE) == set(EXPECTED)


@pytest.mark.parametrize(("status", "expected"), sorted(EXPECTED.items()))
def test_error_for_response_follows_the_table(
    status: int, expected: tuple[type[SmsFlowError], bool]
) -> None:
    """error_for_response raises exactly the table's class, with the table's retryability."""
    err = error_for_response(answer(status, b'{"errors":[{"code":"X","message":"m"}]}'))
    assert (expected[0], expected[1], status) == (type(err), err.retryable, err.status_code)


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (520, SmsFlowServerError, True),
        (599, SmsFlowServerError, True),
        (418, SmsFlowValidationError, False),
        (451, SmsFlowValidationError, False),
    ],
)
def test_unlisted_statuses_fall_back_by_family(
    status: int, cls: type[SmsFlowError], retryable: bool
) -> None:
    """Non-standard statuses (520 from Cloudflare) map by family, never raise ValueError."""
    err = error_for_response(answer(status, b"<html>oops</html>"))
    assert (cls, retryable, status) == (type(err), err.retryable, err.status_code)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"errors": [{"code": "INVALID_DESTINATION", "message": "m"}], "code": "TOP"},
            "INVALID_DESTINATION",
        ),
        ({"errors": [], "code": "TOP_LEVEL"}, "TOP_LEVEL"),
        ({"errors": None, "code": "TOP_LEVEL"}, "TOP_LEVEL"),
        ({"errors": [{"message": "no code"}], "code": "TOP_LEVEL"}, "TOP_LEVEL"),
        ({"statusCode": 400}, None),
        ("plain text", None),
        (None, None),
        ([{"code": "IN_A_LIST"}], None),
    ],
)
def test_error_code_from_body(body: Any, expected: str | None) -> None:
    """The code comes from errors[0].code, else a top-level code, else nothing."""
    assert expected == error_code_from_body(body)


def test_code_defaults_when_the_body_has_none() -> None:
    """Without a code in the body, the error carries its class's default code."""
    assert error_for_response(answer(500, b"{}")).code == "SERVER_ERROR"
    assert error_for_response(answer(401)).code == "AUTHENTICATION_FAILED"
    assert DEFAULT_CODE == SmsFlowError("x").code == "SMSFLOW_ERROR"


@pytest.mark.parametrize("status", [400, 402, 403, 409, 422, 500, 503])
@pytest.mark.parametrize("code", ["INSUFFICIENT_BALANCE", "insufficient_credit", "E_INSUFFICIENT"])
def test_insufficient_in_any_code_means_insufficient_balance(status: int, code: str) -> None:
    """Any code containing INSUFFICIENT is an insufficient balance, never retried."""
    body = f'{{"errors":[{{"code":"{code}","message":"no credit"}}]}}'.encode()
    err = error_for_response(answer(status, body))
    assert (SmsFlowInsufficientBalanceError, False) == (type(err), err.retryable)


def test_insufficient_in_top_level_code() -> None:
    """A top-level INSUFFICIENT code counts too."""
    err = error_for_response(answer(400, b'{"code":"INSUFFICIENT_FUNDS"}'))
    assert isinstance(err, SmsFlowInsufficientBalanceError)


@pytest.mark.parametrize(
    ("content", "expected_body"),
    [
        (b"", None),
        (b"Service Unavailable", "Service Unavailable"),
        (
            b"<html><body><h1>502 Bad Gateway</h1></body></html>",
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ),
        (b"\xff\xfe not utf-8", "\ufffd\ufffd not utf-8"),
    ],
)
@pytest.mark.parametrize("status", [400, 429, 502, 503])
def test_non_json_bodies(status: int, content: bytes, expected_body: str | None) -> None:
    """Empty, plain-text and HTML bodies give the mapped class with the default code."""
    err = error_for_response(answer(status, content))
    expected_cls = EXPECTED[status][0]
    assert (expected_cls, expected_cls.default_code, expected_body) == (
        type(err),
        err.code,
        err.body,
    )
    assert str(status) in str(err)


def test_long_text_bodies_are_truncated() -> None:
    """A huge HTML page is not kept whole in the exception."""
    err = error_for_response(answer(502, b"x" * 100_000))
    assert isinstance(err.body, str)
    assert len(err.body) == 2003


def test_message_comes_from_the_body() -> None:
    """The API's message is the exception's message."""
    err = error_for_response(
        answer(400, b'{"errors":[{"code":"INVALID_DESTINATION","message":"Bad number."}]}')
    )
    assert (err.message, err.code) == ("Bad number.", "INVALID_DESTINATION")
    assert str(err) == "INVALID_DESTINATION: Bad number. (HTTP 400)"


def test_retry_after_is_kept() -> None:
    """The parsed Retry-After is carried by the exception."""
    err = error_for_response(answer(429), retry_after=7.0)
    assert err.retry_after == 7.0


@pytest.mark.parametrize(
    ("status", "unknown"), [(500, False), (502, True), (503, False), (504, True)]
)
def test_gateway_statuses_on_a_send_mean_outcome_unknown(status: int, unknown: bool) -> None:
    """A 502/504 to a send may have been accepted: outcome unknown, and not retryable."""
    err = error_for_response(answer(status), is_send=True)
    assert (unknown, not unknown) == (err.outcome_unknown, err.retryable)


def test_token_endpoint_body_keeps_identifiers_only() -> None:
    """A token endpoint's error keeps its codes, fields and traceId, never a token or text."""
    body = (
        b'{"token":"leaked-token","code":"X","message":"leaked-token","traceId":"00-ab-01",'
        b'"errors":[{"code":"AUTHENTICATION_FAILED","message":"leaked-token","field":"id"}]}'
    )
    err = error_for_response(answer(401, body), redact=True)
    expected = {
        "code": "X",
        "traceId": "00-ab-01",
        "errors": [{"code": "AUTHENTICATION_FAILED", "field": "id"}],
    }
    assert (expected, "AUTHENTICATION_FAILED", "00-ab-01") == (err.body, err.code, err.trace_id)
    assert "leaked-token" not in str(err) + repr(err) + str(err.body) + str(err.field_errors)


@pytest.mark.parametrize(
    "err",
    [
        SmsFlowError("base"),
        SmsFlowRateLimitError(
            "slow down", status_code=429, code="RATE_LIMITED", retryable=True, retry_after=3.5
        ),
        SmsFlowServerError("gateway", status_code=502, outcome_unknown=True, body={"errors": []}),
        smsflow.SmsFlowDeliveryUnknownError("lost", outcome_unknown=True),
        error_for_response(
            answer(400, b'{"errors":[{"code":"INVALID_DESTINATION","message":"m"}]}')
        ),
    ],
)
def test_exceptions_pickle(err: SmsFlowError) -> None:
    """Errors survive pickling (task queues, multiprocessing) with their evidence."""
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own bytes, not untrusted data
    fields = (
        "message",
        "status_code",
        "code",
        "retryable",
        "body",
        "retry_after",
        "outcome_unknown",
    )
    assert type(err) is type(copy)
    assert [getattr(err, f) for f in fields] == [getattr(copy, f) for f in fields]
    assert str(err) == str(copy)


def test_repr_and_str_hide_authorization(api: FakeApi) -> None:
    """An API error never shows the bearer token or the client secret, not even in the
    request and response it carries."""
    client = api.client()
    api.queue("balance", error(400, "INVALID_REQUEST"))
    with pytest.raises(SmsFlowValidationError) as info:
        client.get_balance()
    err = info.value
    assert err.request is not None
    token = api.issued[0]
    assert "[REDACTED]" == err.request.headers["Authorization"]
    assert err.response is not None
    assert "[REDACTED]" == err.response.request.headers["Authorization"]
    for text in (str(err), repr(err), str(err.body), str(err.args), str(err.request.headers)):
        assert token not in text
        assert CLIENT_SECRET not in text


def test_send_error_text_hides_secrets(api: FakeApi) -> None:
    """A failed send's str and repr hold neither token nor secret."""
    client = api.client()
    api.queue("send", httpx.ReadTimeout("read timed out"))
    with pytest.raises(smsflow.SmsFlowDeliveryUnknownError) as info:
        client.send_sms("Campaign", MESSAGES)
    text = str(info.value) + repr(info.value)
    assert api.issued[0] not in text
    assert CLIENT_SECRET not in text


@pytest.mark.parametrize(
    "name",
    [
        "SmsFlowError",
        "SmsFlowAuthenticationError",
        "SmsFlowValidationError",
        "SmsFlowServerError",
        "SmsFlowNetworkError",
    ],
)
def test_vendor_names_still_importable(name: str) -> None:
    """smsflow 0.2.0's exception names import from the package root."""
    cls = getattr(smsflow, name)
    assert issubclass(cls, smsflow.SmsFlowError)
    assert cls.__module__ == "smsflow._errors"


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (smsflow.SmsFlowAuthenticationError, smsflow.SmsFlowError),
        (smsflow.SmsFlowValidationError, smsflow.SmsFlowError),
        (smsflow.SmsFlowValidationError, ValueError),
        (smsflow.SmsFlowServerError, smsflow.SmsFlowError),
        (smsflow.SmsFlowNetworkError, smsflow.SmsFlowError),
        (smsflow.SmsFlowDeliveryUnknownError, smsflow.SmsFlowNetworkError),
        (smsflow.SmsFlowRateLimitError, smsflow.SmsFlowError),
        (smsflow.SmsFlowRequestTimeoutError, smsflow.SmsFlowError),
        (smsflow.SmsFlowInsufficientBalanceError, smsflow.SmsFlowError),
        (smsflow.SmsFlowUnexpectedResponseError, smsflow.SmsFlowError),
    ],
)
def test_hierarchy(cls: type[Exception], parent: type[Exception]) -> None:
    """Each class sits where the hierarchy diagram puts it."""
    assert issubclass(cls, parent)


@pytest.mark.parametrize(
    "cls",
    [
        SmsFlowRateLimitError,
        SmsFlowRequestTimeoutError,
        SmsFlowServerError,
        SmsFlowNetworkError,
        SmsFlowAuthenticationError,
        SmsFlowInsufficientBalanceError,
        SmsFlowUnexpectedResponseError,
    ],
)
def test_only_input_errors_are_validation_errors(cls: type[SmsFlowError]) -> None:
    """Rate limits, timeouts and server errors are not validation errors (the 0.2.0 bug)."""
    assert not issubclass(cls, SmsFlowValidationError)
    assert not issubclass(cls, ValueError)


@pytest.mark.parametrize("status", [408, 429])
def test_408_and_429_are_not_validation_errors(status: int) -> None:
    """smsflow 0.2.0 raised 408 and 429 as validation errors; they are retryable now."""
    err = error_for_response(answer(status))
    assert not isinstance(err, SmsFlowValidationError)
    assert err.retryable
