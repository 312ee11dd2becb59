"""The exception hierarchy and the one table that maps API answers to it.

::

    SmsFlowError                         every error this SDK raises
    ├── SmsFlowAuthenticationError       401, 403: bad credentials, revoked or refused token
    ├── SmsFlowValidationError           400, 404, 409, 413, 415, 422; bad input before sending
    ├── SmsFlowInsufficientBalanceError  402, or any code containing "INSUFFICIENT"
    ├── SmsFlowRequestTimeoutError       408: the server gave up waiting for the request (retryable)
    ├── SmsFlowRateLimitError            429, with ``retry_after`` (retryable)
    ├── SmsFlowServerError               5xx, including non-standard ones such as 520 (retryable)
    ├── SmsFlowNetworkError              connect/read/write failures and timeouts (status_code None)
    │   └── SmsFlowDeliveryUnknownError  a send failed after it may have reached the API
    ├── SmsFlowIdempotencyError          an idempotency key is in flight elsewhere or unknown
    └── SmsFlowUnexpectedResponseError   a 2xx (or 3xx) whose body is not what the spec says

The names of smsflow 0.2.0 (``SmsFlowError``, ``SmsFlowAuthenticationError``,
``SmsFlowValidationError``, ``SmsFlowServerError``, ``SmsFlowNetworkError``) keep working.
Unlike 0.2.0, 408 and 429 are not validation errors.

Error bodies are read through the generated models of the spec: the SMSFlow style
(``ErrorResponse``: ``{"statusCode", "errors": [{"code", "message", "field"}]}``) and ASP.NET
Core's RFC 9457 style (``ProblemDetails`` / ``ValidationProblemDetails``: ``{"title",
"status", "errors": {"Messages[0].Destination": ["..."]}, "traceId"}``). Either way the error
gets its message (``title``/``detail`` plus the first field error for a problem body),
``field_errors`` (field -> messages) and ``trace_id``.

Exceptions never hold a secret: the body of a token endpoint error keeps only its
identifiers (codes, fields, ``traceId``: :func:`token_safe_body`), and the ``Authorization``
header of the request an error holds (``error.request``, ``error.response.request``) is
replaced by ``[REDACTED]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar, overload

import httpx

from ._json import JsonTooDeepError, loads

__all__ = [
    "DEFAULT_CODE",
    "STATUS_CODES",
    "STATUS_TABLE",
    "SmsFlowAuthenticationError",
    "SmsFlowDeliveryUnknownError",
    "SmsFlowError",
    "SmsFlowIdempotencyError",
    "SmsFlowInsufficientBalanceError",
    "SmsFlowNetworkError",
    "SmsFlowRateLimitError",
    "SmsFlowRequestTimeoutError",
    "SmsFlowServerError",
    "SmsFlowUnexpectedResponseError",
    "SmsFlowValidationError",
    "error_code_from_body",
    "error_for_response",
    "invalid",
    "parse_body",
    "scrub",
]

DEFAULT_CODE: Final = "SMSFLOW_ERROR"
T = TypeVar("T")


class FieldErrors(dict[str, tuple[str, ...]]):
    """Request field -> the API's messages about it, found in any letter case.

    ASP.NET names a field as its model binder spells it (``Messages[0].Destination``); the
    spec, the sandbox and smsflow's own checks as the JSON does (``messages[0].destination``).
    Either spelling finds the entry (``[]``, ``get``, ``in``); iteration shows the keys as the
    server wrote them.
    """

    def _name_for(self, key: object) -> str | None:
        """The key as stored that equals ``key`` in any letter case, or ``None``."""
        if isinstance(key, str):
            folded = key.casefold()
            for name in self:
                if name.casefold() == folded:
                    return name
        return None

    def __missing__(self, key: str) -> tuple[str, ...]:
        name = self._name_for(key)
        if name is None:
            raise KeyError(key)
        return dict.__getitem__(self, name)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or self._name_for(key) is not None

    @overload
    def get(self, key: str, default: None = None, /) -> tuple[str, ...] | None: ...
    @overload
    def get(self, key: str, default: tuple[str, ...], /) -> tuple[str, ...]: ...
    @overload
    def get(self, key: str, default: T, /) -> tuple[str, ...] | T: ...

    def get(self, key: str, default: object = None, /) -> object:
        """``self[key]`` in any letter case, else ``default``."""
        try:
            return self[key]
        except KeyError:
            return default


class SmsFlowError(Exception):
    """Base class of every error raised by smsflow.

    Attributes:
        message: One human-readable line (never contains a secret).
        status_code: The HTTP status, or ``None`` when no response was received.
        code: The API's error code (``errors[0].code``, else a top-level ``code``), or one of
            this SDK's own codes (``NETWORK_ERROR``, ``UNEXPECTED_RESPONSE``, ...).
        retryable: Whether repeating the same request later may succeed.
        body: The decoded error body (JSON value, or text), or ``None``.
        request: The ``httpx.Request`` that failed, when one was made.
        response: The ``httpx.Response`` received, when one was.
        retry_after: Seconds the server asked to wait (``Retry-After``), or ``None``.
        outcome_unknown: True when a send may have been accepted although it failed
            (a read timeout, a lost connection, a 502/504 from a gateway). Never retried.
        field_errors: Request field -> the API's messages about it (from ``errors[].field``
            or a ValidationProblemDetails ``errors`` map); empty when none were named.
        trace_id: The server's trace id of the failed request (``traceId``), or ``None``.
        before_request: True when the call failed before its own request was sent (the
            connection or the token fetch before it failed): even a send is safe to retry.
    """

    default_code: str = DEFAULT_CODE

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        body: Any = None,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        field_errors: Mapping[str, tuple[str, ...]] | None = None,
        trace_id: str | None = None,
        before_request: bool = False,
    ) -> None:
        super().__init__(message)
        self.field_errors: dict[str, tuple[str, ...]] = FieldErrors(field_errors or {})
        self.trace_id = trace_id
        self.message = message
        self.status_code = status_code
        self.code = code or self.default_code
        self.retryable = retryable
        self.body = body
        self.request = _redacted(request)
        self.response = response
        if response is not None and getattr(response, "_request", None) is not None:
            if response.request is request:
                response.request = self.request  # type: ignore[assignment]
            else:
                response.request = _redacted(response.request)  # type: ignore[assignment]
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.before_request = before_request

    def __str__(self) -> str:
        where = f"HTTP {self.status_code}" if self.status_code is not None else "no response"
        return f"{self.code}: {self.message} ({where})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r}, retryable={self.retryable!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (multiprocessing, task queues) without the request/response objects.
        return (
            _rebuild,
            (
                type(self),
                self.message,
                self.status_code,
                self.code,
                self.retryable,
                self.body,
                self.retry_after,
                self.outcome_unknown,
                self.field_errors,
                self.trace_id,
                self.before_request,
            ),
        )


def _rebuild(
    cls: type[SmsFlowError],
    message: str,
    status_code: int | None,
    code: str,
    retryable: bool,
    body: Any,
    retry_after: float | None,
    outcome_unknown: bool,
    field_errors: dict[str, tuple[str, ...]] | None = None,
    trace_id: str | None = None,
    before_request: bool = False,
) -> SmsFlowError:
    return cls(
        message,
        status_code=status_code,
        code=code,
        retryable=retryable,
        body=body,
        retry_after=retry_after,
        outcome_unknown=outcome_unknown,
        field_errors=field_errors,
        trace_id=trace_id,
        before_request=before_request,
    )


REDACTED: Final = "[REDACTED]"


def _redacted(request: httpx.Request | None) -> httpx.Request | None:
    """A copy of ``request`` whose credentials (Basic or Bearer) read ``[REDACTED]``.

    A copy, so the request object your own transport or event hooks saw is left as sent.
    """
    if request is None or "Authorization" not in request.headers:
        return request
    headers = request.headers.copy()
    headers["Authorization"] = REDACTED
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:
        content = None
    return httpx.Request(
        request.method, request.url, headers=headers, content=content, extensions=request.extensions
    )


def _safe_copy(exc: BaseException) -> BaseException | None:
    """A copy of a lower-level exception that is safe to chain: same type and message, its
    request redacted, no chain of its own; ``None`` when no safe copy can be made."""
    if not isinstance(exc, httpx.RequestError):
        return None
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # httpx: the request was never attached
        request = None
    try:
        copy = type(exc)(str(exc))
    except Exception:  # noqa: BLE001 - a subclass with another signature: chain nothing
        return None
    if request is not None:
        copy.request = _redacted(request)  # type: ignore[assignment]
    return copy


def scrub(error: SmsFlowError) -> SmsFlowError:
    """Make ``error`` safe to raise: nothing reachable from it carries a credential.

    Its ``__cause__`` becomes a copy of the lower-level exception with the request redacted
    (or nothing), and its ``__context__`` is cut (the lower layers' own exceptions hold the
    request as sent). ``request`` and ``response`` are redacted when the error is built.
    Returns ``error``.
    """
    cause = error.__cause__
    if isinstance(cause, SmsFlowError):
        scrub(cause)
    elif cause is not None:
        error.__cause__ = _safe_copy(cause)
    error.__context__ = None
    error.__suppress_context__ = True
    return error


class SmsFlowAuthenticationError(SmsFlowError):
    """The credentials or the token were refused (401, 403). Not retried: fix the credentials."""

    default_code = "AUTHENTICATION_FAILED"


class SmsFlowValidationError(SmsFlowError, ValueError):
    """The request is invalid: fix it before trying again. Never retried.

    Raised before anything is sent for bad input (``status_code`` is then ``None``), and for
    the 4xx answers that mean "fix the request" (400, 404, 409, 413, 415, 422, other 4xx).
    Also a ``ValueError``, so generic input-checking code catches it.
    """

    default_code = "INVALID_REQUEST"


def invalid(message: str, code: str, field: str | None = None) -> SmsFlowValidationError:
    """A validation error for bad input caught before sending (``status_code`` None), with a
    body shaped like the API's (``{"errors": [{"code", "message", "field"}]}``)."""
    detail: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        detail["field"] = field
    return SmsFlowValidationError(
        message,
        code=code,
        body={"errors": [detail]},
        field_errors=None if field is None else {field: (message,)},
    )


