"""The timed rows: each function runs the clients of ``workloads.py`` against the front end and
returns raw samples (latencies, wall times, rates, bytes); ``report.py`` turns them into rows.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any, Final

import frontend
import httpx
import workloads
from harness import HERE, ROOT, Load, Sizes
from workloads import (
    CAMPAIGN,
    MESSAGE,
    RawAsync,
    RawSync,
    SmsFlowAsync,
    SmsFlowSync,
    async_latencies,
    sync_latencies,
)

from smsflow._config import DEFAULT_LIMITS

Calls = dict[str, dict[str, list[float]]]  # client -> operation -> latencies (s)


def per_call_rows(
    base: str, sizes: Sizes, loop: asyncio.AbstractEventLoop, load: Load
) -> tuple[Calls, dict[str, list[float]]]:
    """Latencies of get_balance and a one-message send; bulk wall times. Clients take turns."""
    basic = frontend.basic_header()
    one = [dict(MESSAGE)]
    bulk = workloads.batch(sizes.batch)
    requests = sizes.bulk_messages // sizes.batch
    raw = RawSync(base, basic)
    ours = SmsFlowSync(base, frontend.CLIENT_ID, frontend.CLIENT_SECRET)
    raw_a = loop.run_until_complete(RawAsync.create(base, basic))
    ours_a = SmsFlowAsync(base, frontend.CLIENT_ID, frontend.CLIENT_SECRET)
    sync_clients: dict[str, workloads.SyncBench] = {"raw": raw, "smsflow": ours}
    async_clients: dict[str, workloads.AsyncBench] = {"raw_async": raw_a, "smsflow_async": ours_a}
    calls: Calls = {name: {"balance": [], "send1": []} for name in [*sync_clients, *async_clients]}
    walls: dict[str, list[float]] = {name: [] for name in calls}

    def sync_ops(client: workloads.SyncBench) -> dict[str, Callable[[], Any]]:
        return {"balance": client.get_balance, "send1": lambda: client.send(one)}

    def async_ops(client: workloads.AsyncBench) -> dict[str, Callable[[], Awaitable[Any]]]:
        return {"balance": client.get_balance, "send1": lambda: client.send(one)}

    try:
        accepted = ours.send(bulk)["sendResponse"]["messages"]
        if accepted != len(bulk):
            raise RuntimeError(f"a bulk request of {len(bulk)} was answered with {accepted}")
        for op in ("balance", "send1"):
            for client in sync_clients.values():
                sync_latencies(sync_ops(client)[op], sizes.warmup)
            for aclient in async_clients.values():
                loop.run_until_complete(async_latencies(async_ops(aclient)[op], sizes.warmup))
            share = sizes.calls // sizes.rounds
            with load.measure(op):
                for round_no in range(sizes.rounds):
                    order = _rotate(list(calls), round_no)
                    for name in order:
                        if name in sync_clients:
                            calls[name][op] += sync_latencies(
                                sync_ops(sync_clients[name])[op], share
                            )
                        else:
                            coro = async_latencies(async_ops(async_clients[name])[op], share)
                            calls[name][op] += loop.run_until_complete(coro)
        with load.measure("bulk"):
            for rep in range(sizes.bulk_reps):
                for name in _rotate(list(calls), rep):
                    started = time.perf_counter()
                    if name in sync_clients:
                        client = sync_clients[name]
                        for _ in range(requests):
                            client.send(bulk)
                    else:
                        loop.run_until_complete(_async_bulk(async_clients[name], bulk, requests))
                    walls[name].append(time.perf_counter() - started)
    finally:
        raw.close()
        ours.close()
        loop.run_until_complete(raw_a.aclose())
        loop.run_until_complete(ours_a.aclose())
    return calls, walls


def _rotate(names: list[str], by: int) -> list[str]:
    by %= len(names)
    return names[by:] + names[:by]


async def _async_bulk(client: workloads.AsyncBench, bulk: list[dict[str, str]], n: int) -> None:
    for _ in range(n):
        await client.send(bulk)


async def _throughput(call: Callable[[], Awaitable[Any]], total: int, concurrency: int) -> float:
    each = total // concurrency

    async def worker() -> None:
        for _ in range(each):
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return each * concurrency / (time.perf_counter() - started)


#: Pools the throughput rows use, the same for both clients: 20 connections (the target rows)
#: and smsflow's default of 100 (information: httpcore's pool bookkeeping dominates there, see
#: docs/performance.md).
POOLS: Final = {
    "pool 20": httpx.Limits(max_connections=20, max_keepalive_connections=20),
    "pool 100": DEFAULT_LIMITS,
}
Rates = dict[str, dict[str, dict[str, list[float]]]]  # pool -> client -> operation -> calls/s


def throughput_rows(base: str, sizes: Sizes, loop: asyncio.AbstractEventLoop, load: Load) -> Rates:
    """Calls per second with ``concurrency`` tasks sharing one async client, per pool size.

    Each measurement uses a new client (the same pool limits for both), warmed by one wave of
    ``concurrency`` calls (token, connections), so each starts from the same state.
    """
    basic = frontend.basic_header()
    one = [dict(MESSAGE)]
    names = ("raw_async", "smsflow_async")
    out: Rates = {}

    async def measure(name: str, op: str, limits: httpx.Limits) -> float:
        client: workloads.AsyncBench = (
            await RawAsync.create(base, basic, limits=limits)
            if name == "raw_async"
            else SmsFlowAsync(base, frontend.CLIENT_ID, frontend.CLIENT_SECRET, limits=limits)
        )
        try:
            call: Callable[[], Awaitable[Any]] = (
                client.get_balance if op == "balance" else lambda: client.send(one)
            )
            await _throughput(call, sizes.concurrency, sizes.concurrency)
            return await _throughput(call, sizes.concurrent_calls, sizes.concurrency)
        finally:
            await client.aclose()

    for pool, limits in POOLS.items():
        rates = out[pool] = {n: {"balance": [], "send1": []} for n in names}
        for op in ("balance", "send1"):
            with load.measure(f"throughput {op} {pool}"):
                for rep in range(sizes.throughput_reps):
                    for name in _rotate(list(names), rep):
                        rates[name][op].append(loop.run_until_complete(measure(name, op, limits)))
    return out


Memory = dict[str, dict[str, dict[int, float]]]  # client -> "peak"/"kept" -> messages -> bytes


def memory_rows(base: str, sizes: Sizes, loop: asyncio.AbstractEventLoop) -> Memory:
    """Traced memory while sending N messages in requests of ``batch``, per client.

    ``peak``: the highest traced memory above the start (transient: bodies, answers, and the
    cyclic garbage httpcore leaves per request until the collector runs). ``kept``: what is
    still allocated after the sends and a ``gc.collect()`` (what accumulates per message).
    """
    basic = frontend.basic_header()
    bulk = workloads.batch(sizes.batch)
    out: Memory = {}

    def record(name: str, total: int, send_all: Callable[[], None]) -> None:
        gc.collect()
        tracemalloc.start()
        send_all()
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        entry = out.setdefault(name, {"peak": {}, "kept": {}})
        entry["peak"][total], entry["kept"][total] = float(peak), float(kept)

    sync_clients: dict[str, workloads.SyncBench] = {
        "raw": RawSync(base, basic),
        "smsflow": SmsFlowSync(base, frontend.CLIENT_ID, frontend.CLIENT_SECRET),
    }
    async_clients: dict[str, workloads.AsyncBench] = {
        "raw_async": loop.run_until_complete(RawAsync.create(base, basic)),
        "smsflow_async": SmsFlowAsync(base, frontend.CLIENT_ID, frontend.CLIENT_SECRET),
    }
    try:
        for total in (sizes.memory_small, sizes.memory_large):
            requests = max(1, total // sizes.batch)
            for name, client in sync_clients.items():
                client.send(bulk)  # warm: token, connection

                def send_sync(client: workloads.SyncBench = client, n: int = requests) -> None:
                    for _ in range(n):
                        client.send(bulk)

                record(name, total, send_sync)
            for name, aclient in async_clients.items():
                loop.run_until_complete(aclient.send(bulk))

                def send_async(aclient: workloads.AsyncBench = aclient, n: int = requests) -> None:
                    loop.run_until_complete(_async_bulk(aclient, bulk, n))

                record(name, total, send_async)
    finally:
        for client in sync_clients.values():
            client.close()
        for aclient in async_clients.values():
            loop.run_until_complete(aclient.aclose())
    return out


def import_rows(samples: int, vendor_python: str | None) -> dict[str, list[float]]:
    """Seconds to import each module in a fresh interpreter (samples interleaved).

    With bytecode cached, as after ``pip install``: ``PYTHONDONTWRITEBYTECODE`` is dropped and
    the caches go to a temporary ``PYTHONPYCACHEPREFIX`` (nothing is written into the checkout),
    filled by one untimed import of each module first.
    """
    code = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    runs: list[tuple[str, list[str]]] = [
        ("httpx", [sys.executable, "-c", code.format("httpx")]),
        ("smsflow", [sys.executable, "-c", code.format("smsflow")]),
    ]
    if vendor_python is not None:
        runs.append(("vendor", [vendor_python, "-I", "-c", code.format("smsflow")]))
    out: dict[str, list[float]] = {name: [] for name, _ in runs}
    with tempfile.TemporaryDirectory(prefix="smsflow-bench-pycache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for sample in range(samples + 1):  # the first round only fills the bytecode cache
            for name, command in runs:
                done = subprocess.run(  # noqa: S603 - fixed commands, no shell
                    command,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env=env,
                    timeout=60,
                )
                if sample > 0:
                    out[name].append(float(done.stdout.strip()))
    return out


def vendor_rows(vendor_python: str, base: str, sizes: Sizes, load: Load) -> dict[str, Any] | str:
    """The vendor 0.2.0 client's latencies and bulk walls, or why they are missing."""
    settings = {
        "base_url": base,
        "client_id": frontend.CLIENT_ID,
        "client_secret": frontend.CLIENT_SECRET,
        "campaign": CAMPAIGN,
        "message": dict(MESSAGE),
        "batch": workloads.batch(sizes.batch),
        "warmup": sizes.warmup,
        "calls": sizes.calls,
        "bulk_requests": sizes.bulk_messages // sizes.batch,
        "bulk_reps": sizes.bulk_reps,
    }
    with load.measure("vendor"):
        done = subprocess.run(  # noqa: S603 - our own script in the vendor's venv, no shell
            [vendor_python, "-I", str(HERE / "vendor_worker.py"), json.dumps(settings)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return f"vendor worker failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
    if "error" in result:
        return str(result["error"])
    return result
