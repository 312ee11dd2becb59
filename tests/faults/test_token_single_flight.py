"""Issue 11, items 3 and 4: the token fetch under a slow or failing token endpoint.

* Item 3: at most one token fetch in flight per store (clients given one store share it);
  calls waiting for it share its result or its failure (and, for a short back-off after a
  failure, new calls share it too); no call waits for the token longer than its own
  timeout; ``token_requests`` counts every token request sent (answered or not).
* Item 4: the whole-answer deadline of a call starts when its request is written, not when
  the call started: a lazy token fetch (or a wait for another call's renewal) does not eat
  the call's time.

The in-process sandbox acts out the delays with real (sub-second) sleeps: the point is time.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

import pytest

from smsflow import MemoryTokenStore, SmsFlowDeliveryUnknownError, SmsFlowError
from smsflow.testing import Sandbox

TIMEOUT: Final = 0.5  # seconds: each call's timeout
MESSAGES: Final = [{"destination": "27821234567", "content": "Hi"}]


def many_sync(sandbox: Sandbox, calls: int, **options: Any) -> tuple[list[Any], float, int]:
    """``calls`` concurrent get_balance calls on one client: (results or errors, the slowest
    call's seconds, client.token_requests)."""

    def one(client: Any) -> tuple[Any, float]:
        started = time.monotonic()
        try:
            result: Any = client.get_balance().balance
        except SmsFlowError as error:
            result = error
        return result, time.monotonic() - started

    with sandbox.client(**options) as client, ThreadPoolExecutor(calls) as pool:
        done = list(pool.map(lambda _: one(client), range(calls)))
        return [r for r, _ in done], max(s for _, s in done), client.token_requests


def many_async(sandbox: Sandbox, calls: int, **options: Any) -> tuple[list[Any], float, int]:
    """The same with ``calls`` tasks on one async client."""

    async def one(client: Any) -> tuple[Any, float]:
        started = time.monotonic()
        try:
            result: Any = (await client.get_balance()).balance
        except SmsFlowError as error:
            result = error
        return result, time.monotonic() - started

    async def main() -> tuple[list[Any], float, int]:
        if "sleep" in options:
            plain = options.pop("sleep")

            async def nap(seconds: float) -> None:
                plain(seconds)

            options["sleep"] = nap
        async with sandbox.async_client(**options) as client:
            done = await asyncio.gather(*(one(client) for _ in range(calls)))
            return [r for r, _ in done], max(s for _, s in done), client.token_requests

    return asyncio.run(main())


def many(
    flavour: str, sandbox: Sandbox, calls: int, **options: Any
) -> tuple[list[Any], float, int]:
    return (many_sync if flavour == "sync" else many_async)(sandbox, calls, **options)


def test_a_hanging_token_endpoint_gets_one_request_and_no_call_waits_past_its_timeout(
    flavour: str,
) -> None:
    """20 calls, the token endpoint never answers in time: one token request, every call
    fails with a network error within about its own timeout (not 20 timeouts in a row)."""
    sandbox = Sandbox()
    sandbox.delay_next(100, 30.0, endpoint="token")
    results, slowest, counted = many(flavour, sandbox, 20, timeout=TIMEOUT)
    assert all(isinstance(r, SmsFlowError) and r.status_code is None for r in results)
    assert (1, 1) == (sandbox.token_requests, counted)
    assert slowest < 3 * TIMEOUT


def test_a_failing_token_endpoint_gets_one_request_for_many_waiting_calls(flavour: str) -> None:
    """100 calls against a token endpoint answering 503: one token request; every call gets
    the 503's error."""
    sandbox = Sandbox()
    sandbox.fail_next(1000, endpoint="token", status=503)
    results, _, counted = many(flavour, sandbox, 100, timeout=5)
    assert {503} == {getattr(r, "status_code", r) for r in results}
    assert (1, 1) == (sandbox.token_requests, counted)


def test_retries_against_a_failing_token_endpoint_stay_few(flavour: str) -> None:
    """32 calls with retry_retries=3 against a 503ing token endpoint: far fewer token
    requests than 32 x 4 (the failure is shared, retries back off), all counted."""
    sandbox = Sandbox()
    sandbox.fail_next(1000, endpoint="token", status=503)
    results, _, counted = many(
        flavour, sandbox, 32, timeout=5, retry_retries=3, sleep=lambda s: None
    )
    assert all(isinstance(r, SmsFlowError) for r in results)
    assert sandbox.token_requests == counted
    assert counted <= 4


def test_a_lazy_token_fetch_does_not_eat_the_send_deadline(flavour: str) -> None:
    """Token endpoint 0.35 s, send 0.3 s, timeout 0.5 s (token_timeout 5): the send is
    answered 0.3 s after it was written, so the caller gets its result, not
    SmsFlowDeliveryUnknownError."""
    sandbox = Sandbox()
    sandbox.delay_next(1, 0.35, endpoint="token")
    sandbox.delay_next(1, 0.3, endpoint="send")
    if flavour == "sync":
        with sandbox.client(timeout=TIMEOUT, token_timeout=5) as client:
            result = client.send_sms("Alerts", MESSAGES)
    else:

        async def main() -> Any:
            async with sandbox.async_client(timeout=TIMEOUT, token_timeout=5) as client:
                return await client.send_sms("Alerts", MESSAGES)

        result = asyncio.run(main())
    assert 1 == sandbox.accepted_count
    assert result.event_id > 0


def test_calls_during_a_slow_renewal_use_the_valid_old_token(flavour: str) -> None:
    """A renewal is due and slow (0.4 s) while the old token is still valid: 20 calls with
    timeout 0.5 s all succeed (none times out waiting for the renewal). The token call has
    its own timeout (5 s), so only waiting for the renewal could make a call time out."""
    now = [time.time()]
    sandbox = Sandbox(token_lifetime_minutes=10)
    if flavour == "sync":
        with sandbox.client(timeout=TIMEOUT, token_timeout=5, clock=lambda: now[0]) as client:
            client.get_balance()
            now[0] += 6 * 60  # renewal due (5 min before expiry), token valid 4 more min
            sandbox.delay_next(1, 0.4, endpoint="token")
            with ThreadPoolExecutor(20) as pool:
                got = list(pool.map(lambda _: client.get_balance().balance, range(20)))
    else:

        async def main() -> list[float]:
            async with sandbox.async_client(
                timeout=TIMEOUT, token_timeout=5, clock=lambda: now[0]
            ) as client:
                await client.get_balance()
                now[0] += 6 * 60
                sandbox.delay_next(1, 0.4, endpoint="token")
                done = await asyncio.gather(*(client.get_balance() for _ in range(20)))
                return [b.balance for b in done]

        got = asyncio.run(main())
    assert [1000.0] * 20 == got


def send_once(flavour: str, sandbox: Sandbox) -> None:
    """One send_sms with the test timeout, on the chosen client."""
    if flavour == "sync":
        with sandbox.client(timeout=TIMEOUT) as client:
            client.send_sms("Alerts", MESSAGES)
        return

    async def main() -> None:
        async with sandbox.async_client(timeout=TIMEOUT) as client:
            await client.send_sms("Alerts", MESSAGES)

    asyncio.run(main())


def test_a_send_still_times_out_when_its_own_answer_is_late(flavour: str) -> None:
    """The deadline still holds for the request itself: a send answered after its timeout is
    SmsFlowDeliveryUnknownError."""
    sandbox = Sandbox()
    sandbox.delay_next(1, 2.0, endpoint="send")
    with pytest.raises(SmsFlowDeliveryUnknownError):
        send_once(flavour, sandbox)


def test_clients_sharing_a_store_make_one_token_request(flavour: str) -> None:
    """Two clients given one MemoryTokenStore, 10 calls each while the token endpoint is slow
    (0.3 s): one token request between them (single flight per store, not per client)."""
    sandbox = Sandbox()
    sandbox.delay_next(1, 0.3, endpoint="token")
    store = MemoryTokenStore()
    if flavour == "sync":
        with (
            sandbox.client(timeout=5, token_store=store) as one,
            sandbox.client(timeout=5, token_store=store) as two,
            ThreadPoolExecutor(20) as pool,
        ):
            got = list(pool.map(lambda i: (one, two)[i % 2].get_balance().balance, range(20)))
            counted = one.token_requests + two.token_requests
    else:

        async def main() -> tuple[list[float], int]:
            async with (
                sandbox.async_client(timeout=5, token_store=store) as one,
                sandbox.async_client(timeout=5, token_store=store) as two,
            ):
                done = await asyncio.gather(*((one, two)[i % 2].get_balance() for i in range(20)))
                return [b.balance for b in done], one.token_requests + two.token_requests

        got, counted = asyncio.run(main())
    assert [1000.0] * 20 == got
    assert (1, 1) == (sandbox.token_requests, counted)
