"""Every JSON key the handwritten code and guides spell is a property name of the spec.

A renamed field (``remainingBalance`` -> ``remainingCredits`` in spec/openapi.yaml) leaves the
old name in places no typed check reaches: test helpers that build answers, benchmark workloads,
README and guide examples. This test reads every handwritten Python file (with ``ast``) and the
``python``/``json`` blocks and inline code of README.md and docs/, collects each string used as
a dict key, a subscript, a ``.get``/``.pop``/``.setdefault`` key, an ``in`` test or a keyword of
``dict()``/``.update()``, and fails on each one that looks like the API's JSON but is not a
property name in the spec, naming the key, the file and the line.

"Looks like the API's JSON": camelCase with a lowercase-to-uppercase hump (``eventId``), or a
spec property's name in another letter case (``Balance``, ``EVENTID``). Snake_case keys (our
own journals and ledgers), header names and PascalCase words are not checked.
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final, NamedTuple

import pytest
from spec_facts import ROOT, component_names, property_names

import smsflow
import smsflow.testing

#: Folders of handwritten Python (generated/ is the generator's, and held to the spec by it).
PYTHON_DIRS: Final = ("smsflow", "tests", "benchmarks", "scripts", "examples")
FIX: Final = (
    "not a property in spec/openapi.yaml: rename it or add it to the allowlist with a reason"
)

#: Keys that are deliberately not the API's JSON. Keep it short; every entry says why.
ALLOWED: Final[dict[str, str]] = {
    # OpenAPI's own keywords, read by code that walks spec/openapi.yaml (tests, docs scripts).
    "additionalProperties": "OpenAPI keyword",
    "allOf": "OpenAPI keyword",
    "maxItems": "OpenAPI keyword",
    "maxLength": "OpenAPI keyword",
    "minItems": "OpenAPI keyword",
    "minLength": "OpenAPI keyword",
    "operationId": "OpenAPI keyword",
    "requestBody": "OpenAPI keyword",
    "securitySchemes": "OpenAPI keyword",
    # Fields the spec does not have, on purpose: the tolerant reader keeps unknown fields.
    "notInTheSpec": "an answer field the spec does not know (tolerant-reader tests)",
    "requestId": "an answer field the spec does not know (tolerant-reader tests)",
}
#: Files (glob patterns) that spell spec keys in other letter cases on purpose.
CASE_TWINS_ALLOWED_IN: Final[dict[str, str]] = {
    "tests/sandbox/test_aspnet_*.py": "ASP.NET binds JSON keys case-insensitively",
}

_LOWER_CAMEL: Final = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")
_IDENTIFIER: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_FENCE: Final = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_INLINE: Final = re.compile(r"`([^`\n]+)`")
_KEY_METHODS: Final = frozenset({"get", "pop", "setdefault"})


class KeyUse(NamedTuple):
    """One string used as a JSON-like key: the key, its file (from the repo root), its line."""

    key: str
    file: str
    line: int


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def keys_in(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """(key, line) of each string used as a key anywhere in ``tree``."""
    for node in ast.walk(tree):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.Dict):
            found = list(node.keys)
        elif isinstance(node, ast.Subscript):
            found = [node.slice]
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
            found = [node.left]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _KEY_METHODS and node.args:
                found = [node.args[0]]
            is_dict = isinstance(func, ast.Name) and func.id == "dict"
            if is_dict or (isinstance(func, ast.Attribute) and func.attr == "update"):
                for keyword in node.keywords:
                    if keyword.arg is not None:
                        yield keyword.arg, keyword.value.lineno
        for expr in found:
            key = _text(expr)
            if key is not None and expr is not None:
                yield key, expr.lineno


def python_uses(path: Path) -> Iterator[KeyUse]:
    """Every key used in the Python file ``path``."""
    name = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text("utf-8"), filename=name)
    for key, line in keys_in(tree):
        yield KeyUse(key, name, line)


def markdown_uses(name: str, text: str) -> Iterator[KeyUse]:
    """Every key in the ``python``/``json`` blocks and the inline code of a Markdown text.

    A ``python``/``json`` block that does not parse is reported as the key ``<unparsable>``.
    """
    for block in _FENCE.finditer(text):
        if block.group(1) not in {"python", "py", "json"}:
            continue
        first = text.count("\n", 0, block.start(2)) + 1
        try:  # JSON is a Python expression as far as ast is concerned (true is a Name)
            tree = ast.parse(block.group(2))
        except SyntaxError:
            yield KeyUse("<unparsable>", name, first)
            continue
        for key, line in keys_in(tree):
            yield KeyUse(key, name, first + line - 1)
    prose = _FENCE.sub(lambda block: "\n" * block.group(0).count("\n"), text)
    for span in _INLINE.finditer(prose):
        try:
            tree = ast.parse(span.group(1), mode="eval")
        except SyntaxError:
            continue  # most inline code is not Python
        for key, _ in keys_in(tree):
            yield KeyUse(key, name, prose.count("\n", 0, span.start()) + 1)


@functools.cache
def all_python_uses() -> list[KeyUse]:
    """Key uses of every handwritten Python file."""
    return [
        use
        for folder in PYTHON_DIRS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for use in python_uses(path)
    ]


@functools.cache
def all_markdown_uses() -> list[KeyUse]:
    """Key uses of README.md and every page under docs/."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [
        use
        for page in pages
        for use in markdown_uses(page.relative_to(ROOT).as_posix(), page.read_text("utf-8"))
    ]


