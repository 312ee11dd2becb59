"""Issue 11, item 1: a shared token store and a server-side revocation.

Two clients share a store; each has authenticated (so the store holds the token of the one
that authenticated last); the server then revokes every token. The next call of the other
client gets a 401: it must not replay with the token from the store (issued before its
refused request was sent, so revoked too), but fetch one new token and replay once. A
1,000-message ``send_bulk`` then sends every message. Both clients, memory and file stores.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any, Final

import pytest

from smsflow import FileTokenStore, MemoryTokenStore, TokenStore
from smsflow.testing import Sandbox

COUNT: Final = 1000


def items() -> list[dict[str, str]]:
    return [{"destination": f"2782{i:07d}", "content": f"Message {i}"} for i in range(COUNT)]


def make_store(kind: str, folder: Path) -> TokenStore:
    return MemoryTokenStore() if kind == "memory" else FileTokenStore(folder)


def run_sync(sandbox: Sandbox, store: TokenStore) -> tuple[Counter[str], int, float]:
    with sandbox.client(token_store=store) as first, sandbox.client(token_store=store) as second:
        first.authenticate()
        second.authenticate()  # the store now holds second's token
        sandbox.revoke_tokens()
        before = sandbox.token_requests
        with first.send_bulk("Campaign", items(), batch_size=100) as run:
            statuses = Counter(o.status for o in run)
        balance = second.get_balance().balance  # the other client recovers too
        return statuses, sandbox.token_requests - before, balance


async def run_async(sandbox: Sandbox, store: TokenStore) -> tuple[Counter[str], int, float]:
    async with (
        sandbox.async_client(token_store=store) as first,
        sandbox.async_client(token_store=store) as second,
    ):
        await first.authenticate()
        await second.authenticate()
        sandbox.revoke_tokens()
        before = sandbox.token_requests
        async with first.send_bulk("Campaign", items(), batch_size=100) as run:
            statuses = Counter([o.status async for o in run])
        balance = (await second.get_balance()).balance
        return statuses, sandbox.token_requests - before, balance


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_a_revocation_costs_one_new_token_and_every_message_is_sent(
    tmp_path: Path, flavour: str, kind: str
) -> None:
    """After the revocation, the bulk run fetches one new token, replays, and sends all;
    the other client then takes that new token from the store."""
    sandbox = Sandbox(balance=1e6)
    store = make_store(kind, tmp_path)
    result: Any = (
        run_sync(sandbox, store) if flavour == "sync" else asyncio.run(run_async(sandbox, store))
    )
    statuses, new_tokens, balance = result
    assert ({"sent": COUNT}, 1) == (dict(statuses), new_tokens)
    assert balance == sandbox.balance
    assert COUNT == sandbox.accepted_count
