"""The two front doors (smsflow/_sync_client.py, _async_client.py): settings, requests,
answers, lifecycle."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers import (
    BALANCE_PATH,
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    MESSAGES,
    FakeApi,
    basic_header,
    fake_api,
    send_json,
)
from pytest_httpx import HTTPXMock

from smsflow import (
    AsyncSmsFlowClient,
    Message,
    SmsFlowClient,
    SmsFlowError,
    SmsFlowUnexpectedResponseError,
    SmsFlowValidationError,
)


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted fake API whose clients are closed after the test."""
    yield from fake_api()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SMSFLOW_* variables from the environment running the tests."""
    for name in ("SMSFLOW_CLIENT_ID", "SMSFLOW_CLIENT_SECRET", "SMSFLOW_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


# -- construction ------------------------------------------------------------------------------


def test_credentials_and_base_url_from_the_environment(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMSFLOW_CLIENT_ID / _SECRET / _BASE_URL are used when no keyword is given."""
    monkeypatch.setenv("SMSFLOW_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SMSFLOW_BASE_URL", "https://env.smsflow.test/")
    client = api.client(client_id=None, client_secret=None, base_url=None)
    client.get_balance()
    assert (client.client_id, client.base_url) == (CLIENT_ID, "https://env.smsflow.test")
    token_request = api.to("token")[0]
    assert ("env.smsflow.test", basic_header()) == (
        token_request.url.host,
        token_request.headers["Authorization"],
    )


def test_keywords_win_over_the_environment(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyword argument beats the environment variable."""
    monkeypatch.setenv("SMSFLOW_CLIENT_ID", "env-id")
    monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SMSFLOW_BASE_URL", "https://env.smsflow.test")
    client = api.client()
    client.get_balance()
    assert (client.client_id, client.base_url) == (CLIENT_ID, BASE_URL)
    assert basic_header() == api.to("token")[0].headers["Authorization"]


@pytest.mark.usefixtures("no_env")
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"client_id": "id"},
        {"client_secret": "secret"},
        {"client_id": " ", "client_secret": "s"},
    ],
)
def test_missing_credentials_fail_at_construction(
    httpx_mock: HTTPXMock, kwargs: dict[str, str]
) -> None:
    """Missing credentials raise SmsFlowError when the client is built, before any request."""
    with pytest.raises(SmsFlowError) as info:
        SmsFlowClient(**kwargs)
    assert info.value.code == "MISSING_CREDENTIALS"
    assert httpx_mock.get_requests() == []


@pytest.mark.usefixtures("no_env")
def test_default_base_url() -> None:
    """Without base_url or SMSFLOW_BASE_URL, the vendor's portal is used."""
    with SmsFlowClient(CLIENT_ID, CLIENT_SECRET) as client:
        assert client.base_url == "https://portal.smsflow.co.za"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://portal.smsflow.co.za/", "https://portal.smsflow.co.za"),
        ("https://portal.smsflow.co.za//", "https://portal.smsflow.co.za"),
        ("https://example.test/prefix/", "https://example.test/prefix"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_base_url_normalised(api: FakeApi, given: str, expected: str) -> None:
    """A trailing slash is stripped; loopback http is allowed."""
    client = api.client(base_url=given)
    client.get_balance()
    assert expected == client.base_url
    assert expected + BALANCE_PATH == str(api.to("balance")[0].url)


def test_remote_http_refused() -> None:
    """Plain http to a remote host is refused: it would send the secret in clear text."""
    with pytest.raises(SmsFlowValidationError) as info:
        SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url="http://portal.smsflow.co.za")
    assert info.value.code == "INSECURE_BASE_URL"
    assert CLIENT_SECRET not in str(info.value)


def test_remote_http_allowed_on_request(api: FakeApi) -> None:
    """allow_insecure_http=True permits a remote http base URL."""
    client = api.client(base_url="http://intranet.example", allow_insecure_http=True)
    client.get_balance()
    assert client.base_url == "http://intranet.example"


@pytest.mark.parametrize(
    "base_url", ["ftp://portal.smsflow.co.za", "portal.smsflow.co.za", "https://u:p@host.test"]
)
def test_invalid_base_urls(base_url: str) -> None:
    """A base URL that is not an http(s) URL with a host (and no credentials) is refused."""
    with pytest.raises(SmsFlowValidationError) as info:
        SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=base_url)
    assert info.value.code == "INVALID_BASE_URL"


