"""Token endpoint, bearer checks, expiry by the injected clock, revocation."""

from __future__ import annotations

import pytest
from helpers import Clock

from smsflow.testing import Sandbox

from .support import BALANCE, SEND, TOKEN, basic, bearer, call, send_body, token


def test_token_with_good_credentials() -> None:
    sandbox = Sandbox()
    reply = call(sandbox, "GET", TOKEN, headers=basic())
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"token", "expiresInMinutes", "schema"}
    assert body["expiresInMinutes"] == 120
    assert body["schema"] == "Basic"
    assert len(body["token"]) >= 32
    assert sandbox.token_requests == 1
    assert sandbox.tokens_issued == 1


def test_tokens_are_random_and_each_is_valid() -> None:
    sandbox = Sandbox()
    tokens = {token(sandbox) for _ in range(5)}
    assert len(tokens) == 5
    for tok in tokens:
        assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 200


def test_custom_credentials_and_scheme_case() -> None:
    sandbox = Sandbox("my-id", "my-secret")
    headers = basic("my-id", "my-secret")
    headers["Authorization"] = headers["Authorization"].replace("Basic", "basic")
    assert call(sandbox, "GET", TOKEN, headers=headers).status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic("sandbox-client", "wrong"),
        basic("other", "sandbox-secret"),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic "},
        {"Authorization": "Bearer sandbox-secret"},
    ],
    ids=["missing", "wrong-secret", "wrong-id", "bad-base64", "empty", "bearer"],
)
@pytest.mark.invalid_requests
def test_bad_credentials_are_401_authentication_failed(headers: dict[str, str]) -> None:
    sandbox = Sandbox()
    reply = call(sandbox, "GET", TOKEN, headers=headers)
    assert reply.status == 401
    assert reply.json() == {
        "statusCode": 401,
        "errors": [{"code": "AUTHENTICATION_FAILED", "message": "Invalid client credentials."}],
    }
    assert sandbox.tokens_issued == 0
    assert sandbox.token_requests == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer nope"}, basic()],
    ids=["missing", "empty", "unknown", "basic"],
)
@pytest.mark.parametrize("path", [BALANCE, SEND])
@pytest.mark.invalid_requests
def test_bad_tokens_are_401_invalid_token(headers: dict[str, str], path: str) -> None:
    sandbox = Sandbox()
    method = "POST" if path == SEND else "GET"
    body = send_body() if path == SEND else None
    reply = call(sandbox, method, path, headers=headers, json_body=body)
    assert reply.status == 401
    assert [e["code"] for e in reply.json()["errors"]] == ["INVALID_TOKEN"]
    assert sandbox.accepted_count == 0
    assert sandbox.balance == 1000.0


def test_token_expires_by_the_injected_clock() -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock, token_lifetime_minutes=10)
    tok = token(sandbox)
    clock.advance(10 * 60 - 1)
    assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 200
    clock.advance(1)
    reply = call(sandbox, "GET", BALANCE, headers=bearer(tok))
    assert reply.status == 401
    assert reply.json()["errors"][0]["message"] == "The token has expired."


def test_advertised_lifetime_may_exceed_the_real_one() -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock, token_lifetime_minutes=1, advertised_expires_in_minutes=120)
    reply = call(sandbox, "GET", TOKEN, headers=basic())
    assert reply.json()["expiresInMinutes"] == 120
    clock.advance(61)
    tok = reply.json()["token"]
    assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 401


def test_fractional_lifetime_advertises_at_least_one_minute() -> None:
    sandbox = Sandbox(token_lifetime_minutes=0.5)
    assert call(sandbox, "GET", TOKEN, headers=basic()).json()["expiresInMinutes"] == 1


def test_revoke_tokens() -> None:
    sandbox = Sandbox()
    tok = token(sandbox)
    sandbox.revoke_tokens()
    reply = call(sandbox, "GET", BALANCE, headers=bearer(tok))
    assert reply.status == 401
    assert reply.json()["errors"][0]["message"] == "The token is unknown or was revoked."
    assert call(sandbox, "GET", BALANCE, headers=bearer(token(sandbox))).status == 200


def test_issue_token_is_not_counted_as_a_request() -> None:
    sandbox = Sandbox()
    tok = sandbox.issue_token()
    assert sandbox.token_requests == 0
    assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 200


def test_many_tokens_stay_bounded() -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock, token_lifetime_minutes=1)
    for _ in range(1500):
        sandbox.issue_token()
        clock.advance(1)
    assert len(sandbox._tokens) <= 1024


def test_no_secret_in_records_or_reprs() -> None:
    sandbox = Sandbox(client_secret="s3cr3t-value")
    tok = token(sandbox)
    call(sandbox, "GET", BALANCE, headers=bearer(tok))
    texts = [repr(sandbox), *(repr(r) for r in sandbox.requests)]
    assert not any("s3cr3t-value" in t or tok in t for t in texts)
    assert [r.had_token for r in sandbox.requests] == [False, True]
    assert [r.authenticated for r in sandbox.requests] == [True, True]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token_lifetime_minutes": 0},
        {"advertised_expires_in_minutes": 0},
        {"max_batch": 0},
        {"max_records": 0},
        {"price_per_part": -1},
        {"price_per_part": {"MTN": -0.1}},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Sandbox(**kwargs)  # type: ignore[arg-type]
