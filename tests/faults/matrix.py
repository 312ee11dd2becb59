"""The fault matrix: every fault the sandbox injects, with the outcome the README documents.

Each :class:`Case` injects one fault into a real :class:`~smsflow.testing.SandboxServer` and
states what a call must end in, for the idempotent calls (``authenticate()``,
``get_balance()``) and for a send (``send_sms()``): the exception (class, status, code,
``retryable``, ``outcome_unknown``, ``retry_after``) with ``retry_retries=0``, and whether
``retry_retries=1`` retries it (a send without and with ``retry=True``). ``row`` names the
README "Errors" table row that documents it (its first cell), so the table and the matrix are
checked against each other. :func:`run_sync` / :func:`run_async` drive the clients.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from smsflow import (
    AsyncSmsFlowClient,
    SmsFlowAuthenticationError,
    SmsFlowClient,
    SmsFlowDeliveryUnknownError,
    SmsFlowError,
    SmsFlowNetworkError,
    SmsFlowRateLimitError,
    SmsFlowRequestTimeoutError,
    SmsFlowServerError,
    SmsFlowUnexpectedResponseError,
)
from smsflow.testing import Sandbox, SandboxServer

from .support import async_transport, sync_transport

Op = Literal["authenticate", "get_balance", "send_sms"]
Mode = Literal["once", "retry", "opt_in"]
Endpoint = Literal["token", "balance", "send"]

OPS: Final[tuple[Op, ...]] = ("authenticate", "get_balance", "send_sms")
ENDPOINT: Final[dict[Op, Endpoint]] = {
    "authenticate": "token",
    "get_balance": "balance",
    "send_sms": "send",
}
MESSAGES: Final = [{"destination": "27821234567", "content": "Fault matrix message."}]
JITTER: Final = 0.5  # the injected random source: a backoff is half its ceiling
BACKOFF: Final = JITTER * 0.25  # the first backoff with retry_base_delay=0.25 (seconds)
SHORT_TIMEOUT: Final = 0.2  # seconds, for the cases that wait for a timeout
TIMEOUT: Final = 5.0  # seconds, for every other case (never reached)
MAX_RESPONSE_BYTES: Final = 1024 * 1024  # the documented default

Inject = Callable[[Sandbox, SandboxServer, Endpoint], None]


@dataclass(frozen=True)
class Expect:
    """The documented outcome of one fault on one kind of call.

    Attributes:
        error: The exact exception class with ``retry_retries=0``; ``None``: the call succeeds.
        status: Its ``status_code``.
        code: Its ``code``.
        retryable: Its ``retryable``.
        outcome_unknown: Its ``outcome_unknown``.
        retried: Whether ``retry_retries=1`` retries it (a send: with ``retry=False``).
        retried_opt_in: The same for a send with ``retry=True`` (``None``: as ``retried``).
        retry_after: ``(low, high)`` bounds of ``retry_after`` and of the one sleep, seconds.
        row: The first cell of the README "Errors" row that documents it.
    """

    error: type[SmsFlowError] | None
    status: int | None = None
    code: str | None = None
    retryable: bool = False
    outcome_unknown: bool = False
    retried: bool = False
    retried_opt_in: bool | None = None
    retry_after: tuple[float, float] | None = None
    row: str | None = None

    def retried_in(self, mode: Mode) -> bool:
        """Whether the fault is retried in ``mode`` (``once`` never retries)."""
        if mode == "once":
            return False
        if mode == "opt_in" and self.retried_opt_in is not None:
            return self.retried_opt_in
        return self.retried


@dataclass(frozen=True)
class Case:
    """One fault, how to inject it, and its outcome on idempotent calls and on a send."""

    name: str
    inject: Inject
    idempotent: Expect
    send: Expect
    ops: tuple[Op, ...] = OPS
    timeout: float = TIMEOUT
    warm_up: bool = False  # make one get_balance() first (a cached token, a pooled connection)
    off_spec: bool = False  # the answer is not in spec/openapi.yaml: detach the contract check
    processed: bool = False  # the sandbox accepts a send before acting out the fault
    endpoint: Endpoint | None = None  # inject here instead of the called operation's endpoint

    def expect(self, op: Op) -> Expect:
        """The expectation for ``op``.

        An error answer of the token endpoint keeps its codes (never its free text, which
        could echo a token), so its ``code`` is the API's, as for every other endpoint.
        """
        return self.send if op == "send_sms" else self.idempotent


# -- injections -------------------------------------------------------------------------------


def fail(status: int, retry_after: Any = None) -> Inject:
    """An error status with a JSON error body (``retry_after`` as ``Sandbox.fail_next``)."""

    def inject(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
        value = retry_after() if callable(retry_after) else retry_after
        sandbox.fail_next(endpoint=endpoint, status=status, retry_after=value)

    return inject


def html(status: int) -> Inject:
    """An HTML error page, as a gateway or a CDN sends it."""
    return lambda sandbox, server, endpoint: sandbox.html_next(endpoint=endpoint, status=status)


def malformed(body: bytes | None = None) -> Inject:
    """A 200 whose body is not the spec's (``None``: a cut-off JSON object)."""
    return lambda sandbox, server, endpoint: sandbox.malformed_next(endpoint=endpoint, body=body)


