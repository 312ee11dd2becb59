"""Parity: one table of scenarios run through SmsFlowClient and AsyncSmsFlowClient.

Both front doors drive the one core (``smsflow/_core.py``), so every scenario must end the
same way through both: the same result or error (class, code, status, retryable, outcome
unknown, retry-after), the same requests in the same order with the same bearer tokens, the
same sleeps, the same token-request count. Each scenario also states the expected outcome, so
a bug shared by both clients fails too. The API is the sandbox, scripted through ``FakeApi``
of ``tests/helpers.py`` (in-process: no network, no real sleep).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from helpers import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    MESSAGES,
    Clock,
    FakeApi,
    Reply,
    endpoint_of,
    error,
    send_json,
    token_json,
)

from smsflow import (
    AsyncSmsFlowClient,
    AuthToken,
    Balance,
    SendResult,
    SmsFlowClient,
    SmsFlowError,
    SqliteLedger,
)

CallName = Literal[
    "send", "send_retry", "send_invalid", "balance", "authenticate", "send_keyed", "send_forced"
]

TOKEN_LIFETIME_S = 120 * 60
RENEW_AT_S = TOKEN_LIFETIME_S - 300  # the vendor's rule: renew 5 minutes before expiry
JITTER = 0.5  # the injected random source: every backoff is half its ceiling


# -- replies (sandbox faults; each can be queued again, so one scenario can run twice) ------


def status(code: int, error_code: str = "SOME_ERROR", **headers: str) -> Reply:
    """An error answer with a JSON error body (headers as ``Retry_After="3"``)."""
    return error(code, error_code, **headers)


def raw(code: int, content: bytes, content_type: str = "application/json") -> Reply:
    """An answer with exactly this body."""
    return httpx.Response(code, content=content, headers={"Content-Type": content_type})


def raises(kind: type[httpx.TransportError], message: str = "boom") -> Reply:
    """The transport raises ``kind`` instead of answering."""
    return kind(message)


def token(value: str, minutes: int = 120) -> Reply:
    """A token answer with a fixed value (not one the sandbox will accept as a bearer)."""
    return httpx.Response(200, json=token_json(value, minutes))


def streamed(chunks: Sequence[bytes]) -> Reply:
    """A 200 streamed in ``chunks`` (no Content-Length)."""
    return lambda sandbox, endpoint: sandbox.reply_next(endpoint=endpoint, body=list(chunks))


def cut_off() -> Reply:
    """The sandbox accepts the request, then the connection drops in the middle of the body."""
    return lambda sandbox, endpoint: sandbox.truncate_next(endpoint=endpoint)


# -- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One call of a scenario, with the answers queued (per endpoint) just before it."""

    name: CallName
    advance: float = 0.0  # seconds the injected clock moves before the call
    token: tuple[Reply, ...] = ()
    send: tuple[Reply, ...] = ()
    balance: tuple[Reply, ...] = ()
    revoke: bool = False  # the API revokes every token issued so far before the call


