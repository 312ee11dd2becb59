"""Client settings: keyword arguments, environment fallbacks, and their checks.

Environment variables (a keyword argument always wins):

===========================  ===========================================================
``SMSFLOW_CLIENT_ID``        client id
``SMSFLOW_CLIENT_SECRET``    client secret
``SMSFLOW_BASE_URL``         API root (default ``https://portal.smsflow.co.za``)
===========================  ===========================================================
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import ssl
from dataclasses import dataclass, field
from typing import Final

import httpx

from ._errors import SmsFlowAuthenticationError, SmsFlowValidationError
from ._retry import RetryPolicy
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientConfig",
    "resolve_config",
    "tls_context",
    "to_timeout",
    "trusts_env",
]

DEFAULT_BASE_URL: Final = "https://portal.smsflow.co.za"
DEFAULT_TIMEOUT_S: Final = 30.0
DEFAULT_CONNECT_TIMEOUT_S: Final = 10.0
DEFAULT_MAX_RESPONSE_BYTES: Final = 1024 * 1024  # 1 MiB: far above any documented answer
DEFAULT_LIMITS: Final = httpx.Limits(max_connections=100, max_keepalive_connections=100)
USER_AGENT: Final = f"smsflow-python/{__version__}"

TimeoutTypes = float | int | httpx.Timeout | None


MAX_TIMEOUT_S: Final = 86_400.0  # a day: longer is a mistake (and overflows some timers)


def _seconds_ok(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and 0 < value <= MAX_TIMEOUT_S  # False for NaN
    )


def to_timeout(value: TimeoutTypes, name: str = "timeout") -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds (float) or a Timeout.

    Every part (connect, read, write, pool) must be a number of seconds > 0 and at most
    :data:`MAX_TIMEOUT_S`: ``None`` (no limit) is refused, so a call can never hang forever.

    Raises:
        SmsFlowValidationError: code ``INVALID_TIMEOUT``.
    """
    if isinstance(value, httpx.Timeout):
        parts = {"connect": value.connect, "read": value.read, "write": value.write}
        parts["pool"] = value.pool
        bad = sorted(part for part, seconds in parts.items() if not _seconds_ok(seconds))
        if bad:
            raise SmsFlowValidationError(
                f"{name} must give every part (connect, read, write, pool) a number of "
                f"seconds > 0 and <= {MAX_TIMEOUT_S:g}; {', '.join(bad)} is not",
                code="INVALID_TIMEOUT",
            )
        return value
    if not _seconds_ok(value):
        raise SmsFlowValidationError(
            f"{name} must be a number of seconds > 0 and <= {MAX_TIMEOUT_S:g}, or an "
            f"httpx.Timeout, not {value!r}",
            code="INVALID_TIMEOUT",
        )
    seconds = float(value)  # type: ignore[arg-type]
    return httpx.Timeout(seconds, connect=min(seconds, DEFAULT_CONNECT_TIMEOUT_S))


def tls_context() -> ssl.SSLContext:
    """The TLS settings of the httpx clients smsflow creates: httpx's defaults (certificate
    and host name verification on, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured), and never
    below TLS 1.2, whatever the local OpenSSL configuration allows."""
    context = httpx.create_ssl_context()
    if context.minimum_version < ssl.TLSVersion.TLSv1_2:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def trusts_env(base_url: str) -> bool:
    """Whether the httpx client smsflow creates for ``base_url`` reads the environment
    (``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY``, ``SSL_CERT_FILE``/``SSL_CERT_DIR``).

    Only for ``https://``: through a proxy its calls go in a ``CONNECT`` tunnel, so the
    proxy sees the host name and never a credential. A plain ``http://`` base URL (the
    loopback sandbox, or ``allow_insecure_http=True``) ignores proxy variables: the Basic
    header and tokens would otherwise reach the proxy in clear, and its answers be trusted.
    """
    return httpx.URL(base_url).scheme == "https"


