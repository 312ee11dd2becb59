"""Facts read from spec/openapi.yaml for the tests, so no test restates the spec by hand.

One loader for the suite: the operations (path, method, operation object), a ``$ref``
resolver, each operation's path and examples, and every property name the spec defines.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any, Final

import yaml

ROOT: Final = Path(__file__).resolve().parents[1]
SPEC_PATH: Final = ROOT / "spec" / "openapi.yaml"
SPEC: Final[dict[str, Any]] = yaml.safe_load(SPEC_PATH.read_text("utf-8"))
#: The HTTP methods OpenAPI allows as keys of a path item.
HTTP_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
#: (path, method, operation) for every operation of the spec, in the spec's order.
OPERATIONS: Final[list[tuple[str, str, dict[str, Any]]]] = [
    (path, method, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if method in HTTP_METHODS
]
#: Every operationId, in the spec's order (pytest ids for tests parametrised on OPERATIONS).
OPERATION_IDS: Final = [operation.get("operationId", "?") for _, _, operation in OPERATIONS]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with local ``$ref`` chains followed; an ``allOf`` merged into one object."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    if "allOf" in node:
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for part in node["allOf"]:
            merged["properties"].update(resolve(part).get("properties", {}))
        return merged
    return node


def operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """(path, method, operation) of ``operation_id``.

    Raises:
        KeyError: the spec has no such operation.
    """
    for found in OPERATIONS:
        if found[2].get("operationId") == operation_id:
            return found
    raise KeyError(f"spec/openapi.yaml has no operation {operation_id!r}")


def path_of(operation_id: str) -> str:
    """The path of ``operation_id`` (from the base URL), e.g. ``/api/integration/Balance``."""
    return operation(operation_id)[0]


def success_example(operation_id: str) -> dict[str, Any]:
    """A fresh copy of the example of ``operation_id``'s 2xx JSON answer.

    Raises:
        KeyError: the operation documents no 2xx JSON example.
    """
    for status, answer in operation(operation_id)[2]["responses"].items():
        if str(status).startswith("2"):
            example: dict[str, Any] = copy.deepcopy(
                resolve(answer)["content"]["application/json"]["example"]
            )
            return example
    raise KeyError(f"{operation_id}: spec/openapi.yaml documents no 2xx example")


def attribute_name(json_name: str) -> str:
    """The generated model's attribute for a JSON property (``remainingBalance`` ->
    ``remaining_balance``)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", json_name).lower()


def schema(name: str) -> dict[str, Any]:
    """The resolved schema ``components/schemas/<name>``."""
    return resolve(SPEC["components"]["schemas"][name])


def _property_names(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            found.update(properties)
        for value in node.values():
            _property_names(value, found)
    elif isinstance(node, list):
        for value in node:
            _property_names(value, found)


@functools.cache
def property_names() -> frozenset[str]:
    """Every property name of every schema in the spec (answers, requests, error bodies)."""
    found: set[str] = set()
    _property_names(SPEC, found)
    return frozenset(found)


def component_names() -> frozenset[str]:
    """The names under ``components`` (schemas, responses, security schemes...)."""
    return frozenset(name for section in SPEC["components"].values() for name in section)
