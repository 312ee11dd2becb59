"""`smsflow send --csv` as an operator lives with it: subprocesses against a loopback sandbox.

Every row accounted for (opted out apart, input order), every stop resumable (SIGINT and
SIGTERM mid-run), every input understood (Excel encodings and separators, file errors).
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smsflow._bulk_types import MessageOutcome
from smsflow._cli_bulk import InOrder
from smsflow.testing import Sandbox, SandboxServer

SECRET = "cli-bulk-secret-77aa"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    sandbox = Sandbox(client_id="cli", client_secret=SECRET, balance=10_000_000)
    with SandboxServer(sandbox) as srv:
        yield srv


def env_for(
    srv: SandboxServer | None, tmp_path: Path, base_url: str | None = None
) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SMSFLOW_") and k != "PYTHONPATH"
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["SMSFLOW_CLIENT_ID"] = "cli"
    env["SMSFLOW_CLIENT_SECRET"] = SECRET
    if srv is not None or base_url is not None:
        env["SMSFLOW_BASE_URL"] = base_url or (srv.url if srv else "")
    return env


def cli(
    srv: SandboxServer | None, tmp_path: Path, *argv: str, base_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "smsflow", *argv],
        env=env_for(srv, tmp_path, base_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_rows(path: Path, count: int, *, opted: int | None = None) -> list[tuple[str, str]]:
    pairs = [(f"2782{i:07d}", f"Hello N{i}") for i in range(count)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["destination", "content"])
        writer.writerows(pairs)
    return pairs


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def assert_clean(stderr: str) -> None:
    for word in ("Traceback", "Error:", "Errno", SECRET):
        assert word not in stderr


# -- 1. opted out -------------------------------------------------------------------------


def test_opted_out_rows_have_their_own_status_in_output_summary_and_json(
    server: SandboxServer, tmp_path: Path
) -> None:
    """An opted-out recipient is `opted_out` in the row, the summary and --json, not `sent`."""
    server.sandbox.opt_out("27820000001")
    source = tmp_path / "in.csv"
    write_rows(source, 3)
    out = tmp_path / "out.csv"
    done = cli(server, tmp_path, "send", "--csv", str(source), "--output", str(out))
    assert 0 == done.returncode, done.stderr
    assert ["sent", "opted_out", "sent"] == [r["status"] for r in read_rows(out)]
    assert "sent: 2  already sent: 0  opted out: 1" in done.stderr
    done = cli(server, tmp_path, "send", "--csv", str(source), "--json")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert ["sent", "opted_out", "sent"] == [line["status"] for line in lines]
    summary = json.loads(done.stderr.strip().splitlines()[-1])["summary"]
    assert (2, 1) == (summary["sent"], summary["opted_out"])


# -- 2, 3, 4. stops and resumes -----------------------------------------------------------


@pytest.mark.parametrize(("signum", "exit_code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_mid_run_keeps_every_accepted_row_and_the_resume_sends_no_duplicate(
    server: SandboxServer, tmp_path: Path, signum: int, exit_code: int
) -> None:
    """SIGINT/SIGTERM mid-run: the output's sent rows are exactly what the sandbox accepted,
    the counts and the exact resume command are printed, and that command finishes the run
    with no duplicate and the counts kept apart (sent vs already sent)."""
    count = 3000
    source, out, journal = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "j"
    pairs = write_rows(source, count)
    argv = [
        "send", "--csv", str(source), "--output", str(out), "--journal", str(journal),
        "--batch-size", "100", "--concurrency", "3", "--rate", "1000",
    ]  # fmt: skip
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "smsflow", *argv],
        env=env_for(server, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.sandbox.accepted_count < 500:
        time.sleep(0.01)
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=60)
    assert exit_code == child.returncode, stderr
    rows = read_rows(out)
    assert list(range(2, count + 2)) == [int(r["row"]) for r in rows]  # every row, in order
    sent = sorted(
        (r["destination"], f"Hello N{int(r['row']) - 2}") for r in rows if r["status"] == "sent"
    )
    accepted = sorted((m.destination, m.content) for m in server.sandbox.messages)
    assert 0 < len(sent) < count
    assert accepted == sent
    assert {"not_sent"} == {r["status"] for r in rows if r["status"] != "sent"}
    assert f"sent: {len(sent)}" in stderr
    resume = stderr.split("resume with: smsflow ", 1)[1].splitlines()[0]
    assert argv == shlex.split(resume)
    second = cli(server, tmp_path, *shlex.split(resume))
    assert 0 == second.returncode, second.stderr
    assert f"sent: {count - len(sent)}  already sent: {len(sent)}" in second.stderr
    assert {"sent", "already_sent"} >= {r["status"] for r in read_rows(out)}
    server.sandbox.assert_each_accepted_once(pairs)
    assert count == server.sandbox.accepted_count


def test_unknown_batches_hint_a_flag_that_exists(server: SandboxServer, tmp_path: Path) -> None:
    """A batch whose answer was lost says to use --resend-unknown, which sends it on resume."""
    source, journal = tmp_path / "in.csv", tmp_path / "j"
    pairs = write_rows(source, 20)
    server.sandbox.drop_next(1, endpoint="send")
    args = ["send", "--csv", str(source), "--journal", str(journal), "--batch-size", "10"]
    first = cli(server, tmp_path, *args, "--concurrency", "1")
    assert 1 == first.returncode
    assert "--resend-unknown" in first.stderr
    second = cli(server, tmp_path, *args, "--concurrency", "1")
    reasons = {
        r["reason"] for r in csv.DictReader(second.stdout.splitlines()) if r["status"] == "unknown"
    }
    assert reasons
    assert all("--resend-unknown" in r and "resend_unknown=" not in r for r in reasons)
    third = cli(server, tmp_path, *args, "--resend-unknown")
    assert 0 == third.returncode, third.stderr
    server.sandbox.assert_each_accepted_once(pairs)


def test_a_run_stopped_for_credit_prints_the_resume_command(
    server: SandboxServer, tmp_path: Path
) -> None:
    """Out of credit mid-run: the counts and the exact resume command are printed; after a
    top-up that command sends the rest, each row once."""
    server.sandbox.balance = 0.25 * 250
    source, journal = tmp_path / "in.csv", tmp_path / "j"
    pairs = write_rows(source, 1000)
    argv = ["send", "--csv", str(source), "--journal", str(journal), "--batch-size", "100"]
    first = cli(server, tmp_path, *argv)
    assert 1 == first.returncode
    assert "stopped: INSUFFICIENT_BALANCE" in first.stderr
    assert f"resume with: smsflow {shlex.join(argv)}" in first.stderr
    server.sandbox.balance = 1e6
    second = cli(server, tmp_path, *argv)
    assert 0 == second.returncode, second.stderr
    assert "sent: 800  already sent: 200" in second.stderr
    server.sandbox.assert_each_accepted_once(pairs)


# -- 5, 6, 7. controls ----------------------------------------------------------------------


def test_dry_run_counts_rows_parts_and_cost_and_sends_nothing(
    server: SandboxServer, tmp_path: Path
) -> None:
    """--dry-run validates every row, prints messages, parts and cost; no request is made."""
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["destination", "content"])
        writer.writerow(["0821234567", "short"])
        writer.writerow(["0821234568", "x" * 200])  # 2 parts
        writer.writerow(["12", "bad number"])
    done = cli(server, tmp_path, "send", "--csv", str(source), "--dry-run", "--json")
    assert 2 == done.returncode
    assert {
        "rows": 3,
        "messages": 2,
        "rejected": 1,
        "parts": 3,
        "estimated_cost": 0.75,
    }.items() <= json.loads(done.stdout).items()
    assert "row 4: INVALID_DESTINATION" in done.stderr
    assert 0 == server.sandbox.request_count


def test_rate_concurrency_and_max_parts_reach_the_run(
    server: SandboxServer, tmp_path: Path
) -> None:
    """--max-parts rejects long rows; --rate and --concurrency are accepted by the run."""
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["destination", "content"])
        writer.writerow(["0821234567", "x" * 200])
        writer.writerow(["0821234568", "short"])
    done = cli(
        server, tmp_path, "send", "--csv", str(source), "--max-parts", "1",
        "--rate", "50", "--concurrency", "2",
    )  # fmt: skip
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assert [("rejected", "TOO_MANY_PARTS"), ("sent", "")] == [
        (r["status"], r["code"]) for r in rows
    ]
    assert "--max-parts" in rows[0]["reason"]
    assert "max_parts" not in rows[0]["reason"]


def test_version_help_and_send_usage(tmp_path: Path) -> None:
    """--version prints it; no command prints help (exit 0); a bad send flag shows send's usage."""
    from smsflow import __version__

    assert f"smsflow {__version__}\n" == cli(None, tmp_path, "--version").stdout
    bare = cli(None, tmp_path)
    assert (0, True) == (bare.returncode, "usage: smsflow" in bare.stdout)
    wrong = cli(None, tmp_path, "send", "--to", "0821234567", "-m", "x", "--bogus")
    assert 2 == wrong.returncode
    assert wrong.stderr.startswith("usage: smsflow send")
    assert "unrecognized arguments: --bogus" in wrong.stderr


