"""Every Python example in README.md runs as written, against the sandbox's loopback server
with the environment the README's "Running the examples" section sets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsflow.testing import Sandbox, SandboxServer

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One loopback sandbox with plenty of credit for every example."""
    with SandboxServer(Sandbox(balance=10_000_000.0)) as srv:
        yield srv


def test_the_readme_has_examples() -> None:
    """The README keeps its runnable examples (quick start, async, threads, bulk, sandbox...)."""
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, server: SandboxServer, tmp_path: Path) -> None:
    """README example number `index` exits 0 (a pytest example passes under pytest)."""
    code = BLOCKS[index]
    env = {
        **os.environ,
        "SMSFLOW_BASE_URL": server.url,
        "SMSFLOW_CLIENT_ID": "sandbox-client",
        "SMSFLOW_CLIENT_SECRET": "sandbox-secret",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT / "tests" / "readme_stubs"),
    }
    script = tmp_path / ("test_example.py" if "\ndef test_" in "\n" + code else "example.py")
    script.write_text(code, "utf-8")
    if script.name.startswith("test_"):
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        argv = [sys.executable, str(script)]
    done = subprocess.run(  # noqa: S603 - the README's own examples
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert 0 == done.returncode, f"example {index}:\n{code}\n--- stderr:\n{done.stderr[-3000:]}"
