"""Shared fixtures.

Every :class:`smsflow.testing.Sandbox` created during a test validates every request it gets
and every answer it gives against spec/openapi.yaml (tests/contract/observer.py); a violation
fails the test at teardown. A test that sends invalid requests on purpose says so with
``@pytest.mark.invalid_requests`` (answers are still validated).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from contract.observer import ContractObserver

from smsflow.testing import Sandbox


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "invalid_requests: the test sends requests that break the spec on purpose; "
        "the sandbox's answers are still validated",
    )


@pytest.fixture(autouse=True)
def contract_observer(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ContractObserver]:
    """Attach a spec-validating observer to every Sandbox created during the test."""
    observer = ContractObserver(
        check_requests=request.node.get_closest_marker("invalid_requests") is None
    )
    original_init = Sandbox.__init__

    def init(self: Sandbox, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.add_observer(observer)

    monkeypatch.setattr(Sandbox, "__init__", init)
    yield observer
    if observer.violations:
        pytest.fail(
            f"{len(observer.violations)} exchange(s) break spec/openapi.yaml:\n\n"
            + "\n\n".join(observer.violations),
            pytrace=False,
        )


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Which client a test drives: ``"sync"`` or ``"async"``."""
    return str(request.param)


@pytest.fixture(params=["smsflow", "problem"])
def error_style(request: pytest.FixtureRequest) -> str:
    """The sandbox's error body style a test runs in: SMSFlow's ``ErrorResponse`` or ASP.NET
    Core's RFC 9457 problem bodies (``Sandbox(error_style=...)``)."""
    return str(request.param)
