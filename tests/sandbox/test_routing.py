"""Routing: unknown paths (404), other methods (405 with Allow), query strings, HEAD."""

from __future__ import annotations

import pytest

from smsflow.testing import Sandbox

from .support import BALANCE, SEND, TOKEN, basic, bearer, call, error_codes, token

pytestmark = pytest.mark.invalid_requests


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/api/integration/Balance/",
        "//api/integration/Balance",
        "/nope?x=1",
    ],
)
def test_unknown_path_is_404(path: str) -> None:
    sandbox = Sandbox()
    reply = call(sandbox, "GET", path, headers=bearer(token(sandbox)))
    assert reply.status == 404
    assert error_codes(reply) == [("NOT_FOUND", None)]
    assert sandbox.requests[-1].endpoint is None


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", TOKEN, "GET"),
        ("DELETE", TOKEN, "GET"),
        ("GET", SEND, "POST"),
        ("PUT", SEND, "POST"),
        ("POST", BALANCE, "GET"),
        ("PATCH", BALANCE, "GET"),
        ("OPTIONS", BALANCE, "GET"),
        ("HEAD", BALANCE, "GET"),
        ("QUERY", BALANCE, "GET"),
    ],
)
def test_other_method_is_405_with_allow(method: str, path: str, allow: str) -> None:
    sandbox = Sandbox()
    reply = call(sandbox, method, path, headers=bearer(token(sandbox)))
    assert reply.status == 405
    assert reply.headers["Allow"] == allow
    assert error_codes(reply) == [("METHOD_NOT_ALLOWED", None)]


def test_405_comes_before_authentication() -> None:
    sandbox = Sandbox()
    assert call(sandbox, "DELETE", BALANCE).status == 405


def test_query_string_is_ignored() -> None:
    sandbox = Sandbox()
    assert call(sandbox, "GET", TOKEN + "?x=1", headers=basic()).status == 200
    assert sandbox.requests[-1].path == TOKEN


def test_lower_case_method_is_accepted() -> None:
    sandbox = Sandbox()
    assert call(sandbox, "get", TOKEN, headers=basic()).status == 200
