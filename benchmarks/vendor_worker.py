"""The vendor's smsflow 0.2.0 rows, run by ``benchmarks/run.py`` inside the vendor's own venv.

Usage (the benchmark does this; the venv is made by ``benchmarks/setup_vendor.sh``)::

    /tmp/smsflow-vendor-0.2.0/bin/python -I benchmarks/vendor_worker.py '<json settings>'

Standard library and the vendor package only: this file must not see this repository's
``smsflow`` (``-I`` keeps the script's folder and the working directory off ``sys.path``).
Prints one JSON object: per-call latencies (seconds) and bulk wall times (seconds).
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time
from typing import Any

import smsflow  # the vendor's 0.2.0 (checked below)


def _latencies(call: Any, count: int) -> list[float]:
    clock = time.perf_counter
    out = [0.0] * count
    for i in range(count):
        started = clock()
        call()
        out[i] = clock() - started
    return out


def main() -> int:
    """Run the rows described by the JSON in ``sys.argv[1]``; print the results as JSON."""
    settings = json.loads(sys.argv[1])
    version = importlib.metadata.version("smsflow")
    if version != "0.2.0":
        print(json.dumps({"error": f"smsflow {version} is installed here, not 0.2.0"}))
        return 1
    client = smsflow.SmsFlowClient(
        client_id=settings["client_id"],
        client_secret=settings["client_secret"],
        base_url=settings["base_url"],
    )
    campaign = settings["campaign"]
    one = [settings["message"]]
    bulk = settings["batch"]
    calls = {
        "balance": client.get_balance,
        "send1": lambda: client.send_sms(campaign_name=campaign, messages=one),
    }
    out: dict[str, Any] = {"version": version, "file": smsflow.__file__}
    for name, call in calls.items():
        _latencies(call, settings["warmup"])
        out[name] = _latencies(call, settings["calls"])
    if client.send_sms(campaign_name=campaign, messages=bulk)["sendResponse"]["messages"] != len(
        bulk
    ):
        print(json.dumps({"error": "the bulk request was not accepted whole"}))
        return 1
    walls = []
    for _ in range(settings["bulk_reps"]):
        started = time.perf_counter()
        for _ in range(settings["bulk_requests"]):
            client.send_sms(campaign_name=campaign, messages=bulk)
        walls.append(time.perf_counter() - started)
    out["bulk"] = walls
    client.session.close()  # type: ignore[attr-defined]  # 0.2.0's requests session
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
