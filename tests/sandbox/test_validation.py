"""Send validation: 415 not JSON, 400 unparsable or out-of-range values, 422 wrong shape.

Every request here breaks the spec on purpose; the sandbox's answers are still validated.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from smsflow.testing import Sandbox

from .support import SEND, bearer, call, error_codes, send, send_body, token

pytestmark = pytest.mark.invalid_requests

GOOD = send_body()


def with_change(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(GOOD)
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


SHAPE_CASES = [
    ([], None),
    ("text", None),
    (with_change(("extra",), 1), "extra"),
    (with_change(("SendOptions",), KeyError), "SendOptions"),
    (with_change(("messages",), KeyError), "messages"),
    (with_change(("SendOptions",), []), "SendOptions"),
    (with_change(("SendOptions", "colour"), "red"), "SendOptions.colour"),
    (with_change(("SendOptions", "campaignName"), KeyError), "SendOptions.campaignName"),
    (with_change(("SendOptions", "campaignName"), 5), "SendOptions.campaignName"),
    (with_change(("SendOptions", "checkOptOuts"), KeyError), "SendOptions.checkOptOuts"),
    (with_change(("SendOptions", "checkOptOuts"), 1), "SendOptions.checkOptOuts"),
    (with_change(("SendOptions", "checkOptOuts"), "true"), "SendOptions.checkOptOuts"),
    (with_change(("SendOptions", "startDeliveryUtc"), KeyError), "SendOptions.startDeliveryUtc"),
    (with_change(("SendOptions", "startDeliveryUtc"), 1700000000), "SendOptions.startDeliveryUtc"),
    (with_change(("messages",), {"content": "x"}), "messages"),
    (with_change(("messages", 0), "27821234567"), "messages[0]"),
    (with_change(("messages", 0, "content"), KeyError), "messages[0].content"),
    (with_change(("messages", 0, "destination"), KeyError), "messages[0].destination"),
    (with_change(("messages", 0, "content"), None), "messages[0].content"),
    (with_change(("messages", 0, "destination"), 27821234567), "messages[0].destination"),
    (with_change(("messages", 0, "priority"), "high"), "messages[0].priority"),
]


@pytest.mark.parametrize(("body", "field"), SHAPE_CASES)
def test_wrong_shape_is_422(body: Any, field: str | None) -> None:
    sandbox = Sandbox()
    reply = send(sandbox, body)
    assert reply.status == 422
    assert error_codes(reply) == [("INVALID_REQUEST_SHAPE", field)]
    assert (sandbox.balance, sandbox.accepted_count, sandbox.send_count) == (1000.0, 0, 0)


VALUE_CASES = [
    (with_change(("messages", 0, "destination"), "0821234567x"), "INVALID_DESTINATION"),
    (with_change(("messages", 0, "destination"), "+27821234567"), "INVALID_DESTINATION"),
    (with_change(("messages", 0, "destination"), "1234567"), "INVALID_DESTINATION"),
    (with_change(("messages", 0, "destination"), "1" * 16), "INVALID_DESTINATION"),
    (
        with_change(
            ("messages", 0, "destination"),
            "\uff12\uff17\uff18\uff12\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        ),
        "INVALID_DESTINATION",
    ),
    (with_change(("messages", 0, "content"), ""), "INVALID_CONTENT"),
    (with_change(("messages", 0, "content"), "x" * 1601), "INVALID_CONTENT"),
]


@pytest.mark.parametrize(("body", "code"), VALUE_CASES)
def test_bad_message_values_are_400(body: Any, code: str) -> None:
    sandbox = Sandbox()
    reply = send(sandbox, body)
    assert reply.status == 400
    field = "destination" if code == "INVALID_DESTINATION" else "content"
    assert error_codes(reply) == [(code, f"messages[0].{field}")]
    assert sandbox.balance == 1000.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ((("SendOptions", "campaignName"), ""), "SendOptions.campaignName"),
        ((("SendOptions", "campaignName"), "c" * 256), "SendOptions.campaignName"),
        ((("SendOptions", "startDeliveryUtc"), "tomorrow"), "SendOptions.startDeliveryUtc"),
        (
            (("SendOptions", "startDeliveryUtc"), "2030-01-01T10:00:00"),
            "SendOptions.startDeliveryUtc",
        ),
        (
            (("SendOptions", "startDeliveryUtc"), "2030-01-01 10:00:00Z"),
            "SendOptions.startDeliveryUtc",
        ),
        (
            (("SendOptions", "startDeliveryUtc"), "2030-02-30T10:00:00Z"),
            "SendOptions.startDeliveryUtc",
        ),
        (
            (("SendOptions", "startDeliveryUtc"), "2030-01-01T10:00:00+24:00"),
            "SendOptions.startDeliveryUtc",
        ),
        (
            (("SendOptions", "startDeliveryUtc"), "2030-01-01T10:00:00Z\n"),
            "SendOptions.startDeliveryUtc",
        ),
        ((("messages",), []), "messages"),
    ],
)
def test_bad_option_values_are_400_invalid_request(
    change: tuple[tuple[Any, ...], Any], field: str
) -> None:
    sandbox = Sandbox()
    reply = send(sandbox, with_change(*change))
    assert reply.status == 400
    assert error_codes(reply) == [("INVALID_REQUEST", field)]


def test_campaign_limits_are_inclusive() -> None:
    sandbox = Sandbox()
    assert send(sandbox, send_body(campaign="c")).status == 200
    assert send(sandbox, send_body(campaign="c" * 255)).status == 200


def test_max_batch() -> None:
    sandbox = Sandbox(max_batch=3)
    three = [("27821234567", f"m{i}") for i in range(3)]
    assert send(sandbox, send_body(three)).status == 200
    reply = send(sandbox, send_body([*three, ("27821234567", "m3")]))
    assert reply.status == 400
    assert error_codes(reply) == [("INVALID_REQUEST", "messages")]
    assert sandbox.accepted_count == 3


def test_one_bad_message_rejects_the_whole_request() -> None:
    sandbox = Sandbox()
    messages = [("27821234567", "ok")] * 3 + [("123", "bad")] + [("27821234567", "ok")]
    reply = send(sandbox, send_body(messages))
    assert error_codes(reply) == [("INVALID_DESTINATION", "messages[3].destination")]
    assert sandbox.accepted_count == 0


def test_all_problems_are_listed_and_shape_errors_win() -> None:
    sandbox = Sandbox()
    body = send_body([("1", ""), ("27821234567", "ok")])
    assert error_codes(send(sandbox, body)) == [
        ("INVALID_CONTENT", "messages[0].content"),
        ("INVALID_DESTINATION", "messages[0].destination"),
    ]
    body["messages"].append({"content": 1, "destination": "27821234567"})
    reply = send(sandbox, body)
    assert reply.status == 422
    assert error_codes(reply) == [("INVALID_REQUEST_SHAPE", "messages[2].content")]


def test_error_list_is_capped() -> None:
    sandbox = Sandbox()
    reply = send(sandbox, send_body([("bad", "x")] * 1000))
    assert len(reply.json()["errors"]) == 100


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"]
)
def test_non_json_content_type_is_415(content_type: str | None) -> None:
    sandbox = Sandbox()
    headers = bearer(token(sandbox))
    if content_type is not None:
        headers["Content-Type"] = content_type
    reply = call(sandbox, "POST", SEND, headers=headers, body=b'{"a": 1}')
    assert reply.status == 415
    assert error_codes(reply) == [("UNSUPPORTED_MEDIA_TYPE", None)]


def test_json_content_type_with_parameters_is_fine() -> None:
    sandbox = Sandbox()
    headers = {**bearer(token(sandbox)), "Content-Type": "Application/JSON; charset=utf-8"}
    reply = call(sandbox, "POST", SEND, headers=headers, body=b"")
    assert reply.status == 400  # an empty body is not JSON, but the type was accepted


@pytest.mark.parametrize(
    "body", [b"", b"{", b"\xff\xfe", b'{"a": NaN}', b"[" * 100_000, b'{"SendOptions": Infinity}']
)
def test_unparsable_json_is_400(body: bytes) -> None:
    sandbox = Sandbox()
    headers = {**bearer(token(sandbox)), "Content-Type": "application/json"}
    reply = call(sandbox, "POST", SEND, headers=headers, body=body)
    assert reply.status == 400
    assert error_codes(reply) == [("INVALID_REQUEST", None)]


def test_authentication_comes_before_validation() -> None:
    sandbox = Sandbox()
    reply = call(sandbox, "POST", SEND, headers={"Content-Type": "text/plain"}, body=b"x")
    assert reply.status == 401
