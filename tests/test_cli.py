"""The `smsflow` command line: sends, CSV campaigns, balance, segments, exit codes, no secrets."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsflow._cli import main
from smsflow.testing import Sandbox, SandboxServer

SECRET = "cli-secret-4b1d9e"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SandboxServer]:
    """A loopback sandbox with the environment pointing the CLI at it (token cache in tmp)."""
    sandbox = Sandbox(client_id="cli-client", client_secret=SECRET, balance=100_000)
    with SandboxServer(sandbox) as srv:
        monkeypatch.setenv("SMSFLOW_CLIENT_ID", "cli-client")
        monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("SMSFLOW_BASE_URL", srv.url)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield srv


def run(*argv: str) -> tuple[int, str]:
    """Run the CLI in-process; return (exit code, stdout)."""
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_sandbox_send_prints_event_id_parts_cost_and_balance() -> None:
    """`smsflow --sandbox send` sends through the whole stack and prints what was sent."""
    code, out = run("--sandbox", "send", "--to", "27000000000", "--message", "Hello")
    assert 0 == code
    assert "event id: 100001\nmessages: 1  parts: 1  cost: 0.25  remaining balance: " in out


def test_send_normalises_numbers_and_json_output(server: SandboxServer) -> None:
    """--to accepts local forms; --json prints the API's JSON; the server got the MSISDNs."""
    code, out = run(
        "send", "--to", "082 123 4567", "--to", "+27 83 000 0001", "-m", "Hi 😀", "--json"
    )
    assert 0 == code
    data = json.loads(out)
    assert 2 == data["sendResponse"]["messages"]
    sent = [m.destination for m in server.sandbox.messages]
    assert ["27821234567", "27830000001"] == sent


def test_second_run_reuses_the_cached_token(server: SandboxServer) -> None:
    """Repeated CLI runs log in once: the token is kept in the (owner-only) file store."""
    assert 0 == run("balance")[0]
    assert 0 == run("balance")[0]
    assert 1 == server.sandbox.token_requests
    files = list(Path(os.environ["XDG_CACHE_HOME"], "smsflow").glob("token-*.json"))
    assert 1 == len(files)
    assert 0o600 == files[0].stat().st_mode & 0o777


def test_balance_and_segments_outputs(server: SandboxServer) -> None:
    """`balance` prints credits; `segments` tells encoding, parts and the UCS-2 culprits."""
    assert (0, "balance: 100000 credits\n") == run("balance")
    code, out = run("segments", "café ☕", "--json")
    assert 0 == code
    assert {"encoding": "UCS-2", "parts": 1, "ucs2_characters": ["☕"]}.items() <= json.loads(
        out
    ).items()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Missing arguments and bad combinations are usage errors (exit 2), before any send."""
    assert 2 == run("--sandbox", "send", "--to", "27000000000")[0]
    assert 2 == run("--sandbox", "send", "--to", "12", "--message", "x")[0]
    with pytest.raises(SystemExit) as exc:
        run("send", "--bogus")
    assert 2 == exc.value.code
    assert "Traceback" not in capsys.readouterr().err


def test_api_errors_print_one_line_with_the_code_and_no_secret(
    server: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """An API error is one line with the API's code, exit 1, no traceback, no secret."""
    server.sandbox.fail_next(1, endpoint="balance", status=503)
    code, _ = run("--no-token-cache", "balance")
    err = capsys.readouterr().err
    assert 1 == code
    assert err.startswith("smsflow: error: SERVICE_UNAVAILABLE: ")
    assert 1 == len(err.strip().splitlines())
    assert SECRET not in err


def test_missing_credentials_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without credentials the CLI says which variables to set, exit 1."""
    monkeypatch.delenv("SMSFLOW_CLIENT_ID", raising=False)
    monkeypatch.delenv("SMSFLOW_CLIENT_SECRET", raising=False)
    assert 1 == run("balance")[0]
    assert "MISSING_CREDENTIALS" in capsys.readouterr().err


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["destination", "content", "name"])
        for destination, name in rows:
            writer.writerow([destination, f"Hello {name}", name])


def test_csv_of_10000_rows_gives_one_result_line_per_row(
    server: SandboxServer, tmp_path: Path
) -> None:
    """A 10,000-row CSV: a result line per row with its batch's event id or its reason;
    each valid row accepted exactly once, invalid rows never sent."""
    rows = [(f"0{820000000 + i}", f"N{i}") for i in range(10_000)]
    bad_rows = {17, 5003, 9999}
    for i in bad_rows:
        rows[i] = ("not-a-number", f"N{i}")
    source = tmp_path / "rows.csv"
    _write_csv(source, rows)
    results = tmp_path / "results.csv"
    code, _ = run("send", "--csv", str(source), "--output", str(results), "--template", "Hi {name}")
    assert 1 == code  # some rows were not sent
    with results.open(encoding="utf-8") as fh:
        lines = list(csv.DictReader(fh))
    assert 10_000 == len(lines)
    by_row = {int(line["row"]): line for line in lines}
    assert set(range(2, 10_002)) == set(by_row)
    for i in range(10_000):
        line = by_row[i + 2]
        if i in bad_rows:
            assert ("rejected", "INVALID_DESTINATION", "") == (
                line["status"],
                line["code"],
                line["event_id"],
            )
        else:
            assert "sent" == line["status"]
            assert line["event_id"].isdigit()
    sandbox = server.sandbox
    sandbox.assert_each_accepted_once(
        (f"27{820000000 + i}", f"Hi N{i}") for i in range(10_000) if i not in bad_rows
    )
    assert 10_000 - len(bad_rows) == sandbox.accepted_count


def test_csv_usage_errors_send_nothing(server: SandboxServer, tmp_path: Path) -> None:
    """A template naming a missing column is a usage error and nothing is sent."""
    source = tmp_path / "rows.csv"
    _write_csv(source, [("27000000000", "A")])
    assert 2 == run("send", "--csv", str(source), "--template", "Hi {nome}")[0]
    assert 0 == server.sandbox.accepted_count


def test_python_dash_m_and_console_script_agree() -> None:
    """`python -m smsflow` runs the same command line."""
    done = subprocess.run(
        [sys.executable, "-m", "smsflow", "segments", "hello"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (0, "GSM-7: 1 part(s), 5 units (160 per part)\n") == (done.returncode, done.stdout)


def test_credits_print_without_exponents() -> None:
    """Large balances print in full (0.2.0-style 1e+06 would hide the cents)."""
    from smsflow._cli import format_credits

    assert ["999999.75", "0.25", "1000", "1234567.5"] == [
        format_credits(v) for v in (999_999.75, 0.25, 1000.0, 1_234_567.5)
    ]
