"""Issue 11, items 2 and 12: answers no JSON reader should choke on, for both clients.

* Deeply nested JSON (``[[[[...]]]]``, 100,000 levels, ~200 KB: under the 1 MiB cap) in a
  200 or a 500 becomes :class:`~smsflow.SmsFlowUnexpectedResponseError`, never a
  ``RecursionError``; in ``send_bulk`` every message still gets an outcome.
* ``NaN``, ``Infinity`` and ``1e400`` (out of a float's range) as a balance or a cost become
  :class:`~smsflow.SmsFlowUnexpectedResponseError`, never a result.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from helpers import MESSAGES, FakeApi, fake_api, send_json

from smsflow import SmsFlowUnexpectedResponseError

DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted fake API whose clients are closed after the test."""
    yield from fake_api()


def _call(api: FakeApi, kind: str, op: str) -> Any:
    if kind == "sync":
        client = api.client()
        return client.get_balance() if op == "get_balance" else client.send_sms("C", MESSAGES)

    async def main() -> Any:
        async with api.async_client() as client:
            if op == "get_balance":
                return await client.get_balance()
            return await client.send_sms("C", MESSAGES)

    return asyncio.run(main())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("op", ["get_balance", "send_sms"])
@pytest.mark.parametrize("status", [200, 500])
def test_deep_json_is_an_unexpected_response(api: FakeApi, kind: str, op: str, status: int) -> None:
    """A 200 or 500 of JSON nested 100,000 deep is SmsFlowUnexpectedResponseError."""
    api.queue("balance" if op == "get_balance" else "send", httpx.Response(status, content=DEEP))
    with pytest.raises(SmsFlowUnexpectedResponseError) as info:
        _call(api, kind, op)
    assert status == info.value.status_code
    assert info.value.outcome_unknown == (op == "send_sms")  # a send's fate cannot be read


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("status", [200, 500])
def test_deep_json_in_bulk_accounts_for_every_message(api: FakeApi, kind: str, status: int) -> None:
    """send_bulk: a batch answered with deep JSON is ``unknown``; every message has an outcome
    and the other batches are sent."""
    messages = [{"destination": f"2782{n:07d}", "content": f"m{n}"} for n in range(100)]
    api.queue("send", httpx.Response(status, content=DEEP))
    options: dict[str, Any] = {"batch_size": 20, "concurrency": 1}
    if kind == "sync":
        with api.client().send_bulk("C", messages, **options) as run:
            outcomes = list(run)
    else:

        async def main() -> list[Any]:
            async with (
                api.async_client() as client,
                client.send_bulk("C", messages, **options) as run,
            ):
                return [outcome async for outcome in run]

        outcomes = asyncio.run(main())
    statuses = sorted(o.status for o in outcomes)
    assert (100, ["sent"] * 80 + ["unknown"] * 20) == (len(outcomes), statuses)
    assert set(range(100)) == {o.index for o in outcomes}


def _balance(text: str) -> httpx.Response:
    return httpx.Response(200, content=f'{{"balance": {text}}}'.encode())


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_out_of_spec_balance_is_refused(api: FakeApi, kind: str, number: str) -> None:
    """A balance of NaN, Infinity or 1e400 is SmsFlowUnexpectedResponseError, not a result."""
    api.queue("balance", _balance(number))
    with pytest.raises(SmsFlowUnexpectedResponseError):
        _call(api, kind, "get_balance")


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
def test_out_of_spec_send_cost_is_refused(api: FakeApi, kind: str, number: str) -> None:
    """A send whose cost is NaN/Infinity/1e400 is SmsFlowUnexpectedResponseError (outcome
    unknown: the answer cannot be trusted), never a result with a non-finite cost."""
    text = json.dumps(send_json()).replace('"cost": 0.25,', f'"cost": {number},', 1)
    api.queue("send", httpx.Response(200, content=text.encode()))
    with pytest.raises(SmsFlowUnexpectedResponseError) as info:
        _call(api, kind, "send_sms")
    assert info.value.outcome_unknown
