"""The idempotency ledgers (SQLite, Redis, PostgreSQL) on real servers: claim, settle, expire,
and two processes racing on the same keys send each once."""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engines import make_ledger

from smsflow import Ledger, SmsFlowValidationError
from smsflow.testing import Sandbox, SandboxServer

ENGINES = ["sqlite", "redis", "postgres"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=ENGINES)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """(engine, location): a SQLite file, or the session's Redis / PostgreSQL URL."""
    engine = request.param
    if engine == "sqlite":
        return engine, str(tmp_path / "ledger.sqlite3")
    return engine, request.getfixturevalue(f"{engine}_url")


@pytest.fixture
def ledger_factory(where: tuple[str, str]) -> Callable[..., Ledger]:
    engine, location = where
    made: list[Ledger] = []

    def make(**options: Any) -> Ledger:
        ledger = make_ledger(engine, location, **options)
        made.append(ledger)
        return ledger

    yield make
    for ledger in made:
        ledger.close()


def test_first_claim_wins_and_completed_returns_the_stored_answer(ledger_factory) -> None:
    """The first claim wins; a later claim of the completed key gets the stored answer."""
    clock = Clock()
    first, second = ledger_factory(clock=clock), ledger_factory(clock=clock)
    claim = first.claim("order-1", "fp")
    assert "claimed" == claim.verdict
    assert "in_flight" == second.claim("order-1", "fp").verdict
    first.complete(claim, '{"sendResponse": {"eventId": 7}}')
    again = second.claim("order-1", "fp")
    assert ("completed", 7) == (again.verdict, again.entry.event_id)
    assert "completed" == second.claim("order-1", "fp", force=True).verdict  # never resent


def test_in_flight_then_unknown_when_the_lease_runs_out(ledger_factory) -> None:
    """A claim never settled reads in flight during its lease, then unknown; force takes it."""
    clock = Clock()
    ledger = ledger_factory(clock=clock, lease_s=60)
    ledger.claim("order-2", "fp")
    clock.now += 59
    busy = ledger.claim("order-2", "fp")
    assert ("in_flight", 1.0) == (busy.verdict, busy.retry_after)
    clock.now += 1
    assert "unknown" == ledger.claim("order-2", "fp").verdict
    assert "unknown" == ledger.get("order-2").status(clock.now)
    assert "claimed" == ledger.claim("order-2", "fp", force=True).verdict


def test_release_frees_the_key_and_unknown_sticks(ledger_factory) -> None:
    """A released key can be claimed again; one marked unknown cannot without force."""
    ledger = ledger_factory(clock=Clock())
    ledger.release(ledger.claim("a", "fp"))
    assert "claimed" == ledger.claim("a", "fp").verdict
    ledger.mark_unknown(ledger.claim("b", "fp"))
    assert "unknown" == ledger.claim("b", "fp").verdict


def test_keys_expire_after_the_ttl(ledger_factory) -> None:
    """A completed key is forgotten ttl_s after it completed: it can be claimed again."""
    clock = Clock()
    ledger = ledger_factory(clock=clock, ttl_s=3600)
    ledger.complete(ledger.claim("c", "fp"), '{"sendResponse": {"eventId": 1}}')
    clock.now += 3599
    assert "completed" == ledger.claim("c", "fp").verdict
    clock.now += 1
    assert ledger.get("c") is None
    assert "claimed" == ledger.claim("c", "fp").verdict


def test_a_key_reused_for_another_message_is_refused(ledger_factory) -> None:
    """The same key with another body fingerprint raises IDEMPOTENCY_KEY_REUSED."""
    ledger = ledger_factory(clock=Clock())
    ledger.claim("d", "fp-1")
    with pytest.raises(SmsFlowValidationError) as caught:
        ledger.claim("d", "fp-2")
    assert "IDEMPOTENCY_KEY_REUSED" == caught.value.code


def test_two_processes_racing_on_the_same_keys_send_each_once(where: tuple[str, str]) -> None:
    """Two processes send the same 40 keys at the same moment: each key is accepted once."""
    engine, location = where
    keys = [f"race-{i}" for i in range(40)]
    sandbox = Sandbox(record_messages=True)
    # 20 ms per send keeps each claim in flight long enough for the other process to see it.
    sandbox.add_observer(lambda method, path, *_: time.sleep(0.02) if "Bulk" in path else None)
    context = multiprocessing.get_context("spawn")
    with SandboxServer(sandbox) as server, context.Pool(2, initializer=_path) as pool:
        start_at = time.time() + 3.0
        jobs = [
            pool.apply_async(_race, (engine, location, server.url, keys, start_at))
            for _ in range(2)
        ]
        results = [job.get(timeout=120) for job in jobs]
    assert 40 == sandbox.accepted_count
    sandbox.assert_each_accepted_once([("27820000001", f"Notification {key}") for key in keys])
    events = {event.event_id for event in sandbox.events}
    for a, b in zip(*results, strict=True):
        answers = {a[1], b[1]}
        # both got the one event id, or one got it and the other was told it is in flight
        assert answers <= events | {"IDEMPOTENCY_IN_FLIGHT"}
        assert 1 == len(answers & events)


def _path() -> None:
    sys.path.insert(0, str(Path(__file__).parent))


def _race(*args: Any) -> Any:
    from racers import race

    return race(*args)