def test_allow_insecure_http_reaches_a_sandbox_on_another_host(tmp_path: Path) -> None:
    """http:// to a non-loopback name is refused with a hint naming the flag; the flag works."""
    with SandboxServer(Sandbox(client_id="cli", client_secret=SECRET), host="0.0.0.0") as srv:
        url = f"http://{socket.gethostname()}:{srv.port}"
        refused = cli(None, tmp_path, "balance", base_url=url)
        assert 2 == refused.returncode
        assert "--allow-insecure-http" in refused.stderr
        assert "allow_insecure_http" not in refused.stderr
        allowed = cli(None, tmp_path, "--allow-insecure-http", "balance", base_url=url)
        assert (0, "balance: 1000 credits\n") == (allowed.returncode, allowed.stdout)


# -- 10. one phone-number policy --------------------------------------------------------------


def test_country_none_refuses_national_numbers_and_keeps_international_ones(
    server: SandboxServer, tmp_path: Path
) -> None:
    """`--country none`: 082... is refused before sending (exit 2); +27... goes through."""
    national = cli(server, tmp_path, "send", "--to", "082 123 4567", "-m", "x", "--country", "none")
    assert 2 == national.returncode
    assert "INVALID_DESTINATION" in national.stderr
    assert 0 == server.sandbox.request_count
    plus = cli(server, tmp_path, "send", "--to", "+27 82 123 4567", "-m", "x", "--country", "none")
    assert 0 == plus.returncode, plus.stderr
    assert ["27821234567"] == [m.destination for m in server.sandbox.messages]


