"""The sandbox's answers: :class:`SandboxReply`, JSON and error bodies, and acting out a fault.

Every front end (in-process transport, loopback server, WSGI app) delivers a
:class:`SandboxReply`; nothing here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from ._faults import Fault, FaultKind

__all__ = [
    "JSON_CONTENT_TYPE",
    "STATUS_CODES",
    "Problem",
    "SandboxReply",
    "act_out",
    "as_problem",
    "error_reply",
    "errors_reply",
    "json_reply",
]

# Usual error code of each status, for injected failures and the sandbox's own errors.
STATUS_CODES: Final[Mapping[int, str]] = {
    400: "INVALID_REQUEST",
    401: "INVALID_TOKEN",
    402: "INSUFFICIENT_BALANCE",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_REQUEST_SHAPE",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}

JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
_HTML_PAGE: Final = (
    "<html><head><title>{status} Error</title></head><body><center><h1>{status} Error</h1>"
    "</center><hr><center>gateway</center></body></html>"
)
_MALFORMED_BODY: Final = b'{"statusCode": 200, "sendResponse": {"cost": 0.25, "remaini'

Action = Literal["answer", "drop", "reset", "truncate", "raise"]


@dataclass(frozen=True, slots=True)
class SandboxReply:
    """The sandbox's answer to one request, for a front end to deliver.

    Attributes:
        status: HTTP status (0 when the request was dropped before processing).
        headers: Response headers, without ``Content-Length`` (front ends add it), except a
            canned ``reply`` fault's, which are sent as given (a ``Content-Length`` there may
            lie on purpose).
        body: Response body bytes (for ``chunks`` that are a sequence: their concatenation).
        fault: The injected fault kind acted out, or ``None``.
        delay: Seconds the front end waits before answering.
        action: ``"answer"``; ``"drop"`` (close without answering); ``"reset"`` (reset the
            connection without answering); ``"truncate"`` (send the headers and only part
            of the body, then close); or ``"raise"`` (the in-process transport raises
            ``exception``; the loopback server closes the connection without answering).
        trickle: Seconds the front end waits before each body byte (0: send it at once).
        chunks: When not ``None``, the body is sent in these chunks without a
            ``Content-Length`` (chunked transfer encoding over a socket).
        exception: The exception a ``raise`` action raises in-process.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    fault: FaultKind | None = None
    delay: float = 0.0
    action: Action = "answer"
    trickle: float = 0.0
    chunks: Iterable[bytes] | None = None
    exception: BaseException | None = None

    @property
    def answered(self) -> bool:
        """Whether the client receives a status line and headers."""
        return self.action not in ("drop", "reset", "raise")

    def json(self) -> Any:
        """The body decoded as JSON. Raises ``ValueError`` if it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Problem:
    """One entry of an ``ErrorResponse``'s ``errors`` (and the status it calls for)."""

    status: int
    code: str
    message: str
    field: str | None = None


