"""send_bulk: validation, batches, one outcome per message, retries, stopping early (no journal).

Behaviour runs against the sandbox in-process (sync and async side by side); exact answer
scripts use the FakeApi of tests/helpers.py. Waits never really sleep: the client's ``sleep``
advances the clock the bulk run's gate reads.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Literal

import httpx
import pytest
from helpers import Clock, FakeApi, error

from smsflow import (
    BulkProgress,
    MessageOutcome,
    SmsFlowRateLimitError,
    SmsFlowValidationError,
)
from smsflow._bulk import BulkEngine
from smsflow._bulk_types import BulkSettings
from smsflow.testing import Sandbox, SandboxReply

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]


class Waits:
    """A sleep that never sleeps: it records each wait and advances the clock by it."""

    def __init__(self) -> None:
        self.clock = Clock(0.0)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def messages(count: int, start: int = 0) -> list[dict[str, str]]:
    """``count`` valid messages to distinct South African mobiles (already normalised)."""
    return [
        {"destination": f"2782{i:07d}", "content": f"Message {i}"}
        for i in range(start, start + count)
    ]


def pairs(items: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(m["destination"], m["content"]) for m in items]


def send(
    kind: Kind,
    source: Sandbox | FakeApi,
    items: Any,
    *,
    waits: Waits | None = None,
    client_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[list[MessageOutcome], BulkProgress]:
    """Run one send_bulk to the end with a sync or an async client; its outcomes and progress."""
    waits = waits if waits is not None else Waits()
    options.setdefault("clock", waits.clock)
    extra = dict(client_options or {})
    if kind == "sync":
        with source.client(sleep=waits.sleep, **extra) as client:
            with client.send_bulk("Campaign", items, **options) as run:
                outcomes = list(run)
            return outcomes, run.progress

    async def main() -> tuple[list[MessageOutcome], BulkProgress]:
        async with source.async_client(sleep=waits.async_sleep, **extra) as client:
            async with client.send_bulk("Campaign", items, **options) as run:
                outcomes = [outcome async for outcome in run]
            return outcomes, run.progress

    return asyncio.run(main())


def by_status(outcomes: list[MessageOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi() as fake:
        yield fake


# -- the happy path ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_every_valid_message_is_sent_once_with_one_outcome_per_input(kind: Kind) -> None:
    """1,234 valid messages among invalid ones: each valid one accepted once, each index once."""
    sandbox = Sandbox(balance=1e6)
    valid = messages(1234)
    items: list[Any] = list(valid)
    for position in (0, 500, 1000):
        items.insert(position, {"destination": "not a number", "content": "x"})
    outcomes, progress = send(kind, sandbox, items, batch_size=100, concurrency=3)
    assert list(range(len(items))) == sorted(o.index for o in outcomes)
    assert by_status(outcomes) == {"sent": 1234, "rejected": 3}
    assert sorted(o.index for o in outcomes if o.status == "rejected") == [0, 500, 1000]
    sandbox.assert_each_accepted_once(pairs(valid))
    assert (
        progress.sent,
        progress.rejected,
        progress.done,
        progress.finished,
    ) == (1234, 3, 1237, True)


def test_sent_outcomes_carry_their_batch_event_id_parts_and_cost() -> None:
    """A sent outcome names its batch's event id and cost, and its own SMS parts."""
    sandbox = Sandbox(balance=1e6)
    items = [*messages(3), {"destination": "27821234567", "content": "y" * 200}]
    outcomes, _ = send("sync", sandbox, items, batch_size=2, concurrency=1)
    events = {event.event_id: event for event in sandbox.events}
    last = next(o for o in outcomes if o.index == 3)
    assert (last.parts, last.batch) == (2, 1)
    for outcome in outcomes:
        event = events[outcome.event_id or 0]
        assert event.cost == outcome.batch_cost
    assert len({o.event_id for o in outcomes}) == 2


def test_batches_hold_batch_size_messages_in_input_order() -> None:
    """Valid messages are cut into requests of batch_size; the last one holds the rest."""
    sandbox = Sandbox(balance=1e6)
    send("sync", sandbox, messages(1234), batch_size=100, concurrency=1)
    assert [event.messages for event in sandbox.events] == [100] * 12 + [34]
    assert pairs(messages(1234)) == [(m.destination, m.content) for m in sandbox.messages]


