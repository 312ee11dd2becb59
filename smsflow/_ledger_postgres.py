"""The PostgreSQL idempotency ledger (``pip install smsflow[postgres]``, psycopg 3).

One table (created if missing); each claim is one transaction that inserts the key's row if
absent, then locks it (``SELECT ... FOR UPDATE``), so racing processes are serialised by the
row lock. psycopg is imported when the ledger is created, never by ``import smsflow``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from ._errors import SmsFlowValidationError
from ._ledger import DEFAULT_LEASE_S, DEFAULT_TTL_S, Change, Ledger, LedgerEntry
from ._redis_common import missing_extra

__all__ = ["PostgresLedger"]


class PostgresLedger(Ledger):
    """An idempotency ledger in a PostgreSQL table.

    Args:
        conninfo: A libpq connection string or URL (``"postgresql://user@host/db"``).
        table: The table's name (letters, digits and ``_``; default ``smsflow_ledger``).
        ttl_s: Seconds a key is remembered (default 7 days).
        lease_s: Seconds an unsettled claim counts as in flight (default 300).
        clock: Seconds since the epoch (injectable for tests).

    Raises:
        SmsFlowValidationError: an invalid setting, or psycopg is not installed
            (code ``MISSING_EXTRA``: ``pip install smsflow[postgres]``).
    """

    def __init__(
        self,
        conninfo: str,
        *,
        table: str = "smsflow_ledger",
        ttl_s: float = DEFAULT_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        clock: Callable[[], float] | None = None,
    ) -> None:
        extra: dict[str, Any] = {} if clock is None else {"clock": clock}
        super().__init__(ttl_s=ttl_s, lease_s=lease_s, **extra)
        try:
            import psycopg  # noqa: F401 - checked here, used on connect
        except ImportError:
            raise missing_extra("postgres", "psycopg 3") from None
        if not table.replace("_", "").isalnum() or not table.isascii():
            raise SmsFlowValidationError(
                "table must be letters, digits and _", code="INVALID_SETTING"
            )
        self._conninfo = conninfo
        self._table = table
        self._lock = threading.Lock()
        self._conn: Any = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"PostgresLedger(table={self._table!r})"  # the conninfo may hold a password

    def _connection(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed or self._pid != os.getpid():
            conn = psycopg.connect(self._conninfo, autocommit=False)
            with conn.transaction():  # CREATE IF NOT EXISTS races: serialise it
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._table,))
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {self._table} ("
                    " key TEXT PRIMARY KEY, entry TEXT, expires_at DOUBLE PRECISION)"
                )
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _update(self, key: str, change: Change) -> None:
        table = self._table
        with self._lock:
            conn = self._connection()
            try:
                with conn.transaction():
                    conn.execute(
                        f"INSERT INTO {table} (key, entry, expires_at) VALUES (%s, NULL, 0) "  # noqa: S608
                        "ON CONFLICT (key) DO NOTHING",
                        (key,),
                    )
                    row = conn.execute(
                        f"SELECT entry FROM {table} WHERE key = %s FOR UPDATE",  # noqa: S608
                        (key,),
                    ).fetchone()
                    current = None if row[0] is None else LedgerEntry.from_json(row[0])
                    new = change(current)
                    if new is None:
                        conn.execute(f"DELETE FROM {table} WHERE key = %s", (key,))  # noqa: S608
                    elif new is not current:
                        conn.execute(
                            f"UPDATE {table} SET entry = %s, expires_at = %s "  # noqa: S608
                            "WHERE key = %s",
                            (new.to_json(), new.expires_at, key),
                        )
            except BaseException:
                if conn.closed or conn.broken:
                    self._conn = None
                raise

    def _read(self, key: str) -> LedgerEntry | None:
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                row = conn.execute(
                    f"SELECT entry FROM {self._table} WHERE key = %s",  # noqa: S608
                    (key,),
                ).fetchone()
        return None if row is None or row[0] is None else LedgerEntry.from_json(row[0])

    def purge(self) -> int:
        """Delete expired keys now; returns how many. (Claims reuse expired keys anyway.)"""
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                cur = conn.execute(
                    f"DELETE FROM {self._table} WHERE expires_at <= %s",  # noqa: S608
                    (self.now(),),
                )
                return int(cur.rowcount)

    def close(self) -> None:
        """Close the connection (reopened on next use)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None
