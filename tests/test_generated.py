"""The spec is valid and complete, and generated/smsflow_api is exactly what it generates."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from spec_facts import OPERATION_IDS, OPERATIONS, SPEC, resolve

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "generated" / "smsflow_api"
CHECK = ROOT / "scripts" / "check-generated"
ERROR_SCHEMA = "#/components/schemas/ErrorResponse"
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def check_generated(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/check-generated with this venv's generator and ruff."""
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(CHECK), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_committed_client_matches_the_spec() -> None:
    """scripts/check-generated passes on the repository as committed."""
    result = check_generated()
    assert result.returncode == 0, result.stdout + result.stderr


def test_hand_edit_is_caught(tmp_path: Path) -> None:
    """A hand edit of a generated file makes scripts/check-generated fail."""
    copy = tmp_path / "smsflow_api"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__", ".*_cache"))
    _, _, op = OPERATIONS[0]
    target = copy / "api" / op["tags"][0] / f"{op['operationId']}.py"
    target.write_text(target.read_text(encoding="utf-8") + "\n# hand edit\n", encoding="utf-8")
    result = check_generated(str(copy))
    assert result.returncode == 1
    assert "differs" in result.stderr


def test_stray_file_is_caught(tmp_path: Path) -> None:
    """A file the generator does not write makes scripts/check-generated fail."""
    copy = tmp_path / "smsflow_api"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__", ".*_cache"))
    (copy / "models" / "extra.py").write_text("X = 1\n", encoding="utf-8")
    result = check_generated(str(copy))
    assert result.returncode == 1


def test_spec_is_a_valid_openapi_document() -> None:
    """The spec validates as OpenAPI (raises on any structural error)."""
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.")


def test_operation_ids_are_unique_snake_case() -> None:
    """Each operation has an operationId: snake_case (the generated module and function name)
    and unique (two operations cannot share a module)."""
    ids = [op.get("operationId") for *_, op in OPERATIONS]
    bad = [
        f"{method.upper()} {path}: operationId {op.get('operationId')!r}"
        for path, method, op in OPERATIONS
        if not isinstance(op.get("operationId"), str) or not SNAKE.fullmatch(op["operationId"])
    ]
    assert [] == bad, "spec/openapi.yaml: give these operations a snake_case operationId"
    assert sorted(set(ids)) == sorted(ids), f"spec/openapi.yaml: duplicate operationIds in {ids}"


def test_every_operation_has_one_declared_tag() -> None:
    """Each operation has exactly one tag (its generated package), declared under `tags`."""
    declared = {tag["name"] for tag in SPEC.get("tags", [])}
    bad = [
        f"{op.get('operationId')}: tags {op.get('tags')!r}"
        for *_, op in OPERATIONS
        if len(op.get("tags") or []) != 1 or op["tags"][0] not in declared
    ]
    assert [] == bad, f"spec/openapi.yaml: one tag per operation, from {sorted(declared)}"


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=OPERATION_IDS)
def test_every_operation_has_a_generated_endpoint_module(
    path: str, method: str, op: dict[str, Any]
) -> None:
    """smsflow_api/api/<tag>/<operationId>.py offers sync, asyncio and their _detailed forms."""
    module_name = f"smsflow_api.api.{op['tags'][0]}.{op['operationId']}"
    where = f"generated/{module_name.replace('.', '/')}.py"
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        pytest.fail(f"{op['operationId']}: {where} is missing: run scripts/regenerate")
    for name in ("sync", "sync_detailed"):
        assert callable(getattr(module, name, None)), f"{where}: no {name}(); regenerate"
    for name in ("asyncio", "asyncio_detailed"):
        assert inspect.iscoroutinefunction(getattr(module, name, None)), (
            f"{where}: no async {name}(); regenerate"
        )


def test_every_generated_endpoint_module_is_an_operation() -> None:
    """No endpoint module is left over from an operation the spec no longer has."""
    expected = {f"{op['tags'][0]}/{op['operationId']}.py" for *_, op in OPERATIONS}
    found = {
        f"{module.parent.name}/{module.name}"
        for module in (GENERATED / "api").glob("*/*.py")
        if module.name != "__init__.py"
    }
    assert set() == found - expected, "stale generated modules: run scripts/regenerate"


def test_every_error_response_uses_the_one_error_schema() -> None:
    """Every non-2xx response of every operation is the ErrorResponse body."""
    wrong = []
    for path, method, op in OPERATIONS:
        for status, response in op["responses"].items():
            if str(status).startswith("2"):
                continue
            schema = (
                resolve(response).get("content", {}).get("application/json", {}).get("schema", {})
            )
            if schema.get("$ref") != ERROR_SCHEMA:
                wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


def test_every_operation_documents_its_success_body() -> None:
    """Each operation documents a 200 JSON body."""
    missing = [
        op["operationId"]
        for *_, op in OPERATIONS
        if "schema"
        not in op["responses"].get("200", {}).get("content", {}).get("application/json", {})
    ]
    assert missing == []


def test_429_documents_retry_after() -> None:
    """Every 429 response documents the Retry-After header the clients honour."""
    missing = [
        op["operationId"]
        for *_, op in OPERATIONS
        if "Retry-After" not in resolve(op["responses"]["429"]).get("headers", {})
    ]
    assert missing == []


def test_bearer_and_basic_security() -> None:
    """The token call (the clients' authenticate()) is HTTP Basic; every other call is a
    bearer token, as the clients send them."""
    security = {op["operationId"]: op.get("security") for *_, op in OPERATIONS}
    expected = {
        op["operationId"]: [{"basicAuth": []}]
        if op.get("x-smsflow-method") == "authenticate"
        else [{"bearerAuth": []}]
        for *_, op in OPERATIONS
    }
    assert expected == security
    assert 1 == sum(s == [{"basicAuth": []}] for s in security.values()), "one token call"
