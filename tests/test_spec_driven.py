"""Tests derived from spec/openapi.yaml, not from hand-kept lists.

A change to the spec (a field, an endpoint, a rename) fails here, and each failure names the
operation or field and the file to change. Every operation must have: a route in the wrapper
(learnt from the generated client), a sync and an async client method (named by the spec's
``x-smsflow-method``), a route in the sandbox, and a row in the README's endpoints table.
Every field of every 2xx answer must be a typed attribute of the result, and the sandbox must
answer with exactly the fields the spec names. See docs/changing-the-api.md.
"""

from __future__ import annotations

import ast
import base64
import inspect
import re
import sys
import typing
from typing import Any, Final

import attrs
import httpx
import pytest
import smsflow_api.models
import smsflow_api.types
from spec_facts import OPERATION_IDS, OPERATIONS, ROOT, attribute_name, resolve

import smsflow
from smsflow import AsyncSmsFlowClient, SmsFlowClient
from smsflow._wire import route
from smsflow.testing import Sandbox

IDS: Final = OPERATION_IDS
TYPING_TEST: Final = "tests/typing/test_public_api.py"
REGENERATE: Final = "run scripts/regenerate (generated/smsflow_api is stale)"


def _success_schema(operation: dict[str, Any]) -> dict[str, Any]:
    for status, answer in operation["responses"].items():
        if str(status).startswith("2"):
            return resolve(answer["content"]["application/json"]["schema"])
    raise AssertionError(f"{operation['operationId']}: the spec documents no 2xx answer")


def _hints(obj: Any) -> dict[str, Any]:
    home = getattr(obj, "__globals__", None) or vars(sys.modules[obj.__module__])
    namespace = {**home, **vars(smsflow_api.models), **vars(smsflow_api.types)}
    return typing.get_type_hints(obj, globalns=namespace)


def _model_in(hint: Any) -> type | None:
    """The generated model class a field's type holds (directly or as list items), if any."""
    for part in typing.get_args(hint) or (hint,):
        if typing.get_origin(part) is list:
            return _model_in(typing.get_args(part)[0])
        if isinstance(part, type) and attrs.has(part):
            return part
    return None


def _missing_fields(schema: dict[str, Any], cls: type, where: str) -> list[str]:
    """Fields of ``schema`` (recursively) without a typed attribute on ``cls``."""
    missing = []
    hints = _hints(cls)
    for name, prop in schema.get("properties", {}).items():
        attr = attribute_name(name)
        path = f"{where}.{name}"
        if attr not in hints:
            missing.append(f"{path} (no typed attribute {cls.__name__}.{attr})")
            continue
        prop = resolve(prop)
        if prop.get("type") == "array":
            prop = resolve(prop.get("items", {}))
        nested = _model_in(hints[attr])
        if prop.get("properties") and nested is not None:
            missing += _missing_fields(prop, nested, path)
    return missing


