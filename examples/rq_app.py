"""Many workers, one account, with RQ: the same recipe as ``celery_app.py``.

RQ runs each job in a forked work horse and moves the job of a worker that died to the
``FailedJobRegistry`` (its ``Retry`` policy requeues it). The idempotency key makes a
re-run send nothing twice: a completed key returns the stored result.

Run it (Redis on 127.0.0.1:6379, a sandbox: ``smsflow sandbox --port 8025``)::

    export SMSFLOW_BASE_URL=http://127.0.0.1:8025 SMSFLOW_CLIENT_ID=sandbox-client \\
           SMSFLOW_CLIENT_SECRET=sandbox-secret
    rq worker notifications            # in examples/, as many as you like, on any machine
    python rq_app.py                   # enqueue three notifications

Settings (environment): as in ``celery_app.py`` (``SMSFLOW_REDIS_URL``,
``SMSFLOW_LEDGER_URL``, ``SMSFLOW_MESSAGES_PER_SECOND``, ``SMSFLOW_LEDGER_LEASE_S``).
"""

from __future__ import annotations

import os
from typing import Any

from smsflow import (
    Ledger,
    PostgresLedger,
    RedisLedger,
    RedisRateLimit,
    RedisTokenStore,
    SmsFlowClient,
    SmsFlowError,
    SmsFlowIdempotencyError,
)

REDIS_URL = os.environ.get("SMSFLOW_REDIS_URL", "redis://127.0.0.1:6379/0")
LEDGER_URL = os.environ.get("SMSFLOW_LEDGER_URL", REDIS_URL)
MESSAGES_PER_SECOND = float(os.environ.get("SMSFLOW_MESSAGES_PER_SECOND", "50"))
LEASE_S = float(os.environ.get("SMSFLOW_LEDGER_LEASE_S", "300"))
CAMPAIGN = "Order notifications"


class InFlightElsewhere(Exception):  # noqa: N818 - RQ retries on any exception
    """Another worker holds the key: let RQ's Retry run the job again later."""


def _ledger() -> Ledger:
    if LEDGER_URL.startswith(("postgres://", "postgresql://")):
        return PostgresLedger(LEDGER_URL, lease_s=LEASE_S)
    return RedisLedger(LEDGER_URL, lease_s=LEASE_S)


def send_notification(key: str, destination: str, content: str) -> dict[str, Any]:
    """One notification, at most once per ``key`` (see ``celery_app.send_notification``).

    RQ forks a work horse per job, so the client lives for one job; the token still comes
    from Redis (one fetch per token lifetime for all workers).
    """
    message = [{"destination": destination, "content": content}]
    with SmsFlowClient(
        token_store=RedisTokenStore(REDIS_URL),
        ledger=_ledger(),
        rate_limit=RedisRateLimit(REDIS_URL, MESSAGES_PER_SECOND),
    ) as client:
        try:
            result = client.send_sms(CAMPAIGN, message, idempotency_key=key)
        except SmsFlowIdempotencyError as error:
            if error.code == "IDEMPOTENCY_IN_FLIGHT":
                raise InFlightElsewhere(str(error)) from error
            return {"key": key, "status": "unknown", "code": error.code}
        except SmsFlowError as error:
            if error.retryable and not error.outcome_unknown:
                raise  # proven not sent: RQ's Retry runs it again
            status = "unknown" if error.outcome_unknown else "failed"
            return {"key": key, "status": status, "code": error.code}
    return {"key": key, "status": "sent", "event_id": result.event_id}


def enqueue(key: str, destination: str, content: str) -> Any:
    """Queue one notification with retries (for a worker that died, or a key in flight)."""
    from redis import Redis
    from rq import Queue, Retry

    queue = Queue("notifications", connection=Redis.from_url(REDIS_URL))
    return queue.enqueue(
        send_notification,
        key,
        destination,
        content,
        job_id=f"notify-{key}",  # one job per notification, even if enqueued twice
        retry=Retry(max=10, interval=[5, 30, 60, 300]),
        job_timeout=120,
    )


if __name__ == "__main__":
    for order in (1001, 1002, 1003):
        enqueue(f"order-{order}-shipped", "27821234567", f"Order {order} has shipped.")
