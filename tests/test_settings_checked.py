"""Issue 11, item 9: every setting is checked when the client is built.

Each bad value raises :class:`~smsflow.SmsFlowValidationError` from the constructor of both
clients, before any request (not an ``AttributeError``, ``OverflowError``, plain
``ValueError`` or ``UnicodeEncodeError`` later, on the first call or the first retry).
"""

from __future__ import annotations

import math
from typing import Any, Final

import httpx
import pytest

from smsflow import AsyncSmsFlowClient, SmsFlowClient, SmsFlowValidationError
from smsflow.testing import Sandbox

BAD: Final[dict[str, dict[str, Any]]] = {
    "Timeout(None)": {"timeout": httpx.Timeout(None)},
    "Timeout(read=None)": {"timeout": httpx.Timeout(5.0, read=None)},
    "Timeout(-5)": {"timeout": httpx.Timeout(-5)},
    "timeout=1e10": {"timeout": 1e10},
    "token_timeout=Timeout(None)": {"token_timeout": httpx.Timeout(None)},
    "retry_retries=-1": {"retry_retries": -1},
    "retry_retries='3'": {"retry_retries": "3"},
    "retry_max_delay=nan": {"retry_max_delay": math.nan},
    "retry_max_delay=inf": {"retry_max_delay": math.inf},
    "retry_base_delay=nan": {"retry_base_delay": math.nan},
    "retry_max_retry_after=inf": {"retry_max_retry_after": math.inf},
    "base_url=123": {"base_url": 123},
    "secret with a lone surrogate": {"client_secret": "secret-\ud800"},
    "client id with a lone surrogate": {"client_id": "id-\udfff"},
    "token_store='x'": {"token_store": "x"},
    "limits='x'": {"limits": "x"},
    "allow_insecure_http='no'": {"allow_insecure_http": "no"},
    "clock='x'": {"clock": "x"},
    "random_source=1": {"random_source": 1},
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_setting_is_refused_at_construction(name: str, flavour: str) -> None:
    """The constructor raises SmsFlowValidationError; nothing is sent."""
    sandbox = Sandbox()
    options: dict[str, Any] = {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "base_url": "https://api.smsflow.test",
        "transport": sandbox.transport(),
        **BAD[name],
    }
    cls = SmsFlowClient if flavour == "sync" else AsyncSmsFlowClient
    with pytest.raises(SmsFlowValidationError) as info:
        cls(**options)
    assert info.value.status_code is None
    assert 0 == sandbox.request_count


@pytest.mark.parametrize("timeout", [httpx.Timeout(None), -1, 1e10, math.nan])
def test_a_bad_per_call_timeout_is_refused_before_sending(timeout: Any) -> None:
    """A per-call timeout goes through the same check."""
    sandbox = Sandbox()
    with sandbox.client() as client, pytest.raises(SmsFlowValidationError):
        client.get_balance(timeout=timeout)
    assert 0 == sandbox.request_count
