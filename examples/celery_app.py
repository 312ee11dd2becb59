"""Many workers, one account: a Celery app that sends one notification per task.

Every worker process shares, through Redis (and optionally PostgreSQL):

* an **idempotency ledger**: each task carries its notification's key, so a retried or
  redelivered task never sends twice (``RedisLedger``, or ``PostgresLedger`` when
  ``SMSFLOW_LEDGER_URL`` is a ``postgresql://`` URL);
* **one token** (``RedisTokenStore``): one token request per token lifetime for all workers;
* **one rate limit** (``RedisRateLimit``): all workers together stay under the account's
  messages per second.

Run it (a Redis on 127.0.0.1:6379 and a sandbox: ``smsflow sandbox --port 8025``)::

    export SMSFLOW_BASE_URL=http://127.0.0.1:8025 SMSFLOW_CLIENT_ID=sandbox-client \\
           SMSFLOW_CLIENT_SECRET=sandbox-secret
    celery -A celery_app worker --concurrency=4 --loglevel=INFO     # in examples/
    python -c "from celery_app import send_notification as t; \\
               t.delay('order-1001-shipped', '27821234567', 'Order 1001 has shipped.')"

Settings (environment): ``SMSFLOW_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``),
``CELERY_BROKER_URL`` (default: the same Redis), ``SMSFLOW_LEDGER_URL`` (default: the same
Redis), ``SMSFLOW_MESSAGES_PER_SECOND`` (default 50), ``SMSFLOW_LEDGER_LEASE_S`` (default 300),
``SMSFLOW_VISIBILITY_TIMEOUT_S`` (default 3600), ``CELERY_RESULT_BACKEND`` (default: none).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

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
BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
LEDGER_URL = os.environ.get("SMSFLOW_LEDGER_URL", REDIS_URL)
MESSAGES_PER_SECOND = float(os.environ.get("SMSFLOW_MESSAGES_PER_SECOND", "50"))
LEASE_S = float(os.environ.get("SMSFLOW_LEDGER_LEASE_S", "300"))
CAMPAIGN = "Order notifications"

# Task results (optional): where callers read each notification's outcome.
app = Celery(
    "smsflow_notifications", broker=BROKER_URL, backend=os.environ.get("CELERY_RESULT_BACKEND")
)
app.conf.update(
    task_acks_late=True,  # a task is acknowledged after it ran: a dead worker's task comes back
    task_reject_on_worker_lost=True,  # ... at once when a worker process dies mid-task
    worker_prefetch_multiplier=1,  # hold one task at a time
    task_serializer="json",
    # Redis redelivers a task unacknowledged this long (a whole worker machine lost).
    # Keep it longer than your longest task, countdowns included.
    broker_transport_options={
        "visibility_timeout": int(os.environ.get("SMSFLOW_VISIBILITY_TIMEOUT_S", "3600"))
    },
    broker_connection_retry_on_startup=True,
)

_client: SmsFlowClient | None = None
_client_pid = 0


def _ledger() -> Ledger:
    if LEDGER_URL.startswith(("postgres://", "postgresql://")):
        return PostgresLedger(LEDGER_URL, lease_s=LEASE_S)
    return RedisLedger(LEDGER_URL, lease_s=LEASE_S)


def client() -> SmsFlowClient:
    """This worker process's client (made after the fork; one per process)."""
    global _client, _client_pid
    if _client is None or _client_pid != os.getpid():
        _client = SmsFlowClient(  # credentials and base URL from SMSFLOW_* variables
            token_store=RedisTokenStore(REDIS_URL),
            ledger=_ledger(),
            rate_limit=RedisRateLimit(REDIS_URL, MESSAGES_PER_SECOND),
        )
        _client_pid = os.getpid()
    return _client


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def send_notification(self: Any, key: str, destination: str, content: str) -> dict[str, Any]:
    """Send one notification at most once per ``key``; report what happened.

    Returns ``{"key", "status", ...}``: ``sent`` (with ``event_id``; also when an earlier
    delivery of this task sent it), ``unknown`` (it may have been sent: check the portal, then
    resend with ``force_resend=True``) or ``failed`` (not sent, with ``code``).
    """
    message = [{"destination": destination, "content": content}]
    try:
        result = client().send_sms(CAMPAIGN, message, idempotency_key=key)
    except SmsFlowIdempotencyError as error:
        if error.code == "IDEMPOTENCY_IN_FLIGHT":  # another worker holds it (or died holding it)
            raise self.retry(countdown=max(1.0, error.retry_after or 1.0)) from error
        return {"key": key, "status": "unknown", "code": error.code}
    except SmsFlowError as error:
        if error.outcome_unknown:
            return {"key": key, "status": "unknown", "code": error.code}
        if error.retryable and self.request.retries < 5:  # proven not sent: safe to retry
            raise self.retry(countdown=error.retry_after or 2.0**self.request.retries) from error
        return {"key": key, "status": "failed", "code": error.code}
    return {"key": key, "status": "sent", "event_id": result.event_id}
