"""docs/cli.md and the README's "Command line" section name every flag and every exit code."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from smsflow._cli_parser import EXIT_CODES, build_parser

ROOT = Path(__file__).resolve().parent.parent


def flags() -> set[str]:
    """Every long flag of the command and of its subcommands."""
    parser = build_parser()
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers.extend(action.choices.values())
    return {
        option
        for p in parsers
        for action in p._actions
        for option in action.option_strings
        if option.startswith("--")
    }


def readme_cli_section() -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    start = text.index("## Command line\n")
    return text[start : text.index("\n## ", start + 5)]


@pytest.mark.parametrize("where", ["docs/cli.md", "README.md"])
def test_every_flag_and_exit_code_is_documented(where: str) -> None:
    """A flag or exit code added to the parser must be added to both pages."""
    text = (ROOT / where).read_text("utf-8") if where != "README.md" else readme_cli_section()
    missing = sorted(f for f in flags() if not re.search(re.escape(f) + r"(?![\w-])", text))
    assert [] == missing
    assert [] == [code for code in EXIT_CODES if not re.search(rf"\b{code}\b", text)]
