"""Issue 11, item 5: no credential is reachable from a raised error.

Whatever a caller (or an error tracker) walks from a raised :class:`~smsflow.SmsFlowError`:
its ``__cause__`` and ``__context__`` chains, ``args``, ``request``, ``response`` (and the
response's request), and the same attributes of every chained exception, holds neither the
HTTP Basic header (client id and secret) nor a bearer token. Both clients, after a timeout,
a dropped, reset or truncated connection, on a bearer call and on ``authenticate()``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Final

import httpx
import pytest

from smsflow import SmsFlowError
from smsflow.testing import Sandbox

SECRET: Final = "chain-secret-5f1e9a"
CLIENT: Final = "chain-client"
MESSAGES: Final = [{"destination": "27821234567", "content": "Hi"}]

Fault = Callable[[Sandbox, str], None]
FAULTS: Final[dict[str, Fault]] = {
    "timeout": lambda s, e: s.delay_next(1, 5.0, endpoint=e),  # type: ignore[arg-type]
    "drop": lambda s, e: s.drop_next(1, endpoint=e),  # type: ignore[arg-type]
    "reset": lambda s, e: s.reset_next(1, endpoint=e),  # type: ignore[arg-type]
    "truncate": lambda s, e: s.truncate_next(1, endpoint=e),  # type: ignore[arg-type]
}


def _strings(value: Any) -> Iterator[str]:
    """Every header value and argument text an object exposes (requests, responses, errors)."""
    if isinstance(value, httpx.Request):
        yield from value.headers.values()
        yield str(value.url)
    elif isinstance(value, httpx.Response):
        yield from value.headers.values()
        if getattr(value, "_request", None) is not None:
            yield from _strings(value.request)
    elif isinstance(value, str | bytes):
        yield value if isinstance(value, str) else value.decode("latin-1")
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)


def reachable_texts(error: BaseException) -> list[str]:
    """The texts reachable from ``error`` through its chain and attributes."""
    texts: list[str] = []
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        exc = todo.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        texts.extend(_strings(exc.args))
        for name in ("request", "_request", "response"):
            # httpx raises RuntimeError for a request never attached
            with contextlib.suppress(RuntimeError):
                texts.extend(_strings(getattr(exc, name, None)))
        texts.extend(_strings(list(vars(exc).values())))
        todo.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
    return texts


TOKEN_PREFIX: Final = "chain-token-"


def assert_clean(error: BaseException) -> None:
    """Neither the Basic credentials, the secret nor any issued token is reachable."""
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    texts = reachable_texts(error)
    assert texts  # the walk found the error's own texts
    assert [t for t in texts if basic in t or SECRET in t or TOKEN_PREFIX in t] == []


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(
        CLIENT,
        SECRET,
        sleep=lambda s: None,
        async_sleep=_no_sleep,
        token_factory=lambda n: f"{TOKEN_PREFIX}{n:04d}",
    )


def _sync_call(sandbox: Sandbox, call: str) -> BaseException:
    with sandbox.client(timeout=1) as client:
        client.authenticate()  # a token, so the fault hits the bearer call itself
        FAULTS_FOR[call](sandbox)
        with pytest.raises(SmsFlowError) as info:
            CALLS[call](client)
    return info.value


async def _async_call(sandbox: Sandbox, call: str) -> BaseException:
    async with sandbox.async_client(timeout=1) as client:
        await client.authenticate()
        FAULTS_FOR[call](sandbox)
        with pytest.raises(SmsFlowError) as info:
            await ACALLS[call](client)
    return info.value


FAULTS_FOR: dict[str, Callable[[Sandbox], None]] = {}
CALLS: Final[dict[str, Callable[[Any], Any]]] = {
    "balance": lambda c: c.get_balance(),
    "send": lambda c: c.send_sms("Alerts", MESSAGES),
    "authenticate": lambda c: c.authenticate(),
}
ACALLS: Final = CALLS
ENDPOINT: Final = {"balance": "balance", "send": "send", "authenticate": "token"}


@pytest.mark.parametrize("call", ["balance", "send", "authenticate"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_no_credential_reachable_from_a_raised_error(
    sandbox: Sandbox, call: str, fault: str, flavour: str
) -> None:
    """After a fault, nothing reachable from the error holds the Basic header or a token."""
    FAULTS_FOR[call] = lambda s: FAULTS[fault](s, ENDPOINT[call])
    if flavour == "sync":
        error = _sync_call(sandbox, call)
    else:
        error = asyncio.run(_async_call(sandbox, call))
    assert sandbox.token_requests >= 1
    assert_clean(error)
