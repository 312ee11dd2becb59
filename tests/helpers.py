"""Shared test helpers: :class:`FakeApi` (the sandbox, scripted for unit tests) and :class:`Clock`.

There is one fake SMSFlow: :class:`smsflow.testing.Sandbox`. :class:`FakeApi` is a thin helper
over it for unit tests that script each answer precisely (a 503 then a 200, a 401 on a cached
token, an exception on the send) and inspect every request exactly as the client sent it. Its
canned answers are sandbox faults (``reply_next``, ``raise_next``), so every exchange goes
through the sandbox and the suite's contract observer (``tests/conftest.py``), which validates
each request against ``spec/openapi.yaml`` (canned answers are exempt, being off-spec on
purpose).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Final, Literal, Self

import httpx
from spec_facts import path_of, success_example

from smsflow import AsyncSmsFlowClient, SmsFlowClient
from smsflow.testing import Sandbox, SandboxReply, SandboxTransport

BASE_URL: Final = "https://api.smsflow.test"
TOKEN_PATH: Final = path_of("get_token")
SEND_PATH: Final = path_of("send_messages")
BALANCE_PATH: Final = path_of("get_balance")
CLIENT_ID: Final = "test-client-id"
CLIENT_SECRET: Final = "test-secret-Xy9!zz"  # a distinctive value, so leaks are easy to spot
EVENT_ID: Final = 123456  # the eventId of FakeApi's first accepted send
BALANCE: Final = 1234.5  # FakeApi's starting credit

Endpoint = Literal["token", "send", "balance"]
#: Queues a sandbox fault for one request to an endpoint: ``lambda s, e: s.drop_next(endpoint=e)``.
Injector = Callable[[Sandbox, Endpoint], None]
Reply = httpx.Response | BaseException | Injector

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
    """A spec-shaped token answer: the spec's example with ``token`` and its lifetime (minutes)."""
    answer = success_example("get_token")
    answer["token"] = token
    answer["expiresInMinutes"] = minutes
    return answer


def send_json(
    event_id: int = EVENT_ID, cost: float = 0.25, remaining: float = 99.75
) -> dict[str, Any]:
    """A spec-shaped send answer for one message: the example of ``spec/openapi.yaml`` with
    ``event_id``, ``cost`` and ``remaining`` (credits) put in."""
    answer = success_example("send_messages")
    sent = answer["sendResponse"]
    sent["eventId"] = event_id
    sent["cost"] = cost
    sent["remainingBalance"] = remaining
    sent["costBreakdown"][0]["cost"] = cost
    return answer


def error_json(status: int, code: str, message: str = "refused") -> dict[str, Any]:
    """A spec-shaped error body."""
    return {"statusCode": status, "errors": [{"code": code, "message": message}]}


def error(status: int, code: str = "SOME_ERROR", **headers: str) -> httpx.Response:
    """An error answer with a JSON error body and optional headers (``Retry_After="3"``)."""
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return httpx.Response(status, json=error_json(status, code), headers=hdrs)


