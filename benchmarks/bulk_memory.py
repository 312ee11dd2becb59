"""Peak memory of ``send_bulk``: a million messages against the loopback sandbox vs an empty run.

Run it from the repository root (it takes a few minutes for a million messages)::

    python benchmarks/bulk_memory.py [--count 1000000] [--batch-size 500] [--concurrency 4]
                                     [--async] [--no-journal] [--tracemalloc] [--timeout 1800]

The parent process serves a :class:`smsflow.testing.SandboxServer` on 127.0.0.1 (without message
records: 8 bytes per accepted message) and runs the client in child processes, so the sandbox's
own memory is not counted:

1. an *empty* run: the same script, client and journal with 0 messages (after one
   ``get_balance()`` call, as the full run does, so imports, token and connection are alike);
2. the *full* run: ``--count`` generated messages (a generator: never a list), in batches.

Each child prints its peak resident set size (``resource.getrusage(...).ru_maxrss``) and,
with ``--tracemalloc``, the peak of Python allocations (much slower). The parent prints the
growth of the full run over the empty one, the time taken and the send rate, then checks the
sandbox's record: every generated message accepted exactly once (by fingerprint).
Exit status 0 when the record is exact and the growth is under ``--limit-mib`` (default 50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from smsflow import AsyncBulkRun
from smsflow.testing import Sandbox, SandboxServer

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"  # noqa: S105 - the sandbox's throwaway credentials


def generate(count: int) -> Iterator[dict[str, str]]:
    """``count`` distinct messages to South African mobiles (27 82 0000000 onwards)."""
    for i in range(count):
        yield {
            "destination": f"2782{i:07d}",
            "content": f"Order {i} has shipped. Reply STOP to stop.",
        }


def child(args: argparse.Namespace) -> int:
    """One measured run: print a JSON line with the peak RSS, the time and the counts."""
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    from smsflow import AsyncSmsFlowClient, BulkRun, SmsFlowClient

    options = {
        "batch_size": args.batch_size,
        "concurrency": args.concurrency,
        "journal": args.journal,
        "total": args.count,
    }
    if args.use_async:

        async def go() -> tuple[float, AsyncBulkRun]:
            async with AsyncSmsFlowClient(
                CLIENT_ID, CLIENT_SECRET, base_url=args.url, timeout=60
            ) as client:
                await client.get_balance()
                started = time.perf_counter()
                async with client.send_bulk(
                    "Memory benchmark", generate(args.count), **options
                ) as run:
                    async for _ in run:
                        pass
                return time.perf_counter() - started, run

        seconds, arun = asyncio.run(go())
        progress = arun.progress
    else:
        with SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=args.url, timeout=60) as client:
            client.get_balance()  # the token and a connection, in the empty run too
            started = time.perf_counter()
            run: BulkRun = client.send_bulk("Memory benchmark", generate(args.count), **options)
            with run:
                for _ in run:
                    pass
            seconds = time.perf_counter() - started
        progress = run.progress
    result = {
        "count": args.count,
        "seconds": seconds,
        "sent": progress.sent,
        "done": progress.done,
        "not_sent": progress.not_sent,
        "refused": progress.refused,
        "unknown": progress.unknown,
        "rejected": progress.rejected,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if args.tracemalloc:
        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    print(json.dumps(result), flush=True)
    return 0


def measure(
    args: argparse.Namespace, url: str, count: int, journal: str | None
) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--url",
        url,
        "--count",
        str(count),
        "--batch-size",
        str(args.batch_size),
        "--concurrency",
        str(args.concurrency),
    ]
    if journal is not None:
        command += ["--journal", journal]
    if args.tracemalloc:
        command.append("--tracemalloc")
    if args.use_async:
        command.append("--async")
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        command, capture_output=True, text=True, timeout=args.timeout, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the child run of {count} messages failed ({done.returncode})")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-journal", action="store_true", help="run without a journal")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace allocations")
    parser.add_argument(
        "--async", dest="use_async", action="store_true", help="use AsyncSmsFlowClient"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per child run")
    parser.add_argument("--limit-mib", type=float, default=50.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--journal", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    sandbox = Sandbox(
        CLIENT_ID, CLIENT_SECRET, balance=1e12, record_messages=False, max_records=1000
    )
    with SandboxServer(sandbox) as server, tempfile.TemporaryDirectory() as folder:
        journals = (
            [None, None]
            if args.no_journal
            else [
                str(Path(folder) / "empty.journal"),
                str(Path(folder) / "full.journal"),
            ]
        )
        empty = measure(args, server.url, 0, journals[0])
        full = measure(args, server.url, args.count, journals[1])
        journal_bytes = 0 if journals[1] is None else Path(journals[1]).stat().st_size
        check_started = time.perf_counter()
        try:
            sandbox.assert_each_accepted_once(
                (m["destination"], m["content"]) for m in generate(args.count)
            )
            exact = True
            verdict = f"exactly once: all {args.count:,} messages, no duplicate, nothing else"
        except AssertionError as error:
            exact, verdict = False, f"NOT exact: {error}"
        check_seconds = time.perf_counter() - check_started

    growth_mib = (full["peak_rss_kib"] - empty["peak_rss_kib"]) / 1024
    client = "AsyncSmsFlowClient" if args.use_async else "SmsFlowClient"
    print(
        f"messages:          {args.count:,} in batches of {args.batch_size}, {client}, "
        f"concurrency {args.concurrency}, journal {'off' if args.no_journal else 'on'}"
    )
    print(f"empty run peak:    {empty['peak_rss_kib'] / 1024:.1f} MiB RSS")
    print(f"full run peak:     {full['peak_rss_kib'] / 1024:.1f} MiB RSS")
    print(f"peak RSS growth:   {growth_mib:.1f} MiB (limit {args.limit_mib:.0f} MiB)")
    if args.tracemalloc:
        print(
            "tracemalloc peak:  "
            f"empty {empty['tracemalloc_peak_bytes'] / 2**20:.1f} MiB, "
            f"full {full['tracemalloc_peak_bytes'] / 2**20:.1f} MiB"
        )
    rate = full["sent"] / full["seconds"] if full["seconds"] else 0.0
    print(f"time:              {full['seconds']:.1f} s ({rate:,.0f} messages/s)")
    print(
        f"outcomes:          sent {full['sent']:,}, refused {full['refused']:,}, "
        f"not sent {full['not_sent']:,}, unknown {full['unknown']:,}, "
        f"rejected {full['rejected']:,}; total {full['done']:,}"
    )
    if journal_bytes:
        print(f"journal:           {journal_bytes / 1024:.0f} KiB")
    print(f"sandbox record:    {verdict} (checked in {check_seconds:.1f} s)")
    return 0 if exact and growth_mib < args.limit_mib and full["done"] == args.count else 1


if __name__ == "__main__":
    raise SystemExit(main())
