"""Volume through the loopback server: many keep-alive clients, many messages, exact billing.

The normal run sends 20,000 messages; ``pytest -m slow`` runs the full million (2,000 requests
of 500 messages from 16 threads; skipped unless ``-m`` names ``slow``). Contract validation is
detached here (it would dominate the run); every other test validates every exchange.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from contract.observer import ContractObserver

from smsflow.testing import Sandbox, SandboxServer

from .support import SEND, TOKEN, basic, bearer, send_body

THREADS = 16


def run_soak(requests: int, batch: int, contract_observer: ContractObserver) -> float:
    sandbox = Sandbox(balance=requests * batch, record_messages=False, max_records=1000)
    sandbox.remove_observer(contract_observer)
    per_thread = requests // THREADS
    assert per_thread * THREADS == requests

    def worker(n: int) -> int:
        sent = 0
        with httpx.Client(base_url=server.url, timeout=30) as client:
            tok = client.get(TOKEN, headers=basic()).json()["token"]
            headers = {**bearer(tok), "Content-Type": "application/json"}
            for r in range(per_thread):
                first = (n * per_thread + r) * batch
                pairs = [(f"27{first + i:09d}", f"Message {first + i}") for i in range(batch)]
                response = client.post(SEND, headers=headers, content=json.dumps(send_body(pairs)))
                assert response.status_code == 200, response.text[:300]
                sent += response.json()["sendResponse"]["messages"]
        return sent

    started = time.perf_counter()
    with SandboxServer(sandbox) as server, ThreadPoolExecutor(THREADS) as pool:
        total = sum(pool.map(worker, range(THREADS)))
    elapsed = time.perf_counter() - started
    count = requests * batch
    assert total == sandbox.accepted_count == count
    assert sandbox.send_count == requests
    assert sandbox.balance == pytest.approx(count * 0.75)
    assert len(sandbox.requests) == min(1000, requests + THREADS)  # bounded
    assert sandbox.duplicate_count() == 0
    sandbox.assert_each_accepted_once((f"27{i:09d}", f"Message {i}") for i in range(count))
    return elapsed


def test_soak_through_the_server(contract_observer: ContractObserver) -> None:
    """Every message of a many-thread soak is billed and recorded exactly once: 20,000
    messages by default, a million with SMSFLOW_SANDBOX_SOAK=1000000 (about 15 s)."""
    total = int(os.environ.get("SMSFLOW_SANDBOX_SOAK", "20000"))
    batch = 500 if total >= 100_000 else 250
    elapsed = run_soak(
        requests=max(1, total // batch), batch=batch, contract_observer=contract_observer
    )
    print(f"\n{total:,} messages from {THREADS} threads: {elapsed:.1f} s")
