"""The fault matrix: each fault, each operation, both clients, against a real loopback server.

Every case of ``tests/faults/matrix.py`` is injected into a :class:`SandboxServer` and must end
in its documented outcome: the exact typed error (never an untyped exception) with
``retry_retries=0``, and with ``retry_retries=1`` either one retry that succeeds or the same
error without a retry. Whatever happens, no message is accepted twice, and an error that does
not say ``outcome_unknown`` means nothing was accepted. The README "Errors" table is checked
against the same cases row by row.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from contract.observer import ContractObserver

from smsflow import AsyncSmsFlowClient, SmsFlowClient, SmsFlowError, SmsFlowNetworkError
from smsflow.testing import Sandbox, SandboxServer

from .matrix import (
    BACKOFF,
    CASES,
    JITTER,
    RESULT_TYPE,
    SHORT_TIMEOUT,
    Case,
    Expect,
    Mode,
    Observed,
    Op,
    close_idle,
    run_async,
    run_sync,
)
from .support import sync_transport

README: Final = Path(__file__).resolve().parents[2] / "README.md"


def _params() -> Iterator[object]:
    for case in CASES:
        for op in case.ops:
            modes: tuple[Mode, ...] = (
                ("once", "retry", "opt_in") if op == "send_sms" else ("once", "retry")
            )
            for mode in modes:
                for kind in ("sync", "async"):
                    yield pytest.param(case, op, mode, kind, id=f"{case.name}-{op}-{mode}-{kind}")


def _observe(case: Case, op: Op, mode: Mode, kind: str, server: SandboxServer) -> Observed:
    if kind == "sync":
        return run_sync(case, op, mode, server.sandbox, server)
    return asyncio.run(run_async(case, op, mode, server.sandbox, server))


def _check_error(expect: Expect, seen: Observed) -> None:
    error = seen.error
    assert error is not None, f"expected {expect.error}, the call returned {seen.result}"
    assert expect.error is type(error), repr(error)
    actual = (error.status_code, error.code, error.retryable, error.outcome_unknown)
    assert (expect.status, expect.code, expect.retryable, expect.outcome_unknown) == actual
    if expect.retry_after is None:
        assert error.retry_after is None
    else:
        assert error.retry_after is not None
        assert expect.retry_after[0] <= error.retry_after <= expect.retry_after[1]


@pytest.mark.parametrize(("case", "op", "mode", "kind"), list(_params()))
def test_fault_ends_in_its_documented_outcome(
    case: Case,
    op: Op,
    mode: Mode,
    kind: str,
    server: SandboxServer,
    contract_observer: ContractObserver,
) -> None:
    """The fault ends in the documented typed error, or in exactly one retry that succeeds."""
    # The contract observer checks every exchange of the sync runs against the spec (~12 ms
    # each). The async runs are not checked again: they make the same requests
    # (tests/test_parity.py) and get the same answers. Off-spec answers are on purpose.
    if case.off_spec or kind == "async":
        server.sandbox.remove_observer(contract_observer)
    expect = case.expect(op)
    seen = _observe(case, op, mode, kind, server)

    assert 0 == seen.duplicates
    if expect.error is None:
        assert (RESULT_TYPE[op], []) == (seen.result, seen.sleeps), seen.error
    elif expect.retried_in(mode):
        assert (RESULT_TYPE[op], 2) == (seen.result, seen.attempts), seen.error
        low, high = expect.retry_after or (BACKOFF, BACKOFF)
        assert len(seen.sleeps) == 1
        assert low <= seen.sleeps[0] <= high
    else:
        _check_error(expect, seen)
        assert (1, []) == (seen.attempts, seen.sleeps)
    if op == "send_sms":
        sent_once = seen.result is not None or (case.processed and case.endpoint is None)
        if seen.error is not None and not seen.error.outcome_unknown:
            assert 0 == seen.accepted  # no outcome_unknown: the SMS was not sent
        else:
            assert (1 if sent_once else 0) == seen.accepted


def test_revoked_token_gets_one_new_token_and_one_replay(server: SandboxServer) -> None:
    """A 401 on a cached token: one token request, one replay, no retry sleep."""
    sandbox = server.sandbox
    sleeps: list[float] = []
    with SmsFlowClient(
        sandbox.client_id,
        sandbox.client_secret,
        server.url,
        5,
        sleep=sleeps.append,
        transport=sync_transport(),
    ) as client:
        client.get_balance()
        sandbox.revoke_tokens()
        client.send_sms("Fault matrix", [{"destination": "27821234567", "content": "x"}])
        assert (2, []) == (client.token_requests, sleeps)
    statuses = [(r.endpoint, r.status) for r in sandbox.requests]
    expected = [("token", 200), ("balance", 200), ("send", 401), ("token", 200), ("send", 200)]
    assert expected == statuses


def test_idle_connection_closed_by_the_server_costs_no_request(server: SandboxServer) -> None:
    """After the server closes an idle pooled connection, the next call opens a new one."""
    sandbox = server.sandbox
    with SmsFlowClient(
        sandbox.client_id, sandbox.client_secret, server.url, 5, transport=sync_transport()
    ) as client:
        client.get_balance()
        assert 1 == server.open_connections  # the pooled keep-alive connection
        close_idle(sandbox, server, "balance")
        client.get_balance()
    expected = [("token", 200), ("balance", 200), ("balance", 200)]
    assert expected == [(r.endpoint, r.status) for r in sandbox.requests]


# -- the README's errors table and the matrix, row for row ------------------------------------


def readme_errors_table() -> dict[str, tuple[str, str, str]]:
    """The README "Errors" table: first cell -> (exception, retryable, retried when ...)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and not set(cells[0]) <= {"-"} and cells[0] != "what happened":
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    return rows


