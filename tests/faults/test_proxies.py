"""Issue 11, item 7: credentials never go to a plain-http proxy.

With ``HTTP_PROXY`` (or ``ALL_PROXY``) set, a client on a plain ``http://`` base URL (the
loopback sandbox, or a remote host with ``allow_insecure_http=True``) would hand the Basic
header and the bearer token in clear to that proxy, and take the proxy's answers. The clients
smsflow creates ignore proxy variables for ``http://`` base URLs; for ``https://`` they keep
honouring ``HTTPS_PROXY`` (a ``CONNECT`` tunnel: the proxy sees only the host name).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from smsflow import AsyncSmsFlowClient, SmsFlowClient
from smsflow.testing import Sandbox, SandboxServer


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(f"{self.command} {self.path} {dict(self.headers)}")
        body = (
            {"token": "proxy-token", "expiresInMinutes": 120, "schema": "Basic"}
            if "authentication" in self.path
            else {"balance": 999999.0}
        )
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A plain-http "proxy" on 127.0.0.1 that records every request and answers itself."""
    seen: list[str] = []
    handler = type("Handler", (_ProxyHandler,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
def test_no_credential_goes_to_a_plain_http_proxy(
    proxy: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    flavour: str,
    variable: str,
) -> None:
    """A proxy variable does not divert an http:// base URL's calls: the proxy gets nothing
    (no Basic header, no token) and the client reads the real server's answers."""
    url, seen = proxy
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, url)
    sandbox = Sandbox(balance=42.0)
    with SandboxServer(sandbox) as server:
        options: dict[str, Any] = {
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "base_url": server.url,
            "timeout": 5,
        }
        if flavour == "sync":
            with SmsFlowClient(**options) as client:
                balance = client.get_balance().balance
        else:

            async def main() -> float:
                async with AsyncSmsFlowClient(**options) as client:
                    return (await client.get_balance()).balance

            balance = asyncio.run(main())
    assert (42.0, []) == (balance, seen)
    assert 1 == sandbox.token_requests
