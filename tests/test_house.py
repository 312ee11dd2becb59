"""House rules of the public surface: declared attributes, typed signatures, a clean ``dir``,
and ``import smsflow`` without the bulk machinery."""

from __future__ import annotations

import ast
import inspect
import pickle
import subprocess
import sys

import smsflow


def test_before_request_is_a_declared_attribute_that_survives_pickling() -> None:
    """Every SmsFlowError says whether it failed before its request was sent (False unless
    given), and keeps it through pickling (errors cross process boundaries in task queues)."""
    error = smsflow.SmsFlowNetworkError("no route", code="CONNECT_FAILED", before_request=True)
    assert (False, True) == (smsflow.SmsFlowError("x").before_request, error.before_request)
    assert pickle.loads(pickle.dumps(error)).before_request is True  # noqa: S301 - our own
    assert "before_request" in smsflow.SmsFlowError.__init__.__annotations__


def test_dir_lists_the_public_names_not_the_future_import() -> None:
    """``dir(smsflow)`` shows the public API (lazy names included), not ``annotations``."""
    assert "annotations" not in dir(smsflow)
    assert set(smsflow.__all__) <= set(dir(smsflow))


def test_import_smsflow_leaves_the_bulk_machinery_unloaded() -> None:
    """A script that sends one SMS loads no bulk engine, journal, rate gate or thread pool,
    nor the ledgers and Redis stores, nor attrs and the generated client before its first
    call; the names still import from smsflow on first use."""
    code = (
        "import sys, smsflow\n"
        "print(sorted(m for m in sys.modules if m.startswith(('smsflow', 'concurrent', 'attr'))))\n"
        "from smsflow import BulkProgress, BulkRun, MessageOutcome, RedisTokenStore\n"
    )
    done = subprocess.run(  # noqa: S603 - a fixed command
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    heavy = {
        "attr",
        "attrs",
        "smsflow_api",
        "concurrent.futures",
        "smsflow._bulk",
        "smsflow._bulk_run",
        "smsflow._bulk_types",
        "smsflow._journal",
        "smsflow._rate",
        "smsflow._ledger_sqlite",
        "smsflow._ledger_redis",
        "smsflow._ledger_postgres",
        "smsflow._redis_tokens",
        "smsflow._redis_rate",
    }
    assert set() == heavy & set(ast.literal_eval(done.stdout))


def test_client_constructors_spell_out_every_keyword() -> None:
    """IDEs and type checkers see every constructor keyword: no ``**options``; every argument
    SmsFlowClient documents is a parameter of both clients, and every parameter is annotated."""
    doc = inspect.getdoc(smsflow.SmsFlowClient) or ""
    args = doc.split("Args:")[1].split("Raises:")[0].splitlines()
    documented = {line.split(":")[0].strip() for line in args if line[:5].strip() and ":" in line}
    for cls in (smsflow.SmsFlowClient, smsflow.AsyncSmsFlowClient):
        params = inspect.signature(cls.__init__).parameters
        assert inspect.Parameter.VAR_KEYWORD not in {p.kind for p in params.values()}, cls
        assert set() == documented - set(params), cls
        assert [] == [n for n, p in params.items() if n != "self" and p.annotation is p.empty]
