"""The limits and defaults of ``send_bulk``'s settings, importable without the bulk machinery
(the clients' signatures show them; the bulk modules load on the first ``send_bulk``)."""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_RETRIES",
    "MAX_CONCURRENCY",
    "MAX_RETRIES",
]

DEFAULT_BATCH_SIZE: Final = 500  # the spec's decision; the API's own limit is unknown
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_RETRIES: Final = 5
MAX_CONCURRENCY: Final = 100
MAX_RETRIES: Final = 100
