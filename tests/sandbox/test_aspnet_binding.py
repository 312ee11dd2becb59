"""Binding as ASP.NET Core binds, through real HTTP to a loopback SandboxServer: paths match
case-insensitively on the token, send and balance routes, and JSON keys bind
case-insensitively at every level (``SendOptions.campaignName``, ``messages[].destination``).
Where the sandbox is stricter (unknown request keys are refused), the refusal names the key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from contract.observer import ContractObserver

from smsflow.testing import Sandbox, SandboxServer

from .support import basic, bearer

OPTED_OUT = "27829999999"


@pytest.fixture
def server(contract_observer: ContractObserver) -> Iterator[SandboxServer]:
    """A loopback server on 127.0.0.1; the contract observer is off: paths and keys are off
    the spec's spelling on purpose (answers to them are checked by the assertions here)."""
    sandbox = Sandbox(balance=100.0, opt_outs={OPTED_OUT})
    sandbox.remove_observer(contract_observer)
    with SandboxServer(sandbox) as running:
        yield running


@pytest.fixture
def http(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5.0) as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/api/integration/authentication",
        "/API/INTEGRATION/AUTHENTICATION",
        "/Api/Integration/Authentication",
    ],
)
def test_token_route_matches_any_case(path: str, server: SandboxServer, http: httpx.Client) -> None:
    """The token endpoint answers at any spelling of its path's case."""
    sandbox = server.sandbox
    answer = http.get(path, headers=basic(sandbox.client_id, sandbox.client_secret))
    assert 200 == answer.status_code
    assert (1, "token") == (sandbox.tokens_issued, sandbox.requests[-1].endpoint)


@pytest.mark.parametrize(
    "path", ["/api/integration/Balance", "/API/INTEGRATION/BALANCE", "/api/Integration/balance"]
)
def test_balance_route_matches_any_case(
    path: str, server: SandboxServer, http: httpx.Client
) -> None:
    """The balance endpoint answers at any spelling of its path's case."""
    answer = http.get(path, headers=bearer(server.sandbox.issue_token()))
    assert (200, {"balance": 100.0}) == (answer.status_code, answer.json())


@pytest.mark.parametrize(
    "path",
    [
        "/api/integration/BulkMessages",
        "/api/integration/bulkmessages",
        "/API/INTEGRATION/BULKMESSAGES",
    ],
)
def test_send_route_and_nested_keys_bind_in_any_case(
    path: str, server: SandboxServer, http: httpx.Client
) -> None:
    """A send at any case of its path, with every key in another case, is read as the spec's
    keys: the campaign name, schedule and opt-out choice are the ones sent, and each message's
    destination and content are the ones given."""
    sandbox = server.sandbox
    body = {
        "sendoptions": {
            "CAMPAIGNNAME": "Case blind",
            "StartDeliveryUtc": "2099-01-01T08:00:00Z",
            "CheckOptOuts": False,
        },
        "MESSAGES": [
            {"Destination": "27821234567", "CONTENT": "First"},
            {"DESTINATION": OPTED_OUT, "Content": "Second"},
        ],
    }
    answer = http.post(path, json=body, headers=bearer(sandbox.issue_token()))
    assert 200 == answer.status_code, answer.text
    sent = [(m.destination, m.content, m.campaign, m.scheduled_for) for m in sandbox.messages]
    when = datetime(2099, 1, 1, 8, tzinfo=UTC)
    assert [
        ("27821234567", "First", "Case blind", when),
        (OPTED_OUT, "Second", "Case blind", when),  # checkOptOuts=false was bound
    ] == sent


def test_exact_key_wins_over_a_case_variant(server: SandboxServer, http: httpx.Client) -> None:
    """When a body has both ``campaignName`` and ``CampaignName``, the spec's spelling is read."""
    sandbox = server.sandbox
    body = {
        "SendOptions": {
            "CampaignName": "variant",
            "campaignName": "exact",
            "startDeliveryUtc": None,
            "checkOptOuts": True,
        },
        "messages": [{"content": "Hi", "destination": "27821234567"}],
    }
    answer = http.post(
        "/api/integration/BulkMessages", json=body, headers=bearer(sandbox.issue_token())
    )
    assert (200, ["exact"]) == (answer.status_code, [m.campaign for m in sandbox.messages])


@pytest.mark.invalid_requests  # unknown keys, on purpose
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "SendOptions": {
                    "startDeliveryUtc": None,
                    "campaignName": "C",
                    "checkOptOuts": True,
                    "priority": 1,
                },
                "messages": [{"content": "Hi", "destination": "27821234567"}],
            },
            "SendOptions.priority",
        ),
        (
            {
                "SendOptions": {
                    "startDeliveryUtc": None,
                    "campaignName": "C",
                    "checkOptOuts": True,
                },
                "messages": [{"content": "Hi", "destination": "27821234567", "sender": "Shop"}],
            },
            "messages[0].sender",
        ),
    ],
)
def test_unknown_keys_are_refused_naming_the_key(
    body: dict[str, object], field: str, error_style: str
) -> None:
    """Stricter than ASP.NET (which ignores unknown keys): a 422 naming the key, in either
    error style, and nothing is sent or charged."""
    sandbox = Sandbox(error_style=error_style)
    with SandboxServer(sandbox) as running, httpx.Client(base_url=running.url, timeout=5.0) as http:
        answer = http.post(
            "/api/integration/BulkMessages", json=body, headers=bearer(sandbox.issue_token())
        )
    assert 422 == answer.status_code
    problem = answer.json()
    if error_style == "problem":
        assert {field: ["Unknown property."]} == problem["errors"]
    else:
        assert [("INVALID_REQUEST_SHAPE", field)] == [
            (e["code"], e.get("field")) for e in problem["errors"]
        ]
    assert (0, 1000.0) == (sandbox.accepted_count, sandbox.balance)
