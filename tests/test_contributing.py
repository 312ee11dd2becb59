"""CONTRIBUTING.md's module map matches the code: no stale names, no module left out."""

from __future__ import annotations

import re

from examples_runner import ROOT


def test_module_map_lists_exactly_the_package_modules() -> None:
    """Every module in smsflow/ and smsflow/testing/ has a row, and every row's module exists."""
    text = (ROOT / "CONTRIBUTING.md").read_text("utf-8")
    mapped = set(re.findall(r"^\| `(smsflow/[\w/]+\.py)` \|", text, re.M))
    on_disk = {
        p.relative_to(ROOT).as_posix()
        for folder in ("smsflow", "smsflow/testing")
        for p in (ROOT / folder).glob("*.py")
    }
    assert set() == mapped - on_disk, "CONTRIBUTING.md names modules that do not exist"
    assert set() == on_disk - mapped, "modules missing from CONTRIBUTING.md's module map"
