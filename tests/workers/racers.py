"""Child-process bodies for the race tests (module level: picklable under ``spawn``)."""

from __future__ import annotations

import time
from typing import Any

from engines import make_ledger

from smsflow import SmsFlowClient, SmsFlowIdempotencyError


def race(engine: str, where: str, base_url: str, keys: list[str], start_at: float) -> list[Any]:
    """Send one message per key, starting at ``start_at``; ``(key, event id or error code)``."""
    ledger = make_ledger(engine, where)
    out: list[Any] = []
    with SmsFlowClient(
        "sandbox-client", "sandbox-secret", base_url=base_url, ledger=ledger
    ) as client:
        client.authenticate()
        time.sleep(max(0.0, start_at - time.time()))
        for key in keys:
            message = [{"destination": "27820000001", "content": f"Notification {key}"}]
            try:
                result = client.send_sms("Race", message, idempotency_key=key)
                out.append((key, result.event_id))
            except SmsFlowIdempotencyError as error:
                out.append((key, error.code))
    ledger.close()
    return out


def first_call(redis_url: str, base_url: str, start_at: float) -> tuple[float, int]:
    """One client with a RedisTokenStore makes one call at ``start_at``: (balance, fetches)."""
    from smsflow import RedisTokenStore

    store = RedisTokenStore(redis_url)
    with SmsFlowClient(
        "sandbox-client", "sandbox-secret", base_url=base_url, token_store=store
    ) as client:
        time.sleep(max(0.0, start_at - time.time()))
        balance = client.get_balance().balance
        return balance, client.token_requests


def rated_sends(redis_url: str, base_url: str, sends: int, rate: float, start_at: float) -> int:
    """``sends`` one-message sends under a shared RedisRateLimit; returns how many went."""
    from smsflow import RedisRateLimit

    limit = RedisRateLimit(redis_url, rate)
    with SmsFlowClient(
        "sandbox-client", "sandbox-secret", base_url=base_url, rate_limit=limit
    ) as client:
        client.authenticate()
        time.sleep(max(0.0, start_at - time.time()))
        for i in range(sends):
            client.send_sms("Rated", [{"destination": "27820000002", "content": f"m{i}"}])
        return sends
