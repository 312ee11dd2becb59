"""smsflow against hand-written httpx (and the vendor's smsflow 0.2.0), in one run.

Usage::

    python benchmarks/run.py            # the full run (about 3 minutes on 2 cores)
    python benchmarks/run.py --smoke    # tiny counts: proves it works (CI), no timing assertion
    python benchmarks/run.py --server sandbox   # every answer from the sandbox's handler

It starts the loopback front end (``benchmarks/frontend.py``, over the sandbox's handler) in its
own process pinned to CPU 1, pins itself to CPU 0, measures the server's ceiling with a
pipelined raw-socket client, then times, for raw httpx, smsflow sync and async (and the vendor's
0.2.0 when its venv exists: ``benchmarks/setup_vendor.sh``):

* median and p99 latency of ``get_balance`` and a one-message send over sequential calls,
  the clients taking turns in rounds so drift hits them alike;
* wall time for 100,000 messages in requests of 1,000 (median of the repetitions);
* throughput of 200 concurrent async calls;
* ``import`` time in a fresh interpreter (median of 10), ``smsflow`` next to ``httpx``;
* peak traced memory while sending 10,000 and 100,000 messages (it must stay flat).

Every ratio is to raw httpx in the same run. Exit code 0 unless the run itself fails (targets
that are missed are marked ``MISS``, not an error: timing on shared CI machines is noise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import resource
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
sys.path.insert(0, str(HERE))

import frontend  # noqa: E402 - a sibling script, found through the path set above
import workloads  # noqa: E402
from workloads import (  # noqa: E402
    CAMPAIGN,
    MESSAGE,
    RawAsync,
    RawSync,
    SmsFlowAsync,
    SmsFlowSync,
    async_latencies,
    sync_latencies,
)

from smsflow._config import DEFAULT_LIMITS  # noqa: E402

DEFAULT_VENDOR_PYTHON: Final = "/tmp/smsflow-vendor-0.2.0/bin/python"  # noqa: S108 - a venv path
KEPT_GROWTH_LIMIT: Final = 64 * 1024  # bytes more kept after 10x the messages: "flat"
CLIENT_CPU: Final = 0
SERVER_CPU: Final = 1


@dataclass(frozen=True)
class Sizes:
    """How much work each row does."""

    calls: int  # sequential calls per client and operation
    warmup: int  # untimed calls first
    rounds: int  # the clients take turns this many times
    bulk_messages: int
    batch: int
    bulk_reps: int
    concurrency: int
    concurrent_calls: int
    throughput_reps: int
    import_samples: int
    memory_small: int
    memory_large: int
    ceiling_requests: int


FULL: Final = Sizes(
    calls=2000,
    warmup=200,
    rounds=4,
    bulk_messages=100_000,
    batch=1000,
    bulk_reps=3,
    concurrency=200,
    concurrent_calls=1_000,
    throughput_reps=5,
    import_samples=10,
    memory_small=100_000,
    memory_large=1_000_000,
    ceiling_requests=20_000,
)
SMOKE: Final = Sizes(
    calls=40,
    warmup=5,
    rounds=2,
    bulk_messages=2_000,
    batch=1000,
    bulk_reps=1,
    concurrency=200,
    concurrent_calls=400,
    throughput_reps=1,
    import_samples=3,
    memory_small=2_000,
    memory_large=6_000,
    ceiling_requests=500,
)


# -- statistics -----------------------------------------------------------------------------


def median(values: list[float]) -> float:
    """The median (``nan`` for no values)."""
    return statistics.median(values) if values else math.nan


def p99(values: list[float]) -> float:
    """The 99th percentile by nearest rank (``nan`` for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


# -- the server process ---------------------------------------------------------------------


class Server:
    """``benchmarks/frontend.py`` in its own process; stops when this one closes its stdin."""

    def __init__(self, fast: bool) -> None:
        command = [sys.executable, str(HERE / "frontend.py"), "--port", "0"]
        if fast:
            command.append("--fast")
        if _can_pin():
            command += ["--cpu", str(SERVER_CPU)]
        self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30.0)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the front end did not start (said {line!r})")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (``nan`` where /proc is missing)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Ask it to stop (close its stdin); terminate it if it lingers."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


