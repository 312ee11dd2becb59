"""Every usage example of smsflow 0.2.0's PyPI page runs unchanged against a local server.

The examples are copied from ``shared/seed/smsflow-0.2.0-pypi-readme.txt`` (that page lost
its indentation; only the indentation is restored here). They run in one namespace, in page
order, as a user's script would, with the credentials and ``SMSFLOW_BASE_URL`` exported and
the sandbox's loopback server answering.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smsflow.testing import Sandbox, SandboxServer

ROOT = Path(__file__).resolve().parents[1]

USAGE = """
import os
from smsflow import SmsFlowClient
client = SmsFlowClient(
client_id=os.environ["SMSFLOW_CLIENT_ID"],
client_secret=os.environ["SMSFLOW_CLIENT_SECRET"],
timeout=30,
)
response = client.send_sms(
campaign_name="Python SDK example",
messages=[
{
"destination": "27000000000",
"content": "Your SMSFlow Python test message was sent successfully.",
}
],
)
print(response["sendResponse"]["eventId"])
"""

BULK_SEND = """
client.send_sms(
campaign_name="Order dispatch alerts",
messages=[
{"destination": "27000000000", "content": "Order 1001 has shipped."},
{"destination": "27000000001", "content": "Order 1002 has shipped."},
],
)
"""

CHECK_BALANCE = """
balance = client.get_balance()
print(balance["balance"])
"""

ERROR_HANDLING = """
from smsflow import SmsFlowAuthenticationError, SmsFlowError, SmsFlowValidationError
try:
    client.send_sms(
    campaign_name="Transactional SMS",
    messages=[{"destination": "27000000000", "content": "Hello from SMSFlow."}],
    )
except SmsFlowAuthenticationError:
    print("Check your SMSFlow Client ID and Client Secret.")
    raise
except SmsFlowValidationError as exc:
    print("Fix the request before retrying.", exc.code, exc.body)
    raise
except SmsFlowError as exc:
    print(exc.status_code, exc.code, exc.retryable, exc.body)
    raise
"""

TIMEOUTS_AND_RETRIES = """
client = SmsFlowClient(
client_id=os.environ["SMSFLOW_CLIENT_ID"],
client_secret=os.environ["SMSFLOW_CLIENT_SECRET"],
timeout=30,
retry_retries=2,
retry_base_delay=0.25,
retry_max_delay=2.0,
)
balance = client.get_balance() # Safe to retry temporary failures.
client.send_sms(
campaign_name="Transactional SMS",
retry=True, # Use only with your own idempotency or duplicate-send guard.
messages=[{"destination": "27000000000", "content": "Hello from SMSFlow."}],
)
"""


@pytest.fixture
def vendor_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sandbox, str]]:
    """A loopback sandbox server, with the vendor's environment variables pointing at it."""
    sandbox = Sandbox(client_id="YOUR_CLIENT_ID", client_secret="YOUR_CLIENT_SECRET")
    with SandboxServer(sandbox) as server:
        monkeypatch.setenv("SMSFLOW_CLIENT_ID", "YOUR_CLIENT_ID")
        monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", "YOUR_CLIENT_SECRET")
        monkeypatch.setenv("SMSFLOW_BASE_URL", server.url)
        yield sandbox, server.url


def _run(code: str, namespace: dict[str, Any]) -> None:
    exec(compile(code, "<vendor README>", "exec"), namespace)  # noqa: S102 - the examples


def _close_clients(namespace: dict[str, Any], *extra: Any) -> None:
    for client in (namespace.get("client"), *extra):
        if client is not None:
            client.close()


def test_every_vendor_example_runs_unchanged(
    vendor_env: tuple[Sandbox, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's examples, in order, send and print what the page says they print."""
    sandbox, _ = vendor_env
    namespace: dict[str, Any] = {"__name__": "__vendor_readme__"}
    _run(USAGE, namespace)
    first_event = namespace["response"]["sendResponse"]["eventId"]
    _run(BULK_SEND, namespace)
    _run(CHECK_BALANCE, namespace)
    printed_balance = namespace["balance"]["balance"]
    _run(ERROR_HANDLING, namespace)
    first_client = namespace["client"]
    _run(TIMEOUTS_AND_RETRIES, namespace)
    _close_clients(namespace, first_client)

    printed = capsys.readouterr().out.split()
    assert [str(first_event), str(printed_balance)] == printed
    assert 1000.0 - 3 * 0.25 == printed_balance
    assert isinstance(first_event, int)
    sent = [(m.destination, m.content) for m in sandbox.messages]
    assert [
        ("27000000000", "Your SMSFlow Python test message was sent successfully."),
        ("27000000000", "Order 1001 has shipped."),
        ("27000000001", "Order 1002 has shipped."),
        ("27000000000", "Hello from SMSFlow."),
        ("27000000000", "Hello from SMSFlow."),
    ] == sent


def test_vendor_error_example_reports_bad_credentials(
    vendor_env: tuple[Sandbox, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With a wrong secret, the page's error handler prints its hint and re-raises."""
    from smsflow import SmsFlowAuthenticationError

    monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", "wrong-secret")
    namespace: dict[str, Any] = {}
    _run(
        "import os\nfrom smsflow import SmsFlowClient\n"
        "client = SmsFlowClient(client_id=os.environ['SMSFLOW_CLIENT_ID'],"
        " client_secret=os.environ['SMSFLOW_CLIENT_SECRET'], timeout=30)\n",
        namespace,
    )
    try:
        with pytest.raises(SmsFlowAuthenticationError):
            _run(ERROR_HANDLING, namespace)
    finally:
        _close_clients(namespace)
    out = capsys.readouterr().out
    assert "Check your SMSFlow Client ID and Client Secret.\n" == out
    assert "wrong-secret" not in out


def test_vendor_local_test_send_script(vendor_env: tuple[Sandbox, str]) -> None:
    """`PYTHONPATH=src python examples/send_sms.py` prints the event id of one sent SMS."""
    sandbox, _ = vendor_env
    env = {**os.environ, "SMSFLOW_DESTINATION": "27000000000", "PYTHONPATH": "src"}
    done = subprocess.run(
        [sys.executable, "examples/send_sms.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == done.returncode, done.stderr
    assert [str(sandbox.events[-1].event_id)] == done.stdout.split()
    assert "YOUR_CLIENT_SECRET" not in done.stdout + done.stderr


def test_example_script_is_importable() -> None:
    """The example module defines main() and does nothing on import."""
    namespace = runpy.run_path(str(ROOT / "examples" / "send_sms.py"), run_name="not_main")
    assert callable(namespace["main"])
