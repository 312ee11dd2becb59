"""Transport security: https for remote hosts, TLS verification on, no redirects followed, the
client secret only to the token endpoint, and answers above ``max_response_bytes`` refused.

Against a real loopback :class:`SandboxServer` where a request is needed; the sandbox's
observer sees every request's headers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Iterator, Mapping
from typing import Any, Final

import httpx
import pytest
from contract.observer import ContractObserver
from helpers import BALANCE_PATH, SEND_PATH, TOKEN_PATH

from smsflow import (
    AsyncSmsFlowClient,
    SmsFlowClient,
    SmsFlowUnexpectedResponseError,
    SmsFlowValidationError,
)
from smsflow.testing import Sandbox, SandboxReply, SandboxServer

CLIENT_ID: Final = "transport-client"
SECRET: Final = "transport-secret-5e1d"
MESSAGES: Final = [{"destination": "27821234567", "content": "Transport test."}]
ONE_MIB: Final = 1024 * 1024  # the documented default of max_response_bytes


class Seen:
    """A sandbox observer keeping (method, path, Authorization) of every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        self.requests.append((method, path, headers.get("authorization", "")))


@pytest.fixture
def server(contract_observer: ContractObserver) -> Iterator[SandboxServer]:
    """A loopback sandbox server (redirects and oversized answers are off the spec on purpose:
    the contract observer is detached)."""
    sandbox = Sandbox(CLIENT_ID, SECRET)
    sandbox.remove_observer(contract_observer)
    with SandboxServer(sandbox) as running:
        yield running


def client_for(server: SandboxServer, **options: Any) -> SmsFlowClient:
    return SmsFlowClient(CLIENT_ID, SECRET, server.url, 5, sleep=lambda s: None, **options)


# -- https for any remote host ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://portal.smsflow.co.za",
        "HTTP://portal.smsflow.co.za/",
        "http://10.0.0.5:8080",
        "http://127.0.0.1.example.com",
        "http://localhost.example.com",
        "http://0.0.0.0:8025",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    """http:// to a non-loopback host is refused at construction (the secret would go in clear)."""
    with pytest.raises(SmsFlowValidationError) as info:
        SmsFlowClient(CLIENT_ID, SECRET, url)
    assert ("INSECURE_BASE_URL", None) == (info.value.code, info.value.status_code)
    assert SECRET not in str(info.value)


def test_plain_http_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """SMSFLOW_BASE_URL gets the same check as the keyword."""
    monkeypatch.setenv("SMSFLOW_BASE_URL", "http://portal.smsflow.co.za")
    with pytest.raises(SmsFlowValidationError) as info:
        AsyncSmsFlowClient(CLIENT_ID, SECRET)
    assert "INSECURE_BASE_URL" == info.value.code


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8025", "http://localhost:8025", "http://[::1]:8025", "http://127.8.9.1"],
)
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    """The local sandbox may be plain http: loopback traffic never leaves the machine."""
    with SmsFlowClient(CLIENT_ID, SECRET, url) as client:
        assert url.rstrip("/") == client.base_url


def test_plain_http_to_a_remote_host_only_when_explicitly_allowed() -> None:
    """allow_insecure_http=True is the one way to use http:// to a remote host."""
    with SmsFlowClient(
        CLIENT_ID, SECRET, "http://gateway.internal:8080", allow_insecure_http=True
    ) as client:
        assert "http://gateway.internal:8080" == client.base_url


def test_credentials_in_the_base_url_are_refused() -> None:
    """A base URL with user:password is refused (credentials go only in HTTP Basic)."""
    with pytest.raises(SmsFlowValidationError) as info:
        SmsFlowClient(CLIENT_ID, SECRET, f"https://{CLIENT_ID}:{SECRET}@portal.smsflow.co.za")
    assert "INVALID_BASE_URL" == info.value.code
    assert SECRET not in str(info.value)


# -- TLS verification -------------------------------------------------------------------------


def _ssl_context(http: httpx.Client | httpx.AsyncClient) -> ssl.SSLContext:
    transport: Any = http._transport  # the default transport httpx builds for the client
    context = transport._pool._ssl_context
    assert isinstance(context, ssl.SSLContext)
    return context


def test_the_clients_we_create_verify_tls() -> None:
    """Both clients' own httpx pools verify certificates and host names (TLS 1.2 or newer)."""
    sync = SmsFlowClient(CLIENT_ID, SECRET)
    asynchronous = AsyncSmsFlowClient(CLIENT_ID, SECRET, limits=httpx.Limits(max_connections=5))
    try:
        for http in (sync._http, asynchronous._http):
            context = _ssl_context(http)
            assert (ssl.CERT_REQUIRED, True) == (context.verify_mode, context.check_hostname)
            assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    finally:
        sync.close()
        asyncio.run(asynchronous.aclose())