def _expectations() -> Iterator[object]:
    for case in CASES:
        for op_kind, expect in (("token/balance", case.idempotent), ("send", case.send)):
            if expect.error is not None:
                yield pytest.param(case, op_kind, expect, id=f"{case.name}-{op_kind}")


@pytest.mark.parametrize(("case", "op_kind", "expect"), list(_expectations()))
def test_readme_errors_table_documents_the_matrix(case: Case, op_kind: str, expect: Expect) -> None:
    """Each matrix outcome has its README row, naming the same exception, retryability, codes
    and ``outcome_unknown``."""
    table = readme_errors_table()
    assert expect.row in table, f"README has no errors row {expect.row!r}"
    assert expect.error is not None
    exception, retryable, _ = table[expect.row]
    named = re.findall(r"SmsFlow\w+", exception)
    if named:  # "the token call's error" names none: it is the error of that call
        assert expect.error.__name__ in named
    documented = {"yes": True, "no": False, "token/balance only": op_kind == "token/balance"}
    if retryable in documented:
        assert documented[retryable] == expect.retryable
    codes = re.findall(r"`([A-Z_]+)`", exception)
    if codes:
        assert expect.code in codes
    if "outcome_unknown=True" in exception and op_kind == "send":
        assert expect.outcome_unknown


IN_PROCESS: Final = [
    ("reset", {}, "CONNECTION_LOST"),
    ("trickle", {"seconds": 0.05}, "TIMEOUT"),
    ("redirect", {}, "UNEXPECTED_RESPONSE"),
    ("malformed", {"body": b"[]"}, "UNEXPECTED_RESPONSE"),
]


@pytest.mark.parametrize(("kind", "options", "code"), IN_PROCESS)
def test_in_process_transport_acts_out_the_new_faults_like_the_server(
    kind: str, options: dict[str, object], code: str, contract_observer: ContractObserver
) -> None:
    """sandbox.transport() gives the same outcome as the loopback server for the fault kinds
    added for this matrix (reset, trickle, redirect, a chosen malformed body)."""
    sandbox = Sandbox()
    sandbox.remove_observer(contract_observer)  # a redirect is off the spec on purpose
    getattr(sandbox, f"{kind}_next")(endpoint="balance", **options)
    with (
        sandbox.client(timeout=SHORT_TIMEOUT) as client,
        pytest.raises(SmsFlowError) as info,
    ):
        client.get_balance()
    assert code == info.value.code
    assert 0 == sandbox.pending_faults()


@pytest.fixture
def refused_url() -> str:
    """A loopback URL where nothing listens (a port just bound and closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _send_to(url: str, kind: str, sleeps: list[float]) -> None:
    """One send with two retries allowed, through the sync or the async client."""
    message = [{"destination": "27821234567", "content": "Refused."}]
    if kind == "sync":
        with SmsFlowClient(
            "id", "secret", url, 5, 2, sleep=sleeps.append, random_source=lambda: JITTER
        ) as client:
            client.send_sms("Refused", message)
        return

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> None:
        async with AsyncSmsFlowClient(
            "id", "secret", url, 5, 2, sleep=sleep, random_source=lambda: JITTER
        ) as client:
            await client.send_sms("Refused", message)

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_connection_refused_is_retried_even_for_a_send(refused_url: str, kind: str) -> None:
    """A refused connection proves nothing was sent: CONNECT_FAILED, retried for a send too."""
    sleeps: list[float] = []
    with pytest.raises(SmsFlowError) as info:
        _send_to(refused_url, kind, sleeps)
    error = info.value
    assert SmsFlowNetworkError is type(error)
    assert ("CONNECT_FAILED", True, False) == (error.code, error.retryable, error.outcome_unknown)
    assert [BACKOFF, 2 * BACKOFF] == sleeps
