"""send_bulk's journal: a killed or stopped run resumes without sending a confirmed batch twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import FakeApi, send_json
from test_bulk import KINDS, Kind, by_status, messages, pairs, send

from smsflow import BulkProgress, MessageOutcome, SmsFlowClient, SmsFlowValidationError
from smsflow._journal import Journal
from smsflow.testing import Sandbox, SandboxReply, SandboxServer

# The bulk run the SIGKILL tests kill: argv = base URL, journal, count, batch size, concurrency.
CHILD = """
import sys
from smsflow import SmsFlowClient

url, journal = sys.argv[1], sys.argv[2]
count, batch_size, concurrency = (int(v) for v in sys.argv[3:6])
items = (
    {"destination": f"2782{i:07d}", "content": f"Message {i}"} for i in range(count)
)
with SmsFlowClient(
    client_id="sandbox-client", client_secret="sandbox-secret", base_url=url
) as client:
    for outcome in client.send_bulk(
        "Campaign", items, batch_size=batch_size, concurrency=concurrency, journal=journal
    ):
        pass
print("FINISHED")
"""


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


class KillAfter:
    """A sandbox observer that SIGKILLs ``child`` right after the n-th send it accepted."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.accepted = 0
        self.child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        if not path.endswith("/BulkMessages") or reply.status != 200:
            return
        with self._lock:
            self.accepted += 1
            if self.accepted == self.n and self.child is not None:
                self.child.kill()  # before the answer is written: the child never sees it


def run_child_until_killed(
    server: SandboxServer, journal: Path, count: int, batch_size: int, concurrency: int, n: int
) -> KillAfter:
    killer = KillAfter(n)
    server.sandbox.add_observer(killer)
    args = [str(v) for v in (server.url, journal, count, batch_size, concurrency)]
    with killer._lock:
        killer.child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", CHILD, *args], stdout=subprocess.PIPE
        )
    try:
        out, _ = killer.child.communicate(timeout=120)
    finally:
        killer.child.kill()
    assert killer.child.returncode == -signal.SIGKILL, out
    server.sandbox.remove_observer(killer)
    return killer


def resume(server: SandboxServer, journal: Path, count: int, **options: Any) -> list[Any]:
    with SmsFlowClient(
        client_id="sandbox-client", client_secret="sandbox-secret", base_url=server.url
    ) as client:
        return list(client.send_bulk("Campaign", messages(count), journal=journal, **options))


def test_a_run_killed_after_a_batch_resumes_and_every_message_is_accepted_once(
    tmp_path: Path,
) -> None:
    """SIGKILL right after the 3rd batch was accepted; the resumed run sends only the rest."""
    journal = tmp_path / "run.journal"
    with SandboxServer(Sandbox(balance=1e6)) as server:
        run_child_until_killed(server, journal, 1000, 100, 1, n=3)
        assert server.sandbox.accepted_count == 300
        outcomes = resume(server, journal, 1000, batch_size=100, concurrency=1)
        sandbox = server.sandbox
        sandbox.assert_each_accepted_once(pairs(messages(1000)))
        assert by_status(outcomes) == {"already_sent": 200, "unknown": 100, "sent": 700}
    event_ids = [e.event_id for e in sandbox.events]
    already = {o.batch: o.event_id for o in outcomes if o.status == "already_sent"}
    assert {0: event_ids[0], 1: event_ids[1]} == already
    assert {("INTERRUPTED", 2)} == {(o.code, o.batch) for o in outcomes if o.status == "unknown"}


def test_a_run_killed_with_batches_in_flight_never_sends_one_twice(tmp_path: Path) -> None:
    """Killed with 4 batches in flight: no message is accepted twice, none is lost unreported."""
    journal = tmp_path / "run.journal"
    count = 2000
    with SandboxServer(Sandbox(balance=1e6)) as server:
        run_child_until_killed(server, journal, count, 50, 4, n=6)
        outcomes = resume(server, journal, count, batch_size=50, concurrency=4)
        sandbox = server.sandbox
        accepted = {m.destination for m in sandbox.messages}
    assert sandbox.duplicate_count() == 0
    assert list(range(count)) == sorted(o.index for o in outcomes)
    missing = {m["destination"] for m in messages(count)} - accepted
    unknown = {o.destination for o in outcomes if o.status == "unknown"}
    assert missing <= unknown
    assert {o.destination for o in outcomes if o.accepted} <= accepted