class SmsFlowInsufficientBalanceError(SmsFlowError):
    """Not enough credit (402, or a code containing ``INSUFFICIENT``). Never retried."""

    default_code = "INSUFFICIENT_BALANCE"


class SmsFlowRequestTimeoutError(SmsFlowError):
    """The server timed out waiting for the request (408): nothing was processed. Retryable."""

    default_code = "REQUEST_TIMEOUT"


class SmsFlowRateLimitError(SmsFlowError):
    """Too many requests (429): nothing was processed. ``retry_after`` says how long to wait (s)."""

    default_code = "RATE_LIMITED"


class SmsFlowServerError(SmsFlowError):
    """The API or a gateway failed (5xx). Retryable; for a send, see ``outcome_unknown``."""

    default_code = "SERVER_ERROR"


class SmsFlowNetworkError(SmsFlowError):
    """No usable answer: connect, read or write failure, or a timeout. ``status_code`` is None."""

    default_code = "NETWORK_ERROR"


class SmsFlowDeliveryUnknownError(SmsFlowNetworkError):
    """A send failed after it may have reached the API: it may or may not have been accepted.

    Never retried automatically (a retry could send the SMS twice). Check with your records or
    the SMSFlow portal before sending again.
    """

    default_code = "DELIVERY_UNKNOWN"


class SmsFlowIdempotencyError(SmsFlowError):
    """A send with an idempotency key was not made, because of the key's state in the ledger.

    ``code`` is ``IDEMPOTENCY_IN_FLIGHT`` (another worker holds the key: ``retryable``, retry
    after ``retry_after`` seconds) or ``IDEMPOTENCY_UNKNOWN`` (an earlier send may have been
    accepted: ``outcome_unknown``; check the portal, then ``force_resend=True``). Nothing was
    sent by the call that raised it.
    """

    default_code = "IDEMPOTENCY_UNKNOWN"


class SmsFlowUnexpectedResponseError(SmsFlowError):
    """A 2xx whose body is not what the spec says (bad JSON, HTML, empty, wrong shape)."""

    default_code = "UNEXPECTED_RESPONSE"


# The one table: every status the spec documents, with its class and whether a retry may help.
# Statuses not listed fall back by family (other 4xx: validation; other 5xx: server error).
STATUS_TABLE: Final[dict[int, tuple[type[SmsFlowError], bool]]] = {
    400: (SmsFlowValidationError, False),
    401: (SmsFlowAuthenticationError, False),
    402: (SmsFlowInsufficientBalanceError, False),
    403: (SmsFlowAuthenticationError, False),
    404: (SmsFlowValidationError, False),
    408: (SmsFlowRequestTimeoutError, True),
    409: (SmsFlowValidationError, False),
    413: (SmsFlowValidationError, False),
    415: (SmsFlowValidationError, False),
    422: (SmsFlowValidationError, False),
    429: (SmsFlowRateLimitError, True),
    500: (SmsFlowServerError, True),
    502: (SmsFlowServerError, True),
    503: (SmsFlowServerError, True),
    504: (SmsFlowServerError, True),
}

# The code of an answer that names none (an ASP.NET ProblemDetails body has no code), where
# the status says more than its class's default code: a 422 is a body not of the request's
# shape, a 400 a bad value (INVALID_REQUEST), as the spec documents.
STATUS_CODES: Final[dict[int, str]] = {422: "INVALID_REQUEST_SHAPE"}

# Gateways answer these after the request may have reached the API: a send's outcome is unknown.
GATEWAY_STATUSES: Final = frozenset({502, 504})

_MAX_TEXT_IN_BODY: Final = 2000


def classify_status(status_code: int) -> tuple[type[SmsFlowError], bool]:
    """Return the error class and retryability for an HTTP error status."""
    found = STATUS_TABLE.get(status_code)
    if found is not None:
        return found
    if 400 <= status_code < 500:
        return SmsFlowValidationError, False
    if status_code >= 500:
        return SmsFlowServerError, True
    return SmsFlowUnexpectedResponseError, False


def parse_body(content: bytes) -> Any:
    """Decode a response body: its JSON value, else its text (truncated), else ``None`` if empty.

    Raises:
        JsonTooDeepError: JSON nested too deeply to decode (the caller reports an unexpected
            response instead of a ``RecursionError``).
    """
    if not content:
        return None
    try:
        return loads(content)
    except JsonTooDeepError:
        raise
    except ValueError:
        text = content.decode("utf-8", errors="replace")
        return text if len(text) <= _MAX_TEXT_IN_BODY else text[:_MAX_TEXT_IN_BODY] + "..."


class ErrorBody:
    """What an error body says, read through the generated models (either body style).

    Attributes:
        code: ``errors[0].code``, else a top-level ``code``, else ``None``.
        message: The API's own words (see the module docstring), or ``None``.
        field_errors: Field -> messages.
        trace_id: ``traceId``, or ``None``.
    """

    __slots__ = ("code", "field_errors", "message", "trace_id")

    def __init__(self, body: Any) -> None:
        self.code: str | None = None
        self.message: str | None = None
        self.field_errors: dict[str, tuple[str, ...]] = {}
        self.trace_id: str | None = None
        if isinstance(body, dict):
            if _is_problem(body):
                self._read_problem(body)
            else:
                self._read_smsflow(body)

    def _read_smsflow(self, body: dict[str, Any]) -> None:
        from smsflow_api.models import ErrorResponse

        from ._models import ShapeError, read_model
        from ._results import error_details

        try:
            model = read_model(ErrorResponse, body)
        except ShapeError:  # pragma: no cover - every field of ErrorResponse is optional
            return
        details = error_details(body.get("errors"))
        first = details[0] if details else None
        if first is not None and isinstance(first.code, str) and first.code:
            self.code = first.code
        elif isinstance(model.code, str) and model.code:
            self.code = model.code
        if first is not None and isinstance(first.message, str):
            self.message = first.message
        elif isinstance(model.message, str):
            self.message = model.message
        fields: dict[str, list[str]] = {}
        for detail in details:
            if isinstance(detail.field, str) and detail.field:
                text = detail.message if isinstance(detail.message, str) else ""
                fields.setdefault(detail.field, []).append(text)
        self.field_errors = {k: tuple(v) for k, v in fields.items()}
        self.trace_id = model.trace_id if isinstance(model.trace_id, str) else None

    def _read_problem(self, body: dict[str, Any]) -> None:
        from smsflow_api.models import ValidationProblemDetails

        from ._models import ShapeError, read_model

        try:
            model = read_model(ValidationProblemDetails, body)
        except ShapeError:  # pragma: no cover - every field is optional
            return
        errors = model.errors.additional_properties if model.errors else {}
        self.field_errors = {
            str(k): tuple(str(m) for m in v) if isinstance(v, list) else (str(v),)
            for k, v in errors.items()
        }
        parts = [p for p in (model.title, model.detail) if isinstance(p, str) and p]
        text = ": ".join(parts)
        for field, messages in self.field_errors.items():
            if messages:  # a token error's body keeps field names only: no words to show
                first = f"{field}: {messages[0]}"
                text = f"{text} ({first})" if text else first
            break
        self.message = text or None
        self.trace_id = model.trace_id if isinstance(model.trace_id, str) else None


