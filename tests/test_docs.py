"""The documentation site: every Python example in the guides runs, and the HTTP reference
page (rendered at build time by scripts/mkdocs_http_reference.py) shows all of the spec."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from examples_runner import ROOT, python_blocks, run_example

from smsflow.testing import Sandbox, SandboxServer

# The guides whose examples this suite runs (pages owned by other issues have their own tests).
PAGES = ["index", "bulk", "threads", "tokens", "sandbox", "sms", "errors", "configuration"]
EXAMPLES = [
    (page, n) for page in PAGES for n in range(len(python_blocks(ROOT / f"docs/{page}.md")))
]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One loopback sandbox with plenty of credit for every example."""
    with SandboxServer(Sandbox(balance=10_000_000.0)) as srv:
        yield srv


def test_the_guides_have_examples() -> None:
    """The guides keep their runnable examples (quick start, async, threads, bulk, sandbox...)."""
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize(("page", "index"), EXAMPLES)
def test_guide_example_runs(page: str, index: int, server: SandboxServer, tmp_path: Path) -> None:
    """Example number `index` of docs/<page>.md exits 0 (a pytest example passes)."""
    code = python_blocks(ROOT / f"docs/{page}.md")[index]
    done = run_example(code, server, tmp_path)
    assert 0 == done.returncode, f"{page} example {index}:\n{code}\n--- {done.stderr[-3000:]}"


def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "mkdocs_http_reference", ROOT / "scripts" / "mkdocs_http_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_http_reference_shows_every_operation_status_and_schema() -> None:
    """Each path, method, operationId, response status and schema field of the spec is on the
    page, so a spec change shows up in the docs without anyone editing them."""
    module = hook()
    spec = module.load()
    page = module.render(spec)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert f"`{method.upper()} {path}`" in page
            assert f"`{op['operationId']}`" in page
            for status in op["responses"]:
                assert f"\n| {status} | " in page, (path, status)
    for name, schema in spec["components"]["schemas"].items():
        assert f"### {name}\n" in page
        for field in schema.get("properties", {}):
            assert f"| `{field}` |" in page, (name, field)


def test_http_reference_follows_a_spec_change() -> None:
    """A new operation and a new constraint in the spec appear on the rendered page."""
    module = hook()
    spec = module.load()
    spec["paths"]["/api/integration/DeliveryReports"] = {
        "get": {
            "operationId": "get_delivery_reports",
            "summary": "Delivery reports",
            "responses": {"200": {"description": "Reports."}},
        }
    }
    spec["components"]["schemas"]["Message"]["properties"]["content"]["maxLength"] = 918
    page = module.render(spec)
    assert "`GET /api/integration/DeliveryReports`" in page
    assert "length ≤ 918" in page
    assert "length ≤ 1600" not in page.split("### Message\n")[1].split("###")[0]


def test_mkdocs_config_runs_the_hook() -> None:
    """mkdocs.yml renders the HTTP reference through the hook and lists the page in its nav."""
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    assert "- scripts/mkdocs_http_reference.py" in config
    assert ": http.md" in config


def test_root_files_included_in_pages_keep_working_links() -> None:
    """SECURITY.md included in docs/security.md: its ``docs/x.md`` links become ``x.md``."""
    spec = importlib.util.spec_from_file_location(
        "mkdocs_repo_links", ROOT / "scripts" / "mkdocs_repo_links.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page = module.include_root_files(
        'Intro\n--8<-- "SECURITY.md"\n--8<-- "README.md:errors-table"\n'
    )
    security = (ROOT / "SECURITY.md").read_text("utf-8")
    assert security.split("\n", 1)[0] in page
    assert "](docs/" not in page
    assert ("](docs/" in security) == ("](hardening.md)" in page)
    assert page.endswith('--8<-- "README.md:errors-table"\n')  # sections are left to snippets
