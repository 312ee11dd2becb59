"""What each layer of smsflow costs per call, measured one layer at a time.

Usage::

    python benchmarks/layers.py [--calls 3000]

Part 1 (against the benchmark's loopback front end, sync client): raw httpx ``GET`` of the
balance, then the same with each of smsflow's layers added in turn (its bearer ``httpx.Auth``,
its capped streaming read), then ``SmsFlowClient.get_balance()`` itself. Medians of
interleaved rounds, so each difference is one layer's cost.

Part 2 (no I/O, ``timeit``): the pure-Python pieces of a call: building the operation, driving
``Core.run`` with a canned answer, parsing ``Balance`` / ``SendResult``, encoding a send's body
(1 and 1000 messages), and the message checks (column-wise and per message).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import frontend  # noqa: E402 - a sibling script, found through the path set above
import workloads  # noqa: E402
from harness import CLIENT_CPU, Server, _can_pin  # noqa: E402

import smsflow  # noqa: E402
from smsflow import _validate  # noqa: E402
from smsflow._results import Balance, SendResult  # noqa: E402


def _network_layers(calls: int, rounds: int = 5) -> list[tuple[str, float]]:
    server = Server(fast=True)
    try:
        raw = workloads.RawSync(server.url, frontend.basic_header())
        ours = smsflow.SmsFlowClient(frontend.CLIENT_ID, frontend.CLIENT_SECRET, server.url)
        ours.get_balance()  # token
        http: httpx.Client = raw._http
        url = server.url + workloads.BALANCE_PATH
        headers = dict(raw._get_headers)
        no_token = {k: v for k, v in headers.items() if k != "Authorization"}
        auth = ours._auth
        timeout = ours._config.timeout

        def plain() -> Any:
            return http.send(http.build_request("GET", url, headers=headers)).json()

        def with_auth() -> Any:
            request = http.build_request("GET", url, headers=no_token, timeout=timeout)
            return http.send(request, auth=auth, follow_redirects=False).json()

        def with_auth_and_capped_read() -> Any:
            op = ours._core.balance_op()
            return json.loads(ours._send_once(op).content)

        variants: dict[str, Callable[[], Any]] = {
            "raw httpx: build_request + send + .json()": plain,
            "+ smsflow's bearer httpx.Auth (token cache)": with_auth,
            "+ capped streaming read (_send_once)": with_auth_and_capped_read,
            "SmsFlowClient.get_balance() (all layers)": ours.get_balance,
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for call in variants.values():
            workloads.sync_latencies(call, 200)
        for _ in range(rounds):
            for name, call in variants.items():
                times[name] += workloads.sync_latencies(call, calls // rounds)
        raw.close()
        ours.close()
    finally:
        server.stop()
    return [(name, statistics.median(values)) for name, values in times.items()]


def _cpu_pieces() -> list[tuple[str, float]]:
    client = smsflow.SmsFlowClient("id", "secret", "http://127.0.0.1:9")
    core = client._core
    balance_json = b'{"balance": 1234.5}'
    send_json = json.dumps(
        {
            "statusCode": 200,
            "sendResponse": {
                "cost": 0.25,
                "remainingBalance": 99.75,
                "eventId": 123456,
                "sample": "Order 1001 has shipped.",
                "messages": 1,
                "parts": 1,
                "costBreakdown": [{"quantity": 1, "cost": 0.25, "network": "Vodacom"}],
                "errorReport": [],
            },
            "errors": None,
        }
    ).encode()
    request = httpx.Request("GET", "http://127.0.0.1:9/api/integration/Balance")
    one = [dict(workloads.MESSAGE)]
    thousand = workloads.batch(1000)

    def drive() -> Any:
        op = core.balance_op()
        flow = core.run(op)
        next(flow)
        try:
            flow.send(httpx.Response(200, content=balance_json, request=request))
        except StopIteration as stop:
            return stop.value
        raise AssertionError("the flow did not finish")

    def send_body(messages: list[dict[str, str]]) -> bytes:
        return core.send_body(
            campaign_name=workloads.CAMPAIGN,
            messages=messages,
            start_delivery_utc=None,
            check_opt_outs=True,
        )

    def per_message(messages: list[dict[str, str]]) -> Any:
        return [_validate.check_message(m, i) for i, m in enumerate(messages)]

    pieces: dict[str, Callable[[], Any]] = {
        "Core.balance_op() (build the operation)": core.balance_op,
        "Core.run(op) with a canned 200 (classify + Balance)": drive,
        "Balance(json.loads(body))": lambda: Balance(json.loads(balance_json)),
        "SendResult(json.loads(body))": lambda: SendResult(json.loads(send_json)),
        "send_body: check + encode 1 message": lambda: send_body(one),
        "send_body: check + encode 1000 messages": lambda: send_body(thousand),
        "json.dumps of the same 1000-message body (raw)": lambda: workloads._body(
            workloads.CAMPAIGN, thousand
        ),
        "check_messages, 1000 (column-wise checks)": lambda: _validate.check_messages(thousand),
        "check_message x 1000 (per-message checks)": lambda: per_message(thousand),
    }
    out = []
    for name, piece in pieces.items():
        number = 20 if "1000" in name else 2000
        best = min(timeit.repeat(piece, number=number, repeat=5)) / number
        out.append((name, best))
    client.close()
    return out


def main(argv: list[str] | None = None) -> int:
    """Print both tables. Returns the exit code."""
    parser = argparse.ArgumentParser(description="per-layer costs of one call")
    parser.add_argument("--calls", type=int, default=3000, help="calls per variant (part 1)")
    args = parser.parse_args(argv)
    if _can_pin():
        os.sched_setaffinity(0, {CLIENT_CPU})
    print("| layer (sync get_balance over loopback, median) | per call |")
    print("|---|---|")
    previous = None
    for name, seconds in _network_layers(args.calls):
        delta = "" if previous is None else f" ({(seconds - previous) * 1e6:+.0f} us)"
        print(f"| {name} | {seconds * 1e6:.0f} us{delta} |")
        previous = seconds
    print()
    print("| piece (no I/O, best of 5) | time |")
    print("|---|---|")
    for name, seconds in _cpu_pieces():
        print(f"| {name} | {seconds * 1e6:,.1f} us |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
