"""Soak: many messages through the loopback sandbox server with 10% random faults.

Both clients, through ``send_sms`` (one message per request, 8 at a time) and through
``send_bulk`` (batches of 10, 8 in flight). The sandbox injects a random fault into 10% of
all requests (token, send): error statuses (503, 429 with ``Retry-After: 0``), HTML pages,
broken and lost answers, resets, truncated bodies, answers that come too late or trickle in.
Every message must end with exactly one outcome, and the sandbox's records must agree with
it: nothing accepted twice (duplicated), nothing reported sent that was not accepted (lost),
nothing reported not sent that was accepted, no accepted message that is not ours
(unaccounted). Messages whose outcome was unknown are resolved against the sandbox and
counted both ways.

``SMSFLOW_SOAK`` sets the number of messages per run (default 2000; ``SMSFLOW_SOAK=10000``
for the full soak). Each run prints its counts (``pytest -s`` shows them).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import pytest
from contract.observer import ContractObserver
from faults.support import WakeableSleep, async_transport, quiesce, sync_transport

from smsflow import AsyncSmsFlowClient, SmsFlowClient, SmsFlowError
from smsflow.testing import Sandbox, SandboxServer

SOAK: Final = int(os.environ.get("SMSFLOW_SOAK", "2000"))
FAULT_RATE: Final = 0.1
KINDS: Final = (
    "fail",
    "html",
    "drop",
    "reset",
    "lose_response",
    "truncate",
    "malformed",
    "delay",
    "trickle",
)
TIMEOUT: Final = 0.3  # seconds: a delayed or trickling answer (0.6 s per pause) times out
FAULT_PAUSE: Final = 0.6
WORKERS: Final = 8
RETRIES: Final = 3

Outcome = Literal["sent", "not_sent", "unknown"]

pytestmark = pytest.mark.slow


@dataclass
class Tally:
    """What the client reported for each message, checked against the sandbox."""

    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    reported: int = 0  # outcomes reported (one per message, if nothing is unaccounted)

    def add(self, message: tuple[str, str], outcome: Outcome) -> None:
        """Record the outcome of one message."""
        self.reported += 1
        self.outcomes[message] = outcome


def soak_messages(n: int, tag: str) -> list[tuple[str, str]]:
    """``n`` distinct (destination, content) pairs."""
    return [(f"2782{i:07d}", f"Soak {tag} message {i}.") for i in range(n)]


def as_dicts(pairs: list[tuple[str, str]]) -> Iterator[dict[str, str]]:
    """The pairs as send_sms / send_bulk message dicts."""
    return ({"destination": d, "content": c} for d, c in pairs)


@pytest.fixture
def server(contract_observer: ContractObserver) -> Iterator[SandboxServer]:
    """A loopback sandbox server with 10% random faults on every endpoint.

    The contract observer is detached: validating 10,000 exchanges against the spec costs
    ~12 ms each; the fault matrix and the contract tests check the exchanges, this checks
    the accounting at volume.
    """
    sleep = WakeableSleep()
    sandbox = Sandbox(balance=1e9, sleep=sleep, max_records=10 * max(SOAK, 1000))
    sandbox.remove_observer(contract_observer)
    sandbox.random_faults(FAULT_RATE, kinds=KINDS, seed=20261124, delay_seconds=FAULT_PAUSE)
    with SandboxServer(sandbox) as running:
        try:
            yield running
        finally:
            quiesce(running, sleep)


def client_options(sandbox: Sandbox, server: SandboxServer) -> dict[str, Any]:
    """The clients' settings: retries on, a short timeout, no real sleeps."""
    return {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "base_url": server.url,
        "timeout": TIMEOUT,
        "retry_retries": RETRIES,
    }


def classify(error: SmsFlowError) -> Outcome:
    """An error's outcome for the message: unknown, or (proved) not sent."""
    return "unknown" if error.outcome_unknown else "not_sent"


def account(sandbox: Sandbox, pairs: list[tuple[str, str]], tally: Tally) -> dict[str, int]:
    """Reconcile the reported outcomes with what the sandbox accepted; return the counts."""
    accepted = Counter((m.destination, m.content) for m in sandbox.messages)
    ours = set(pairs)
    outcome = Counter(tally.outcomes.values())
    counts = {
        "messages": len(pairs),
        "requests": sandbox.request_count,
        "faults_injected": sum(1 for r in sandbox.requests if r.fault is not None),
        "sent": outcome["sent"],
        "not_sent": outcome["not_sent"],
        "unknown": outcome["unknown"],
        "unknown_accepted": sum(
            1 for p, o in tally.outcomes.items() if o == "unknown" and accepted[p] > 0
        ),
        "accepted": sum(accepted.values()),
        "duplicated": sum(n - 1 for n in accepted.values() if n > 1),
        "lost": sum(1 for p, o in tally.outcomes.items() if o == "sent" and accepted[p] == 0),
        "not_sent_but_accepted": sum(
            1 for p, o in tally.outcomes.items() if o == "not_sent" and accepted[p] > 0
        ),
        "unaccounted": (len(pairs) - len(tally.outcomes))
        + (tally.reported - len(pairs))
        + sum(n for p, n in accepted.items() if p not in ours),
    }
    kinds = Counter(r.fault for r in sandbox.requests if r.fault is not None)
    print(f"\nsoak counts: {counts}; faults by kind: {dict(kinds)}")
    return counts


