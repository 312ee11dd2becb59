"""The two front doors: :class:`SmsFlowClient` (sync) and :class:`AsyncSmsFlowClient`.

They share everything through :class:`~smsflow._core.Core` and differ only in how they send
a request and how they sleep. Each owns one pooled ``httpx`` client (or uses yours).
"""

from __future__ import annotations

import asyncio
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from ._auth import SmsFlowAuth, TokenCache
from ._config import DEFAULT_LIMITS, DEFAULT_MAX_RESPONSE_BYTES, TimeoutTypes, resolve_config
from ._core import Core, Operation, Outcome, Step
from ._errors import SmsFlowError, SmsFlowUnexpectedResponseError, SmsFlowValidationError
from ._logging import configure_from_env
from ._results import AuthToken, Balance, SendResult
from ._retry import DEFAULT_MAX_RETRY_AFTER, RetryPolicy
from ._tokens import TokenStore
from ._validate import MessageLike

__all__ = ["AsyncSmsFlowClient", "SmsFlowClient"]

T = TypeVar("T")
H = TypeVar("H", httpx.Client, httpx.AsyncClient)


def _too_large(op: Operation[Any], limit: int) -> SmsFlowUnexpectedResponseError:
    return SmsFlowUnexpectedResponseError(
        f"the answer to {op.name} is larger than max_response_bytes ({limit} bytes); refused",
        code="RESPONSE_TOO_LARGE",
        retryable=False,
        outcome_unknown=op.is_send,
    )


class _CappedBody:
    """The size decisions of reading one answer, shared by both clients' ``_send_once``.

    Refuses (raising :class:`~smsflow.SmsFlowUnexpectedResponseError`, code
    ``RESPONSE_TOO_LARGE``) an answer whose declared ``Content-Length`` or whose running size
    exceeds ``limit`` bytes, before it is held in memory. The front doors only iterate chunks.
    """

    __slots__ = ("_chunks", "_limit", "_op", "_size")

    def __init__(self, op: Operation[Any], limit: int, response: httpx.Response) -> None:
        self._op = op
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(op, limit)

    def add(self, chunk: bytes) -> None:
        """Take the next decoded chunk. Raises ``RESPONSE_TOO_LARGE`` past the limit."""
        self._size += len(chunk)
        if self._size > self._limit:
            raise _too_large(self._op, self._limit)
        self._chunks.append(chunk)

    def content(self) -> bytes:
        """The whole body read so far."""
        return b"".join(self._chunks)


class _BaseClient(Generic[H]):
    """Settings, token cache and core shared by both clients (no I/O)."""

    _http: H

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = 30,
        retry_retries: int = 0,
        retry_base_delay: float = 0.25,
        retry_max_delay: float = 2.0,
        *,
        retry_max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        token_timeout: TimeoutTypes = None,
        token_store: TokenStore | None = None,
        http_client: H | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        allow_insecure_http: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = time.time,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        configure_from_env()
        policy = RetryPolicy(
            retries=retry_retries,
            base_delay=retry_base_delay,
            max_delay=retry_max_delay,
            max_retry_after=retry_max_retry_after,
            random=random_source,
        )
        self._config = resolve_config(
            client_id=client_id,
            client_secret=client_secret,
            base_url=base_url,
            timeout=timeout,
            token_timeout=token_timeout,
            retry=policy,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_bytes,
        )
        self._cache = TokenCache(self._config, token_store, clock)
        self._auth = SmsFlowAuth(self._cache)
        self._core = Core(self._config, self._cache)
        self._owns_http = http_client is None
        self._closed = False
        self._limits = limits or DEFAULT_LIMITS
        if transport is not None and http_client is not None:
            raise SmsFlowValidationError(
                "pass either http_client or transport, not both", code="INVALID_SETTING"
            )
        self._transport = transport

    def _sync_transport(self) -> httpx.BaseTransport | None:
        if self._transport is not None and not isinstance(self._transport, httpx.BaseTransport):
            raise SmsFlowValidationError(
                "transport must be an httpx.BaseTransport", code="INVALID_SETTING"
            )
        return self._transport

    def _async_transport(self) -> httpx.AsyncBaseTransport | None:
        if self._transport is not None and not isinstance(
            self._transport, httpx.AsyncBaseTransport
        ):
            raise SmsFlowValidationError(
                "transport must be an httpx.AsyncBaseTransport", code="INVALID_SETTING"
            )
        return self._transport

    @property
    def base_url(self) -> str:
        """The API root in use (no trailing slash)."""
        return self._config.base_url

    @property
    def client_id(self) -> str:
        """The client id in use."""
        return self._config.client_id

    @property
    def token_requests(self) -> int:
        """How many token requests this client has made (for metrics and tests)."""
        return self._cache.fetches

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self._config.client_id!r}, "
            f"base_url={self._config.base_url!r})"
        )

    def _check_open(self) -> None:
        if self._closed:
            raise SmsFlowError("this client is closed; create a new one", code="CLIENT_CLOSED")

    def _send_body(
        self,
        campaign_name: Any,
        messages: Iterable[MessageLike],
        start_delivery_utc: Any,
        check_opt_outs: Any,
    ) -> bytes:
        return self._core.send_body(
            campaign_name=campaign_name,
            messages=messages,
            start_delivery_utc=start_delivery_utc,
            check_opt_outs=check_opt_outs,
        )

    def __del__(self) -> None:
        if getattr(self, "_owns_http", False) and not getattr(self, "_closed", True):
            warnings.warn(
                f"{type(self).__name__} was not closed; use it as a context manager or call "
                "close()/aclose() to release its connections",
                ResourceWarning,
                stacklevel=2,
            )


