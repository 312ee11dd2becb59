"""Typed results that are also the vendor's plain dicts (smsflow/_results.py)."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from helpers import send_json
from smsflow_api.models import SendMessagesResponse
from spec_facts import attribute_name, schema

from smsflow import UNSET, AuthToken, Balance, CostBreakdown, ErrorDetail, SendResult, Token
from smsflow._results import ShapeError


def test_send_result_typed_attributes() -> None:
    """Every documented field of a send answer has a typed attribute (the generated model)."""
    result = SendResult(send_json(event_id=987, cost=0.5))
    response = result.send_response
    assert (
        result.event_id,
        response.event_id,
        result.status_code,
        result.errors,
    ) == (987, 987, 200, [])
    assert (
        response.cost,
        response.remaining_balance,
        response.messages,
        response.parts,
        response.sample,
    ) == (0.5, 99.75, 1, 1, "Order 1001 has shipped.")
    assert [CostBreakdown(quantity=1, cost=0.5, network="Vodacom")] == response.cost_breakdown
    assert [] == response.error_report
    assert isinstance(result.model, SendMessagesResponse)


def test_unknown_keys_stay_reachable() -> None:
    """Keys the spec does not name are kept: in the dict and in additional_properties."""
    body = send_json()
    body["sendResponse"]["notInTheSpec"] = "b-1"
    body["requestId"] = "r-1"
    result = SendResult(body)
    assert ("b-1", "b-1") == (
        result["sendResponse"]["notInTheSpec"],
        result.send_response.additional_properties["notInTheSpec"],
    )
    assert ("r-1", body) == (result.model.additional_properties["requestId"], result)


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
    """A cost sent as an integer is still a float attribute (fields declared ``number``)."""
    body = send_json()
    body["sendResponse"]["cost"] = 1
    body["sendResponse"]["costBreakdown"][0]["cost"] = 2
    response = SendResult(body).send_response
    cost = response.cost
    assert (1.0, float) == (cost, type(cost))
    assert isinstance(response.cost_breakdown, list)
    assert (2.0, float) == (response.cost_breakdown[0].cost, type(response.cost_breakdown[0].cost))


def test_error_report_and_errors_are_parsed() -> None:
    """Per-message problems and top-level errors become ErrorDetail models."""
    body = send_json()
    body["sendResponse"]["errorReport"] = [
        {"code": "OPTED_OUT", "message": "Recipient opted out.", "field": "messages[1].destination"}
    ]
    body["errors"] = [{"code": "WARN", "message": "note"}]
    result = SendResult(body)
    assert [ErrorDetail("OPTED_OUT", "Recipient opted out.", "messages[1].destination")] == (
        result.error_report
    )
    assert [ErrorDetail("WARN", "note")] == result.errors


def test_optional_fields_may_be_absent() -> None:
    """Only eventId is required: without every other field the result still parses, and
    absent fields read as UNSET (falsy)."""
    body = {"sendResponse": {"eventId": 5}}
    result = SendResult(body)
    response = result.send_response
    assert (5, 200, [], []) == (
        result.event_id,
        result.status_code,
        result.errors,
        result.error_report,
    )
    send_response = schema("SendResponse")
    optional = set(send_response["properties"]) - set(send_response["required"])
    assert {attribute_name(name): UNSET for name in optional} == {
        attribute_name(name): getattr(response, attribute_name(name)) for name in optional
    }


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
        pytest.param(_with(("sendResponse", "eventId"), None), id="eventId-null"),
    ],
)
def test_no_valid_event_id_raises_shape_error(body: Any) -> None:
    """Only a missing or invalid eventId (or no sendResponse object) makes a send answer
    unreadable: ShapeError (the client makes it an unexpected response, outcome unknown)."""
    with pytest.raises(ShapeError):
        SendResult(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(_with(("sendResponse", "cost"), "0.25"), "cost", id="cost-str"),
        pytest.param(
            _with(("sendResponse", "costBreakdown"), {"x": 1}), "cost_breakdown", id="obj"
        ),
        pytest.param(_with(("sendResponse", "costBreakdown"), ["x"]), "cost_breakdown", id="item"),
        pytest.param(
            _with(("sendResponse", "costBreakdown"), "abc"), "cost_breakdown", id="breakdown-str"
        ),
        pytest.param(
            _with(("sendResponse", "remainingBalance"), None), "remaining_balance", id="n"
        ),
    ],
)
def test_wrong_optional_fields_are_left_out(body: Any, field: str) -> None:
    """Tolerant reader: a wrong optional field reads UNSET (the raw value stays in the dict);
    the send is still confirmed by its eventId."""
    result = SendResult(body)
    assert (123456, UNSET) == (result.event_id, getattr(result.send_response, field))
    assert body == result


def test_wrong_field_of_an_item_is_left_out() -> None:
    """Within an item, a wrong field reads UNSET and the rest of the item is kept."""
    result = SendResult(_with(("sendResponse", "costBreakdown"), [{"cost": "x", "network": "V"}]))
    breakdown = result.send_response.cost_breakdown
    assert isinstance(breakdown, list)
    assert (UNSET, "V") == (breakdown[0].cost, breakdown[0].network)


def test_wrong_errors_list_is_left_out() -> None:
    """A top-level ``errors`` that is not a list reads as no errors."""
    result = SendResult(_with(("errors",), "oops"))
    assert ([], "oops") == (result.errors, result["errors"])


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
