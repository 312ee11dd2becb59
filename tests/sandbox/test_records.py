"""Records for assertions: requests, messages, events, fingerprints, bounds, reset, observers."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from helpers import Clock

from smsflow.testing import Sandbox, SandboxReply

from .support import BALANCE, SEND, bearer, call, send, send_body, token


def test_request_records() -> None:
    clock = Clock(100.0)
    sandbox = Sandbox(clock=clock)
    tok = token(sandbox)
    clock.advance(5)
    send(sandbox, send_body(), tok=tok)
    records = sandbox.requests
    assert [(r.method, r.path, r.endpoint, r.time, r.status) for r in records] == [
        ("GET", "/api/integration/authentication", "token", 100.0, 200),
        ("POST", SEND, "send", 105.0, 200),
    ]
    assert all(r.answered and r.fault is None for r in records)
    assert sandbox.request_count == 2


def test_message_and_event_records() -> None:
    sandbox = Sandbox()
    send(sandbox, send_body([("27821234567", "a"), ("27831234567", "b" * 200)], campaign="c1"))
    assert [(m.destination, m.content, m.parts, m.network) for m in sandbox.messages] == [
        ("27821234567", "a", 1, "Vodacom"),
        ("27831234567", "b" * 200, 2, "MTN"),
    ]
    [event] = sandbox.events
    assert (event.event_id, event.campaign, event.messages, event.parts, event.cost) == (
        100001,
        "c1",
        2,
        3,
        0.75,
    )
    assert (sandbox.accepted_count, sandbox.accepted_parts) == (2, 3)


def test_records_are_snapshots() -> None:
    sandbox = Sandbox()
    before = sandbox.requests
    token(sandbox)
    assert before == []
    assert len(sandbox.requests) == 1


def test_without_message_records_fingerprints_still_check_exactly_once() -> None:
    sandbox = Sandbox(record_messages=False)
    pairs = [(f"2782{i:07d}", f"Order {i}") for i in range(50)]
    tok = token(sandbox)
    send(sandbox, send_body(pairs[:30]), tok=tok)
    send(sandbox, send_body(pairs[30:]), tok=tok)
    assert sandbox.messages == []
    assert sandbox.accepted_count == 50
    sandbox.assert_each_accepted_once(pairs)
    assert sandbox.duplicate_count() == 0
    assert sandbox.accepted_times(*pairs[0]) == 1

    send(sandbox, send_body(pairs[:2]), tok=tok)
    assert sandbox.duplicate_count() == 2
    assert sandbox.accepted_times(*pairs[0]) == 2
    with pytest.raises(AssertionError, match="2 accepted more than once"):
        sandbox.assert_each_accepted_once(pairs)


def test_assert_each_accepted_once_reports_missing_and_unexpected() -> None:
    sandbox = Sandbox()
    send(sandbox, send_body([("27821234567", "a"), ("27821234567", "surprise")]))
    with pytest.raises(AssertionError) as caught:
        sandbox.assert_each_accepted_once([("27821234567", "a"), ("27821234567", "b")])
    text = str(caught.value)
    assert "1 never accepted" in text
    assert "1 accepted but not expected" in text
    assert "('27821234567', 'b')" in text
    with pytest.raises(AssertionError, match="1 never accepted") as caught:
        sandbox.assert_each_accepted_once(iter([("27821234567", "a"), ("27821234567", "b")]))
    assert "e.g." not in str(caught.value)  # a one-shot iterator: counts only
    with pytest.raises(AssertionError, match="1 pairs listed twice"):
        sandbox.assert_each_accepted_once(
            [("27821234567", "a")] * 2 + [("27821234567", "surprise")]
        )


def test_fingerprint_separates_fields() -> None:
    assert Sandbox.fingerprint("1", "23") != Sandbox.fingerprint("12", "3")


def test_records_are_bounded() -> None:
    sandbox = Sandbox(max_records=3)
    tok = token(sandbox)
    for _ in range(5):
        send(sandbox, send_body(), tok=tok)
    assert len(sandbox.requests) == 3
    assert [e.event_id for e in sandbox.events] == [100003, 100004, 100005]
    assert sandbox.request_count == 6
    assert sandbox.send_count == 5


def test_reset() -> None:
    sandbox = Sandbox(balance=5, opt_outs=["27831234567"])
    tok = token(sandbox)
    send(sandbox, send_body(), tok=tok)
    sandbox.opt_out("27841234567")
    sandbox.fail_next(3)
    sandbox.reset()
    assert sandbox.balance == 5
    assert sandbox.opt_outs == frozenset({"27831234567"})
    assert (sandbox.requests, sandbox.messages, sandbox.events) == ([], [], [])
    assert (sandbox.request_count, sandbox.accepted_count, sandbox.token_requests) == (0, 0, 0)
    assert sandbox.pending_faults() == 0
    assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 401  # tokens forgotten
    assert send(sandbox, send_body()).json()["sendResponse"]["eventId"] == 100001


def test_observers_see_every_exchange() -> None:
    seen: list[tuple[str, str, str | None, int]] = []

    def observer(
        method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        seen.append((method, path, headers.get("authorization", "")[:6], reply.status))

    def other(*args: object) -> None:
        seen.append(("other", "", None, 0))

    sandbox = Sandbox(observer=observer)
    sandbox.add_observer(other)
    token(sandbox)
    sandbox.remove_observer(other)
    call(sandbox, "GET", BALANCE + "?q=1", headers={"AUTHORIZATION": "Bearer x"})
    assert seen == [
        ("GET", "/api/integration/authentication", "Basic ", 200),
        ("other", "", None, 0),
        ("GET", BALANCE + "?q=1", "Bearer", 401),
    ]
    with pytest.raises(ValueError, match="x not in list"):
        sandbox.remove_observer(other)


def test_repr_is_short() -> None:
    assert repr(Sandbox()) == (
        "Sandbox(client_id='sandbox-client', balance=1000.0, requests=0, accepted=0)"
    )
