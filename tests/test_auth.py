"""The token cache and bearer auth (smsflow/_auth.py, smsflow/_tokens.py)."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator

import httpx
import pytest
from helpers import (
    CLIENT_ID,
    CLIENT_SECRET,
    MESSAGES,
    Clock,
    FakeApi,
    basic_header,
    error,
    fake_api,
    token_json,
)

from smsflow import (
    AuthToken,
    SmsFlowAuthenticationError,
    SmsFlowError,
    SmsFlowServerError,
    SmsFlowUnexpectedResponseError,
)
from smsflow._tokens import refresh_time


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted fake API whose clients are closed after the test."""
    yield from fake_api()


def test_constructing_makes_no_request(api: FakeApi) -> None:
    """The token is fetched lazily: building a client sends nothing."""
    api.client()
    assert api.requests == []


def test_basic_header_only_on_the_token_request(api: FakeApi) -> None:
    """The token call carries Basic base64(id:secret); every other call a bearer token."""
    client = api.client()
    client.get_balance()
    client.send_sms("Campaign", MESSAGES)
    expected_basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    seen = [(r.url.path.rsplit("/", 1)[-1], r.headers["Authorization"]) for r in api.requests]
    assert [
        ("authentication", expected_basic),
        ("Balance", "Bearer tok-1"),
        ("BulkMessages", "Bearer tok-1"),
    ] == seen


def test_token_cached_across_calls(api: FakeApi) -> None:
    """One token serves many calls."""
    client = api.client()
    for _ in range(5):
        client.get_balance()
    assert (len(api.to("token")), len(api.to("balance")), client.token_requests) == (1, 5, 1)


@pytest.mark.parametrize(
    ("minutes", "refresh_after_s"),
    [(120, 115 * 60), (10, 5 * 60), (5, 60), (3, 60), (1, 60)],
)
def test_refresh_time(minutes: int, refresh_after_s: float) -> None:
    """Renew 5 minutes before expiry, but never sooner than 1 minute after issue."""
    assert refresh_after_s == refresh_time(1000.0, minutes * 60.0) - 1000.0


@pytest.mark.parametrize(("minutes", "refresh_after_s"), [(120, 115 * 60), (3, 60)])
def test_refresh_ahead_of_expiry(api: FakeApi, minutes: int, refresh_after_s: float) -> None:
    """A call just before the refresh time reuses the token; one at it fetches a new one."""
    api.minutes = minutes
    clock = Clock()
    client = api.client(clock=clock)
    client.get_balance()
    clock.advance(refresh_after_s - 1)
    client.get_balance()
    assert len(api.to("token")) == 1
    clock.advance(1)
    client.get_balance()
    assert len(api.to("token")) == 2
    assert api.to("balance")[-1].headers["Authorization"] == "Bearer tok-2"


def test_401_on_a_cached_token_fetches_once_and_replays(api: FakeApi) -> None:
    """A revoked token: drop it, fetch one new token, replay the request once, succeed."""
    client = api.client()
    client.get_balance()
    api.revoke_all()
    assert client.get_balance().balance == 1234.5
    seen = [(r.url.path.rsplit("/", 1)[-1], r.headers["Authorization"]) for r in api.requests[2:]]
    assert [
        ("Balance", "Bearer tok-1"),
        ("authentication", basic_header()),
        ("Balance", "Bearer tok-2"),
    ] == seen


def test_401_replay_of_a_send_sends_once(api: FakeApi) -> None:
    """A send refused with 401 is replayed once with the new token: one SMS accepted."""
    client = api.client()
    client.get_balance()
    api.revoke_all()
    assert client.send_sms("Campaign", MESSAGES).event_id == 123456
    assert [r.headers["Authorization"] for r in api.to("send")] == ["Bearer tok-1", "Bearer tok-2"]


def test_persistent_401_raises_after_bounded_attempts(api: FakeApi) -> None:
    """A token that keeps being refused: one re-fetch and one replay, then the error."""
    client = api.client(retry_retries=5)
    client.get_balance()
    api.reject_bearer = True
    with pytest.raises(SmsFlowAuthenticationError) as info:
        client.get_balance()
    assert (info.value.code, info.value.status_code) == ("INVALID_TOKEN", 401)
    assert (len(api.to("token")), len(api.to("balance")), api.sleeps) == (2, 3, [])


def test_401_on_a_fresh_token_is_not_refetched(api: FakeApi) -> None:
    """A 401 right after a new token was fetched is final: no fetch loop."""
    client = api.client(retry_retries=5)
    api.reject_bearer = True
    with pytest.raises(SmsFlowAuthenticationError):
        client.get_balance()
    assert (len(api.to("token")), len(api.to("balance"))) == (1, 1)


