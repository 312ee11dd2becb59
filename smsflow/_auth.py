"""The token cache and the ``httpx.Auth`` that applies it to every bearer call.

* The token is fetched lazily (on the first call that needs it), single-flight: however many
  threads or tasks start at once, one token request is made; the others wait on the lock and
  re-check the cache inside it.
* It is renewed ahead of expiry (see :func:`~smsflow._tokens.refresh_time`). If a renewal
  fails (an error answer, or no answer at all) while the old token is still valid, the old
  token is used, and renewal is not tried again for :data:`RENEWAL_RETRY_S` seconds (so a
  failing token endpoint costs one token request per interval, not one per call).
* A 401 to a request that used a cached token means the token was revoked: the token is
  dropped, a new one fetched once (or taken from the store, when another process sharing it
  already stored a newer one), and the request replayed (a 401 proves the request was not
  accepted, so a replay cannot duplicate a send). A token taken from a shared store may
  itself predate a server-side revocation: if its replay gets a 401 too, one new token is
  fetched and the request replayed once more. A 401 after a token this call fetched is
  returned as is and becomes :class:`~smsflow.SmsFlowAuthenticationError`.
* The client id and secret go only to the token endpoint (HTTP Basic); its error bodies are
  kept on the error like any other (``error.body``, ``field_errors``, ``trace_id``) but
  without any ``token`` key, so a token is never kept.
* A token answer read inside a call is bounded like every other answer: more than
  ``max_response_bytes`` raises :class:`~smsflow.SmsFlowUnexpectedResponseError` (code
  ``RESPONSE_TOO_LARGE``), and one still arriving after the token timeout's ``read`` seconds
  raises ``httpx.ReadTimeout`` (a trickling server cannot hold a call for ever).

The decisions live in :class:`TokenCache`; the two flows below only drive them with a
thread lock (sync) or an asyncio lock (async). Cancelling an async call releases the lock.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Final

import httpx

from ._capped_body import answer_deadline, aread_capped, mark_written, read_capped, release
from ._config import USER_AGENT, ClientConfig
from ._errors import SmsFlowError, SmsFlowUnexpectedResponseError, error_for_response
from ._fetch_state import flight_for, lock_timeout_error, lock_wait, mark_before_request
from ._logging import logger
from ._operation import Operation
from ._retry import RetryMode, parse_retry_after
from ._tokens import MemoryTokenStore, Token, TokenStore, refresh_time
from ._wire import route

if TYPE_CHECKING:
    import asyncio

__all__ = ["SmsFlowAuth", "TokenCache"]

#: The scheme ``authenticate()`` reports when the token answer names none.
DEFAULT_SCHEMA: Final = "Bearer"
CREDENTIALS_HINT: Final = (
    ": the client id or secret was refused; check client_id and client_secret (or the "
    "SMSFLOW_CLIENT_ID and SMSFLOW_CLIENT_SECRET environment variables)"
)
# After a 401: a token taken from the store (another process renewed it) may predate the
# revocation too; if its replay is refused as well, one token is fetched and the call replayed
# once more. At most one token fetch and two replays per call; a 401 proves nothing was sent.
MAX_REPLAYS: Final = 2
RENEWAL_RETRY_S: Final = 30.0  # after a failed renewal, keep the old token this long (s)


def token_path() -> str:
    """The token endpoint's path (from the generated client: :func:`~smsflow._wire.route`)."""
    return route("get_token").path


