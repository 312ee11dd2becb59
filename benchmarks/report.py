"""The table: one :class:`Row` per comparison (value, baseline, ratio, target), built from what
``measure.py`` returned, and rendered as Markdown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from harness import Sizes, median, p99
from measure import Calls, Memory, Rates

KEPT_GROWTH_LIMIT: Final = 64 * 1024  # bytes more kept after 10x the messages: "flat"


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


def print_report(
    res: Results,
    ceilings: dict[str, float],
    server_load: dict[str, float],
    vendor_state: str,
    smoke: bool,
    seconds: float,
) -> list[Row]:
    """Print the server's ceiling and load, the table and how it was measured; the rows."""
    import resource

    sizes = res.sizes
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
    if server_load:
        print(
            "server CPU use while timing: "
            + ", ".join(f"{row} {share:.0%}" for row, share in server_load.items())
        )
    detail = (
        f" ({res.vendor})" if isinstance(res.vendor, str) and res.vendor != vendor_state else ""
    )
    print(f"vendor smsflow 0.2.0: {vendor_state}{detail}")
    print()
    print(render(rows, verdicts=not smoke))
    if res.rates is not None:
        for pool, pool_rates in res.rates.items():
            spread = "; ".join(
                f"{name} {op} " + "/".join(f"{rate:.0f}" for rate in values)
                for name, ops in pool_rates.items()
                for op, values in ops.items()
            )
            print(f"throughput runs, {pool} (calls/s): {spread}")
    if smoke:
        print("(smoke run: counts too small for ok/MISS verdicts; run without --smoke for them)")
    print()
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"per-call rows: {sizes.calls:,} sequential calls per client ({sizes.rounds} rounds, "
        f"{sizes.warmup} warm-up); bulk: median of {sizes.bulk_reps}; throughput: median of "
        f"{sizes.throughput_reps} x {sizes.concurrent_calls:,} calls; imports: median of "
        f"{sizes.import_samples}; memory: tracemalloc; benchmark max RSS {max_rss:,.0f} MiB; "
        f"took {seconds:,.1f} s"
    )
    return rows