def truncate(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """Headers with the full Content-Length, half the body, then the connection closes."""
    sandbox.truncate_next(endpoint=endpoint)


def drop(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The connection closes without a response (the request was not processed)."""
    sandbox.drop_next(endpoint=endpoint)


def lose_response(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The request is processed, then the connection closes without a response."""
    sandbox.lose_response_next(endpoint=endpoint)


def reset(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The connection is reset (TCP RST)."""
    sandbox.reset_next(endpoint=endpoint)


def delay(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The answer comes 1 s late: past the 0.2 s read timeout."""
    sandbox.delay_next(seconds=1.0, endpoint=endpoint)


def trickle(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """One body byte every 0.05 s: each read is in time, the whole answer is not."""
    sandbox.trickle_next(seconds=0.05, endpoint=endpoint)


def redirect(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """A 302 to another host."""
    sandbox.redirect_next(location="http://127.0.0.1:9/elsewhere", endpoint=endpoint)


def too_large(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """A 200 whose body is larger than ``max_response_bytes``."""
    sandbox.malformed_next(endpoint=endpoint, body=b'"' + b"x" * MAX_RESPONSE_BYTES + b'"')


def revoke_tokens(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The cached token is revoked (the next bearer call gets a 401 INVALID_TOKEN)."""
    sandbox.revoke_tokens()


def revoke_credentials(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The client secret is no longer valid."""
    sandbox.client_secret = "rotated-secret"


def close_idle(sandbox: Sandbox, server: SandboxServer, endpoint: Endpoint) -> None:
    """The server closes the pooled keep-alive connection while it is idle."""
    server.close_connections()
    waited = threading.Event()
    for _ in range(400):  # at most 2 s: until the server's handler has seen it close
        if server.open_connections == 0:
            return
        waited.wait(0.005)
    raise AssertionError("the sandbox server did not close its connections")


def http_date_in(seconds: float) -> Callable[[], datetime]:
    """A ``Retry-After`` HTTP-date ``seconds`` from now (computed when injected)."""
    return lambda: datetime.now(UTC) + timedelta(seconds=seconds)


# -- expectations -----------------------------------------------------------------------------

NOT_PROCESSED_STATUS_ROW: Final = "500, 503, other 5xx (e.g. 520)"
NET_ROW: Final = (
    "read timeout, slow trickle beyond the timeout, reset or dropped connection, truncated body,"
    " on token/balance"
)
SENT_ROW: Final = "the same after a send was written"
BAD_2XX_ROW: Final = "2xx with invalid JSON, HTML, empty body, JSON array, wrong shape"
RATE_ROW: Final = "429 (`Retry-After` seconds or HTTP-date)"
TOKEN_ANSWER_ROW: Final = (
    "the token endpoint failed (an error status or an unusable answer) before a call"
)
TOKEN_NET_ROW: Final = "the token fetch was dropped, reset or timed out before a call"


def server_error(status: int, code: str) -> tuple[Expect, Expect]:
    """500, 503, 520: retried for token/balance; a send only with ``retry=True``."""
    row = NOT_PROCESSED_STATUS_ROW
    return (
        Expect(SmsFlowServerError, status, code, True, retried=True, row=row),
        Expect(SmsFlowServerError, status, code, True, retried=False, retried_opt_in=True, row=row),
    )


def gateway_error(status: int, code: str) -> tuple[Expect, Expect]:
    """502, 504: retried for token/balance; a send's outcome is unknown, never retried."""
    return (
        Expect(
            SmsFlowServerError, status, code, True, retried=True, row="502, 504 on token/balance"
        ),
        Expect(SmsFlowServerError, status, code, False, True, row="502, 504 on a send"),
    )


def lost(code: str) -> tuple[Expect, Expect]:
    """No complete answer: retried for token/balance; a send's outcome is unknown."""
    return (
        Expect(SmsFlowNetworkError, None, code, True, retried=True, row=NET_ROW),
        Expect(SmsFlowDeliveryUnknownError, None, "DELIVERY_UNKNOWN", False, True, row=SENT_ROW),
    )


def bad_2xx() -> tuple[Expect, Expect]:
    """A 200 that is not the spec's: retried for token/balance; a send's outcome is unknown."""
    code = "UNEXPECTED_RESPONSE"
    return (
        Expect(SmsFlowUnexpectedResponseError, 200, code, True, retried=True, row=BAD_2XX_ROW),
        Expect(SmsFlowUnexpectedResponseError, 200, code, False, True, row=BAD_2XX_ROW),
    )


def both(expect: Expect) -> tuple[Expect, Expect]:
    """The same outcome for every call."""
    return expect, expect


REQUEST_TIMEOUT: Final = Expect(
    SmsFlowRequestTimeoutError, 408, "REQUEST_TIMEOUT", True, retried=True, row="408"
)
SUCCESS: Final = Expect(None)


def rate_limited(low: float | None, high: float | None) -> Expect:
    """A 429: retried by every call, after ``Retry-After`` when there is one."""
    bounds = None if low is None or high is None else (low, high)
    return Expect(
        SmsFlowRateLimitError,
        429,
        "RATE_LIMITED",
        True,
        retried=True,
        retry_after=bounds,
        row=RATE_ROW,
    )


def token_first(expect: Expect) -> tuple[Expect, Expect]:
    """A failed token fetch before a call: the same outcome for a send (it was not sent)."""
    row = TOKEN_NET_ROW if expect.status is None else TOKEN_ANSWER_ROW
    return (
        replace(expect, row=row),
        Expect(
            expect.error,
            expect.status,
            expect.code,
            expect.retryable,
            retried=expect.retried,
            row=row,
        ),
    )


def _case(
    name: str,
    inject: Inject,
    expects: tuple[Expect, Expect],
    **options: Any,
) -> Case:
    return Case(name, inject, expects[0], expects[1], **options)


CASES: Final[tuple[Case, ...]] = (
    _case("408", fail(408), both(REQUEST_TIMEOUT)),
    _case("429 Retry-After seconds", fail(429, 7), both(rate_limited(7.0, 7.0))),
    _case(
        "429 Retry-After HTTP-date",
        fail(429, http_date_in(30)),
        both(rate_limited(28.0, 30.0)),
    ),
    _case("429 without Retry-After", fail(429), both(rate_limited(None, None))),
    _case("500", fail(500), server_error(500, "INTERNAL_ERROR")),
    _case("502", fail(502), gateway_error(502, "BAD_GATEWAY")),
    _case("503", fail(503), server_error(503, "SERVICE_UNAVAILABLE")),
    _case("504", fail(504), gateway_error(504, "GATEWAY_TIMEOUT")),
    _case("520 (non-standard, HTML page)", html(520), server_error(520, "SERVER_ERROR")),
    _case("HTML error page (502)", html(502), gateway_error(502, "SERVER_ERROR")),
    _case("invalid JSON on a 200", malformed(), bad_2xx(), processed=True),
    _case("empty body on a 200", malformed(b""), bad_2xx(), processed=True),
    _case("JSON array on a 200", malformed(b"[]"), bad_2xx(), processed=True),
    _case("truncated body", truncate, lost("CONNECTION_LOST"), processed=True),
    _case("dropped connection", drop, lost("CONNECTION_LOST")),
    _case("response lost after processing", lose_response, lost("CONNECTION_LOST"), processed=True),
    _case("connection reset", reset, lost("CONNECTION_LOST")),
    _case(
        "read timeout",
        delay,
        lost("TIMEOUT"),
        timeout=SHORT_TIMEOUT,
        processed=True,
    ),
    _case(
        "slow trickle beyond the timeout",
        trickle,
        lost("TIMEOUT"),
        timeout=SHORT_TIMEOUT,
        processed=True,
    ),
    _case(
        "redirect (302, not followed)",
        redirect,
        both(
            Expect(
                SmsFlowUnexpectedResponseError,
                302,
                "UNEXPECTED_RESPONSE",
                False,
                row="3xx (redirects are never followed)",
            )
        ),
        off_spec=True,
    ),
    _case(
        "answer above max_response_bytes",
        too_large,
        (
            Expect(
                SmsFlowUnexpectedResponseError,
                None,
                "RESPONSE_TOO_LARGE",
                False,
                row="answer larger than `max_response_bytes`",
            ),
            Expect(
                SmsFlowUnexpectedResponseError,
                None,
                "RESPONSE_TOO_LARGE",
                False,
                True,
                row="answer larger than `max_response_bytes`",
            ),
        ),
        processed=True,
    ),
    _case(
        "revoked client credentials",
        revoke_credentials,
        both(
            Expect(
                SmsFlowAuthenticationError,
                401,
                "AUTHENTICATION_FAILED",
                False,
                row="401, 403; missing credentials",
            )
        ),
        endpoint="token",
    ),
    _case("revoked token (one new token, one replay)", revoke_tokens, both(SUCCESS), warm_up=True),
    _case(
        "idle keep-alive connection closed by the server",
        close_idle,
        both(SUCCESS),
        warm_up=True,
    ),
    _case(
        "token endpoint 503 before the call",
        fail(503),
        token_first(server_error(503, "SERVICE_UNAVAILABLE")[0]),
        ops=("get_balance", "send_sms"),
        endpoint="token",
    ),
    _case(
        "token endpoint drops the connection before the call",
        drop,
        token_first(
            Expect(SmsFlowNetworkError, None, "CONNECT_FAILED", True, retried=True, row=NET_ROW)
        ),
        ops=("get_balance", "send_sms"),
        endpoint="token",
    ),
    _case(
        "token endpoint answers invalid JSON before the call",
        malformed(),
        token_first(bad_2xx()[0]),
        ops=("get_balance", "send_sms"),
        endpoint="token",
    ),
)


# -- running one case -------------------------------------------------------------------------


@dataclass
class Observed:
    """What one call ended in, as seen by the client and by the sandbox."""

    result: str | None = None  # the result's class name when the call succeeded
    error: SmsFlowError | None = None
    sleeps: list[float] = field(default_factory=list)
    attempts: int = 0  # requests to the faulted endpoint during the call
    accepted: int = 0  # messages the sandbox accepted during the call
    duplicates: int = 0


def client_options(
    case: Case, sandbox: Sandbox, server: SandboxServer, mode: Mode
) -> dict[str, Any]:
    """Keyword arguments of the client under test."""
    return {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "base_url": server.url,
        "timeout": case.timeout,
        "retry_retries": 0 if mode == "once" else 1,
        "random_source": lambda: JITTER,
    }


def _count(sandbox: Sandbox, endpoint: Endpoint, since: int) -> int:
    return sum(1 for r in sandbox.requests[since:] if r.endpoint == endpoint)


def run_sync(case: Case, op: Op, mode: Mode, sandbox: Sandbox, server: SandboxServer) -> Observed:
    """Run ``op`` through a :class:`SmsFlowClient` with the fault injected."""
    seen = Observed()
    endpoint = case.endpoint or ENDPOINT[op]
    options = client_options(case, sandbox, server, mode)
    with SmsFlowClient(sleep=seen.sleeps.append, transport=sync_transport(), **options) as client:
        if case.warm_up:
            client.get_balance()
        since, accepted = len(sandbox.requests), sandbox.accepted_count
        case.inject(sandbox, server, endpoint)
        try:
            if op == "authenticate":
                seen.result = type(client.authenticate()).__name__
            elif op == "get_balance":
                seen.result = type(client.get_balance()).__name__
            else:
                result = client.send_sms("Fault matrix", MESSAGES, retry=mode == "opt_in")
                seen.result = type(result).__name__
        except SmsFlowError as error:
            seen.error = error
    seen.attempts = _count(sandbox, endpoint, since)
    seen.accepted = sandbox.accepted_count - accepted
    seen.duplicates = sandbox.duplicate_count()
    return seen


async def run_async(
    case: Case, op: Op, mode: Mode, sandbox: Sandbox, server: SandboxServer
) -> Observed:
    """Run ``op`` through an :class:`AsyncSmsFlowClient` with the fault injected."""
    seen = Observed()
    endpoint = case.endpoint or ENDPOINT[op]

    async def sleep(seconds: float) -> None:
        seen.sleeps.append(seconds)

    options = client_options(case, sandbox, server, mode)
    async with AsyncSmsFlowClient(sleep=sleep, transport=async_transport(), **options) as client:
        if case.warm_up:
            await client.get_balance()
        since, accepted = len(sandbox.requests), sandbox.accepted_count
        case.inject(sandbox, server, endpoint)
        try:
            if op == "authenticate":
                seen.result = type(await client.authenticate()).__name__
            elif op == "get_balance":
                seen.result = type(await client.get_balance()).__name__
            else:
                result = await client.send_sms("Fault matrix", MESSAGES, retry=mode == "opt_in")
                seen.result = type(result).__name__
        except SmsFlowError as error:
            seen.error = error
    seen.attempts = _count(sandbox, endpoint, since)
    seen.accepted = sandbox.accepted_count - accepted
    seen.duplicates = sandbox.duplicate_count()
    return seen


RESULT_TYPE: Final[dict[Op, str]] = {
    "authenticate": "AuthToken",
    "get_balance": "Balance",
    "send_sms": "SendResult",
}
