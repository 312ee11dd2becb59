"""The one retry policy (smsflow/_retry.py), on its own and through both clients."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Callable, Iterator

import httpx
import pytest
from helpers import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    MESSAGES,
    SEND_PATH,
    FakeApi,
    error,
    fake_api,
)

from smsflow import (
    SmsFlowDeliveryUnknownError,
    SmsFlowNetworkError,
    SmsFlowRateLimitError,
    SmsFlowServerError,
)
from smsflow._auth import TokenCache
from smsflow._config import resolve_config
from smsflow._core import Core
from smsflow._errors import SmsFlowError, error_for_response
from smsflow._retry import RetryMode, RetryPolicy, parse_retry_after

NOW = 1_800_000_000.0
IDEM, SEND, OPT_IN = RetryMode.IDEMPOTENT, RetryMode.SEND, RetryMode.SEND_OPT_IN


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted fake API whose clients are closed after the test."""
    yield from fake_api()


def _core() -> Core:
    config = resolve_config(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        base_url=BASE_URL,
        timeout=30,
        token_timeout=None,
        retry=RetryPolicy(),
        allow_insecure_http=False,
        max_response_bytes=1024 * 1024,
    )
    return Core(config, TokenCache(config))


def _status(status: int, mode: RetryMode, code: str = "X") -> SmsFlowError:
    request = httpx.Request("POST", BASE_URL + SEND_PATH)
    body = f'{{"errors":[{{"code":"{code}","message":"m"}}]}}'.encode()
    response = httpx.Response(status, content=body, request=request)
    return error_for_response(response, is_send=mode is not IDEM)


def _transport(exc: Exception, mode: RetryMode) -> SmsFlowError:
    core = _core()
    body = core.send_body(
        campaign_name="c", messages=MESSAGES, start_delivery_utc=None, check_opt_outs=True
    )
    op = core.balance_op() if mode is IDEM else core.send_op(body, retry=mode is OPT_IN)
    return core.transport_error(op, exc)


def _token_failure(mode: RetryMode) -> SmsFlowError:
    """What a send or balance call ends in when its token fetch gets a 503."""
    cache = _core().cache
    op = cache.token_op()
    request = httpx.Request(op.method, op.url, headers=op.headers)
    try:
        cache.accept(httpx.Response(503, request=request), None)
    except SmsFlowError as err:
        return err
    raise AssertionError("a 503 from the token endpoint was accepted")


KINDS: dict[str, Callable[[RetryMode], SmsFlowError]] = {
    "connect failure": lambda m: _transport(httpx.ConnectError("refused"), m),
    "connect timeout": lambda m: _transport(httpx.ConnectTimeout("slow"), m),
    "token fetch failed (503)": _token_failure,
    "408": lambda m: _status(408, m),
    "429": lambda m: _status(429, m),
    "500": lambda m: _status(500, m),
    "503": lambda m: _status(503, m),
    "502": lambda m: _status(502, m),
    "504": lambda m: _status(504, m),
    "read timeout": lambda m: _transport(httpx.ReadTimeout("slow answer"), m),
    "connection lost": lambda m: _transport(httpx.RemoteProtocolError("closed"), m),
    "validation (400)": lambda m: _status(400, m, "INVALID_DESTINATION"),
    "validation (422)": lambda m: _status(422, m),
    "authentication (401)": lambda m: _status(401, m, "AUTHENTICATION_FAILED"),
    "forbidden (403)": lambda m: _status(403, m),
    "insufficient balance (402)": lambda m: _status(402, m, "INSUFFICIENT_BALANCE"),
    "insufficient code on a 503": lambda m: _status(503, m, "INSUFFICIENT_CREDIT"),
}

