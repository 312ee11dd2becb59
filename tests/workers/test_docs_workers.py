"""docs/workers.md: every untitled Python block runs against the sandbox server, with the
page's Redis URL pointed at the test's redis-server (included example files have their own
tests: test_celery_proof.py, test_rq_app.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsflow.testing import Sandbox, SandboxServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from examples_runner import python_blocks, run_example  # noqa: E402

PAGE = ROOT / "docs" / "workers.md"
BLOCKS = python_blocks(PAGE)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox(balance=10_000_000.0, record_messages=False)) as srv:
        yield srv


def test_the_page_has_its_examples() -> None:
    """Ledger, bulk keys, token store, rate limit and the shard pool."""
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_workers_page_example_runs(
    index: int, server: SandboxServer, redis_url: str, tmp_path: Path
) -> None:
    """Example number `index` of docs/workers.md exits 0."""
    code = BLOCKS[index].replace("redis://127.0.0.1:6379/0", redis_url)
    done = run_example(code, server, tmp_path)
    assert 0 == done.returncode, f"example {index}:\n{code}\n--- {done.stderr[-3000:]}"
