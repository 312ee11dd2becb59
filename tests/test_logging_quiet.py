"""Issue 11, item 10: nothing is printed unless the application or ``SMSFLOW_LOG`` asks.

A retry logs a WARNING on the ``smsflow`` logger. Without any logging set up, Python's
last-resort handler would print it to stderr; the library's ``NullHandler`` stops that. The
scenario runs in a fresh interpreter (logging state is per process), for both clients.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[1]

SCRIPT: Final = """
import asyncio, sys
from smsflow.testing import Sandbox

sandbox = Sandbox()
sandbox.fail_next(1, endpoint="balance", status=503)
if sys.argv[1] == "sync":
    with sandbox.client(retry_retries=1, sleep=lambda s: None) as client:
        client.get_balance()
else:
    async def nap(seconds):
        return None
    async def main():
        async with sandbox.async_client(retry_retries=1, sleep=nap) as client:
            await client.get_balance()
    asyncio.run(main())
assert sandbox.request_count == 3  # token, 503, retry: a retry warning was logged
print("done")
"""


def run(flavour: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "SMSFLOW_LOG"}
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
    environ.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, flavour],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


def test_nothing_is_printed_without_logging_set_up(flavour: str) -> None:
    """SMSFLOW_LOG unset, no logging configured: a retried call prints nothing to stderr."""
    done = run(flavour)
    assert (0, "done\n", "") == (done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("level", ["warning", "debug"])
def test_smsflow_log_still_prints_the_retry_warning(flavour: str, level: str) -> None:
    """SMSFLOW_LOG=warning (or debug) prints the retry line to stderr."""
    done = run(flavour, SMSFLOW_LOG=level)
    assert 0 == done.returncode
    assert "SERVICE_UNAVAILABLE; retry 1 of 1" in done.stderr
