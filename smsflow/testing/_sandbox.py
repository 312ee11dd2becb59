"""The sandbox's state and its one request handler, shared by every front end.

:class:`Sandbox` is an in-memory SMSFlow account: credentials, tokens, a credit balance, an
opt-out list, and records of what it was asked and what it accepted. :meth:`Sandbox.handle`
answers one HTTP request (method, path, headers, body) with a :class:`SandboxReply`, exactly as
``spec/openapi.yaml`` documents. The in-process httpx transport, the loopback HTTP server and the
WSGI adapter only move bytes to and from it.

Decisions where the API's behaviour is not published (the spec marks them "Decision:"):

* 401 ``AUTHENTICATION_FAILED`` for missing or wrong Basic credentials; 401 ``INVALID_TOKEN``
  for a missing, unknown, expired or revoked bearer token. Authentication comes first.
* 415 ``UNSUPPORTED_MEDIA_TYPE`` when a send's ``Content-Type`` is not ``application/json``.
* 400 ``INVALID_REQUEST`` when the body is not valid UTF-8 JSON.
* 422 ``INVALID_REQUEST`` when the JSON does not have the request's shape: not an object, a
  required key missing, an unknown key (the schemas say ``additionalProperties: false``), or a
  value of the wrong JSON type. ``field`` names the place, e.g. ``messages[3].destination``.
* 400 when the shape is right but a value is out of range: ``INVALID_DESTINATION`` (not 8 to 15
  ASCII digits), ``INVALID_CONTENT`` (empty or over 1600 characters), ``INVALID_REQUEST``
  (``campaignName`` not 1 to 255 characters, ``startDeliveryUtc`` not an RFC 3339 date-time
  with an offset, no messages or more than ``max_batch``). Shape errors win: a body with both
  kinds gets a 422 listing the shape errors. At most 100 errors are listed.
* 402 ``INSUFFICIENT_BALANCE`` when the credit does not cover the whole request.
* 404 ``NOT_FOUND`` for an unknown path (exact, case-sensitive match; the query is ignored).
* 405 ``METHOD_NOT_ALLOWED`` with an ``Allow`` header for a known path with another method.
  The spec documents no operation for such a request, so it cannot document its answer; the body
  is still an ``ErrorResponse``. (404 would break RFC 9110 and schemathesis' checks.)

A request that fails validation sends nothing and charges nothing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from array import array
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, Literal

from smsflow._sms import segments

from ._faults import Endpoint, Fault, FaultInjection, FaultKind, FaultQueue

if TYPE_CHECKING:
    from smsflow import AsyncSmsFlowClient, SmsFlowClient

    from ._transport import SandboxTransport

__all__ = [
    "BASE_URL",
    "DEFAULT_NETWORK_PREFIXES",
    "ROUTES",
    "RequestRecord",
    "Sandbox",
    "SandboxReply",
    "SendEvent",
    "SentMessage",
]

BASE_URL: Final = "https://portal.smsflow.co.za"
TOKEN_PATH: Final = "/api/integration/authentication"  # noqa: S105 - a path
SEND_PATH: Final = "/api/integration/BulkMessages"
BALANCE_PATH: Final = "/api/integration/Balance"
#: Path -> (endpoint name, the one method the spec documents for it).
ROUTES: Final[Mapping[str, tuple[Endpoint, str]]] = {
    TOKEN_PATH: ("token", "GET"),
    SEND_PATH: ("send", "POST"),
    BALANCE_PATH: ("balance", "GET"),
}

#: Destination prefix -> network, for billing (longest prefix wins; else ``"Other"``).
DEFAULT_NETWORK_PREFIXES: Final[Mapping[str, str]] = {
    **dict.fromkeys(("2782", "2772", "2776", "2779"), "Vodacom"),
    **dict.fromkeys(("2783", "2773", "2778", "2763"), "MTN"),
    **dict.fromkeys(("2784", "2774"), "Cell C"),
    "2781": "Telkom",
}
OTHER_NETWORK: Final = "Other"
DEFAULT_PRICE_PER_PART: Final = 0.25
_DEFAULT_PRICE: Final = Decimal("0.25")
FIRST_EVENT_ID: Final = 100001
MAX_CONTENT_CHARS: Final = 1600
MAX_CAMPAIGN_CHARS: Final = 255
_MAX_ERRORS: Final = 100
_MAX_LIVE_TOKENS: Final = 1024

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
    422: "INVALID_REQUEST",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}

_JSON: Final = "application/json; charset=utf-8"
_HTML_PAGE: Final = (
    "<html><head><title>{status} Error</title></head><body><center><h1>{status} Error</h1>"
    "</center><hr><center>gateway</center></body></html>"
)
_MALFORMED_BODY: Final = b'{"statusCode": 200, "sendResponse": {"cost": 0.25, "remaini'
_DESTINATION: Final = re.compile(r"[0-9]{8,15}")
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_SEND_KEYS: Final = frozenset({"SendOptions", "messages"})
_OPTION_KEYS: Final = frozenset({"startDeliveryUtc", "campaignName", "checkOptOuts"})
_MESSAGE_KEYS: Final = frozenset({"content", "destination"})

Observer = Callable[[str, str, Mapping[str, str], bytes, "SandboxReply"], None]


@dataclass(frozen=True, slots=True)
class SandboxReply:
    """The sandbox's answer to one request, for a front end to deliver.

    Attributes:
        status: HTTP status (0 when the request was dropped before processing).
        headers: Response headers, without ``Content-Length`` (front ends add it).
        body: Response body bytes.
        fault: The injected fault kind acted out, or ``None``.
        delay: Seconds the front end waits before answering.
        action: ``"answer"``; ``"drop"`` (close without answering); ``"reset"`` (reset the
            connection without answering); or ``"truncate"`` (send the headers and only part
            of the body, then close).
        trickle: Seconds the front end waits before each body byte (0: send it at once).
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    fault: FaultKind | None = None
    delay: float = 0.0
    action: Literal["answer", "drop", "reset", "truncate"] = "answer"
    trickle: float = 0.0

    @property
    def answered(self) -> bool:
        """Whether the client receives a status line and headers."""
        return self.action not in ("drop", "reset")

    def json(self) -> Any:
        """The body decoded as JSON. Raises ``ValueError`` if it is not JSON."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the sandbox received. Holds no secret: no headers, no body, no token.

    Attributes:
        method: HTTP method, upper case.
        path: The path without the query.
        endpoint: ``"token"``, ``"send"``, ``"balance"``, or ``None`` for an unknown path.
        time: The sandbox clock when it arrived (seconds, as ``clock()`` returns).
        status: The status decided (0: dropped unprocessed); see ``answered``.
        answered: False when the client got no response (a dropped connection).
        had_token: The request carried ``Authorization: Bearer ...``.
        authenticated: Its credentials or token were valid.
        fault: The injected fault kind, or ``None``.
    """

    method: str
    path: str
    endpoint: Endpoint | None
    time: float
    status: int
    answered: bool
    had_token: bool
    authenticated: bool
    fault: FaultKind | None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One accepted message (recorded when ``record_messages`` is true).

    Attributes:
        event_id: The send's ``eventId``.
        destination: The MSISDN.
        content: The text.
        parts: SMS parts billed.
        network: The network billed (``"Other"`` when the prefix is unknown).
        campaign: The send's ``campaignName``.
        scheduled_for: The requested delivery time when it is in the future, else ``None``.
    """

    event_id: int
    destination: str
    content: str
    parts: int
    network: str
    campaign: str
    scheduled_for: datetime | None


@dataclass(frozen=True, slots=True)
class SendEvent:
    """One accepted send request.

    Attributes:
        event_id: Its ``eventId``.
        time: The sandbox clock when accepted (seconds).
        campaign: ``campaignName``.
        messages: Messages accepted (opted-out ones excluded).
        parts: SMS parts billed.
        cost: Credits charged.
        skipped: Messages skipped because their destination opted out.
        scheduled_for: The requested delivery time when it is in the future, else ``None``.
    """

    event_id: int
    time: float
    campaign: str
    messages: int
    parts: int
    cost: float
    skipped: int
    scheduled_for: datetime | None


@dataclass(frozen=True, slots=True)
class _Problem:
    status: int
    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class _ParsedMessage:
    destination: str
    content: str
    parts: int
    network: str
    fingerprint: int


@dataclass(frozen=True, slots=True)
class _ParsedSend:
    campaign: str
    check_opt_outs: bool
    start: datetime | None
    messages: list[_ParsedMessage] = field(default_factory=list)


def fingerprint(destination: str, content: str) -> int:
    """A 64-bit digest of one (destination, content) pair, as the sandbox stores it."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(destination.encode("utf-8", "surrogatepass"))
    digest.update(b"\x00")
    digest.update(content.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big")


def error_reply(
    status: int,
    code: str,
    message: str,
    field_name: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> SandboxReply:
    """A JSON ``ErrorResponse`` reply with one error."""
    return errors_reply(status, [_Problem(status, code, message, field_name)], headers=headers)


def errors_reply(
    status: int, problems: Iterable[_Problem], *, headers: Mapping[str, str] | None = None
) -> SandboxReply:
    items: list[dict[str, str]] = []
    for problem in problems:
        item = {"code": problem.code, "message": problem.message}
        if problem.field is not None:
            item["field"] = problem.field
        items.append(item)
    return _json_reply(status, {"statusCode": status, "errors": items}, headers)


def _json_reply(
    status: int, payload: object, headers: Mapping[str, str] | None = None
) -> SandboxReply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return SandboxReply(status, {"Content-Type": _JSON, **(headers or {})}, body)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _parse_date_time(value: str) -> datetime | None:
    """An RFC 3339 date-time with a ``Z`` or numeric offset, or ``None`` if it is not one."""
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    sign, off_h, off_m = match.group(8, 9, 10)
    try:
        if sign is None:
            tz = UTC
        else:
            if int(off_h) > 23 or int(off_m) > 59:
                return None
            offset = (int(off_h) * 60 + int(off_m)) * (1 if sign == "+" else -1)
            tz = timezone(timedelta(minutes=offset))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


class Sandbox(FaultInjection):
    """An in-memory SMSFlow account that answers requests as ``spec/openapi.yaml`` says.

    Thread-safe: one lock guards the state, so the threaded loopback server and many client
    threads or tasks may use one sandbox at once.

    Args:
        client_id: The valid client id.
        client_secret: The valid client secret.
        balance: Starting credit.
        token_lifetime_minutes: How long a token really stays valid (minutes, by ``clock``).
        advertised_expires_in_minutes: The ``expiresInMinutes`` the token endpoint reports
            (whole minutes, >= 1). Default: the lifetime (at least 1). Set it above the lifetime
            to mimic tokens revoked before their advertised expiry.
        price_per_part: Credits per SMS part: one number, or a mapping of network name to
            price (networks it omits cost 0.25).
        opt_outs: Destinations that opted out.
        clock: Current time in seconds (``time.time`` by default); token expiry, records and
            "is this scheduled time in the future" use it.
        sleep: How front ends wait for a ``delay`` fault (seconds), synchronously.
        async_sleep: The same for the async transport.
        max_batch: Most messages one send may hold (the spec's ``maxItems`` is 1000).
        network_prefixes: Destination prefix -> network name (default: South African networks).
        record_messages: Keep a :class:`SentMessage` per accepted message in :attr:`messages`.
            Off, only counts and an 8-byte fingerprint per message are kept (8 MB for a million
            messages); :meth:`assert_each_accepted_once` works either way.
        max_records: How many :attr:`requests` and :attr:`events` are kept (oldest dropped);
            the counters always count everything.
        observer: Called as ``observer(method, path, headers, body, reply)`` after every request,
            outside the lock (headers are lower-cased). Add more with :meth:`add_observer`.

    Raises:
        ValueError: An argument is out of range.
    """

    def __init__(
        self,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's public test secret
        *,
        balance: float = 1000.0,
        token_lifetime_minutes: float = 120,
        advertised_expires_in_minutes: int | None = None,
        price_per_part: float | Mapping[str, float] = DEFAULT_PRICE_PER_PART,
        opt_outs: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_batch: int = 1000,
        network_prefixes: Mapping[str, str] = DEFAULT_NETWORK_PREFIXES,
        record_messages: bool = True,
        max_records: int = 100_000,
        observer: Observer | None = None,
    ) -> None:
        if not token_lifetime_minutes > 0:
            raise ValueError("token_lifetime_minutes must be > 0")
        advertised = (
            max(1, int(token_lifetime_minutes))
            if advertised_expires_in_minutes is None
            else advertised_expires_in_minutes
        )
        if isinstance(advertised, bool) or not isinstance(advertised, int) or advertised < 1:
            raise ValueError("advertised_expires_in_minutes must be an int >= 1")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError("max_batch must be an int >= 1")
        if max_records < 1:
            raise ValueError("max_records must be >= 1")
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime_minutes = float(token_lifetime_minutes)
        self.advertised_expires_in_minutes = advertised
        self.max_batch = max_batch
        self.record_messages = record_messages
        self.clock = clock
        self.sleep = sleep
        self.async_sleep = async_sleep
        self._initial_balance = Decimal(str(balance))
        self._initial_opt_outs = frozenset(opt_outs)
        self._flat_price, self._prices = self._price_table(price_per_part)
        self._prefixes = dict(network_prefixes)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes}, reverse=True)
        self._max_records = max_records
        self._lock = threading.Lock()
        self._faults = FaultQueue()
        self._observers: tuple[Observer, ...] = (observer,) if observer is not None else ()
        self._reset_state()

    # ------------------------------------------------------------------ state and records

    def _reset_state(self) -> None:
        self._balance = self._initial_balance
        self._opt_outs = set(self._initial_opt_outs)
        self._tokens: dict[str, float] = {}
        self._next_event_id = FIRST_EVENT_ID
        self._requests: deque[RequestRecord] = deque(maxlen=self._max_records)
        self._events: deque[SendEvent] = deque(maxlen=self._max_records)
        self._messages: list[SentMessage] = []
        self._fingerprints = array("Q")
        self.request_count = 0
        self.token_requests = 0
        self.tokens_issued = 0
        self.send_count = 0
        self.accepted_count = 0
        self.accepted_parts = 0
        self.skipped_count = 0

    def reset(self) -> None:
        """Back to the starting state: balance, opt-outs, no tokens, records or faults.

        Observers stay registered.
        """
        with self._lock:
            self._reset_state()
        self._faults.clear()

    def __repr__(self) -> str:
        return (
            f"Sandbox(client_id={self.client_id!r}, balance={self.balance!r}, "
            f"requests={self.request_count}, accepted={self.accepted_count})"
        )

    @property
    def balance(self) -> float:
        """The credit left. Assign to change it."""
        with self._lock:
            return float(self._balance)

    @balance.setter
    def balance(self, value: float) -> None:
        with self._lock:
            self._balance = Decimal(str(value))

    @property
    def requests(self) -> list[RequestRecord]:
        """The requests received, oldest first (the last ``max_records``)."""
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[SendEvent]:
        """The accepted sends, oldest first (the last ``max_records``)."""
        with self._lock:
            return list(self._events)

    @property
    def messages(self) -> list[SentMessage]:
        """The accepted messages, in order (empty when ``record_messages`` is false)."""
        with self._lock:
            return list(self._messages)

    @property
    def opt_outs(self) -> frozenset[str]:
        """The destinations that opted out."""
        with self._lock:
            return frozenset(self._opt_outs)

    def opt_out(self, *destinations: str) -> None:
        """Add destinations to the opt-out list."""
        with self._lock:
            self._opt_outs.update(destinations)

    def opt_in(self, *destinations: str) -> None:
        """Remove destinations from the opt-out list (absent ones are ignored)."""
        with self._lock:
            self._opt_outs.difference_update(destinations)

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (they answer 401 ``INVALID_TOKEN``)."""
        with self._lock:
            self._tokens.clear()

    def issue_token(self) -> str:
        """A valid token, as the token endpoint would issue (not counted as a request)."""
        with self._lock:
            return self._new_token()

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer(method, path, headers, body, reply)`` after every request."""
        with self._lock:
            self._observers = (*self._observers, observer)

    def remove_observer(self, observer: Observer) -> None:
        """Stop calling ``observer``. Raises ``ValueError`` if it was not added."""
        with self._lock:
            observers = list(self._observers)
            observers.remove(observer)
            self._observers = tuple(observers)

    fingerprint = staticmethod(fingerprint)

    def accepted_times(self, destination: str, content: str) -> int:
        """How many times this (destination, content) pair was accepted (a scan: O(messages))."""
        wanted = fingerprint(destination, content)
        with self._lock:
            return self._fingerprints.count(wanted)

    def duplicate_count(self) -> int:
        """Accepted messages that repeat an earlier accepted (destination, content) pair."""
        with self._lock:
            total = len(self._fingerprints)
            distinct = len(set(self._fingerprints))
        return total - distinct

    def assert_each_accepted_once(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Check that exactly these (destination, content) pairs were accepted, once each.

        Works without message records, by fingerprint. Memory while it runs: about 50 bytes
        per message (a million messages: about 100 MB, released at once). Pass a sequence
        (a list) rather than a one-shot iterator to get example pairs in the failure message.

        Raises:
            AssertionError: a pair was never accepted or accepted more than once, an accepted
                message is not among ``pairs``, or a pair is listed twice. The message gives
                counts and, for a sequence, examples.
        """
        wanted = sorted(fingerprint(destination, content) for destination, content in pairs)
        with self._lock:
            got = sorted(self._fingerprints)
        repeated = sum(1 for a, b in itertools.pairwise(wanted) if a == b)
        if repeated == 0 and got == wanted:
            return
        counts = Counter(got)
        expected = set(wanted)
        del wanted, got
        missing = [key for key in expected if key not in counts]
        duplicated = {key: counts[key] for key in expected if counts[key] > 1}
        unexpected = sum(n for key, n in counts.items() if key not in expected)
        examples = ""
        if isinstance(pairs, Sequence):
            lost = set(missing[:3])
            named = {fingerprint(d, c): (d, c) for d, c in pairs}
            examples = (
                f"; never accepted e.g. {[named[k] for k in lost]}"
                f"; repeated e.g. {[(named[k], n) for k, n in list(duplicated.items())[:3]]}"
            )
        raise AssertionError(
            f"accepted {sum(counts.values())} messages for {len(expected)} expected pairs: "
            f"{len(missing)} never accepted, {len(duplicated)} accepted more than once, "
            f"{unexpected} accepted but not expected"
            + (f", {repeated} pairs listed twice" if repeated else "")
            + examples
        )

    # ------------------------------------------------------------------ helpers for users

    def transport(self) -> SandboxTransport:
        """An httpx transport (sync and async) that answers from this sandbox in-process."""
        from ._transport import SandboxTransport

        return SandboxTransport(self)

    def client(self, **kwargs: Any) -> SmsFlowClient:
        """A :class:`smsflow.SmsFlowClient` wired to this sandbox in-process.

        Keyword arguments go to the client; ``client_id``, ``client_secret``, ``base_url`` and
        ``http_client`` default to this sandbox's. Close it with ``close()`` (the in-process
        httpx client holds no connection).
        """
        import httpx

        from smsflow import SmsFlowClient

        kwargs.setdefault("client_id", self.client_id)
        kwargs.setdefault("client_secret", self.client_secret)
        kwargs.setdefault("base_url", BASE_URL)
        if "http_client" not in kwargs:
            kwargs["http_client"] = httpx.Client(transport=self.transport())
        return SmsFlowClient(**kwargs)

    def async_client(self, **kwargs: Any) -> AsyncSmsFlowClient:
        """An :class:`smsflow.AsyncSmsFlowClient` on this sandbox, in-process (see ``client``)."""
        import httpx

        from smsflow import AsyncSmsFlowClient

        kwargs.setdefault("client_id", self.client_id)
        kwargs.setdefault("client_secret", self.client_secret)
        kwargs.setdefault("base_url", BASE_URL)
        if "http_client" not in kwargs:
            kwargs["http_client"] = httpx.AsyncClient(transport=self.transport())
        return AsyncSmsFlowClient(**kwargs)

    # ------------------------------------------------------------------ the handler

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> SandboxReply:
        """Answer one request. Never raises for any request content (an observer may raise).

        Args:
            method: The HTTP method.
            path: The request target's path, with or without a query (ignored).
            headers: The request headers (any case).
            body: The request body.

        Returns:
            The reply for a front end to deliver, with any injected fault to act out.
        """
        method = method.upper()
        route_path = path.split("?", 1)[0]
        lowered = {name.lower(): value for name, value in headers.items()}
        route = ROUTES.get(route_path)
        endpoint = route[0] if route is not None else None
        fault = self._faults.take(endpoint)
        authenticated = False
        if fault is None or fault.processed:
            reply, authenticated = self._process(method, route_path, lowered, body)
            if fault is not None:
                reply = self._act_out(fault, reply)
        else:
            reply = self._act_out(fault, None)
        scheme = lowered.get("authorization", "").partition(" ")[0].lower()
        record = RequestRecord(
            method=method,
            path=route_path,
            endpoint=endpoint,
            time=self.clock(),
            status=reply.status,
            answered=reply.answered,
            had_token=scheme == "bearer",
            authenticated=authenticated,
            fault=reply.fault,
        )
        with self._lock:
            self.request_count += 1
            if endpoint == "token":
                self.token_requests += 1
            self._requests.append(record)
            observers = self._observers
        for observer in observers:
            observer(method, path, lowered, body, reply)
        return reply

    def _act_out(self, fault: Fault, reply: SandboxReply | None) -> SandboxReply:
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
            return SandboxReply(fault.status, {"Content-Type": _JSON}, body, fault=kind)
        if kind == "redirect":
            location = fault.location or "https://example.invalid/"
            return SandboxReply(fault.status, {"Location": location}, b"", fault=kind)
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

    def _process(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[SandboxReply, bool]:
        route = ROUTES.get(path)
        if route is None:
            return error_reply(404, "NOT_FOUND", f"No such path: {path[:200]}"), False
        endpoint, allowed = route
        if method != allowed:
            reply = error_reply(
                405,
                "METHOD_NOT_ALLOWED",
                f"{method[:20]} is not allowed here; use {allowed}.",
                headers={"Allow": allowed},
            )
            return reply, False
        if endpoint == "token":
            return self._token(headers)
        problem = self._check_token(headers)
        if problem is not None:
            return problem, False
        if endpoint == "balance":
            return _json_reply(200, {"balance": self.balance}), True
        return self._send(headers, body), True

    # ------------------------------------------------------------------ authentication

    def _new_token(self) -> str:
        now = self.clock()
        if len(self._tokens) >= _MAX_LIVE_TOKENS:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = now + self.token_lifetime_minutes * 60.0
        return token

    def _token(self, headers: Mapping[str, str]) -> tuple[SandboxReply, bool]:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        given: bytes | None = None
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                given = None
        expected = f"{self.client_id}:{self.client_secret}".encode()
        if given is None or not secrets.compare_digest(given, expected):
            reply = error_reply(
                401,
                "AUTHENTICATION_FAILED",
                "Invalid client credentials.",
                headers={"WWW-Authenticate": 'Basic realm="SMSFlow"'},
            )
            return reply, False
        with self._lock:
            token = self._new_token()
            self.tokens_issued += 1
        payload = {
            "token": token,
            "expiresInMinutes": self.advertised_expires_in_minutes,
            "schema": "Basic",
        }
        return _json_reply(200, payload), True

    def _check_token(self, headers: Mapping[str, str]) -> SandboxReply | None:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        token = value.strip()
        if scheme.lower() != "bearer" or not token:
            message = "A bearer token is required."
        else:
            with self._lock:
                expires_at = self._tokens.get(token)
            if expires_at is None:
                message = "The token is unknown or was revoked."
            elif self.clock() >= expires_at:
                message = "The token has expired."
            else:
                return None
        return error_reply(
            401, "INVALID_TOKEN", message, headers={"WWW-Authenticate": 'Bearer realm="SMSFlow"'}
        )

    # ------------------------------------------------------------------ sending

    def _send(self, headers: Mapping[str, str], body: bytes) -> SandboxReply:
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            return error_reply(
                415, "UNSUPPORTED_MEDIA_TYPE", "The body must be JSON (application/json)."
            )
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return error_reply(400, "INVALID_REQUEST", "The body is not valid JSON.")
        parsed = self._parse_send(data)
        if isinstance(parsed, list):
            status = 422 if any(p.status == 422 for p in parsed) else 400
            return errors_reply(status, [p for p in parsed if p.status == status][:_MAX_ERRORS])
        return self._bill(parsed)

    def _parse_send(self, data: object) -> _ParsedSend | list[_Problem]:
        """The send request, or its problems (422: shape, 400: values)."""
        problems: list[_Problem] = []

        def shape(message: str, where: str | None) -> None:
            problems.append(_Problem(422, "INVALID_REQUEST", message, where))

        def value(code: str, message: str, where: str) -> None:
            problems.append(_Problem(400, code, message, where))

        if not isinstance(data, dict):
            shape("The body must be a JSON object.", None)
            return problems
        for key in sorted(set(data) - _SEND_KEYS)[:_MAX_ERRORS]:
            shape("Unknown property.", key[:100])
        for key in sorted(_SEND_KEYS - set(data)):
            shape("Required property is missing.", key)

        campaign, check_opt_outs, start = "", True, None
        options = data.get("SendOptions")
        if "SendOptions" in data and not isinstance(options, dict):
            shape("SendOptions must be an object.", "SendOptions")
        elif isinstance(options, dict):
            for key in sorted(set(options) - _OPTION_KEYS)[:_MAX_ERRORS]:
                shape("Unknown property.", f"SendOptions.{key[:100]}")
            for key in sorted(_OPTION_KEYS - set(options)):
                shape("Required property is missing.", f"SendOptions.{key}")
            raw_campaign = options.get("campaignName")
            if "campaignName" in options and not isinstance(raw_campaign, str):
                shape("campaignName must be a string.", "SendOptions.campaignName")
            elif isinstance(raw_campaign, str):
                campaign = raw_campaign
                if not 1 <= len(campaign) <= MAX_CAMPAIGN_CHARS:
                    value(
                        "INVALID_REQUEST",
                        "campaignName must be 1 to 255 characters.",
                        "SendOptions.campaignName",
                    )
            raw_check = options.get("checkOptOuts")
            if "checkOptOuts" in options and not isinstance(raw_check, bool):
                shape("checkOptOuts must be true or false.", "SendOptions.checkOptOuts")
            elif isinstance(raw_check, bool):
                check_opt_outs = raw_check
            raw_start = options.get("startDeliveryUtc")
            if raw_start is not None and not isinstance(raw_start, str):
                shape("startDeliveryUtc must be a string or null.", "SendOptions.startDeliveryUtc")
            elif isinstance(raw_start, str):
                start = _parse_date_time(raw_start)
                if start is None:
                    value(
                        "INVALID_REQUEST",
                        "startDeliveryUtc must be an RFC 3339 date-time with an offset.",
                        "SendOptions.startDeliveryUtc",
                    )

        parsed_messages: list[_ParsedMessage] = []
        raw_messages = data.get("messages")
        if "messages" in data and not isinstance(raw_messages, list):
            shape("messages must be an array.", "messages")
        elif isinstance(raw_messages, list):
            if not 1 <= len(raw_messages) <= self.max_batch:
                value(
                    "INVALID_REQUEST",
                    f"messages must hold 1 to {self.max_batch} messages.",
                    "messages",
                )
            else:
                parsed_messages = self._parse_messages(raw_messages, problems)
        if problems:
            return problems
        return _ParsedSend(campaign, check_opt_outs, start, parsed_messages)

    def _parse_messages(
        self, raw_messages: list[object], problems: list[_Problem]
    ) -> list[_ParsedMessage]:
        parsed: list[_ParsedMessage] = []
        for index, item in enumerate(raw_messages):
            where = f"messages[{index}]"
            if not isinstance(item, dict):
                problems.append(
                    _Problem(422, "INVALID_REQUEST", "A message must be an object.", where)
                )
                continue
            problems.extend(
                _Problem(422, "INVALID_REQUEST", "Unknown property.", f"{where}.{key[:100]}")
                for key in sorted(set(item) - _MESSAGE_KEYS)[:_MAX_ERRORS]
            )
            content = item.get("content")
            destination = item.get("destination")
            for name, found in (("content", content), ("destination", destination)):
                if name not in item:
                    problems.append(
                        _Problem(
                            422,
                            "INVALID_REQUEST",
                            "Required property is missing.",
                            f"{where}.{name}",
                        )
                    )
                elif not isinstance(found, str):
                    problems.append(
                        _Problem(
                            422, "INVALID_REQUEST", f"{name} must be a string.", f"{where}.{name}"
                        )
                    )
            if not isinstance(content, str) or not isinstance(destination, str):
                continue
            bad = False
            if not 1 <= len(content) <= MAX_CONTENT_CHARS:
                problems.append(
                    _Problem(
                        400,
                        "INVALID_CONTENT",
                        "content must be 1 to 1600 characters.",
                        f"{where}.content",
                    )
                )
                bad = True
            if _DESTINATION.fullmatch(destination) is None:
                problems.append(
                    _Problem(
                        400,
                        "INVALID_DESTINATION",
                        "Destination must be 8 to 15 digits.",
                        f"{where}.destination",
                    )
                )
                bad = True
            if bad or problems:
                continue
            parsed.append(
                _ParsedMessage(
                    destination,
                    content,
                    segments(content).parts,
                    self._network_of(destination),
                    fingerprint(destination, content),
                )
            )
        return parsed

    def _network_of(self, destination: str) -> str:
        for length in self._prefix_lengths:
            network = self._prefixes.get(destination[:length])
            if network is not None:
                return network
        return OTHER_NETWORK

    @staticmethod
    def _price_table(
        price: float | Mapping[str, float],
    ) -> tuple[Decimal | None, dict[str, Decimal]]:
        """``(flat price or None, per-network prices)``. Raises ``ValueError`` if one is < 0."""
        if isinstance(price, Mapping):
            flat, table = None, {network: Decimal(str(p)) for network, p in price.items()}
        else:
            flat, table = Decimal(str(price)), {}
        if (flat is not None and flat < 0) or any(p < 0 for p in table.values()):
            raise ValueError("prices must be >= 0")
        return flat, table

    def _price(self, network: str) -> Decimal:
        if self._flat_price is not None:
            return self._flat_price
        return self._prices.get(network, _DEFAULT_PRICE)

    def _bill(self, send: _ParsedSend) -> SandboxReply:
        now = self.clock()
        scheduled_for: datetime | None = None
        if send.start is not None and send.start > datetime.fromtimestamp(now, UTC):
            scheduled_for = send.start
        with self._lock:
            skipped: list[dict[str, str]] = []
            accepted: list[_ParsedMessage] = []
            for index, message in enumerate(send.messages):
                if send.check_opt_outs and message.destination in self._opt_outs:
                    skipped.append(
                        {
                            "code": "OPTED_OUT",
                            "message": "The recipient opted out; the message was not sent.",
                            "field": f"messages[{index}].destination",
                        }
                    )
                else:
                    accepted.append(message)
            parts_by_network: dict[str, int] = {}
            for message in accepted:
                parts_by_network[message.network] = (
                    parts_by_network.get(message.network, 0) + message.parts
                )
            costs = {net: self._price(net) * parts for net, parts in parts_by_network.items()}
            total = sum(costs.values(), Decimal(0))
            parts = sum(parts_by_network.values())
            if total > self._balance:
                return error_reply(
                    402,
                    "INSUFFICIENT_BALANCE",
                    f"Not enough credit to send {parts} parts: they cost {total}, "
                    f"the balance is {self._balance}.",
                )
            self._balance -= total
            event_id = self._next_event_id
            self._next_event_id += 1
            self.send_count += 1
            self.accepted_count += len(accepted)
            self.accepted_parts += parts
            self.skipped_count += len(skipped)
            self._fingerprints.extend(m.fingerprint for m in accepted)
            if self.record_messages:
                self._messages.extend(
                    SentMessage(
                        event_id,
                        m.destination,
                        m.content,
                        m.parts,
                        m.network,
                        send.campaign,
                        scheduled_for,
                    )
                    for m in accepted
                )
            self._events.append(
                SendEvent(
                    event_id,
                    now,
                    send.campaign,
                    len(accepted),
                    parts,
                    float(total),
                    len(skipped),
                    scheduled_for,
                )
            )
            remaining = float(self._balance)
        payload = {
            "statusCode": 200,
            "sendResponse": {
                "cost": float(total),
                "remainingBalance": remaining,
                "eventId": event_id,
                "sample": accepted[0].content if accepted else None,
                "messages": len(accepted),
                "parts": parts,
                "costBreakdown": [
                    {"quantity": parts_by_network[net], "cost": float(cost), "network": net}
                    for net, cost in costs.items()
                ],
                "errorReport": skipped,
            },
            "errors": None,
        }
        return _json_reply(200, payload)
