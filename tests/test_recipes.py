"""The recipes in examples/ (Django, FastAPI) work against the sandbox,
as a user would wire them; docs/recipes/ shows these very files."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from smsflow.testing import Sandbox, SandboxServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name: str) -> ModuleType:
    """Import examples/<name>.py as the module ``name`` (as `python examples/...` would)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """A loopback sandbox, with the SDK's environment pointing at it."""
    with SandboxServer(Sandbox(balance=100.0)) as srv:
        monkeypatch.setenv("SMSFLOW_BASE_URL", srv.url)
        monkeypatch.setenv("SMSFLOW_CLIENT_ID", "sandbox-client")
        monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", "sandbox-secret")
        yield srv


# --- Django -------------------------------------------------------------------------------


@pytest.fixture
def django_app(server: SandboxServer) -> Iterator[ModuleType]:
    """examples/django_app.py as the project's URLconf; its client closed afterwards."""
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(ALLOWED_HOSTS=["testserver"], ROOT_URLCONF="django_app")
        django.setup()
    module = load("django_app")
    from django.urls import clear_url_caches

    clear_url_caches()
    yield module
    if module.sms_client.cache_info().currsize:
        module.sms_client().close()
    module.sms_client.cache_clear()


def django_post(order: int, phone: str) -> Any:
    """POST the recipe's view as a client of the Django project would."""
    from django.test import Client

    return Client().post(f"/orders/{order}/dispatch-alert", {"phone": phone}, "application/json")


def test_django_view_sends_and_returns_the_event_id(
    django_app: ModuleType, server: SandboxServer
) -> None:
    """A POST sends one normalised SMS and answers with the sandbox's eventId."""
    answer = django_post(1001, "082 123 4567")
    assert 200 == answer.status_code
    sent = server.sandbox.messages
    assert [("27821234567", "Order 1001 has shipped.")] == [
        (m.destination, m.content) for m in sent
    ]
    assert {"event_id": sent[0].event_id, "parts": 1} == answer.json()


def test_django_view_refuses_a_bad_number_without_sending(
    django_app: ModuleType, server: SandboxServer
) -> None:
    """A landline is a 400 with the SDK's code, and nothing reaches the API."""
    answer = django_post(1001, "021 555 0000")
    assert 400 == answer.status_code
    assert "INVALID_DESTINATION" == answer.json()["error"]
    assert 0 == server.sandbox.accepted_count


def test_django_view_reports_an_unknown_outcome(
    django_app: ModuleType, server: SandboxServer
) -> None:
    """A send whose answer was lost is a 502 flagged outcome_unknown (it did go out)."""
    server.sandbox.lose_response_next(1, endpoint="send")
    answer = django_post(7, "27821234567")
    assert 502 == answer.status_code
    assert answer.json()["outcome_unknown"] is True
    assert 1 == server.sandbox.accepted_count


# --- FastAPI ------------------------------------------------------------------------------


async def post_all(sandbox: Sandbox, *calls: tuple[str, dict[str, str]]) -> list[httpx.Response]:
    """Run examples/fastapi_app.py on ``sandbox`` (lifespan included) and POST each call."""
    app = load("fastapi_app").create_app(sandbox.async_client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://app") as http,
    ):
        return [await http.post(url, json=body) for url, body in calls]


def test_fastapi_endpoint_sends_through_the_app_client() -> None:
    """The app's one client (from the factory) sends; the answer carries the eventId."""
    sandbox = Sandbox()
    first, second = asyncio.run(
        post_all(
            sandbox,
            ("/orders/1001/dispatch-alert", {"phone": "+27 82 123 4567"}),
            ("/orders/1002/dispatch-alert", {"phone": "0831234567"}),
        )
    )
    assert (200, 200) == (first.status_code, second.status_code)
    assert [m.event_id for m in sandbox.messages] == [
        first.json()["event_id"],
        second.json()["event_id"],
    ]
    assert ["27821234567", "27831234567"] == [m.destination for m in sandbox.messages]
    assert 1 == sum(r.endpoint == "token" for r in sandbox.requests)


def test_fastapi_endpoint_maps_sdk_errors_to_statuses() -> None:
    """Bad number: 400, nothing sent; no credit: 503 and not flagged unknown."""
    sandbox = Sandbox(balance=0.0)
    bad, broke = asyncio.run(
        post_all(
            sandbox,
            ("/orders/1/dispatch-alert", {"phone": "021 555 0000"}),
            ("/orders/1/dispatch-alert", {"phone": "0821234567"}),
        )
    )
    assert 400 == bad.status_code
    assert "INVALID_DESTINATION" == bad.json()["detail"]["error"]
    assert 503 == broke.status_code
    assert {"error": "INSUFFICIENT_BALANCE", "outcome_unknown": False} == broke.json()["detail"]
    assert 0 == sandbox.accepted_count
