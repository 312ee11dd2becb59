"""mkdocs hook: the HTTP reference page (``http.md``), rendered from ``spec/openapi.yaml`` at
build time, so the page cannot drift from the spec. No network; the page is never committed.

``render(spec)`` is a pure function of the parsed spec (tested in ``tests/test_docs.py``);
``on_files`` is the mkdocs event that adds the page to the site.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[1] / "spec" / "openapi.yaml"
PAGE = "http.md"
METHODS = ("get", "put", "post", "delete", "patch")


def load(path: Path = SPEC) -> dict[str, Any]:
    """The spec as a dict (raises ``OSError`` or ``yaml.YAMLError`` if it cannot be read)."""
    spec: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return spec


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Follow one local ``$ref``: (the referenced name or None, the node it points at)."""
    ref = node.get("$ref")
    if not isinstance(ref, str):
        return None, node
    target: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return ref.rsplit("/", 1)[-1], target


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _type_of(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    name, schema = _resolve(spec, schema)
    if name:
        return f"[{name}](#{name.lower()})"
    kind = str(schema.get("type", "any"))
    if kind == "array":
        kind = f"array of {_type_of(spec, schema.get('items', {}))}"
    if "format" in schema:
        kind += f" ({schema['format']})"
    if schema.get("nullable"):
        kind += " or null"
    return kind


def _constraints(schema: dict[str, Any]) -> str:
    words = {
        "minLength": "length ≥ {}",
        "maxLength": "length ≤ {}",
        "minimum": "≥ {}",
        "maximum": "≤ {}",
        "minItems": "items ≥ {}",
        "maxItems": "items ≤ {}",
        "pattern": "pattern `{}`",
        "default": "default `{}`",
    }
    parts = [
        w.format(json.dumps(schema[k]) if k == "default" else schema[k])
        for k, w in words.items()
        if k in schema
    ]
    return ", ".join(parts)


def _example(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```", ""]


def _operation(spec: dict[str, Any], path: str, method: str, op: dict[str, Any]) -> list[str]:
    schemes = [name for item in op.get("security", []) for name in item]
    out = [f"## {op.get('summary', op['operationId'])}", "", f"`{method.upper()} {path}`", ""]
    out += [
        f"Operation id `{op['operationId']}`; authentication: "
        + (", ".join(f"[{s}](#security-schemes)" for s in schemes) or "none")
        + ".",
        "",
    ]
    if op.get("description"):
        out += [op["description"].strip(), ""]
    body = op.get("requestBody")
    if body:
        media = body["content"]["application/json"]
        out += [f"**Request body** (`application/json`): {_type_of(spec, media['schema'])}", ""]
        if "example" in media:
            out += _example(media["example"])
    out += ["**Responses**", "", "| status | meaning | body | headers |", "|---|---|---|---|"]
    examples: list[tuple[str, Any]] = []
    for status, raw in op["responses"].items():
        _, answer = _resolve(spec, raw)
        media = answer.get("content", {}).get("application/json", {})
        schema = _type_of(spec, media["schema"]) if "schema" in media else ""
        headers = ", ".join(f"`{h}`" for h in answer.get("headers", {}))
        out.append(f"| {status} | {_one_line(answer.get('description'))} | {schema} | {headers} |")
        if str(status).startswith("2") and "example" in media:
            examples.append((str(status), media["example"]))
    out.append("")
    for status, value in examples:
        out += [f"Example {status} answer:", "", *_example(value)]
    return out


def _schema(spec: dict[str, Any], name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### {name}", ""]
    if schema.get("description"):
        out += [_one_line(schema["description"]), ""]
    extra = "unknown fields refused" if schema.get("additionalProperties") is False else ""
    out += [f"Object{'; ' + extra if extra else ''}.", ""]
    out += ["| field | type | required | constraints | meaning |", "|---|---|---|---|---|"]
    required = set(schema.get("required", []))
    for field, prop in schema.get("properties", {}).items():
        out.append(
            f"| `{field}` | {_type_of(spec, prop)} | {'yes' if field in required else 'no'} "
            f"| {_one_line(_constraints(prop))} | {_one_line(prop.get('description'))} |"
        )
    return [*out, ""]


def render(spec: dict[str, Any]) -> str:
    """The Markdown of the HTTP reference: every operation, status, header and schema."""
    info = spec["info"]
    servers = ", ".join(f"`{s['url']}`" for s in spec.get("servers", []))
    out = [
        "# HTTP reference",
        "",
        f"*{info['title']}, document version {info['version']}. This page is generated from "
        "`spec/openapi.yaml` each time the site is built.*",
        "",
        info.get("description", "").strip(),
        "",
        f"Base URL: {servers}. Requests and answers are JSON.",
        "",
        "| method | path | operation | summary |",
        "|---|---|---|---|",
    ]
    operations = [
        (path, method, item[method])
        for path, item in spec["paths"].items()
        for method in METHODS
        if method in item
    ]
    for path, method, op in operations:
        title = op.get("summary", op["operationId"])
        out.append(f"| {method.upper()} | `{path}` | `{op['operationId']}` | {title} |")
    out.append("")
    for path, method, op in operations:
        out += _operation(spec, path, method, op)
    components = spec.get("components", {})
    out += ["## Security schemes", "", "| name | scheme | meaning |", "|---|---|---|"]
    for name, scheme in components.get("securitySchemes", {}).items():
        kind = f"{scheme.get('type')} {scheme.get('scheme', '')}".strip()
        out.append(f"| `{name}` | {kind} | {_one_line(scheme.get('description'))} |")
    out += ["", "## Headers", ""]
    for name, header in components.get("headers", {}).items():
        out += [f"- **{name}**: {_one_line(header.get('description'))}"]
    out += ["", "## Schemas", ""]
    for name, schema in components.get("schemas", {}).items():
        out += _schema(spec, name, schema)
    return "\n".join(out)


def on_files(files: Any, config: Any) -> Any:
    """mkdocs event: add the generated ``http.md`` to the site's files."""
    from mkdocs.structure.files import File  # only when mkdocs runs the hook

    files.append(File.generated(config, PAGE, content=render(load())))
    return files