def _method_name(operation: dict[str, Any]) -> str:
    name = operation.get("x-smsflow-method")
    assert isinstance(name, str), (
        f"{operation['operationId']}: add `x-smsflow-method: <client method>` to the operation "
        "in spec/openapi.yaml"
    )
    return name


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_has_a_wire_route(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """The wrapper learns each operation's method and path from the generated client."""
    op_id = operation["operationId"]
    try:
        found = route(op_id)
    except KeyError:
        pytest.fail(f"{op_id}: no generated ROUTES entry (smsflow_api.api.<tag>): {REGENERATE}")
    except ImportError:
        pytest.fail(f"{op_id}: the generated client has no such module: {REGENERATE}")
    assert (method.upper(), path) == found, f"{op_id}: {REGENERATE}"


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_has_sync_and_async_methods(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """SmsFlowClient and AsyncSmsFlowClient both offer the operation's method."""
    name = _method_name(operation)
    op_id = operation["operationId"]
    assert callable(getattr(SmsFlowClient, name, None)), (
        f"{op_id}: SmsFlowClient has no method {name}(); add it to smsflow/_sync_client.py"
    )
    assert inspect.iscoroutinefunction(getattr(AsyncSmsFlowClient, name, None)), (
        f"{op_id}: AsyncSmsFlowClient has no async method {name}(); add it to "
        "smsflow/_async_client.py"
    )


def _call_sandbox(sandbox: Sandbox, path: str, method: str, operation: dict[str, Any]) -> Any:
    if operation.get("security") == [{"basicAuth": []}]:
        pair = f"{sandbox.client_id}:{sandbox.client_secret}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    else:
        auth = "Bearer " + sandbox.issue_token()
    body = None
    if "requestBody" in operation:
        body = operation["requestBody"]["content"]["application/json"]["example"]
    with httpx.Client(transport=sandbox.transport(), base_url="https://sandbox.test") as http:
        return http.request(method.upper(), path, json=body, headers={"Authorization": auth})


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_has_a_sandbox_route(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """The sandbox answers each operation (the spec's example request) with a 2xx."""
    answer = _call_sandbox(Sandbox(), path, method, operation)
    assert answer.is_success, (
        f"{operation['operationId']}: the sandbox answered {method.upper()} {path} with "
        f"{answer.status_code}; add the route to smsflow/testing/_sandbox.py"
    )


def _keys(value: Any, schema: dict[str, Any], where: str) -> tuple[list[str], list[str]]:
    """(spec fields missing from ``value``, keys of ``value`` the spec does not name)."""
    schema = resolve(schema)
    if schema.get("type") == "array" and isinstance(value, list):
        missing: list[str] = []
        extra: list[str] = []
        for item in value[:1]:
            m, e = _keys(item, schema.get("items", {}), f"{where}[0]")
            missing += m
            extra += e
        return missing, extra
    props = schema.get("properties")
    if not props or not isinstance(value, dict):
        return [], []
    missing = [f"{where}.{k}" for k in props if k not in value]
    extra = [f"{where}.{k}" for k in value if k not in props]
    for name, prop in props.items():
        if name in value:
            m, e = _keys(value[name], prop, f"{where}.{name}")
            missing += m
            extra += e
    return missing, extra


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_sandbox_answers_with_exactly_the_spec_fields(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """The sandbox's 2xx answer carries every field the spec names and no other."""
    sandbox = Sandbox(network_prefixes={"27": "Vodacom"})
    answer = _call_sandbox(sandbox, path, method, operation).json()
    missing, extra = _keys(answer, _success_schema(operation), "body")
    op_id = operation["operationId"]
    assert ([], []) == (missing, extra), (
        f"{op_id}: the sandbox's answer misses {missing} and has unknown {extra}; "
        "change smsflow/testing/_sandbox.py"
    )


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_response_field_is_a_typed_attribute(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """Every field of the 2xx answer is reachable with a type from the method's result."""
    name = _method_name(operation)
    op_id = operation["operationId"]
    method = getattr(SmsFlowClient, name, None)
    if method is None:
        pytest.fail(
            f"{op_id}: SmsFlowClient has no method {name}(); add it to "
            "smsflow/_sync_client.py (its return type must expose the answer)"
        )
    result = _hints(method)["return"]
    hints = _hints(result)
    holder = hints.get("model", result)
    fields = _missing_fields(_success_schema(operation), holder, "body")
    if holder is result:  # no generated model behind it: its own properties
        fields = [
            f for f in fields if attribute_name(f.split(".")[1].split(" ")[0]) not in dir(result)
        ]
    assert [] == fields, (
        f"{op_id}: {fields} not reachable from {result.__name__}; {REGENERATE}, or expose the "
        "generated model in smsflow/_results.py"
    )


def _endpoint_rows() -> set[tuple[str, str]]:
    text = (ROOT / "README.md").read_text("utf-8")
    return set(re.findall(r"^\| `(\w+)` \| `(?:GET|POST|PUT|DELETE|PATCH) ([^`]+)` \|", text, re.M))


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_has_a_documented_endpoint_row(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """The README's endpoints table has a row for each operation, with its path."""
    op_id = operation["operationId"]
    assert (op_id, path) in _endpoint_rows(), (
        f"{op_id}: add a row `| `{op_id}` | `{method.upper()} {path}` | ... |` to the "
        "endpoints table in README.md"
    )


def test_endpoints_table_has_no_stale_rows() -> None:
    """Every row of the README's endpoints table is an operation of the spec."""
    documented = {(op["operationId"], path) for path, _, op in OPERATIONS}
    assert set() == _endpoint_rows() - documented, "README.md: remove or fix these endpoint rows"


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_result_type_is_public(path: str, method: str, operation: dict[str, Any]) -> None:
    """Both clients' methods return one type, and users can import it from ``smsflow``."""
    name = _method_name(operation)
    op_id = operation["operationId"]
    sync = getattr(SmsFlowClient, name, None)
    async_ = getattr(AsyncSmsFlowClient, name, None)
    if sync is None or async_ is None:
        pytest.fail(f"{op_id}: the clients lack {name}() (see the sync/async methods test)")
    result = _hints(sync)["return"]
    assert result is _hints(async_)["return"], (
        f"{op_id}: SmsFlowClient.{name}() and AsyncSmsFlowClient.{name}() return different "
        "types; make them return one result type"
    )
    public = result.__name__ in smsflow.__all__ and getattr(smsflow, result.__name__) is result
    assert public, (
        f"{op_id}: {result.__name__} is not exported; add it to smsflow/__init__.py (__all__)"
    )


def _typing_calls() -> tuple[set[str], set[str]]:
    """(methods called without await, methods awaited) in tests/typing/test_public_api.py."""
    tree = ast.parse((ROOT / TYPING_TEST).read_text("utf-8"))
    awaited = {
        node.value.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Await)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
    }
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    return called, awaited


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_operation_is_type_checked(path: str, method: str, operation: dict[str, Any]) -> None:
    """tests/typing (run by ``mypy --strict``) calls each operation's method, sync and async."""
    name = _method_name(operation)
    called, awaited = _typing_calls()
    assert (True, True) == (name in called, name in awaited), (
        f"{operation['operationId']}: call client.{name}() and await client.{name}() with "
        f"assert_type in {TYPING_TEST} (mypy --strict then holds its public types)"
    )