_CAN_PIN: Final = hasattr(os, "sched_setaffinity") and {CLIENT_CPU, SERVER_CPU} <= set(
    os.sched_getaffinity(0)
)


def _can_pin() -> bool:
    """Whether the client and the server can each have a CPU of their own (read at start)."""
    return _CAN_PIN


class Load:
    """Server CPU use during the timed rows: the busiest row shows the server was not the limit."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.rows: dict[str, float] = {}

    @contextlib.contextmanager
    def measure(self, row: str) -> Iterator[None]:
        """Record the server's busy fraction while the block runs."""
        cpu, wall = self.server.cpu_seconds(), time.perf_counter()
        yield
        elapsed = time.perf_counter() - wall
        if elapsed > 0:
            self.rows[row] = (self.server.cpu_seconds() - cpu) / elapsed


# -- server ceiling -------------------------------------------------------------------------


def _request_bytes(port: int, method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: application/json",
        f"Authorization: Bearer {token}",
    ]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def ceiling(port: int, request: bytes, total: int, depth: int = 32) -> float:
    """Requests per second one pipelining raw-socket connection gets answered (server limit).

    Keeps ``depth`` requests in flight; counts answers by their ``Content-Length``.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10.0) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = bytearray()
        sent = answered = 0
        started = time.perf_counter()
        while answered < total:  # bounded: each pass gets data or the 10 s timeout raises
            burst = min(depth - (sent - answered), total - sent)
            if burst > 0:
                sock.sendall(request * burst)
                sent += burst
            data = sock.recv(1 << 20)
            if not data:
                raise RuntimeError("the server closed the connection")
            buffer += data
            while True:
                end = buffer.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = bytes(buffer[:end]).lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
                if len(buffer) < end + 4 + length:
                    break
                if not head.startswith(b"http/1.1 200"):
                    raise RuntimeError(f"ceiling request answered {head[:40]!r}")
                del buffer[: end + 4 + length]
                answered += 1
        return total / (time.perf_counter() - started)


def _body(messages: list[dict[str, str]]) -> bytes:
    payload = {
        "SendOptions": {"startDeliveryUtc": None, "campaignName": CAMPAIGN, "checkOptOuts": True},
        "messages": messages,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def measure_ceiling(server: Server, sizes: Sizes, bulk: list[dict[str, str]]) -> dict[str, float]:
    """The server's answers per second for each kind of request (pipelined, one connection)."""
    answer = httpx.get(
        server.url + workloads.TOKEN_PATH, headers={"Authorization": frontend.basic_header()}
    )
    token = answer.json()["token"]
    n = sizes.ceiling_requests
    balance = _request_bytes(server.port, "GET", workloads.BALANCE_PATH, token)
    one = _request_bytes(server.port, "POST", workloads.SEND_PATH, token, _body([MESSAGE]))
    many = _request_bytes(server.port, "POST", workloads.SEND_PATH, token, _body(bulk))
    return {
        "balance": ceiling(server.port, balance, n),
        "send1": ceiling(server.port, one, n),
        "bulk": ceiling(server.port, many, max(5, n // 200), depth=4),
    }


# -- the timed rows ---------------------------------------------------------------------------

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


def find_vendor(option: str | None) -> tuple[str | None, str]:
    """The vendor venv's python, or None and the reason."""
    candidate = option or os.environ.get("SMSFLOW_VENDOR_PYTHON") or DEFAULT_VENDOR_PYTHON
    if not Path(candidate).exists():
        return None, "not installed (run benchmarks/setup_vendor.sh)"
    check = "import importlib.metadata as m; print(m.version('smsflow'))"
    done = subprocess.run(  # noqa: S603 - fixed command, no shell
        [candidate, "-I", "-c", check], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0 or done.stdout.strip() != "0.2.0":
        return None, f"not installed ({candidate} has no smsflow 0.2.0)"
    return candidate, "installed"


# -- the table ------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: a value, its baseline, their ratio and the target."""

    label: str
    baseline_label: str
    baseline: float
    value: float
    unit: str
    target: str = ""  # "<=1.10" / ">=0.90" on the ratio, "+<=65536" on value - baseline
    # (in the row's base unit, e.g. bytes); empty: shown for information

    @property
    def ratio(self) -> float:
        """value / baseline."""
        return self.value / self.baseline if self.baseline else math.nan

    def verdict(self) -> str:
        """``ok`` / ``MISS`` against the target, blank without one."""
        if not self.target or math.isnan(self.value) or math.isnan(self.baseline):
            return ""
        if self.target.startswith("+<="):
            return "ok" if self.value - self.baseline <= float(self.target[3:]) else "MISS"
        bound = float(self.target[2:])
        met = self.ratio <= bound if self.target.startswith("<=") else self.ratio >= bound
        return "ok" if met else "MISS"


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    if unit == "us":
        return f"{value * 1e6:,.0f} us"
    if unit == "ms":
        return f"{value * 1e3:,.1f} ms"
    if unit == "s":
        return f"{value:,.3f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "KiB":
        return f"{value / 1024:,.0f} KiB"
    return f"{value:,.3g}"


def _target_text(target: str) -> str:
    if target.startswith("+<="):
        return f"+ <= {float(target[3:]) / 1024:,.0f} KiB"
    return target.replace("<=", "<= ").replace(">=", ">= ")


def render(rows: list[Row], verdicts: bool = True) -> str:
    """The rows as a Markdown table (the last column blank without ``verdicts``)."""
    head = ["row", "baseline", "baseline value", "measured", "ratio", "target", ""]
    lines = [head]
    lines.extend(
        [
            row.label,
            row.baseline_label,
            _fmt(row.baseline, row.unit),
            _fmt(row.value, row.unit),
            "n/a" if math.isnan(row.ratio) else f"{row.ratio:.2f}x",
            _target_text(row.target),
            row.verdict() if verdicts else "",
        ]
        for row in rows
    )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = []
    for n, line in enumerate(lines):
        cells = [
            cell.ljust(width) if i in (0, 1) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


PARTS: Final = ("calls", "throughput", "memory", "imports", "vendor")


@dataclass
class Results:
    """What one run measured (a part left out with ``--only`` stays empty)."""

    sizes: Sizes
    calls: Calls | None = None
    walls: dict[str, list[float]] | None = None
    rates: Rates | None = None
    imports: dict[str, list[float]] | None = None
    memory: Memory | None = None
    vendor: dict[str, Any] | str = "not run"


def build_rows(res: Results) -> list[Row]:
    """Every row of the table, in print order."""
    rows: list[Row] = []
    sizes = res.sizes
    names = {"balance": "get_balance", "send1": "send 1 message"}
    vendor = res.vendor if isinstance(res.vendor, dict) else None
    if res.calls is not None:
        calls = res.calls
        for op, title in names.items():
            for stat, fn, target in (("median", median, "<=1.10"), ("p99", p99, "")):
                raw_value = fn(calls["raw"][op])
                rows.append(
                    Row(
                        f"{title} {stat}, sync",
                        "raw httpx",
                        raw_value,
                        fn(calls["smsflow"][op]),
                        "us",
                        target,
                    )
                )
                rows.append(
                    Row(
                        f"{title} {stat}, async",
                        "raw httpx async",
                        fn(calls["raw_async"][op]),
                        fn(calls["smsflow_async"][op]),
                        "us",
                        target,
                    )
                )
                if vendor is not None:
                    rows.append(
                        Row(
                            f"{title} {stat}, vendor 0.2.0",
                            "raw httpx",
                            raw_value,
                            fn(vendor[op]),
                            "us",
                        )
                    )
    if res.walls is not None:
        walls = res.walls
        bulk_title = f"{sizes.bulk_messages:,} messages in requests of {sizes.batch:,}"
        rows.append(
            Row(
                f"{bulk_title}, sync",
                "raw httpx",
                median(walls["raw"]),
                median(walls["smsflow"]),
                "s",
                "<=1.15",
            )
        )
        rows.append(
            Row(
                f"{bulk_title}, async",
                "raw httpx async",
                median(walls["raw_async"]),
                median(walls["smsflow_async"]),
                "s",
                "<=1.15",
            )
        )
        if vendor is not None:
            rows.append(
                Row(
                    f"{bulk_title}, vendor 0.2.0",
                    "raw httpx",
                    median(walls["raw"]),
                    median(vendor["bulk"]),
                    "s",
                )
            )
    if res.rates is not None:
        for pool, rates in res.rates.items():
            for op, title in names.items():
                rows.append(
                    Row(
                        f"{sizes.concurrency} concurrent async {title}/s, {pool}",
                        "raw httpx async",
                        median(rates["raw_async"][op]),
                        median(rates["smsflow_async"][op]),
                        "/s",
                        ">=0.90" if pool == "pool 20" else "",
                    )
                )
    if res.imports is not None:
        imports = res.imports
        rows.append(
            Row(
                "import smsflow (fresh interpreter, median)",
                "import httpx",
                median(imports["httpx"]),
                median(imports["smsflow"]),
                "ms",
                "<=1.30",
            )
        )
        if "vendor" in imports:
            rows.append(
                Row(
                    "import smsflow 0.2.0 (vendor: requests)",
                    "import httpx",
                    median(imports["httpx"]),
                    median(imports["vendor"]),
                    "ms",
                )
            )
    if res.memory is not None:
        memory = res.memory
        small, large = sizes.memory_small, sizes.memory_large
        for name, raw_name, label in (
            ("smsflow", "raw", "sync"),
            ("smsflow_async", "raw_async", "async"),
        ):
            base_label = "raw httpx" + (" async" if label == "async" else "")
            rows.append(
                Row(
                    f"peak memory sending {large:,} messages, {label}",
                    base_label,
                    memory[raw_name]["peak"][large],
                    memory[name]["peak"][large],
                    "KiB",
                    "<=1.10",
                )
            )
            rows.append(
                Row(
                    f"memory kept after {large:,} messages (after gc), {label}",
                    f"smsflow kept after {small:,}",
                    memory[name]["kept"][small],
                    memory[name]["kept"][large],
                    "KiB",
                    f"+<={KEPT_GROWTH_LIMIT}",
                )
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table. Returns the exit code."""
    parser = argparse.ArgumentParser(description="smsflow vs raw httpx, one run")
    parser.add_argument("--smoke", action="store_true", help="tiny counts (CI): < 30 s")
    parser.add_argument(
        "--server",
        choices=("fast", "sandbox"),
        default="fast",
        help="fast: replay the sandbox's framed answer to each distinct request (default); "
        "sandbox: every request through the sandbox's handler",
    )
    parser.add_argument(
        "--only", help=f"comma-separated parts to run (default all): {','.join(PARTS)}"
    )
    parser.add_argument(
        "--vendor-python", help=f"python of the vendor venv (default {DEFAULT_VENDOR_PYTHON})"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    parts = set(PARTS if not args.only else args.only.split(","))
    if not parts <= set(PARTS):
        parser.error(f"--only takes {','.join(PARTS)}")
    sizes = SMOKE if args.smoke else FULL
    started = time.perf_counter()
    if _can_pin():
        os.sched_setaffinity(0, {CLIENT_CPU})
    problems = workloads.same_requests(
        frontend.CLIENT_ID, frontend.CLIENT_SECRET, frontend.basic_header()
    )
    if problems:
        print("raw httpx and smsflow do not send the same requests:", *problems, sep="\n")
        return 1
    vendor_python, vendor_state = find_vendor(args.vendor_python)
    if "vendor" not in parts:
        vendor_python, vendor_state = None, "not run (--only)"
    print(
        f"smsflow benchmark ({'smoke' if args.smoke else 'full'} run): Python "
        f"{platform.python_version()}, httpx {httpx.__version__}, {os.cpu_count()} CPUs; "
        f"'{args.server}' front end "
        + (f"on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU}" if _can_pin() else "(not pinned)"),
        flush=True,
    )
    res = Results(sizes, vendor=vendor_state)
    server = Server(fast=args.server == "fast")
    loop = asyncio.new_event_loop()
    load = Load(server)
    try:
        ceilings = measure_ceiling(server, sizes, workloads.batch(sizes.batch))
        if "calls" in parts:
            res.calls, res.walls = per_call_rows(server.url, sizes, loop, load)
        if "throughput" in parts:
            res.rates = throughput_rows(server.url, sizes, loop, load)
        if "memory" in parts:
            res.memory = memory_rows(server.url, sizes, loop)
        if vendor_python is not None:
            res.vendor = vendor_rows(vendor_python, server.url, sizes, load)
    finally:
        loop.close()
        server.stop()
    if "imports" in parts:
        res.imports = import_rows(sizes.import_samples, vendor_python)
    rows = build_rows(res)

    print(
        "server ceiling (pipelined raw socket, 1 connection): "
        f"get_balance {ceilings['balance']:,.0f}/s, send 1 message {ceilings['send1']:,.0f}/s, "
        f"send {sizes.batch:,} messages {ceilings['bulk']:,.0f}/s"
    )
    rates = [1 / median(res.calls["raw"]["balance"])] if res.calls else []
    rates += [median(r["raw_async"]["balance"]) for r in res.rates.values()] if res.rates else []
    if rates:
        print(
            f"fastest client rate: {max(rates):,.0f} get_balance/s = "
            f"{max(rates) / ceilings['balance']:.0%} of the server's ceiling"
        )
    if load.rows:
        print(
            "server CPU use while timing: "
            + ", ".join(f"{row} {share:.0%}" for row, share in load.rows.items())
        )
    detail = (
        f" ({res.vendor})" if isinstance(res.vendor, str) and res.vendor != vendor_state else ""
    )
    print(f"vendor smsflow 0.2.0: {vendor_state}{detail}")
    print()
    print(render(rows, verdicts=not args.smoke))
    if res.rates is not None:
        for pool, pool_rates in res.rates.items():
            spread = "; ".join(
                f"{name} {op} " + "/".join(f"{rate:.0f}" for rate in values)
                for name, ops in pool_rates.items()
                for op, values in ops.items()
            )
            print(f"throughput runs, {pool} (calls/s): {spread}")
    if args.smoke:
        print("(smoke run: counts too small for ok/MISS verdicts; run without --smoke for them)")
    print()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"per-call rows: {sizes.calls:,} sequential calls per client ({sizes.rounds} rounds, "
        f"{sizes.warmup} warm-up); bulk: median of {sizes.bulk_reps}; throughput: median of "
        f"{sizes.throughput_reps} x {sizes.concurrent_calls:,} calls; imports: median of "
        f"{sizes.import_samples}; memory: tracemalloc; benchmark max RSS {max_rss:,.0f} MiB; "
        f"took {time.perf_counter() - started:,.1f} s"
    )
    if args.json is not None:
        record = {
            "sizes": sizes.__dict__,
            "ceilings": ceilings,
            "server_load": load.rows,
            "vendor": vendor_state,
            "rows": [{**row.__dict__, "ratio": row.ratio} for row in rows],
        }
        args.json.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
