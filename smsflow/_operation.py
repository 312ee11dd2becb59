"""One API call, described once: what both clients send and how its answer is read; and the
two types of a decision flow (:class:`Step`, :class:`Answer`) that the clients drive."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

import httpx

from ._retry import RetryMode

__all__ = ["Answer", "Operation", "Step"]

T = TypeVar("T")
R = TypeVar("R")
E = TypeVar("E", bound=BaseException)


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """One API call, ready to send (and to send again on a retry).

    Attributes:
        name: The public method's name (``send_sms``, ``get_balance``, ``authenticate``).
        method: The HTTP method (upper case).
        url: The absolute URL.
        headers: The headers smsflow sets (the ``httpx`` client adds its own defaults).
        content: The encoded body, or ``None``.
        timeout: The call's timeout (seconds per phase).
        mode: How a failed attempt may be retried.
        authenticated: True when the call carries the bearer token.
        parse: Turns the read 2xx answer into the result (raises on a bad body).
    """

    name: str
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    timeout: httpx.Timeout
    mode: RetryMode
    authenticated: bool
    parse: Callable[[httpx.Response], T]

    @property
    def is_send(self) -> bool:
        """True for a send (its outcome can be unknown after some failures)."""
        return self.mode is not RetryMode.IDEMPOTENT

    def build(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The ``httpx.Request`` for this call, built by ``client`` (so its default headers,
        and those of a client you passed in, apply alike to every call)."""
        return client.build_request(
            self.method,
            _parsed(self.url),
            headers=self.headers,
            content=self.content,
            timeout=self.timeout,
        )


@functools.lru_cache(maxsize=64)
def _parsed(url: str) -> httpx.URL:
    """``httpx.URL(url)``, parsed once per URL: ``build_request`` takes a parsed URL as it is,
    where a ``str`` is parsed again on every call (about a third of its time)."""
    return httpx.URL(url)


#: What a decision flow (a generator: ``Core.run``, ``BulkEngine.batch_flow``) asks its driver
#: to do next: send this operation, or sleep this many seconds.
Step: TypeAlias = Operation[T] | float
#: What the driver sends back into the flow: the result ``R`` of a send, the error ``E`` it
#: ended in, or ``None`` after a sleep.
Answer: TypeAlias = R | E | None
