"""The proof under a real engine: ``examples/celery_app.py`` with 4 worker processes, a real
Redis (broker, token store, rate limit) and a real PostgreSQL (the idempotency ledger), 5,000
notifications to the loopback sandbox server, one worker process SIGKILLed mid-run.

Afterwards: every notification was accepted exactly once, or its key is reported unknown (and
accepted at most once); one token request per token lifetime across all workers; the
account's messages per second never exceeded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from smsflow import PostgresLedger
from smsflow.testing import Sandbox, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOTIFICATIONS = int(os.environ.get("SMSFLOW_CELERY_NOTIFICATIONS", "5000"))
WORKERS = 4
RATE = 100.0  # the limit given to RedisRateLimit (messages/s) ...
ACCOUNT_LIMIT = 110.0  # ... under the account's limit, with headroom for arrival jitter
LEASE_S = 5.0
SEND_LATENCY_S = 0.01  # added to each send by the sandbox (a loopback API is unrealistically fast)
TOKEN_LIFETIME_MIN = 2  # renewed after 60 s (never sooner than 1 minute after issue)


def notification(i: int) -> tuple[str, str, str]:
    return f"order-{i}-shipped", f"2782{i:07d}", f"Order {i} has shipped."


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _settled(conninfo: str) -> dict[str, int]:
    """Keys per state, read straight from the ledger's table (cheap enough to poll)."""
    import psycopg

    counts: dict[str, int] = {}
    now = time.time()
    with psycopg.connect(conninfo) as conn:
        for (text,) in conn.execute("SELECT entry FROM smsflow_ledger WHERE entry IS NOT NULL"):
            from smsflow import LedgerEntry

            state = LedgerEntry.from_json(text).status(now)
            counts[state] = counts.get(state, 0) + 1
    return counts


@pytest.fixture
def env(redis_url: str, postgres_url: str) -> dict[str, str]:
    return {
        "SMSFLOW_REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/1",
        "CELERY_RESULT_BACKEND": redis_url.rsplit("/", 1)[0] + "/2",
        "SMSFLOW_LEDGER_URL": postgres_url,
        "SMSFLOW_MESSAGES_PER_SECOND": str(RATE),
        "SMSFLOW_LEDGER_LEASE_S": str(LEASE_S),
        "SMSFLOW_VISIBILITY_TIMEOUT_S": "30",
        "SMSFLOW_CLIENT_ID": "sandbox-client",
        "SMSFLOW_CLIENT_SECRET": "sandbox-secret",
    }


