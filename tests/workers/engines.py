"""Make a ledger of each engine from a plain description (picklable, for child processes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smsflow import Ledger, PostgresLedger, RedisLedger, SqliteLedger


def make_ledger(
    engine: str, where: str, clock: Callable[[], float] | None = None, **options: Any
) -> Ledger:
    if clock is not None:
        options["clock"] = clock
    if engine == "sqlite":
        return SqliteLedger(where, **options)
    if engine == "redis":
        return RedisLedger(where, **options)
    if engine == "postgres":
        return PostgresLedger(where, **options)
    raise ValueError(engine)
