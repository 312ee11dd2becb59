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
import smsflow.testing
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


def test_fake_time_fixture_makes_an_apps_own_client_wait_on_a_fake_clock(
    smsflow_fake_time: smsflow.testing.FakeTime,
    smsflow_server: SandboxServer,
    smsflow_sandbox: Sandbox,
) -> None:
    """An app's own client (retry_retries=2) meets 429 + Retry-After: 3 twice: it waits 3 s
    twice on the fake clock, not the real one, and gets its answer."""
    smsflow_sandbox.fail_next(2, endpoint="balance", status=429, retry_after=3)
    start = smsflow_fake_time.now
    with smsflow.SmsFlowClient(
        client_id="sandbox-client",
        client_secret="sandbox-secret",
        base_url=smsflow_server.url,
        retry_retries=2,
    ) as app_client:
        assert 1000.0 == app_client.get_balance().balance
    assert [3.0, 3.0] == smsflow_fake_time.slept
    assert 6.0 == smsflow_fake_time.now - start


def test_fake_time_covers_async_clients_and_is_undone_after_the_block() -> None:
    """fake_time() also fakes async clients' waits; afterwards clients wait for real again."""
    from smsflow import _waits
    from smsflow.testing import fake_time

    sandbox = Sandbox()
    sandbox.fail_next(1, endpoint="balance", status=429, retry_after=2)
    with fake_time() as clock:

        async def main() -> float:
            async with sandbox.async_client(retry_retries=1) as client:
                return (await client.get_balance()).balance

        assert 1000.0 == asyncio.run(main())
    assert [2.0] == clock.slept
    assert _waits._fake is None
