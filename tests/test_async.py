"""AsyncSmsFlowClient: the same API as SmsFlowClient, cancellation safety, timeouts, lifecycle.

Outcome parity with the sync client is in ``tests/test_parity.py``; real-socket concurrency in
``tests/test_concurrency.py``. Here the API is the sandbox, scripted through ``FakeApi``
(``tests/helpers.py``); tests that hold a request in flight wrap it in an async
``httpx.MockTransport`` that waits, then hands the request to the sandbox: no network, no real
sleep.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from helpers import BASE_URL, CLIENT_ID, CLIENT_SECRET, MESSAGES, Clock, FakeApi, error

from smsflow import AsyncSmsFlowClient, SmsFlowClient

RENEW_AT_S = 120 * 60 - 300
T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a test's coroutine, failing (not hanging) if it is stuck for 10 s."""
    return asyncio.run(asyncio.wait_for(main, 10))


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted API."""
    with FakeApi() as fake:
        yield fake


class HeldTokens:
    """An async transport over ``api`` whose token answers wait until :meth:`release`.

    ``requested`` is set when a token request arrives, so a test can act (cancel) while the
    token request is in flight; ``token_requests`` counts them all, answered or not.
    """

    def __init__(self, api: FakeApi) -> None:
        self.api = api
        self.requested = asyncio.Event()
        self._released = asyncio.Event()
        self.token_requests = 0

    def release(self) -> None:
        """Let held and later token requests be answered."""
        self._released.set()

    async def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/authentication"):
            self.token_requests += 1
            self.requested.set()
            await self._released.wait()
        return self.api.handler(request)

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


def client_on(http: httpx.AsyncClient, **options: Any) -> AsyncSmsFlowClient:
    """An async client on ``http`` with the FakeApi credentials."""
    return AsyncSmsFlowClient(CLIENT_ID, CLIENT_SECRET, BASE_URL, http_client=http, **options)


# -- the same API ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["authenticate", "send_sms", "get_balance"])
def test_async_methods_mirror_the_sync_ones(name: str) -> None:
    """Each API method takes exactly the same parameters in both clients, and is async."""
    sync_method = getattr(SmsFlowClient, name)
    async_method = getattr(AsyncSmsFlowClient, name)
    assert inspect.iscoroutinefunction(async_method)
    sync_params = list(inspect.signature(sync_method).parameters.values())
    async_params = list(inspect.signature(async_method).parameters.values())
    assert [(p.name, p.kind, p.default) for p in sync_params] == [
        (p.name, p.kind, p.default) for p in async_params
    ]


def test_constructors_take_the_same_arguments() -> None:
    """Both clients take the same positional arguments (smsflow 0.2.0 order) and keywords."""
    sync_params = inspect.signature(SmsFlowClient.__init__).parameters
    async_params = inspect.signature(AsyncSmsFlowClient.__init__).parameters
    assert list(sync_params) == list(async_params)
    assert [p.default for p in sync_params.values() if p.name != "sleep"] == [
        p.default for p in async_params.values() if p.name != "sleep"
    ]


def test_every_method_takes_a_per_call_timeout() -> None:
    """authenticate, send_sms and get_balance accept timeout= (keyword-only) in both clients."""
    for cls in (SmsFlowClient, AsyncSmsFlowClient):
        for name in ("authenticate", "send_sms", "get_balance"):
            param = inspect.signature(getattr(cls, name)).parameters["timeout"]
            assert (param.kind, param.default) == (inspect.Parameter.KEYWORD_ONLY, None)


def test_async_with_returns_the_client_and_closes_its_pool() -> None:
    """``async with AsyncSmsFlowClient(...) as c`` gives the client and closes our pool."""

    async def main() -> tuple[bool, bool]:
        client = AsyncSmsFlowClient(CLIENT_ID, CLIENT_SECRET, BASE_URL)
        async with client as entered:
            same = entered is client
        return same, client._http.is_closed

    assert run(main()) == (True, True)


def test_aclose_is_idempotent_and_leaves_a_given_http_client_open(api: FakeApi) -> None:
    """aclose() twice is fine; an http_client passed in is left for its owner to close."""

    async def main() -> bool:
        async with httpx.AsyncClient(transport=api.transport()) as http:
            client = client_on(http)
            await client.get_balance()
            await client.aclose()
            await client.aclose()
            return http.is_closed

    assert run(main()) is False


def test_unclosed_async_client_warns() -> None:
    """An async client dropped without aclose() emits a ResourceWarning naming aclose()."""

    def drop() -> None:
        AsyncSmsFlowClient(CLIENT_ID, CLIENT_SECRET, BASE_URL)
        gc.collect()

    with pytest.warns(ResourceWarning, match=r"aclose\(\)"):
        drop()


# -- per-call timeouts -----------------------------------------------------------------------


def test_per_call_timeouts_reach_each_request(api: FakeApi) -> None:
    """timeout= on authenticate, send_sms and get_balance sets that request's timeouts; other
    calls keep the client's (and a lazily fetched token uses token_timeout)."""

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=api.transport()) as http,
            client_on(http, timeout=30, token_timeout=4) as client,
        ):
            await client.get_balance(timeout=5)
            await client.send_sms("Timeouts", MESSAGES, timeout=httpx.Timeout(7.0))
            await client.authenticate(timeout=2)
            await client.get_balance()

    run(main())
    reads = [r.extensions["timeout"]["read"] for r in api.requests]
    assert reads == [4.0, 5.0, 7.0, 2.0, 30.0]


