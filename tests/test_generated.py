"""The spec is valid and complete, and generated/smsflow_api is exactly what it generates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
GENERATED = ROOT / "generated" / "smsflow_api"
CHECK = ROOT / "scripts" / "check-generated"
ERROR_SCHEMA = "#/components/schemas/ErrorResponse"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def check_generated(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/check-generated with this venv's generator and ruff."""
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(CHECK), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The loaded spec document."""
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return loaded


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation of the spec."""
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref (one level is all the spec uses)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    resolved: dict[str, Any] = target
    return resolved


def test_committed_client_matches_the_spec() -> None:
    """scripts/check-generated passes on the repository as committed."""
    result = check_generated()
    assert result.returncode == 0, result.stdout + result.stderr


def test_hand_edit_is_caught(tmp_path: Path) -> None:
    """A hand edit of a generated file makes scripts/check-generated fail."""
    copy = tmp_path / "smsflow_api"
    shutil.copytree(GENERATED, copy, ignore=shutil.ignore_patterns("__pycache__", ".*_cache"))
    target = copy / "api" / "balance" / "get_balance.py"
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


def test_spec_is_a_valid_openapi_document(spec: dict[str, Any]) -> None:
    """The spec validates as OpenAPI (raises on any structural error)."""
    validate(spec)
    assert spec["openapi"].startswith("3.")


def test_every_operation_has_an_id_and_tags(spec: dict[str, Any]) -> None:
    """Each operation has an operationId (the generated function name) and a tag (its module)."""
    ops = operations(spec)
    assert {"get_token", "send_messages", "get_balance"} == {
        op.get("operationId") for *_, op in ops
    }
    assert [(path, method) for path, method, op in ops if not op.get("tags")] == []


def test_every_error_response_uses_the_one_error_schema(spec: dict[str, Any]) -> None:
    """Every non-2xx response of every operation is the ErrorResponse body."""
    wrong = []
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if str(status).startswith("2"):
                continue
            schema = (
                resolve(spec, response)
                .get("content", {})
                .get("application/json", {})
                .get("schema", {})
            )
            if schema.get("$ref") != ERROR_SCHEMA:
                wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


def test_every_operation_documents_its_success_body(spec: dict[str, Any]) -> None:
    """Each operation documents a 200 JSON body."""
    missing = [
        op["operationId"]
        for *_, op in operations(spec)
        if "schema"
        not in op["responses"].get("200", {}).get("content", {}).get("application/json", {})
    ]
    assert missing == []


def test_429_documents_retry_after(spec: dict[str, Any]) -> None:
    """Every 429 response documents the Retry-After header the clients honour."""
    missing = [
        op["operationId"]
        for *_, op in operations(spec)
        if "Retry-After" not in resolve(spec, op["responses"]["429"]).get("headers", {})
    ]
    assert missing == []


def test_bearer_and_basic_security(spec: dict[str, Any]) -> None:
    """The token call is HTTP Basic; every other call is a bearer token."""
    security = {op["operationId"]: op["security"] for *_, op in operations(spec)}
    assert security == {
        "get_token": [{"basicAuth": []}],
        "send_messages": [{"bearerAuth": []}],
        "get_balance": [{"bearerAuth": []}],
    }