@pytest.mark.slow
def test_celery_workers_send_each_notification_once(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """5,000 notifications through 4 Celery worker processes, one SIGKILLed mid-run."""
    sandbox = Sandbox(
        record_messages=True, token_lifetime_minutes=TOKEN_LIFETIME_MIN, balance=1_000_000
    )
    victim = Victim(notification(NOTIFICATIONS // 5)[2])
    sandbox.add_observer(victim.observe)
    log_path = Path(os.environ.get("SMSFLOW_PROOF_LOG") or tmp_path / "celery-worker.log")
    with SandboxServer(sandbox) as server, log_path.open("wb") as log:
        env = {**env, "SMSFLOW_BASE_URL": server.url}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.syspath_prepend(str(EXAMPLES))
        sys.modules.pop("celery_app", None)
        import celery_app

        worker = subprocess.Popen(  # noqa: S603 - our interpreter, the example app
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "celery_app",
                "worker",
                f"--concurrency={WORKERS}",
                "--pool=prefork",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "-n",
                "proof@%h",
            ],
            cwd=EXAMPLES,
            env={
                **os.environ,
                **env,
                "PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(ROOT), str(ROOT / "generated")]),
            },
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            started = time.monotonic()
            tasks = [
                celery_app.send_notification.delay(*notification(i)) for i in range(NOTIFICATIONS)
            ]
            killed = victim.kill_sender(worker.pid)
            settled = _wait_until_settled(env["SMSFLOW_LEDGER_URL"], worker, sandbox)
            results = [task.get(timeout=60) for task in tasks]
            elapsed = time.monotonic() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            celery_app.app.close()
    _check(sandbox, env["SMSFLOW_LEDGER_URL"], settled, killed, elapsed, results)


class Victim:
    """Kills the worker process whose send of one chosen message the API has just accepted,
    before the answer reaches it: its task's outcome is truly unknown to the workers."""

    def __init__(self, content: str) -> None:
        self.content = content.encode()
        self.held = threading.Event()
        self.killed = threading.Event()

    def observe(self, method: str, path: str, headers: Any, body: bytes, reply: Any) -> None:
        if "Bulk" not in path:
            return
        if self.content in body and not self.held.is_set():
            self.held.set()  # accepted; hold the answer until the sender is dead
            self.killed.wait(30)
        else:
            time.sleep(SEND_LATENCY_S)

    def kill_sender(self, pid: int) -> int:
        """SIGKILL the worker process blocked on the held answer (the only one using no CPU
        while the others keep sending)."""
        assert self.held.wait(120), "the chosen message was never sent"
        before = {child: _cpu_ticks(child) for child in _children(pid)}
        time.sleep(1.5)
        idle = [child for child, ticks in before.items() if _cpu_ticks(child) == ticks]
        assert 1 == len(idle), f"cannot tell the sender among {before}: idle {idle}"
        os.kill(idle[0], signal.SIGKILL)
        self.killed.set()
        return idle[0]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_until_settled(
    conninfo: str, worker: subprocess.Popen[bytes], sandbox: Sandbox
) -> dict[str, int]:
    deadline = time.monotonic() + 240
    while True:
        counts = _settled(conninfo)
        if counts.get("completed", 0) + counts.get("unknown", 0) == NOTIFICATIONS:
            return counts
        assert worker.poll() is None, "the Celery worker exited"
        refused = [r for r in sandbox.requests if r.endpoint == "send" and r.status != 200]
        assert [] == refused, "the sandbox refused sends; see the worker log"
        assert time.monotonic() < deadline, f"not settled in time: {counts}"
        time.sleep(1.0)


def _check(
    sandbox: Sandbox,
    conninfo: str,
    settled: dict[str, int],
    killed: int,
    elapsed: float,
    results: list[dict[str, Any]],
) -> None:
    ledger = PostgresLedger(conninfo)
    by_key = {result["key"]: result for result in results}
    accepted: dict[tuple[str, str], list[int]] = {}
    for message in sandbox.messages:
        accepted.setdefault((message.destination, message.content), []).append(message.event_id)
    completed = unknown = unknown_accepted = 0
    for i in range(NOTIFICATIONS):
        key, destination, content = notification(i)
        entry = ledger.get(key)
        assert entry is not None, f"{key} has no outcome"
        times = accepted.get((destination, content), [])
        if entry.status(time.time()) == "completed":
            completed += 1
            assert [entry.event_id] == times, f"{key}: ledger {entry.event_id}, API {times}"
            assert ("sent", entry.event_id) == (by_key[key]["status"], by_key[key]["event_id"])
        else:
            unknown += 1
            unknown_accepted += len(times)
            assert len(times) <= 1, f"{key} unknown but accepted {len(times)} times"
            assert "unknown" == by_key[key]["status"]
    ledger.close()
    assert 0 == sandbox.duplicate_count()
    assert NOTIFICATIONS == completed + unknown
    assert completed + unknown_accepted == sandbox.accepted_count
    # the killed process's task: accepted by the API, its worker dead before it knew
    victim_key = notification(NOTIFICATIONS // 5)[0]
    assert "unknown" == by_key[victim_key]["status"]
    assert 1 == unknown  # only that one: every other task (redelivered or not) settled
    # one token request per token lifetime (renewed 60 s after issue) across all workers
    assert 1 <= sandbox.token_requests <= 1 + int(elapsed // 60)
    # the account's rate: the busiest second, as the API saw it
    times = sorted(event.time for event in sandbox.events)
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert busiest <= ACCOUNT_LIMIT
    report = (
        f"celery proof: {NOTIFICATIONS} notifications, {WORKERS} workers, killed pid {killed}; "
        f"completed {completed}, unknown {unknown} (accepted {unknown_accepted}), "
        f"duplicates {sandbox.duplicate_count()}, token requests {sandbox.token_requests}, "
        f"busiest second {busiest} messages (limit {RATE:g}/s), {elapsed:.1f} s, "
        f"settled {settled}"
    )
    print(report)
    with contextlib.suppress(OSError):
        Path(os.environ.get("SMSFLOW_PROOF_REPORT", os.devnull)).write_text(report + "\n")