def test_invalid_per_call_timeout_sends_nothing(api: FakeApi) -> None:
    """timeout=0 is refused (INVALID_TIMEOUT) before any request."""

    async def main() -> str:
        async with (
            httpx.AsyncClient(transport=api.transport()) as http,
            client_on(http) as client,
        ):
            try:
                await client.get_balance(timeout=0)
            except Exception as exc:  # noqa: BLE001 - its code is asserted below
                return getattr(exc, "code", repr(exc))
            return "no error"

    assert run(main()) == "INVALID_TIMEOUT"
    assert api.requests == []


# -- the caller's own httpx.AsyncClient ------------------------------------------------------


def test_own_async_http_client_still_gets_auth_timeouts_and_retries(api: FakeApi) -> None:
    """With the caller's AsyncClient (its own headers, hooks and default timeout), requests
    still carry our bearer token and timeout, and retries still happen."""
    seen: list[httpx.Request] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request)

    api.queue("balance", error(503, "SERVICE_UNAVAILABLE"))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> float:
        async with httpx.AsyncClient(
            transport=api.transport(),
            headers={"X-Proxy-Tag": "mine"},
            event_hooks={"request": [hook]},
            timeout=99,
        ) as http:
            client = client_on(http, timeout=8, retry_retries=1, sleep=sleep)
            async with client:
                return (await client.get_balance()).balance

    assert run(main()) == 1234.5
    bearer_calls = [r for r in seen if r.url.path.endswith("/Balance")]
    assert [r.headers["Authorization"] for r in bearer_calls] == ["Bearer tok-1"] * 2
    assert {r.headers["X-Proxy-Tag"] for r in bearer_calls} == {"mine"}
    assert {r.extensions["timeout"]["read"] for r in seen} == {8.0}
    assert len(sleeps) == 1


# -- cancellation ----------------------------------------------------------------------------


def test_cancel_during_the_token_request_leaves_the_cache_usable(api: FakeApi) -> None:
    """Cancelling a call while its token request is in flight releases the token lock; the
    next call succeeds with exactly one more token request."""
    held = HeldTokens(api)

    async def main() -> tuple[bool, float]:
        async with held.http() as http, client_on(http) as client:
            task = asyncio.create_task(client.get_balance())
            await held.requested.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            locked = client._cache.async_lock.locked()
            held.release()
            balance = await client.get_balance()
            return locked, balance.balance

    assert run(main()) == (False, 1234.5)
    assert held.token_requests == 2  # the cancelled one and exactly one more
    assert len(api.to("balance")) == 1