def _is_loopback(host: str) -> bool:
    """True for hosts that are loopback without asking a resolver: ``localhost``,
    ``127.0.0.0/8`` and ``::1``. Other names (``api.localhost``, ``localhost.localdomain``)
    go to the system resolver, which may send them anywhere: they count as remote."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, allow_insecure_http: bool) -> str:
    """Normalise the base URL (no trailing slash) and refuse plain http to a remote host."""
    url = base_url.strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise SmsFlowValidationError(
            f"base_url {base_url!r} is not a URL", code="INVALID_BASE_URL"
        ) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SmsFlowValidationError(
            f"base_url {base_url!r} must be an http(s) URL with a host", code="INVALID_BASE_URL"
        )
    if parsed.userinfo:
        raise SmsFlowValidationError(
            "base_url must not contain credentials; pass client_id/client_secret",
            code="INVALID_BASE_URL",
        )
    if parsed.scheme == "http" and not _is_loopback(parsed.host) and not allow_insecure_http:
        raise SmsFlowValidationError(
            f"base_url {url!r} uses plain http to a remote host, which would send the client "
            "secret in clear text; use https, or pass allow_insecure_http=True",
            code="INSECURE_BASE_URL",
        )
    return url


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Resolved settings of one client. ``repr`` hides the secret."""

    client_id: str
    client_secret: str = field(repr=False)
    base_url: str
    timeout: httpx.Timeout
    token_timeout: httpx.Timeout
    retry: RetryPolicy
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    @property
    def account_key(self) -> str:
        """The token stores' key: a keyed hash (HMAC-SHA-256, keyed by the client secret) of
        the base URL and client id. It covers the secret, so a client with another (rotated,
        wrong) secret never finds a token fetched with this one, and reveals none of them."""
        message = f"{self.base_url}\0{self.client_id}".encode()
        key = self.client_secret.encode("utf-8")
        return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def resolve_config(
    *,
    client_id: str | None,
    client_secret: str | None,
    base_url: str | None,
    timeout: TimeoutTypes,
    token_timeout: TimeoutTypes,
    retry: RetryPolicy,
    allow_insecure_http: bool,
    max_response_bytes: int,
) -> ClientConfig:
    """Resolve keyword arguments and environment variables into a :class:`ClientConfig`.

    Raises:
        SmsFlowAuthenticationError: the client id or secret is missing
            (code ``MISSING_CREDENTIALS``).
        SmsFlowValidationError: a setting is invalid (base URL, timeout, size limit).
    """
    cid = client_id if client_id is not None else os.environ.get("SMSFLOW_CLIENT_ID")
    secret = client_secret if client_secret is not None else os.environ.get("SMSFLOW_CLIENT_SECRET")
    missing = [
        name
        for name, value in (("client_id", cid), ("client_secret", secret))
        if not isinstance(value, str) or not value.strip()
    ]
    if missing:
        env = " and ".join(f"SMSFLOW_{m.upper()}" for m in missing)
        raise SmsFlowAuthenticationError(
            f"missing {' and '.join(missing)}: pass it to the client or set {env}",
            code="MISSING_CREDENTIALS",
        )
    cid, secret = str(cid), str(secret)
    for name, value in (("client_id", cid), ("client_secret", secret)):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise SmsFlowValidationError(
                f"{name} is not valid Unicode text (it holds a lone surrogate)",
                code="INVALID_CREDENTIALS",
            ) from None
    url = (
        base_url if base_url is not None else os.environ.get("SMSFLOW_BASE_URL") or DEFAULT_BASE_URL
    )
    if not isinstance(url, str):
        raise SmsFlowValidationError(
            f"base_url must be a str, not {type(url).__name__}", code="INVALID_BASE_URL"
        )
    if not isinstance(allow_insecure_http, bool):
        raise SmsFlowValidationError(
            "allow_insecure_http must be True or False", code="INVALID_SETTING"
        )
    if (
        isinstance(max_response_bytes, bool)
        or not isinstance(max_response_bytes, int)
        or max_response_bytes < 1024
    ):
        raise SmsFlowValidationError(
            "max_response_bytes must be an int >= 1024", code="INVALID_SETTING"
        )
    main_timeout = to_timeout(timeout)
    return ClientConfig(
        client_id=cid.strip(),
        client_secret=secret,
        base_url=check_base_url(url, allow_insecure_http),
        timeout=main_timeout,
        token_timeout=main_timeout
        if token_timeout is None
        else to_timeout(token_timeout, "token_timeout"),
        retry=retry,
        max_response_bytes=max_response_bytes,
    )
