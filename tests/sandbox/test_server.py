"""The loopback HTTP server: real sockets, keep-alive, faults acted out for real, threads."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from smsflow.testing import Sandbox, SandboxServer, serve

from .support import BALANCE, SEND, TOKEN, basic, bearer, send_body


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(Sandbox()) as running:
        yield running


def client_for(server: SandboxServer, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=server.url, **kwargs)  # type: ignore[arg-type]


def get_token(client: httpx.Client) -> str:
    return str(client.get(TOKEN, headers=basic()).json()["token"])


def test_full_flow_with_keep_alive(server: SandboxServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    with client_for(server) as client:
        tok = get_token(client)
        response = client.post(SEND, headers=bearer(tok), json=send_body())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert response.json()["sendResponse"]["eventId"] == 100001
        assert client.get(BALANCE, headers=bearer(tok)).json() == {"balance": 999.75}
    assert server.sandbox.request_count == 3


def test_connection_is_reused(server: SandboxServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        request = f"GET {TOKEN} HTTP/1.1\r\nHost: x\r\n{_basic_line()}\r\n\r\n".encode()
        reader = sock.makefile("rb")
        for _ in range(3):
            sock.sendall(request)
            status = reader.readline()
            assert status.startswith(b"HTTP/1.1 200")
            length = _skip_headers(reader)
            assert reader.read(length).startswith(b'{"token"')
        reader.close()


def _basic_line() -> str:
    return "Authorization: " + basic()["Authorization"]


def _skip_headers(reader: io.BufferedReader) -> int:
    length = 0
    for _ in range(50):
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return length


@pytest.mark.invalid_requests
def test_chunked_request_body(server: SandboxServer) -> None:
    tok = server.sandbox.issue_token()
    body = httpx.Request("POST", "http://x", json=send_body()).read()

    def chunks() -> object:
        yield body[:10]
        yield body[10:]

    with client_for(server) as client:
        response = client.post(
            SEND,
            headers={**bearer(tok), "Content-Type": "application/json"},
            content=chunks(),  # type: ignore[arg-type]
        )
    assert response.status_code == 200


@pytest.mark.invalid_requests
def test_other_methods_and_head(server: SandboxServer) -> None:
    with client_for(server) as client:
        custom = client.request("QUERY", BALANCE)
        assert (custom.status_code, custom.headers["allow"]) == (405, "GET")
        head = client.head(BALANCE)
        assert head.status_code == 405
        assert head.content == b""
        # the connection is still usable after a HEAD answer
        assert client.get("/nope").status_code == 404


def test_bad_request_line_gets_a_json_error(server: SandboxServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        data = b""
        for _ in range(100):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert body.startswith(b'{"statusCode":400')


@pytest.mark.invalid_requests
def test_oversized_body_is_refused(server: SandboxServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"POST {SEND} HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n".encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_drop_gives_an_httpx_error(server: SandboxServer) -> None:
    server.sandbox.drop_next(endpoint="balance")
    with client_for(server) as client:
        tok = get_token(client)
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(BALANCE, headers=bearer(tok))
        assert client.get(BALANCE, headers=bearer(tok)).status_code == 200


def test_lose_response_processes_then_drops(server: SandboxServer) -> None:
    server.sandbox.lose_response_next()
    with client_for(server) as client:
        tok = get_token(client)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(SEND, headers=bearer(tok), json=send_body())
    assert server.sandbox.accepted_count == 1


def test_truncated_body(server: SandboxServer) -> None:
    server.sandbox.truncate_next(endpoint="token")
    with client_for(server) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(TOKEN, headers=basic())
    assert server.sandbox.tokens_issued == 1


def test_html_and_malformed(server: SandboxServer) -> None:
    server.sandbox.html_next(endpoint="token", status=504)
    server.sandbox.malformed_next(endpoint="token")
    with client_for(server) as client:
        page = client.get(TOKEN, headers=basic())
        assert (page.status_code, page.headers["content-type"]) == (504, "text/html")
        garbled = client.get(TOKEN, headers=basic())
        assert garbled.status_code == 200
        with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
            garbled.json()


def test_fail_with_retry_after(server: SandboxServer) -> None:
    server.sandbox.fail_next(status=429, retry_after=7)
    with client_for(server) as client:
        response = client.get(TOKEN, headers=basic())
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")


def test_delay_beyond_the_client_timeout_is_a_read_timeout(server: SandboxServer) -> None:
    server.sandbox.delay_next(1, 0.2, endpoint="send")
    with client_for(server, timeout=httpx.Timeout(5, read=0.05)) as client:
        tok = get_token(client)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            client.post(SEND, headers=bearer(tok), json=send_body())
        assert time.monotonic() - started < 0.19
    assert server.sandbox.accepted_count == 1  # processed before the delay


def test_delay_within_the_timeout(server: SandboxServer) -> None:
    server.sandbox.delay_next(1, 0.1, endpoint="token")
    with client_for(server, timeout=5) as client:
        started = time.monotonic()
        assert client.get(TOKEN, headers=basic()).status_code == 200
        assert time.monotonic() - started >= 0.1


def test_sixteen_threads(server: SandboxServer) -> None:
    sandbox = server.sandbox
    sandbox.record_messages = False
    sandbox.balance = 10_000
    threads, per_thread, batch = 16, 12, 25

    def worker(n: int) -> list[int]:
        with client_for(server, timeout=10) as client:
            tok = get_token(client)
            ids = []
            for r in range(per_thread):
                pairs = [(f"2782{n:03d}{r:02d}{i:02d}", f"t{n} r{r} m{i}") for i in range(batch)]
                response = client.post(SEND, headers=bearer(tok), json=send_body(pairs))
                assert response.status_code == 200, response.text
                ids.append(response.json()["sendResponse"]["eventId"])
            return ids

    with ThreadPoolExecutor(threads) as pool:
        ids = [i for result in pool.map(worker, range(threads)) for i in result]
    total = threads * per_thread * batch
    assert sorted(ids) == list(range(100001, 100001 + threads * per_thread))
    assert sandbox.accepted_count == total
    assert sandbox.balance == pytest.approx(10_000 - 0.25 * total)
    sandbox.assert_each_accepted_once(
        (f"2782{n:03d}{r:02d}{i:02d}", f"t{n} r{r} m{i}")
        for n in range(threads)
        for r in range(per_thread)
        for i in range(batch)
    )


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = SandboxServer().start()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET {TOKEN} HTTP/1.1\r\nHost: x\r\n{_basic_line()}\r\n\r\n".encode())
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 200")
        reader.read(_skip_headers(reader))
        server.stop()
        assert reader.read(1) == b""  # closed by the server
        reader.close()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


def test_start_twice_and_repr() -> None:
    with SandboxServer() as server:
        with pytest.raises(RuntimeError, match="already started"):
            server.start()
        assert repr(server).startswith(f"SandboxServer({server.url}, Sandbox(")
    assert repr(server).startswith("SandboxServer(stopped")


def test_port_in_use_raises() -> None:
    with SandboxServer() as first, pytest.raises(OSError, match=r"in use|Errno"):
        SandboxServer(port=first.port).start()


def test_serve_prints_and_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(
        target=serve, args=(0,), kwargs={"out": out, "stop": stop, "balance": 5.0}
    )
    thread.start()
    url = ""
    for _ in range(200):
        text = out.getvalue()
        if "Press Ctrl-C" in text:
            url = text.split("listening on ", 1)[1].split()[0]
            break
        time.sleep(0.01)
    try:
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url) as client:
            tok = get_token(client)
            assert client.get(BALANCE, headers=bearer(tok)).json() == {"balance": 5.0}
    finally:
        stop.set()
        thread.join(5)
    text = out.getvalue()
    assert "client id:     sandbox-client" in text
    assert "client secret: sandbox-secret" in text
    assert text.rstrip().endswith("SMSFlow sandbox stopped.")