@dataclass(frozen=True)
class Scenario:
    """Calls, client options, and what must happen (``expected``: one line per call)."""

    id: str
    calls: tuple[Call, ...]
    expected: tuple[str, ...]
    requests: tuple[str, ...]
    sleeps: tuple[float, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    minutes: int = 120  # lifetime of the tokens the API issues


def one(name: CallName, **queued: Any) -> tuple[Call, ...]:
    """A scenario of a single call."""
    return (Call(name, **queued),)


SEND_OK = "event 123456"
BALANCE_OK = "balance 1234.5"
R2 = {"retry_retries": 2}
LEDGER = {"ledger": True}  # options(): a fresh SqliteLedger per run

SCENARIOS: tuple[Scenario, ...] = (
    # -- success
    Scenario("send ok", one("send"), (SEND_OK,), ("token", "send tok-1")),
    Scenario("balance ok", one("balance"), (BALANCE_OK,), ("token", "balance tok-1")),
    Scenario("authenticate ok", one("authenticate"), ("token tok-1",), ("token",)),
    Scenario(
        "token reused",
        (Call("send"), Call("balance"), Call("send")),
        (SEND_OK, "balance 1234.25", "event 123457"),  # the sandbox billed the first send
        ("token", "send tok-1", "balance tok-1", "send tok-1"),
    ),
    Scenario(
        "authenticate replaces the cached token",
        (Call("balance"), Call("authenticate"), Call("balance")),
        (BALANCE_OK, "token tok-2", BALANCE_OK),
        ("token", "balance tok-1", "token", "balance tok-2"),
    ),
    # -- each error class, not retried (retry_retries=0)
    Scenario(
        "bad credentials",
        one("send", token=(status(401, "AUTHENTICATION_FAILED"),)),
        ("AuthenticationError 401 AUTHENTICATION_FAILED",),
        ("token",),
    ),
    Scenario(
        "403 on a send",
        one("send", send=(status(403, "FORBIDDEN"),)),
        ("AuthenticationError 403 FORBIDDEN",),
        ("token", "send tok-1"),
    ),
    Scenario(
        "400 invalid destination",
        one("send", send=(status(400, "INVALID_DESTINATION"),)),
        ("ValidationError 400 INVALID_DESTINATION",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "invalid input is refused before any request",
        one("send_invalid"),
        ("ValidationError - INVALID_DESTINATION",),
        (),
    ),
    Scenario(
        "402 insufficient balance, never retried",
        one("send", send=(status(402, "INSUFFICIENT_FUNDS"),)),
        ("InsufficientBalanceError 402 INSUFFICIENT_FUNDS",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "a 400 whose code says INSUFFICIENT is insufficient balance",
        one("send_retry", send=(status(400, "INSUFFICIENT_CREDIT"),)),
        ("InsufficientBalanceError 400 INSUFFICIENT_CREDIT",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "408 without retries",
        one("send", send=(status(408, "REQUEST_TIMEOUT"),)),
        ("RequestTimeoutError 408 REQUEST_TIMEOUT retryable",),
        ("token", "send tok-1"),
    ),
    Scenario(
        "429 without retries carries retry_after",
        one("balance", balance=(status(429, "RATE_LIMITED", Retry_After="7"),)),
        ("RateLimitError 429 RATE_LIMITED retryable after=7",),
        ("token", "balance tok-1"),
    ),
    Scenario(
        "503 on a send without retry=True is not retried",
        one("send", send=(status(503, "SERVICE_UNAVAILABLE"),)),
        ("ServerError 503 SERVICE_UNAVAILABLE retryable",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "non-standard 520 is a server error",
        one("balance", balance=(status(520, "ORIGIN_ERROR"),)),
        ("ServerError 520 ORIGIN_ERROR retryable",),
        ("token", "balance tok-1"),
    ),
    Scenario(
        "502 HTML page on a send: outcome unknown, never retried",
        one("send_retry", send=(raw(502, b"<html>Bad gateway</html>", "text/html"),)),
        ("ServerError 502 SERVER_ERROR unknown",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "504 on a send with retry=True: outcome unknown",
        one("send_retry", send=(status(504, "GATEWAY_TIMEOUT"),)),
        ("ServerError 504 GATEWAY_TIMEOUT unknown",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "connection refused on the send",
        one("send", send=(raises(httpx.ConnectError, "refused"),)),
        ("NetworkError - CONNECT_FAILED retryable",),
        ("token", "send tok-1"),
    ),
    Scenario(
        "read timeout on a send: delivery unknown, never retried",
        one("send_retry", send=(raises(httpx.ReadTimeout),)),
        ("DeliveryUnknownError - DELIVERY_UNKNOWN unknown",),
        ("token", "send tok-1"),
        options=R2,
    ),
    # -- idempotency keys (a SqliteLedger in a temporary directory, on the injected clock)
    Scenario(
        "a keyed send repeated returns the stored result and sends nothing",
        (Call("send_keyed"), Call("send_keyed")),
        (SEND_OK, SEND_OK),
        ("token", "send tok-1"),
        options=LEDGER,
    ),
    Scenario(
        "a keyed send whose answer was lost is unknown until forced",
        (Call("send_keyed", send=(cut_off(),)), Call("send_keyed"), Call("send_forced")),
        (
            "DeliveryUnknownError - DELIVERY_UNKNOWN unknown",
            "IdempotencyError - IDEMPOTENCY_UNKNOWN unknown",
            "event 123457",
        ),
        ("token", "send tok-1", "send tok-1"),
        options=LEDGER,
    ),
    Scenario(
        "a keyed send refused with a 400 frees its key",
        (Call("send_keyed", send=(status(400, "INVALID_DESTINATION"),)), Call("send_keyed")),
        ("ValidationError 400 INVALID_DESTINATION", SEND_OK),
        ("token", "send tok-1", "send tok-1"),
        options=LEDGER,
    ),
    Scenario(
        "connection lost mid-body on a send: delivery unknown",
        one("send", send=(cut_off(),)),
        ("DeliveryUnknownError - DELIVERY_UNKNOWN unknown",),
        ("token", "send tok-1"),
        options=R2,
    ),
    # -- retries (sleeps: uniform jitter fixed at 0.5 of 0.25 s, 0.5 s, ...)
    Scenario(
        "408 then success on a send",
        one("send", send=(status(408, "REQUEST_TIMEOUT"),)),
        (SEND_OK,),
        ("token", "send tok-1", "send tok-1"),
        sleeps=(0.125,),
        options=R2,
    ),
    Scenario(
        "429 with Retry-After is waited out exactly",
        one("send", send=(status(429, "RATE_LIMITED", Retry_After="3"),)),
        (SEND_OK,),
        ("token", "send tok-1", "send tok-1"),
        sleeps=(3.0,),
        options=R2,
    ),
    Scenario(
        "429 with a Retry-After above the cap is raised",
        one("send", send=(status(429, "RATE_LIMITED", Retry_After="120"),)),
        ("RateLimitError 429 RATE_LIMITED retryable after=120",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "503, 503, success on a send with retry=True",
        one("send_retry", send=(status(503), status(503))),
        (SEND_OK,),
        ("token", "send tok-1", "send tok-1", "send tok-1"),
        sleeps=(0.125, 0.25),
        options=R2,
    ),
    Scenario(
        "balance gives up after the retries",
        one("balance", balance=(status(500), status(502), status(503, "SERVICE_UNAVAILABLE"))),
        ("ServerError 503 SERVICE_UNAVAILABLE retryable",),
        ("token", "balance tok-1", "balance tok-1", "balance tok-1"),
        sleeps=(0.125, 0.25),
        options=R2,
    ),
    Scenario(
        "backoff is capped by retry_max_delay",
        one("balance", balance=(status(500), status(500), status(500))),
        (BALANCE_OK,),
        ("token",) + ("balance tok-1",) * 4,
        sleeps=(0.125, 0.2, 0.2),
        options={"retry_retries": 3, "retry_max_delay": 0.4},
    ),
    Scenario(
        "connection refused then success on a send",
        one("send", send=(raises(httpx.ConnectError, "refused"),)),
        (SEND_OK,),
        ("token", "send tok-1", "send tok-1"),
        sleeps=(0.125,),
        options=R2,
    ),
    Scenario(
        "read timeout then success on the balance",
        one("balance", balance=(raises(httpx.ReadTimeout),)),
        (BALANCE_OK,),
        ("token", "balance tok-1", "balance tok-1"),
        sleeps=(0.125,),
        options=R2,
    ),
    Scenario(
        "token endpoint 503 before a send is retried (nothing was sent)",
        one("send", token=(status(503),)),
        (SEND_OK,),
        ("token", "token", "send tok-1"),
        sleeps=(0.125,),
        options=R2,
    ),
    Scenario(
        "token endpoint unreachable before a send",
        one("send", token=(raises(httpx.ConnectError, "refused"),)),
        ("NetworkError - CONNECT_FAILED retryable",),
        ("token",),
    ),
    # -- token expiry, renewal and the 401 replay
    Scenario(
        "token still fresh just before the renewal time",
        (Call("balance"), Call("balance", advance=RENEW_AT_S - 1)),
        (BALANCE_OK, BALANCE_OK),
        ("token", "balance tok-1", "balance tok-1"),
    ),
    Scenario(
        "token renewed 5 minutes ahead of expiry",
        (Call("balance"), Call("balance", advance=RENEW_AT_S)),
        (BALANCE_OK, BALANCE_OK),
        ("token", "balance tok-1", "token", "balance tok-2"),
    ),
    Scenario(
        "expired token replaced",
        (Call("send"), Call("send", advance=TOKEN_LIFETIME_S + 1)),
        (SEND_OK, "event 123457"),
        ("token", "send tok-1", "token", "send tok-2"),
    ),
    Scenario(
        "a 2-minute token is renewed no sooner than 1 minute after issue",
        (Call("balance"), Call("balance", advance=59), Call("balance", advance=1)),
        (BALANCE_OK,) * 3,
        ("token", "balance tok-1", "balance tok-1", "token", "balance tok-2"),
        minutes=2,
    ),
    Scenario(
        "renewal answered 503: the old, still valid token is used",
        (Call("balance"), Call("balance", advance=RENEW_AT_S, token=(status(503),))),
        (BALANCE_OK, BALANCE_OK),
        ("token", "balance tok-1", "token", "balance tok-1"),
    ),
    Scenario(
        "renewal unreachable: the old token is used at once, without a retry",
        (
            Call("balance"),
            Call("send", advance=RENEW_AT_S, token=(raises(httpx.ConnectError, "refused"),)),
        ),
        (BALANCE_OK, SEND_OK),
        ("token", "balance tok-1", "token", "send tok-1"),
    ),
    Scenario(
        "after a failed renewal the next renewal waits 30 s",
        (
            Call("balance"),
            Call("balance", advance=RENEW_AT_S, token=(status(503),)),
            Call("balance", advance=29),
            Call("balance", advance=1),
        ),
        (BALANCE_OK,) * 4,
        (
            "token",
            "balance tok-1",
            "token",
            "balance tok-1",
            "balance tok-1",
            "token",
            "balance tok-2",
        ),
    ),
    Scenario(
        "renewal refused with 401: the old token is not used",
        (
            Call("balance"),
            Call("balance", advance=RENEW_AT_S, token=(status(401, "AUTHENTICATION_FAILED"),)),
        ),
        (BALANCE_OK, "AuthenticationError 401 AUTHENTICATION_FAILED"),
        ("token", "balance tok-1", "token"),
    ),
    Scenario(
        "revoked token: one new token, the request replayed once",
        (Call("balance"), Call("send", revoke=True)),
        (BALANCE_OK, SEND_OK),
        ("token", "balance tok-1", "send tok-1", "token", "send tok-2"),
    ),
    Scenario(
        "401 on the replay too is an authentication error",
        (Call("balance"), Call("send", send=(status(401, "INVALID_TOKEN"),) * 2)),
        (BALANCE_OK, "AuthenticationError 401 INVALID_TOKEN"),
        ("token", "balance tok-1", "send tok-1", "token", "send tok-2"),
    ),
    Scenario(
        "401 with a token fetched for this very call is not replayed",
        one("send", send=(status(401, "INVALID_TOKEN"),)),
        ("AuthenticationError 401 INVALID_TOKEN",),
        ("token", "send tok-1"),
    ),
    # -- malformed bodies
    Scenario(
        "send answered 200 with broken JSON: accepted, event id unknown",
        one("send_retry", send=(raw(200, b'{"statusCode": 200, "sendRes'),)),
        ("UnexpectedResponseError 200 UNEXPECTED_RESPONSE unknown",),
        ("token", "send tok-1"),
        options=R2,
    ),
    Scenario(
        "send answered 200 with an empty body",
        one("send", send=(raw(200, b""),)),
        ("UnexpectedResponseError 200 UNEXPECTED_RESPONSE unknown",),
        ("token", "send tok-1"),
    ),
    Scenario(
        "send answered 200 with an HTML page",
        one("send", send=(raw(200, b"<html>maintenance</html>", "text/html"),)),
        ("UnexpectedResponseError 200 UNEXPECTED_RESPONSE unknown",),
        ("token", "send tok-1"),
    ),
    Scenario(
        "balance of the wrong type, then a good one",
        one("balance", balance=(raw(200, b'{"balance": "lots"}'),)),
        (BALANCE_OK,),
        ("token", "balance tok-1", "balance tok-1"),
        sleeps=(0.125,),
        options=R2,
    ),
    Scenario(
        "balance answered {} without retries",
        one("balance", balance=(raw(200, b"{}"),)),
        ("UnexpectedResponseError 200 UNEXPECTED_RESPONSE retryable",),
        ("token", "balance tok-1"),
    ),
    Scenario(
        "token answer without a token",
        one("balance", token=(raw(200, b'{"expiresInMinutes": 120}'),)),
        ("UnexpectedResponseError 200 UNEXPECTED_RESPONSE retryable",),
        ("token",),
    ),
    Scenario(
        "token answer with a non-positive lifetime",
        one("authenticate", token=(token("tok-x", 0),)),
        ("UnexpectedResponseError 200 UNEXPECTED_RESPONSE retryable",),
        ("token",),
    ),
    Scenario(
        "streamed body over max_response_bytes",
        one("balance", balance=(streamed([b" " * 1000, b" " * 1000]),)),
        ("UnexpectedResponseError - RESPONSE_TOO_LARGE",),
        ("token", "balance tok-1"),
        options={"max_response_bytes": 1024, **R2},
    ),
    Scenario(
        "declared Content-Length over max_response_bytes",
        one(
            "send",
            send=(httpx.Response(200, json=send_json(), headers={"Content-Length": "2000000"}),),
        ),
        ("UnexpectedResponseError - RESPONSE_TOO_LARGE unknown",),
        ("token", "send tok-1"),
        options=R2,
    ),
)


# -- running one scenario through each front door -------------------------------------------


@dataclass(frozen=True)
class Trace:
    """Everything observable about one run."""

    outcomes: tuple[str, ...]
    requests: tuple[str, ...]
    sleeps: tuple[float, ...]
    token_requests: int


def describe(outcome: object) -> str:
    """One comparable line for a result or an error."""
    if isinstance(outcome, SendResult):
        return f"event {outcome.event_id}"
    if isinstance(outcome, Balance):
        return f"balance {outcome.balance}"
    if isinstance(outcome, AuthToken):
        return f"token {outcome.token}"
    assert isinstance(outcome, SmsFlowError), repr(outcome)
    parts = [
        type(outcome).__name__.removeprefix("SmsFlow"),
        "-" if outcome.status_code is None else str(outcome.status_code),
        outcome.code,
    ]
    if outcome.retryable:
        parts.append("retryable")
    if outcome.outcome_unknown:
        parts.append("unknown")
    if outcome.retry_after is not None:
        parts.append(f"after={outcome.retry_after:g}")
    return " ".join(parts)


def request_log(api: FakeApi) -> tuple[str, ...]:
    """Each request as ``endpoint`` plus the bearer token it carried."""
    log = []
    for request in api.requests:
        name = endpoint_of(request.url)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        log.append(name if name == "token" else f"{name} {bearer}")
    return tuple(log)


def prepare(api: FakeApi, clock: Clock, call: Call) -> None:
    """Queue a call's answers and move the clock, as both runs do."""
    clock.advance(call.advance)
    if call.revoke:
        api.revoke_all()
    api.queue("token", *call.token)
    api.queue("send", *call.send)
    api.queue("balance", *call.balance)


_LEDGERS = tempfile.TemporaryDirectory(prefix="smsflow-parity-")  # removed at exit
# One new file per run: counting the folder reused a ledger when SQLite's -wal/-shm side files
# came and went (a keyed send then found its key already completed).
_LEDGER_NUMBERS = itertools.count()


def options(scenario: Scenario, clock: Clock) -> dict[str, Any]:
    extra = dict(scenario.options)
    if extra.pop("ledger", False):
        path = os.path.join(_LEDGERS.name, f"ledger-{next(_LEDGER_NUMBERS)}.sqlite3")
        extra["ledger"] = SqliteLedger(path, clock=clock)
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "base_url": BASE_URL,
        "clock": clock,
        "random_source": lambda: JITTER,
        **extra,
    }


INVALID = [{"destination": "", "content": "hi"}]


def run_sync(scenario: Scenario) -> Trace:
    api, clock, sleeps = FakeApi(minutes=scenario.minutes), Clock(), list[float]()
    outcomes = []
    with (
        httpx.Client(transport=api.transport()) as http,
        SmsFlowClient(http_client=http, sleep=sleeps.append, **options(scenario, clock)) as client,
    ):
        calls: dict[CallName, Callable[[], object]] = {
            "send": lambda: client.send_sms("Parity", MESSAGES),
            "send_retry": lambda: client.send_sms("Parity", MESSAGES, retry=True),
            "send_invalid": lambda: client.send_sms("Parity", INVALID),
            "send_keyed": lambda: client.send_sms("Parity", MESSAGES, idempotency_key="k-1"),
            "send_forced": lambda: client.send_sms(
                "Parity", MESSAGES, idempotency_key="k-1", force_resend=True
            ),
            "balance": client.get_balance,
            "authenticate": client.authenticate,
        }
        for call in scenario.calls:
            prepare(api, clock, call)
            try:
                outcomes.append(describe(calls[call.name]()))
            except SmsFlowError as exc:
                outcomes.append(describe(exc))
        return Trace(tuple(outcomes), request_log(api), tuple(sleeps), client.token_requests)


async def run_async(scenario: Scenario) -> Trace:
    api, clock, sleeps = FakeApi(minutes=scenario.minutes), Clock(), list[float]()
    outcomes = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with (
        httpx.AsyncClient(transport=api.transport()) as http,
        AsyncSmsFlowClient(http_client=http, sleep=sleep, **options(scenario, clock)) as client,
    ):
        calls: dict[CallName, Callable[[], Any]] = {
            "send": lambda: client.send_sms("Parity", MESSAGES),
            "send_retry": lambda: client.send_sms("Parity", MESSAGES, retry=True),
            "send_invalid": lambda: client.send_sms("Parity", INVALID),
            "send_keyed": lambda: client.send_sms("Parity", MESSAGES, idempotency_key="k-1"),
            "send_forced": lambda: client.send_sms(
                "Parity", MESSAGES, idempotency_key="k-1", force_resend=True
            ),
            "balance": client.get_balance,
            "authenticate": client.authenticate,
        }
        for call in scenario.calls:
            prepare(api, clock, call)
            try:
                outcomes.append(describe(await calls[call.name]()))
            except SmsFlowError as exc:
                outcomes.append(describe(exc))
        return Trace(tuple(outcomes), request_log(api), tuple(sleeps), client.token_requests)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_both_clients_end_the_same_way(scenario: Scenario) -> None:
    """Sync and async clients give the same, expected, outcome, requests and sleeps."""
    sync = run_sync(scenario)
    asynchronous = asyncio.run(run_async(scenario))
    assert sync == asynchronous
    # client.token_requests counts every token request sent, answered or not
    sent_to_token = sum(1 for line in scenario.requests if line.split()[0] == "token")
    expected = Trace(scenario.expected, scenario.requests, scenario.sleeps, sent_to_token)
    assert expected == sync


def test_table_covers_every_error_class() -> None:
    """The parity table reaches every public error class at least once."""
    import smsflow

    classes = {
        name.removeprefix("SmsFlow")
        for name in smsflow.__all__
        if name.startswith("SmsFlow") and name.endswith("Error") and name != "SmsFlowError"
    }
    reached = {line.split()[0] for s in SCENARIOS for line in s.expected}
    assert set() == classes - reached
