"""Single flight of token fetches: who fetches, who shares a failure. Decisions only, no I/O.

One :class:`Flight` per token store object and account key (:func:`flight_for`): every client
given the same store shares its fetch lock and its :class:`FetchState`, so at most one fetch
is in flight per store however many clients use it. The auth flows ask it:

* before waiting for the fetch lock: how long a call may wait (its own timeout:
  :func:`lock_wait`), and whether a valid old token lets it skip the wait;
* after taking the lock, with no usable token: :meth:`FetchState.shared_failure`: the
  failure to raise instead of sending another token request. A call shares the outcome of
  a fetch that ended while it waited for the lock, and, for :data:`FAILURE_BACKOFF_S` seconds
  after a failure, every other call (retries included) shares it too. Only the call whose
  own token request failed may fetch again at once on its retry, so the token endpoint sees
  one call's retries, not every call's: about ``retry_retries + 1`` token requests per
  back-off window, however many calls fail together.

Which failure a call made itself is kept per call: the clients wrap each public call (and each
bulk batch, retries included) in :func:`one_call`, a :class:`contextvars.ContextVar` the auth
flow reads in the same thread or task.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from ._errors import SmsFlowError, SmsFlowNetworkError

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "FAILURE_BACKOFF_S",
    "FetchState",
    "Flight",
    "flight_for",
    "lock_timeout_error",
    "lock_wait",
    "mark_before_request",
    "one_call",
]

FAILURE_BACKOFF_S: Final = 1.0  # after a failed fetch, new calls share it this long (s)


class _Call:
    """One public call (or one bulk batch): remembers the token failures it has seen."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: tuple[int, int] = (0, -1)  # (id of the FetchState, its generation)


_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("smsflow_call", default=None)


class one_call:  # noqa: N801 - used as a function: ``with one_call():``
    """Mark the calls made inside as one call (a public method, or a bulk batch with its
    retries): a retry inside it may fetch again after a failure it has seen. Nested uses
    join the outer call. (A class, not ``@contextmanager``: a third of its cost per call.)"""

    __slots__ = ("_marker",)

    def __enter__(self) -> None:
        self._marker = None if _CALL.get() is not None else _CALL.set(_Call())

    def __exit__(self, *exc_info: object) -> None:
        if self._marker is not None:
            _CALL.reset(self._marker)


def _seen() -> tuple[int, int]:
    call = _CALL.get()
    return (0, -1) if call is None else call.seen


def _see(state: FetchState) -> None:
    call = _CALL.get()
    if call is not None:
        call.seen = (id(state), state.generation)


def mark_before_request(error: SmsFlowError) -> SmsFlowError:
    """``error``, marked as raised before the call's own request was sent (a failed token
    fetch): safe to retry, even a send."""
    error.before_request = True
    return error


def _copy(error: SmsFlowError) -> SmsFlowError:
    """A fresh copy of ``error`` to raise in another call (no request, response or chain)."""
    rebuild, args = error.__reduce__()[:2]
    return mark_before_request(rebuild(*args))


def lock_wait(timeout: Mapping[str, Any] | None) -> float:
    """Seconds a call may wait for another call's token fetch: the largest part of its
    timeout (the request's ``timeout`` extension). Never unbounded."""
    parts = [v for v in (timeout or {}).values() if isinstance(v, int | float)]
    return float(max(parts)) if parts else 30.0


def lock_timeout_error(waited: float) -> SmsFlowError:
    """The error of a call that waited its whole timeout for another call's token fetch.
    Nothing was sent (retryable, even for a send)."""
    return mark_before_request(
        SmsFlowNetworkError(
            f"no token within the call's timeout ({waited:g} s): another call's token request "
            "is still waiting for its answer; nothing was sent",
            code="CONNECT_FAILED",
            retryable=True,
        )
    )


class FetchState:
    """The outcome of the last token fetch of one cache, for calls that wait on it."""

    def __init__(self) -> None:
        self.generation = 0  # fetches ended (answered or not)
        self._failure: SmsFlowError | None = None
        self._failed_at = -math.inf  # time.monotonic() of the last failure

    def succeeded(self) -> None:
        """A fetch ended with a token."""
        self.generation += 1
        self._failure = None

    def failed(self, error: SmsFlowError | None) -> None:
        """A fetch ended without a token: ``error`` is its error (``None``: no answer)."""
        self.generation += 1
        self._failure = error or SmsFlowNetworkError(
            "the token request got no answer (dropped, reset or timed out); nothing was sent",
            code="CONNECT_FAILED",
            retryable=True,
        )
        self._failed_at = time.monotonic()
        _see(self)  # the fetching call has seen it

    def shared_failure(self, waited_from: int) -> SmsFlowError | None:
        """The failure a call must raise instead of fetching, or ``None`` to fetch.

        Args:
            waited_from: :attr:`generation` when the call started waiting for the lock.
        """
        failure = self._failure
        if failure is None:
            return None
        seen = _seen() == (id(self), self.generation)
        ended_while_waiting = self.generation != waited_from
        recent = time.monotonic() - self._failed_at < FAILURE_BACKOFF_S
        if not ended_while_waiting and (seen or not recent):
            return None
        return _copy(failure)


class Flight:
    """What every client of one token shares (one store object, one account key): the fetch
    lock of threads, one asyncio lock per event loop, and the :class:`FetchState`."""

    __slots__ = ("_async_locks", "fetch_state", "thread_lock")

    def __init__(self) -> None:
        self.thread_lock = threading.Lock()
        self.fetch_state = FetchState()
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def async_lock(self) -> asyncio.Lock:
        """The asyncio fetch lock of the running event loop (made on first use)."""
        import asyncio

        loop = asyncio.get_running_loop()
        with _FLIGHTS_LOCK:
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks[loop] = asyncio.Lock()
        return lock


_FLIGHTS: dict[int, dict[str, Flight]] = {}  # id(store) -> account key -> its flight
_FLIGHTS_LOCK: Final = threading.RLock()


def flight_for(store: object, key: str) -> Flight:
    """The one :class:`Flight` of ``key`` in ``store``, shared by every client given that same
    store object (forgotten when the store is). A store that cannot be weakly referenced
    gets a flight of its own each time (single flight per client, as before)."""
    with _FLIGHTS_LOCK:
        flights = _FLIGHTS.get(id(store))
        if flights is None:
            try:
                weakref.finalize(store, _forget, id(store))
            except TypeError:
                return Flight()
            flights = _FLIGHTS[id(store)] = {}
        flight = flights.get(key)
        if flight is None:
            flight = flights[key] = Flight()
        return flight


def _forget(store_id: int) -> None:
    # No lock: a finalizer can run inside flight_for (a garbage collection there), in the
    # thread that holds _FLIGHTS_LOCK; one dict.pop is atomic.
    _FLIGHTS.pop(store_id, None)
