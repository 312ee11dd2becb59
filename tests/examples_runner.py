"""Runs the Python blocks of a Markdown page as a reader would: each block is a script (or,
when it defines ``test_`` functions, a pytest file) run in a fresh process, against a loopback
sandbox, with the environment the pages' "Running the examples" note sets."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from smsflow.testing import SandboxServer

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(page: Path) -> list[str]:
    """The ```python blocks of ``page`` (blocks with a title, i.e. included files, excluded)."""
    return re.findall(r"```python\n(.*?)```", page.read_text("utf-8"), re.S)


def run_example(
    code: str, server: SandboxServer, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    """Run one block in ``tmp_path`` with the sandbox's URL and test credentials."""
    env = {
        **os.environ,
        "SMSFLOW_BASE_URL": server.url,
        "SMSFLOW_CLIENT_ID": "sandbox-client",
        "SMSFLOW_CLIENT_SECRET": "sandbox-secret",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    script = tmp_path / ("test_example.py" if "\ndef test_" in "\n" + code else "example.py")
    script.write_text(code, "utf-8")
    if script.name.startswith("test_"):
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
    else:
        argv = [sys.executable, str(script)]
    return subprocess.run(  # noqa: S603 - the documentation's own examples
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
