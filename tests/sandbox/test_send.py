"""Sending: billing by parts and network, balance, opt-outs, scheduling, event ids, records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from helpers import Clock

from smsflow._sms import segments
from smsflow.testing import Sandbox

from .support import BALANCE, bearer, call, send, send_body, token

VODACOM, MTN, CELL_C, TELKOM, OTHER = (
    "27821234567",
    "27831234567",
    "27841234567",
    "27811234567",
    "447700900123",
)


def test_one_message() -> None:
    sandbox = Sandbox()
    reply = send(sandbox, send_body())
    assert reply.status == 200
    assert reply.json() == {
        "statusCode": 200,
        "sendResponse": {
            "cost": 0.25,
            "remainingBalance": 999.75,
            "eventId": 100001,
            "sample": "Order 1001 has shipped.",
            "messages": 1,
            "parts": 1,
            "costBreakdown": [{"quantity": 1, "cost": 0.25, "network": "Vodacom"}],
            "errorReport": [],
        },
        "errors": None,
    }
    assert sandbox.balance == 999.75
    [message] = sandbox.messages
    assert (message.event_id, message.destination, message.parts) == (100001, VODACOM, 1)
    assert (message.network, message.campaign, message.scheduled_for) == (
        "Vodacom",
        "Order dispatch alerts",
        None,
    )


@pytest.mark.parametrize(
    "content",
    [
        "a" * 160,
        "a" * 161,
        "a" * 306,
        "a" * 307,
        "é" * 70,
        "ç" * 71,
        "😀" * 35,
        "{" * 80,
        "x" * 1600,
    ],
)
def test_parts_follow_smsflow_sms_segments(content: str) -> None:
    sandbox = Sandbox()
    parts = segments(content).parts
    body = send(sandbox, send_body([(VODACOM, content)])).json()["sendResponse"]
    assert body["parts"] == parts
    assert body["cost"] == parts * 0.25
    assert body["costBreakdown"] == [
        {"quantity": parts, "cost": parts * 0.25, "network": "Vodacom"}
    ]
    assert sandbox.accepted_parts == parts


def test_cost_breakdown_per_network_in_order_of_appearance() -> None:
    sandbox = Sandbox(price_per_part={"Vodacom": 0.2, "MTN": 0.3, "Other": 1.1})
    messages = [
        (MTN, "a" * 161),  # 2 parts
        (VODACOM, "hi"),
        (OTHER, "hi"),
        (MTN, "hi"),
        (CELL_C, "hi"),  # not in the table: 0.25
        (TELKOM, "hi"),
        ("27721234567", "hi"),  # Vodacom
        ("27631234567", "hi"),  # MTN
    ]
    body = send(sandbox, send_body(messages)).json()["sendResponse"]
    assert body["costBreakdown"] == [
        {"quantity": 4, "cost": 1.2, "network": "MTN"},
        {"quantity": 2, "cost": 0.4, "network": "Vodacom"},
        {"quantity": 1, "cost": 1.1, "network": "Other"},
        {"quantity": 1, "cost": 0.25, "network": "Cell C"},
        {"quantity": 1, "cost": 0.25, "network": "Telkom"},
    ]
    assert body["cost"] == 3.2
    assert body["parts"] == 9
    assert body["messages"] == 8
    assert sandbox.balance == 996.8


def test_custom_network_prefixes() -> None:
    sandbox = Sandbox(network_prefixes={"264": "MTC Namibia", "26481": "MTC Premium"})
    body = send(sandbox, send_body([("264811234567", "a"), ("264601234567", "b")])).json()
    networks = [item["network"] for item in body["sendResponse"]["costBreakdown"]]
    assert networks == ["MTC Premium", "MTC Namibia"]


def test_event_ids_increase_per_accepted_request() -> None:
    sandbox = Sandbox()
    tok = token(sandbox)
    ids = [send(sandbox, send_body(), tok=tok).json()["sendResponse"]["eventId"] for _ in range(3)]
    assert ids == [100001, 100002, 100003]
    assert [e.event_id for e in sandbox.events] == ids
    assert sandbox.send_count == 3


@pytest.mark.parametrize("balance", [0.0, 0.74])
def test_insufficient_balance_sends_nothing(balance: float) -> None:
    sandbox = Sandbox(balance=balance)
    reply = send(sandbox, send_body([(VODACOM, "a"), (MTN, "b"), (CELL_C, "c")]))
    assert reply.status == 402
    [error] = reply.json()["errors"]
    assert error["code"] == "INSUFFICIENT_BALANCE"
    assert sandbox.balance == balance
    assert sandbox.accepted_count == 0
    assert sandbox.messages == []
    assert sandbox.events == []


def test_the_whole_balance_may_be_spent() -> None:
    sandbox = Sandbox(balance=0.75)
    reply = send(sandbox, send_body([(VODACOM, "a"), (MTN, "b"), (CELL_C, "c")]))
    assert reply.status == 200
    assert reply.json()["sendResponse"]["remainingBalance"] == 0.0
    assert send(sandbox, send_body()).status == 402


def test_balance_can_be_set_and_is_reported() -> None:
    sandbox = Sandbox()
    sandbox.balance = 12.5
    reply = call(sandbox, "GET", BALANCE, headers=bearer(token(sandbox)))
    assert reply.json() == {"balance": 12.5}


def test_opted_out_destinations_are_skipped_and_reported() -> None:
    sandbox = Sandbox(opt_outs=[MTN])
    sandbox.opt_out(CELL_C)
    body = send(sandbox, send_body([(MTN, "first"), (VODACOM, "second"), (CELL_C, "third")]))
    report = body.json()["sendResponse"]
    assert report["messages"] == 1
    assert report["sample"] == "second"
    assert report["cost"] == 0.25
    assert [(e["code"], e["field"]) for e in report["errorReport"]] == [
        ("OPTED_OUT", "messages[0].destination"),
        ("OPTED_OUT", "messages[2].destination"),
    ]
    assert [m.destination for m in sandbox.messages] == [VODACOM]
    assert sandbox.skipped_count == 2
    assert sandbox.events[0].skipped == 2


def test_opt_outs_are_sent_when_not_checked() -> None:
    sandbox = Sandbox(opt_outs=[MTN])
    report = send(sandbox, send_body([(MTN, "hi")], check_opt_outs=False)).json()["sendResponse"]
    assert (report["messages"], report["errorReport"]) == (1, [])


def test_all_opted_out_is_an_accepted_empty_event() -> None:
    sandbox = Sandbox(opt_outs=[MTN])
    report = send(sandbox, send_body([(MTN, "hi")])).json()["sendResponse"]
    assert report["messages"] == report["parts"] == 0
    assert report["cost"] == 0
    assert report["sample"] is None
    assert report["costBreakdown"] == []
    assert report["eventId"] == 100001


def test_opt_in() -> None:
    sandbox = Sandbox(opt_outs=[MTN])
    sandbox.opt_in(MTN, "27000000000")
    assert sandbox.opt_outs == frozenset()


def test_scheduled_send_is_accepted_and_recorded() -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock)
    future = datetime.fromtimestamp(clock.now, UTC).replace(microsecond=0) + timedelta(days=1)
    stamp = future.strftime("%Y-%m-%dT%H:%M:%SZ")  # the spec's form
    reply = send(sandbox, send_body(start=stamp))
    assert reply.status == 200
    assert sandbox.messages[0].scheduled_for == future
    assert sandbox.events[0].scheduled_for == future


@pytest.mark.invalid_requests  # offsets and fractions are off the spec's pattern (ASP.NET-lenient)
@pytest.mark.parametrize("stamp", ["2020-01-01T00:00:00Z", "2020-01-01t00:00:00.123456+02:00"])
def test_past_start_is_sent_now(stamp: str) -> None:
    sandbox = Sandbox()
    assert send(sandbox, send_body(start=stamp)).status == 200
    assert sandbox.messages[0].scheduled_for is None


def test_scheduled_edge_of_datetime_range() -> None:
    sandbox = Sandbox()
    assert send(sandbox, send_body(start="9999-12-31T23:59:59Z")).status == 200
    assert send(sandbox, send_body(start="1000-01-01T00:00:00Z")).status == 200  # the spec's range


@pytest.mark.invalid_requests  # offsets are off the spec's pattern (ASP.NET-lenient)
@pytest.mark.parametrize("stamp", ["9999-12-31T23:59:59.999999-23:59", "0001-01-01T00:00:00+23:59"])
def test_offset_leaving_the_datetime_range_in_the_servers_zone_is_refused(stamp: str) -> None:
    sandbox = Sandbox()
    reply = send(sandbox, send_body(start=stamp))
    assert reply.status == 400
    assert sandbox.accepted_count == 0