@pytest.mark.parametrize("timeout", [None, 0, -1, "30", True])
def test_timeout_must_be_set(timeout: Any) -> None:
    """A call without a time limit could hang forever: None and nonsense are refused."""
    with pytest.raises(SmsFlowValidationError) as info:
        SmsFlowClient(CLIENT_ID, CLIENT_SECRET, timeout=timeout)
    assert info.value.code == "INVALID_TIMEOUT"


# -- timeouts on the wire ----------------------------------------------------------------------


def test_every_request_has_a_timeout(api: FakeApi) -> None:
    """Token, balance and send requests all carry the client's timeout (never None)."""
    client = api.client(timeout=12)
    client.get_balance()
    client.send_sms("Campaign", MESSAGES)
    expected = {"connect": 10.0, "read": 12.0, "write": 12.0, "pool": 12.0}
    assert [expected] * 3 == [r.extensions["timeout"] for r in api.requests]


def test_per_call_timeout_override(api: FakeApi) -> None:
    """timeout= on a call replaces the client's timeout for that call only."""
    client = api.client(timeout=30, token_timeout=4)
    client.get_balance(timeout=5)
    client.send_sms("Campaign", MESSAGES, timeout=httpx.Timeout(7.0))
    client.get_balance()
    timeouts = [r.extensions["timeout"] for r in api.requests]
    assert [t["read"] for t in timeouts] == [4.0, 5.0, 7.0, 30.0]
    assert all(None not in t.values() for t in timeouts)


# -- the send request --------------------------------------------------------------------------


def test_send_body_is_the_documented_json(api: FakeApi) -> None:
    """The body has SendOptions (capital S), camelCase keys and the messages as given."""
    client = api.client()
    client.send_sms("Order dispatch alerts", MESSAGES)
    request = api.to("send")[0]
    assert json.loads(request.content) == {
        "SendOptions": {
            "startDeliveryUtc": None,
            "campaignName": "Order dispatch alerts",
            "checkOptOuts": True,
        },
        "messages": [{"content": "Order 1001 has shipped.", "destination": "27821234567"}],
    }
    assert (request.method, request.headers["Content-Type"]) == ("POST", "application/json")


def test_check_opt_outs_false_is_sent(api: FakeApi) -> None:
    """check_opt_outs=False reaches the API."""
    client = api.client()
    client.send_sms("Campaign", MESSAGES, check_opt_outs=False)
    assert api.sent_bodies()[0]["SendOptions"]["checkOptOuts"] is False


def _messages_generator() -> Iterator[dict[str, str]]:
    yield {"destination": "27821234567", "content": "one"}
    yield {"destination": "27831234567", "content": "two"}


@pytest.mark.parametrize(
    "messages",
    [
        pytest.param(_messages_generator, id="generator"),
        pytest.param(
            lambda: [
                {"destination": "27821234567", "content": "one"},
                {"content": "two", "destination": "27831234567"},
            ],
            id="list-of-dicts",
        ),
        pytest.param(
            lambda: [Message("27821234567", "one"), Message("27831234567", "two")], id="Message"
        ),
        pytest.param(
            lambda: (
                m
                for m in [
                    Message("27821234567", "one"),
                    {"destination": "27831234567", "content": "two"},
                ]
            ),
            id="mixed-generator",
        ),
    ],
)
def test_messages_from_any_iterable(api: FakeApi, messages: Any) -> None:
    """Generators, lists of dicts and Message objects send the same body."""
    client = api.client()
    client.send_sms("Campaign", messages())
    assert api.sent_bodies()[0]["messages"] == [
        {"content": "one", "destination": "27821234567"},
        {"content": "two", "destination": "27831234567"},
    ]


@pytest.mark.parametrize(
    "start",
    [
        dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC),
        "2026-12-01T08:00:00Z",
        "2026-12-01T10:00:00+02:00",
    ],
)
def test_start_delivery_sent_as_utc(api: FakeApi, start: Any) -> None:
    """An aware datetime or ISO string with an offset is sent as the same instant in UTC."""
    client = api.client()
    client.send_sms("Campaign", MESSAGES, start_delivery_utc=start)
    sent = api.sent_bodies()[0]["SendOptions"]["startDeliveryUtc"]
    parsed = dt.datetime.fromisoformat(sent)
    assert (dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC), dt.timedelta(0)) == (
        parsed,
        parsed.utcoffset(),
    )
    assert sent.startswith("2026-12-01T08:00:00")