# -- 8, 9. inputs and files -----------------------------------------------------------------


def test_excel_files_cp1252_semicolons_and_bom(server: SandboxServer, tmp_path: Path) -> None:
    """A cp1252 file names the line and suggests --encoding; ; is detected; a BOM is fine."""
    source = tmp_path / "excel.csv"
    source.write_bytes("destination;first_name\r\n0821234567;Zoë\r\n".encode("cp1252"))
    template = ("--template", "Hi {first_name}")
    bad = cli(server, tmp_path, "send", "--csv", str(source), *template)
    assert 2 == bad.returncode
    assert "line 2 is not valid utf-8" in bad.stderr
    assert "--encoding cp1252" in bad.stderr
    assert_clean(bad.stderr)
    good = cli(server, tmp_path, "send", "--csv", str(source), *template, "--encoding", "cp1252")
    assert 0 == good.returncode, good.stderr
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfdestination,first_name\n0821234568,Ann\n")
    assert 0 == cli(server, tmp_path, "send", "--csv", str(bom), *template).returncode
    assert [("27821234567", "Hi Zoë"), ("27821234568", "Hi Ann")] == [
        (m.destination, m.content) for m in server.sandbox.messages
    ]


def test_file_errors_are_plain_messages_with_exit_2(tmp_path: Path) -> None:
    """A missing file or a directory: one plain line, exit 2, no Python exception names."""
    for path, words in ((tmp_path / "nope.csv", "no such file"), (tmp_path, "is a directory")):
        done = cli(None, tmp_path, "--sandbox", "send", "--csv", str(path))
        assert 2 == done.returncode
        assert words in done.stderr
        assert_clean(done.stderr)
        assert "FileNotFound" not in done.stderr
        assert "IsADirectory" not in done.stderr


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`| head -1` closing the output early gives no BrokenPipeError traceback."""
    source = tmp_path / "in.csv"
    write_rows(source, 5000)
    command = shlex.join(
        [sys.executable, "-m", "smsflow", "--sandbox", "send", "--csv", str(source)]
    )
    cmd = f"{command} | head -1"
    done = subprocess.run(  # noqa: S603 - a fixed shell line of our own interpreter

        ["/bin/sh", "-c", cmd], env=env_for(None, tmp_path), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert "row,destination,status,event_id,code,reason\n" == done.stdout
    assert "BrokenPipe" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_port_is_a_plain_message(tmp_path: Path) -> None:
    """`smsflow sandbox` on a port in use says so and which flag to use, exit 1."""
    with SandboxServer() as srv:
        done = cli(None, tmp_path, "sandbox", "--port", str(srv.port))
    assert 1 == done.returncode
    assert "PORT_UNAVAILABLE" in done.stderr
    assert "--port" in done.stderr
    assert_clean(done.stderr)


# -- 11, 12. JSON, schedules, order, progress -----------------------------------------------


def test_json_errors_have_a_code_and_rejected_rows_null_event_ids(tmp_path: Path) -> None:
    """--json: an error is a JSON object with a code; a rejected row's event_id is null."""
    done = cli(None, tmp_path, "--json", "--sandbox", "send", "--csv", str(tmp_path / "x.csv"))
    assert 2 == done.returncode
    assert "FILE_NOT_FOUND" == json.loads(done.stderr)["error"]["code"]
    source = tmp_path / "in.csv"
    source.write_text("destination,content\nnope,hi\n0821234567,hi\n", encoding="utf-8")
    done = cli(None, tmp_path, "--sandbox", "send", "--csv", str(source), "--json")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [None, 100001] == [line["event_id"] for line in lines]