class SmsFlowClient(_BaseClient[httpx.Client]):
    """Synchronous client of the SMSFlow API. Thread-safe; share one per process.

    Args:
        client_id: Your client id (default: ``SMSFLOW_CLIENT_ID``).
        client_secret: Your client secret (default: ``SMSFLOW_CLIENT_SECRET``). Never logged.
        base_url: API root (default: ``SMSFLOW_BASE_URL``, else ``https://portal.smsflow.co.za``).
            Plain http is refused for a non-loopback host unless ``allow_insecure_http=True``.
        timeout: Seconds per call (connect at most 10 s of it), or an ``httpx.Timeout``.
        retry_retries: Retries after a failed attempt (default 0: none). See the README.
        retry_base_delay: First backoff step in seconds (full jitter, doubling).
        retry_max_delay: Cap of one backoff wait, seconds.
        retry_max_retry_after: Longest ``Retry-After`` (s) waited out; longer ones raise.
        token_timeout: Timeout of the token call (default: ``timeout``).
        token_store: Where tokens are kept (default: memory; see ``FileTokenStore``).
        http_client: Your own ``httpx.Client`` (proxies, mTLS, transports); not closed by us.
        limits: Connection-pool limits of the client we create (default 100 / 20 keep-alive).
        allow_insecure_http: Permit ``http://`` to a remote host (never do this in production).
        max_response_bytes: Larger answers are refused (default 1 MiB).
        clock: Seconds since the epoch, for token expiry (injectable).
        sleep: Sleeps between retries (injectable: tests never really sleep).
        random_source: Floats in [0, 1) for jitter (injectable).

    Raises:
        SmsFlowAuthenticationError: missing credentials (no network call is made).
        SmsFlowValidationError: an invalid setting.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = 30,
        retry_retries: int = 0,
        retry_base_delay: float = 0.25,
        retry_max_delay: float = 2.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(
            client_id,
            client_secret,
            base_url,
            timeout,
            retry_retries,
            retry_base_delay,
            retry_max_delay,
            **options,
        )
        self._sleep = sleep
        given = options.get("http_client")
        self._http = (
            given
            if given is not None
            else httpx.Client(limits=self._limits, transport=self._sync_transport())
        )

    def _send_once(self, op: Operation[Any]) -> httpx.Response:
        request = self._http.build_request(
            op.method, op.url, headers=op.headers, content=op.content, timeout=op.timeout
        )
        response = self._http.send(
            request,
            auth=self._auth if op.authenticated else None,
            follow_redirects=False,
            stream=True,
        )
        try:
            body = _CappedBody(op, self._config.max_response_bytes, response)
            for chunk in response.iter_bytes():
                body.add(chunk)
            response._content = body.content()
        finally:
            response.close()
        return response

    def _execute(self, op: Operation[T]) -> T:
        self._check_open()
        flow = self._core.run(op)
        step: Step = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, float):
                self._sleep(step)
            else:
                try:
                    outcome = self._send_once(step)
                except (httpx.HTTPError, SmsFlowError) as exc:
                    outcome = exc
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    def authenticate(self, *, timeout: TimeoutTypes = None) -> AuthToken:
        """Fetch a new login token now (calls normally fetch one lazily and cache it).

        Returns:
            The token (``repr`` hides it), with ``expires_at``.

        Raises:
            SmsFlowAuthenticationError: bad credentials. Other :class:`SmsFlowError` subclasses
            for network, server and unexpected answers (retried when ``retry_retries > 0``).
        """
        with self._cache.thread_lock:
            return self._execute(self._core.authenticate_op(timeout))

    def send_sms(
        self,
        campaign_name: str,
        messages: Iterable[MessageLike],
        start_delivery_utc: Any = None,
        check_opt_outs: bool = True,
        retry: bool = False,
        *,
        timeout: TimeoutTypes = None,
    ) -> SendResult:
        """Send (or schedule) one request of 1 to 1000 messages as one event.

        Args:
            campaign_name: A label for the send, 1-255 characters.
            messages: Any iterable of ``{"destination": ..., "content": ...}`` dicts or
                :class:`~smsflow.Message` objects. Destinations are sent as given
                (international form without ``+``: see :func:`smsflow.normalize_destination`).
            start_delivery_utc: ``None`` to send now, an aware ``datetime`` or an ISO-8601
                string with an offset, to schedule (sent as UTC).
            check_opt_outs: Skip recipients who opted out (reported in ``error_report``).
            retry: Also retry 5xx answers (needs ``retry_retries > 0``). Failures that prove
                the send was not processed (refused connection, 408, 429) are retried anyway;
                failures after which it may have been accepted never are.
            timeout: Seconds for this call instead of the client's ``timeout``.

        Returns:
            :class:`~smsflow.SendResult`: ``result.event_id``, or
            ``result["sendResponse"]["eventId"]`` as in smsflow 0.2.0.

        Raises:
            SmsFlowValidationError: invalid input (nothing sent) or a 4xx refusal.
            SmsFlowInsufficientBalanceError: not enough credit; nothing sent.
            SmsFlowDeliveryUnknownError: the answer was lost; the SMS may have been sent.
            SmsFlowError: any other failure (see the README's errors table).
        """
        body = self._send_body(campaign_name, messages, start_delivery_utc, check_opt_outs)
        return self._execute(self._core.send_op(body, retry=retry, timeout=timeout))

    def get_balance(self, *, timeout: TimeoutTypes = None) -> Balance:
        """The account's credit balance: ``balance.balance`` / ``balance["balance"]`` (credits).

        Raises:
            SmsFlowError: see the README's errors table (retried when ``retry_retries > 0``).
        """
        return self._execute(self._core.balance_op(timeout))

    def close(self) -> None:
        """Release the connections (of the httpx client we created; yours stays open)."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncSmsFlowClient(_BaseClient[httpx.AsyncClient]):
    """Asynchronous client of the SMSFlow API: the same API as :class:`SmsFlowClient`, awaited.

    Safe for many concurrent tasks on one event loop (one token request however many start
    at once). Takes the same arguments, with ``sleep`` an async function and ``http_client``
    an ``httpx.AsyncClient``. Close it with ``await client.aclose()`` or ``async with``.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = 30,
        retry_retries: int = 0,
        retry_base_delay: float = 0.25,
        retry_max_delay: float = 2.0,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Any,
    ) -> None:
        super().__init__(
            client_id,
            client_secret,
            base_url,
            timeout,
            retry_retries,
            retry_base_delay,
            retry_max_delay,
            **options,
        )
        self._sleep = sleep
        given = options.get("http_client")
        self._http = (
            given
            if given is not None
            else httpx.AsyncClient(limits=self._limits, transport=self._async_transport())
        )

    async def _send_once(self, op: Operation[Any]) -> httpx.Response:
        request = self._http.build_request(
            op.method, op.url, headers=op.headers, content=op.content, timeout=op.timeout
        )
        response = await self._http.send(
            request,
            auth=self._auth if op.authenticated else None,
            follow_redirects=False,
            stream=True,
        )
        try:
            body = _CappedBody(op, self._config.max_response_bytes, response)
            async for chunk in response.aiter_bytes():
                body.add(chunk)
            response._content = body.content()
        finally:
            await response.aclose()
        return response

    async def _execute(self, op: Operation[T]) -> T:
        self._check_open()
        flow = self._core.run(op)
        step: Step = next(flow)
        while True:
            outcome: Outcome = None
            if isinstance(step, float):
                await self._sleep(step)
            else:
                try:
                    outcome = await self._send_once(step)
                except (httpx.HTTPError, SmsFlowError) as exc:
                    outcome = exc
            try:
                step = flow.send(outcome)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    async def authenticate(self, *, timeout: TimeoutTypes = None) -> AuthToken:
        """Fetch a new login token now. See :meth:`SmsFlowClient.authenticate`."""
        async with self._cache.async_lock:
            return await self._execute(self._core.authenticate_op(timeout))

    async def send_sms(
        self,
        campaign_name: str,
        messages: Iterable[MessageLike],
        start_delivery_utc: Any = None,
        check_opt_outs: bool = True,
        retry: bool = False,
        *,
        timeout: TimeoutTypes = None,
    ) -> SendResult:
        """Send (or schedule) 1-1000 messages as one event. See :meth:`SmsFlowClient.send_sms`."""
        body = self._send_body(campaign_name, messages, start_delivery_utc, check_opt_outs)
        return await self._execute(self._core.send_op(body, retry=retry, timeout=timeout))

    async def get_balance(self, *, timeout: TimeoutTypes = None) -> Balance:
        """The account's credit balance. See :meth:`SmsFlowClient.get_balance`."""
        return await self._execute(self._core.balance_op(timeout))

    async def aclose(self) -> None:
        """Release the connections (of the httpx client we created; yours stays open)."""
        if not self._closed:
            self._closed = True
            if self._owns_http:
                await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