TOO_MANY = [{"destination": "27821234567", "content": "x"}] * 1001


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"messages": []}, "INVALID_MESSAGE", "messages"),
        ({"messages": iter([])}, "INVALID_MESSAGE", "messages"),
        ({"messages": "27821234567"}, "INVALID_MESSAGE", "messages"),
        ({"messages": {"destination": "1", "content": "x"}}, "INVALID_MESSAGE", "messages"),
        ({"messages": [{"content": "x"}]}, "INVALID_DESTINATION", "messages[0].destination"),
        ({"messages": [{"destination": "27821234567"}]}, "INVALID_CONTENT", "messages[0].content"),
        (
            {"messages": [*MESSAGES, {"destination": 27821234567, "content": "x"}]},
            "INVALID_DESTINATION",
            "messages[1].destination",
        ),
        (
            {"messages": [{"destination": "27821234567", "content": b"x"}]},
            "INVALID_CONTENT",
            "messages[0].content",
        ),
        (
            {"messages": [{"destination": "27821234567", "content": "  "}]},
            "INVALID_CONTENT",
            "messages[0].content",
        ),
        (
            {"messages": [{"destination": "27821234567", "content": "x" * 1601}]},
            "INVALID_CONTENT",
            "messages[0].content",
        ),
        (
            {"messages": [{"destination": "2" * 65, "content": "x"}]},
            "INVALID_DESTINATION",
            "messages[0].destination",
        ),
        (
            {"messages": [{"destination": "27821234567", "content": "x", "sender": "me"}]},
            "INVALID_MESSAGE",
            "messages[0]",
        ),
        ({"messages": [("27821234567", "x")]}, "INVALID_MESSAGE", "messages[0]"),
        ({"messages": TOO_MANY}, "TOO_MANY_MESSAGES", "messages"),
        ({"campaign_name": ""}, "INVALID_CAMPAIGN_NAME", "campaign_name"),
        ({"campaign_name": "c" * 256}, "INVALID_CAMPAIGN_NAME", "campaign_name"),
        ({"campaign_name": None}, "INVALID_CAMPAIGN_NAME", "campaign_name"),
        ({"check_opt_outs": "yes"}, "INVALID_REQUEST", "check_opt_outs"),
        ({"check_opt_outs": None}, "INVALID_REQUEST", "check_opt_outs"),
        ({"retry": 1}, "INVALID_REQUEST", "retry"),
        (
            {"start_delivery_utc": dt.datetime(2026, 12, 1, 8, 0)},
            "INVALID_START_DELIVERY",
            "start_delivery_utc",
        ),
        (
            {"start_delivery_utc": "2026-12-01T08:00:00"},
            "INVALID_START_DELIVERY",
            "start_delivery_utc",
        ),
        ({"start_delivery_utc": "tomorrow"}, "INVALID_START_DELIVERY", "start_delivery_utc"),
        ({"start_delivery_utc": 1_800_000_000}, "INVALID_START_DELIVERY", "start_delivery_utc"),
    ],
)
def test_invalid_input_refused_before_any_request(
    api: FakeApi, kwargs: dict[str, Any], code: str, field: str
) -> None:
    """Bad input raises SmsFlowValidationError with code and field; nothing is sent."""
    client = api.client()
    call: dict[str, Any] = {"campaign_name": "Campaign", "messages": MESSAGES, **kwargs}
    with pytest.raises(SmsFlowValidationError) as info:
        client.send_sms(**call)
    err = info.value
    assert (code, field, None) == (err.code, err.body["errors"][0]["field"], err.status_code)
    assert api.requests == []


def test_exactly_1000_messages_are_accepted(api: FakeApi) -> None:
    """1000 messages is the documented maximum per request, and is allowed."""
    client = api.client()
    client.send_sms("Campaign", TOO_MANY[:1000])
    assert len(api.sent_bodies()[0]["messages"]) == 1000


# -- results -----------------------------------------------------------------------------------


def test_send_result_is_typed_and_a_dict(api: FakeApi) -> None:
    """The send result has typed attributes and reads like smsflow 0.2.0's dict."""
    client = api.client()
    result = client.send_sms("Campaign", MESSAGES)
    assert (result.event_id, result["sendResponse"]["eventId"]) == (123456, 123456)
    breakdown = result.send_response.cost_breakdown[0]
    assert (breakdown.quantity, breakdown.cost, breakdown.network) == (1, 0.25, "Vodacom")
    assert (
        result.send_response.cost,
        result.send_response.remaining_balance,
        result.send_response.messages,
        result.send_response.parts,
    ) == (0.25, 1234.25, 1, 1)
    assert send_json(remaining=1234.25) == json.loads(json.dumps(result))


