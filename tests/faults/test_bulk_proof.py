"""Issue 11, item 6: a bulk batch is ``not_sent`` or ``refused`` only when the answer proves
the API did not process it; otherwise it is ``unknown`` and a resumed run does not send it
again (unless ``resend_unknown=True``). Both clients, through the journal."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from smsflow import BulkProgress, MessageOutcome
from smsflow.testing import Sandbox, SandboxReply

COUNT: Final = 30
BATCH: Final = 10


def items(count: int = COUNT) -> list[dict[str, str]]:
    return [{"destination": f"2782{i:07d}", "content": f"Message {i}"} for i in range(count)]


def _sync_run(sandbox: Sandbox, journal: Path, **options: Any) -> list[MessageOutcome]:
    with (
        sandbox.client(sleep=options.pop("sleep", lambda s: None)) as client,
        client.send_bulk(
            "Campaign",
            items(options.pop("count", COUNT)),
            batch_size=BATCH,
            journal=journal,
            **options,
        ) as run,
    ):
        return list(run)


async def _async_bulk(sandbox: Sandbox, journal: Path, **options: Any) -> list[MessageOutcome]:
    sleep = options.pop("sleep", None)

    async def asleep(seconds: float) -> None:
        if sleep is not None:
            await asyncio.to_thread(sleep, seconds)

    async with (
        sandbox.async_client(sleep=asleep) as client,
        client.send_bulk(
            "Campaign",
            items(options.pop("count", COUNT)),
            batch_size=BATCH,
            journal=journal,
            **options,
        ) as run,
    ):
        return [outcome async for outcome in run]


def run_bulk(flavour: str, sandbox: Sandbox, journal: Path, **options: Any) -> list[MessageOutcome]:
    if flavour == "sync":
        return _sync_run(sandbox, journal, **options)
    return asyncio.run(_async_bulk(sandbox, journal, **options))


def statuses(outcomes: list[MessageOutcome]) -> Counter[str]:
    return Counter(o.status for o in outcomes)


def test_a_5xx_after_processing_is_unknown_and_not_resent(tmp_path: Path, flavour: str) -> None:
    """Default settings: a batch answered 500 after the API processed it is ``unknown``; a
    resume neither reports it as not sent nor sends it again."""
    sandbox = Sandbox(balance=10_000)
    sandbox.fail_next(1, endpoint="send", status=500, processed=True)
    journal = tmp_path / "run.journal"
    first = run_bulk(flavour, sandbox, journal)
    assert {"sent": COUNT - BATCH, "unknown": BATCH} == statuses(first)
    resumed = run_bulk(flavour, sandbox, journal)
    assert {"already_sent": COUNT - BATCH, "unknown": BATCH} == statuses(resumed)
    assert 0 == sandbox.duplicate_count()
    assert COUNT == sandbox.accepted_count


class ArmAfterFirstSend:
    """Sandbox observer: after the first accepted send, the next two sends fail: one with a
    500 after being processed, one with a 402. Sets ``refused_402`` when the 402 is out."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.armed = False
        self.refused_402 = threading.Event()
        self._lock = threading.Lock()

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        if not path.endswith("/BulkMessages"):
            return
        if reply.status == 402:
            self.refused_402.set()
        with self._lock:
            if reply.status == 200 and not self.armed:
                self.armed = True
                self.sandbox.fail_next(1, endpoint="send", status=500, processed=True)
                self.sandbox.fail_next(1, endpoint="send", status=402, code="INSUFFICIENT_BALANCE")


def test_a_processed_batch_retried_when_the_run_stops_is_unknown(
    tmp_path: Path, flavour: str
) -> None:
    """``retry=True``: a batch answered 500 after processing, waiting for its retry when
    another batch's 402 stops the run, is ``unknown`` (not ``not_sent``); a resume does not
    send it again."""
    sandbox = Sandbox(balance=10_000)
    arm = ArmAfterFirstSend(sandbox)
    sandbox.add_observer(arm)
    journal = tmp_path / "run.journal"
    stopped = threading.Event()

    def on_progress(progress: BulkProgress) -> None:
        if progress.stopped is not None:
            stopped.set()  # the run has stopped: the 500's retry wakes up to that

    first = run_bulk(
        flavour,
        sandbox,
        journal,
        count=4 * BATCH,
        retry=True,
        concurrency=2,
        on_progress=on_progress,
        sleep=lambda s: stopped.wait(5),
    )
    assert arm.refused_402.is_set()
    # batch 0 sent; one batch 500 after processing; one 402; the last never started
    assert {"sent": BATCH, "unknown": BATCH, "refused": BATCH, "not_sent": BATCH} == statuses(first)
    stopped = {o.code for o in first if o.status in ("refused", "not_sent")}
    assert {"INSUFFICIENT_BALANCE"} == stopped
    sandbox.remove_observer(arm)
    resumed = run_bulk(flavour, sandbox, journal, count=4 * BATCH)
    assert {"already_sent": BATCH, "unknown": BATCH, "sent": 2 * BATCH} == statuses(resumed)
    assert 0 == sandbox.duplicate_count()
    assert 4 * BATCH == sandbox.accepted_count