def test_a_past_at_is_refused_and_a_future_one_is_confirmed_in_utc(tmp_path: Path) -> None:
    """--at in the past is a usage error; a future --at prints its UTC time."""
    past = cli(None, tmp_path, "--sandbox", "send", "--to", "0821234567", "-m", "x",
               "--at", "2020-01-01T10:00:00+02:00")  # fmt: skip
    assert 2 == past.returncode
    assert "in the past" in past.stderr
    future = cli(None, tmp_path, "--sandbox", "send", "--to", "0821234567", "-m", "x",
                 "--at", "2099-01-01T10:00:00+02:00")  # fmt: skip
    assert 0 == future.returncode
    assert "scheduled for 2099-01-01T08:00:00Z (UTC)" in future.stderr


def test_rows_come_out_in_input_order_when_the_first_batch_finishes_last(
    server: SandboxServer, tmp_path: Path
) -> None:
    """The first batch answered last still comes first: the output is in input order."""
    source = tmp_path / "in.csv"
    write_rows(source, 400)
    server.sandbox.delay_next(1, 1.0, endpoint="send")
    done = cli(server, tmp_path, "send", "--csv", str(source), "--batch-size", "50",
               "--concurrency", "4", "--progress-every", "0.01")  # fmt: skip
    assert 0 == done.returncode, done.stderr
    rows = [int(r["row"]) for r in csv.DictReader(done.stdout.splitlines())]
    assert list(range(2, 402)) == rows
    assert "progress: " in done.stderr  # no terminal: periodic lines