def test_failed_refresh_keeps_the_valid_token(api: FakeApi) -> None:
    """A 503 from the token endpoint during a renewal keeps using the still-valid token."""
    clock = Clock()
    client = api.client(clock=clock)
    client.get_balance()
    clock.advance(116 * 60)  # due for renewal, 4 minutes before expiry
    api.queue("token", error(503, "SERVICE_UNAVAILABLE"))
    assert client.get_balance().balance == 1234.5
    assert [r.headers["Authorization"] for r in api.to("balance")] == [
        "Bearer tok-1",
        "Bearer tok-1",
    ]
    assert len(api.to("token")) == 2


def test_failed_refresh_after_expiry_raises(api: FakeApi) -> None:
    """Once the old token has expired, a failed renewal is an error."""
    clock = Clock()
    client = api.client(clock=clock)
    client.get_balance()
    clock.advance(121 * 60)
    api.queue("token", error(503, "SERVICE_UNAVAILABLE"))
    with pytest.raises(SmsFlowServerError):
        client.get_balance()
    assert len(api.to("balance")) == 1


def test_bad_credentials_fail_without_retries(api: FakeApi) -> None:
    """Wrong credentials: SmsFlowAuthenticationError after one token request, no sleeps."""
    client = api.client(client_secret="wrong-secret", retry_retries=5)
    with pytest.raises(SmsFlowAuthenticationError) as info:
        client.get_balance()
    assert (info.value.code, info.value.status_code) == ("AUTHENTICATION_FAILED", 401)
    assert (len(api.to("token")), len(api.to("balance")), api.sleeps) == (1, 0, [])


def test_bad_credentials_on_a_send_send_nothing(api: FakeApi) -> None:
    """A send whose token is refused never reaches the send endpoint."""
    client = api.client(client_secret="wrong-secret", retry_retries=5)
    with pytest.raises(SmsFlowAuthenticationError):
        client.send_sms("Campaign", MESSAGES, retry=True)
    assert api.to("send") == []


def test_sixteen_threads_fetch_one_token(api: FakeApi) -> None:
    """Concurrent first calls on one sync client make exactly one token request."""
    client = api.client()
    api.token_wait = 0.05  # hold the token answer so the other threads pile up on the lock
    start = threading.Barrier(16)
    errors: list[BaseException] = []

    def call() -> None:
        start.wait(5)
        try:
            client.get_balance()
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert (errors, len(api.to("token")), len(api.to("balance"))) == ([], 1, 16)


def test_concurrent_async_tasks_fetch_one_token(api: FakeApi) -> None:
    """Concurrent first calls on one async client make exactly one token request."""

    async def main() -> None:
        async with api.async_client() as client:
            results = await asyncio.gather(*(client.get_balance() for _ in range(16)))
        assert [b.balance for b in results] == [1234.5] * 16

    asyncio.run(main())
    assert (len(api.to("token")), len(api.to("balance"))) == (1, 16)


def test_async_401_refetches_once(api: FakeApi) -> None:
    """The async flow drops a revoked token, fetches one new one and replays once."""

    async def main() -> None:
        async with api.async_client() as client:
            await client.get_balance()
            api.revoke_all()
            await client.get_balance()

    asyncio.run(main())
    assert (len(api.to("token")), len(api.to("balance"))) == (2, 3)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(500, json={"token": "tok-LEAKED-9", "secret": CLIENT_SECRET}),
        httpx.Response(401, text=f"bad credentials for {CLIENT_SECRET} tok-LEAKED-9"),
        httpx.Response(200, json={"token": "tok-LEAKED-9", "expiresInMinutes": "soon"}),
        httpx.Response(200, json={"token": "tok-LEAKED-9"}),
    ],
)
def test_token_errors_never_show_secrets(api: FakeApi, reply: httpx.Response) -> None:
    """Errors from the token endpoint hold neither the token nor the secret."""
    client = api.client()
    api.queue("token", reply)
    with pytest.raises(SmsFlowError) as info:
        client.get_balance()
    err = info.value
    text = " ".join([str(err), repr(err), str(err.body), str(err.args), err.message])
    assert "tok-LEAKED-9" not in text
    assert CLIENT_SECRET not in text
    assert err.body is None or "tok-LEAKED-9" not in str(err.body)


def test_unusable_token_answer_is_an_unexpected_response(api: FakeApi) -> None:
    """A 200 without a usable token is SmsFlowUnexpectedResponseError, not KeyError."""
    client = api.client()
    api.queue("token", httpx.Response(200, json={"expiresInMinutes": 120}))
    with pytest.raises(SmsFlowUnexpectedResponseError):
        client.get_balance()


def test_authenticate_returns_a_hidden_token(api: FakeApi) -> None:
    """authenticate() fetches a token now and returns an AuthToken whose repr hides it."""
    clock = Clock()
    client = api.client(clock=clock)
    token = client.authenticate()
    assert isinstance(token, AuthToken)
    assert (token.token, token.expires_in_minutes) == ("tok-1", 120.0)
    assert dict(token) == {"token": "tok-1", "expiresInMinutes": 120, "schema": "Basic"}
    assert clock.now + 7200 == token.expires_at.timestamp()
    assert "tok-1" not in repr(token)
    assert "tok-1" not in str(token)