class Clock:
    """An injectable clock (seconds since the epoch) moved by hand; for clients and sandboxes."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.now += seconds


def _canned(response: httpx.Response) -> tuple[bytes | tuple[bytes, ...], dict[str, str]]:
    """The body and headers of a scripted ``httpx.Response``, as a sandbox ``reply`` fault.

    A streamed body (no Content-Length) stays streamed, in the same chunks; the headers httpx
    derived itself (a true ``Content-Length``, ``Transfer-Encoding``) are left to the sandbox.
    """
    body: bytes | tuple[bytes, ...]
    try:
        body = response.content
    except httpx.ResponseNotRead:
        body = tuple(response.iter_raw())
    headers: dict[str, str] = {}
    for raw_name, raw_value in response.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        lowered = name.lower()
        if lowered == "transfer-encoding":
            continue
        if lowered == "content-length" and isinstance(body, bytes) and value == str(len(body)):
            continue
        headers[name] = value
    return body, headers


def _base_path(base_url: str) -> str:
    """The path of a base URL (``"/prefix"``), or ``""``."""
    try:
        path = httpx.URL(base_url).path
    except (httpx.InvalidURL, TypeError):
        return ""
    return path.rstrip("/") if path.startswith("/") else ""


class FakeApi:
    """The sandbox scripted for unit tests; every request is recorded in :attr:`requests`.

    :attr:`sandbox` is a :class:`smsflow.testing.Sandbox` for ``CLIENT_ID`` / ``CLIENT_SECRET``
    whose tokens are ``tok-1``, ``tok-2``... (also listed in :attr:`issued`), whose first send
    gets eventId 123456 and whose credit starts at 1234.5 (each send is billed, 0.25 a part).
    Its clock is :attr:`clock` (a :class:`Clock` that moves only when a test moves it), and it
    never sleeps (its waits go to :attr:`waits`).

    :meth:`queue` scripts the next answers of one endpoint as sandbox faults, consumed in
    order. :meth:`hold` runs code while a request is in flight. Use it as a context manager:
    clients made by :meth:`client` are closed on exit.
    """

    def __init__(
        self,
        *,
        minutes: int = 120,
        balance: float = BALANCE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.clock = clock if clock is not None else Clock()
        self.requests: list[httpx.Request] = []  # copies, as the client sent them
        self.issued: list[str] = []  # the tokens the sandbox made, in order
        self.sleeps: list[float] = []  # seconds the clients asked to sleep (never slept)
        self.waits: list[float] = []  # seconds the sandbox held an answer back (never waited)
        self.token_wait = 0.0  # seconds each token answer is held back (forces thread overlap)
        self._reject_bearer = False
        self._holds: dict[Endpoint, deque[Callable[[], object]]] = {
            "token": deque(),
            "send": deque(),
            "balance": deque(),
        }
        self._lock = threading.Lock()
        self._closers: list[Callable[[], None]] = []

        async def wait(seconds: float) -> None:
            self.waits.append(seconds)

        self.sandbox = Sandbox(
            CLIENT_ID,
            CLIENT_SECRET,
            balance=balance,
            token_lifetime_minutes=minutes,
            clock=self.clock,
            sleep=self.waits.append,
            async_sleep=wait,
            first_event_id=EVENT_ID,
            token_factory=self._make_token,
        )
        self._transport = self.transport()

    # -- the account ------------------------------------------------------------------------

    @property
    def minutes(self) -> int:
        """The lifetime of the tokens the sandbox issues (minutes). Assign to change it."""
        return self.sandbox.advertised_expires_in_minutes

    @minutes.setter
    def minutes(self, value: int) -> None:
        self.sandbox.token_lifetime_minutes = float(value)
        self.sandbox.advertised_expires_in_minutes = value

    @property
    def balance(self) -> float:
        """The sandbox's credit. Assign to change it."""
        return self.sandbox.balance

    @balance.setter
    def balance(self, value: float) -> None:
        self.sandbox.balance = value

    def _make_token(self, n: int) -> str:
        token = f"tok-{n}"
        with self._lock:
            self.issued.append(token)
        return token

    # -- scripting --------------------------------------------------------------------------

    def queue(self, endpoint: Endpoint, *replies: Reply) -> None:
        """Answer the next requests to ``endpoint`` with ``replies``, in order.

        Each reply becomes one sandbox fault: an ``httpx.Response`` is sent as it is (status,
        headers, body; ``reply_next``); an exception is raised by the transport
        (``raise_next``); an :data:`Injector` queues whatever sandbox fault it likes.
        """
        for reply in replies:
            if isinstance(reply, httpx.Response):
                body, headers = _canned(reply)
                self.sandbox.reply_next(
                    endpoint=endpoint, status=reply.status_code, body=body, headers=headers
                )
            elif isinstance(reply, BaseException):
                self.sandbox.raise_next(endpoint=endpoint, exception=reply)
            else:
                reply(self.sandbox, endpoint)

    def hold(self, endpoint: Endpoint, *actions: Callable[[], object]) -> None:
        """Run ``actions[i]`` in the thread of the i-th next request to ``endpoint``, once it is
        recorded and answered by the sandbox but before the client gets the answer."""
        with self._lock:
            self._holds[endpoint].extend(actions)

    def revoke_all(self) -> None:
        """Revoke every token issued so far (the next bearer call gets a 401)."""
        self.sandbox.revoke_tokens()

    @property
    def reject_bearer(self) -> bool:
        """True: every token is revoked as soon as it is issued, so every bearer call gets the
        sandbox's 401 ``INVALID_TOKEN``."""
        return self._reject_bearer

    @reject_bearer.setter
    def reject_bearer(self, value: bool) -> None:
        self._reject_bearer = value
        if value:
            self.sandbox.revoke_tokens()

    # -- inspection -------------------------------------------------------------------------

    def to(self, endpoint: Endpoint) -> list[httpx.Request]:
        """The requests made to ``endpoint``, in order."""
        with self._lock:
            return [r for r in self.requests if endpoint_of(r.url) == endpoint]

    def sent_bodies(self) -> list[Any]:
        """The decoded JSON bodies of the send requests."""
        return [json.loads(r.content) for r in self.to("send")]

    # -- the transport ----------------------------------------------------------------------

    def _observe(self, request: httpx.Request, reply: SandboxReply) -> None:
        """The transport observer: record the request, then act out holds and waits."""
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
            held = self._holds[endpoint] if endpoint is not None else None
            action = held.popleft() if held else None
        if endpoint == "token" and reply.status == 200 and self._reject_bearer:
            self.sandbox.revoke_tokens()
        if action is not None:
            action()
        if endpoint == "token" and self.token_wait:
            threading.Event().wait(self.token_wait)

    def transport(self, base_path: str = "") -> SandboxTransport:
        """An in-process transport (sync and async) on the sandbox, recording every request.

        Args:
            base_path: The path of the client's base URL, if it has one (``"/prefix"``).
        """
        return self.sandbox.transport(base_path=base_path, observer=self._observe)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """Answer one request from the sandbox, synchronously (for a test's own transport
        that holds or delays requests before handing them on)."""
        return self._transport.handle_request(request)

    # -- clients ----------------------------------------------------------------------------

    def _transport_for(self, options: dict[str, Any]) -> SandboxTransport:
        options.setdefault("client_id", CLIENT_ID)
        options.setdefault("client_secret", CLIENT_SECRET)
        options.setdefault("base_url", BASE_URL)
        base = options["base_url"] or os.environ.get("SMSFLOW_BASE_URL") or ""
        return self.transport(_base_path(base))

    def client(self, **options: Any) -> SmsFlowClient:
        """A sync client on the sandbox, never sleeping (its sleeps are recorded in ``sleeps``)."""
        http = httpx.Client(transport=self._transport_for(options))
        options.setdefault("sleep", self.sleeps.append)
        client = SmsFlowClient(http_client=http, **options)
        self._closers += [client.close, http.close]
        return client

    def async_client(self, **options: Any) -> AsyncSmsFlowClient:
        """An async client on the sandbox (close it with ``async with``); sleeps are recorded."""
        http = httpx.AsyncClient(transport=self._transport_for(options))

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

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
