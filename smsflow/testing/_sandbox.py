"""The sandbox's state and its one request handler, shared by every front end.

:class:`Sandbox` is an in-memory SMSFlow account: credentials, tokens, a credit balance, an
opt-out list, and records of what it was asked and what it accepted. :meth:`Sandbox.handle`
answers one HTTP request (method, path, headers, body) with a :class:`SandboxReply`, exactly as
``spec/openapi.yaml`` documents. The in-process httpx transport, the loopback HTTP server and the
WSGI adapter only move bytes to and from it.

The other concerns live beside it: answers and faults acted out in ``_replies.py``,
credentials and tokens in ``_access.py``, send validation in ``_validation.py``, networks and
prices in ``_billing.py``, records in ``_records.py``, faults in ``_faults.py`` (kinds, queue)
and ``_injection.py`` (the methods that queue them).

Decisions where the API's behaviour is not published (the spec marks them "Decision:"):

* 401 ``AUTHENTICATION_FAILED`` for missing or wrong Basic credentials; 401 ``INVALID_TOKEN``
  for a missing, unknown, expired or revoked bearer token. Authentication comes first.
* 415, 400 and 422 for a send that is not JSON, not valid JSON, or not of the request's shape
  or range (see ``_validation.py``).
* 402 ``INSUFFICIENT_BALANCE`` when the credit does not cover the whole request.
* 404 ``NOT_FOUND`` for an unknown path. Paths match case-insensitively, as ASP.NET Core
  routes (``/API/Integration/balance`` is the balance); the query is ignored.
* Error bodies are SMSFlow's ``ErrorResponse``; with ``error_style="problem"`` they are
  ASP.NET Core's RFC 9457 ``ProblemDetails`` / ``ValidationProblemDetails``
  (``application/problem+json``, with a ``traceId``), so tests can cover both.
* 405 ``METHOD_NOT_ALLOWED`` with an ``Allow`` header for a known path with another method.
  The spec documents no operation for such a request, so it cannot document its answer; the body
  is still an ``ErrorResponse``. (404 would break RFC 9110 and schemathesis' checks.)

A request that fails validation sends nothing and charges nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from ._access import TokenBook, bad_credentials, basic_matches, bearer_problem
from ._billing import DEFAULT_NETWORK_PREFIXES, DEFAULT_PRICE_PER_PART, Pricing
from ._faults import Endpoint, FaultQueue
from ._injection import FaultInjection
from ._inspect import PREFIX, inspection_reply
from ._records import RecordQueries, RequestRecord, SendEvent, SentMessage
from ._replies import SandboxReply, act_out, as_problem, error_reply, json_reply
from ._validation import SAST, ParsedSend, read_send

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
FIRST_EVENT_ID: Final = 100001
_CANONICAL_PATHS: Final[Mapping[str, str]] = {path.lower(): path for path in ROUTES}

Observer = Callable[[str, str, Mapping[str, str], bytes, SandboxReply], None]


class Sandbox(FaultInjection, RecordQueries):
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
        first_event_id: The ``eventId`` of the first accepted send (later ones count up).
        token_factory: Makes the n-th token issued (n counts from 1, again after
            :meth:`reset`), for tests that name tokens (``lambda n: f"tok-{n}"``). Default:
            random URL-safe tokens.
        error_style: ``"smsflow"`` (default): error bodies are SMSFlow's ``ErrorResponse``.
            ``"problem"``: ASP.NET Core's RFC 9457 ``ProblemDetails`` (a 400/422:
            ``ValidationProblemDetails``, fields -> messages, ``"$"`` for a message naming no
            field), with a ``traceId``, ASP.NET's ``type`` and no error codes.
        server_timezone: The API server's time zone (default SAST, +02:00). A
            ``startDeliveryUtc`` written with an offset instead of ``Z`` is scheduled as
            ASP.NET Core does: read as this zone's local time, then taken as UTC (so
            ``08:00+00:00`` goes out at 10:00 UTC). ``Z`` values are scheduled as written.

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
        first_event_id: int = FIRST_EVENT_ID,
        token_factory: Callable[[int], str] | None = None,
        error_style: str = "smsflow",
        server_timezone: tzinfo = SAST,
    ) -> None:
        if error_style not in ("smsflow", "problem"):
            raise ValueError('error_style must be "smsflow" or "problem"')
        self.error_style = error_style
        self.server_timezone = server_timezone
        self._traces = 0
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
        if isinstance(first_event_id, bool) or not isinstance(first_event_id, int):
            raise ValueError("first_event_id must be an int")
        if not 0 <= first_event_id < 2**62:
            raise ValueError("first_event_id must be from 0 to 2**62 - 1")
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
        self._pricing = Pricing(price_per_part, network_prefixes)
        self._max_records = max_records
        self._first_event_id = first_event_id
        self._token_factory = token_factory
        self._lock = threading.Lock()
        self._faults = FaultQueue()
        self._observers: tuple[Observer, ...] = (observer,) if observer is not None else ()
        self._reset_state()

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        self._balance = self._initial_balance
        self._opt_outs = set(self._initial_opt_outs)
        self._tokens = TokenBook(self._token_factory)
        self._next_event_id = self._first_event_id
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
            self._tokens.revoke_all()

    def issue_token(self, value: str | None = None) -> str:
        """A valid token, as the token endpoint would issue (not counted as a request).

        Args:
            value: The token to make valid (e.g. one a test's canned token answer hands out);
                ``None``: a new one, as ``token_factory`` or at random.
        """
        with self._lock:
            return self._new_token(value)

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

    # ------------------------------------------------------------------ helpers for users

    def transport(self, **kwargs: Any) -> SandboxTransport:
        """An httpx transport (sync and async) that answers from this sandbox in-process.

        Keyword arguments go to :class:`~smsflow.testing.SandboxTransport` (``base_path``,
        ``observer``).
        """
        from ._transport import SandboxTransport

        return SandboxTransport(self, **kwargs)

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
        if route_path.startswith(PREFIX):
            return inspection_reply(self, method, route_path)
        route_path = _CANONICAL_PATHS.get(route_path.lower(), route_path)
        lowered = {name.lower(): value for name, value in headers.items()}
        route = ROUTES.get(route_path)
        endpoint = route[0] if route is not None else None
        fault = self._faults.take(endpoint)
        authenticated = False
        if fault is None or fault.processed:
            reply, authenticated = self._process(method, route_path, lowered, body)
            if fault is not None:
                reply = act_out(fault, reply)
        else:
            reply = act_out(fault, None)
        reply = self.styled(reply)
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

    def styled(self, reply: SandboxReply) -> SandboxReply:
        """``reply`` in this sandbox's ``error_style``: as is for ``"smsflow"``; for
        ``"problem"``, an error body rewritten as ASP.NET Core's RFC 9457 problem body with
        a new ``traceId`` (see :func:`~smsflow.testing._replies.as_problem`). Front ends call
        it for the refusals they make themselves (a body they cannot read)."""
        if self.error_style != "problem":
            return reply
        with self._lock:
            self._traces += 1
            trace = f"00-{self._traces:032x}-{self._traces:016x}-01"
        return as_problem(reply, trace)

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
        problem = bearer_problem(headers, self._token_expiry, self.clock)
        if problem is not None:
            return problem, False
        if endpoint == "balance":
            return json_reply(200, {"balance": self.balance}), True
        parsed = read_send(
            headers,
            body,
            max_batch=self.max_batch,
            network_of=self._pricing.network_of,
            server_zone=self.server_timezone,
        )
        if isinstance(parsed, SandboxReply):
            return parsed, True
        return self._bill(parsed), True

    # ------------------------------------------------------------------ tokens

    def _new_token(self, value: str | None = None) -> str:
        """Issue a token. Call with the lock held."""
        return self._tokens.issue(self.clock(), self.token_lifetime_minutes * 60.0, value)

    def _token_expiry(self, token: str) -> float | None:
        with self._lock:
            return self._tokens.expires_at(token)

    def _token(self, headers: Mapping[str, str]) -> tuple[SandboxReply, bool]:
        if not basic_matches(headers, self.client_id, self.client_secret):
            return bad_credentials(), False
        with self._lock:
            token = self._new_token()
            self.tokens_issued += 1
        payload = {
            "token": token,
            "expiresInMinutes": self.advertised_expires_in_minutes,
            "schema": "Basic",
        }
        return json_reply(200, payload), True

    # ------------------------------------------------------------------ billing a send

    def _bill(self, send: ParsedSend) -> SandboxReply:
        now = self.clock()
        scheduled_for: datetime | None = None
        if send.start is not None and send.start > datetime.fromtimestamp(now, UTC):
            scheduled_for = send.start
        with self._lock:
            quote = self._pricing.quote(
                send.messages, opt_outs=self._opt_outs, check_opt_outs=send.check_opt_outs
            )
            accepted, total, parts = quote.accepted, quote.total, quote.parts
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
            self.skipped_count += len(quote.skipped)
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
                    len(quote.skipped),
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
                    {"quantity": quote.parts_by_network[net], "cost": float(cost), "network": net}
                    for net, cost in quote.costs.items()
                ],
                "errorReport": quote.skipped,
            },
            "errors": None,
        }
        return json_reply(200, payload)
