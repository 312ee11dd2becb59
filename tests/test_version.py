"""The version is written once (smsflow/_version.py): the build, ``smsflow.__version__``, the
User-Agent and ``smsflow --version`` all read it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import smsflow
from smsflow._config import USER_AGENT

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once() -> None:
    """Exactly one version literal in the package and pyproject, in smsflow/_version.py."""
    found = [
        (path.relative_to(ROOT).as_posix(), literal)
        for path in [*ROOT.joinpath("smsflow").rglob("*.py"), ROOT / "pyproject.toml"]
        for literal in re.findall(r"""["'](\d+\.\d+\.\d+)["']""", path.read_text("utf-8"))
    ]
    assert [("smsflow/_version.py", smsflow.__version__)] == found
    assert 'path = "smsflow/_version.py"' in (ROOT / "pyproject.toml").read_text("utf-8")


def test_user_agent_and_cli_report_the_version() -> None:
    """The User-Agent and ``smsflow --version`` carry ``smsflow.__version__``."""
    assert f"smsflow-python/{smsflow.__version__}" == USER_AGENT
    done = subprocess.run(
        [sys.executable, "-m", "smsflow", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert f"smsflow {smsflow.__version__}" == done.stdout.strip()
