"""The pytest plugin's fixtures, used as a user would (here, and in a separate pytest run)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

import smsflow
from smsflow.testing import Sandbox, SandboxServer


def test_sandbox_fixture_is_fresh(smsflow_sandbox: Sandbox) -> None:
    assert smsflow_sandbox.balance == 1000.0
    assert smsflow_sandbox.request_count == 0


def test_client_fixture(smsflow_client: smsflow.SmsFlowClient, smsflow_sandbox: Sandbox) -> None:
    result = smsflow_client.send_sms(
        campaign_name="Fixture test",
        messages=[{"destination": "27821234567", "content": "Hello"}],
    )
    assert result["sendResponse"]["eventId"] == 100001
    assert smsflow_client.get_balance()["balance"] == 999.75
    assert [m.content for m in smsflow_sandbox.messages] == ["Hello"]


def test_async_client_fixture(
    smsflow_async_client: smsflow.AsyncSmsFlowClient, smsflow_sandbox: Sandbox
) -> None:
    async def main() -> float:
        await smsflow_async_client.send_sms(
            campaign_name="Async fixture",
            messages=[{"destination": "27831234567", "content": "Hi"}],
        )
        return float((await smsflow_async_client.get_balance())["balance"])

    assert asyncio.run(main()) == 999.75
    assert smsflow_sandbox.accepted_count == 1


def test_server_fixture(smsflow_server: SandboxServer, smsflow_sandbox: Sandbox) -> None:
    assert smsflow_server.sandbox is smsflow_sandbox
    with smsflow.SmsFlowClient(
        client_id="sandbox-client", client_secret="sandbox-secret", base_url=smsflow_server.url
    ) as client:
        assert client.get_balance()["balance"] == 1000.0
    assert smsflow_sandbox.token_requests == 1


USER_TESTS = """
    import asyncio

    import pytest
    import smsflow


    def test_send(smsflow_client, smsflow_sandbox):
        smsflow_client.send_sms(
            campaign_name="c", messages=[{"destination": "27821234567", "content": "x"}]
        )
        assert smsflow_sandbox.accepted_count == 1


    def test_no_credit(smsflow_client, smsflow_sandbox):
        smsflow_sandbox.balance = 0
        with pytest.raises(smsflow.SmsFlowInsufficientBalanceError):
            smsflow_client.send_sms(
                campaign_name="c", messages=[{"destination": "27821234567", "content": "x"}]
            )


    def test_async(smsflow_async_client):
        balance = asyncio.run(smsflow_async_client.get_balance())
        assert balance["balance"] == 1000.0


    def test_server(smsflow_server):
        with smsflow.SmsFlowClient(
            client_id="sandbox-client", client_secret="sandbox-secret", base_url=smsflow_server.url
        ) as client:
            assert client.get_balance()["balance"] == 1000.0
"""


def test_fixtures_in_a_user_project(tmp_path: Path) -> None:
    """The entry point registers the plugin: a project without any conftest gets the fixtures."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS), encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(  # our own interpreter, fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys; import smsflow.testing.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith('smsflow.testing.')))"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    # the sandbox itself is only imported when a fixture is used
    assert done.stdout.strip() == "['smsflow.testing.pytest_plugin']"


def test_client_helpers_accept_overrides() -> None:
    sandbox = Sandbox(client_secret="other")
    with sandbox.client(timeout=5) as client:
        assert client.get_balance()["balance"] == 1000.0
    bad = sandbox.client(client_secret="wrong")
    with pytest.raises(smsflow.SmsFlowAuthenticationError):
        bad.get_balance()
    bad.close()
    own = httpx.Client(transport=sandbox.transport())
    with sandbox.client(http_client=own) as client:
        client.get_balance()
    own.close()
    assert sandbox.token_requests == 3
