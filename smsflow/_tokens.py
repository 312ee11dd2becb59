"""Tokens and where they are kept: the :class:`TokenStore` protocol and its two stores.

A token is a secret: its ``repr`` never shows it, and the file store writes it owner-only.
Times are seconds since the epoch (``time.time()``), so a stored token is valid across
processes (cron runs, CLI invocations, worker pools).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, runtime_checkable

from ._logging import logger

__all__ = ["FileTokenStore", "MemoryTokenStore", "Token", "TokenStore", "refresh_time"]

REFRESH_MARGIN_S = 300.0  # refresh this many seconds before expiry (the vendor's 5 minutes) ...
MIN_AGE_BEFORE_REFRESH_S = 60.0  # ... but never sooner than 1 minute after issue


def refresh_time(issued_at: float, lifetime_s: float) -> float:
    """When (s) a token issued at ``issued_at`` that lives ``lifetime_s`` seconds is renewed."""
    return issued_at + max(min(MIN_AGE_BEFORE_REFRESH_S, lifetime_s), lifetime_s - REFRESH_MARGIN_S)


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token and its times (seconds since the epoch). ``repr`` hides the value."""

    value: str = field(repr=False)
    issued_at: float
    expires_at: float
    refresh_at: float

    def is_fresh(self, now: float) -> bool:
        """True until the token should be renewed."""
        return now < self.refresh_at

    def is_valid(self, now: float) -> bool:
        """True until the token expires."""
        return now < self.expires_at

    def to_json(self) -> str:
        """Serialise (for stores). The result contains the secret: keep it owner-only."""
        return json.dumps(
            {
                "value": self.value,
                "issued_at": self.issued_at,
                "expires_at": self.expires_at,
                "refresh_at": self.refresh_at,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Token | None:
        """Parse :meth:`to_json` output; ``None`` for anything unreadable."""
        try:
            data = json.loads(text)
            return cls(
                value=str(data["value"]),
                issued_at=float(data["issued_at"]),
                expires_at=float(data["expires_at"]),
                refresh_at=float(data["refresh_at"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


@runtime_checkable
class TokenStore(Protocol):
    """Where a client keeps its token between calls (and, for shared stores, between processes).

    ``key`` identifies the account: a keyed hash of the base URL, client id and secret (it
    reveals none of them).
    Implementations must be thread-safe. A Redis store is three lines: ``GET``, ``SET`` with
    ``EX``, ``DEL`` on the key (see the README).
    """

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None``."""
        ...

    def save(self, key: str, token: Token) -> None:
        """Store ``token`` for ``key``, replacing any other."""
        ...

    def delete(self, key: str, token: Token) -> None:
        """Forget ``token`` if it is still the one stored for ``key`` (it was refused)."""
        ...


class MemoryTokenStore:
    """The default store: a dict in this process."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None``."""
        return self._tokens.get(key)

    def save(self, key: str, token: Token) -> None:
        """Store ``token`` for ``key``."""
        with self._lock:
            self._tokens[key] = token

    def delete(self, key: str, token: Token) -> None:
        """Forget ``token`` if it is still the one stored for ``key``."""
        with self._lock:
            if self._tokens.get(key) == token:
                del self._tokens[key]

    def __repr__(self) -> str:
        return f"MemoryTokenStore(<{len(self._tokens)} token(s)>)"


_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)  # never create or read through a symlink


@contextlib.contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _read_own_file(path: Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (not a symlink) that only this user can
    write; ``None`` for a file someone else owns or could have written."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if (
            not stat.S_ISREG(info.st_mode)
            or (hasattr(os, "geteuid") and info.st_uid != os.geteuid())
            or info.st_mode & 0o022
        ):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(_MAX_TOKEN_FILE)
    finally:
        os.close(fd)


_MAX_TOKEN_FILE: Final = 64 * 1024  # a token file is a few hundred bytes


class FileTokenStore:
    """Keeps tokens in files, so repeated CLI runs and cron jobs reuse one token.

    Files are created owner-only (0600, in a 0700 folder), written atomically, and guarded by
    an ``flock`` so concurrent processes never read a half-written token. Hostile or broken
    files never break a call:

    * an unreadable token file (not UTF-8, not JSON, a folder, a dangling symlink) reads as
      no token: a fresh one is fetched and the file rewritten;
    * a folder of this user that others can write is repaired to 0700; a folder owned by
      another user is not used, and a token file that is not a regular file owned by this
      user and writable by it alone is never read (someone else could have planted it);
    * no file is opened or created through a symlink (the ``.lock`` file included);
    * when the folder cannot be used (unwritable, not a directory, refused), tokens are kept
      in this store's memory for the life of the process and one warning is logged on the
      ``smsflow`` logger.

    Args:
        directory: Where to keep token files (default: ``$XDG_CACHE_HOME/smsflow`` or
            ``~/.cache/smsflow``).
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        if directory is None:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
            directory = os.path.join(base, "smsflow")
        self.directory = Path(directory)
        self._memory = MemoryTokenStore()  # when the folder cannot be used
        self._warned = False

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("token store keys are alphanumeric")
        return self.directory / f"token-{key}.json"

    def _usable_dir(self, create: bool) -> bool:
        """Whether the folder may hold tokens: ours, and writable by us alone (repaired if
        others could write it). With ``create``, a missing folder is made (0700).

        Raises:
            OSError: it cannot be created, or is not ours (``PermissionError``).
        """
        if create:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not self.directory.is_dir():
            return False
        info = os.stat(self.directory)
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(f"{str(self.directory)!r} is not a directory")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise PermissionError(f"{str(self.directory)!r} belongs to another user")
        if info.st_mode & 0o022:
            os.chmod(self.directory, 0o700)
        return True

    def _fall_back(self, error: OSError) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "FileTokenStore(%r) cannot keep tokens (%s: %s); they are kept in memory "
                "for this process instead",
                str(self.directory),
                type(error).__name__,
                error.strerror or error,
            )

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None`` (also when the file is unreadable or
        not trusted: see the class docstring). Never raises for the file's state."""
        path = self._path(key)
        data: bytes | None = None
        try:
            if self._usable_dir(create=False) and os.path.lexists(path):
                with _locked(path.with_suffix(".lock"), exclusive=False):
                    data = _read_own_file(path)
        except OSError:
            data = None
        token = None
        if data is not None:
            try:
                token = Token.from_json(data.decode("utf-8"))
            except UnicodeDecodeError:
                token = None
        return token if token is not None else self._memory.load(key)

    def save(self, key: str, token: Token) -> None:
        """Write ``token`` for ``key`` atomically, owner-only (in memory, with one warning,
        when the folder cannot be used)."""
        path = self._path(key)
        try:
            self._usable_dir(create=True)
            with _locked(path.with_suffix(".lock"), exclusive=True):
                fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".token-", suffix=".tmp")
                try:
                    os.fchmod(fd, 0o600)
                    with os.fdopen(fd, "w", encoding="utf-8") as fh:
                        fh.write(token.to_json())
                    os.replace(tmp, path)  # replaces a symlink itself, never its target
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                    raise
        except OSError as error:
            self._memory.save(key, token)
            self._fall_back(error)

    def delete(self, key: str, token: Token) -> None:
        """Remove the file if it still holds ``token``."""
        self._memory.delete(key, token)
        path = self._path(key)
        try:
            if not (self._usable_dir(create=False) and os.path.lexists(path)):
                return
            with _locked(path.with_suffix(".lock"), exclusive=True):
                data = _read_own_file(path)
                current = None if data is None else Token.from_json(data.decode("utf-8"))
                if current == token or data is None:
                    path.unlink()  # ours and refused, or not trusted: gone either way
        except (OSError, UnicodeDecodeError):
            return

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.directory)!r})"
