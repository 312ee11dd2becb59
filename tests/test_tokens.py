"""The token cache: single flight, renewal ahead of expiry, failed renewals, pluggable stores.

The API is the sandbox, scripted through ``FakeApi`` of ``tests/helpers.py`` (in-process): no
network and no real sleep (the clock is injected). Single-flight counts over real sockets are in
``tests/test_concurrency.py``.
"""

from __future__ import annotations

import asyncio
import stat
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from helpers import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    MESSAGES,
    Clock,
    FakeApi,
    error,
)

from smsflow import (
    AsyncSmsFlowClient,
    FileTokenStore,
    MemoryTokenStore,
    SmsFlowAuthenticationError,
    SmsFlowClient,
    Token,
    TokenStore,
)
from smsflow._auth import RENEWAL_RETRY_S
from smsflow._tokens import refresh_time

RENEW_AT_S = 120 * 60 - 300  # a 120-minute token is renewed 5 minutes before expiry
THREADS = 16
CALLS_PER_THREAD = 50
TASKS = 500
T = TypeVar("T")
OVERLAP_S = 0.05  # a token answer is held back this long so that the threads overlap


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run a test's coroutine, failing (not hanging) if it is stuck for 10 s."""
    return asyncio.run(asyncio.wait_for(main, 10))


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A scripted API whose sync clients are closed after the test."""
    with FakeApi() as fake:
        yield fake


def token(value: str = "t", issued_at: float = 1000.0, lifetime: float = 7200.0) -> Token:
    """A token issued at ``issued_at`` living ``lifetime`` seconds."""
    return Token(value, issued_at, issued_at + lifetime, refresh_time(issued_at, lifetime))


def run_threads(count: int, target: Callable[[], object]) -> list[BaseException]:
    """Run ``target`` in ``count`` threads started together; return the errors they raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def worker() -> None:
        barrier.wait(5)
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def async_client(api: FakeApi, http: httpx.AsyncClient, **options: object) -> AsyncSmsFlowClient:
    """An async client on ``http`` (whose transport answers from ``api``)."""
    return AsyncSmsFlowClient(
        CLIENT_ID,
        CLIENT_SECRET,
        BASE_URL,
        http_client=http,
        **options,  # type: ignore[arg-type]
    )