def json_reply(
    status: int, payload: object, headers: Mapping[str, str] | None = None
) -> SandboxReply:
    """A compact JSON reply."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SandboxReply(status, {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}, body)


def error_reply(
    status: int,
    code: str,
    message: str,
    field_name: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> SandboxReply:
    """A JSON ``ErrorResponse`` reply with one error."""
    return errors_reply(status, [Problem(status, code, message, field_name)], headers=headers)


def errors_reply(
    status: int, problems: Iterable[Problem], *, headers: Mapping[str, str] | None = None
) -> SandboxReply:
    """A JSON ``ErrorResponse`` reply listing ``problems``."""
    items: list[dict[str, str]] = []
    for problem in problems:
        item = {"code": problem.code, "message": problem.message}
        if problem.field is not None:
            item["field"] = problem.field
        items.append(item)
    return json_reply(status, {"statusCode": status, "errors": items}, headers)


def act_out(fault: Fault, reply: SandboxReply | None) -> SandboxReply:
    """The reply a front end delivers for ``fault``.

    ``reply`` is the sandbox's own answer when the fault lets the request be processed
    (``fault.processed``), else ``None``.
    """
    kind = fault.kind
    if kind == "fail":
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        code = fault.code or STATUS_CODES.get(fault.status, "ERROR")
        failed = error_reply(fault.status, code, "Injected failure.", headers=headers)
        return replace(failed, fault=kind)
    if kind == "html":
        page = _HTML_PAGE.format(status=fault.status).encode()
        return SandboxReply(fault.status, {"Content-Type": "text/html"}, page, fault=kind)
    if kind == "malformed":
        body = _MALFORMED_BODY if fault.body is None else fault.body
        return SandboxReply(fault.status, {"Content-Type": JSON_CONTENT_TYPE}, body, fault=kind)
    if kind == "redirect":
        location = fault.location or "https://example.invalid/"
        return SandboxReply(fault.status, {"Location": location}, b"", fault=kind)
    if kind == "reply":
        chunks = fault.chunks
        body = fault.body or b""
        if isinstance(chunks, tuple):
            body = b"".join(chunks)
        return SandboxReply(fault.status, dict(fault.headers), body, fault=kind, chunks=chunks)
    if kind == "raise":
        return SandboxReply(0, {}, b"", fault=kind, action="raise", exception=fault.exception)
    if kind == "reset":
        return SandboxReply(0, {}, b"", fault=kind, action="reset")
    if kind == "drop" or reply is None:
        return SandboxReply(0, {}, b"", fault=kind, action="drop")
    if kind == "delay":
        return replace(reply, fault=kind, delay=fault.seconds)
    if kind == "lose_response":
        return replace(reply, fault=kind, action="drop")
    if kind == "trickle":
        return replace(reply, fault=kind, trickle=fault.seconds)
    return replace(reply, fault=kind, action="truncate")


PROBLEM_CONTENT_TYPE: Final = "application/problem+json; charset=utf-8"
# ASP.NET Core's ProblemDetailsDefaults: the ``type`` it writes for each status it knows.
# Other statuses (402, 429, 502, 503, 504) get no ``type`` there either ("about:blank").
_PROBLEM_TYPES: Final[Mapping[int, str]] = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    401: "https://tools.ietf.org/html/rfc9110#section-15.5.2",
    403: "https://tools.ietf.org/html/rfc9110#section-15.5.4",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    406: "https://tools.ietf.org/html/rfc9110#section-15.5.7",
    408: "https://tools.ietf.org/html/rfc9110#section-15.5.9",
    409: "https://tools.ietf.org/html/rfc9110#section-15.5.10",
    412: "https://tools.ietf.org/html/rfc9110#section-15.5.13",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    422: "https://tools.ietf.org/html/rfc4918#section-11.2",
    426: "https://tools.ietf.org/html/rfc9110#section-15.5.22",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}
_VALIDATION_TITLE: Final = "One or more validation errors occurred."
_VALIDATION_STATUSES: Final = frozenset({400, 422})
#: Faults whose body the test wrote: sent exactly as given, in either style.
_SCRIPTED_FAULTS: Final = frozenset({"reply", "malformed", "html", "redirect"})
#: The ``errors`` key of a message that names no field: ASP.NET's JSON path of the body's root.
ROOT_FIELD: Final = "$"


def as_problem(reply: SandboxReply, trace_id: str) -> SandboxReply:
    """``reply`` (an SMSFlow-style JSON error) as ASP.NET Core would write it: RFC 9457
    ``application/problem+json`` with ``traceId`` and, for the statuses ASP.NET knows, its
    ``type``. A 400 or 422 is always a ``ValidationProblemDetails``: ``errors`` maps each
    field to its messages (a message naming no field is under ``"$"``, as ASP.NET keys a
    body that does not parse). Any other error is a ``ProblemDetails`` whose ``title`` is the
    first message. Codes are not kept (ASP.NET's own bodies have none). A 405 (its body is
    not documented by any operation), a scripted answer (``reply_next``, ``malformed_next``,
    ``html_next``, ``redirect_next``) and anything that is not a JSON error body are returned
    as they are.
    """
    if (
        reply.status < 400
        or reply.status == 405
        or not reply.answered
        or reply.fault in _SCRIPTED_FAULTS
    ):
        return reply
    try:
        body = json.loads(reply.body)
    except ValueError:
        return reply
    items = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return reply
    problem: dict[str, Any] = {"status": reply.status, "traceId": trace_id}
    if reply.status in _PROBLEM_TYPES:
        problem["type"] = _PROBLEM_TYPES[reply.status]
    if reply.status in _VALIDATION_STATUSES:
        fields: dict[str, list[str]] = {}
        for item in items:
            if isinstance(item, dict):
                field = item.get("field")
                key = field if isinstance(field, str) and field else ROOT_FIELD
                fields.setdefault(key, []).append(str(item.get("message", "")))
        problem["title"] = _VALIDATION_TITLE
        problem["errors"] = fields
    else:
        first = items[0] if items and isinstance(items[0], dict) else {}
        problem["title"] = str(first.get("message", "")) or "An error occurred."
    headers = {k: v for k, v in reply.headers.items() if k.lower() != "content-type"}
    headers["Content-Type"] = PROBLEM_CONTENT_TYPE
    content = json.dumps(problem, separators=(",", ":")).encode()
    return replace(reply, headers=headers, body=content, chunks=None)
