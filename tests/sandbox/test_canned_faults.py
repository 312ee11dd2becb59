"""Canned answers (``reply_next``), raised transport errors (``raise_next``), named tokens and
event ids, and the transport's ``base_path`` and ``observer``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from contract.observer import ContractObserver

from smsflow.testing import Sandbox, SandboxReply, SandboxServer, wsgi_app

from .support import BALANCE, BASE_URL, SEND, TOKEN, basic, bearer, send_body


def token_of(client: httpx.Client, sandbox: Sandbox) -> str:
    response = client.get(TOKEN, headers=basic(sandbox.client_id, sandbox.client_secret))
    return str(response.json()["token"])


# -- reply_next -------------------------------------------------------------------------------


def test_reply_sends_status_headers_and_body_as_given() -> None:
    """A canned reply reaches the client byte for byte, then the sandbox answers again."""
    sandbox = Sandbox()
    sandbox.reply_next(endpoint="balance", status=200, body=b"[1, 2]", headers={"X-Canned": "yes"})
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = token_of(client, sandbox)
        canned = client.get(BALANCE, headers=bearer(tok))
        real = client.get(BALANCE, headers=bearer(tok))
    assert (200, b"[1, 2]", "yes", "6") == (
        canned.status_code,
        canned.content,
        canned.headers["X-Canned"],
        canned.headers["Content-Length"],
    )
    assert b'{"balance":1000.0}' == real.content
    assert ["reply", None] == [r.fault for r in sandbox.requests[1:]]


def test_reply_is_not_processed_unless_asked() -> None:
    """An unprocessed canned reply to a send bills nothing; processed=True bills it."""
    sandbox = Sandbox()
    sandbox.reply_next(endpoint="send", status=502, body=b"bad gateway")
    sandbox.reply_next(endpoint="send", status=504, body=b"late gateway", processed=True)
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = token_of(client, sandbox)
        statuses = [client.post(SEND, headers=bearer(tok), json=send_body()).status_code]
        assert 0 == sandbox.accepted_count
        statuses.append(client.post(SEND, headers=bearer(tok), json=send_body()).status_code)
    assert ([502, 504], 1) == (statuses, sandbox.accepted_count)


def test_reply_keeps_a_lying_content_length_and_latin1_headers() -> None:
    """A canned Content-Length is sent as given; a latin-1 header value arrives intact."""
    sandbox = Sandbox()
    headers = {"Content-Length": "2000000", "Retry-After": "²"}
    sandbox.reply_next(endpoint="token", status=429, body=b"{}", headers=headers)
    with (
        httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client,
        client.stream("GET", TOKEN, headers=basic()) as response,
    ):
        seen = (response.headers["Content-Length"], response.headers.raw)
    assert "2000000" == seen[0]
    assert (b"Retry-After", "²".encode("latin-1")) in seen[1]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_reply_in_chunks_is_streamed_without_content_length(kind: str) -> None:
    """A body given as chunks arrives in those chunks, without Content-Length."""
    sandbox = Sandbox()
    sandbox.reply_next(endpoint="token", body=[b'{"tok', b'en": 1}'])

    async def main() -> tuple[list[bytes], str | None]:
        async with (
            httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL) as client,
            client.stream("GET", TOKEN, headers=basic()) as response,
        ):
            return [c async for c in response.aiter_raw()], response.headers.get("Content-Length")

    if kind == "async":
        chunks, length = asyncio.run(main())
    else:
        with (
            httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client,
            client.stream("GET", TOKEN, headers=basic()) as response,
        ):
            chunks, length = list(response.iter_raw()), response.headers.get("Content-Length")
    assert ([b'{"tok', b'en": 1}'], None) == (chunks, length)


def test_reply_with_an_endless_iterator_is_read_lazily() -> None:
    """A one-shot (even endless) iterator is only read as far as the client reads."""
    pulled: list[int] = []

    def endless() -> Iterator[bytes]:
        for index in range(1000):  # bounded
            pulled.append(index)
            yield b"x" * 10

    sandbox = Sandbox()
    sandbox.reply_next(endpoint="token", body=endless())
    with (
        httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client,
        client.stream("GET", TOKEN, headers=basic()) as response,
    ):
        first = next(response.iter_raw())
    assert (b"x" * 10, True) == (first, len(pulled) < 5)


def test_reply_over_the_loopback_server() -> None:
    """Over a socket: a chunked canned body arrives whole; a lying Content-Length ends in a
    protocol error once the server closes the connection."""
    sandbox = Sandbox()
    sandbox.reply_next(endpoint="token", status=200, body=[b"[1, ", b"2]"])
    sandbox.reply_next(endpoint="token", status=200, body=b"{}", headers={"Content-Length": "9"})
    with SandboxServer(sandbox) as server, httpx.Client(base_url=server.url) as client:
        chunked = client.get(TOKEN, headers=basic())
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(TOKEN, headers=basic())
    assert (b"[1, 2]", "chunked") == (chunked.content, chunked.headers["Transfer-Encoding"])


def test_reply_through_wsgi_streams_chunks() -> None:
    """The WSGI app returns a chunked canned body chunk by chunk, without Content-Length."""
    sandbox = Sandbox()
    sandbox.reply_next(endpoint="balance", status=203, body=[b"a", b"b"])
    started: list[tuple[str, list[tuple[str, str]]]] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": BALANCE,
        "HTTP_AUTHORIZATION": "Bearer " + sandbox.issue_token(),
        "wsgi.input": None,
    }

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.append((status, headers))

    body = wsgi_app(sandbox)(environ, start_response)  # type: ignore[arg-type]
    assert [b"a", b"b"] == list(body)
    assert "203 Non-Authoritative Information" == started[0][0]
    assert [] == [h for h in started[0][1] if h[0].lower() == "content-length"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"X-Bad": "€"}},
        {"headers": {"X-Bad": "a\r\nInjected: 1"}},
        {"headers": {"Bad Name": "x"}},
        {"body": "text"},
        {"body": [b"ok", "not bytes"]},
        {"body": iter([b"one-shot"]), "n": 2},
        {"status": 99},
        {"endpoint": "sms"},
    ],
)
def test_reply_refuses_bad_arguments(kwargs: dict[str, object]) -> None:
    """Headers that cannot go on the wire, non-bytes bodies and bad counts raise ValueError."""
    with pytest.raises(ValueError, match=r"."):
        Sandbox().reply_next(**kwargs)  # type: ignore[arg-type]


# -- raise_next -------------------------------------------------------------------------------


def test_raise_raises_a_copy_with_the_request_each_time() -> None:
    """raise_next(2) raises the exception twice (copies, each with its request), unprocessed."""
    sandbox = Sandbox()
    given = httpx.ConnectError("refused")
    sandbox.raise_next(2, endpoint="send", exception=given)
    raised: list[httpx.ConnectError] = []
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = token_of(client, sandbox)
        for _ in range(2):
            with pytest.raises(httpx.ConnectError) as info:
                client.post(SEND, headers=bearer(tok), json=send_body())
            raised.append(info.value)
        accepted = client.post(SEND, headers=bearer(tok), json=send_body()).status_code
    assert ("refused", SEND, 200, 1) == (
        str(raised[0]),
        raised[1].request.url.path,
        accepted,
        sandbox.accepted_count,
    )
    assert raised[0] is not given
    record = sandbox.requests[1]
    assert ("raise", False, 0) == (record.fault, record.answered, record.status)


def test_raise_after_processing_bills_the_send() -> None:
    """processed=True: the send is accepted, then the client sees the exception (async too)."""
    sandbox = Sandbox()
    sandbox.raise_next(endpoint="send", exception=httpx.ReadTimeout("slow"), processed=True)

    async def main() -> None:
        async with httpx.AsyncClient(transport=sandbox.transport(), base_url=BASE_URL) as client:
            tok = (await client.get(TOKEN, headers=basic())).json()["token"]
            with pytest.raises(httpx.ReadTimeout):
                await client.post(SEND, headers=bearer(tok), json=send_body())

    asyncio.run(main())
    assert 1 == sandbox.accepted_count


def test_raise_over_a_socket_closes_the_connection() -> None:
    """The loopback server cannot raise in the client: it closes without answering."""
    sandbox = Sandbox()
    sandbox.raise_next(endpoint="token", exception=httpx.ConnectError("refused"))
    with (
        SandboxServer(sandbox) as server,
        httpx.Client(base_url=server.url) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.get(TOKEN, headers=basic())
    assert 0 == sandbox.tokens_issued


def test_raise_refuses_a_non_exception() -> None:
    """raise_next needs an exception instance."""
    with pytest.raises(ValueError, match="exception"):
        Sandbox().raise_next(exception=httpx.ConnectError)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["reply", "raise"])
def test_random_mode_cannot_draw_canned_faults(kind: str) -> None:
    """The random mode cannot make up a canned answer or an exception."""
    with pytest.raises(ValueError, match="kinds"):
        Sandbox().random_faults(0.5, kinds=[kind])  # type: ignore[list-item]


@pytest.mark.invalid_requests
def test_canned_answers_are_exempt_but_requests_are_still_validated() -> None:
    """The contract observer skips a canned answer (off-spec on purpose), not the request."""
    observer = ContractObserver()
    sandbox = Sandbox(observer=observer)
    sandbox.reply_next(2, endpoint="send", status=200, body=b"[]")
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tok = token_of(client, sandbox)
        client.post(SEND, headers=bearer(tok), json=send_body())
        client.post(SEND, headers=bearer(tok), json={"not": "a send"})
    assert (3, 1) == (observer.exchanges, len(observer.violations))


# -- named tokens, event ids, issue_token(value) ----------------------------------------------


def test_token_factory_and_first_event_id() -> None:
    """token_factory names the tokens (counting again after reset); first_event_id starts ids."""
    sandbox = Sandbox(token_factory=lambda n: f"tok-{n}", first_event_id=7)
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        tokens = [token_of(client, sandbox) for _ in range(2)]
        ids = [
            client.post(SEND, headers=bearer(tokens[0]), json=send_body()).json()["sendResponse"][
                "eventId"
            ]
            for _ in range(2)
        ]
        sandbox.reset()
        again = token_of(client, sandbox)
    assert (["tok-1", "tok-2"], [7, 8], "tok-1") == (tokens, ids, again)


@pytest.mark.parametrize("value", [True, -1, 2**62, 1.5])
def test_first_event_id_must_be_a_sane_int(value: object) -> None:
    """first_event_id is an int from 0 to 2**62 - 1."""
    with pytest.raises(ValueError, match="first_event_id"):
        Sandbox(first_event_id=value)  # type: ignore[arg-type]


def test_issue_token_with_a_given_value() -> None:
    """issue_token(value) makes that exact token valid."""
    sandbox = Sandbox()
    assert "chosen" == sandbox.issue_token("chosen")
    with httpx.Client(transport=sandbox.transport(), base_url=BASE_URL) as client:
        assert 200 == client.get(BALANCE, headers=bearer("chosen")).status_code


# -- the transport's base_path and observer ----------------------------------------------------


@pytest.mark.invalid_requests
def test_base_path_is_taken_off_before_routing() -> None:
    """With base_path, /behind/a/proxy/api/... is routed; a path outside it is not."""
    sandbox = Sandbox()
    transport = sandbox.transport(base_path="/behind/a/proxy/")
    with httpx.Client(transport=transport, base_url=BASE_URL) as client:
        inside = client.get("/behind/a/proxy" + TOKEN, headers=basic()).status_code
        outside = client.get("/elsewhere" + TOKEN, headers=basic()).status_code
        bare = client.get(TOKEN, headers=basic()).status_code
    assert (200, 404, 200) == (inside, outside, bare)


@pytest.mark.parametrize("base_path", ["no-slash", "/q?x=1"])
def test_base_path_must_be_a_path(base_path: str) -> None:
    """A base_path that is not a path is refused."""
    with pytest.raises(ValueError, match="base_path"):
        Sandbox().transport(base_path=base_path)


def test_transport_observer_sees_the_request_as_sent() -> None:
    """The observer gets the client's request (URL, timeout) with the reply, raised ones too."""
    sandbox = Sandbox()
    sandbox.raise_next(endpoint="balance", exception=httpx.ConnectError("refused"))
    seen: list[tuple[str, object, int, str | None]] = []

    def observer(request: httpx.Request, reply: SandboxReply) -> None:
        seen.append(
            (str(request.url), request.extensions["timeout"]["read"], reply.status, reply.fault)
        )

    transport = sandbox.transport(observer=observer)
    with httpx.Client(transport=transport, base_url="https://elsewhere.test", timeout=7) as client:
        tok = client.get(TOKEN, headers=basic()).json()["token"]
        with pytest.raises(httpx.ConnectError):
            client.get(BALANCE, headers=bearer(tok))
    assert [
        ("https://elsewhere.test" + TOKEN, 7.0, 200, None),
        ("https://elsewhere.test" + BALANCE, 7.0, 0, "raise"),
    ] == seen


def test_server_serves_the_next_connection_after_a_raise() -> None:
    """After a raise closed one connection, the next connection is served as usual."""
    sandbox = Sandbox()
    sandbox.raise_next(endpoint="token", exception=httpx.ConnectError("refused"))
    with SandboxServer(sandbox) as server:
        for expected in (b"", b"HTTP/1.1 200"):
            with socket.create_connection((server.host, server.port), timeout=5) as sock:
                sock.sendall(
                    f"GET {TOKEN} HTTP/1.1\r\nHost: x\r\nAuthorization: {basic()['Authorization']}"
                    "\r\n\r\n".encode()
                )
                assert sock.recv(12).startswith(expected)