def test_balance_is_typed_and_a_dict(api: FakeApi) -> None:
    """The balance has a typed attribute and reads like smsflow 0.2.0's dict."""
    client = api.client()
    balance = client.get_balance()
    assert (balance.balance, balance["balance"]) == (1234.5, 1234.5)
    assert json.dumps(balance) == '{"balance": 1234.5}'


BAD_BODIES = [
    pytest.param(b"{not json", id="invalid-json"),
    pytest.param(b"<html><body>Welcome to the captive portal</body></html>", id="html"),
    pytest.param(b"", id="empty"),
    pytest.param(b"[1, 2]", id="json-array"),
    pytest.param(b"null", id="json-null"),
    pytest.param(b'"ok"', id="json-string"),
]


@pytest.mark.parametrize("content", BAD_BODIES)
def test_unexpected_balance_bodies(api: FakeApi, content: bytes) -> None:
    """A 200 balance answer that is not the documented JSON is SmsFlowUnexpectedResponseError."""
    client = api.client()
    api.queue("balance", httpx.Response(200, content=content))
    with pytest.raises(SmsFlowUnexpectedResponseError) as info:
        client.get_balance()
    assert (info.value.status_code, info.value.outcome_unknown) == (200, False)


@pytest.mark.parametrize(
    "content",
    [
        *BAD_BODIES,
        pytest.param(b'{"statusCode": 200}', id="no-sendResponse"),
        pytest.param(
            json.dumps(
                {
                    "statusCode": 200,
                    "sendResponse": {**send_json()["sendResponse"], "eventId": None},
                }
            ).encode(),
            id="eventId-null",
        ),
        pytest.param(
            json.dumps(
                {
                    "statusCode": 200,
                    "sendResponse": {**send_json()["sendResponse"], "eventId": "123456"},
                }
            ).encode(),
            id="eventId-string",
        ),
        pytest.param(
            json.dumps(
                {
                    "statusCode": 200,
                    "sendResponse": {
                        k: v for k, v in send_json()["sendResponse"].items() if k != "eventId"
                    },
                }
            ).encode(),
            id="eventId-missing",
        ),
    ],
)
def test_unexpected_send_bodies(api: FakeApi, content: bytes) -> None:
    """A 200 send answer that is not the documented JSON: unexpected response, outcome unknown."""
    client = api.client(retry_retries=3)
    api.queue("send", httpx.Response(200, content=content))
    with pytest.raises(SmsFlowUnexpectedResponseError) as info:
        client.send_sms("Campaign", MESSAGES, retry=True)
    assert (info.value.outcome_unknown, info.value.retryable) == (True, False)
    assert len(api.to("send")) == 1


@pytest.mark.parametrize(
    "body", [{"balance": "12"}, {"balance": None}, {"credits": 1}, {"balance": True}]
)
def test_balance_of_the_wrong_type(api: FakeApi, body: dict[str, Any]) -> None:
    """A balance that is missing or not a number is refused, not returned."""
    client = api.client()
    api.queue("balance", httpx.Response(200, json=body))
    with pytest.raises(SmsFlowUnexpectedResponseError):
        client.get_balance()


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_oversized_answer_refused(api: FakeApi, declared: bool) -> None:
    """An answer larger than max_response_bytes is refused, with or without Content-Length."""
    client = api.client(max_response_bytes=1024)
    big = b'{"balance": 1, "pad": "' + b"x" * 4096 + b'"}'
    reply = httpx.Response(200, content=big if declared else iter([big[:2000], big[2000:]]))
    api.queue("balance", reply)
    with pytest.raises(SmsFlowUnexpectedResponseError) as info:
        client.get_balance()
    assert info.value.code == "RESPONSE_TOO_LARGE"


def test_answer_at_the_size_limit_is_accepted(api: FakeApi) -> None:
    """An answer of exactly max_response_bytes is read."""
    client = api.client(max_response_bytes=1024)
    body = b'{"balance": 5}'
    api.queue("balance", httpx.Response(200, content=body + b" " * (1024 - len(body))))
    assert client.get_balance().balance == 5.0


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_not_followed(api: FakeApi, status: int) -> None:
    """A redirect is an unexpected answer; the Location host never gets a request."""
    client = api.client()
    api.queue("send", httpx.Response(status, headers={"Location": "https://evil.example/steal"}))
    with pytest.raises(SmsFlowUnexpectedResponseError) as info:
        client.send_sms("Campaign", MESSAGES)
    assert status == info.value.status_code
    assert [r for r in api.requests if r.url.host == "evil.example"] == []


