"""Typed results that are also the vendor's plain dicts (smsflow/_results.py)."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from helpers import send_json

from smsflow import AuthToken, Balance, CostBreakdown, ErrorDetail, SendResult, Token
from smsflow._results import ShapeError


def test_send_result_typed_attributes() -> None:
    """Every documented field of a send answer has a typed attribute."""
    result = SendResult(send_json(event_id=987, cost=0.5))
    response = result.send_response
    assert (
        result.event_id,
        response.event_id,
        result.status_code,
        result.errors,
    ) == (987, 987, 200, ())
    assert (
        response.cost,
        response.remaining_balance,
        response.messages,
        response.parts,
        response.sample,
    ) == (0.5, 99.75, 1, 1, "Order 1001 has shipped.")
    assert (CostBreakdown(quantity=1, cost=0.5, network="Vodacom"),) == response.cost_breakdown
    assert response.error_report == ()


def test_send_result_reads_like_the_vendor_dict() -> None:
    """smsflow 0.2.0 code reads result["sendResponse"]["eventId"] and dumps it as JSON."""
    body = send_json()
    result = SendResult(body)
    assert result["sendResponse"]["eventId"] == 123456
    assert body == json.loads(json.dumps(result))
    assert body == result
    assert isinstance(result, dict)
    assert isinstance(result["sendResponse"], dict)


def test_integer_costs_are_floats() -> None:
    """A cost sent as an integer is still a float attribute."""
    body = send_json()
    body["sendResponse"]["cost"] = 1
    cost = SendResult(body).send_response.cost
    assert (1.0, float) == (cost, type(cost))


def test_error_report_and_errors_are_parsed() -> None:
    """Per-message problems and top-level errors become ErrorDetail objects."""
    body = send_json()
    body["sendResponse"]["errorReport"] = [
        {"code": "OPTED_OUT", "message": "Recipient opted out.", "field": "messages[1].destination"}
    ]
    body["errors"] = [{"code": "WARN", "message": "note"}]
    result = SendResult(body)
    assert (ErrorDetail("OPTED_OUT", "Recipient opted out.", "messages[1].destination"),) == (
        result.send_response.error_report
    )
    assert (ErrorDetail("WARN", "note", None),) == result.errors


def test_optional_fields_may_be_absent() -> None:
    """Without sample, costBreakdown, errorReport and errors the result still parses."""
    body = send_json()
    for key in ("sample", "costBreakdown", "errorReport"):
        del body["sendResponse"][key]
    del body["errors"]
    result = SendResult(body)
    assert (
        result.send_response.sample,
        result.send_response.cost_breakdown,
        result.send_response.error_report,
        result.errors,
    ) == (None, (), (), ())


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = send_json()
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param([], id="array"),
        pytest.param(None, id="null"),
        pytest.param({"statusCode": 200}, id="no-sendResponse"),
        pytest.param(_with(("sendResponse",), None), id="sendResponse-null"),
        pytest.param(_with(("sendResponse", "eventId"), "123"), id="eventId-str"),
        pytest.param(_with(("sendResponse", "eventId"), True), id="eventId-bool"),
        pytest.param(_with(("sendResponse", "eventId"), 1.5), id="eventId-float"),
        pytest.param(_with(("sendResponse", "cost"), "0.25"), id="cost-str"),
        pytest.param(_with(("sendResponse", "costBreakdown"), {}), id="breakdown-object"),
        pytest.param(_with(("sendResponse", "costBreakdown"), [{"cost": 1}]), id="breakdown-item"),
        pytest.param(
            _with(("sendResponse", "errorReport"), [{"message": "x"}]), id="report-no-code"
        ),
        pytest.param(_with(("errors",), "oops"), id="errors-str"),
    ],
)
def test_wrong_shapes_raise_shape_error(body: Any) -> None:
    """A send answer of the wrong shape raises ShapeError (the client makes it unexpected)."""
    with pytest.raises(ShapeError):
        SendResult(body)


def test_balance() -> None:
    """The balance is a float attribute and the vendor's dict."""
    balance = Balance({"balance": 12})
    assert (balance.balance, balance["balance"], balance) == (12.0, 12, {"balance": 12})
    assert isinstance(balance.balance, float)


@pytest.mark.parametrize(
    "body", [{}, {"balance": None}, {"balance": "1"}, {"balance": False}, [1], "1"]
)
def test_balance_wrong_shapes(body: Any) -> None:
    """A balance answer without a numeric balance raises ShapeError."""
    with pytest.raises(ShapeError):
        Balance(body)


def test_results_copy_and_pickle_as_dicts() -> None:
    """Results survive copy and pickle with their values (task queues, caches)."""
    result = SendResult(send_json())
    assert result == copy.deepcopy(result)
    restored = pickle.loads(pickle.dumps(dict(result)))  # noqa: S301 - our own bytes
    assert send_json() == json.loads(json.dumps(restored))


def test_auth_token_hides_its_value() -> None:
    """AuthToken reads like the API's JSON but never prints the token."""
    token = AuthToken(
        Token(value="secret-tok", issued_at=1000.0, expires_at=8200.0, refresh_at=7900.0)
    )
    assert (token.token, token.expires_in_minutes) == ("secret-tok", 120.0)
    assert dict(token) == {"token": "secret-tok", "expiresInMinutes": 120, "schema": "Bearer"}
    assert token.expires_at.timestamp() == 8200.0
    assert "secret-tok" not in repr(token) + str(token)
    assert "secret-tok" not in repr(Token("secret-tok", 0.0, 1.0, 1.0))