# -- validation before sending -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "options", "code"),
    [
        ({"destination": "abc", "content": "Hi"}, {}, "INVALID_DESTINATION"),
        ({"destination": "021 123 4567", "content": "Hi"}, {}, "INVALID_DESTINATION"),
        ({"destination": "0821234567", "content": ""}, {}, "INVALID_CONTENT"),
        ({"destination": "0821234567", "content": "x" * 1601}, {}, "INVALID_CONTENT"),
        ({"destination": "0821234567", "content": "bad \ud800"}, {}, "INVALID_CONTENT"),
        ({"destination": "0821234567"}, {}, "INVALID_CONTENT"),
        ({"destination": "0821234567", "content": "Hi", "name": "Ann"}, {}, "INVALID_MESSAGE"),
        ("0821234567", {}, "INVALID_MESSAGE"),
        ({"destination": "0821234567", "content": "x" * 161}, {"max_parts": 1}, "TOO_MANY_PARTS"),
    ],
)
def test_invalid_messages_are_rejected_with_a_reason_and_never_sent(
    item: Any, options: dict[str, Any], code: str
) -> None:
    """An invalid message gets a rejected outcome with its index and reason; nothing is sent."""
    sandbox = Sandbox()
    outcomes, _ = send("sync", sandbox, [item], **options)
    [outcome] = outcomes
    assert (0, "rejected", code) == (outcome.index, outcome.status, outcome.code)
    assert outcome.reason is not None
    assert "messages[0]" in outcome.reason
    assert sandbox.send_count == 0


def test_a_rejected_message_keeps_its_destination_as_given() -> None:
    """The outcome of a rejected message shows the destination the user typed."""
    outcomes, _ = send("sync", Sandbox(), [{"destination": "082 12", "content": "Hi"}])
    assert outcomes[0].destination == "082 12"


def test_destinations_are_normalised_before_sending() -> None:
    """What people type (+27 82..., 082-...) is sent in the API's form 2782...."""
    sandbox = Sandbox()
    typed = ["+27 82 123 4567", "082-123-4568", "27821234569", "0027 82 123 4570"]
    outcomes, _ = send("sync", sandbox, [{"destination": d, "content": "Hi"} for d in typed])
    expected = ["27821234567", "27821234568", "27821234569", "27821234570"]
    assert expected == [m.destination for m in sandbox.messages]
    assert expected == [o.destination for o in sorted(outcomes, key=lambda o: o.index)]


def test_without_normalisation_destinations_are_sent_as_given() -> None:
    """normalize_destinations=False sends digits as given; other forms are rejected."""
    sandbox = Sandbox()
    items = [
        {"destination": "0821234567", "content": "Hi"},
        {"destination": "082 123 4567", "content": "Hi"},
    ]
    outcomes, _ = send("sync", sandbox, items, normalize_destinations=False)
    first, second = sorted(outcomes, key=lambda o: o.index)
    assert [m.destination for m in sandbox.messages] == ["0821234567"]
    assert (first.status, second.status, second.code) == ("sent", "rejected", "INVALID_DESTINATION")


def test_an_api_refusal_names_the_message_at_fault(api: FakeApi) -> None:
    """A 400 whose errors name messages[1] refuses the batch; that message lists the problem."""
    problem = {"code": "INVALID_DESTINATION", "message": "no", "field": "messages[1].destination"}
    body = {"statusCode": 400, "errors": [problem]}
    api.queue("send", httpx.Response(400, json=body))
    outcomes, _ = send("sync", api, messages(3))
    by_index = sorted(outcomes, key=lambda o: o.index)
    assert [(o.status, o.status_code, o.code) for o in by_index] == [
        ("refused", 400, "INVALID_DESTINATION")
    ] * 3
    assert [[p.field for p in o.problems] for o in by_index] == [
        [],
        ["messages[1].destination"],
        [],
    ]