def test_redirects_not_followed_even_if_the_own_client_would(api: FakeApi) -> None:
    """An http_client built with follow_redirects=True still gets no redirect followed."""
    with httpx.Client(transport=api.transport(), follow_redirects=True) as http:
        client = SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL, http_client=http)
        api.queue("balance", httpx.Response(302, headers={"Location": "https://evil.example/"}))
        with pytest.raises(SmsFlowUnexpectedResponseError):
            client.get_balance()
        client.close()
    assert [r for r in api.requests if r.url.host == "evil.example"] == []


def test_redirect_of_the_token_call_not_followed(api: FakeApi) -> None:
    """The token call is never redirected, so the credentials go nowhere else."""
    client = api.client()
    api.queue("token", httpx.Response(302, headers={"Location": "https://evil.example/"}))
    with pytest.raises(SmsFlowError):
        client.get_balance()
    assert [BASE_URL[len("https://") :]] == list({r.url.host for r in api.requests})


# -- lifecycle ---------------------------------------------------------------------------------


def test_close_closes_our_pool() -> None:
    """close() closes the httpx client we created; the context manager does the same."""
    client = SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL)
    client.close()
    assert client._http.is_closed
    with SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL) as managed:
        pass
    assert managed._http.is_closed


def test_closed_client_raises(api: FakeApi) -> None:
    """A call on a closed client raises SmsFlowError (CLIENT_CLOSED) and sends nothing."""
    client = api.client()
    client.close()
    client.close()  # idempotent
    with pytest.raises(SmsFlowError) as info:
        client.get_balance()
    assert info.value.code == "CLIENT_CLOSED"
    with pytest.raises(SmsFlowError):
        client.send_sms("Campaign", MESSAGES)
    assert api.requests == []


def test_own_http_client_is_not_closed(api: FakeApi) -> None:
    """An http_client passed in stays open after close() (its owner closes it)."""
    with httpx.Client(transport=api.transport()) as http:
        with SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL, http_client=http) as client:
            client.get_balance()
        assert not http.is_closed
        assert (
            http.get(BASE_URL + BALANCE_PATH, headers={"Authorization": "Bearer tok-1"}).status_code
            == 200
        )


def test_unclosed_client_warns() -> None:
    """A client that owns its pool and is dropped unclosed emits a ResourceWarning."""

    def drop_an_unclosed_client() -> None:
        SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL)  # dropped at once
        gc.collect()

    with pytest.warns(ResourceWarning, match="was not closed"):
        drop_an_unclosed_client()


def test_unclosed_async_client_warns() -> None:
    """An async client that owns its pool and is dropped unclosed emits a ResourceWarning."""

    def drop_an_unclosed_client() -> None:
        AsyncSmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL)  # dropped at once
        gc.collect()

    with pytest.warns(ResourceWarning, match="was not closed"):
        drop_an_unclosed_client()


def test_client_with_own_http_client_does_not_warn(api: FakeApi) -> None:
    """A client on the caller's http_client has no pool of its own to leak: no warning."""
    http = httpx.Client(transport=api.transport())
    client = SmsFlowClient(CLIENT_ID, CLIENT_SECRET, base_url=BASE_URL, http_client=http)
    del client
    gc.collect()  # filterwarnings=error turns a warning into a failure here
    http.close()


def test_async_client_end_to_end(api: FakeApi) -> None:
    """The async client sends the same requests and returns the same typed results."""

    async def main() -> tuple[float, int]:
        async with api.async_client() as client:
            balance = await client.get_balance()
            result = await client.send_sms("Order dispatch alerts", MESSAGES)
            return balance.balance, result.event_id

    assert asyncio.run(main()) == (1234.5, 123456)
    assert [
        r.url.path.rsplit("/", 1)[-1].replace("authentication", "token") for r in api.requests
    ] == ["token", "Balance", "BulkMessages"]
    assert api.sent_bodies()[0]["SendOptions"]["campaignName"] == "Order dispatch alerts"


def test_async_closed_client_raises(api: FakeApi) -> None:
    """A closed async client raises CLIENT_CLOSED."""

    async def main() -> None:
        client = api.async_client()
        await client.aclose()
        with pytest.raises(SmsFlowError) as info:
            await client.get_balance()
        assert info.value.code == "CLIENT_CLOSED"

    asyncio.run(main())
    assert api.requests == []