def test_cancelling_the_fetching_task_lets_waiting_tasks_through(api: FakeApi) -> None:
    """Tasks waiting for the token while the fetching task is cancelled all complete, with
    one more token request between them."""
    held = HeldTokens(api)

    async def main() -> list[float]:
        async with held.http() as http, client_on(http) as client:
            first = asyncio.create_task(client.get_balance())
            await held.requested.wait()
            waiting = [asyncio.create_task(client.get_balance()) for _ in range(20)]
            await asyncio.sleep(0)  # let them queue on the token lock
            first.cancel()
            held.release()
            results = await asyncio.gather(*waiting)
            with pytest.raises(asyncio.CancelledError):
                await first
            return [r.balance for r in results]

    assert run(main()) == [1234.5] * 20
    assert held.token_requests == 2
    assert len(api.to("balance")) == 20


def test_timeout_around_a_call_during_the_token_request(api: FakeApi) -> None:
    """``asyncio.wait_for`` expiring during the token request leaves the client usable."""
    held = HeldTokens(api)

    async def main() -> float:
        async with held.http() as http, client_on(http) as client:
            waiter = asyncio.create_task(asyncio.wait_for(client.get_balance(), 60))
            await held.requested.wait()
            waiter.cancel()  # as wait_for's own deadline would
            with pytest.raises(asyncio.CancelledError):
                await waiter
            held.release()
            return (await client.send_sms("After", MESSAGES)).event_id

    assert run(main()) == 123456
    assert held.token_requests == 2


def test_cancel_during_a_send_keeps_the_token(api: FakeApi) -> None:
    """A call cancelled after its token was fetched leaves the token cached (no new fetch)."""
    sending = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/BulkMessages") and not sending.is_set():
            sending.set()
            await asyncio.Event().wait()  # never answers; the call is cancelled
        return api.handler(request)

    async def main() -> float:
        async with (
            httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
            client_on(http) as client,
        ):
            task = asyncio.create_task(client.send_sms("Cancelled", MESSAGES))
            await sending.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return (await client.get_balance()).balance

    assert run(main()) == 1234.5
    assert len(api.to("token")) == 1


def test_cancelled_renewal_keeps_the_old_token(api: FakeApi) -> None:
    """Cancelling a call during a token renewal leaves the old, still valid token in use."""
    clock = Clock()
    held = HeldTokens(api)
    held.release()

    async def main() -> list[str]:
        async with held.http() as http, client_on(http, clock=clock) as client:
            await client.get_balance()
            clock.advance(RENEW_AT_S)
            held._released.clear()
            held.requested.clear()
            task = asyncio.create_task(client.get_balance())
            await held.requested.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await client.get_balance()  # the old token, no waiting on the held renewal
            return [r.headers["Authorization"] for r in api.to("balance")]

    assert run(main()) == ["Bearer tok-1", "Bearer tok-1"]
    assert held.token_requests == 2


def test_cancel_during_a_retry_sleep_stops_the_call(api: FakeApi) -> None:
    """A call cancelled while waiting to retry sends nothing more."""
    api.queue("balance", error(503, "SERVICE_UNAVAILABLE"))
    napping = asyncio.Event()

    async def sleep(seconds: float) -> None:
        napping.set()
        await asyncio.Event().wait()

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=api.transport()) as http,
            client_on(http, retry_retries=3, sleep=sleep) as client,
        ):
            task = asyncio.create_task(client.get_balance())
            await napping.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(main())
    assert len(api.to("balance")) == 1


def test_send_bulk_takes_the_same_arguments_in_both_clients() -> None:
    """`send_bulk` has the same parameter names, kinds and defaults in both clients."""
    sync_params = list(inspect.signature(SmsFlowClient.send_bulk).parameters.values())
    async_params = list(inspect.signature(AsyncSmsFlowClient.send_bulk).parameters.values())
    assert [(p.name, p.kind, p.default) for p in sync_params] == [
        (p.name, p.kind, p.default) for p in async_params
    ]
    assert len(sync_params) >= 15
