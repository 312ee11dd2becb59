"""The SQLite idempotency ledger (stdlib ``sqlite3``): the embedded default for one machine.

One file, shared by every process on the machine (threads, a process pool, task-queue workers
on one host). Each claim is one ``BEGIN IMMEDIATE`` transaction, so two processes racing on a
key are serialised by SQLite's write lock. Not for network filesystems: use Redis or
PostgreSQL when workers run on several machines.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._ledger import DEFAULT_LEASE_S, DEFAULT_TTL_S, Change, Ledger, LedgerEntry

__all__ = ["SqliteLedger"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS smsflow_ledger ("
    " key TEXT PRIMARY KEY, entry TEXT NOT NULL, expires_at REAL NOT NULL)"
)
_PURGE_EVERY = 1000  # writes between deletions of expired keys


class SqliteLedger(Ledger):
    """An idempotency ledger in a SQLite file (created owner-only if missing).

    Args:
        path: The database file (for instance ``"smsflow-ledger.sqlite3"``).
        ttl_s: Seconds a key is remembered (default 7 days).
        lease_s: Seconds an unsettled claim counts as in flight (default 300).
        clock: Seconds since the epoch (injectable for tests).
        busy_timeout_s: How long (s) a write waits for another process's lock.

    Raises:
        SmsFlowValidationError: an invalid setting.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        ttl_s: float = DEFAULT_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], float] | None = None,
        busy_timeout_s: float = 30.0,
    ) -> None:
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        super().__init__(ttl_s=ttl_s, lease_s=lease_s, **extra)
        self.path = Path(path)
        self._busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._writes = 0

    def __repr__(self) -> str:
        return f"SqliteLedger({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # never reuse one across a fork
            if not self.path.exists():
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o600)
                os.close(fd)
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout_s,
                isolation_level=None,  # we issue BEGIN ourselves
                check_same_thread=False,  # guarded by self._lock
            )
            try:
                self._set_up(conn)
            except BaseException:
                conn.close()
                raise
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _set_up(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the table. Switching a new file to WAL answers "database is locked"
        at once, without SQLite's busy handler, while another process is switching it too:
        that is retried every 10 ms for up to ``busy_timeout_s``."""
        deadline = time.monotonic() + self._busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def _update(self, key: str, change: Change) -> None:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT entry FROM smsflow_ledger WHERE key = ?", (key,)
                ).fetchone()
                current = None if row is None else LedgerEntry.from_json(row[0])
                new = change(current)
                if new is None and current is not None:
                    conn.execute("DELETE FROM smsflow_ledger WHERE key = ?", (key,))
                elif new is not None and new is not current:
                    conn.execute(
                        "INSERT INTO smsflow_ledger (key, entry, expires_at) VALUES (?, ?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET entry = excluded.entry, "
                        "expires_at = excluded.expires_at",
                        (key, new.to_json(), new.expires_at),
                    )
                self._writes += 1
                if self._writes % _PURGE_EVERY == 0:
                    conn.execute("DELETE FROM smsflow_ledger WHERE expires_at <= ?", (self.now(),))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _read(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = (
                self._connection()
                .execute("SELECT entry FROM smsflow_ledger WHERE key = ?", (key,))
                .fetchone()
            )
        return None if row is None else LedgerEntry.from_json(row[0])

    def close(self) -> None:
        """Close the connection (reopened on next use)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
