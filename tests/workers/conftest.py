"""Fixtures: one real redis-server and one real PostgreSQL per test session (see servers.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import PostgresServer, RedisServer, postgres_server, redis_server


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_srv() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def redis_url(redis_srv: RedisServer) -> str:
    """The session's Redis, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_srv.url)
    client.flushall()
    client.close()
    return redis_srv.url


@pytest.fixture
def postgres_url(postgres_srv: PostgresServer) -> str:
    """The session's PostgreSQL, with the ledger table dropped before each test."""
    import psycopg

    with psycopg.connect(postgres_srv.url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS smsflow_ledger")
    return postgres_srv.url