# kind -> retried in (IDEMPOTENT, SEND, SEND_OPT_IN)
TABLE: dict[str, tuple[bool, bool, bool]] = {
    "connect failure": (True, True, True),
    "connect timeout": (True, True, True),
    "token fetch failed (503)": (True, True, True),
    "408": (True, True, True),
    "429": (True, True, True),
    "500": (True, False, True),
    "503": (True, False, True),
    "502": (True, False, False),  # on a send: outcome unknown
    "504": (True, False, False),  # on a send: outcome unknown
    "read timeout": (True, False, False),  # on a send: SmsFlowDeliveryUnknownError
    "connection lost": (True, False, False),
    "validation (400)": (False, False, False),
    "validation (422)": (False, False, False),
    "authentication (401)": (False, False, False),
    "forbidden (403)": (False, False, False),
    "insufficient balance (402)": (False, False, False),
    "insufficient code on a 503": (False, False, False),
}


def test_table_covers_every_kind() -> None:
    """The expectation table and the error factories name the same kinds."""
    assert set(KINDS) == set(TABLE)


@pytest.mark.parametrize("kind", sorted(TABLE))
def test_retry_table(kind: str) -> None:
    """Each failure kind is retried exactly in the modes the README's table says."""
    policy = RetryPolicy(retries=3, random=lambda: 0.5)
    actual = tuple(
        policy.next_delay(KINDS[kind](mode), 1, mode) is not None for mode in (IDEM, SEND, OPT_IN)
    )
    assert actual == TABLE[kind]


@pytest.mark.parametrize("kind", sorted(TABLE))
@pytest.mark.parametrize("mode", list(RetryMode))
def test_never_retried_without_retries(kind: str, mode: RetryMode) -> None:
    """retry_retries=0 (the default) never retries anything."""
    assert RetryPolicy(retries=0).next_delay(KINDS[kind](mode), 1, mode) is None


def test_unknown_outcomes_are_flagged_on_sends() -> None:
    """A read timeout or a gateway error on a send says its outcome is unknown."""
    timeout = KINDS["read timeout"](SEND)
    gateway = KINDS["502"](OPT_IN)
    assert isinstance(timeout, SmsFlowDeliveryUnknownError)
    assert (timeout.outcome_unknown, gateway.outcome_unknown) == (True, True)
    assert not KINDS["read timeout"](IDEM).outcome_unknown


def test_full_jitter_lower_bound() -> None:
    """A random draw of 0 waits 0 s."""
    policy = RetryPolicy(retries=5, base_delay=1.0, max_delay=8.0, random=lambda: 0.0)
    err = KINDS["503"](IDEM)
    assert [policy.next_delay(err, n, IDEM) for n in range(1, 6)] == [0.0] * 5


def test_full_jitter_upper_bound_doubles_and_caps() -> None:
    """A draw of 0.999 waits just below base * 2**n, capped at max_delay."""
    policy = RetryPolicy(retries=6, base_delay=1.0, max_delay=8.0, random=lambda: 0.999)
    err = KINDS["503"](IDEM)
    delays = [policy.next_delay(err, n, IDEM) for n in range(1, 7)]
    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert delays == pytest.approx([0.999 * c for c in ceilings])
    assert all(d is not None and d < c for d, c in zip(delays, ceilings, strict=True))


def test_jitter_uses_the_random_source() -> None:
    """The wait is the draw times the ceiling: full jitter, not a fixed step."""
    draws = iter([0.25, 0.5, 0.75])
    policy = RetryPolicy(retries=3, base_delay=0.5, max_delay=100.0, random=lambda: next(draws))
    err = KINDS["429"](IDEM)
    assert [policy.next_delay(err, n, IDEM) for n in (1, 2, 3)] == [0.125, 0.5, 1.5]


def test_attempt_count_is_bounded() -> None:
    """After `retries` retries the next failure is raised."""
    policy = RetryPolicy(retries=2, random=lambda: 0.5)
    err = KINDS["503"](IDEM)
    assert [policy.next_delay(err, n, IDEM) is not None for n in (1, 2, 3)] == [True, True, False]