def check(counts: dict[str, int]) -> None:
    """Nothing duplicated, lost, wrongly reported or unaccounted; faults were injected."""
    failures = {
        k: counts[k] for k in ("duplicated", "lost", "not_sent_but_accepted", "unaccounted")
    }
    assert {"duplicated": 0, "lost": 0, "not_sent_but_accepted": 0, "unaccounted": 0} == failures
    assert counts["sent"] + counts["not_sent"] + counts["unknown"] == counts["messages"]
    assert counts["faults_injected"] >= counts["requests"] * FAULT_RATE * 0.7  # ~10% of requests


def test_soak_send_sms_sync(server: SandboxServer) -> None:
    """SmsFlowClient.send_sms from 8 threads: every message accounted for, none twice."""
    sandbox = server.sandbox
    pairs = soak_messages(SOAK, "sync")
    tally = Tally()

    with SmsFlowClient(
        sleep=lambda s: None, transport=sync_transport(), **client_options(sandbox, server)
    ) as client:

        def send_one(pair: tuple[str, str]) -> tuple[tuple[str, str], Outcome]:
            try:
                client.send_sms("Soak", as_dicts([pair]))
            except SmsFlowError as error:
                return pair, classify(error)
            return pair, "sent"

        with ThreadPoolExecutor(WORKERS) as pool:
            for pair, outcome in pool.map(send_one, pairs):
                tally.add(pair, outcome)

    check(account(sandbox, pairs, tally))


def test_soak_send_sms_async(server: SandboxServer) -> None:
    """AsyncSmsFlowClient.send_sms from 8 tasks: every message accounted for, none twice."""
    sandbox = server.sandbox
    pairs = soak_messages(SOAK, "async")
    tally = Tally()

    async def no_sleep(seconds: float) -> None:
        return None

    async def main() -> None:
        queue = iter(pairs)
        async with AsyncSmsFlowClient(
            sleep=no_sleep, transport=async_transport(), **client_options(sandbox, server)
        ) as client:

            async def worker() -> None:
                for pair in queue:  # shared iterator: each pair is taken by one worker
                    try:
                        await client.send_sms("Soak", as_dicts([pair]))
                    except SmsFlowError as error:
                        tally.add(pair, classify(error))
                    else:
                        tally.add(pair, "sent")

            await asyncio.gather(*(worker() for _ in range(WORKERS)))

    asyncio.run(main())
    check(account(sandbox, pairs, tally))


BULK_STATUS: Final[dict[str, Outcome]] = {
    "sent": "sent",
    "refused": "not_sent",
    "not_sent": "not_sent",
    "unknown": "unknown",
}


def test_soak_send_bulk_sync(server: SandboxServer) -> None:
    """SmsFlowClient.send_bulk in batches of 10: one outcome per message, none sent twice."""
    sandbox = server.sandbox
    pairs = soak_messages(SOAK, "bulk-sync")
    tally = Tally()
    with (
        SmsFlowClient(
            sleep=lambda s: None, transport=sync_transport(), **client_options(sandbox, server)
        ) as client,
        client.send_bulk(
            "Soak", as_dicts(pairs), batch_size=10, concurrency=WORKERS, total=len(pairs)
        ) as run,
    ):
        for outcome in run:
            tally.add(pairs[outcome.index], BULK_STATUS[outcome.status])
    check(account(sandbox, pairs, tally))


def test_soak_send_bulk_async(server: SandboxServer) -> None:
    """AsyncSmsFlowClient.send_bulk in batches of 10: one outcome per message, none twice."""
    sandbox = server.sandbox
    pairs = soak_messages(SOAK, "bulk-async")
    tally = Tally()

    async def no_sleep(seconds: float) -> None:
        return None

    async def main() -> None:
        async with (
            AsyncSmsFlowClient(
                sleep=no_sleep, transport=async_transport(), **client_options(sandbox, server)
            ) as client,
            client.send_bulk(
                "Soak", as_dicts(pairs), batch_size=10, concurrency=WORKERS, total=len(pairs)
            ) as run,
        ):
            async for outcome in run:
                tally.add(pairs[outcome.index], BULK_STATUS[outcome.status])

    asyncio.run(main())
    check(account(sandbox, pairs, tally))