def yielding_transport(api: FakeApi) -> httpx.MockTransport:
    """``api`` as an async transport whose answers give way to every other task first, so all
    concurrent calls are in flight together (and pile up on the token cache during a fetch)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        for _ in range(5):
            await asyncio.sleep(0)  # not a real sleep: lets every other ready task run
        return api.handler(request)

    return httpx.MockTransport(handler)


# -- when a token is renewed ----------------------------------------------------------------


def test_refresh_time_is_five_minutes_before_expiry() -> None:
    """A 120-minute token is renewed at 115 minutes (seconds since issue)."""
    assert refresh_time(1000.0, 120 * 60) == 1000.0 + 115 * 60


def test_refresh_time_never_sooner_than_one_minute_after_issue() -> None:
    """A 2-minute token is renewed after 1 minute, not 3 minutes before it was issued."""
    assert refresh_time(1000.0, 120) == 1060.0


def test_refresh_time_of_a_token_shorter_than_a_minute_is_its_expiry() -> None:
    """A 30-second token is used until it expires."""
    assert refresh_time(1000.0, 30) == 1030.0


def test_token_repr_hides_the_value() -> None:
    """``repr(Token)`` shows the times but never the bearer value."""
    assert "s3cr3t-value" not in repr(token("s3cr3t-value"))


# -- single flight, sync ----------------------------------------------------------------------


def test_threads_renew_a_due_token_once(api: FakeApi) -> None:
    """When the token is due for renewal, 16 threads at once cause one renewal (re-checked
    inside the lock); while it is in flight the others use the still-valid old token."""
    clock = Clock()
    client = api.client(clock=clock)
    client.get_balance()
    clock.advance(RENEW_AT_S)
    api.token_wait = OVERLAP_S
    assert run_threads(THREADS, lambda: [client.get_balance() for _ in range(5)]) == []
    assert len(api.to("token")) == 2
    later = [r.headers["Authorization"] for r in api.to("balance")[-THREADS * 5 :]]
    # during the renewal the still-valid old token is used; once renewed, the new one
    assert {"Bearer tok-1", "Bearer tok-2"} >= set(later)
    assert "Bearer tok-2" == later[-1]


def test_threads_after_a_revocation_fetch_one_new_token(api: FakeApi) -> None:
    """16 threads whose calls all get a 401 at once (token revoked): one new token, and every
    call replayed once with it."""
    client = api.client()
    client.get_balance()
    api.revoke_all()
    together = threading.Barrier(THREADS)
    # The sandbox refuses the revoked token; every thread holds its 401 before any handles it.
    api.hold("balance", *[lambda: together.wait(5)] * THREADS)
    assert run_threads(THREADS, client.get_balance) == []
    assert len(api.to("token")) == 2
    replays = api.to("balance")[1 + THREADS :]
    assert [r.headers["Authorization"] for r in replays] == ["Bearer tok-2"] * THREADS


def test_failed_renewal_keeps_the_old_token_for_every_thread(api: FakeApi) -> None:
    """Renewal answered 503 while 16 threads call: one token request, all succeed on the old
    token (the next renewal waits RENEWAL_RETRY_S instead of one per call)."""
    clock = Clock()
    client = api.client(clock=clock)
    client.get_balance()
    clock.advance(RENEW_AT_S)

    api.token_wait = OVERLAP_S  # the other threads pile up on the token cache
    api.queue("token", *[error(503, "SERVICE_UNAVAILABLE")] * THREADS)
    assert run_threads(THREADS, client.get_balance) == []
    assert len(api.to("token")) == 2
    assert {"Bearer tok-1"} == {r.headers["Authorization"] for r in api.to("balance")}


def test_unanswered_renewal_keeps_the_old_token(api: FakeApi) -> None:
    """A renewal that gets no answer (connection refused) does not fail the call: the old,
    still valid token is used, and renewal is tried again RENEWAL_RETRY_S later."""
    clock = Clock()
    client = api.client(clock=clock)
    client.get_balance()
    clock.advance(RENEW_AT_S)
    api.queue("token", httpx.ConnectError("refused"))
    assert client.send_sms("Renewal", MESSAGES).event_id == 123456
    client.get_balance()
    assert len(api.to("token")) == 2
    clock.advance(RENEWAL_RETRY_S)
    client.get_balance()
    assert len(api.to("token")) == 3
    assert api.to("balance")[-1].headers["Authorization"] == "Bearer tok-2"


def test_tasks_renew_a_due_token_once(api: FakeApi) -> None:
    """500 tasks when the token is due: one renewal; the others use the still-valid old
    token meanwhile, never a third one."""
    clock = Clock()

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=yielding_transport(api)) as http,
            async_client(api, http, clock=clock) as client,
        ):
            await client.get_balance()
            clock.advance(RENEW_AT_S)
            await asyncio.gather(*(client.get_balance() for _ in range(TASKS)))

    run(main())
    assert len(api.to("token")) == 2
    used = {r.headers["Authorization"] for r in api.to("balance")[1:]}
    # during the renewal the still-valid old token is used (no call waits for it)
    assert {"Bearer tok-1", "Bearer tok-2"} >= used


def test_tasks_keep_the_old_token_when_renewal_fails(api: FakeApi) -> None:
    """500 tasks when renewal answers 503: one token request, every call on the old token."""
    clock = Clock()

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=yielding_transport(api)) as http,
            async_client(api, http, clock=clock) as client,
        ):
            await client.get_balance()
            clock.advance(RENEW_AT_S)
            api.queue("token", *[error(503)] * 3)
            await asyncio.gather(*(client.get_balance() for _ in range(TASKS)))

    run(main())
    assert len(api.to("token")) == 2
    assert {"Bearer tok-1"} == {r.headers["Authorization"] for r in api.to("balance")}


def test_tasks_after_a_revocation_fetch_one_new_token(api: FakeApi) -> None:
    """100 tasks whose calls all get a 401 together (token revoked): one new token, and every
    call replayed once with it."""

    async def main() -> None:
        async with (
            httpx.AsyncClient(transport=yielding_transport(api)) as http,
            async_client(api, http) as client,
        ):
            await client.get_balance()
            api.revoke_all()
            await asyncio.gather(*(client.get_balance() for _ in range(100)))

    run(main())
    assert len(api.to("token")) == 2
    calls = [r.headers["Authorization"] for r in api.to("balance")]
    assert calls == ["Bearer tok-1"] * 101 + ["Bearer tok-2"] * 100


# -- stores -----------------------------------------------------------------------------------


def test_both_stores_satisfy_the_protocol(tmp_path: Path) -> None:
    """MemoryTokenStore and FileTokenStore are TokenStores."""
    assert isinstance(MemoryTokenStore(), TokenStore)
    assert isinstance(FileTokenStore(tmp_path), TokenStore)


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_store_round_trip_and_conditional_delete(kind: str, tmp_path: Path) -> None:
    """A store gives back what was saved, and deletes only the token it still holds."""
    store: TokenStore = MemoryTokenStore() if kind == "memory" else FileTokenStore(tmp_path)
    old, new = token("old"), token("new", issued_at=2000.0)
    assert store.load("abc123") is None
    store.save("abc123", old)
    assert old == store.load("abc123")
    store.save("abc123", new)
    store.delete("abc123", old)  # a stale 401: the newer token stays
    assert new == store.load("abc123")
    store.delete("abc123", new)
    assert store.load("abc123") is None


def test_file_store_writes_owner_only(tmp_path: Path) -> None:
    """The token file is 0600 in a 0700 folder, and holds no client secret."""
    folder = tmp_path / "tokens"
    FileTokenStore(folder).save("abc123", token("bearer-value"))
    files = [p for p in folder.iterdir() if p.suffix == ".json"]
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in folder.iterdir() if p.name.startswith(".token-")] == []


def test_file_store_ignores_a_corrupt_file(tmp_path: Path) -> None:
    """An unreadable token file reads as no token (the client then fetches a new one)."""
    store = FileTokenStore(tmp_path)
    store.save("abc123", token())
    (tmp_path / "token-abc123.json").write_text("{not json", encoding="utf-8")
    assert store.load("abc123") is None


def test_file_store_refuses_keys_that_could_escape_its_folder(tmp_path: Path) -> None:
    """A key with path characters is refused (ValueError)."""
    with pytest.raises(ValueError, match="alphanumeric"):
        FileTokenStore(tmp_path).load("../etc")


def test_file_store_default_folder_follows_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a directory, tokens go to $XDG_CACHE_HOME/smsflow."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tmp_path / "smsflow" == FileTokenStore().directory


def test_file_store_is_safe_under_concurrent_writers(tmp_path: Path) -> None:
    """16 threads saving and loading at once never read a half-written token."""
    store = FileTokenStore(tmp_path)
    tokens = [token(f"value-{i}", issued_at=1000.0 + i) for i in range(THREADS)]
    seen: list[Token | None] = []

    def work() -> None:
        for _ in range(20):
            store.save("abc123", tokens[threading.get_ident() % THREADS])
            seen.append(store.load("abc123"))

    assert run_threads(THREADS, work) == []
    assert set() == {t for t in seen if t not in tokens}


def test_file_store_lets_a_second_run_reuse_the_token(api: FakeApi, tmp_path: Path) -> None:
    """Two runs (clients) one after the other with a FileTokenStore: one token request."""
    for _ in range(2):
        with SmsFlowClient(
            CLIENT_ID,
            CLIENT_SECRET,
            BASE_URL,
            token_store=FileTokenStore(tmp_path),
            http_client=httpx.Client(transport=api.transport()),
        ) as client:
            client.send_sms("Cron", MESSAGES)
    assert len(api.to("token")) == 1
    assert len(api.to("send")) == 2
    assert [p for p in tmp_path.rglob("*") if CLIENT_SECRET in p.read_text("utf-8")] == []


def test_file_store_revoked_token_is_replaced_for_the_next_run(
    api: FakeApi, tmp_path: Path
) -> None:
    """A stored token refused with 401 is deleted and replaced: the next run uses the new one."""
    store = FileTokenStore(tmp_path)
    api.client(token_store=store).get_balance()
    api.revoke_all()
    api.client(token_store=store).get_balance()  # 401, new token, replay
    api.client(token_store=store).get_balance()
    assert len(api.to("token")) == 2
    assert api.to("balance")[-1].headers["Authorization"] == "Bearer tok-2"


def test_expired_stored_token_is_renewed_and_saved(api: FakeApi, tmp_path: Path) -> None:
    """A stored token past its renewal time is not used; the new one replaces it in the file."""
    clock = Clock()
    store = FileTokenStore(tmp_path)
    api.client(token_store=store, clock=clock).get_balance()
    clock.advance(RENEW_AT_S)
    api.client(token_store=store, clock=clock).get_balance()
    key = next(iter(tmp_path.glob("token-*.json"))).stem.removeprefix("token-")
    stored = store.load(key)
    assert stored is not None
    assert stored.value == "tok-2"


class RecordingStore:
    """A user's own store (as a Redis one would be): a dict, with every call recorded."""

    def __init__(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.calls: list[str] = []
        self.keys: set[str] = set()

    def load(self, key: str) -> Token | None:
        self.calls.append("load")
        self.keys.add(key)
        return self.tokens.get(key)

    def save(self, key: str, token: Token) -> None:
        self.calls.append("save")
        self.keys.add(key)
        self.tokens[key] = token

    def delete(self, key: str, token: Token) -> None:
        self.calls.append("delete")
        if self.tokens.get(key) == token:
            del self.tokens[key]


def test_custom_store_is_shared_by_many_clients(api: FakeApi) -> None:
    """Eight clients (as eight worker processes would) on one shared store: one token."""
    store = RecordingStore()
    assert isinstance(store, TokenStore)
    clients = [api.client(token_store=store) for _ in range(8)]
    for client in clients:
        client.get_balance()
    assert len(api.to("token")) == 1
    assert store.calls.count("save") == 1
    assert store.calls.count("delete") == 0


def test_custom_store_is_told_to_delete_a_revoked_token(api: FakeApi) -> None:
    """A 401 on a token deletes it from the store before the new one is saved."""
    store = RecordingStore()
    client = api.client(token_store=store)
    client.get_balance()
    api.revoke_all()
    client.get_balance()
    assert [c for c in store.calls if c != "load"] == ["save", "delete", "save"]
    assert next(iter(store.tokens.values())).value == "tok-2"


def test_store_keys_separate_accounts_and_hold_no_secret(api: FakeApi) -> None:
    """Another client id on the same store gets its own key (never the other's token); keys
    are alphanumeric (file-name safe) and not derived from the secret."""
    store = RecordingStore()
    api.client(token_store=store).get_balance()
    other = api.client(token_store=store, client_id="another-id")
    with pytest.raises(SmsFlowAuthenticationError):  # FakeApi knows only CLIENT_ID
        other.get_balance()
    assert len(store.keys) == 2
    assert all(key.isalnum() and CLIENT_SECRET not in key for key in store.keys)
    assert len(api.to("balance")) == 1  # the other client never sent the first one's token


def test_revoked_token_is_replaced_from_a_shared_store(api: FakeApi) -> None:
    """After a revocation, a second client sharing the store takes the token the first one
    already stored instead of fetching another."""
    store = RecordingStore()
    first, second = api.client(token_store=store), api.client(token_store=store)
    first.get_balance()
    second.get_balance()
    api.revoke_all()
    first.get_balance()  # 401, fetches and stores tok-2
    second.get_balance()  # 401 on tok-1, finds tok-2 in the store
    assert len(api.to("token")) == 2
    assert api.to("balance")[-1].headers["Authorization"] == "Bearer tok-2"
