"""smsflow: the typed Python SDK for the SMSFlow HTTPS API.

Quick start::

    from smsflow import SmsFlowClient

    with SmsFlowClient() as client:  # SMSFLOW_CLIENT_ID / SMSFLOW_CLIENT_SECRET
        result = client.send_sms(
            campaign_name="Order dispatch alerts",
            messages=[{"destination": "27821234567", "content": "Order 1001 has shipped."}],
        )
        print(result.event_id)

Everything public is importable from here; modules starting with ``_`` are private.
The sandbox lives in :mod:`smsflow.testing` (imported on demand).
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._async_client import AsyncSmsFlowClient
from ._destinations import destination_problem, normalize_destination
from ._errors import (
    SmsFlowAuthenticationError,
    SmsFlowDeliveryUnknownError,
    SmsFlowError,
    SmsFlowIdempotencyError,
    SmsFlowInsufficientBalanceError,
    SmsFlowNetworkError,
    SmsFlowRateLimitError,
    SmsFlowRequestTimeoutError,
    SmsFlowServerError,
    SmsFlowUnexpectedResponseError,
    SmsFlowValidationError,
)
from ._ledger import Claim, Ledger, LedgerEntry
from ._results import AuthToken, Balance, SendResult
from ._shared_rate import SharedRateLimit
from ._sms import SmsSegments, segments
from ._sync_client import SmsFlowClient
from ._tokens import FileTokenStore, MemoryTokenStore, Token, TokenStore
from ._validate import Message
from ._version import __version__

if TYPE_CHECKING:
    from smsflow_api.models import CostBreakdownItem as CostBreakdown
    from smsflow_api.models import ErrorDetail, SendResponse
    from smsflow_api.types import UNSET, Unset

    from ._bulk_run import AsyncBulkRun, BulkRun
    from ._bulk_types import BulkProgress, MessageOutcome
    from ._ledger_postgres import PostgresLedger
    from ._ledger_redis import RedisLedger
    from ._ledger_sqlite import SqliteLedger
    from ._redis_rate import RedisRateLimit
    from ._redis_tokens import RedisTokenStore

# Names imported on first use (docs/performance.md), so that a script sending one SMS does
# not load the generated models, the bulk engine with its journal and thread pools, or the
# ledgers and Redis stores: name -> (module, attribute). The generated models are the
# generated classes themselves, not copies.
_LAZY: dict[str, tuple[str, str]] = {
    "CostBreakdown": ("smsflow_api.models", "CostBreakdownItem"),
    "ErrorDetail": ("smsflow_api.models", "ErrorDetail"),
    "SendResponse": ("smsflow_api.models", "SendResponse"),
    "UNSET": ("smsflow_api.types", "UNSET"),
    "Unset": ("smsflow_api.types", "Unset"),
    "AsyncBulkRun": ("smsflow._bulk_run", "AsyncBulkRun"),
    "BulkRun": ("smsflow._bulk_run", "BulkRun"),
    "BulkProgress": ("smsflow._bulk_types", "BulkProgress"),
    "MessageOutcome": ("smsflow._bulk_types", "MessageOutcome"),
    "PostgresLedger": ("smsflow._ledger_postgres", "PostgresLedger"),
    "RedisLedger": ("smsflow._ledger_redis", "RedisLedger"),
    "SqliteLedger": ("smsflow._ledger_sqlite", "SqliteLedger"),
    "RedisRateLimit": ("smsflow._redis_rate", "RedisRateLimit"),
    "RedisTokenStore": ("smsflow._redis_tokens", "RedisTokenStore"),
}


def __getattr__(name: str) -> Any:
    """Import a name of :data:`_LAZY` on first use (``AttributeError`` for any other)."""
    found = _LAZY.get(name)
    if found is None:
        raise AttributeError(f"module 'smsflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(found[0]), found[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names (``__all__``), whether loaded yet or not."""
    return sorted(__all__)


__all__ = [
    "AsyncBulkRun",
    "AsyncSmsFlowClient",
    "AuthToken",
    "Balance",
    "BulkProgress",
    "BulkRun",
    "Claim",
    "CostBreakdown",
    "ErrorDetail",
    "FileTokenStore",
    "Ledger",
    "LedgerEntry",
    "MemoryTokenStore",
    "Message",
    "MessageOutcome",
    "PostgresLedger",
    "RedisLedger",
    "RedisRateLimit",
    "RedisTokenStore",
    "SendResponse",
    "SendResult",
    "SharedRateLimit",
    "SmsFlowAuthenticationError",
    "SmsFlowClient",
    "SmsFlowDeliveryUnknownError",
    "SmsFlowError",
    "SmsFlowIdempotencyError",
    "SmsFlowInsufficientBalanceError",
    "SmsFlowNetworkError",
    "SmsFlowRateLimitError",
    "SmsFlowRequestTimeoutError",
    "SmsFlowServerError",
    "SmsFlowUnexpectedResponseError",
    "SmsFlowValidationError",
    "SmsSegments",
    "SqliteLedger",
    "Token",
    "TokenStore",
    "UNSET",
    "Unset",
    "__version__",
    "destination_problem",
    "normalize_destination",
    "segments",
]
