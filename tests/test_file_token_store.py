"""Issue 11, item 8: ``FileTokenStore`` on hostile or broken files.

* a corrupt (non-UTF-8) token file: a fresh token is fetched and the file rewritten;
* an unwritable store path: the token is kept in memory, with one warning, and calls work;
* a directory others can write is repaired (0700) and a token file others could have
  planted is never sent;
* no file is created through a symlink (the ``.lock`` file included).

Both clients drive the same store through the one token cache; each case runs with both.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import pytest

from smsflow import FileTokenStore, Token
from smsflow.testing import Sandbox, SandboxReply

OTHER_UID: Final = 54321  # "another user" (the suite may run as root, which can chown)
PLANTED: Final = "planted-token-value"


def call_twice(flavour: str, sandbox: Sandbox, store: FileTokenStore) -> list[float]:
    """Two ``get_balance`` calls on one client, then one on a second client."""
    if flavour == "sync":
        results = []
        with sandbox.client(token_store=store) as client:
            results += [client.get_balance().balance, client.get_balance().balance]
        with sandbox.client(token_store=store) as client:
            results.append(client.get_balance().balance)
        return results

    async def main() -> list[float]:
        results = []
        async with sandbox.async_client(token_store=store) as client:
            results += [(await client.get_balance()).balance, (await client.get_balance()).balance]
        async with sandbox.async_client(token_store=store) as client:
            results.append((await client.get_balance()).balance)
        return results

    return asyncio.run(main())


def token_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("token-*.json"))


def key_of(sandbox: Sandbox, store: FileTokenStore) -> str:
    """The store key the sandbox's client uses (from the file it writes)."""
    with sandbox.client(token_store=store) as client:
        client.get_balance()
    (path,) = token_files(store.directory)
    return path.name.removeprefix("token-").removesuffix(".json")


def fresh_token(value: str) -> Token:
    import time

    now = time.time()
    return Token(value=value, issued_at=now, expires_at=now + 7200, refresh_at=now + 6900)


class Bearers:
    """Sandbox observer: every bearer token sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes, reply: SandboxReply
    ) -> None:
        value = headers.get("authorization", "")
        if value.startswith("Bearer "):
            self.sent.append(value.removeprefix("Bearer "))


def test_a_corrupt_token_file_is_replaced_by_a_fresh_token(tmp_path: Path, flavour: str) -> None:
    """Non-UTF-8 bytes in the token file: the call works, one token is fetched, and the file
    is rewritten with it (the next client reuses it)."""
    sandbox = Sandbox(balance=7.0)
    store = FileTokenStore(tmp_path / "tokens")
    key = key_of(sandbox, store)
    (path,) = token_files(store.directory)
    path.write_bytes(b'{"value": "\xff\xfe\x80", "issued_at": 1}\xff')
    bearers = Bearers()
    sandbox.add_observer(bearers)
    before = sandbox.token_requests
    assert [7.0, 7.0, 7.0] == call_twice(flavour, sandbox, store)
    assert 1 == sandbox.token_requests - before
    stored = store.load(key)
    assert stored is not None
    assert {stored.value} == set(bearers.sent)


def test_an_unwritable_store_keeps_the_token_in_memory_and_warns_once(
    tmp_path: Path, flavour: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A store path under a regular file: calls work, one token request per client (not per
    call), and one warning per store, not one per save."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    store = FileTokenStore(blocker / "tokens")
    sandbox = Sandbox(balance=3.0)
    with caplog.at_level(logging.WARNING, logger="smsflow"):
        assert [3.0, 3.0, 3.0] == call_twice(flavour, sandbox, store)
    assert 1 == sandbox.token_requests  # kept in the store's memory: the second client too
    warnings = [r for r in caplog.records if r.name.startswith("smsflow")]
    assert 1 == len(warnings)
    assert "FileTokenStore" in warnings[0].getMessage()


def test_a_directory_others_can_write_is_repaired_and_their_file_not_sent(
    tmp_path: Path, flavour: str
) -> None:
    """A pre-existing 0777 folder holding a fresh token file owned by another user: the folder
    becomes 0700, the planted token is never sent, and a fresh token is fetched."""
    sandbox = Sandbox(balance=5.0)
    folder = tmp_path / "tokens"
    store = FileTokenStore(folder)
    key = key_of(sandbox, store)
    for path in folder.iterdir():
        path.unlink()
    folder.chmod(0o777)
    planted = folder / f"token-{key}.json"
    planted.write_text(fresh_token(PLANTED).to_json())
    planted.chmod(0o666)
    if os.geteuid() == 0:
        os.chown(planted, OTHER_UID, OTHER_UID)
    bearers = Bearers()
    sandbox.add_observer(bearers)
    before = sandbox.token_requests
    assert [5.0, 5.0, 5.0] == call_twice(flavour, sandbox, store)
    assert PLANTED not in bearers.sent
    assert 1 == sandbox.token_requests - before
    assert 0o700 == stat.S_IMODE(folder.stat().st_mode)


def test_no_file_is_created_through_a_symlink(tmp_path: Path, flavour: str) -> None:
    """Symlinks planted as the lock file and as the token file are never followed: their
    targets are not created, and calls still work."""
    sandbox = Sandbox(balance=9.0)
    folder = tmp_path / "tokens"
    store = FileTokenStore(folder)
    key = key_of(sandbox, store)
    for path in folder.iterdir():
        path.unlink()
    lock_target = tmp_path / "lock-target"
    token_target = tmp_path / "token-target"
    (folder / f"token-{key}.lock").symlink_to(lock_target)
    (folder / f"token-{key}.json").symlink_to(token_target)
    assert [9.0, 9.0, 9.0] == call_twice(flavour, sandbox, store)
    assert (False, False) == (lock_target.exists(), token_target.exists())


def test_file_store_load_never_raises(tmp_path: Path) -> None:
    """Every unreadable state gives ``None``: bytes that are not UTF-8, a folder in place of
    the file, a dangling symlink."""
    store = FileTokenStore(tmp_path)
    cases: list[tuple[str, Any]] = [
        ("abc1", lambda p: p.write_bytes(b"\xff\xfe")),
        ("abc2", lambda p: p.mkdir()),
        ("abc3", lambda p: p.symlink_to(tmp_path / "nowhere")),
    ]
    for key, make in cases:
        make(tmp_path / f"token-{key}.json")
        assert store.load(key) is None