def test_tls_verification_ignores_a_disabling_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Environment variables that some tools read to skip verification change nothing."""
    for name in ("PYTHONHTTPSVERIFY", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"):
        monkeypatch.setenv(name, "0" if name == "PYTHONHTTPSVERIFY" else "")
    with SmsFlowClient(CLIENT_ID, SECRET) as client:
        context = _ssl_context(client._http)
        assert (ssl.CERT_REQUIRED, True) == (context.verify_mode, context.check_hostname)


# -- redirects --------------------------------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[SandboxServer]:
    """A second loopback server: the redirect target, which must receive nothing."""
    with SandboxServer(Sandbox(CLIENT_ID, SECRET)) as target:
        yield target


CALLS: Final[dict[str, tuple[str, Any]]] = {
    "authenticate": ("token", lambda c: c.authenticate()),
    "token before get_balance": ("token", lambda c: c.get_balance()),
    "get_balance": ("balance", lambda c: c.get_balance()),
    "send_sms": ("send", lambda c: c.send_sms("Redirect", MESSAGES, retry=True)),
}
REDIRECTS: Final = [
    *((name, status) for name in CALLS for status in (302, 307)),
    *(("get_balance", status) for status in (301, 303, 308)),
]


@pytest.mark.parametrize(("name", "status"), REDIRECTS)
def test_redirects_are_not_followed(
    server: SandboxServer, elsewhere: SandboxServer, name: str, status: int
) -> None:
    """A 3xx to another host is an error, not retried; the other host receives nothing,
    even when the user's own httpx client is set to follow redirects."""
    endpoint, call = CALLS[name]
    path = {"token": TOKEN_PATH, "balance": BALANCE_PATH, "send": SEND_PATH}[endpoint]
    location = f"{elsewhere.url}{path}"
    server.sandbox.redirect_next(2, location, endpoint=endpoint, status=status)  # type: ignore[arg-type]
    with httpx.Client(follow_redirects=True) as users_own:
        for client in (
            client_for(server, retry_retries=2),
            client_for(server, http_client=users_own),
        ):
            with client, pytest.raises(SmsFlowUnexpectedResponseError) as info:
                call(client)
            assert (status, False) == (info.value.status_code, info.value.retryable)
    assert 0 == elsewhere.sandbox.request_count


# -- the client secret goes only to the token endpoint ----------------------------------------


def _session(client: SmsFlowClient, sandbox: Sandbox) -> None:
    """Every kind of call, a revoked token (401 and replay) and a retried 503."""
    client.authenticate()
    client.get_balance()
    client.send_sms("Basic only to the token endpoint", MESSAGES)
    sandbox.revoke_tokens()
    client.send_sms("After a revoked token", MESSAGES)
    sandbox.fail_next(endpoint="balance", status=503)
    client.get_balance()
    sandbox.revoke_tokens()
    client.get_balance()


def test_basic_credentials_go_only_to_the_token_endpoint(server: SandboxServer) -> None:
    """HTTP Basic is sent to the token endpoint only, a Bearer token everywhere else."""
    seen = Seen()
    server.sandbox.add_observer(seen)
    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    with client_for(server, retry_retries=1) as client:
        _session(client, server.sandbox)

    async def async_session() -> None:
        async def sleep(seconds: float) -> None:
            return None

        async with AsyncSmsFlowClient(CLIENT_ID, SECRET, server.url, sleep=sleep) as client:
            await client.authenticate()
            await client.get_balance()
            server.sandbox.revoke_tokens()
            await client.send_sms("Async", MESSAGES)

    asyncio.run(async_session())
    to_token = [auth for _, path, auth in seen.requests if path == TOKEN_PATH]
    elsewhere = [auth for _, path, auth in seen.requests if path != TOKEN_PATH]
    assert (5, 11) == (len(to_token), len(elsewhere))  # 3 + 2 token fetches; 8 + 3 calls
    assert {basic} == set(to_token)
    assert all(auth.startswith("Bearer ") and SECRET not in auth for auth in elsewhere)
    assert not any(auth == basic for auth in elsewhere)


# -- answer size --------------------------------------------------------------------------------


def _balance_body(size: int) -> bytes:
    head, tail = b'{"balance": 1.5, "pad": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("endpoint", ["balance", "token"])
def test_answers_above_max_response_bytes_are_refused(server: SandboxServer, endpoint: str) -> None:
    """By default an answer of 1 MiB is read and one byte more is refused, unretried,
    including a token answer read inside a call."""
    sandbox = server.sandbox
    with client_for(server, retry_retries=2) as client:
        if endpoint == "balance":
            sandbox.malformed_next(endpoint="balance", body=_balance_body(ONE_MIB))
            assert 1.5 == client.get_balance().balance
        sandbox.malformed_next(endpoint=endpoint, body=_balance_body(ONE_MIB + 1))  # type: ignore[arg-type]
        with pytest.raises(SmsFlowUnexpectedResponseError) as info:
            client.get_balance()
    assert ("RESPONSE_TOO_LARGE", False) == (info.value.code, info.value.retryable)
    assert 0 == sandbox.pending_faults()


def test_max_response_bytes_is_a_setting(server: SandboxServer) -> None:
    """max_response_bytes lowers the limit; a send's too-large answer leaves its outcome unknown."""
    server.sandbox.malformed_next(endpoint="send", body=json.dumps({"x": "y" * 5000}).encode())
    with (
        client_for(server, max_response_bytes=4096) as client,
        pytest.raises(SmsFlowUnexpectedResponseError) as info,
    ):
        client.send_sms("Size", MESSAGES)
    assert ("RESPONSE_TOO_LARGE", True) == (info.value.code, info.value.outcome_unknown)


def test_an_endless_answer_without_content_length_is_cut_off() -> None:
    """A streamed answer with no Content-Length is refused once it passes the limit,
    without reading the rest."""
    pulled: list[int] = []

    def endless() -> Iterator[bytes]:
        for index in range(100_000):  # bounded: 100 MB if nothing stopped it
            pulled.append(index)
            yield b"x" * 1024

    sandbox = Sandbox(CLIENT_ID, SECRET)
    sandbox.reply_next(endpoint="balance", body=endless())  # streamed, read as it is pulled

    with (
        SmsFlowClient(
            CLIENT_ID, SECRET, transport=sandbox.transport(), max_response_bytes=8192
        ) as client,
        pytest.raises(SmsFlowUnexpectedResponseError) as info,
    ):
        client.get_balance()
    assert "RESPONSE_TOO_LARGE" == info.value.code
    assert len(pulled) <= 10
