"""A stand-in for the `redis` package, just enough for the README's Redis token store example
(GET, SET with EX, and the one compare-and-delete script), so that example runs in the suite
without a Redis server. Not a fake SMSFlow: it stands in for Redis only."""

from __future__ import annotations

from typing import Any

_DATA: dict[str, bytes] = {}


class Redis:
    """The few commands the example uses, on a process-wide dict."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.data = _DATA

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def set(self, key: str, value: str, ex: int | None = None) -> bool:
        assert ex is None or ex > 0
        self.data[key] = value.encode()
        return True

    def eval(self, script: str, numkeys: int, key: str, value: str) -> int:
        assert "DEL" in script
        assert numkeys == 1
        if self.data.get(key) == value.encode():
            del self.data[key]
            return 1
        return 0
