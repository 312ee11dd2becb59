"""Issue 11, the ``*.localhost`` note: only hosts that are loopback without asking a resolver
may use plain ``http://`` without ``allow_insecure_http=True``: ``127.0.0.0/8``, ``::1`` and
``localhost``. A name such as ``api.localhost`` goes to the system resolver, which may send it
anywhere, so it counts as remote."""

from __future__ import annotations

import pytest

from smsflow import AsyncSmsFlowClient, SmsFlowClient, SmsFlowValidationError

CREDENTIALS = {"client_id": "id", "client_secret": "secret"}


@pytest.mark.parametrize(
    "url", ["http://api.localhost:8025", "http://a.b.localhost", "http://localhost.localdomain"]
)
def test_names_under_localhost_are_not_loopback(url: str, flavour: str) -> None:
    """Plain http to a *.localhost name is refused like any remote host."""
    cls = SmsFlowClient if flavour == "sync" else AsyncSmsFlowClient
    with pytest.raises(SmsFlowValidationError) as info:
        cls(base_url=url, **CREDENTIALS)
    assert "INSECURE_BASE_URL" == info.value.code


@pytest.mark.parametrize(
    "url", ["http://localhost:8025", "http://127.0.0.9:1", "http://[::1]:8025"]
)
def test_loopback_hosts_may_use_plain_http(url: str) -> None:
    """localhost, 127.0.0.0/8 and ::1 are loopback without a resolver: plain http is fine."""
    with SmsFlowClient(base_url=url, **CREDENTIALS) as client:
        assert url == client.base_url
