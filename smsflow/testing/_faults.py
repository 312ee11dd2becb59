"""Fault injection for the sandbox: what goes wrong, on which endpoint, and how often.

Faults are queued per endpoint (``"token"``, ``"send"``, ``"balance"``, or ``None`` for any
request, including requests to unknown paths) and consumed in the order they were queued: each
request takes the first queued fault that applies to its endpoint. When no queued fault
applies, the random fault mode (:meth:`~smsflow.testing.Sandbox.random_faults`), if on, may
pick one. The methods that queue faults are in ``_injection.py``.

Whether the sandbox *processes* the request (an accepted send is recorded and billed, a token
is issued) before acting out the fault:

=================  =========  ===================================================================
kind               processed  what the client sees
=================  =========  ===================================================================
``fail``           no [#]_    an error status with a JSON error body (``Retry-After`` optional)
``html``           no [#]_    an HTML page, as a gateway or proxy sends it
``drop``           no         the connection closes without a response
``delay``          yes        the answer arrives ``seconds`` later (a client timeout may fire)
``malformed``      yes        a 200 whose body is not valid JSON
``lose_response``  yes        the connection closes without a response (a blind retry of a
                              send duplicates the SMS)
``truncate``       yes        the status and headers, then fewer body bytes than Content-Length
``reset``          no         the connection is reset (TCP RST) without a response
``trickle``        yes        the status and headers, then the body one byte every ``seconds``
``redirect``       no         a 3xx with a ``Location`` header (to see that it is not followed)
``reply``          no [#]_    a canned answer: any status, headers and body bytes (streamed
                              without ``Content-Length`` when given as chunks)
``raise``          no [#]_    in-process, the transport raises the given exception (e.g.
                              ``httpx.ConnectError``); a socket front end closes the connection
=================  =========  ===================================================================

.. [#] unless ``processed=True``: a gateway 502/504 after the API accepted the send.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "PROCESSED_KINDS",
    "RANDOM_KINDS",
    "Endpoint",
    "Fault",
    "FaultKind",
    "FaultQueue",
    "RandomMode",
]

Endpoint = Literal["token", "send", "balance"]
FaultKind = Literal[
    "fail",
    "html",
    "drop",
    "delay",
    "malformed",
    "lose_response",
    "truncate",
    "reset",
    "trickle",
    "redirect",
    "reply",
    "raise",
]

ENDPOINTS: Final[tuple[Endpoint, ...]] = get_args(Endpoint)
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)
# Kinds the random mode may draw: the canned ones need arguments it cannot make up.
RANDOM_KINDS: Final = tuple(k for k in FAULT_KINDS if k not in ("reply", "raise"))
PROCESSED_KINDS: Final = frozenset({"delay", "malformed", "lose_response", "truncate", "trickle"})


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault.

    Attributes:
        kind: What goes wrong (see the module docstring).
        status: HTTP status of a ``fail``, ``html`` or ``malformed`` answer.
        retry_after: The ``Retry-After`` header value to send, or ``None``.
        code: The error code of a ``fail`` body (``None``: the status's usual code).
        seconds: The delay of a ``delay`` fault, or the pause between the body bytes of a
            ``trickle`` fault, in seconds.
        processed: Whether the sandbox processes the request before acting out the fault.
        body: The body of a ``malformed`` answer (``None``: a cut-off JSON object).
        location: The ``Location`` of a ``redirect`` (``None``: ``https://example.invalid/``).
        headers: The headers of a ``reply``, sent as given.
        chunks: The body of a ``reply`` sent in chunks without ``Content-Length``, or
            ``None`` to send ``body`` with one.
        exception: The exception a ``raise`` fault raises in-process.
    """

    kind: FaultKind
    status: int = 503
    retry_after: str | None = None
    code: str | None = None
    seconds: float = 0.0
    processed: bool = False
    body: bytes | None = None
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    chunks: Iterable[bytes] | None = None
    exception: BaseException | None = None


@dataclass(slots=True)
class _Pending:
    endpoint: Endpoint | None
    fault: Fault
    remaining: int


@dataclass(frozen=True, slots=True)
class RandomMode:
    """The random fault mode's settings (see ``Sandbox.random_faults``)."""

    rate: float
    kinds: tuple[FaultKind, ...]
    endpoint: Endpoint | None
    status: int
    delay_seconds: float


class FaultQueue:
    """A thread-safe, ordered queue of faults, plus the optional random fault mode."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[_Pending] = []
        self._random_mode: RandomMode | None = None
        self._rng = random.Random()

    def push(self, endpoint: Endpoint | None, fault: Fault, n: int) -> None:
        """Queue ``fault`` for the next ``n`` requests to ``endpoint`` (``None``: any request)."""
        with self._lock:
            self._pending.append(_Pending(endpoint, fault, n))

    def take(self, endpoint: Endpoint | None) -> Fault | None:
        """Consume and return the fault for one request to ``endpoint``, or ``None``.

        ``endpoint`` is ``None`` for a request to an unknown path: only faults queued for any
        endpoint apply to it.
        """
        with self._lock:
            for index, pending in enumerate(self._pending):
                if pending.endpoint is None or pending.endpoint == endpoint:
                    pending.remaining -= 1
                    if pending.remaining <= 0:
                        del self._pending[index]
                    return pending.fault
            return self._draw_random(endpoint)

    def _draw_random(self, endpoint: Endpoint | None) -> Fault | None:
        mode = self._random_mode
        if mode is None or (mode.endpoint is not None and mode.endpoint != endpoint):
            return None
        if self._rng.random() >= mode.rate:
            return None
        kind = self._rng.choice(mode.kinds)
        status = 429 if kind == "fail" and self._rng.random() < 0.25 else mode.status
        if kind == "html":
            status = 502
        elif kind == "malformed":
            status = 200
        elif kind == "redirect":
            status = 302
        retry_after = "0" if kind == "fail" and status in (429, 503) else None
        return Fault(
            kind,
            status=status,
            retry_after=retry_after,
            seconds=mode.delay_seconds,
            processed=kind in PROCESSED_KINDS,
        )

    def set_random(self, mode: RandomMode | None, seed: int | None) -> None:
        with self._lock:
            self._random_mode = mode
            self._rng = random.Random(seed)

    def pending(self, endpoint: Endpoint | None = None) -> int:
        """How many queued faults are left (for ``endpoint``, or in all when ``None``)."""
        with self._lock:
            return sum(
                p.remaining
                for p in self._pending
                if endpoint is None or p.endpoint in (None, endpoint)
            )

    def clear(self) -> None:
        """Drop every queued fault and turn the random mode off."""
        with self._lock:
            self._pending.clear()
            self._random_mode = None