def test_authenticate_forces_a_new_token_used_by_later_calls(api: FakeApi) -> None:
    """authenticate() replaces the cached token; later calls use the new one."""
    client = api.client()
    client.get_balance()
    client.authenticate()
    client.get_balance()
    assert [r.headers["Authorization"] for r in api.to("balance")] == [
        "Bearer tok-1",
        "Bearer tok-2",
    ]


def test_authenticate_with_bad_credentials(api: FakeApi) -> None:
    """authenticate() with a wrong secret raises SmsFlowAuthenticationError."""
    client = api.client(client_secret="nope")
    with pytest.raises(SmsFlowAuthenticationError):
        client.authenticate()


def test_token_answer_with_integer_minutes(api: FakeApi) -> None:
    """The spec's token body is accepted as is (expiresInMinutes an integer)."""
    client = api.client()
    api.queue("token", httpx.Response(200, json=token_json("tok-spec", 120)))
    api.sandbox.issue_token("tok-spec")  # the canned answer's token is one the sandbox knows
    client.get_balance()
    assert api.to("balance")[0].headers["Authorization"] == "Bearer tok-spec"


def test_client_repr_hides_the_secret(api: FakeApi) -> None:
    """The client's repr shows the id, never the secret or the token."""
    client = api.client()
    client.get_balance()
    text = repr(client) + repr(client._cache) + repr(client._auth)
    assert CLIENT_ID in text
    assert CLIENT_SECRET not in text
    assert "tok-1" not in text


# -- one token path (issue 10 item 7) -------------------------------------------------------


def _token_headers(request: httpx.Request) -> dict[str, str]:
    """The headers, the credential replaced by whether it is the right one (never printed)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["authorization"] = str(headers.get("authorization") == basic_header())
    return headers


def test_authenticate_and_lazy_fetch_send_the_same_request(api: FakeApi) -> None:
    """``authenticate()`` and the lazy fetch before a call send the same method, URL and
    headers (both built from one description of the token call)."""
    client = api.client()
    client.authenticate()
    api.revoke_all()
    other = api.client()
    other.get_balance()
    explicit, lazy = api.to("token")
    assert (explicit.method, explicit.url, _token_headers(explicit)) == (
        lazy.method,
        lazy.url,
        _token_headers(lazy),
    )


def test_authenticate_and_lazy_fetch_send_the_same_request_async(api: FakeApi) -> None:
    """The async client: ``authenticate()`` and the lazy fetch send the same request."""

    async def main() -> None:
        async with api.async_client() as client:
            await client.authenticate()
        async with api.async_client() as other:
            await other.get_balance()

    asyncio.run(main())
    explicit, lazy = api.to("token")
    assert (explicit.method, explicit.url, _token_headers(explicit)) == (
        lazy.method,
        lazy.url,
        _token_headers(lazy),
    )


def test_oversized_token_answer_is_refused_alike_by_both_paths(api: FakeApi) -> None:
    """One reader: a token answer over ``max_response_bytes`` (declared or streamed) raises the
    same RESPONSE_TOO_LARGE error from ``authenticate()`` and from a call's lazy fetch."""
    big = b'{"token": "' + b"x" * 4096 + b'", "expiresInMinutes": 120}'
    client = api.client(max_response_bytes=1024)
    seen = []
    for call in (client.authenticate, client.get_balance):
        api.queue("token", httpx.Response(200, content=big))
        with pytest.raises(SmsFlowUnexpectedResponseError) as info:
            call()
        seen.append((info.value.code, info.value.message))
    assert seen[0] == seen[1]
    assert seen[0][0] == "RESPONSE_TOO_LARGE"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_token_fetches_and_the_401_replay_are_logged_at_debug_without_the_token(
    caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    """DEBUG logs say when a token is fetched and when a 401 leads to a new token and a
    replay; no line holds a token or the secret."""
    import logging

    from smsflow.testing import Sandbox

    sandbox = Sandbox(token_factory=lambda n: f"tok-{n}-9f3b2c7d1e")
    caplog.set_level(logging.DEBUG, logger="smsflow")
    if kind == "sync":
        with sandbox.client() as client:
            client.get_balance()
            sandbox.revoke_tokens()
            client.get_balance()
    else:

        async def main() -> None:
            async with sandbox.async_client() as client:
                await client.get_balance()
                sandbox.revoke_tokens()
                await client.get_balance()

        asyncio.run(main())
    text = caplog.text
    assert 2 == text.count("token fetched")
    assert 1 == text.count("401 for the current token")
    assert 1 == text.count("replaying GET /api/integration/Balance with the new token")
    for record in caplog.records:
        message = record.getMessage()
        assert "Bearer" not in message
        assert sandbox.client_secret not in message
    assert "9f3b2c7d1e" not in text
