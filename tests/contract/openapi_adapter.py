"""openapi-core adapter for httpx: validate one request/response exchange against the spec.

``validate_exchange(request, response)`` raises :class:`ContractViolationError` (an
``AssertionError``) on any violation: unknown path or method, missing security, a body or
header that does not match its schema, an undocumented status, or an unexpected property
(``additional_properties_default_policy="forbid"``). Requests are matched against the spec's
server URL, so any host may be used. Answers to requests the spec has no operation for (an
unknown path, another method) must still be a JSON ``ErrorResponse`` with status 404 or 405,
or (a 404 of the sandbox's ``error_style="problem"``) an ``application/problem+json``
``ProblemDetails``.
"""

from __future__ import annotations

import json
import threading
from functools import cache
from pathlib import Path
from typing import Any, Final

import httpx
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["SERVER_URL", "SPEC_PATH", "ContractViolationError", "spec", "validate_exchange"]

SPEC_PATH: Final = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"
SERVER_URL: Final = "https://portal.smsflow.co.za"
_LOCK = threading.Lock()  # openapi-core is not documented as thread-safe


class ContractViolationError(AssertionError):
    """An exchange that does not follow spec/openapi.yaml."""


def _problem_json(value: bytes | str, **_parameters: str) -> object:
    return json.loads(value)


@cache
def spec() -> OpenAPI:
    """The spec, loaded once, with unexpected properties forbidden."""
    config = Config(
        additional_properties_default_policy="forbid",
        # RFC 9457 bodies (the sandbox's error_style="problem") are JSON too.
        extra_media_type_deserializers={"application/problem+json": _problem_json},
    )
    return OpenAPI.from_file_path(str(SPEC_PATH), config=config)


@cache
def _schema_validator(name: str) -> OAS30Validator:
    """A validator of the spec's schema ``name`` (unknown keys forbidden, as for answers)."""
    document = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    for schema in schemas.values():
        if schema.get("type") == "object":
            schema.setdefault("additionalProperties", False)
    root = {"components": document["components"], "$ref": f"#/components/schemas/{name}"}
    return OAS30Validator(root)


class _Request:
    """openapi-core's Request protocol over an ``httpx.Request`` (as sent to the spec's server)."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(request.url.params.multi_items()),
            header=Headers(request.headers.multi_items()),
            cookie=ImmutableMultiDict(),
        )

    host_url = SERVER_URL

    @property
    def path(self) -> str:
        return self._request.url.path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._request.content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "")).lower()


class _Response:
    """openapi-core's Response protocol over an ``httpx.Response``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.headers = Headers(response.headers.multi_items())

    @property
    def data(self) -> bytes | None:
        return self._response.content or None

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()


def _describe(error: BaseException) -> str:
    parts = [f"{type(error).__name__}: {error}"]
    for attr in ("schema_errors", "errors"):
        parts.extend(
            f"  - {getattr(sub, 'message', sub)}" for sub in getattr(error, attr, None) or ()
        )
    cause = error.__cause__
    depth = 0
    while cause is not None and depth < 5:
        parts.append(f"  caused by {_describe(cause)}")
        cause, depth = cause.__cause__, depth + 1
    return "\n".join(parts)


def _check_off_spec_answer(request: httpx.Request, response: httpx.Response) -> None:
    """An answer to a request the spec has no operation for: 404/405 with an ErrorResponse."""
    where = f"{request.method} {request.url.path} -> {response.status_code}"
    if response.status_code not in (404, 405):
        raise ContractViolationError(f"{where}: an off-spec request must get 404 or 405")
    if response.status_code == 405 and not response.headers.get("allow"):
        raise ContractViolationError(f"{where}: 405 without an Allow header")
    if request.method == "HEAD":
        return
    content_type = response.headers.get("content-type", "").lower()
    if content_type.startswith("application/json"):
        schema = "ErrorResponse"
    elif content_type.startswith("application/problem+json") and response.status_code == 404:
        schema = "ProblemDetails"  # the sandbox's error_style="problem"; a 405 stays JSON
    else:
        raise ContractViolationError(f"{where}: the body is not JSON")
    try:
        data = response.json()
    except ValueError:
        raise ContractViolationError(f"{where}: the body is not JSON") from None
    errors = sorted(_schema_validator(schema).iter_errors(data), key=str)
    if errors:
        raise ContractViolationError(f"{where}: not a {schema}: {errors[0].message}")


def validate_exchange(
    request: httpx.Request, response: httpx.Response | None, *, check_request: bool = True
) -> None:
    """Validate ``request`` (unless ``check_request`` is false) and ``response`` (if any).

    Raises:
        ContractViolationError: the first violation found, with openapi-core's details.
    """
    oas_request: Any = _Request(request)
    with _LOCK:
        if check_request:
            try:
                spec().validate_request(oas_request)
            except Exception as error:  # every openapi-core error is a violation
                raise ContractViolationError(
                    f"request {request.method} {request.url.path}: {_describe(error)}"
                ) from error
        if response is None:
            return
        try:
            spec().validate_response(oas_request, _Response(response))
        except PathError:
            _check_off_spec_answer(request, response)
        except Exception as error:  # every openapi-core error is a violation
            raise ContractViolationError(
                f"response {response.status_code} to {request.method} {request.url.path}: "
                f"{_describe(error)}"
            ) from error
