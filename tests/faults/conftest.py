"""Fixtures of the fault matrix: one loopback sandbox server per module, reset per test.

Starting and stopping a server costs ~50 ms; hundreds of matrix cases would spend most of
their time there. So each module shares one :class:`SandboxServer`, whose sandbox is reset
(state, faults, credentials) before each test and gets that test's contract observer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Final

import pytest
from contract.observer import ContractObserver

from smsflow.testing import Sandbox, SandboxServer

from .support import WakeableSleep, quiesce

SECRET: Final = "matrix-secret-0b1c"


@pytest.fixture(scope="module")
def shared_server() -> Iterator[tuple[SandboxServer, WakeableSleep]]:
    """One loopback sandbox server for the whole module."""
    sleep = WakeableSleep()
    sandbox = Sandbox(client_id="matrix-client", client_secret=SECRET, sleep=sleep)
    with SandboxServer(sandbox) as server:
        yield server, sleep
        sleep.wake_all()


@pytest.fixture
def server(
    shared_server: tuple[SandboxServer, WakeableSleep], contract_observer: ContractObserver
) -> Iterator[SandboxServer]:
    """The shared server with a fresh sandbox state, checked by this test's contract observer."""
    running, sleep = shared_server
    sandbox = running.sandbox
    sandbox.reset()
    sandbox.client_secret = SECRET
    sandbox.add_observer(contract_observer)
    try:
        yield running
    finally:
        quiesce(running, sleep)
        with contextlib.suppress(ValueError):  # the test detached it (off-spec on purpose)
            sandbox.remove_observer(contract_observer)
