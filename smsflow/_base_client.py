"""What both front doors share, without I/O: settings, token cache, core, ``send_bulk`` checks.

:class:`BaseClient` is the base of :class:`~smsflow.SmsFlowClient` (``_sync_client.py``) and
:class:`~smsflow.AsyncSmsFlowClient` (``_async_client.py``), which differ only in how they send
a request and how they sleep. Each owns one pooled ``httpx`` client (or uses yours).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sized
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from . import _waits
from ._auth import SmsFlowAuth, TokenCache
from ._config import DEFAULT_LIMITS, DEFAULT_MAX_RESPONSE_BYTES, TimeoutTypes, resolve_config
from ._core import Core
from ._destinations import check_default_country
from ._errors import SmsFlowError, SmsFlowValidationError, invalid
from ._idempotency import check_ledger_setting, check_rate_limit_setting, messages_in
from ._ledger import Ledger
from ._logging import configure_from_env
from ._retry import DEFAULT_MAX_RETRY_AFTER, RetryPolicy
from ._shared_rate import SharedRateLimit
from ._tokens import TokenStore
from ._validate import MessageLike, StartDelivery

if TYPE_CHECKING:  # the bulk machinery loads on the first send_bulk (docs/performance.md)
    from ._bulk import BulkEngine
    from ._bulk_types import BulkProgress

__all__ = ["END_OF_INPUT", "BaseClient"]

H = TypeVar("H", httpx.Client, httpx.AsyncClient)  # the pooled httpx client
X = TypeVar("X", httpx.BaseTransport, httpx.AsyncBaseTransport)  # its transport
S = TypeVar("S", Callable[[float], None], Callable[[float], Awaitable[None]])  # the sleep

END_OF_INPUT: Any = object()  # the end of a bulk run's input (both bulk drivers)


def _check_objects(token_store: object, limits: object, clock: object) -> None:
    """Refuse settings of the wrong type at construction (not on the first call).

    Raises:
        SmsFlowValidationError: code ``INVALID_SETTING``.
    """
    if token_store is not None and not isinstance(token_store, TokenStore):
        raise SmsFlowValidationError(
            "token_store must be a TokenStore (load, save, delete), e.g. FileTokenStore(); "
            f"not {type(token_store).__name__}",
            code="INVALID_SETTING",
        )
    if limits is not None and not isinstance(limits, httpx.Limits):
        raise SmsFlowValidationError(
            f"limits must be an httpx.Limits, not {type(limits).__name__}", code="INVALID_SETTING"
        )
    if not callable(clock):
        raise SmsFlowValidationError(
            "clock must be a callable returning seconds since the epoch", code="INVALID_SETTING"
        )


class BaseClient(Generic[H, X, S]):
    """Settings, token cache and core shared by both clients (no I/O), and their one
    constructor: the clients differ only in the httpx client, transport and sleep types
    (``H``, ``X``, ``S``), their defaults (:meth:`_default_sleep`, :meth:`_new_http`) and I/O.
    See :class:`~smsflow.SmsFlowClient` for the arguments.
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
        retry_max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        token_timeout: TimeoutTypes = None,
        token_store: TokenStore | None = None,
        http_client: H | None = None,
        transport: X | None = None,
        limits: httpx.Limits | None = None,
        allow_insecure_http: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = _waits.wall,
        sleep: S | None = None,
        random_source: Callable[[], float] = random.random,
        ledger: Ledger | None = None,
        rate_limit: SharedRateLimit | None = None,
        default_country: str | None = "ZA",
    ) -> None:
        configure_from_env()
        self._ledger = check_ledger_setting(ledger)
        self._rate_limit = check_rate_limit_setting(rate_limit)
        try:
            self._default_country = check_default_country(default_country)
        except ValueError as exc:
            raise SmsFlowValidationError(str(exc), code="INVALID_SETTING") from None
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
        _check_objects(token_store, limits, clock)
        self._cache = TokenCache(self._config, token_store, clock)
        self._auth = SmsFlowAuth(self._cache)
        self._core = Core(self._config, self._cache)
        self._owns_http = http_client is None
        self._closed = False
        self._limits = limits or DEFAULT_LIMITS
        if http_client is not None and (transport is not None or limits is not None):
            raise SmsFlowValidationError(
                "transport= and limits= configure the httpx client smsflow creates; with your "
                "own http_client=, set them on it instead",
                code="INVALID_SETTING",
            )
        self._transport: X | None = transport
        self._sleep: S = sleep if sleep is not None else self._default_sleep()
        self._http: H = http_client if http_client is not None else self._new_http()
        self._auth.http = self._http

    def _default_sleep(self) -> S:
        """The sleep used when none is given (``time.sleep`` / ``asyncio.sleep``, via _waits)."""
        raise NotImplementedError

    def _new_http(self) -> H:
        """The pooled httpx client created when none is given."""
        raise NotImplementedError

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
        campaign_name: str,
        messages: Iterable[MessageLike],
        start_delivery_utc: StartDelivery,
        check_opt_outs: bool,
        normalize_destinations: bool = True,
    ) -> tuple[bytes, tuple[str, ...]]:
        return self._core.send_request(
            campaign_name=campaign_name,
            messages=messages,
            start_delivery_utc=start_delivery_utc,
            check_opt_outs=check_opt_outs,
            normalize_destinations=normalize_destinations,
            default_country=self._default_country,
        )

    def _rate_wait(self, body: bytes) -> float:
        """Seconds to wait before sending ``body`` under the shared rate limit (0: none)."""
        if self._rate_limit is None:
            return 0.0
        return self._rate_limit.reserve(messages_in(body))

    def _bulk_engine(
        self,
        messages: Any,
        on_progress: Callable[[BulkProgress], None] | None,
        clock: Callable[[], float],
        **options: Any,
    ) -> BulkEngine:
        """Check ``send_bulk``'s arguments (raising at once) and set up its engine."""
        if isinstance(messages, str | bytes | dict) or not isinstance(
            messages, Iterable | AsyncIterable
        ):
            raise invalid(
                "messages must be an iterable (list, generator, cursor, CSV reader...) of "
                f"message dicts or smsflow.Message objects, not {type(messages).__name__}",
                "INVALID_MESSAGE",
                "messages",
            )
        if on_progress is not None and not callable(on_progress):
            raise invalid(
                "on_progress must be a callable or None", "INVALID_REQUEST", "on_progress"
            )
        from ._bulk import BulkEngine
        from ._bulk_types import BulkSettings

        if options.get("default_country") is None:
            options["default_country"] = self._default_country
        settings = BulkSettings.build(**options)
        total = len(messages) if isinstance(messages, Sized) else None
        return BulkEngine(
            self._core,
            settings,
            clock=clock,
            on_progress=on_progress,
            total=total,
            ledger=self._ledger,
            shared_rate=self._rate_limit,
        )

    def __del__(self) -> None:
        if getattr(self, "_owns_http", False) and not getattr(self, "_closed", True):
            warnings.warn(
                f"{type(self).__name__} was not closed; use it as a context manager or call "
                "close()/aclose() to release its connections",
                ResourceWarning,
                stacklevel=2,
            )
