"""schemathesis property tests of the sandbox against the spec: in-process as a WSGI app (in
both error body styles: SMSFlow's and ASP.NET Core's RFC 9457), and over real sockets through
the loopback SandboxServer.

Every operation gets ``SMSFLOW_SCHEMATHESIS_EXAMPLES`` generated cases (default 25) per phase,
valid and invalid, with valid credentials (Basic for the token call, a fresh bearer token for the
others) supplied as explicit headers so schemathesis also probes missing and invalid auth.
All of schemathesis' default checks run; besides them, every answer is validated by openapi-core
(tests/contract/observer.py). Run the long version with::

    SMSFLOW_SCHEMATHESIS_EXAMPLES=200 pytest tests/contract/test_schemathesis.py
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings

from smsflow.testing import Sandbox, SandboxServer, wsgi_app

from .observer import ContractObserver
from .openapi_adapter import SPEC_PATH

MAX_EXAMPLES = int(os.environ.get("SMSFLOW_SCHEMATHESIS_EXAMPLES", "25"))

# One sandbox for the module: it outlives the per-test autouse observer, so it gets its own
# (responses only: schemathesis sends invalid requests on purpose).
OBSERVER = ContractObserver(check_requests=False)
SANDBOX = Sandbox(balance=1e12, record_messages=False, max_records=100_000, observer=OBSERVER)
BASIC = (
    "Basic " + base64.b64encode(f"{SANDBOX.client_id}:{SANDBOX.client_secret}".encode()).decode()
)


def _spec_with_documented_rules() -> dict[str, Any]:
    """The spec, plus what its regular expression cannot say, so generation can follow it.

    ``SendOptions.startDeliveryUtc`` is a string with a ``...Z`` pattern (not ``format:
    date-time``, which would make the generated model write ``+00:00``); the pattern accepts
    impossible dates such as ``2030-02-31``, which the sandbox refuses with 400 as ASP.NET
    would. Adding ``format: date-time`` here makes schemathesis generate real dates.
    """
    document: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    options = document["components"]["schemas"]["SendOptions"]["properties"]
    options["startDeliveryUtc"].setdefault("format", "date-time")
    return document


def _auth(case: schemathesis.Case[Any], sandbox: Sandbox) -> dict[str, str]:
    if case.operation.path == "/api/integration/authentication":
        return {"Authorization": BASIC}
    return {"Authorization": f"Bearer {sandbox.issue_token()}"}


SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("SMSFLOW_SCHEMATHESIS_RANDOM") is None,
)

schema = schemathesis.openapi.from_dict(_spec_with_documented_rules())
schema.app = wsgi_app(SANDBOX)
server_schema = schemathesis.openapi.from_dict(_spec_with_documented_rules())
# The same sandbox answering in ASP.NET Core's RFC 9457 style, held to the same spec.
PROBLEM_SANDBOX = Sandbox(
    balance=1e12, record_messages=False, max_records=1000, observer=OBSERVER, error_style="problem"
)
problem_schema = schemathesis.openapi.from_dict(_spec_with_documented_rules())
problem_schema.app = wsgi_app(PROBLEM_SANDBOX)
SERVER_SANDBOX = Sandbox(balance=1e12, record_messages=False, max_records=1000, observer=OBSERVER)


@pytest.fixture(scope="module")
def loopback() -> Iterator[SandboxServer]:
    with SandboxServer(SERVER_SANDBOX) as server:
        yield server


@schema.parametrize()
@SETTINGS
def test_sandbox_follows_the_spec(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers=_auth(case, SANDBOX))
    assert not OBSERVER.violations, "\n\n".join(OBSERVER.violations)


@server_schema.parametrize()
@SETTINGS
def test_loopback_server_follows_the_spec(
    case: schemathesis.Case[Any], loopback: SandboxServer
) -> None:
    case.call_and_validate(base_url=loopback.url, headers=_auth(case, SERVER_SANDBOX))
    assert not OBSERVER.violations, "\n\n".join(OBSERVER.violations)


@problem_schema.parametrize()
@SETTINGS
def test_problem_style_sandbox_follows_the_spec(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(headers=_auth(case, PROBLEM_SANDBOX))
    assert not OBSERVER.violations, "\n\n".join(OBSERVER.violations)
