"""Messages per second: one ``send_bulk`` process against a Celery queue of N workers.

Usage::

    python benchmarks/workers.py            # the full run (about 2 minutes on 2 cores)
    python benchmarks/workers.py --smoke    # tiny counts: proves it works, no verdict

The sandbox server (loopback) adds ``--latency`` seconds (default 0.05) to every send request,
as a real API across a network would. It starts a real redis-server (broker, token store,
ledger) in a temporary directory (``tests/workers/servers.py``), then measures:

* ``send_bulk``: one process, batches of 500, 4 requests in flight (the defaults);
* Celery, ``examples/celery_app.py``: one task (one request, one message) per notification,
  with an idempotency key in a ``RedisLedger``, for N = 1, 4 and 8 worker processes
  (``--concurrency``); the rate limit is set far above what they reach.

Each figure is messages accepted by the sandbox divided by the wall time from the first
dispatch to the last acceptance.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
EXAMPLES: Final = ROOT / "examples"
sys.path[:0] = [str(ROOT), str(ROOT / "generated"), str(EXAMPLES), str(ROOT / "tests" / "workers")]

from servers import redis_server  # noqa: E402 - the one way to start a test redis-server

from smsflow import SmsFlowClient  # noqa: E402
from smsflow.testing import Sandbox, SandboxServer  # noqa: E402


def latency_sandbox(latency: float) -> Sandbox:
    sandbox = Sandbox(record_messages=False, balance=100_000_000)
    sandbox.add_observer(lambda method, path, *_: time.sleep(latency) if "Bulk" in path else None)
    return sandbox


def bulk_rate(count: int, latency: float) -> float:
    """Messages/s of one send_bulk run of ``count`` messages."""
    sandbox = latency_sandbox(latency)
    items = [
        {"destination": f"2782{i:07d}", "content": f"Order {i} has shipped."} for i in range(count)
    ]
    with (
        SandboxServer(sandbox) as server,
        SmsFlowClient("sandbox-client", "sandbox-secret", base_url=server.url) as client,
    ):
        client.authenticate()
        started = time.perf_counter()
        with client.send_bulk("Bench", items) as run:
            sent = sum(1 for outcome in run if outcome.status == "sent")
        elapsed = time.perf_counter() - started
    assert sent == count, f"bulk sent {sent} of {count}"
    return count / elapsed


def celery_rate(workers: int, count: int, latency: float, redis_url: str) -> float:
    """Messages/s of ``count`` one-message tasks through ``workers`` Celery processes."""
    import redis

    redis.Redis.from_url(redis_url).flushall()
    sandbox = latency_sandbox(latency)
    with SandboxServer(sandbox) as server:
        env = {
            "SMSFLOW_REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/1",
            "SMSFLOW_MESSAGES_PER_SECOND": "100000",
            "SMSFLOW_BASE_URL": server.url,
            "SMSFLOW_CLIENT_ID": "sandbox-client",
            "SMSFLOW_CLIENT_SECRET": "sandbox-secret",
        }
        os.environ.update(env)
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
                f"--concurrency={workers}",
                "--pool=prefork",
                "--loglevel=ERROR",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=EXAMPLES,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:3])},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # warm up: every worker process forks, imports and fetches its client first
            for i in range(workers * 2):
                celery_app.send_notification.delay(f"warm-{i}", "27820000000", f"warm {i}")
            _wait(sandbox, workers * 2, 120)
            base = sandbox.accepted_count
            started = time.perf_counter()
            for i in range(count):
                celery_app.send_notification.delay(f"n-{i}", f"2782{i:07d}", f"Order {i}")
            _wait(sandbox, base + count, 600)
            elapsed = time.perf_counter() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
            celery_app.app.close()
    return count / elapsed


def _wait(sandbox: Sandbox, accepted: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while sandbox.accepted_count < accepted:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {sandbox.accepted_count} of {accepted} accepted")
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts, no verdict")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added per send")
    args = parser.parse_args(argv)
    per_worker = 5 if args.smoke else 100
    bulk_count = 2_000 if args.smoke else 50_000
    rows: list[tuple[str, Any]] = []
    rows.append(
        (f"send_bulk, 1 process ({bulk_count:,} messages)", bulk_rate(bulk_count, args.latency))
    )
    with redis_server() as redis:
        for workers in (1, 4) if args.smoke else (1, 4, 8):
            count = per_worker * workers
            rate = celery_rate(workers, count, args.latency, redis.url)
            rows.append((f"Celery, {workers} worker process(es) ({count:,} tasks)", rate))
    print(f"latency added per send request: {args.latency * 1000:.0f} ms; {os.cpu_count()} CPUs")
    for name, rate in rows:
        print(f"{name:<48} {rate:>10,.0f} messages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
