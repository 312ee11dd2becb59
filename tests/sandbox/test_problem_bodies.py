"""The sandbox's ``error_style="problem"`` bodies are what ASP.NET Core writes: a 400/422 is
always a ValidationProblemDetails with ``errors``, each status has ASP.NET's ``type``, the
loopback server's own refusals are problem bodies too, and the contract adapter checks
problem bodies of off-spec requests against the spec's ``ProblemDetails``."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from contract.openapi_adapter import ContractViolationError, validate_exchange

from smsflow import SmsFlowValidationError
from smsflow._errors import error_for_response
from smsflow.testing import Sandbox, SandboxServer

from .support import BALANCE, BASE_URL, SEND, bearer

VALIDATION_TITLE = "One or more validation errors occurred."
# ASP.NET Core's ProblemDetailsDefaults: the RFC section of each status it knows.
ASPNET_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    408: "https://tools.ietf.org/html/rfc9110#section-15.5.9",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    422: "https://tools.ietf.org/html/rfc4918#section-11.2",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}


def _raw_send(sandbox: Sandbox, content: bytes) -> httpx.Response:
    headers = {**bearer(sandbox.issue_token()), "Content-Type": "application/json"}
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as http:
        return http.post(SEND, content=content, headers=headers)


@pytest.mark.invalid_requests  # bodies the spec refuses, to get the 400 and the 422
@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"{not json", 400, "The body is not valid JSON."),
        (b"[]", 422, "The body must be a JSON object."),
    ],
)
def test_refusal_without_a_field_is_a_validation_problem_keyed_on_the_root(
    content: bytes, status: int, message: str
) -> None:
    """A 400/422 naming no field is still a ValidationProblemDetails: its message under
    ``errors["$"]`` (ASP.NET's JSON path of the body's root), so ``field_errors`` is filled."""
    answer = _raw_send(Sandbox(error_style="problem"), content)
    problem = answer.json()
    assert (status, VALIDATION_TITLE, {"$": [message]}) == (
        answer.status_code,
        problem["title"],
        problem.get("errors"),
    )
    error = error_for_response(answer)
    assert isinstance(error, SmsFlowValidationError)
    assert {"$": (message,)} == error.field_errors
    assert f"{VALIDATION_TITLE} ($: {message})" == error.message


def test_injected_400_is_a_validation_problem() -> None:
    """``fail_next(status=400)`` in problem style answers a ValidationProblemDetails too."""
    sandbox = Sandbox(error_style="problem")
    sandbox.fail_next(endpoint="balance", status=400)
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as http:
        answer = http.get(BALANCE, headers=bearer(sandbox.issue_token()))
    assert {"$": ["Injected failure."]} == answer.json().get("errors")


@pytest.mark.parametrize("status", sorted(ASPNET_TYPES))
def test_problem_type_is_aspnets_for_each_status_it_knows(status: int) -> None:
    """Every status ASP.NET Core has a default for carries its ``type`` URI."""
    sandbox = Sandbox(error_style="problem")
    sandbox.fail_next(status=status)
    # No operation answers every status: the exchange is off the spec on purpose.
    sandbox.remove_observer(sandbox._observers[0])
    reply = sandbox.handle("GET", BALANCE, bearer(sandbox.issue_token()), b"")
    assert (status, ASPNET_TYPES[status]) == (reply.status, reply.json().get("type"))


@pytest.mark.invalid_requests  # an unknown path, on purpose
def test_off_spec_problem_answers_are_held_to_problem_details() -> None:
    """The contract adapter accepts a problem body for an unknown path (404) when it is a
    ProblemDetails, and still refuses one that is not."""
    sandbox = Sandbox(error_style="problem")
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as http:
        answer = http.get("/api/integration/Nope", headers=bearer(sandbox.issue_token()))
    assert 404 == answer.status_code
    validate_exchange(answer.request, answer, check_request=False)
    broken = httpx.Response(
        404,
        headers={"Content-Type": "application/problem+json"},
        json={"title": 5, "status": "404"},
        request=answer.request,
    )
    with pytest.raises(ContractViolationError):
        validate_exchange(answer.request, broken, check_request=False)


def test_loopback_servers_own_refusal_is_a_problem_body() -> None:
    """A body the loopback server cannot read gets a 400 in the sandbox's error style."""
    request = f"POST {SEND} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n"
    raw = b""
    with (
        SandboxServer(Sandbox(error_style="problem")) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn,
    ):
        conn.sendall(request.encode())
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert (400, VALIDATION_TITLE) == (problem["status"], problem["title"])
    assert problem["traceId"].startswith("00-")
    assert list(problem["errors"]) == ["$"]


@pytest.mark.parametrize("kind", ["reply", "malformed"])
def test_scripted_answers_are_sent_exactly_in_problem_style(kind: str) -> None:
    """A canned answer (``reply_next``, ``malformed_next``) is sent byte for byte as given,
    even when it looks like an SMSFlow error body: the problem style rewrites only the
    sandbox's own errors."""
    scripted = b'{"statusCode":409,"errors":[{"code":"DUPLICATE","message":"Seen before."}]}'
    sandbox = Sandbox(error_style="problem")
    if kind == "reply":
        sandbox.reply_next(
            endpoint="balance",
            status=409,
            body=scripted,
            headers={"Content-Type": "application/json"},
        )
    else:
        sandbox.malformed_next(endpoint="balance", status=409, body=scripted)
    reply = sandbox.handle("GET", BALANCE, bearer(sandbox.issue_token()), b"")
    assert (409, scripted) == (reply.status, reply.body)
    assert reply.headers["Content-Type"].startswith("application/json")
