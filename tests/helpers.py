"""Shared test helpers: a fake SMSFlow API as an ``httpx.MockTransport`` with exact control.

The sandbox in :mod:`smsflow.testing` is the faithful fake for behaviour tests; this one is for
unit tests that need to script each answer precisely (a 503 then a 200, a 401 on a cached
token, an exception on the send) and to count and inspect every request. It answers
spec-shaped bodies by default (see ``spec/openapi.yaml``).
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Final, Literal, Self

import httpx

from smsflow import AsyncSmsFlowClient, SmsFlowClient

BASE_URL: Final = "https://api.smsflow.test"
TOKEN_PATH: Final = "/api/integration/authentication"
SEND_PATH: Final = "/api/integration/BulkMessages"
BALANCE_PATH: Final = "/api/integration/Balance"
CLIENT_ID: Final = "test-client-id"
CLIENT_SECRET: Final = "test-secret-Xy9!zz"  # a distinctive value, so leaks are easy to spot

Endpoint = Literal["token", "send", "balance"]
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

_PATHS: Final[dict[str, Endpoint]] = {
    TOKEN_PATH: "token",
    SEND_PATH: "send",
    BALANCE_PATH: "balance",
}


def endpoint_of(url: httpx.URL) -> Endpoint | None:
    """Which endpoint a URL is (a base URL may add a path prefix), or None."""
    for path, endpoint in _PATHS.items():
        if url.path.endswith(path):
            return endpoint
    return None


MESSAGES: Final = [{"destination": "27821234567", "content": "Order 1001 has shipped."}]


def basic_header(client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> str:
    """The HTTP Basic header value the token endpoint expects."""
    raw = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def token_json(token: str, minutes: int = 120) -> dict[str, Any]:
    """A spec-shaped token answer."""
    return {"token": token, "expiresInMinutes": minutes, "schema": "Basic"}


def send_json(event_id: int = 123456, cost: float = 0.25) -> dict[str, Any]:
    """A spec-shaped send answer (the example of ``spec/openapi.yaml``)."""
    return {
        "statusCode": 200,
        "sendResponse": {
            "cost": cost,
            "remainingBalance": 99.75,
            "eventId": event_id,
            "sample": "Order 1001 has shipped.",
            "messages": 1,
            "parts": 1,
            "costBreakdown": [{"quantity": 1, "cost": cost, "network": "Vodacom"}],
            "errorReport": [],
        },
        "errors": None,
    }


def error_json(status: int, code: str, message: str = "refused") -> dict[str, Any]:
    """A spec-shaped error body."""
    return {"statusCode": status, "errors": [{"code": code, "message": message}]}


def error(status: int, code: str = "SOME_ERROR", **headers: str) -> httpx.Response:
    """An error answer with a JSON error body and optional headers (``Retry_After="3"``)."""
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return httpx.Response(status, json=error_json(status, code), headers=hdrs)


class FakeApi:
    """A scripted SMSFlow API. Thread-safe; every request is recorded in :attr:`requests`.

    By default: the token endpoint checks the Basic header and issues ``tok-1``, ``tok-2``...;
    the send and balance endpoints accept any issued, unrevoked bearer token and answer the
    spec's example bodies. :meth:`queue` scripts the next answers of one endpoint (responses,
    exceptions to raise, or callables), consumed in order before the defaults apply.

    Use it as a context manager: clients made by :meth:`client` are closed on exit.
    """

    def __init__(self, *, minutes: int = 120, balance: float = 1234.5) -> None:
        self.minutes = minutes
        self.balance = balance
        self.requests: list[httpx.Request] = []
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.token_wait = 0.0  # seconds each token answer is held back (forces thread overlap)
        self.reject_bearer = False  # True: every bearer call gets a 401 INVALID_TOKEN
        self._queues: dict[Endpoint, deque[Reply]] = {
            "token": deque(),
            "send": deque(),
            "balance": deque(),
        }
        self._lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []
        self.sleeps: list[float] = []  # seconds the clients asked to sleep (never slept)

    # -- scripting --------------------------------------------------------------------------

    def queue(self, endpoint: Endpoint, *replies: Reply) -> None:
        """Answer the next requests to ``endpoint`` with ``replies``, in order."""
        with self._lock:
            self._queues[endpoint].extend(replies)

    def revoke_all(self) -> None:
        """Revoke every token issued so far (the next bearer call gets a 401)."""
        with self._lock:
            self.revoked.update(self.issued)

    # -- inspection -------------------------------------------------------------------------

    def to(self, endpoint: Endpoint) -> list[httpx.Request]:
        """The requests made to ``endpoint``, in order."""
        with self._lock:
            return [r for r in self.requests if endpoint_of(r.url) == endpoint]

    def sent_bodies(self) -> list[Any]:
        """The decoded JSON bodies of the send requests."""
        return [json.loads(r.content) for r in self.to("send")]

    # -- the handler ------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the ``httpx.MockTransport`` handler)."""
        request.read()
        endpoint = endpoint_of(request.url)
        # Record a copy: httpx replays the same Request object (e.g. after a 401) with new headers.
        seen = httpx.Request(
            request.method,
            request.url,
            headers=request.headers.copy(),
            content=request.content,
            extensions=dict(request.extensions),
        )
        with self._lock:
            self.requests.append(seen)
            scripted = (
                self._queues[endpoint].popleft() if endpoint and self._queues[endpoint] else None
            )
        if isinstance(scripted, Exception):
            raise scripted
        if isinstance(scripted, httpx.Response):
            return scripted
        if scripted is not None:
            return scripted(request)
        if endpoint == "token":
            return self._token(request)
        if endpoint is None:
            return httpx.Response(404, json=error_json(404, "NOT_FOUND"))
        auth = request.headers.get("Authorization", "")
        bearer = auth.removeprefix("Bearer ")
        with self._lock:
            known = auth.startswith("Bearer ") and bearer in self.issued
            ok = known and bearer not in self.revoked and not self.reject_bearer
        if not ok:
            return httpx.Response(401, json=error_json(401, "INVALID_TOKEN"))
        if endpoint == "send":
            return httpx.Response(200, json=send_json())
        return httpx.Response(200, json={"balance": self.balance})

    def _token(self, request: httpx.Request) -> httpx.Response:
        if self.token_wait:
            threading.Event().wait(self.token_wait)
        if request.headers.get("Authorization") != basic_header():
            return httpx.Response(401, json=error_json(401, "AUTHENTICATION_FAILED"))
        with self._lock:
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
        return httpx.Response(200, json=token_json(token, self.minutes))

    def transport(self) -> httpx.MockTransport:
        """An in-process transport (sync and async) answering with :meth:`handler`."""
        return httpx.MockTransport(self.handler)

    # -- clients ----------------------------------------------------------------------------

    def client(self, **options: Any) -> SmsFlowClient:
        """A sync client on this fake, never sleeping (its sleeps are recorded in ``sleeps``)."""
        http = httpx.Client(transport=self.transport())
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_secret", CLIENT_SECRET)
        options.setdefault("base_url", BASE_URL)
        options.setdefault("sleep", self.sleeps.append)
        client = SmsFlowClient(http_client=http, **options)
        self._closers += [client.close, http.close]
        return client

    def async_client(self, **options: Any) -> AsyncSmsFlowClient:
        """An async client on this fake (close it with ``async with``); sleeps are recorded."""
        http = httpx.AsyncClient(transport=self.transport())

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_secret", CLIENT_SECRET)
        options.setdefault("base_url", BASE_URL)
        options.setdefault("sleep", sleep)
        return AsyncSmsFlowClient(http_client=http, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for close in reversed(self._closers):
            close()


def fake_api() -> Iterator[FakeApi]:
    """Body of the per-module ``api`` fixture: a :class:`FakeApi` whose clients get closed."""
    with FakeApi() as api:
        yield api


class Clock:
    """An injectable clock (seconds since the epoch) moved by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds
