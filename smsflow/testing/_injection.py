"""The fault-injection methods of :class:`~smsflow.testing.Sandbox` (what each fault does is in
``_faults.py``), with the checks of their arguments.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

from ._faults import ENDPOINTS, RANDOM_KINDS, Endpoint, Fault, FaultKind, FaultQueue, RandomMode

__all__ = ["FaultInjection", "format_retry_after"]

# Bounds that keep a mistyped argument from hanging a test run or filling memory.
_MAX_COUNT: Final = 10_000_000
_MAX_DELAY_SECONDS: Final = 3600.0


def _check_count(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= _MAX_COUNT:
        raise ValueError(f"n must be an int from 1 to {_MAX_COUNT}, got {n!r}")
    return n


def _check_endpoint(endpoint: Endpoint | None) -> Endpoint | None:
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {ENDPOINTS} or None, got {endpoint!r}")
    return endpoint


def _check_status(status: int, low: int = 100) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not low <= status <= 599:
        raise ValueError(f"status must be an int from {low} to 599, got {status!r}")
    return status


def _check_seconds(seconds: float) -> float:
    if isinstance(seconds, bool) or not 0 <= seconds <= _MAX_DELAY_SECONDS:
        raise ValueError(f"seconds must be from 0 to {_MAX_DELAY_SECONDS}, got {seconds!r}")
    return float(seconds)


def _check_headers(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError(f"header names and values must be str, got {name!r}: {value!r}")
        try:
            name.encode("latin-1")
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(f"header {name!r} is not latin-1") from None
        if not name or any(c in name for c in " :\r\n") or any(c in value for c in "\r\n"):
            raise ValueError(f"header {name!r} is not a valid header line")
        pairs.append((name, value))
    return tuple(pairs)


def format_retry_after(value: float | str | datetime | None) -> str | None:
    """The ``Retry-After`` header value: delta-seconds, an HTTP-date, or ``None``.

    A number becomes delta-seconds (``30`` -> ``"30"``; a fraction is kept, ``0.5`` ->
    ``"0.5"``, which lenient clients accept); a ``datetime`` (aware) becomes an HTTP-date; a
    string is sent as given (to test clients against odd values).

    Raises:
        ValueError: a negative number, or a naive ``datetime``.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("retry_after datetime must be timezone-aware")
        return email.utils.format_datetime(value.astimezone(UTC), usegmt=True)
    if isinstance(value, bool) or value < 0:
        raise ValueError(f"retry_after must be >= 0 seconds, got {value!r}")
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class FaultInjection:
    """Mixin giving :class:`~smsflow.testing.Sandbox` its fault-injection methods.

    Every method returns ``None`` and raises ``ValueError`` for an out-of-range argument
    (``n`` from 1 to 10,000,000; ``endpoint`` one of ``"token"``, ``"send"``, ``"balance"`` or
    ``None`` for any request; ``status`` a valid HTTP status; ``seconds`` from 0 to 3600).
    """

    _faults: FaultQueue

    def fail_next(
        self,
        n: int = 1,
        *,
        endpoint: Endpoint | None = None,
        status: int = 503,
        retry_after: float | str | datetime | None = None,
        code: str | None = None,
        processed: bool = False,
    ) -> None:
        """Answer the next ``n`` requests with ``status`` and a JSON error body.

        Args:
            retry_after: Seconds, an aware ``datetime`` (sent as an HTTP-date) or a raw header
                string; ``None`` sends no ``Retry-After``.
            code: The error code (default: the status's usual code, e.g. 503
                ``SERVICE_UNAVAILABLE``).
            processed: Process the request first (a send is accepted and billed), as when a
                gateway fails after the API answered.
        """
        fault = Fault(
            "fail",
            status=_check_status(status, 400),
            retry_after=format_retry_after(retry_after),
            code=code,
            processed=processed,
        )
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def html_next(
        self,
        n: int = 1,
        *,
        endpoint: Endpoint | None = None,
        status: int = 502,
        processed: bool = False,
    ) -> None:
        """Answer the next ``n`` requests with an HTML error page, as gateways do."""
        fault = Fault("html", status=_check_status(status), processed=processed)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def malformed_next(
        self,
        n: int = 1,
        *,
        endpoint: Endpoint | None = None,
        status: int = 200,
        body: bytes | None = None,
    ) -> None:
        """Process the next ``n`` requests, then answer ``status`` with a body that is not JSON.

        Args:
            body: The body to send instead (e.g. ``b""`` or ``b"[]"``: not what the spec says).
        """
        if body is not None and not isinstance(body, bytes):
            raise ValueError(f"body must be bytes or None, got {type(body).__name__}")
        fault = Fault("malformed", status=_check_status(status), processed=True, body=body)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def delay_next(
        self, n: int = 1, seconds: float = 1.0, *, endpoint: Endpoint | None = None
    ) -> None:
        """Process the next ``n`` requests at once but hold each answer back ``seconds``.

        Front ends wait with the sandbox's ``sleep``. The in-process transport raises
        ``httpx.ReadTimeout`` after the request's read timeout when ``seconds`` exceeds it.
        """
        fault = Fault("delay", seconds=_check_seconds(seconds), processed=True)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def drop_next(self, n: int = 1, *, endpoint: Endpoint | None = None) -> None:
        """Close the connection of the next ``n`` requests without processing or answering them."""
        self._faults.push(_check_endpoint(endpoint), Fault("drop"), _check_count(n))

    def lose_response_next(self, n: int = 1, *, endpoint: Endpoint | None = "send") -> None:
        """Process the next ``n`` requests (a send is accepted and billed), then drop the answer.

        The case that makes a blind retry of a send deliver the SMS twice.
        """
        fault = Fault("lose_response", processed=True)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def truncate_next(self, n: int = 1, *, endpoint: Endpoint | None = None) -> None:
        """Process the next ``n`` requests, then send the headers, part of the body, and close."""
        fault = Fault("truncate", status=200, processed=True)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def reset_next(self, n: int = 1, *, endpoint: Endpoint | None = None) -> None:
        """Reset (TCP RST) the connection of the next ``n`` requests without processing them."""
        self._faults.push(_check_endpoint(endpoint), Fault("reset"), _check_count(n))

    def trickle_next(
        self, n: int = 1, seconds: float = 0.05, *, endpoint: Endpoint | None = None
    ) -> None:
        """Process the next ``n`` requests, then send the body one byte every ``seconds``.

        Each byte arrives well within a read timeout, but the whole answer takes
        ``seconds * len(body)``: only a client with a deadline for the whole call gives up.
        """
        fault = Fault("trickle", seconds=_check_seconds(seconds), processed=True)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def redirect_next(
        self,
        n: int = 1,
        location: str = "https://example.invalid/",
        *,
        endpoint: Endpoint | None = None,
        status: int = 302,
    ) -> None:
        """Answer the next ``n`` requests (unprocessed) with ``status`` and that ``Location``."""
        if not 300 <= _check_status(status) <= 399 or not isinstance(location, str):
            raise ValueError(f"a redirect needs a 3xx status and a str location, got {status!r}")
        fault = Fault("redirect", status=status, location=location)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def reply_next(
        self,
        n: int = 1,
        *,
        endpoint: Endpoint | None = None,
        status: int = 200,
        body: bytes | Iterable[bytes] = b"",
        headers: Mapping[str, str] | None = None,
        processed: bool = False,
    ) -> None:
        """Answer the next ``n`` requests with exactly this status, headers and body.

        For answers no other fault gives: a JSON array on a 200, a token answer without a
        token, a status the spec does not document, a ``Content-Length`` that lies. The headers
        are sent as given (the front end adds ``Content-Length`` only when they have none).

        Args:
            body: The body bytes; or an iterable of byte chunks, streamed without
                ``Content-Length``. A one-shot iterator (e.g. a generator, which may be
                endless) is read lazily, so it serves only ``n=1``.
            headers: Header names and values, each encodable as latin-1 (as HTTP/1.1 sends
                them).
            processed: Process the request first (a send is accepted and billed), then send
                this answer instead of the sandbox's own.

        Raises:
            ValueError: As the other methods, and for headers that are not latin-1 strings, a
                chunk that is not bytes, or a one-shot iterator with ``n > 1``.
        """
        pairs = _check_headers(headers or {})
        fault_body: bytes | None = None
        chunks: Iterable[bytes] | None = None
        if isinstance(body, bytes):
            fault_body = body
        elif isinstance(body, Iterable) and not isinstance(body, str | bytearray | memoryview):
            if iter(body) is body:
                if n != 1:
                    raise ValueError("a one-shot iterator body serves only n=1")
                chunks = body
            else:
                chunks = tuple(body)
                if not all(isinstance(chunk, bytes) for chunk in chunks):
                    raise ValueError("body chunks must be bytes")
        else:
            raise ValueError(f"body must be bytes or an iterable of bytes, got {type(body)}")
        fault = Fault(
            "reply",
            status=_check_status(status),
            processed=processed,
            body=fault_body,
            headers=pairs,
            chunks=chunks,
        )
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def raise_next(
        self,
        n: int = 1,
        *,
        endpoint: Endpoint | None = None,
        exception: BaseException,
        processed: bool = False,
    ) -> None:
        """Make the in-process transport raise ``exception`` for the next ``n`` requests.

        The transport raises a copy each time, with the request attached when it is an
        ``httpx.RequestError``: ``httpx.ConnectError("refused")`` for a refused connection,
        ``httpx.ReadTimeout(...)`` with ``processed=True`` for a send accepted whose answer
        never came. Over a socket (loopback server, WSGI) the connection is closed without an
        answer instead, the nearest a real server can do.

        Args:
            exception: The exception instance to raise.
            processed: Process the request first (a send is accepted and billed).

        Raises:
            ValueError: As the other methods, and when ``exception`` is not an exception
                instance.
        """
        if not isinstance(exception, BaseException):
            raise ValueError(f"exception must be an exception instance, got {exception!r}")
        fault = Fault("raise", status=0, processed=processed, exception=exception)
        self._faults.push(_check_endpoint(endpoint), fault, _check_count(n))

    def random_faults(
        self,
        rate: float = 0.1,
        *,
        kinds: Sequence[FaultKind] = ("fail", "drop", "lose_response"),
        seed: int | None = None,
        endpoint: Endpoint | None = None,
        status: int = 503,
        delay_seconds: float = 0.05,
    ) -> None:
        """Inject a random fault into a fraction ``rate`` of requests (for soaks).

        Queued faults still come first. ``rate=0`` turns the mode off. A ``fail`` is ``status``
        (a quarter of them 429 instead) with ``Retry-After: 0`` on 429 and 503; ``html`` is a
        502 page; ``delay`` waits ``delay_seconds``. ``seed`` makes the sequence repeatable.

        Raises:
            ValueError: ``rate`` outside 0..1, an unknown kind, or an empty ``kinds``.
        """
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be from 0 to 1, got {rate!r}")
        chosen = tuple(kinds)
        unknown = [k for k in chosen if k not in RANDOM_KINDS]
        if unknown or not chosen:
            raise ValueError(f"kinds must be a non-empty choice of {RANDOM_KINDS}, got {kinds!r}")
        mode = None
        if rate > 0:
            mode = RandomMode(
                rate,
                chosen,
                _check_endpoint(endpoint),
                _check_status(status, 400),
                _check_seconds(delay_seconds),
            )
        self._faults.set_random(mode, seed)

    def clear_faults(self) -> None:
        """Forget every queued fault and turn the random fault mode off."""
        self._faults.clear()

    def pending_faults(self, endpoint: Endpoint | None = None) -> int:
        """How many queued faults have not been used yet (all, or those for ``endpoint``)."""
        return self._faults.pending(endpoint)
