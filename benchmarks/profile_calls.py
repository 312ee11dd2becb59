"""Profile one client doing one kind of call against the benchmark's front end.

Usage (needs ``pip install pyinstrument``)::

    python benchmarks/profile_calls.py --client smsflow --op balance --calls 5000
    python benchmarks/profile_calls.py --client smsflow_async --op bulk --calls 200 --html out.html

Clients: ``raw``, ``smsflow``, ``raw_async``, ``smsflow_async``. Operations: ``balance``,
``send1`` (one message), ``bulk`` (a request of 1,000 messages). The front end runs in its own
process (``--fast`` answers, as in the benchmark), so the profile shows the client's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import frontend  # noqa: E402 - a sibling script, found through the path set above
import workloads  # noqa: E402
from harness import Server  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Profile and print (or write HTML). Returns the exit code."""
    parser = argparse.ArgumentParser(description="profile one client and call")
    parser.add_argument(
        "--client", choices=("raw", "smsflow", "raw_async", "smsflow_async"), default="smsflow"
    )
    parser.add_argument("--op", choices=("balance", "send1", "bulk"), default="balance")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--server", choices=("fast", "sandbox"), default="fast")
    parser.add_argument("--html", type=Path, help="write pyinstrument's HTML here")
    args = parser.parse_args(argv)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("profile_calls.py needs pyinstrument: pip install pyinstrument", file=sys.stderr)
        return 2

    messages = workloads.batch(1000) if args.op == "bulk" else [dict(workloads.MESSAGE)]
    basic = frontend.basic_header()
    server = Server(fast=args.server == "fast")
    profiler = Profiler(interval=0.0001, async_mode="enabled")
    try:
        if args.client in ("raw", "smsflow"):
            client: workloads.SyncBench = (
                workloads.RawSync(server.url, basic)
                if args.client == "raw"
                else workloads.SmsFlowSync(server.url, frontend.CLIENT_ID, frontend.CLIENT_SECRET)
            )
            call: Callable[[], Any] = (
                client.get_balance if args.op == "balance" else lambda: client.send(messages)
            )
            workloads.sync_latencies(call, 50)
            profiler.start()
            workloads.sync_latencies(call, args.calls)
            profiler.stop()
            client.close()
        else:

            async def run() -> None:
                aclient: workloads.AsyncBench = (
                    await workloads.RawAsync.create(server.url, basic)
                    if args.client == "raw_async"
                    else workloads.SmsFlowAsync(
                        server.url, frontend.CLIENT_ID, frontend.CLIENT_SECRET
                    )
                )
                acall: Callable[[], Awaitable[Any]] = (
                    aclient.get_balance if args.op == "balance" else lambda: aclient.send(messages)
                )
                await workloads.async_latencies(acall, 50)
                profiler.start()
                await workloads.async_latencies(acall, args.calls)
                profiler.stop()
                await aclient.aclose()

            asyncio.run(run())
    finally:
        server.stop()
    if args.html is not None:
        args.html.write_text(profiler.output_html())
    else:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
