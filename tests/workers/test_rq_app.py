"""``examples/rq_app.py`` under real RQ workers (a real redis-server, the loopback sandbox
server): 2 workers send 50 notifications; the same 50 dispatched again (new jobs, same
keys) send nothing twice and report the first event ids; one token for all work horses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from smsflow.testing import Sandbox, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
COUNT = 50  # RQ forks a work horse per job (~0.3 s each on 2 busy cores)


def _run_workers(env: dict[str, str], redis_url: str, workers: int = 2) -> None:
    """Burst workers: they exit once the queue is empty."""
    rq = str(Path(sys.executable).parent / "rq")
    procs = [
        subprocess.Popen(  # noqa: S603 - RQ's own CLI, fixed arguments
            [rq, "worker", "--burst", "--url", redis_url, "notifications"],
            cwd=EXAMPLES,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        assert 0 == proc.wait(timeout=180)


def test_rq_workers_send_each_notification_once(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each key is accepted once, across two dispatches of the same notifications."""
    sandbox = Sandbox(record_messages=True, balance=1_000_000)
    with SandboxServer(sandbox) as server:
        env = {
            **os.environ,
            "SMSFLOW_REDIS_URL": redis_url,
            "SMSFLOW_BASE_URL": server.url,
            "SMSFLOW_CLIENT_ID": "sandbox-client",
            "SMSFLOW_CLIENT_SECRET": "sandbox-secret",
            "SMSFLOW_MESSAGES_PER_SECOND": "1000",
            "PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(ROOT), str(ROOT / "generated")]),
        }
        for name in ("SMSFLOW_REDIS_URL", "SMSFLOW_BASE_URL"):
            monkeypatch.setenv(name, env[name])
        monkeypatch.syspath_prepend(str(EXAMPLES))
        sys.modules.pop("rq_app", None)
        import rq_app
        from rq import Queue

        notes = [
            (f"order-{i}-shipped", f"2782{i:07d}", f"Order {i} has shipped.") for i in range(COUNT)
        ]
        first = [rq_app.enqueue(*note) for note in notes]
        _run_workers(env, redis_url)
        queue = Queue("notifications", connection=Redis.from_url(redis_url))
        again = [
            queue.enqueue(rq_app.send_notification, *note, job_id=f"again-{note[0]}")
            for note in notes
        ]
        _run_workers(env, redis_url)
        for job in first + again:
            job.refresh()
        firsts = [job.return_value() for job in first]
        repeats = [job.return_value() for job in again]
    assert COUNT == sandbox.accepted_count
    assert 0 == sandbox.duplicate_count()
    assert {"sent"} == {r["status"] for r in firsts + repeats}
    assert [r["event_id"] for r in firsts] == [r["event_id"] for r in repeats]
    assert 1 == sandbox.token_requests  # every work horse used the one token in Redis