def _is_problem(body: dict[str, Any]) -> bool:
    """True for an RFC 9457 body: ``title``/``type``/``detail``, or ``errors`` as a map."""
    return any(key in body for key in ("title", "type", "detail")) or isinstance(
        body.get("errors"), dict
    )


def error_code_from_body(body: Any) -> str | None:
    """The API's error code: ``errors[0].code``, else a top-level ``code``, else ``None``."""
    return ErrorBody(body).code


_SAFE_KEYS: Final = ("statusCode", "code", "status", "type", "traceId")
_SAFE_ITEM_KEYS: Final = ("code", "field")


def _identifiers(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in keys if isinstance(data.get(k), str | int)}


def token_safe_body(body: Any) -> dict[str, Any] | None:
    """What a token endpoint's error body may keep: its identifiers only (status, codes,
    fields, type, ``traceId``), never free text (``message``, ``title``, ``detail``, unknown
    keys, a text body), which could echo a token or the secret.
    """
    if not isinstance(body, dict):
        return None
    kept = _identifiers(body, _SAFE_KEYS)
    errors = body.get("errors")
    if isinstance(errors, list):
        kept["errors"] = [_identifiers(e, _SAFE_ITEM_KEYS) for e in errors if isinstance(e, dict)]
    elif isinstance(errors, dict):
        kept["errors"] = {str(field)[:200]: [] for field in errors}
    return kept


def error_for_response(
    response: httpx.Response,
    *,
    retry_after: float | None = None,
    is_send: bool = False,
    redact: bool = False,
) -> SmsFlowError:
    """Map an error response (status >= 300) to its exception, through the one table.

    Args:
        response: The received response; its body must already be read.
        retry_after: The parsed ``Retry-After`` delay in seconds, if any.
        is_send: True for a send: a 502/504 then means the outcome is unknown.
        redact: True for the token endpoint: only the body's identifiers are kept
            (:func:`token_safe_body`).

    A body of JSON nested too deeply to decode gives a
    :class:`SmsFlowUnexpectedResponseError` (retryable as the status is; for a send, outcome
    unknown): the answer cannot be read, so nothing can be proved about the send.
    """
    status = response.status_code
    cls, retryable = classify_status(status)
    try:
        body = parse_body(response.content)
    except JsonTooDeepError:
        unknown = is_send and status >= 500
        return SmsFlowUnexpectedResponseError(
            f"SMSFlow answered {status} with JSON nested too deeply to read",
            status_code=status,
            retryable=retryable and not unknown,
            request=response.request,
            response=response,
            outcome_unknown=unknown,
        )
    if redact:
        body = token_safe_body(body)
    said = ErrorBody(body)
    code = said.code or STATUS_CODES.get(status)
    if code is not None and "INSUFFICIENT" in code.upper():
        cls, retryable = SmsFlowInsufficientBalanceError, False
    outcome_unknown = is_send and status in GATEWAY_STATUSES
    if outcome_unknown:
        retryable = False
    reason = response.reason_phrase or "error"
    message = said.message or f"SMSFlow answered {status} {reason}"
    if outcome_unknown:
        message += "; the send may or may not have been accepted"
    return cls(
        message,
        status_code=status,
        code=code,
        retryable=retryable,
        body=body,
        request=response.request,
        response=response,
        retry_after=retry_after,
        outcome_unknown=outcome_unknown,
        field_errors=said.field_errors,
        trace_id=said.trace_id,
    )