@pytest.mark.parametrize("kind", KINDS)
def test_a_run_stopped_for_credit_resumes_after_a_top_up(tmp_path: Path, kind: Kind) -> None:
    """Out of credit after 2 batches; after a top-up the resumed run sends only the rest."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox(balance=0.25 * 250)
    first, progress = send(kind, sandbox, messages(1000), batch_size=100, journal=journal)
    assert progress.stopped == "INSUFFICIENT_BALANCE"
    sandbox.balance = 1e6
    second, _ = send(kind, sandbox, messages(1000), batch_size=100, journal=journal)
    assert by_status(second) == {"already_sent": 200, "sent": 800}
    sandbox.assert_each_accepted_once(pairs(messages(1000)))
    sent_first = {o.index: o.event_id for o in first if o.status == "sent"}
    assert sent_first == {o.index: o.event_id for o in second if o.status == "already_sent"}


def test_a_503_batch_is_unknown_and_sent_again_only_when_asked(tmp_path: Path) -> None:
    """A batch answered 503 may have been processed: a resume reports it unknown and skips
    it; resend_unknown=True sends it."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    sandbox.fail_next(1, endpoint="send", status=503)
    first, _ = send("sync", sandbox, messages(30), batch_size=10, journal=journal)
    second, _ = send("sync", sandbox, messages(30), batch_size=10, journal=journal)
    third, _ = send(
        "sync", sandbox, messages(30), batch_size=10, journal=journal, resend_unknown=True
    )
    assert (by_status(first), by_status(second), by_status(third)) == (
        {"unknown": 10, "sent": 20},
        {"unknown": 10, "already_sent": 20},
        {"sent": 10, "already_sent": 20},
    )
    sandbox.assert_each_accepted_once(pairs(messages(30)))


def test_unknown_batches_are_skipped_on_resume_unless_asked(tmp_path: Path) -> None:
    """A batch whose answer was lost stays unknown on resume; resend_unknown=True sends it."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    sandbox.drop_next(1, endpoint="send")  # lost before the API processed it
    first, _ = send("sync", sandbox, messages(30), batch_size=10, journal=journal)
    second, _ = send("sync", sandbox, messages(30), batch_size=10, journal=journal)
    assert sandbox.accepted_count == 20
    third, _ = send(
        "sync", sandbox, messages(30), batch_size=10, journal=journal, resend_unknown=True
    )
    assert by_status(first) == {"unknown": 10, "sent": 20}
    assert by_status(second) == {"unknown": 10, "already_sent": 20}
    assert {"DELIVERY_UNKNOWN"} == {o.code for o in second if o.status == "unknown"}
    assert by_status(third) == {"sent": 10, "already_sent": 20}
    sandbox.assert_each_accepted_once(pairs(messages(30)))


def test_a_run_closed_early_resumes_where_it_stopped(tmp_path: Path) -> None:
    """Stopping iteration after the first batch, then resuming, sends every message once."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    with (
        sandbox.client() as client,
        client.send_bulk("Campaign", messages(50), batch_size=10, journal=journal) as run,
    ):
        next(run)
    second, _ = send("sync", sandbox, messages(50), batch_size=10, journal=journal)
    assert by_status(second) == {"already_sent": 10, "sent": 40}
    sandbox.assert_each_accepted_once(pairs(messages(50)))


def test_opted_out_recipients_stay_opted_out_on_resume(tmp_path: Path) -> None:
    """A resumed run reports an opted-out recipient of a sent batch as opted_out again."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox(opt_outs=["27820000003"])
    first, _ = send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    second, _ = send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    assert by_status(first) == {"sent": 19, "opted_out": 1}
    assert by_status(second) == {"already_sent": 19, "opted_out": 1}
    assert {3} == {o.index for o in second if o.status == "opted_out"}


@pytest.mark.parametrize("kind", KINDS)
def test_stop_keeps_every_finished_batch_and_resumes_without_duplicates(
    tmp_path: Path, kind: Kind
) -> None:
    """run.stop(): no new batch starts, batches in flight still hand out their outcomes, the
    rest are not_sent with the stop's code; a resume sends exactly those."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    seen: list[MessageOutcome] = []
    if kind == "sync":
        with (
            sandbox.client() as client,
            client.send_bulk(
                "Campaign", messages(100), batch_size=10, concurrency=3, journal=journal
            ) as run,
        ):
            for outcome in run:
                seen.append(outcome)
                if len(seen) == 15:
                    run.stop("INTERRUPTED", "stopped by the operator")
            progress = run.progress
    else:

        async def main() -> BulkProgress:
            async with (
                sandbox.async_client() as client,
            ):
                run = client.send_bulk(
                    "Campaign", messages(100), batch_size=10, concurrency=3, journal=journal
                )
                async with run:
                    async for outcome in run:
                        seen.append(outcome)
                        if len(seen) == 15:
                            run.stop("INTERRUPTED", "stopped by the operator")
                    return run.progress

        progress = asyncio.run(main())
    assert 100 == len(seen) == len({o.index for o in seen})
    accepted = {(o.destination, o.index) for o in seen if o.accepted}
    assert len(accepted) == sandbox.accepted_count < 100
    assert {"INTERRUPTED"} == {o.code for o in seen if not o.accepted}
    assert ("INTERRUPTED", progress.sent) == (progress.stopped, sandbox.accepted_count)
    second, _ = send("sync", sandbox, messages(100), batch_size=10, journal=journal)
    assert by_status(second) == {"already_sent": len(accepted), "sent": 100 - len(accepted)}
    sandbox.assert_each_accepted_once(pairs(messages(100)))


