"""smsflow against hand-written httpx (and the vendor's smsflow 0.2.0), in one run.

    python benchmarks/run.py            # the full run (about 3 minutes on 2 cores)
    python benchmarks/run.py --smoke    # tiny counts: proves it works (CI), no verdicts
    python benchmarks/run.py --server sandbox   # every answer from the sandbox's handler

What is compared (``workloads.py``): raw httpx, sync and async, doing the same HTTP calls as
smsflow's two clients (``same_requests`` proves the bytes on the wire are identical first),
against a loopback front end in its own process (``frontend.py``, CPU 1; this process CPU 0):

* calls: median and p99 latency of ``get_balance`` and a one-message send, the clients taking
  turns in rounds; wall time of 100,000 messages in requests of 1,000;
* throughput: 200 concurrent async calls on one client, pools of 20 and 100;
* memory: traced peak and kept memory over 100,000 and 1,000,000 messages;
* imports: ``import smsflow`` next to ``import httpx`` in fresh interpreters;
* vendor: smsflow 0.2.0 in its own venv (``setup_vendor.sh``), when present.

How (``measure.py``, ``harness.py``): every ratio is to raw httpx in the same run; targets and
the table are in ``report.py``. Exit code 0 unless the run itself fails (a missed target is
marked ``MISS``: timing on shared machines is noise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

import frontend
import harness
import httpx
import measure
import workloads
from report import PARTS, Results, print_report


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table. Returns the exit code."""
    parser = argparse.ArgumentParser(description="smsflow vs raw httpx, one run")
    parser.add_argument("--smoke", action="store_true", help="tiny counts (CI): < 30 s")
    parser.add_argument(
        "--server",
        choices=("fast", "sandbox"),
        default="fast",
        help="fast: replay the sandbox's framed answer to each distinct request "
        "(default); sandbox: every request through the sandbox's handler",
    )
    parser.add_argument("--only", help=f"comma-separated parts (default all): {','.join(PARTS)}")
    parser.add_argument(
        "--vendor-python",
        help=f"python of the vendor venv (default {harness.DEFAULT_VENDOR_PYTHON})",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    parts = set(PARTS if not args.only else args.only.split(","))
    if not parts <= set(PARTS):
        parser.error(f"--only takes {','.join(PARTS)}")
    sizes = harness.SMOKE if args.smoke else harness.FULL
    started = time.perf_counter()
    if harness._can_pin():
        os.sched_setaffinity(0, {harness.CLIENT_CPU})
    problems = workloads.same_requests(
        frontend.CLIENT_ID, frontend.CLIENT_SECRET, frontend.basic_header()
    )
    if problems:
        print("raw httpx and smsflow do not send the same requests:", *problems, sep="\n")
        return 1
    vendor_python, vendor_state = harness.find_vendor(args.vendor_python)
    if "vendor" not in parts:
        vendor_python, vendor_state = None, "not run (--only)"
    pinned = harness._can_pin()
    print(
        f"smsflow benchmark ({'smoke' if args.smoke else 'full'} run): Python "
        f"{platform.python_version()}, httpx {httpx.__version__}, {os.cpu_count()} CPUs; "
        f"'{args.server}' front end "
        + (
            f"on CPU {harness.SERVER_CPU}, client on CPU {harness.CLIENT_CPU}"
            if pinned
            else "(not pinned)"
        ),
        flush=True,
    )

    res = Results(sizes, vendor=vendor_state)
    server = harness.Server(fast=args.server == "fast")
    loop = asyncio.new_event_loop()
    load = harness.Load(server)
    try:
        ceilings = harness.measure_ceiling(server, sizes, workloads.batch(sizes.batch))
        if "calls" in parts:
            res.calls, res.walls = measure.per_call_rows(server.url, sizes, loop, load)
        if "throughput" in parts:
            res.rates = measure.throughput_rows(server.url, sizes, loop, load)
        if "memory" in parts:
            res.memory = measure.memory_rows(server.url, sizes, loop)
        if vendor_python is not None:
            res.vendor = measure.vendor_rows(vendor_python, server.url, sizes, load)
    finally:
        loop.close()
        server.stop()
    if "imports" in parts:
        res.imports = measure.import_rows(sizes.import_samples, vendor_python)

    seconds = time.perf_counter() - started
    rows = print_report(res, ceilings, load.rows, vendor_state, args.smoke, seconds)
    if args.json is not None:
        record = {
            "sizes": sizes.__dict__,
            "ceilings": ceilings,
            "server_load": load.rows,
            "vendor": vendor_state,
            "rows": [{**r.__dict__, "ratio": r.ratio} for r in rows],
        }
        args.json.write_text(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
