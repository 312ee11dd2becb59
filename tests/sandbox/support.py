"""Helpers for the sandbox tests: a recording sleep, request builders (the clock is
``helpers.Clock``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from smsflow.testing import Sandbox, SandboxReply

TOKEN = "/api/integration/authentication"
SEND = "/api/integration/BulkMessages"
BALANCE = "/api/integration/Balance"
BASE_URL = "https://portal.smsflow.co.za"


class RecordingSleep:
    """A sleep (sync and async) that records the delays and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.calls.append(seconds)


def basic(
    client_id: str = "sandbox-client",
    secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's public test secret
) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def send_body(
    messages: Sequence[tuple[str, str]] = (("27821234567", "Order 1001 has shipped."),),
    *,
    campaign: str = "Order dispatch alerts",
    check_opt_outs: bool = True,
    start: str | None = None,
) -> dict[str, Any]:
    return {
        "SendOptions": {
            "startDeliveryUtc": start,
            "campaignName": campaign,
            "checkOptOuts": check_opt_outs,
        },
        "messages": [{"content": content, "destination": dest} for dest, content in messages],
    }


def call(
    sandbox: Sandbox,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
    body: bytes = b"",
) -> SandboxReply:
    """Call the pure handler directly."""
    all_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    return sandbox.handle(method, path, all_headers, body)


def token(sandbox: Sandbox) -> str:
    """A token obtained through the token endpoint."""
    reply = call(sandbox, "GET", TOKEN, headers=basic(sandbox.client_id, sandbox.client_secret))
    assert reply.status == 200, reply.body
    return str(reply.json()["token"])


def send(sandbox: Sandbox, body: Any, *, tok: str | None = None) -> SandboxReply:
    return call(sandbox, "POST", SEND, headers=bearer(tok or token(sandbox)), json_body=body)


def error_codes(reply: SandboxReply) -> list[tuple[str, str | None]]:
    return [(e["code"], e.get("field")) for e in reply.json()["errors"]]


def http_client(sandbox: Sandbox, **kwargs: Any) -> httpx.Client:
    return httpx.Client(transport=sandbox.transport(), base_url=BASE_URL, **kwargs)


def http_token(client: httpx.Client, sandbox: Sandbox) -> str:
    response = client.get(TOKEN, headers=basic(sandbox.client_id, sandbox.client_secret))
    response.raise_for_status()
    return str(response.json()["token"])
