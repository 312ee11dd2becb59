"""``import smsflow`` against ``import httpx``: the import statement alone, in fresh interpreters.

    python3 -m venv /tmp/smsflow-rt && /tmp/smsflow-rt/bin/pip install .   # run-time deps only
    python benchmarks/import_cost.py --python /tmp/smsflow-rt/bin/python [--samples 30] [--top 15]
        [--clock cpu]   # CPU time instead of wall time: steadier on a busy machine

Bytecode is cached first (as after ``pip install``), in a temporary ``PYTHONPYCACHEPREFIX``.
Samples alternate between the two imports so drift hits both alike; the medians and their
ratio are printed, and with ``--top`` the modules ``import smsflow`` adds beyond httpx, by
their own import time (``python -X importtime``). Target: ratio <= 1.30.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CODE = "import time; t = time.{clock}(); import {module}; print(time.{clock}() - t)"
CLOCKS = {"wall": "perf_counter", "cpu": "process_time"}


def sample(python: str, module: str, env: dict[str, str], clock: str = "wall") -> float:
    """Seconds one fresh interpreter spends in ``import module`` (wall or CPU time)."""
    code = CODE.format(clock=CLOCKS[clock], module=module)
    done = subprocess.run(  # noqa: S603 - a fixed command, no shell
        [python, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return float(done.stdout)


def own_costs(python: str, env: dict[str, str]) -> list[tuple[int, str]]:
    """(self microseconds, module) of what ``import smsflow`` loads beyond ``import httpx``."""

    def table(module: str) -> dict[str, int]:
        done = subprocess.run(  # noqa: S603 - a fixed command, no shell
            [python, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        out = {}
        for line in done.stderr.splitlines():
            if line.startswith("import time:") and "|" in line and "self" not in line:
                own, _, name = line.removeprefix("import time:").split("|")
                out[name.strip()] = int(own)
        return out

    base = table("httpx")
    return sorted(((us, m) for m, us in table("smsflow").items() if m not in base), reverse=True)


def main() -> None:
    """Print the medians, their ratio and (``--top N``) the costliest added modules."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter of the venv")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--top", type=int, default=0, help="list the N costliest added modules")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time (what a user waits), or CPU time (steadier on a busy machine)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smsflow-import-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        times: dict[str, list[float]] = {"httpx": [], "smsflow": []}
        for n in range(args.samples + 1):  # the first round fills the bytecode cache
            for module, seen in times.items():
                seconds = sample(args.python, module, env, args.clock)
                if n:
                    seen.append(seconds)
        httpx_ms, smsflow_ms = (statistics.median(times[m]) * 1e3 for m in ("httpx", "smsflow"))
        print(
            f"{args.clock} time: import httpx {httpx_ms:.1f} ms, "
            f"import smsflow {smsflow_ms:.1f} ms "
            f"(medians of {args.samples}): {smsflow_ms / httpx_ms:.2f}x (target <= 1.30x)"
        )
        if args.top:
            for us, module in own_costs(args.python, env)[: args.top]:
                print(f"{us / 1e3:7.2f} ms  {module}")


if __name__ == "__main__":
    main()
