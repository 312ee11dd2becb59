"""pytest plugin: fixtures backed by the smsflow sandbox (registered as ``pytest11: smsflow``).

Fixtures (each test gets fresh ones):

* ``smsflow_sandbox``: a new :class:`smsflow.testing.Sandbox` (default credentials, 1000.0
  credit). Change it in the test (``smsflow_sandbox.balance = 0``, ``fail_next(...)``).
* ``smsflow_client``: an :class:`smsflow.SmsFlowClient` answering from ``smsflow_sandbox``
  in-process; closed after the test.
* ``smsflow_async_client``: an :class:`smsflow.AsyncSmsFlowClient` likewise (a plain fixture:
  use it from any async test runner; closed after the test).
* ``smsflow_server``: a started :class:`smsflow.testing.SandboxServer` on a free loopback port
  serving ``smsflow_sandbox``; stopped after the test. Its ``url`` is the base URL.
* ``smsflow_fake_time``: for the test, every smsflow client (also ones your app creates)
  waits on a fake clock (:func:`smsflow.testing.fake_time`): retries and ``Retry-After``
  take no real time. The fixture's value is the :class:`~smsflow.testing.FakeTime`
  (``slept``, ``now``). Use it with ``@pytest.mark.usefixtures("smsflow_fake_time")`` or as
  an argument.

Importing this module is cheap and cannot fail: the sandbox is imported inside the fixtures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from smsflow import AsyncSmsFlowClient, SmsFlowClient
    from smsflow.testing import FakeTime, Sandbox, SandboxServer

__all__ = [
    "smsflow_async_client",
    "smsflow_client",
    "smsflow_fake_time",
    "smsflow_sandbox",
    "smsflow_server",
]


@pytest.fixture
def smsflow_fake_time() -> Iterator[FakeTime]:
    """Every smsflow client of the test sleeps on a fake clock (see ``fake_time``)."""
    from smsflow.testing import fake_time

    with fake_time() as clock:
        yield clock


@pytest.fixture
def smsflow_sandbox() -> Sandbox:
    """A fresh in-memory SMSFlow sandbox."""
    from smsflow.testing import Sandbox

    return Sandbox()


@pytest.fixture
def smsflow_client(smsflow_sandbox: Sandbox) -> Iterator[SmsFlowClient]:
    """A sync client wired to ``smsflow_sandbox`` in-process."""
    client = smsflow_sandbox.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def smsflow_async_client(smsflow_sandbox: Sandbox) -> Iterator[AsyncSmsFlowClient]:
    """An async client wired to ``smsflow_sandbox`` in-process."""
    client = smsflow_sandbox.async_client()
    try:
        yield client
    finally:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop running here: close it on a short-lived one
            asyncio.run(client.aclose())
        # else: the in-process transport holds no connection; nothing to release.


@pytest.fixture
def smsflow_server(smsflow_sandbox: Sandbox) -> Iterator[SandboxServer]:
    """A loopback HTTP server serving ``smsflow_sandbox``; its ``url`` is the base URL."""
    from smsflow.testing import SandboxServer

    with SandboxServer(smsflow_sandbox) as server:
        yield server
