"""Issue 11, item 13: a wrong secret never hides behind a cached token.

The token stores' key covers the client secret through a keyed hash (never the secret
itself), so a client with another secret does not find the token fetched with the right one:
it asks for a token, is refused, and its error says which variables to check. Both clients,
and the command line (which caches tokens in files between runs).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from smsflow import FileTokenStore, SmsFlowAuthenticationError
from smsflow._cli import main
from smsflow.testing import Sandbox, SandboxServer

SECRET: Final = "right-secret-8c1d"
WRONG: Final = "wrong-secret-3f7a"


def balance(flavour: str, sandbox: Sandbox, store: FileTokenStore, secret: str) -> float:
    if flavour == "sync":
        with sandbox.client(client_secret=secret, token_store=store) as client:
            return client.get_balance().balance

    async def run() -> float:
        async with sandbox.async_client(client_secret=secret, token_store=store) as client:
            return (await client.get_balance()).balance

    return asyncio.run(run())


def test_a_wrong_secret_is_refused_despite_a_cached_token(tmp_path: Path, flavour: str) -> None:
    """After a run with the right secret, a run with a wrong one asks for a token, is refused,
    and names SMSFLOW_CLIENT_ID and SMSFLOW_CLIENT_SECRET."""
    sandbox = Sandbox(client_secret=SECRET, balance=12.0)
    store = FileTokenStore(tmp_path)
    assert 12.0 == balance(flavour, sandbox, store, SECRET)
    with pytest.raises(SmsFlowAuthenticationError) as info:
        balance(flavour, sandbox, store, WRONG)
    assert 2 == sandbox.token_requests
    assert "SMSFLOW_CLIENT_ID" in str(info.value)
    assert "SMSFLOW_CLIENT_SECRET" in str(info.value)
    assert WRONG not in str(info.value)
    assert 12.0 == balance(flavour, sandbox, store, SECRET)  # the right one still cached
    assert 2 == sandbox.token_requests


def test_store_file_names_hold_no_secret_and_differ_by_secret(tmp_path: Path) -> None:
    """The key is a keyed hash: no piece of the secret in the file name, and another secret
    gives another key."""
    sandbox = Sandbox(client_secret=SECRET)
    store = FileTokenStore(tmp_path)
    balance("sync", sandbox, store, SECRET)
    sandbox.client_secret = WRONG
    balance("sync", sandbox, store, WRONG)
    names = sorted(p.name for p in tmp_path.glob("token-*.json"))
    assert 2 == len(names)
    assert not any(SECRET[:8] in n or WRONG[:8] in n for n in names)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SandboxServer]:
    sandbox = Sandbox(client_id="cli-client", client_secret=SECRET, balance=5.0)
    with SandboxServer(sandbox) as srv:
        monkeypatch.setenv("SMSFLOW_CLIENT_ID", "cli-client")
        monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", SECRET)
        monkeypatch.setenv("SMSFLOW_BASE_URL", srv.url)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        yield srv


def test_cli_balance_with_a_wrong_secret_fails_after_a_good_run(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`smsflow balance` then `SMSFLOW_CLIENT_SECRET=wrong smsflow balance`: exit 1, and the
    error names the variables to check."""
    assert 0 == main(["balance"], out=io.StringIO())
    capsys.readouterr()
    monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", WRONG)
    out = io.StringIO()
    assert 1 == main(["balance"], out=out)
    err = capsys.readouterr().err
    assert "balance" not in out.getvalue()
    assert "SMSFLOW_CLIENT_SECRET" in err
    assert WRONG not in err
