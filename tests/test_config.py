"""Client settings (smsflow/_config.py): environment fallbacks, URL and timeout checks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from smsflow import SmsFlowAuthenticationError, SmsFlowValidationError
from smsflow._config import (
    DEFAULT_BASE_URL,
    check_base_url,
    resolve_config,
    to_timeout,
)
from smsflow._retry import RetryPolicy


def resolve(**overrides: Any) -> Any:
    """resolve_config with test defaults."""
    kwargs: dict[str, Any] = {
        "client_id": "id",
        "client_secret": "s3cr3t-value",
        "base_url": None,
        "timeout": 30,
        "token_timeout": None,
        "retry": RetryPolicy(),
        "allow_insecure_http": False,
        "max_response_bytes": 1024 * 1024,
    }
    kwargs.update(overrides)
    return resolve_config(**kwargs)


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SMSFLOW_* variables from the environment running the tests."""
    for name in ("SMSFLOW_CLIENT_ID", "SMSFLOW_CLIENT_SECRET", "SMSFLOW_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_environment_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset keywords come from SMSFLOW_CLIENT_ID, SMSFLOW_CLIENT_SECRET, SMSFLOW_BASE_URL."""
    monkeypatch.setenv("SMSFLOW_CLIENT_ID", "env-id")
    monkeypatch.setenv("SMSFLOW_CLIENT_SECRET", "env-secret")
    monkeypatch.setenv("SMSFLOW_BASE_URL", "https://env.example/")
    config = resolve(client_id=None, client_secret=None)
    assert (
        config.client_id,
        config.client_secret,
        config.base_url,
    ) == ("env-id", "env-secret", "https://env.example")


def test_keywords_win(monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyword argument beats its environment variable."""
    monkeypatch.setenv("SMSFLOW_CLIENT_ID", "env-id")
    monkeypatch.setenv("SMSFLOW_BASE_URL", "https://env.example")
    config = resolve(client_id="kw-id", base_url="https://kw.example")
    assert (config.client_id, config.base_url) == ("kw-id", "https://kw.example")


def test_empty_base_url_env_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty SMSFLOW_BASE_URL falls back to the vendor's portal."""
    monkeypatch.setenv("SMSFLOW_BASE_URL", "")
    assert resolve().base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    ("client_id", "client_secret", "missing"),
    [
        (None, None, "client_id and client_secret"),
        ("id", None, "client_secret"),
        ("", "s", "client_id"),
        ("id", "   ", "client_secret"),
    ],
)
def test_missing_credentials(
    client_id: str | None, client_secret: str | None, missing: str
) -> None:
    """A missing or blank id or secret is MISSING_CREDENTIALS naming what is missing."""
    with pytest.raises(SmsFlowAuthenticationError) as info:
        resolve(client_id=client_id, client_secret=client_secret)
    assert info.value.code == "MISSING_CREDENTIALS"
    assert f"missing {missing}:" in info.value.message


def test_config_repr_hides_the_secret() -> None:
    """The resolved settings never print the secret."""
    assert "s3cr3t-value" not in repr(resolve())


def test_account_key_covers_the_secret_without_revealing_it() -> None:
    """Token stores are keyed by a keyed hash of base URL, client id and secret: another
    secret gives another key, and the key holds no piece of the secret."""
    assert resolve().account_key != resolve(client_secret="other").account_key
    assert resolve().account_key != resolve(client_id="other").account_key
    assert resolve().account_key == resolve().account_key
    assert "s3cr3t" not in resolve().account_key


@pytest.mark.parametrize(
    ("url", "allow", "expected"),
    [
        ("https://portal.smsflow.co.za/", False, "https://portal.smsflow.co.za"),
        ("  https://portal.smsflow.co.za  ", False, "https://portal.smsflow.co.za"),
        ("http://127.0.0.1:8025", False, "http://127.0.0.1:8025"),
        ("http://localhost/", False, "http://localhost"),
        ("http://[::1]:8025", False, "http://[::1]:8025"),
        ("http://10.0.0.5", True, "http://10.0.0.5"),
    ],
)
def test_check_base_url_accepts(url: str, allow: bool, expected: str) -> None:
    """https anywhere, http on loopback, and http elsewhere only when allowed."""
    assert expected == check_base_url(url, allow)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://portal.smsflow.co.za", "INSECURE_BASE_URL"),
        ("http://10.0.0.5", "INSECURE_BASE_URL"),
        ("http://localhost.evil.com", "INSECURE_BASE_URL"),
        ("http://sandbox.localhost", "INSECURE_BASE_URL"),  # resolved by the system: remote
        ("ftp://portal.smsflow.co.za", "INVALID_BASE_URL"),
        ("portal.smsflow.co.za", "INVALID_BASE_URL"),
        ("https://", "INVALID_BASE_URL"),
        ("https://id:secret@portal.smsflow.co.za", "INVALID_BASE_URL"),
    ],
)
def test_check_base_url_refuses(url: str, code: str) -> None:
    """Insecure or malformed base URLs are refused with their code."""
    with pytest.raises(SmsFlowValidationError) as info:
        check_base_url(url, allow_insecure_http=False)
    assert code == info.value.code


def test_base_url_with_credentials_is_not_echoed() -> None:
    """A base URL holding credentials is refused without repeating them."""
    with pytest.raises(SmsFlowValidationError) as info:
        check_base_url("https://id:s3cr3t@portal.smsflow.co.za", allow_insecure_http=False)
    assert "s3cr3t" not in str(info.value) + repr(info.value)


def test_to_timeout_from_seconds() -> None:
    """Seconds become a Timeout whose connect part is at most 10 s."""
    assert httpx.Timeout(30.0, connect=10.0) == to_timeout(30)
    assert httpx.Timeout(2.5, connect=2.5) == to_timeout(2.5)


def test_to_timeout_keeps_a_timeout() -> None:
    """An httpx.Timeout is used as given."""
    given = httpx.Timeout(5.0, read=60.0)
    assert given is to_timeout(given)


@pytest.mark.parametrize("value", [None, 0, -1.0, True, "30", float("nan"), float("inf")])
def test_to_timeout_refuses(value: Any) -> None:
    """No timeout, zero, negative or non-numbers are refused: every call has a time limit."""
    with pytest.raises(SmsFlowValidationError) as info:
        to_timeout(value)
    assert info.value.code == "INVALID_TIMEOUT"


def test_token_timeout_defaults_to_the_timeout() -> None:
    """Without token_timeout the token call uses the client's timeout."""
    config = resolve(timeout=12, token_timeout=None)
    assert config.timeout == config.token_timeout == to_timeout(12)
    assert to_timeout(3) == resolve(token_timeout=3).token_timeout


@pytest.mark.parametrize("value", [0, 1023, True, 2048.0])
def test_max_response_bytes_checked(value: Any) -> None:
    """max_response_bytes must be an int of at least 1024."""
    with pytest.raises(SmsFlowValidationError):
        resolve(max_response_bytes=value)
