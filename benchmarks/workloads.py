"""The clients the benchmark compares, behind one small interface, and the timing loops.

* :class:`RawSync` / :class:`RawAsync`: hand-written ``httpx`` doing the same HTTP calls as
  smsflow (same method, URL, headers, JSON body bytes; the token fetched once and cached),
  parsing the JSON answer and nothing else. One pooled client each, with smsflow's pool limits
  and timeout.
* :class:`SmsFlowSync` / :class:`SmsFlowAsync`: ``smsflow.SmsFlowClient`` /
  ``AsyncSmsFlowClient`` with their defaults.

:func:`same_requests` proves, before any timing, that a raw client and smsflow put the same
bytes on the wire for each call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import httpx

import smsflow
from smsflow._config import DEFAULT_LIMITS, USER_AGENT, to_timeout

__all__ = [
    "BALANCE_PATH",
    "CAMPAIGN",
    "MESSAGE",
    "SEND_PATH",
    "TOKEN_PATH",
    "AsyncBench",
    "RawAsync",
    "RawSync",
    "SmsFlowAsync",
    "SmsFlowSync",
    "SyncBench",
    "async_latencies",
    "batch",
    "same_requests",
    "sync_latencies",
]

TOKEN_PATH: Final = "/api/integration/authentication"  # noqa: S105 - a path
SEND_PATH: Final = "/api/integration/BulkMessages"
BALANCE_PATH: Final = "/api/integration/Balance"
CAMPAIGN: Final = "Order dispatch alerts"
# Keys in the order smsflow writes them, so both clients send identical bytes.
MESSAGE: Final = {"content": "Order 1001 has shipped.", "destination": "27821234567"}


def batch(size: int) -> list[dict[str, str]]:
    """``size`` distinct messages (one request's worth), as plain dicts."""
    return [
        {"content": f"Order {1000 + i} has shipped.", "destination": f"2782{i:07d}"}
        for i in range(size)
    ]


def _body(campaign_name: str, messages: list[dict[str, str]]) -> bytes:
    payload = {
        "SendOptions": {
            "startDeliveryUtc": None,
            "campaignName": campaign_name,
            "checkOptOuts": True,
        },
        "messages": messages,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class SyncBench(Protocol):
    """What the benchmark calls on a synchronous client."""

    def get_balance(self) -> Any: ...
    def send(self, messages: list[dict[str, str]]) -> Any: ...
    def close(self) -> None: ...


class AsyncBench(Protocol):
    """What the benchmark calls on an asynchronous client."""

    async def get_balance(self) -> Any: ...
    async def send(self, messages: list[dict[str, str]]) -> Any: ...
    async def aclose(self) -> None: ...


def _headers(token: str) -> tuple[dict[str, str], dict[str, str]]:
    get = {
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "Authorization": "Bearer " + token,
    }
    return get, {**get, "Content-Type": "application/json"}


def _token_headers(basic: str) -> dict[str, str]:
    return {"Authorization": basic, "Accept": "application/json", "User-Agent": USER_AGENT}


class RawSync:
    """Hand-written ``httpx.Client`` calls with a cached token; parses JSON only."""

    def __init__(self, base_url: str, basic: str, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(
            limits=DEFAULT_LIMITS, timeout=to_timeout(30), transport=transport
        )
        self._balance_url = base_url + BALANCE_PATH
        self._send_url = base_url + SEND_PATH
        answer = self._http.get(base_url + TOKEN_PATH, headers=_token_headers(basic))
        answer.raise_for_status()
        self._get_headers, self._post_headers = _headers(answer.json()["token"])

    def get_balance(self) -> Any:
        """GET the balance; the parsed JSON."""
        return self._http.get(self._balance_url, headers=self._get_headers).json()

    def send(self, messages: list[dict[str, str]]) -> Any:
        """POST one send request; the parsed JSON."""
        body = _body(CAMPAIGN, messages)
        return self._http.post(self._send_url, content=body, headers=self._post_headers).json()

    def close(self) -> None:
        """Close the pool."""
        self._http.close()


class RawAsync:
    """Hand-written ``httpx.AsyncClient`` calls with a cached token; parses JSON only.

    Create it inside the event loop that uses it (:meth:`create`).
    """

    def __init__(
        self,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        self._http = httpx.AsyncClient(limits=limits, timeout=to_timeout(30), transport=transport)
        self._base = base_url
        self._balance_url = base_url + BALANCE_PATH
        self._send_url = base_url + SEND_PATH
        self._get_headers: dict[str, str] = {}
        self._post_headers: dict[str, str] = {}

    @classmethod
    async def create(
        cls,
        base_url: str,
        basic: str,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> RawAsync:
        """A client holding a token (``limits``: its pool; smsflow's default by default)."""
        self = cls(base_url, transport, limits)
        answer = await self._http.get(self._base + TOKEN_PATH, headers=_token_headers(basic))
        answer.raise_for_status()
        self._get_headers, self._post_headers = _headers(answer.json()["token"])
        return self

    async def get_balance(self) -> Any:
        """GET the balance; the parsed JSON."""
        return (await self._http.get(self._balance_url, headers=self._get_headers)).json()

    async def send(self, messages: list[dict[str, str]]) -> Any:
        """POST one send request; the parsed JSON."""
        body = _body(CAMPAIGN, messages)
        answer = await self._http.post(self._send_url, content=body, headers=self._post_headers)
        return answer.json()

    async def aclose(self) -> None:
        """Close the pool."""
        await self._http.aclose()


class SmsFlowSync:
    """``smsflow.SmsFlowClient`` with its defaults."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, **options: Any) -> None:
        self.client = smsflow.SmsFlowClient(client_id, client_secret, base_url, **options)

    def get_balance(self) -> Any:
        """``client.get_balance()``."""
        return self.client.get_balance()

    def send(self, messages: list[dict[str, str]]) -> Any:
        """``client.send_sms(CAMPAIGN, messages)``."""
        return self.client.send_sms(CAMPAIGN, messages)

    def close(self) -> None:
        """``client.close()``."""
        self.client.close()


class SmsFlowAsync:
    """``smsflow.AsyncSmsFlowClient`` with its defaults (create it inside its event loop)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, **options: Any) -> None:
        self.client = smsflow.AsyncSmsFlowClient(client_id, client_secret, base_url, **options)

    async def get_balance(self) -> Any:
        """``await client.get_balance()``."""
        return await self.client.get_balance()

    async def send(self, messages: list[dict[str, str]]) -> Any:
        """``await client.send_sms(CAMPAIGN, messages)``."""
        return await self.client.send_sms(CAMPAIGN, messages)

    async def aclose(self) -> None:
        """``await client.aclose()``."""
        await self.client.aclose()


def sync_latencies(call: Callable[[], Any], count: int) -> list[float]:
    """Seconds taken by each of ``count`` sequential calls."""
    clock = time.perf_counter
    out = [0.0] * count
    for i in range(count):
        started = clock()
        call()
        out[i] = clock() - started
    return out


async def async_latencies(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    """Seconds taken by each of ``count`` sequential awaited calls."""
    clock = time.perf_counter
    out = [0.0] * count
    for i in range(count):
        started = clock()
        await call()
        out[i] = clock() - started
    return out


def same_requests(client_id: str, client_secret: str, basic: str) -> list[str]:
    """Differences between what raw httpx and smsflow send for each call (empty: none).

    Both clients of each kind run against one recording ``httpx.MockTransport`` answering
    like the API; method, URL, headers (minus the bearer token value) and body are compared.
    """
    seen: dict[str, list[httpx.Request]] = {}
    token_json = {"token": "tok", "expiresInMinutes": 120, "schema": "Basic"}
    send_json = {
        "statusCode": 200,
        "sendResponse": {
            "cost": 0.25,
            "remainingBalance": 1.0,
            "eventId": 1,
            "sample": "x",
            "messages": 1,
            "parts": 1,
            "costBreakdown": [],
            "errorReport": [],
        },
        "errors": None,
    }

    def handler(name: str) -> Callable[[httpx.Request], httpx.Response]:
        def answer(request: httpx.Request) -> httpx.Response:
            request.read()
            seen.setdefault(name, []).append(request)
            if request.url.path == TOKEN_PATH:
                return httpx.Response(200, json=token_json)
            if request.url.path == BALANCE_PATH:
                return httpx.Response(200, json={"balance": 1.0})
            return httpx.Response(200, json=send_json)

        return answer

    base = "http://127.0.0.1:9"
    messages = [dict(MESSAGE), *batch(3)]
    raw = RawSync(base, basic, transport=httpx.MockTransport(handler("raw")))
    ours_http = httpx.Client(transport=httpx.MockTransport(handler("smsflow")))
    ours = SmsFlowSync(base, client_id, client_secret, http_client=ours_http)
    try:
        for client in (raw, ours):
            client.get_balance()
            client.send(messages)
    finally:
        raw.close()
        ours.close()
        ours_http.close()

    async def run_async() -> None:
        raw_a = await RawAsync.create(base, basic, transport=httpx.MockTransport(handler("raw_a")))
        ours_http = httpx.AsyncClient(transport=httpx.MockTransport(handler("smsflow_a")))
        ours_a = SmsFlowAsync(base, client_id, client_secret, http_client=ours_http)
        try:
            for client in (raw_a, ours_a):
                await client.get_balance()
                await client.send(messages)
        finally:
            await raw_a.aclose()
            await ours_a.aclose()
            await ours_http.aclose()

    asyncio.run(run_async())

    def shape(request: httpx.Request) -> tuple[str, str, list[tuple[str, str]], bytes]:
        headers = sorted(
            (k.lower(), "Bearer <token>" if v.startswith("Bearer ") else v)
            for k, v in request.headers.items()
        )
        return request.method, str(request.url), headers, request.content

    def calls(name: str) -> list[tuple[str, str, list[tuple[str, str]], bytes]]:
        # The token call happens once per client and is left out.
        return [shape(r) for r in seen.get(name, []) if r.url.path != TOKEN_PATH]

    problems: list[str] = []
    for left, right in (("raw", "smsflow"), ("raw_a", "smsflow_a"), ("raw", "raw_a")):
        a, b = calls(left), calls(right)
        if len(a) != 2:
            problems.append(f"{left}: expected 2 calls, saw {len(a)}")
        if a != b:
            problems.append(f"{left} and {right} differ:\n  {a}\n  {b}")
    return problems