def test_opted_out_recipients_are_reported_on_their_own_message() -> None:
    """An OPTED_OUT item of the errorReport lands in that message's problems only."""
    sandbox = Sandbox(opt_outs=["27820000001"])
    outcomes, _ = send("sync", sandbox, messages(3, start=0))
    problems = {o.index: [p.code for p in o.problems] for o in outcomes}
    assert problems == {0: [], 1: ["OPTED_OUT"], 2: []}


@pytest.mark.parametrize("kind", KINDS)
def test_opted_out_recipients_have_their_own_outcome_not_sent(kind: Kind) -> None:
    """A recipient the API skipped as opted out is ``opted_out``, not accepted, counted apart."""
    sandbox = Sandbox(opt_outs=["27820000001"])
    outcomes, progress = send(kind, sandbox, messages(3, start=0))
    by_index = {o.index: o for o in outcomes}
    assert ["sent", "opted_out", "sent"] == [by_index[i].status for i in range(3)]
    assert [True, False, True] == [by_index[i].accepted for i in range(3)]
    assert "OPTED_OUT" == by_index[1].code
    assert "27820000001" == by_index[1].destination
    assert (2, 1, 3) == (progress.sent, progress.opted_out, progress.done)
    assert 2 == sandbox.accepted_count


# -- send_sms follows the same phone-number policy -------------------------------------------


def test_send_sms_converts_a_national_number_with_the_default_country(api: FakeApi) -> None:
    """send_sms sends 0821234567 as 27821234567 (it used to go out unchanged)."""
    result = api.client().send_sms("c", [{"destination": "0821234567", "content": "Hi"}])
    assert api.sent_bodies()[0]["messages"][0]["destination"] == "27821234567"
    assert ("27821234567",) == result.destinations


@pytest.mark.parametrize("kind", KINDS)
def test_send_sms_normalises_destinations_when_asked(api: FakeApi, kind: Kind) -> None:
    """send_sms(normalize_destinations=True) sends 27821234567 for 082 123 4567."""
    items = [{"destination": "082 123 4567", "content": "Hi"}]
    if kind == "sync":
        api.client().send_sms("c", items, normalize_destinations=True)
    else:

        async def main() -> None:
            async with api.async_client() as client:
                await client.send_sms("c", items, normalize_destinations=True)

        asyncio.run(main())
    assert api.sent_bodies()[0]["messages"][0]["destination"] == "27821234567"


def test_send_sms_refuses_an_impossible_destination_when_normalising(api: FakeApi) -> None:
    """With normalisation on, a landline is refused before sending, naming the message."""
    items = [*messages(1), {"destination": "021 123 4567", "content": "Hi"}]
    with pytest.raises(SmsFlowValidationError) as info:
        api.client().send_sms("c", items, normalize_destinations=True)
    error_ = info.value
    assert (
        error_.code,
        error_.body["errors"][0]["field"],
    ) == ("INVALID_DESTINATION", "messages[1].destination")
    assert api.to("send") == []


# -- failures of a batch ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_503_makes_its_batch_unknown_and_is_not_retried(kind: Kind) -> None:
    """A 503 does not prove the API did not act: its batch is 'unknown' (code, status), not
    retried, and the other batches are still sent."""
    sandbox = Sandbox()
    sandbox.fail_next(1, endpoint="send", status=503)
    outcomes, _ = send(kind, sandbox, messages(20), batch_size=10, concurrency=1)
    unknown = [o for o in outcomes if o.status == "unknown"]
    assert list(range(10)) == sorted(o.index for o in unknown)
    assert {("SERVICE_UNAVAILABLE", 503)} == {(o.code, o.status_code) for o in unknown}
    assert [event.messages for event in sandbox.events] == [10]
    assert sum(1 for r in sandbox.requests if r.endpoint == "send") == 2


