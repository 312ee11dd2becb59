"""A sandbox observer that validates every exchange against the spec and keeps the violations.

The observer runs in whichever thread served the request (the loopback server's, too), so it
records violations instead of raising; ``tests/conftest.py`` fails the test with them.

Not validated on purpose:
* the request, when the test says it sends invalid requests (``check_requests=False``);
* the response of an ``html``, ``malformed``, ``redirect`` or canned ``reply`` fault (off-spec
  by design: a test's scripted answer, e.g. a JSON array on a 200);
* the response of a dropped connection or a ``raise`` fault (there is none).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import httpx

from smsflow.testing import SandboxReply

from .openapi_adapter import SERVER_URL, ContractViolationError, validate_exchange

__all__ = ["ContractObserver"]

_OFF_SPEC_FAULTS = frozenset({"html", "malformed", "redirect", "reply"})
_MAX_KEPT = 20
_MAX_CHARS = 3000


class ContractObserver:
    """Call it as a sandbox observer; read :attr:`violations` afterwards."""

    def __init__(self, *, check_requests: bool = True) -> None:
        self.check_requests = check_requests
        self.exchanges = 0
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        request = httpx.Request(method, SERVER_URL + path, headers=dict(headers), content=body)
        response: httpx.Response | None = None
        if reply.answered and reply.fault not in _OFF_SPEC_FAULTS:
            response = httpx.Response(
                reply.status, headers=dict(reply.headers), content=reply.body, request=request
            )
        try:
            validate_exchange(request, response, check_request=self.check_requests)
        except ContractViolationError as violation:
            with self._lock:
                if len(self.violations) < _MAX_KEPT:
                    text = str(violation)
                    self.violations.append(
                        text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS] + "..."
                    )
        with self._lock:
            self.exchanges += 1
