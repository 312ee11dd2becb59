"""send_bulk with per-message idempotency keys (a SqliteLedger): re-runs send nothing twice,
lost answers are unknown until forced, refusals free their keys, early close frees the rest.

Against the in-process sandbox, sync and async side by side; no network, no real sleep."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Literal

import pytest

from smsflow import MessageOutcome, SmsFlowValidationError, SqliteLedger
from smsflow.testing import Sandbox

Kind = Literal["sync", "async"]
KINDS: list[Kind] = ["sync", "async"]


def messages(count: int) -> list[dict[str, str]]:
    return [{"destination": f"2782{i:07d}", "content": f"Notification {i}"} for i in range(count)]


def key(index: int, message: Any) -> str:
    return f"notification-{index}"


def run(
    kind: Kind, sandbox: Sandbox, ledger: SqliteLedger | None, items: list[Any], **options: Any
) -> list[MessageOutcome]:
    """One send_bulk run to completion; outcomes sorted by input index."""
    options.setdefault("idempotency_key", key)
    options.setdefault("batch_size", 10)
    if kind == "sync":
        with (
            sandbox.client(ledger=ledger, sleep=lambda s: None) as client,
            client.send_bulk("Keys", items, **options) as bulk,
        ):
            return sorted(bulk, key=lambda o: o.index)

    async def main() -> list[MessageOutcome]:
        async def nap(seconds: float) -> None:
            return None

        async with (
            sandbox.async_client(ledger=ledger, sleep=nap) as client,
            client.send_bulk("Keys", items, **options) as bulk,
        ):
            return sorted([o async for o in bulk], key=lambda o: o.index)

    return asyncio.run(main())


def statuses(outcomes: list[MessageOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "ledger.sqlite3")


@pytest.mark.parametrize("kind", KINDS)
def test_a_rerun_sends_nothing_again(kind: Kind, ledger: SqliteLedger) -> None:
    """The same 35 keyed messages twice: sent once; the re-run reports each already_sent
    with the event id it was sent under."""
    sandbox = Sandbox()
    first = run(kind, sandbox, ledger, messages(35))
    second = run(kind, sandbox, ledger, messages(35))
    assert {"sent": 35} == statuses(first)
    assert {"already_sent": 35} == statuses(second)
    assert [o.event_id for o in first] == [o.event_id for o in second]
    assert 35 == sandbox.accepted_count


@pytest.mark.parametrize("kind", KINDS)
def test_a_lost_answer_leaves_its_keys_unknown_until_forced(
    kind: Kind, ledger: SqliteLedger
) -> None:
    """A batch whose answer is lost: its 10 keys are unknown on the re-run (not sent); with
    resend_unknown=True they are sent again (the caller checked the portal)."""
    sandbox = Sandbox()
    sandbox.lose_response_next(1)
    first = run(kind, sandbox, ledger, messages(20), concurrency=1)
    assert {"sent": 10, "unknown": 10} == statuses(first)
    second = run(kind, sandbox, ledger, messages(20))
    assert {"already_sent": 10, "unknown": 10} == statuses(second)
    assert {"IDEMPOTENCY_UNKNOWN"} == {o.code for o in second if o.status == "unknown"}
    assert 20 == sandbox.accepted_count
    third = run(kind, sandbox, ledger, messages(20), resend_unknown=True)
    assert {"already_sent": 10, "sent": 10} == statuses(third)


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_batch_frees_its_keys(kind: Kind, ledger: SqliteLedger) -> None:
    """No credit (402): nothing sent, the keys are released, the next run sends them all."""
    sandbox = Sandbox(balance=0)
    first = run(kind, sandbox, ledger, messages(20))
    assert {"refused", "not_sent"} >= {o.status for o in first}
    assert 0 == sandbox.accepted_count
    sandbox.balance = 100
    assert {"sent": 20} == statuses(run(kind, sandbox, ledger, messages(20)))


def test_closing_a_run_early_frees_the_keys_it_never_sent(ledger: SqliteLedger) -> None:
    """A run closed after its first batch: the keys claimed for batches never sent are free."""
    sandbox = Sandbox()
    with sandbox.client(ledger=ledger) as client:
        bulk = client.send_bulk("Keys", messages(40), batch_size=10, idempotency_key=key)
        with bulk:
            next(iter(bulk))
    outcomes = run("sync", sandbox, ledger, messages(40))
    sent_before = sandbox.accepted_count - statuses(outcomes).get("sent", 0)
    assert {"already_sent": sent_before, "sent": 40 - sent_before} == statuses(outcomes)
    assert 40 == sandbox.accepted_count


def test_two_runs_at_once_send_each_key_once(ledger: SqliteLedger, tmp_path: Path) -> None:
    """Two threads run the same keyed 200 messages at once (each its own ledger handle):
    each message is accepted once; what one skipped, the other sent."""
    sandbox = Sandbox()
    results: list[list[MessageOutcome]] = []
    start = threading.Barrier(2)

    def one() -> None:
        mine = SqliteLedger(tmp_path / "ledger.sqlite3")
        start.wait()
        results.append(run("sync", sandbox, mine, messages(200)))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert 200 == sandbox.accepted_count
    sandbox.assert_each_accepted_once([(m["destination"], m["content"]) for m in messages(200)])
    for a, b in zip(*results, strict=True):
        assert 1 == [a.status, b.status].count("sent")


def test_keys_need_a_ledger_and_exclude_a_journal(ledger: SqliteLedger, tmp_path: Path) -> None:
    """Keys without a ledger, or with a journal, or not a function: refused before sending."""
    sandbox = Sandbox()
    with sandbox.client() as client, pytest.raises(SmsFlowValidationError) as caught:
        client.send_bulk("Keys", messages(1), idempotency_key=key)
    assert "NO_LEDGER" == caught.value.code
    with sandbox.client(ledger=ledger) as client:
        with pytest.raises(SmsFlowValidationError):
            client.send_bulk(
                "Keys", messages(1), idempotency_key=key, journal=tmp_path / "run.journal"
            )
        with pytest.raises(SmsFlowValidationError):
            client.send_bulk("Keys", messages(1), idempotency_key="k")  # type: ignore[arg-type]
    assert 0 == sandbox.request_count


def test_a_bad_key_rejects_its_message_only(ledger: SqliteLedger) -> None:
    """A key function that fails or gives a non-str rejects that message; the rest go."""

    def bad_for_odd(index: int, message: Any) -> Any:
        if index == 1:
            raise KeyError("order_id")
        return None if index == 3 else f"k-{index}"

    outcomes = run("sync", Sandbox(), ledger, messages(5), idempotency_key=bad_for_odd)
    assert ["sent", "rejected", "sent", "rejected", "sent"] == [o.status for o in outcomes]
    assert {"INVALID_IDEMPOTENCY_KEY"} == {o.code for o in outcomes if o.status == "rejected"}


class ClaimFails(SqliteLedger):
    """A ledger that is down."""

    def claim(self, key: str, fingerprint: str, *, force: bool = False) -> Any:
        raise OSError("database is locked")


def test_a_ledger_that_is_down_leaves_messages_not_sent(tmp_path: Path) -> None:
    """The ledger cannot claim: every message is not_sent (LEDGER_UNAVAILABLE), none sent."""
    sandbox = Sandbox()
    outcomes = run("sync", sandbox, ClaimFails(tmp_path / "l.sqlite3"), messages(15))
    assert {"not_sent": 15} == statuses(outcomes)
    assert {"LEDGER_UNAVAILABLE"} == {o.code for o in outcomes}
    assert 0 == sandbox.accepted_count


def test_a_ledger_failing_after_a_batch_keeps_every_outcome(tmp_path: Path) -> None:
    """The ledger cannot record completions: the run still reports every message sent."""

    class CompleteFails(SqliteLedger):
        def complete(self, claim: Any, result: str) -> None:
            raise OSError("disk I/O error")

    sandbox = Sandbox()
    outcomes = run("sync", sandbox, CompleteFails(tmp_path / "l.sqlite3"), messages(15))
    assert {"sent": 15} == statuses(outcomes)
