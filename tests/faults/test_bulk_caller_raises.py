"""Issue 11, item 11: when the caller's own code raises in the middle of a bulk run (the input
generator, or the ``on_progress`` callback), the error propagates, but every batch the API
accepted is journaled as sent first, so a resume reports it ``already_sent`` and sends only
the rest. And the journal's folder is ``fsync``'d after the journal file is created (a power
cut must not lose the file itself). Both clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from smsflow import BulkProgress, MessageOutcome
from smsflow.testing import Sandbox

COUNT: Final = 400
BATCH: Final = 10


class CallerError(Exception):
    """The caller's own failure."""


def items(fail_at: int | None = None) -> Iterator[dict[str, str]]:
    for i in range(COUNT):
        if i == fail_at:
            raise CallerError("the input broke")
        yield {"destination": f"2782{i:07d}", "content": f"Message {i}"}


def run_bulk(
    flavour: str,
    sandbox: Sandbox,
    journal: Path,
    source: Iterator[dict[str, str]],
    on_progress: Callable[[BulkProgress], None] | None = None,
) -> list[MessageOutcome]:
    options: dict[str, Any] = {
        "batch_size": BATCH,
        "concurrency": 8,
        "journal": journal,
        "on_progress": on_progress,
    }
    got: list[MessageOutcome] = []
    if flavour == "sync":
        with sandbox.client() as client, client.send_bulk("Campaign", source, **options) as run:
            got.extend(run)
        return got

    async def main() -> None:
        async with (
            sandbox.async_client() as client,
            client.send_bulk("Campaign", source, **options) as run,
        ):
            got.extend([outcome async for outcome in run])

    asyncio.run(main())
    return got


def journal_states(journal: Path) -> Counter[str]:
    last: dict[int, str] = {}
    for line in journal.read_text().splitlines()[1:]:
        data = json.loads(line)
        last[data["batch"]] = data["state"]
    return Counter(last.values())


def check_recovery(flavour: str, sandbox: Sandbox, journal: Path) -> None:
    accepted_batches = sandbox.accepted_count // BATCH
    assert accepted_batches >= 1
    assert accepted_batches == journal_states(journal)["sent"]
    resumed = run_bulk(flavour, sandbox, journal, items())
    statuses = Counter(o.status for o in resumed)
    assert {"already_sent": accepted_batches * BATCH, "sent": COUNT - accepted_batches * BATCH} == (
        statuses
    )
    assert 0 == sandbox.duplicate_count()
    assert COUNT == sandbox.accepted_count


class SlowSends:
    """Sandbox observer that holds each accepted send a moment, so batches are in flight
    when the caller's code raises."""

    def __init__(self) -> None:
        self.hold = threading.Event()

    def __call__(self, *args: Any) -> None:
        self.hold.wait(0.02)


def test_an_input_generator_that_raises(tmp_path: Path, flavour: str) -> None:
    """The generator's error propagates; every accepted batch is journaled sent."""
    sandbox = Sandbox(balance=1e6)
    sandbox.add_observer(SlowSends())
    journal = tmp_path / "run.journal"
    with pytest.raises(CallerError):
        run_bulk(flavour, sandbox, journal, items(fail_at=COUNT // 2 + 5))
    check_recovery(flavour, sandbox, journal)


def test_an_on_progress_callback_that_raises(tmp_path: Path, flavour: str) -> None:
    """The callback's error propagates; every accepted batch is journaled sent."""
    sandbox = Sandbox(balance=1e6)
    sandbox.add_observer(SlowSends())
    journal = tmp_path / "run.journal"

    def on_progress(progress: BulkProgress) -> None:
        if progress.batches >= 5:
            raise CallerError("the progress bar broke")

    with pytest.raises(CallerError):
        run_bulk(flavour, sandbox, journal, items(), on_progress)
    check_recovery(flavour, sandbox, journal)


def test_the_journal_folder_is_fsynced_after_the_file_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating a journal fsyncs its folder (the new directory entry reaches the disk)."""
    synced: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            synced.append((info.st_dev, info.st_ino))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    sandbox = Sandbox()
    journal = tmp_path / "run.journal"
    run_bulk("sync", sandbox, journal, iter(list(items())[:BATCH]))
    folder = tmp_path.stat()
    assert (folder.st_dev, folder.st_ino) in synced