def test_retry_after_replaces_the_backoff() -> None:
    """A Retry-After within the cap is waited exactly, without jitter."""
    policy = RetryPolicy(retries=1, max_delay=2.0, max_retry_after=60.0, random=lambda: 0.0)
    err = KINDS["429"](SEND)
    err.retry_after = 30.0
    assert policy.next_delay(err, 1, SEND) == 30.0


def test_retry_after_beyond_the_cap_gives_up() -> None:
    """A Retry-After longer than max_retry_after ends the call."""
    policy = RetryPolicy(retries=3, max_retry_after=60.0)
    err = KINDS["429"](IDEM)
    err.retry_after = 61.0
    assert policy.next_delay(err, 1, IDEM) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30", 30.0),
        (" 0 ", 0.0),
        (email.utils.formatdate(NOW + 45, usegmt=True), 45.0),
        (email.utils.formatdate(NOW - 45, usegmt=True), 0.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("Sun, 06 Nov 1994 08:49:37 -0000", None),  # no known zone: unreadable
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After as delta-seconds or an HTTP-date (relative to the injected now)."""
    assert expected == parse_retry_after(value, NOW)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retries": -1},
        {"retries": True},
        {"retries": 1.5},
        {"base_delay": -0.1},
        {"max_delay": "2"},
        {"max_retry_after": -1},
    ],
)
def test_invalid_settings_are_refused(kwargs: dict[str, object]) -> None:
    """Nonsense retry settings fail when the policy is built."""
    with pytest.raises(ValueError, match="must be"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# -- through the clients ----------------------------------------------------------------------


def test_balance_retried_on_503_then_succeeds(api: FakeApi) -> None:
    """get_balance retries a 503 after one jittered sleep and returns the balance."""
    client = api.client(retry_retries=2, random_source=lambda: 0.5)
    api.queue("balance", error(503, "SERVICE_UNAVAILABLE"))
    assert client.get_balance().balance == 1234.5
    assert api.sleeps == [0.125]
    assert len(api.to("balance")) == 2


def test_balance_gives_up_after_the_retries(api: FakeApi) -> None:
    """A persistent 503 is tried 1 + retry_retries times, then raised."""
    client = api.client(retry_retries=3, random_source=lambda: 0.0)
    api.queue("balance", *[error(503, "SERVICE_UNAVAILABLE") for _ in range(5)])
    with pytest.raises(SmsFlowServerError):
        client.get_balance()
    assert (len(api.to("balance")), len(api.sleeps)) == (4, 3)


def test_default_is_one_attempt(api: FakeApi) -> None:
    """With the default retry_retries=0 a 503 is raised after one attempt."""
    client = api.client()
    api.queue("balance", error(503))
    with pytest.raises(SmsFlowServerError):
        client.get_balance()
    assert (len(api.to("balance")), api.sleeps) == (1, [])


def test_send_not_retried_on_503_without_opt_in(api: FakeApi) -> None:
    """A send with retry=False is not repeated after a 503 (it might duplicate the SMS)."""
    client = api.client(retry_retries=3)
    api.queue("send", error(503))
    with pytest.raises(SmsFlowServerError) as info:
        client.send_sms("Campaign", MESSAGES)
    assert (len(api.to("send")), api.sleeps, info.value.status_code) == (1, [], 503)


def test_send_retried_on_503_with_opt_in(api: FakeApi) -> None:
    """retry=True retries a 503 on a send."""
    client = api.client(retry_retries=3, random_source=lambda: 0.5)
    api.queue("send", error(503))
    result = client.send_sms("Campaign", MESSAGES, retry=True)
    assert (result.event_id, len(api.to("send")), len(api.sleeps)) == (123456, 2, 1)


def test_send_retried_on_429_even_without_opt_in(api: FakeApi) -> None:
    """A 429 proves the send was not processed: retried even with retry=False."""
    client = api.client(retry_retries=1)
    api.queue("send", error(429, "RATE_LIMITED", Retry_After="2"))
    result = client.send_sms("Campaign", MESSAGES)
    assert (result.event_id, api.sleeps, len(api.to("send"))) == (123456, [2.0], 2)


def test_send_retried_after_a_refused_connection(api: FakeApi) -> None:
    """A connect failure proves the send never left: retried even with retry=False."""
    client = api.client(retry_retries=1, random_source=lambda: 0.0)
    api.queue("send", httpx.ConnectError("connection refused"))
    assert client.send_sms("Campaign", MESSAGES).event_id == 123456
    assert len(api.to("send")) == 2


def test_send_retried_after_its_token_fetch_failed(api: FakeApi) -> None:
    """A failed token fetch happens before the send: retried even with retry=False."""
    client = api.client(retry_retries=1, random_source=lambda: 0.0)
    api.queue("token", error(503, "SERVICE_UNAVAILABLE"))
    assert client.send_sms("Campaign", MESSAGES).event_id == 123456
    assert (len(api.to("token")), len(api.to("send"))) == (2, 1)


@pytest.mark.parametrize("base_url", [BASE_URL, BASE_URL + "/behind/a/proxy"])
def test_token_timeout_before_a_send_is_not_delivery_unknown(api: FakeApi, base_url: str) -> None:
    """A token fetch that times out proves the send never left: retried, whatever the base path."""
    client = api.client(base_url=base_url, retry_retries=1, random_source=lambda: 0.0)
    api.queue("token", httpx.ReadTimeout("slow token answer"))
    assert client.send_sms("Campaign", MESSAGES).event_id == 123456
    assert (len(api.to("token")), len(api.to("send"))) == (2, 1)


@pytest.mark.parametrize("retry", [False, True])
def test_send_never_retried_on_read_timeout(api: FakeApi, retry: bool) -> None:
    """A read timeout after the send left: DeliveryUnknown, exactly one POST, even with retry."""
    client = api.client(retry_retries=3)
    api.queue("send", httpx.ReadTimeout("timed out"))
    with pytest.raises(SmsFlowDeliveryUnknownError) as info:
        client.send_sms("Campaign", MESSAGES, retry=retry)
    assert isinstance(info.value, SmsFlowNetworkError)
    assert (info.value.outcome_unknown, info.value.retryable) == (True, False)
    assert (len(api.to("send")), api.sleeps) == (1, [])


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_error_on_send_is_outcome_unknown(api: FakeApi, status: int) -> None:
    """A 502/504 to a send: server error with outcome_unknown, never retried."""
    client = api.client(retry_retries=3)
    api.queue("send", error(status))
    with pytest.raises(SmsFlowServerError) as info:
        client.send_sms("Campaign", MESSAGES, retry=True)
    assert (True, status, 1) == (
        info.value.outcome_unknown,
        info.value.status_code,
        len(api.to("send")),
    )


def test_retry_after_beyond_the_cap_raises_rate_limit(api: FakeApi) -> None:
    """A Retry-After longer than retry_max_retry_after raises at once, carrying retry_after."""
    client = api.client(retry_retries=3, retry_max_retry_after=10)
    api.queue("balance", error(429, "RATE_LIMITED", Retry_After="120"))
    with pytest.raises(SmsFlowRateLimitError) as info:
        client.get_balance()
    assert (info.value.retry_after, api.sleeps, len(api.to("balance"))) == (120.0, [], 1)


def test_async_client_follows_the_same_policy(api: FakeApi) -> None:
    """The async client retries, sleeps and gives up exactly like the sync one."""

    async def main() -> None:
        async with api.async_client(retry_retries=2, random_source=lambda: 0.5) as client:
            api.queue("balance", error(503))
            assert (await client.get_balance()).balance == 1234.5
            api.queue("send", error(503))
            with pytest.raises(SmsFlowServerError):
                await client.send_sms("Campaign", MESSAGES)
            api.queue("send", httpx.ReadTimeout("timed out"))
            with pytest.raises(SmsFlowDeliveryUnknownError):
                await client.send_sms("Campaign", MESSAGES, retry=True)

    asyncio.run(main())
    assert api.sleeps == [0.125]
    assert (len(api.to("balance")), len(api.to("send"))) == (2, 2)