class TokenCache:
    """One client's token: lookup, renewal decisions and storage. Thread-safe.

    Args:
        config: The client's settings (credentials, base URL, token timeout).
        store: Where tokens are kept (default: in memory).
        clock: Seconds since the epoch (injectable for tests).
    """

    def __init__(
        self,
        config: ClientConfig,
        store: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._store: TokenStore = store if store is not None else MemoryTokenStore()
        self._key = config.account_key
        self._clock = clock
        self._token: Token | None = None
        self._renew_after = 0.0  # after a failed renewal: no new attempt before this time (s)
        # single flight per store: clients sharing a store share its lock and fetch outcome
        self._flight = flight_for(self._store, self._key)
        self.thread_lock = self._flight.thread_lock
        self.fetches = 0  # token requests sent by this client, answered or not
        self.fetch_state = self._flight.fetch_state  # the outcome waiting calls share
        basic = f"{config.client_id}:{config.client_secret}".encode()
        self._token_headers = {
            "Authorization": "Basic " + base64.b64encode(basic).decode("ascii"),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }

    @property
    def config(self) -> ClientConfig:
        """The client's settings (credentials, limits, token timeout)."""
        return self._config

    def __repr__(self) -> str:
        state = "empty" if self._token is None else "holding a token"
        return f"TokenCache(client_id={self._config.client_id!r}, {state})"

    @property
    def async_lock(self) -> asyncio.Lock:
        """The lock async flows use: one per store and event loop (inside a running loop)."""
        return self._flight.async_lock()

    def clock(self) -> float:
        """The current time (seconds since the epoch) by this cache's injected clock."""
        return self._clock()

    def fresh(self) -> Token | None:
        """A token that needs no renewal yet, or ``None``. Reads the store on a miss."""
        now = self._clock()
        token = self._token
        if token is not None and (
            token.is_fresh(now) or (now < self._renew_after and token.is_valid(now))
        ):
            return token
        stored = self._store.load(self._key)
        if stored is not None and stored.is_fresh(now):
            self._token = stored
            return stored
        return None

    def still_valid(self) -> Token | None:
        """The current token if it has not expired (it may be due for renewal)."""
        token = self._token
        return token if token is not None and token.is_valid(self._clock()) else None

    def token_op(self, timeout: httpx.Timeout | None = None) -> Operation[Token]:
        """The token call, described once for ``authenticate()`` and the lazy fetch alike:
        HTTP Basic, to the token endpoint only, with the token timeout (or ``timeout``).
        Its ``parse`` keeps no fallback (see :meth:`accept`)."""
        method, path = route("get_token")
        return Operation(
            name="authenticate",
            method=method,
            url=self._config.base_url + path,
            headers=self._token_headers,
            content=None,
            timeout=self._config.token_timeout if timeout is None else timeout,
            mode=RetryMode.IDEMPOTENT,
            authenticated=False,
            parse=lambda response: self.accept(response, None),
        )

    def accept(self, response: httpx.Response, fallback: Token | None) -> Token:
        """Take the (read) answer of :meth:`token_op`: store and return the new token.

        If the answer is an error or unreadable and ``fallback`` is still valid, the fallback
        is kept (a failed renewal does not break a working client).

        Raises:
            SmsFlowError: the mapped error (authentication, server, rate limit, unexpected
                response), marked as raised before the real request was sent.
        """
        return self.accept_answer(response, fallback)[0]

    def accept_answer(self, response: httpx.Response, fallback: Token | None) -> tuple[Token, str]:
        """:meth:`accept`, with the scheme the answer reported (``schema``; ``"Bearer"`` when it
        sent none, or when ``fallback`` was kept), read in the same pass.

        Raises:
            SmsFlowError: as :meth:`accept`.
        """
        try:
            token, schema = self._parse(response)
        except SmsFlowError as error:
            if (
                fallback is not None
                and fallback.is_valid(self._clock())
                and response.status_code not in (401, 403)
            ):
                self.renewal_failed(fallback)
                logger.debug("token renewal failed (%s); the current token is kept", error.code)
                return fallback, DEFAULT_SCHEMA
            logger.debug("token fetch failed: %s (HTTP %s)", error.code, response.status_code)
            self.fetch_state.failed(error)
            raise mark_before_request(error) from None
        self._token = token
        self._renew_after = 0.0
        self.fetch_state.succeeded()
        self._store.save(self._key, token)
        logger.debug("token fetched (valid for %.0f s)", token.expires_at - self._clock())
        return token, schema

    def no_answer(self, stale: Token | None, *, cancelled: bool = False) -> None:
        """A lazy fetch got no answer: keep ``stale`` for a while if it is still valid, else
        let the calls waiting on this fetch share the failure (not when it was cancelled)."""
        self.renewal_failed(stale)
        if (stale is None or not stale.is_valid(self._clock())) and not cancelled:
            self.fetch_state.failed(None)

    def fetch_failed(self, error: BaseException, stale: Token | None) -> None:
        """A lazy fetch's answer could not be read (too large, too slow): as :meth:`no_answer`,
        sharing ``error`` when it is an :class:`~smsflow.SmsFlowError`."""
        self.renewal_failed(stale)
        if stale is None or not stale.is_valid(self._clock()):
            self.fetch_state.failed(error if isinstance(error, SmsFlowError) else None)

    def renewal_failed(self, stale: Token | None) -> None:
        """A renewal got no usable answer: keep ``stale`` (if still valid) for a while.

        For :data:`RENEWAL_RETRY_S` seconds :meth:`fresh` returns the old token instead of
        asking for another renewal (it stops at the token's expiry in any case).
        """
        if stale is not None and stale.is_valid(self._clock()) and self._token == stale:
            self._renew_after = self._clock() + RENEWAL_RETRY_S

    def refusal(self, response: httpx.Response) -> SmsFlowError:
        """The error for a token answer that is not a token (one wording for ``authenticate()``
        and the lazy fetch): identifiers only from its body, and for 401/403 a hint to check
        the credentials."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
        error = error_for_response(response, retry_after=retry_after, redact=True)
        if response.status_code in (401, 403):
            error.message += CREDENTIALS_HINT
            error.args = (error.message,)
        return error

    def _parse(self, response: httpx.Response) -> tuple[Token, str]:
        from smsflow_api.models import TokenResponse

        from ._json import loads
        from ._models import ShapeError, read_model

        now = self._clock()
        if response.status_code != 200:
            raise self.refusal(response)
        try:
            answer = read_model(TokenResponse, loads(response.content))
            value, minutes, schema = answer.token, answer.expires_in_minutes, answer.schema
        except (ShapeError, ValueError):
            value, minutes, schema = "", 0, None
        if value == "" or minutes <= 0:
            raise SmsFlowUnexpectedResponseError(
                "the token endpoint answered 200 without a usable token and expiresInMinutes",
                status_code=response.status_code,
                request=response.request,
                response=response,
                retryable=True,
            )
        lifetime = float(minutes) * 60.0
        token = Token(
            value=value,
            issued_at=now,
            expires_at=now + lifetime,
            refresh_at=refresh_time(now, lifetime),
        )
        return token, schema if isinstance(schema, str) and schema else DEFAULT_SCHEMA

    @property
    def shared(self) -> bool:
        """The store does single flight across processes (``begin_fetch``/``end_fetch``)."""
        return callable(getattr(self._store, "begin_fetch", None))

    def begin_shared_fetch(self, refused: Token | None = None) -> tuple[str | None, Token | None]:
        """Cross-process single flight, for stores that offer it (``RedisTokenStore``):
        ``(lock, None)``: fetch, then :meth:`end_shared_fetch`; ``(None, token)``: use the
        token another process stored. Other stores: ``(None, None)``, fetch."""
        if not self.shared:
            return None, None

        def usable(token: Token) -> bool:
            return token != refused and token.is_fresh(self._clock())

        lock, token = self._store.begin_fetch(self._key, usable)  # type: ignore[attr-defined]
        if token is not None:
            self._token = token
        return lock, token

    def end_shared_fetch(self, lock: str | None) -> None:
        """Release the cross-process fetch lock taken by :meth:`begin_shared_fetch`."""
        if lock is not None:
            self._store.end_fetch(self._key, lock)  # type: ignore[attr-defined]

    def replacement_for(self, refused: Token) -> Token | None:
        """After a 401 to ``refused``: another fresh token (another thread or process already
        renewed it), or ``None`` when a new one must be fetched. Call with the lock held."""
        current = self.fresh()
        if current is None or current == refused:
            self.drop(refused)
            current = self.fresh()  # a shared store may already hold a newer token
        logger.debug(
            "401 for the current token: %s",
            "fetching a new one" if current is None else "another one was already fetched",
        )
        return current

    def replay(self, request: httpx.Request, token: Token) -> httpx.Request:
        """``request`` again with ``token`` (after a 401), logged at DEBUG without it."""
        request.headers["Authorization"] = "Bearer " + token.value
        logger.debug("replaying %s %s with the new token", request.method, request.url.path)
        return request

    def drop(self, token: Token) -> None:
        """Forget ``token`` (it was refused with a 401), here and in the store."""
        if self._token == token:
            self._token = None
        self._store.delete(self._key, token)


class SmsFlowAuth(httpx.Auth):
    """Bearer auth over a :class:`TokenCache`, for ``httpx.Client`` and ``httpx.AsyncClient``.

    A lazy token fetch sends :meth:`TokenCache.token_op` built by :attr:`http` (the client
    that sends every other call, so ``authenticate()`` and the lazy fetch send the same
    headers) and reads its answer with the one capped reader of every answer.
    """

    def __init__(self, cache: TokenCache) -> None:
        self.cache = cache
        self.http: httpx.Client | httpx.AsyncClient | None = None  # set by the client

    def __repr__(self) -> str:
        return f"SmsFlowAuth({self.cache!r})"

    def _token_call(self) -> tuple[Operation[Token], httpx.Request]:
        op = self.cache.token_op()
        if self.http is None:  # pragma: no cover - the clients always set it
            raise RuntimeError("smsflow: SmsFlowAuth used without its httpx client")
        return op, op.build(self.http)

    def _lock_for_fetch(self, request: httpx.Request) -> tuple[Token | None, bool]:
        """Sync: take the fetch lock, or a still-valid old token while another call renews.

        Returns ``(stale_token, False)`` without the lock, or ``(None, True)`` holding it.

        Raises:
            SmsFlowNetworkError: the lock was not free within the call's own timeout.
        """
        lock = self.cache.thread_lock
        if lock.acquire(blocking=False):
            return None, True
        stale = self.cache.still_valid()
        if stale is not None:  # a renewal is in flight and the old token still works
            return stale, False
        wait = lock_wait(request.extensions.get("timeout"))
        if not lock.acquire(timeout=wait):
            raise lock_timeout_error(wait)
        return None, True

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        cache = self.cache
        limit = cache.config.max_response_bytes
        token = cache.fresh()
        fetched = False
        if token is None:
            waited_from = cache.fetch_state.generation
            token, locked = self._lock_for_fetch(request)
            if locked:
                try:
                    shared_lock: str | None = None
                    token = cache.fresh()
                    if token is None:
                        failure = cache.fetch_state.shared_failure(waited_from)
                        if failure is not None:
                            raise failure
                        # another process sharing the store may be fetching (Redis)
                        shared_lock, token = cache.begin_shared_fetch()
                    if token is None:
                        stale = cache.still_valid()
                        op, token_request = self._token_call()
                        deadline = answer_deadline(op)
                        cache.fetches += 1
                        try:
                            try:
                                response = yield token_request
                            except GeneratorExit:  # no answer (network error): keep stale
                                cache.no_answer(stale)
                                raise
                            try:
                                _read_token_answer(op, limit, response, deadline)
                            except (SmsFlowError, httpx.HTTPError) as error:
                                cache.fetch_failed(error, stale)
                                raise
                            token = cache.accept(response, stale)
                        finally:
                            cache.end_shared_fetch(shared_lock)
                        fetched = token is not stale
                finally:
                    cache.thread_lock.release()
        assert token is not None  # for mypy: the branches above set it or raise
        request.headers["Authorization"] = "Bearer " + token.value
        mark_written(request)
        response = yield request
        for _ in range(MAX_REPLAYS):
            if response.status_code != 401 or fetched:
                return
            with cache.thread_lock:
                current = cache.replacement_for(token)
                shared_lock = None
                if current is None:
                    shared_lock, current = cache.begin_shared_fetch(refused=token)
                if current is None:
                    op, token_request = self._token_call()
                    deadline = answer_deadline(op)
                    cache.fetches += 1
                    try:
                        token_response = yield token_request
                        _read_token_answer(op, limit, token_response, deadline)
                        current = cache.accept(token_response, None)
                    finally:
                        cache.end_shared_fetch(shared_lock)
                    fetched = True
            token = current
            cache.replay(request, token)
            mark_written(request)
            response = yield request

    async def _alock_for_fetch(self, request: httpx.Request) -> tuple[Token | None, bool]:
        """Async: :meth:`_lock_for_fetch` on the asyncio lock (cancellation-safe)."""
        import asyncio

        lock = self.cache.async_lock
        if not lock.locked():
            await lock.acquire()  # free: taken at once, without suspending
            return None, True
        stale = self.cache.still_valid()
        if stale is not None:  # a renewal is in flight and the old token still works
            return stale, False
        wait = lock_wait(request.extensions.get("timeout"))
        try:
            async with asyncio.timeout(wait):  # Lock.acquire is cancellation-safe
                await lock.acquire()
        except TimeoutError:
            raise lock_timeout_error(wait) from None
        return None, True

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        cache = self.cache
        limit = cache.config.max_response_bytes
        token = cache.fresh()
        fetched = False
        if token is None:
            waited_from = cache.fetch_state.generation
            token, locked = await self._alock_for_fetch(request)
            if locked:
                try:
                    shared_lock: str | None = None
                    token = cache.fresh()
                    if token is None:
                        failure = cache.fetch_state.shared_failure(waited_from)
                        if failure is not None:
                            raise failure
                        # another process sharing the store may be fetching (Redis)
                        shared_lock, token = (
                            await _in_thread(cache.begin_shared_fetch)
                            if cache.shared
                            else (None, None)
                        )
                    if token is None:
                        stale = cache.still_valid()
                        op, token_request = self._token_call()
                        deadline = answer_deadline(op)
                        cache.fetches += 1
                        try:
                            try:
                                response = yield token_request
                            except GeneratorExit:  # no answer (network error, cancelled)
                                cache.no_answer(stale, cancelled=_cancelling())
                                raise
                            try:
                                await _aread_token_answer(op, limit, response, deadline)
                            except (SmsFlowError, httpx.HTTPError) as error:
                                cache.fetch_failed(error, stale)
                                raise
                            token = cache.accept(response, stale)
                        finally:
                            cache.end_shared_fetch(shared_lock)
                        fetched = token is not stale
                finally:
                    cache.async_lock.release()
        assert token is not None  # for mypy: the branches above set it or raise
        request.headers["Authorization"] = "Bearer " + token.value
        mark_written(request)
        response = yield request
        for _ in range(MAX_REPLAYS):
            if response.status_code != 401 or fetched:
                return
            async with cache.async_lock:
                current = cache.replacement_for(token)
                shared_lock = None
                if current is None and cache.shared:
                    shared_lock, current = await _in_thread(cache.begin_shared_fetch, token)
                if current is None:
                    op, token_request = self._token_call()
                    deadline = answer_deadline(op)
                    cache.fetches += 1
                    try:
                        token_response = yield token_request
                        await _aread_token_answer(op, limit, token_response, deadline)
                        current = cache.accept(token_response, None)
                    finally:
                        cache.end_shared_fetch(shared_lock)
                    fetched = True
            token = current
            cache.replay(request, token)
            mark_written(request)
            response = yield request


def _cancelling() -> bool:
    """True when the current asyncio task is being cancelled (not a network failure)."""
    import asyncio

    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _read_token_answer(
    op: Operation[Token], limit: int, response: httpx.Response, deadline: float | None
) -> None:
    """Read a lazily fetched token answer with the one capped reader; a refusal happened
    before the real request was sent (so even a send may be retried after it)."""
    try:
        read_capped(op, limit, response, deadline)  # read to the end: the stream is closed
    except SmsFlowError as error:
        raise mark_before_request(error) from None
    release(response)


async def _aread_token_answer(
    op: Operation[Token], limit: int, response: httpx.Response, deadline: float | None
) -> None:
    """:func:`_read_token_answer` for the async client."""
    try:
        await aread_capped(op, limit, response, deadline)  # to the end: the stream is closed
    except SmsFlowError as error:
        raise mark_before_request(error) from None
    release(response)


async def _in_thread(
    function: Callable[..., tuple[str | None, Token | None]], *args: Token
) -> tuple[str | None, Token | None]:
    import asyncio

    return await asyncio.to_thread(function, *args)
