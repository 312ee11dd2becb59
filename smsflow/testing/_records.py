"""What the sandbox keeps about the requests it got and the messages it accepted.

:class:`RequestRecord`, :class:`SendEvent` and :class:`SentMessage` are the records;
:func:`fingerprint` is the 8-byte digest kept per accepted message even when message records
are off; :class:`RecordQueries` gives :class:`~smsflow.testing.Sandbox` its read-only views
and duplicate checks over them.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ._faults import Endpoint, FaultKind

__all__ = ["RecordQueries", "RequestRecord", "SendEvent", "SentMessage", "fingerprint"]


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the sandbox received. Holds no secret: no headers, no body, no token.

    Attributes:
        method: HTTP method, upper case.
        path: The path without the query.
        endpoint: ``"token"``, ``"send"``, ``"balance"``, or ``None`` for an unknown path.
        time: The sandbox clock when it arrived (seconds, as ``clock()`` returns).
        status: The status decided (0: dropped unprocessed); see ``answered``.
        answered: False when the client got no response (a dropped connection).
        had_token: The request carried ``Authorization: Bearer ...``.
        authenticated: Its credentials or token were valid.
        fault: The injected fault kind, or ``None``.
    """

    method: str
    path: str
    endpoint: Endpoint | None
    time: float
    status: int
    answered: bool
    had_token: bool
    authenticated: bool
    fault: FaultKind | None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """One accepted message (recorded when ``record_messages`` is true).

    Attributes:
        event_id: The send's ``eventId``.
        destination: The MSISDN.
        content: The text.
        parts: SMS parts billed.
        network: The network billed (``"Other"`` when the prefix is unknown).
        campaign: The send's ``campaignName``.
        scheduled_for: The requested delivery time when it is in the future, else ``None``.
    """

    event_id: int
    destination: str
    content: str
    parts: int
    network: str
    campaign: str
    scheduled_for: datetime | None


@dataclass(frozen=True, slots=True)
class SendEvent:
    """One accepted send request.

    Attributes:
        event_id: Its ``eventId``.
        time: The sandbox clock when accepted (seconds).
        campaign: ``campaignName``.
        messages: Messages accepted (opted-out ones excluded).
        parts: SMS parts billed.
        cost: Credits charged.
        skipped: Messages skipped because their destination opted out.
        scheduled_for: The requested delivery time when it is in the future, else ``None``.
    """

    event_id: int
    time: float
    campaign: str
    messages: int
    parts: int
    cost: float
    skipped: int
    scheduled_for: datetime | None


def fingerprint(destination: str, content: str) -> int:
    """A 64-bit digest of one (destination, content) pair, as the sandbox stores it."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(destination.encode("utf-8", "surrogatepass"))
    digest.update(b"\x00")
    digest.update(content.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "big")


class RecordQueries:
    """Mixin giving :class:`~smsflow.testing.Sandbox` its record views and duplicate checks.

    The sandbox owns the records and the lock that guards them.
    """

    _lock: threading.Lock
    _requests: deque[RequestRecord]
    _events: deque[SendEvent]
    _messages: list[SentMessage]
    _fingerprints: array[int]

    @property
    def requests(self) -> list[RequestRecord]:
        """The requests received, oldest first (the last ``max_records``)."""
        with self._lock:
            return list(self._requests)

    @property
    def events(self) -> list[SendEvent]:
        """The accepted sends, oldest first (the last ``max_records``)."""
        with self._lock:
            return list(self._events)

    @property
    def messages(self) -> list[SentMessage]:
        """The accepted messages, in order (empty when ``record_messages`` is false)."""
        with self._lock:
            return list(self._messages)

    fingerprint = staticmethod(fingerprint)

    def accepted_times(self, destination: str, content: str) -> int:
        """How many times this (destination, content) pair was accepted (a scan: O(messages))."""
        wanted = fingerprint(destination, content)
        with self._lock:
            return self._fingerprints.count(wanted)

    def duplicate_count(self) -> int:
        """Accepted messages that repeat an earlier accepted (destination, content) pair."""
        with self._lock:
            total = len(self._fingerprints)
            distinct = len(set(self._fingerprints))
        return total - distinct

    def assert_each_accepted_once(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Check that exactly these (destination, content) pairs were accepted, once each.

        Works without message records, by fingerprint. Memory while it runs: about 50 bytes
        per message (a million messages: about 100 MB, released at once). Pass a sequence
        (a list) rather than a one-shot iterator to get example pairs in the failure message.

        Raises:
            AssertionError: a pair was never accepted or accepted more than once, an accepted
                message is not among ``pairs``, or a pair is listed twice. The message gives
                counts and, for a sequence, examples.
        """
        wanted = sorted(fingerprint(destination, content) for destination, content in pairs)
        with self._lock:
            got = sorted(self._fingerprints)
        repeated = sum(1 for a, b in itertools.pairwise(wanted) if a == b)
        if repeated == 0 and got == wanted:
            return
        counts = Counter(got)
        expected = set(wanted)
        del wanted, got
        missing = [key for key in expected if key not in counts]
        duplicated = {key: counts[key] for key in expected if counts[key] > 1}
        unexpected = sum(n for key, n in counts.items() if key not in expected)
        examples = ""
        if isinstance(pairs, Sequence):
            lost = set(missing[:3])
            named = {fingerprint(d, c): (d, c) for d, c in pairs}
            examples = (
                f"; never accepted e.g. {[named[k] for k in lost]}"
                f"; repeated e.g. {[(named[k], n) for k, n in list(duplicated.items())[:3]]}"
            )
        raise AssertionError(
            f"accepted {sum(counts.values())} messages for {len(expected)} expected pairs: "
            f"{len(missing)} never accepted, {len(duplicated)} accepted more than once, "
            f"{unexpected} accepted but not expected"
            + (f", {repeated} pairs listed twice" if repeated else "")
            + examples
        )
