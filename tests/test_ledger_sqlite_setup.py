"""SqliteLedger on a file another process is switching to WAL at the same moment.

SQLite answers ``PRAGMA journal_mode=WAL`` with "database is locked" at once (no busy
handler) while another connection switches the same new file; two workers starting together
hit it (seen in tests/workers/test_ledger.py's race). The ledger retries that set-up instead
of failing the first claim with LEDGER_UNAVAILABLE.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from smsflow import SqliteLedger


class _LockedOnce:
    """A connection whose first ``PRAGMA journal_mode=WAL`` answers "database is locked"."""

    def __init__(self, conn: sqlite3.Connection, refusals: list[str]) -> None:
        self._conn = conn
        self._refusals = refusals

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "PRAGMA journal_mode=WAL" and not self._refusals:
            self._refusals.append(sql)
            raise sqlite3.OperationalError("database is locked")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_a_locked_wal_switch_is_retried_not_a_failed_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect
    refusals: list[str] = []

    def connect(*args: Any, **kwargs: Any) -> Any:
        return _LockedOnce(real_connect(*args, **kwargs), refusals)

    monkeypatch.setattr("smsflow._ledger_sqlite.sqlite3.connect", connect)
    waits: list[float] = []
    monkeypatch.setattr("smsflow._ledger_sqlite.time.sleep", waits.append)  # no real sleep
    ledger = SqliteLedger(tmp_path / "ledger.db")
    claim = ledger.claim("order-1001", "fingerprint")
    assert ["PRAGMA journal_mode=WAL"] == refusals  # the refusal happened, and was retried
    assert claim is not None
    assert [0.01] == waits  # one short wait before the retry
    assert (
        "wal"
        == sqlite3.connect(tmp_path / "ledger.db").execute("PRAGMA journal_mode").fetchone()[0]
    )
    ledger.close()