def test_the_reorder_buffer_holds_only_what_came_early() -> None:
    """InOrder writes in index order and holds no more than the outcomes ahead of a gap."""
    written: list[int] = []
    order = InOrder(lambda o: written.append(o.index))
    for index in [*range(10, 20), *range(10), *range(20, 30)]:
        order.add(MessageOutcome(index, "sent"))
    assert (list(range(30)), 11) == (written, order.most_held)


# -- 13, 15. the sandbox server --------------------------------------------------------------


def test_sandbox_server_log_inspection_and_opt_out(tmp_path: Path) -> None:
    """`smsflow sandbox --log --opt-out N`: logs requests (no secret), lists what it received
    at /_sandbox/messages, skips the opted-out number; SIGTERM stops it (exit 0)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "smsflow", "sandbox", "--port", "0", "--log",
         "--opt-out", "27820000001"],
        env=env_for(None, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        url = child.stdout.readline().split()[-1]
        env = {"SMSFLOW_CLIENT_ID": "sandbox-client", "SMSFLOW_CLIENT_SECRET": "sandbox-secret"}
        with httpx.Client(base_url=url, timeout=10) as http:
            from smsflow import SmsFlowClient

            with SmsFlowClient(base_url=url, client_id=env["SMSFLOW_CLIENT_ID"],
                               client_secret=env["SMSFLOW_CLIENT_SECRET"]) as client:  # fmt: skip
                client.send_sms(
                    "c",
                    [{"destination": d, "content": "hi"} for d in ("27820000000", "27820000001")],
                )
            received = http.get("/_sandbox/messages").json()
        assert ["27820000000"] == [m["destination"] for m in received["messages"]]
    finally:
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=30)
    assert 0 == child.returncode
    assert "POST /api/integration/BulkMessages -> 200" in stderr
    assert "sandbox-secret" not in stderr
    assert "Bearer" not in stderr


def test_sandbox_server_answers_in_aspnet_problem_style(tmp_path: Path) -> None:
    """`smsflow sandbox --error-style problem`: errors are ASP.NET ProblemDetails bodies, and a
    client reads them into typed errors with their field errors."""
    child = subprocess.Popen(
        [sys.executable, "-m", "smsflow", "sandbox", "--port", "0", "--balance", "0",
         "--error-style", "problem"],
        env=env_for(None, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        url = child.stdout.readline().split()[-1]
        with httpx.Client(base_url=url, timeout=10) as http:
            refused = http.get("/api/integration/Balance")  # no token
        from smsflow import SmsFlowClient, SmsFlowInsufficientBalanceError

        with (
            SmsFlowClient("sandbox-client", "sandbox-secret", base_url=url) as client,
            pytest.raises(SmsFlowInsufficientBalanceError) as raised,
        ):
            client.send_sms("c", [{"destination": "27820000000", "content": "hi"}])
    finally:
        child.send_signal(signal.SIGTERM)
        child.communicate(timeout=30)
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {"title", "status", "traceId"} <= set(refused.json())
    assert raised.value.trace_id is not None
    assert 0 == child.returncode


def test_sandbox_debug_logs_name_the_sandbox(tmp_path: Path) -> None:
    """--sandbox --debug never logs the production host."""
    done = cli(None, tmp_path, "--sandbox", "--debug", "balance")
    assert 0 == done.returncode
    assert "portal.smsflow.co.za" not in done.stderr
    assert "in-process-sandbox" in done.stderr


def test_an_invalid_setting_creates_no_output_and_sends_nothing(
    server: SandboxServer, tmp_path: Path
) -> None:
    """--batch-size over the API's limit: exit 2 naming the flag; no output file, no request."""
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_rows(source, 3)
    done = cli(server, tmp_path, "send", "--csv", str(source), "--output", str(out),
               "--batch-size", "5000")  # fmt: skip
    assert 2 == done.returncode
    assert "--batch-size must be" in done.stderr
    assert (False, 0) == (out.exists(), server.sandbox.request_count)
