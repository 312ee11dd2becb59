"""Fault injection through the in-process transport, sync and async."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from smsflow.testing import Sandbox

from .support import (
    BALANCE,
    BASE_URL,
    SEND,
    TOKEN,
    RecordingSleep,
    basic,
    bearer,
    call,
    http_client,
    http_token,
    send_body,
)


def make(**kwargs: Any) -> tuple[Sandbox, RecordingSleep]:
    sleep = RecordingSleep()
    return Sandbox(sleep=sleep, async_sleep=sleep.asleep, **kwargs), sleep


def test_fail_next_on_the_send_endpoint_only() -> None:
    sandbox, _ = make()
    sandbox.fail_next(2, endpoint="send", status=503, retry_after=30)
    with http_client(sandbox) as client:
        tok = http_token(client, sandbox)  # the token call is not affected
        statuses = []
        for _ in range(3):
            response = client.post(SEND, headers=bearer(tok), json=send_body())
            statuses.append(response.status_code)
        assert statuses == [503, 503, 200]
    assert sandbox.accepted_count == 1  # a failed request is not processed
    assert sandbox.balance == 999.75
    assert [r.fault for r in sandbox.requests] == [None, "fail", "fail", None]


def test_fail_body_and_headers() -> None:
    sandbox, _ = make()
    sandbox.fail_next(status=429, retry_after=1.5)
    sandbox.fail_next(status=500, code="BOOM")
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    sandbox.fail_next(status=503, retry_after=when)
    sandbox.fail_next(status=503, retry_after="soon")
    first = call(sandbox, "GET", TOKEN, headers=basic())
    assert first.status == 429
    assert first.headers["Retry-After"] == "1.5"
    assert first.json() == {
        "statusCode": 429,
        "errors": [{"code": "RATE_LIMITED", "message": "Injected failure."}],
    }
    second = call(sandbox, "GET", TOKEN, headers=basic())
    assert (second.status, second.json()["errors"][0]["code"]) == (500, "BOOM")
    assert "Retry-After" not in second.headers
    third = call(sandbox, "GET", TOKEN, headers=basic())
    assert third.headers["Retry-After"] == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert call(sandbox, "GET", TOKEN, headers=basic()).headers["Retry-After"] == "soon"
    assert call(sandbox, "GET", TOKEN, headers=basic()).status == 200


def test_fail_after_processing_mimics_a_gateway() -> None:
    sandbox, _ = make()
    sandbox.fail_next(endpoint="send", status=502, processed=True)
    with http_client(sandbox) as client:
        tok = http_token(client, sandbox)
        assert client.post(SEND, headers=bearer(tok), json=send_body()).status_code == 502
    assert sandbox.accepted_count == 1


def test_faults_are_consumed_in_order_per_endpoint() -> None:
    sandbox, _ = make()
    sandbox.fail_next(endpoint="balance", status=500)
    sandbox.fail_next(endpoint=None, status=502)
    sandbox.fail_next(endpoint="token", status=504)
    assert sandbox.pending_faults() == 3
    assert sandbox.pending_faults("token") == 2
    # token: the "any" fault comes first (queued before the token one)
    assert call(sandbox, "GET", TOKEN, headers=basic()).status == 502
    assert call(sandbox, "GET", TOKEN, headers=basic()).status == 504
    tok = sandbox.issue_token()
    assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 500
    assert call(sandbox, "GET", BALANCE, headers=bearer(tok)).status == 200
    assert sandbox.pending_faults() == 0


@pytest.mark.invalid_requests
def test_any_endpoint_faults_apply_to_unknown_paths_too() -> None:
    sandbox, _ = make()
    sandbox.fail_next(endpoint="send")
    sandbox.fail_next(status=404, code="GATEWAY_NOT_FOUND")
    assert call(sandbox, "GET", "/nope").json()["errors"][0]["code"] == "GATEWAY_NOT_FOUND"
    assert call(sandbox, "GET", "/nope").json()["errors"][0]["code"] == "NOT_FOUND"
    assert sandbox.pending_faults("send") == 1


def test_clear_faults() -> None:
    sandbox, _ = make()
    sandbox.fail_next(5)
    sandbox.random_faults(1.0, seed=1)
    sandbox.clear_faults()
    assert call(sandbox, "GET", TOKEN, headers=basic()).status == 200


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("fail_next", {"n": 0}),
        ("fail_next", {"n": True}),
        ("fail_next", {"status": 200}),
        ("fail_next", {"status": 600}),
        ("fail_next", {"endpoint": "Balance"}),
        ("fail_next", {"retry_after": -1}),
        ("fail_next", {"retry_after": datetime(2030, 1, 1)}),  # naive on purpose
        ("delay_next", {"seconds": -1}),
        ("delay_next", {"seconds": 1e9}),
        ("html_next", {"status": 99}),
        ("random_faults", {"rate": 1.5}),
        ("random_faults", {"kinds": ()}),
        ("random_faults", {"kinds": ("explode",)}),
    ],
)
def test_bad_fault_arguments(method: str, kwargs: dict[str, Any]) -> None:
    sandbox, _ = make()
    with pytest.raises(ValueError, match="must"):
        getattr(sandbox, method)(**kwargs)


def test_html_and_malformed() -> None:
    sandbox, _ = make()
    sandbox.html_next(endpoint="balance")
    sandbox.malformed_next(endpoint="send")
    with http_client(sandbox) as client:
        tok = http_token(client, sandbox)
        page = client.get(BALANCE, headers=bearer(tok))
        assert page.status_code == 502
        assert page.headers["content-type"] == "text/html"
        assert page.text.startswith("<html>")
        garbled = client.post(SEND, headers=bearer(tok), json=send_body())
        assert garbled.status_code == 200
        with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
            garbled.json()
    assert sandbox.accepted_count == 1  # malformed: processed, then garbled


def test_drop_and_lose_response_sync() -> None:
    sandbox, _ = make()
    sandbox.drop_next(endpoint="send")
    sandbox.lose_response_next()  # endpoint="send" by default
    with http_client(sandbox) as client:
        tok = http_token(client, sandbox)
        for _ in range(2):
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                client.post(SEND, headers=bearer(tok), json=send_body())
    # drop: not processed; lose_response: accepted, billed, recorded
    assert sandbox.accepted_count == 1
    assert sandbox.balance == 999.75
    faults = [(r.fault, r.answered, r.status) for r in sandbox.requests[1:]]
    assert faults == [("drop", False, 0), ("lose_response", False, 200)]


def test_truncate_sync() -> None:
    sandbox, _ = make()
    sandbox.truncate_next(endpoint="send")
    with http_client(sandbox) as client:
        tok = http_token(client, sandbox)
        with pytest.raises(httpx.RemoteProtocolError, match=r"complete message body"):
            client.post(SEND, headers=bearer(tok), json=send_body())
        with client.stream("GET", BALANCE, headers=bearer(tok)) as response:
            assert response.status_code == 200
    assert sandbox.accepted_count == 1


def test_delay_within_the_timeout_sync() -> None:
    sandbox, sleep = make()
    sandbox.delay_next(1, 2.5, endpoint="balance")
    with http_client(sandbox, timeout=5) as client:
        tok = http_token(client, sandbox)
        assert client.get(BALANCE, headers=bearer(tok)).status_code == 200
    assert sleep.calls == [2.5]


def test_delay_beyond_the_read_timeout_sync() -> None:
    sandbox, sleep = make()
    sandbox.delay_next(1, 60, endpoint="send")
    with http_client(sandbox, timeout=httpx.Timeout(10, read=3)) as client:
        tok = http_token(client, sandbox)
        with pytest.raises(httpx.ReadTimeout):
            client.post(SEND, headers=bearer(tok), json=send_body())
    assert sleep.calls == [3.0]  # waited the read timeout, not the whole delay
    assert sandbox.accepted_count == 1  # the server did process it


def test_delay_without_timeout_waits_it_all() -> None:
    sandbox, sleep = make()
    sandbox.delay_next(1, 100, endpoint="token")
    with http_client(sandbox, timeout=None) as client:
        http_token(client, sandbox)
    assert sleep.calls == [100.0]


@pytest.mark.invalid_requests
def test_head_request_has_no_body() -> None:
    sandbox, _ = make()
    with http_client(sandbox) as client:
        response = client.head(BALANCE)
    assert response.status_code == 405
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_transport_ignores_the_host() -> None:
    sandbox, _ = make()
    with httpx.Client(transport=sandbox.transport(), base_url="http://anything.invalid") as client:
        assert client.get(TOKEN, headers=basic()).status_code == 200


def test_random_faults_are_repeatable_with_a_seed() -> None:
    def run() -> list[str | None]:
        sandbox, _ = make()
        sandbox.random_faults(0.5, kinds=("fail", "html", "malformed", "delay"), seed=42)
        for _ in range(40):
            call(sandbox, "GET", TOKEN, headers=basic())
        return [r.fault for r in sandbox.requests]

    first = run()
    assert first == run()
    assert 5 < sum(f is not None for f in first) < 35
    assert {"fail", "html", "malformed", "delay"} == {f for f in first if f}


def test_random_faults_only_on_one_endpoint_and_off_again() -> None:
    sandbox, _ = make()
    sandbox.random_faults(1.0, kinds=("drop",), endpoint="send", seed=1)
    assert call(sandbox, "GET", TOKEN, headers=basic()).status == 200
    tok = sandbox.issue_token()
    assert call(sandbox, "POST", SEND, headers=bearer(tok), json_body=send_body()).fault == "drop"
    sandbox.random_faults(0)
    assert call(sandbox, "POST", SEND, headers=bearer(tok), json_body=send_body()).status == 200


def test_random_fail_statuses_and_retry_after() -> None:
    sandbox, _ = make()
    sandbox.random_faults(1.0, kinds=("fail",), seed=3)
    replies = [call(sandbox, "GET", TOKEN, headers=basic()) for _ in range(40)]
    assert {r.status for r in replies} == {429, 503}
    assert all(r.headers["Retry-After"] == "0" for r in replies)


# ----------------------------------------------------------------------------- async


async def _async_run(sandbox: Sandbox, timeout: httpx.Timeout) -> list[object]:
    outcomes: list[object] = []
    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=BASE_URL, timeout=timeout
    ) as client:
        response = await client.get(TOKEN, headers=basic())
        tok = response.json()["token"]
        for _ in range(6):
            try:
                sent = await client.post(SEND, headers=bearer(tok), json=send_body())
                outcomes.append(sent.status_code)
            except httpx.HTTPError as error:
                outcomes.append(type(error).__name__)
    return outcomes


def test_faults_through_the_async_transport() -> None:
    sandbox, sleep = make()
    sandbox.fail_next(endpoint="send", status=503)
    sandbox.drop_next(endpoint="send")
    sandbox.lose_response_next()
    sandbox.delay_next(1, 30, endpoint="send")
    sandbox.truncate_next(endpoint="send")
    outcomes = asyncio.run(_async_run(sandbox, httpx.Timeout(5, read=2)))
    assert outcomes == [
        503,
        "RemoteProtocolError",
        "RemoteProtocolError",
        "ReadTimeout",
        "RemoteProtocolError",
        200,
    ]
    assert sleep.calls == [2.0]
    assert sandbox.accepted_count == 4  # lose_response, delay, truncate, and the last one


def test_async_delay_within_the_timeout() -> None:
    sandbox, sleep = make()
    sandbox.delay_next(6, 0.5, endpoint="send")
    outcomes = asyncio.run(_async_run(sandbox, httpx.Timeout(5)))
    assert outcomes == [200] * 6
    assert sleep.calls == [0.5] * 6


def test_async_many_tasks() -> None:
    sandbox, _ = make(record_messages=False)

    async def main() -> None:
        async with httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL) as client:
            tok = (await client.get(TOKEN, headers=basic())).json()["token"]

            async def one(i: int) -> int:
                body = send_body([("27821234567", f"task {i}")])
                return (await client.post(SEND, headers=bearer(tok), json=body)).status_code

            statuses = await asyncio.gather(*(one(i) for i in range(200)))
            assert set(statuses) == {200}

    asyncio.run(main())
    sandbox.assert_each_accepted_once([("27821234567", f"task {i}") for i in range(200)])
    assert len({e.event_id for e in sandbox.events}) == 200