def test_a_changed_input_is_refused_before_its_batch_is_sent(tmp_path: Path) -> None:
    """Resuming with other messages raises JOURNAL_MISMATCH; the changed batch is not sent."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    changed = messages(20)
    changed[15]["content"] = "Something else"
    with pytest.raises(SmsFlowValidationError) as info:
        send("sync", sandbox, changed, batch_size=10, journal=journal)
    assert (info.value.code, sandbox.accepted_count) == ("JOURNAL_MISMATCH", 20)
    assert "batch 1" in info.value.message


@pytest.mark.parametrize(
    "options", [{"batch_size": 5}, {"max_parts": 2}, {"normalize_destinations": False}]
)
def test_other_settings_are_refused_before_anything_is_sent(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    """A journal written with other batch settings raises JOURNAL_MISMATCH at once."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    requests = sandbox.request_count
    options.setdefault("batch_size", 10)
    with pytest.raises(SmsFlowValidationError) as info:
        send("sync", sandbox, messages(20), journal=journal, **options)
    assert ("JOURNAL_MISMATCH", requests) == (info.value.code, sandbox.request_count)


def test_the_started_line_is_on_disk_before_the_request_is_sent(
    tmp_path: Path, api: FakeApi
) -> None:
    """When the send reaches the API, the journal already holds the batch's started line."""
    journal = tmp_path / "run.journal"
    seen: list[list[dict[str, Any]]] = []
    api.hold("send", lambda: seen.append(lines(journal)))  # while the send is at the API
    api.queue("send", httpx.Response(200, json=send_json(event_id=777)))
    send("sync", api, messages(3), journal=journal)
    assert [line.get("state") for line in seen[0][1:]] == ["started"]
    assert [line.get("state") for line in lines(journal)] == [None, "started", "sent"]
    assert lines(journal)[2] == {"batch": 0, "state": "sent", "event_id": 777, "cost": 0.25}


def test_a_torn_last_line_is_dropped_and_the_run_resumes(tmp_path: Path) -> None:
    """A line cut short by a kill is ignored (a torn 'started' means nothing was sent)."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    text = journal.read_text()
    kept = text.splitlines(keepends=True)[:3]  # header, batch 0 started and sent
    journal.write_text("".join(kept) + '{"batch": 1, "state": "sta')
    sandbox.reset()
    outcomes, _ = send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    assert by_status(outcomes) == {"already_sent": 10, "sent": 10}
    assert all(line.strip() for line in journal.read_text().splitlines())


def test_an_unreadable_journal_is_refused(tmp_path: Path) -> None:
    """A journal with a damaged line in the middle raises JOURNAL_CORRUPT, sends nothing."""
    journal = tmp_path / "run.journal"
    sandbox = Sandbox()
    send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    damaged = journal.read_text().splitlines()
    damaged[2] = "garbage"
    journal.write_text("\n".join(damaged) + "\n")
    with pytest.raises(SmsFlowValidationError) as info:
        send("sync", sandbox, messages(20), batch_size=10, journal=journal)
    assert (info.value.code, sandbox.accepted_count) == ("JOURNAL_CORRUPT", 20)


def test_a_journal_in_use_is_refused(tmp_path: Path) -> None:
    """Two runs cannot use one journal at once: the second raises JOURNAL_LOCKED."""
    journal = tmp_path / "run.journal"
    holder = Journal(journal, {"campaign_name": "Campaign"})
    holder.open()
    try:
        with pytest.raises(SmsFlowValidationError) as info:
            send("sync", Sandbox(), messages(5), journal=journal)
    finally:
        holder.close()
    assert info.value.code == "JOURNAL_LOCKED"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    with FakeApi() as fake:
        yield fake
