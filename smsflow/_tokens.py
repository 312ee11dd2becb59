"""Tokens and where they are kept: the :class:`TokenStore` protocol and its two stores.

A token is a secret: its ``repr`` never shows it, and the file store writes it owner-only.
Times are seconds since the epoch (``time.time()``), so a stored token is valid across
processes (cron runs, CLI invocations, worker pools).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

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

    ``key`` identifies the account (a hash of the base URL and client id; never the secret).
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


@contextlib.contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class FileTokenStore:
    """Keeps tokens in files, so repeated CLI runs and cron jobs reuse one token.

    Files are created owner-only (0600, in a 0700 folder), written atomically, and guarded by
    an ``flock`` so concurrent processes never read a half-written token.

    Args:
        directory: Where to keep token files (default: ``$XDG_CACHE_HOME/smsflow`` or
            ``~/.cache/smsflow``).
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        if directory is None:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
            directory = os.path.join(base, "smsflow")
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("token store keys are alphanumeric")
        return self.directory / f"token-{key}.json"

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def load(self, key: str) -> Token | None:
        """The stored token for ``key``, or ``None`` (also when the file is unreadable)."""
        path = self._path(key)
        if not path.exists():
            return None
        try:
            with _locked(path.with_suffix(".lock"), exclusive=False):
                return Token.from_json(path.read_text(encoding="utf-8"))
        except OSError:
            return None

    def save(self, key: str, token: Token) -> None:
        """Write ``token`` for ``key`` atomically, owner-only."""
        self._ensure_dir()
        path = self._path(key)
        with _locked(path.with_suffix(".lock"), exclusive=True):
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".token-", suffix=".tmp")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(token.to_json())
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    def delete(self, key: str, token: Token) -> None:
        """Remove the file if it still holds ``token``."""
        path = self._path(key)
        if not path.exists():
            return
        with _locked(path.with_suffix(".lock"), exclusive=True):
            try:
                current = Token.from_json(path.read_text(encoding="utf-8"))
                if current == token:
                    path.unlink()
            except OSError:
                return

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.directory)!r})"
