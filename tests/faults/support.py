"""Helpers of the reliability tests (the fault matrix here, and ``tests/test_soak.py``).

* :class:`WakeableSleep`: the sandbox server's sleep, cut short when a test ends.
* :func:`sync_transport` / :func:`async_transport`: transports on one shared, verifying TLS
  context (building a context costs ~30 ms; hundreds of clients would spend seconds on it).
* :func:`quiesce`: wait until a server has no open connection left.
"""

from __future__ import annotations

import ssl
import threading
from typing import Final

import httpx

from smsflow.testing import SandboxServer

TLS: Final = ssl.create_default_context()  # verifying (CERT_REQUIRED, check_hostname)


class WakeableSleep:
    """The sandbox server's sleep (for ``delay`` and ``trickle`` faults), cut short on demand.

    Handler threads still acting out a fault when a test ends are woken, so they finish and
    close their connections before the next test starts.
    """

    def __init__(self) -> None:
        self._wake = threading.Event()

    def __call__(self, seconds: float) -> None:
        self._wake.wait(seconds)

    def wake_all(self) -> None:
        """Wake every sleeper; later sleeps return at once until :meth:`rearm`."""
        self._wake.set()

    def rearm(self) -> None:
        """Sleep for real again."""
        self._wake.clear()


def sync_transport() -> httpx.HTTPTransport:
    """A transport for ``SmsFlowClient(transport=...)``, on the shared verifying context."""
    return httpx.HTTPTransport(verify=TLS)


def async_transport() -> httpx.AsyncHTTPTransport:
    """A transport for ``AsyncSmsFlowClient(transport=...)``, on the shared context."""
    return httpx.AsyncHTTPTransport(verify=TLS)


def quiesce(server: SandboxServer, sleep: WakeableSleep) -> None:
    """Wake the server's sleepers and close its connections; wait (at most 2 s) until none
    is left open, so the next test starts clean."""
    sleep.wake_all()
    server.close_connections()
    waiter = threading.Event()
    for _ in range(400):
        if server.open_connections == 0:
            break
        waiter.wait(0.005)
    sleep.rearm()
