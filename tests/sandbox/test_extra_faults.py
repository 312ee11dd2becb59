"""The reset, trickle, redirect and custom-malformed faults, and server connection control."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest

from smsflow.testing import Sandbox, SandboxServer

from .support import BALANCE, BASE_URL, SEND, TOKEN, RecordingSleep, basic, bearer, send_body


def make() -> tuple[Sandbox, RecordingSleep]:
    sleep = RecordingSleep()
    return Sandbox(sleep=sleep, async_sleep=sleep.asleep), sleep


def test_reset_is_a_read_error_and_not_processed() -> None:
    sandbox, _ = make()
    sandbox.reset_next(endpoint="send")
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = client.get(TOKEN, headers=basic()).json()["token"]
        with pytest.raises(httpx.ReadError, match="reset"):
            client.post(SEND, headers=bearer(tok), json=send_body())
    assert sandbox.accepted_count == 0
    record = sandbox.requests[-1]
    assert (record.fault, record.answered, record.status) == ("reset", False, 0)


def test_trickle_sends_the_body_byte_by_byte() -> None:
    sandbox, sleep = make()
    sandbox.trickle_next(1, 0.01, endpoint="balance")
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = client.get(TOKEN, headers=basic()).json()["token"]
        with client.stream("GET", BALANCE, headers=bearer(tok)) as response:
            chunks = list(response.iter_raw())
    assert b"".join(chunks) == b'{"balance":1000.0}'
    assert len(chunks) == len(sleep.calls) == 18
    assert set(sleep.calls) == {0.01}


def test_trickle_async() -> None:
    sandbox, sleep = make()
    sandbox.trickle_next(1, 0.02, endpoint="token")

    async def main() -> bytes:
        async with httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL) as client:
            return (await client.get(TOKEN, headers=basic())).content

    body = asyncio.run(main())
    assert body.startswith(b'{"token"')
    assert len(sleep.calls) == len(body)


def test_redirect_is_not_processed() -> None:
    sandbox, _ = make()
    sandbox.redirect_next(endpoint="send", location="https://elsewhere.invalid/x", status=307)
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = client.get(TOKEN, headers=basic()).json()["token"]
        response = client.post(SEND, headers=bearer(tok), json=send_body())
    assert (response.status_code, response.headers["location"]) == (
        307,
        "https://elsewhere.invalid/x",
    )
    assert sandbox.accepted_count == 0


@pytest.mark.parametrize(("status", "location"), [(200, "x"), (302, 5)])
def test_bad_redirect_arguments(status: int, location: object) -> None:
    with pytest.raises(ValueError, match="redirect"):
        Sandbox().redirect_next(status=status, location=location)  # type: ignore[arg-type]


@pytest.mark.parametrize("body", [b"", b"[]", b'{"balance": "lots"}'])
def test_malformed_with_a_chosen_body(body: bytes) -> None:
    sandbox, _ = make()
    sandbox.malformed_next(endpoint="balance", body=body)
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = client.get(TOKEN, headers=basic()).json()["token"]
        assert client.get(BALANCE, headers=bearer(tok)).content == body


def test_malformed_body_must_be_bytes() -> None:
    with pytest.raises(ValueError, match="bytes"):
        Sandbox().malformed_next(body="text")  # type: ignore[arg-type]


def test_random_redirects_use_a_3xx() -> None:
    sandbox, _ = make()
    sandbox.random_faults(1.0, kinds=("redirect",), seed=5)
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        assert client.get(TOKEN, headers=basic()).status_code == 302


# ----------------------------------------------------------------------------- real sockets


def test_reset_over_the_server() -> None:
    with SandboxServer() as server:
        server.sandbox.reset_next(endpoint="token")
        with httpx.Client(base_url=server.url) as client:
            with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                client.get(TOKEN, headers=basic())
            assert client.get(TOKEN, headers=basic()).status_code == 200


def test_trickle_over_the_server_hits_a_deadline_not_the_read_timeout() -> None:
    with SandboxServer() as server:
        server.sandbox.trickle_next(1, 0.01, endpoint="token")
        with httpx.Client(base_url=server.url, timeout=httpx.Timeout(5, read=0.5)) as client:
            started = time.monotonic()
            response = client.get(TOKEN, headers=basic())
            elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["schema"] == "Basic"
    assert elapsed >= 0.01 * len(response.content)


def test_redirect_over_the_server() -> None:
    with SandboxServer() as server:
        server.sandbox.redirect_next(endpoint="balance")
        tok = server.sandbox.issue_token()
        with httpx.Client(base_url=server.url) as client:
            response = client.get(BALANCE, headers=bearer(tok))
    assert (response.status_code, response.headers["location"]) == (302, "https://example.invalid/")
    assert response.content == b""


def test_open_and_close_connections() -> None:
    with SandboxServer() as server:
        assert server.open_connections == 0
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            request = f"GET {TOKEN} HTTP/1.1\r\nHost: x\r\nAuthorization: "
            sock.sendall((request + basic()["Authorization"] + "\r\n\r\n").encode())
            assert sock.recv(12) == b"HTTP/1.1 200"
            assert server.open_connections == 1
            server.close_connections()
            sock.settimeout(5)
            rest = b""
            for _ in range(100):  # the rest of the answer, then the end of the stream
                chunk = sock.recv(4096)
                if not chunk:
                    break
                rest += chunk
        for _ in range(100):
            if server.open_connections == 0:
                break
            time.sleep(0.01)
        assert server.open_connections == 0
    assert server.open_connections == 0
    server.close_connections()  # stopped: nothing to do


# ----------------------------------------------------------------------------- WSGI


def _wsgi_get(sandbox: Sandbox, path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    import io

    from smsflow.testing import wsgi_app

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(b""),
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    seen: list[str] = []
    chunks = wsgi_app(sandbox)(environ, lambda status, _headers: seen.append(status))  # type: ignore[arg-type, return-value]
    return seen[0], b"".join(chunks)


def test_wsgi_faults() -> None:
    sandbox, sleep = make()
    sandbox.reset_next(endpoint="token")
    sandbox.drop_next(endpoint="token")
    for _ in range(2):
        with pytest.raises(ConnectionAbortedError):
            _wsgi_get(sandbox, TOKEN, basic())
    sandbox.trickle_next(1, 0.01, endpoint="token")
    status, body = _wsgi_get(sandbox, TOKEN, basic())
    assert status == "200 OK"
    assert len(sleep.calls) == len(body)
    sandbox.truncate_next(endpoint="token")
    status, body = _wsgi_get(sandbox, TOKEN, basic())
    assert status == "200 OK"
    assert not body.endswith(b"}")