@pytest.mark.parametrize("kind", KINDS)
def test_retry_true_retries_a_503(kind: Kind) -> None:
    """With retry=True a 503 is retried and the batch is sent."""
    sandbox = Sandbox()
    sandbox.fail_next(1, endpoint="send", status=503)
    outcomes, _ = send(kind, sandbox, messages(20), batch_size=10, concurrency=1, retry=True)
    assert by_status(outcomes) == {"sent": 20}
    sandbox.assert_each_accepted_once(pairs(messages(20)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_response_is_unknown_and_never_retried(kind: Kind) -> None:
    """A batch whose answer was lost is 'unknown': accepted once, never sent again."""
    sandbox = Sandbox()
    sandbox.lose_response_next(1)
    outcomes, progress = send(kind, sandbox, messages(20), batch_size=10, concurrency=1)
    unknown = [o for o in outcomes if o.status == "unknown"]
    assert (list(range(10)), {"DELIVERY_UNKNOWN"}) == (
        sorted(o.index for o in unknown),
        {o.code for o in unknown},
    )
    assert progress.unknown == 10
    sandbox.assert_each_accepted_once(pairs(messages(20)))


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_after_processing_is_unknown(status: int) -> None:
    """A 502/504 may come after the API accepted the batch: its outcome is unknown."""
    sandbox = Sandbox()
    sandbox.fail_next(1, endpoint="send", status=status, processed=True)
    outcomes, _ = send("sync", sandbox, messages(5))
    assert {("unknown", status)} == {(o.status, o.status_code) for o in outcomes}
    assert sum(1 for r in sandbox.requests if r.endpoint == "send") == 1


def test_a_read_timeout_is_unknown() -> None:
    """A batch whose answer did not come in time is unknown (it was processed)."""
    sandbox = Sandbox(sleep=lambda _: None)
    sandbox.delay_next(1, seconds=5.0, endpoint="send")
    outcomes, _ = send("sync", sandbox, messages(5), timeout=1.0)
    assert {"unknown"} == {o.status for o in outcomes}
    sandbox.assert_each_accepted_once(pairs(messages(5)))


@pytest.mark.parametrize("kind", KINDS)
def test_a_429_is_waited_out_and_the_batch_sent(api: FakeApi, kind: Kind) -> None:
    """A 429 with Retry-After 7 is waited out (7 s) and the batch sent once."""
    api.queue("send", error(429, "RATE_LIMITED", Retry_After="7"))
    waits = Waits()
    outcomes, _ = send(kind, api, messages(3), waits=waits, batch_size=3)
    assert by_status(outcomes) == {"sent": 3}
    assert waits.slept == [7.0]
    assert len(api.to("send")) == 2


def test_a_refused_connection_is_retried(api: FakeApi) -> None:
    """A connection that never opened proves nothing was sent: the batch is retried."""
    api.queue("send", httpx.ConnectError("refused"), httpx.ConnectError("refused"))
    outcomes, _ = send("sync", api, messages(3), client_options={"random_source": lambda: 0.5})
    assert by_status(outcomes) == {"sent": 3}
    assert len(api.to("send")) == 3


def test_when_retries_run_out_the_batch_is_not_sent(api: FakeApi) -> None:
    """Three 429s with retries=2: the batch is 'not_sent' (RATE_LIMITED), safe to send again."""
    api.queue("send", *[error(429, "RATE_LIMITED", Retry_After="1") for _ in range(3)])
    outcomes, progress = send("sync", api, messages(3), retries=2)
    assert {("not_sent", "RATE_LIMITED")} == {(o.status, o.code) for o in outcomes}
    assert (progress.failed, len(api.to("send"))) == (3, 3)


def test_a_429_pauses_every_batch_of_the_run_not_just_its_own(api: FakeApi) -> None:
    """After one batch gets 429 Retry-After 7, another batch about to start waits 7 s too."""
    clock = Clock(0.0)
    with api.client() as client:
        settings = BulkSettings.build(
            campaign_name="c", start_delivery_utc=None, check_opt_outs=True, batch_size=1
        )
        engine = BulkEngine(client._core, settings, clock=clock)
        engine.start()
        _, first = engine.feed(messages(1)[0])
        _, second = engine.feed(messages(1, start=1)[0])
        assert first is not None
        assert second is not None
        flow_a = engine.batch_flow(first)
        assert not isinstance(next(flow_a), float)  # batch A is sent at once
        waited = flow_a.send(
            SmsFlowRateLimitError("slow", status_code=429, retryable=True, retry_after=7)
        )
        flow_b = engine.batch_flow(second)
        assert (waited, next(flow_b)) == (7.0, 7.0)
        engine.close()


# -- stopping early --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_insufficient_balance_stops_the_run_and_accounts_for_every_message(kind: Kind) -> None:
    """Credit for 250 messages: 2 batches sent, the 3rd refused, the other 700 not sent."""
    sandbox = Sandbox(balance=0.25 * 250)
    outcomes, progress = send(kind, sandbox, messages(1000), batch_size=100, concurrency=1)
    assert by_status(outcomes) == {"sent": 200, "refused": 100, "not_sent": 700}
    assert {"INSUFFICIENT_BALANCE"} == {o.code for o in outcomes if not o.accepted}
    assert (progress.stopped, progress.done) == ("INSUFFICIENT_BALANCE", 1000)
    assert sum(1 for r in sandbox.requests if r.endpoint == "send") == 3


@pytest.mark.parametrize("kind", KINDS)
def test_refused_credentials_stop_the_run_after_one_token_request(kind: Kind) -> None:
    """Wrong credentials: one token request, then every message is not_sent."""
    sandbox = Sandbox()
    outcomes, progress = send(
        kind, sandbox, messages(50), batch_size=10, client_options={"client_secret": "wrong"}
    )
    assert {("not_sent", "AUTHENTICATION_FAILED")} == {(o.status, o.code) for o in outcomes}
    assert (
        sandbox.token_requests,
        sandbox.send_count,
        progress.stopped,
    ) == (1, 0, "AUTHENTICATION_FAILED")


@pytest.mark.parametrize("kind", KINDS)
def test_closing_a_run_early_starts_no_new_batch(kind: Kind) -> None:
    """Stopping after the first outcome: no further batch is sent; the run says CANCELLED."""
    sandbox = Sandbox()
    if kind == "sync":
        with sandbox.client() as client:
            with client.send_bulk("c", messages(100), batch_size=10, concurrency=1) as run:
                first = next(run)
            progress = run.progress
    else:

        async def main() -> tuple[MessageOutcome, BulkProgress]:
            async with sandbox.async_client() as client:
                arun = client.send_bulk("c", messages(100), batch_size=10, concurrency=1)
                async with arun:
                    outcome = await anext(arun)
                return outcome, arun.progress

        first, progress = asyncio.run(main())
    assert first.status == "sent"
    assert (sandbox.send_count, progress.stopped) == (1, "CANCELLED")


# -- memory, progress, rate --------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_input_is_read_only_as_far_as_batches_in_flight_need(kind: Kind) -> None:
    """At most (concurrency + 1) batches of input are read ahead of the outcomes handed out."""
    sandbox = Sandbox(balance=1e6)
    read = 0
    ahead: list[int] = []

    def source() -> Iterator[dict[str, str]]:
        nonlocal read
        for item in messages(3000):
            read += 1
            yield item

    def consume(outcome: MessageOutcome) -> None:
        ahead.append(read - len(ahead) - 1)

    if kind == "sync":
        with sandbox.client() as client:
            for outcome in client.send_bulk("c", source(), batch_size=100, concurrency=3):
                consume(outcome)
    else:

        async def main() -> None:
            async with sandbox.async_client() as client:
                async for outcome in client.send_bulk("c", source(), batch_size=100, concurrency=3):
                    consume(outcome)

        asyncio.run(main())
    assert len(ahead) == 3000
    assert max(ahead) <= (3 + 1) * 100


def test_an_async_iterable_is_accepted() -> None:
    """The async client reads an async iterable (an async cursor) too."""
    sandbox = Sandbox()

    async def rows() -> AsyncIterator[dict[str, str]]:
        for item in messages(25):
            yield item

    outcomes, _ = send("async", sandbox, rows(), batch_size=10)
    assert by_status(outcomes) == {"sent": 25}


def test_progress_is_reported_after_each_batch_and_at_the_end() -> None:
    """on_progress gets growing counts after every batch, then a final finished report."""
    reports: list[BulkProgress] = []
    send(
        "sync", Sandbox(), messages(250), batch_size=100, concurrency=1, on_progress=reports.append
    )
    assert [r.sent for r in reports] == [100, 200, 250, 250]
    assert [r.finished for r in reports] == [False, False, False, True]
    assert (reports[-1].total, reports[-1].batches) == (250, 3)


def test_progress_rate_and_eta() -> None:
    """messages_per_second leaves out already-sent ones; eta divides what is left by it."""
    progress = BulkProgress(sent=300, already_sent=500, rejected=100, total=1400, elapsed=2.0)
    assert (progress.messages_per_second, progress.eta, progress.failed) == (200.0, 2.5, 0)
    assert BulkProgress(sent=1).eta is None


def test_a_messages_per_second_ceiling_spaces_the_batches() -> None:
    """1,000 messages at 100/s in batches of 100 wait 9 s in all (the first goes at once)."""
    waits = Waits()
    outcomes, _ = send(
        "sync",
        Sandbox(),
        messages(1000),
        waits=waits,
        batch_size=100,
        concurrency=1,
        messages_per_second=100,
    )
    assert by_status(outcomes) == {"sent": 1000}
    assert waits.slept == [1.0] * 9


# -- faults at scale ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_with_injected_faults_outcomes_add_up_and_nothing_is_accepted_twice(kind: Kind) -> None:
    """10% of batches get 429/503/lost answers: outcomes add up, unknown == the batches whose
    answer was lost or a 503 (which does not prove the batch was not processed)."""
    sandbox = Sandbox(balance=1e6)
    lost: set[str] = set()
    faults: dict[str, int] = {}

    def observe(
        method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        if reply.fault is None or not path.endswith("BulkMessages"):
            return
        key = f"{reply.fault}:{reply.status}"
        faults[key] = faults.get(key, 0) + 1
        if reply.fault == "lose_response" or reply.status >= 500:
            lost.update(m["destination"] for m in json.loads(body)["messages"])

    sandbox.add_observer(observe)
    sandbox.random_faults(0.1, kinds=("fail", "lose_response"), endpoint="send", seed=5)
    items = messages(4000)
    outcomes, progress = send(kind, sandbox, items, batch_size=20, concurrency=4)
    assert list(range(4000)) == sorted(o.index for o in outcomes)
    assert progress.done == 4000
    assert {"fail:429", "fail:503", "lose_response:200"} <= set(faults)
    assert sandbox.duplicate_count() == 0
    unknown = {o.destination for o in outcomes if o.status == "unknown"}
    assert lost == unknown
    accepted = {m.destination for m in sandbox.messages}
    sent = {o.destination for o in outcomes if o.status == "sent"}
    assert accepted <= sent | lost
    assert accepted >= sent
    assert [] == [o for o in outcomes if o.status == "refused"]
    assert {"SERVICE_UNAVAILABLE", "DELIVERY_UNKNOWN"} == {
        o.code for o in outcomes if o.status == "unknown"
    }


# -- arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 0},
        {"batch_size": 1001},
        {"concurrency": 0},
        {"retries": -1},
        {"max_parts": 0},
        {"messages_per_second": 0},
        {"messages_per_second": -1},
        {"messages_per_second": math.inf},
        {"messages_per_second": math.nan},
        {"messages_per_second": True},
        {"messages_per_second": "10"},
        {"default_country": "XX"},
        {"normalize_destinations": "yes"},
        {"journal": 42},
        {"on_progress": "print"},
        {"start_delivery_utc": "tomorrow"},
    ],
)
def test_invalid_arguments_raise_at_once(api: FakeApi, options: dict[str, Any]) -> None:
    """A bad setting raises SmsFlowValidationError when send_bulk is called, before any request."""
    with pytest.raises(SmsFlowValidationError):
        api.client().send_bulk("c", messages(1), **options)
    assert api.requests == []


@pytest.mark.parametrize("items", ["27821234567", b"x", {"destination": "1", "content": "2"}, 5])
def test_messages_must_be_an_iterable_of_messages(api: FakeApi, items: Any) -> None:
    """A string, a single dict or a number is refused at once (a common slip)."""
    with pytest.raises(SmsFlowValidationError) as info:
        api.client().send_bulk("c", items)
    assert info.value.code == "INVALID_MESSAGE"