def public_names() -> frozenset[str]:
    """The SDK's public Python names (class names, not JSON keys)."""
    return frozenset(smsflow.__all__) | frozenset(smsflow.testing.__all__)


def stale(uses: Iterable[KeyUse], properties: frozenset[str]) -> list[str]:
    """A message for each use that looks like API JSON and is not a spec property."""
    twins = {name.lower() for name in properties}
    known = properties | component_names() | public_names() | ALLOWED.keys()
    found = []
    for use in uses:
        if use.key == "<unparsable>":
            found.append(f"{use.file}:{use.line}: this block does not parse; fix it or untag it")
            continue
        if not _IDENTIFIER.fullmatch(use.key) or use.key in known:
            continue
        twin = use.key.lower() in twins
        if twin and any(fnmatch.fnmatchcase(use.file, glob) for glob in CASE_TWINS_ALLOWED_IN):
            continue
        if twin or _LOWER_CAMEL.fullmatch(use.key):
            found.append(f"{use.file}:{use.line}: key {use.key!r} {FIX}")
    return found


def test_python_keys_are_spec_properties() -> None:
    """Every API-looking key of the handwritten Python (PYTHON_DIRS) is in the spec."""
    problems = stale(all_python_uses(), property_names())
    assert [] == problems, "\n".join(problems)


def test_guide_keys_are_spec_properties() -> None:
    """Every API-looking key in README.md and docs/ examples is in the spec."""
    problems = stale(all_markdown_uses(), property_names())
    assert [] == problems, "\n".join(problems)


def test_allowlist_is_current() -> None:
    """Each allowlisted key is still used and still not a spec property (else remove it)."""
    used = {use.key for use in all_python_uses() + all_markdown_uses()}
    unused = sorted(ALLOWED.keys() - used)
    in_spec = sorted(ALLOWED.keys() & property_names())
    assert ([], []) == (unused, in_spec), (
        "tests/test_spec_names.py ALLOWED: remove keys no file uses, and keys the spec now has"
    )
    assert all(any(ROOT.glob(pattern)) for pattern in CASE_TWINS_ALLOWED_IN)


@pytest.mark.parametrize(
    "name", sorted(name for name in property_names() if _LOWER_CAMEL.fullmatch(name))
)
def test_a_renamed_property_names_every_place_that_spells_it(name: str) -> None:
    """Renaming a property in the spec names each file and line that still spells it."""
    uses = all_python_uses() + all_markdown_uses()
    spelled = [f"{use.file}:{use.line}: key {name!r} {FIX}" for use in uses if use.key == name]
    renamed = (property_names() - {name}) | {name + "Renamed"}
    named = [problem for problem in stale(uses, renamed) if f" key {name!r} " in problem]
    assert sorted(spelled) == sorted(named)


#: The property names the samples below are checked against (not the spec's: they must not move).
SAMPLE_PROPERTIES: Final = frozenset(
    {"eventId", "sendResponse", "costBreakdown", "campaignName", "checkOptOuts", "statusCode"}
)
SAMPLE: Final = """\
answer = {"eventId": 1, "event_id": 2, "Retry-After": "3"}
answer["remainingCredits"]
answer.get("costBreakdwon")
"sendresponse" in answer
dict(campaignNames=1)
answer.update(checkOptOut=True)
answer["SmsFlowClient"]
"""


def test_each_key_position_is_checked() -> None:
    """Dict keys, subscripts, get, in, dict() and update() keywords are read, by line; snake_case,
    header names and PascalCase words are not API keys."""
    uses = [KeyUse(key, "x.py", line) for key, line in keys_in(ast.parse(SAMPLE))]
    problems = stale(uses, SAMPLE_PROPERTIES)
    expected = [
        ("remainingCredits", 2),
        ("costBreakdwon", 3),
        ("sendresponse", 4),
        ("campaignNames", 5),
        ("checkOptOut", 6),
    ]
    assert sorted(f"x.py:{line}: key {key!r} {FIX}" for key, line in expected) == sorted(problems)


def test_markdown_blocks_and_inline_code_are_checked() -> None:
    """python and json blocks and inline code are read, with the page's line numbers."""
    page = (
        "# Guide\n\n"  # lines 1-2
        '```json\n{"statusCode": 200, "sendResponse": {"eventID": 1}}\n```\n\n'  # 3-6
        "Read `result['sendResponse']['batchNo']` or run `pip install x`.\n\n"  # 7-8
        "```sh\ncurl -d '{\"remainingCredit\": 1}'\n```\n"  # 9-11: not checked
        '```python\nx = 1\nbody = {\n    "costBreakDown": 1}\n```\n'  # 12-16
        "```python\n>>> broken(\n```\n"  # 17-19
    )
    problems = stale(markdown_uses("guide.md", page), SAMPLE_PROPERTIES)
    assert [
        f"guide.md:4: key 'eventID' {FIX}",
        f"guide.md:15: key 'costBreakDown' {FIX}",
        "guide.md:18: this block does not parse; fix it or untag it",
        f"guide.md:7: key 'batchNo' {FIX}",
    ] == problems
