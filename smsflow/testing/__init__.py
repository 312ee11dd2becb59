"""A local SMSFlow sandbox for tests and demos: an in-memory account that answers exactly as
``spec/openapi.yaml`` documents, with fault injection, behind three front ends.

* :class:`Sandbox`: the state and the request handler (``sandbox.client()``,
  ``sandbox.async_client()`` and ``sandbox.transport()`` wire the SDK to it in-process).
* :class:`SandboxTransport`: an in-process httpx transport (sync and async).
* :class:`SandboxServer`: a loopback HTTP/1.1 server (``with SandboxServer() as server:``).
* :func:`serve`: serve a sandbox until Ctrl-C (``smsflow sandbox --port 8025``).
* pytest fixtures ``smsflow_sandbox``, ``smsflow_client``, ``smsflow_async_client`` and
  ``smsflow_server`` come with the package (plugin ``smsflow.testing.pytest_plugin``).

Names are imported on first use, so ``import smsflow.testing`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._fake_time import FakeTime, fake_time
    from ._faults import Fault, FaultKind
    from ._records import RequestRecord, SendEvent, SentMessage
    from ._replies import SandboxReply
    from ._sandbox import Sandbox
    from ._server import SandboxServer, serve, wsgi_app
    from ._transport import SandboxTransport

__all__ = [
    "Sandbox",
    "SandboxServer",
    "SandboxTransport",
    "serve",
    "wsgi_app",
    "SandboxReply",
    "RequestRecord",
    "SendEvent",
    "SentMessage",
    "Fault",
    "FaultKind",
    "FakeTime",
    "fake_time",
]

_WHERE = {
    "Sandbox": "._sandbox",
    "SandboxReply": "._replies",
    "RequestRecord": "._records",
    "SendEvent": "._records",
    "SentMessage": "._records",
    "SandboxServer": "._server",
    "serve": "._server",
    "wsgi_app": "._server",
    "SandboxTransport": "._transport",
    "Fault": "._faults",
    "FaultKind": "._faults",
    "FakeTime": "._fake_time",
    "fake_time": "._fake_time",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
