"""Every Python example in README.md runs as written, against the sandbox's loopback server
with the environment the README's "Running the examples" section sets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from examples_runner import ROOT, python_blocks, run_example

from smsflow.testing import Sandbox, SandboxServer

BLOCKS = python_blocks(ROOT / "README.md")


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One loopback sandbox with plenty of credit for every example."""
    with SandboxServer(Sandbox(balance=10_000_000.0)) as srv:
        yield srv


def test_the_readme_has_examples() -> None:
    """The README keeps its runnable examples (sync and async quick start, the sandbox)."""
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, server: SandboxServer, tmp_path: Path) -> None:
    """README example number `index` exits 0 (a pytest example passes under pytest)."""
    code = BLOCKS[index]
    done = run_example(code, server, tmp_path)
    assert 0 == done.returncode, f"example {index}:\n{code}\n--- stderr:\n{done.stderr[-3000:]}"
