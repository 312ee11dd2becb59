"""The journal of a bulk run: an append-only JSON-lines file that makes a killed run resumable.

One JSON object per line; each line is flushed and ``fsync``'d before the run goes on (and
the folder is ``fsync``'d once after the file is created, so the file itself survives a
power cut)::

    {"journal": "smsflow-bulk", "version": 1, "settings": {...}}                (first line)
    {"batch": 7, "state": "started", "first": 3500, "count": 500, "digest": "9f2c..."}
    {"batch": 7, "state": "sent", "event_id": 100008, "cost": 125.0, "opted_out": [3]}
    {"batch": 8, "state": "unknown", "code": "DELIVERY_UNKNOWN", "message": "..."}

* ``started`` is written (and on disk) **before** the batch's request is sent: a batch with no
  ``started`` line was never sent. ``first`` is the input index of its first message,
  ``count`` how many messages it holds, ``digest`` a SHA-256 of their indices, destinations
  and contents: a resumed run with a different input is refused.
* The outcome line follows as soon as the outcome is known: ``sent`` (with the event id,
  cost and, when any, the positions in the batch the API skipped as opted out), ``refused``,
  ``not_sent`` (never processed: safe to send again) or ``unknown``.
  A batch ``started`` without an outcome line was interrupted: it may have been sent.
* A later ``started`` for the same batch (a resend) replaces its earlier state.

A run killed while writing leaves at most one partial last line; it is dropped when the journal
is opened again (a torn ``started`` line means the request was never sent, a torn outcome line
leaves the batch "started", so it is treated as unknown). While a run uses the journal it holds
an exclusive ``flock`` on it, so two processes never run the same journal at once (on POSIX).

Memory: one small record per batch (about 200 bytes), never per message.

Errors are :class:`~smsflow.SmsFlowValidationError` raised by :meth:`Journal.open`:
``JOURNAL_MISMATCH`` (the journal belongs to another campaign or other settings),
``JOURNAL_CORRUPT`` (a line other than the last is unreadable), ``JOURNAL_LOCKED`` (another
process is using it). ``OSError`` when the file cannot be opened or written.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, Final, Literal

from ._errors import invalid

__all__ = ["BatchRecord", "BatchState", "Journal"]

MAGIC: Final = "smsflow-bulk"
VERSION: Final = 1

BatchState = Literal["started", "sent", "refused", "not_sent", "unknown"]
_STATES: Final = frozenset({"started", "sent", "refused", "not_sent", "unknown"})


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """What the journal knows about one batch.

    Attributes:
        state: The last state written (see the module docstring).
        first: Input index of the batch's first message.
        count: Messages in the batch.
        digest: SHA-256 (hex) of the batch's messages.
        event_id: The send's event id, when ``state == "sent"``.
        cost: Credits charged, when ``state == "sent"``.
        code: The error code of a ``refused``, ``not_sent`` or ``unknown`` outcome.
        message: Its one-line message.
        opted_out: Positions in the batch that the API skipped as opted out (when sent).
    """

    state: BatchState
    first: int
    count: int
    digest: str
    event_id: int | None = None
    cost: float | None = None
    code: str | None = None
    message: str | None = None
    opted_out: tuple[int, ...] = ()


def _corrupt(path: Path, line_no: int, why: str) -> Exception:
    return invalid(
        f"bulk journal {str(path)!r} line {line_no} is unreadable ({why}); it was not written "
        "by smsflow or was edited. Move it away to start a new run",
        "JOURNAL_CORRUPT",
        "journal",
    )


class Journal:
    """One bulk run's journal file. Thread-safe; open it before use, close it after.

    Args:
        path: The file (created if missing; its folder must exist).
        settings: The run's settings that decide batch boundaries and what is sent
            (campaign, batch size, ...): written in the first line of a new journal and
            compared with it when an existing journal is opened.
    """

    def __init__(self, path: str | os.PathLike[str], settings: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.settings = dict(settings)
        self._records: dict[int, BatchRecord] = {}
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}, batches={len(self._records)})"

    def __len__(self) -> int:
        return len(self._records)

    # -- opening ----------------------------------------------------------------------------

    def open(self) -> None:
        """Open (or create) the file, lock it and read what earlier runs recorded.

        Raises:
            SmsFlowValidationError: ``JOURNAL_MISMATCH``, ``JOURNAL_CORRUPT`` or
                ``JOURNAL_LOCKED`` (see the module docstring); the file is left as it was.
            OSError: the file cannot be opened.
        """
        if self._file is not None:
            return
        handle = open(self.path, "a+b")  # noqa: SIM115 - kept open until close()
        try:
            _lock_exclusive(handle, self.path)
            handle.seek(0)
            data = handle.read()
            cut = data.rfind(b"\n") + 1
            if cut < len(data):
                # A torn last line (the process died while writing it): drop it.
                handle.truncate(cut)
            self._load(data[:cut])
            handle.seek(0, os.SEEK_END)
            self._file = handle
            if cut == 0:
                self._write({"journal": MAGIC, "version": VERSION, "settings": self.settings})
                _fsync_dir(self.path.parent)  # the new file's directory entry, on disk too
        except BaseException:
            handle.close()
            self._file = None
            raise

    def _load(self, data: bytes) -> None:
        for number, raw in enumerate(data.splitlines(), start=1):
            try:
                line = json.loads(raw)
            except ValueError:
                raise _corrupt(self.path, number, "not JSON") from None
            if not isinstance(line, dict):
                raise _corrupt(self.path, number, "not a JSON object")
            if number == 1:
                self._check_header(line)
            else:
                self._apply(line, number)

    def _check_header(self, data: dict[str, Any]) -> None:
        if data.get("journal") != MAGIC or data.get("version") != VERSION:
            raise _corrupt(self.path, 1, f"not a version-{VERSION} smsflow bulk journal")
        saved = data.get("settings")
        if not isinstance(saved, dict):
            raise _corrupt(self.path, 1, "no settings")
        differ = sorted(
            key
            for key in set(saved) | set(self.settings)
            if saved.get(key) != self.settings.get(key)
        )
        if differ:
            details = ", ".join(
                f"{key}: journal {saved.get(key)!r}, now {self.settings.get(key)!r}"
                for key in differ
            )
            raise invalid(
                f"bulk journal {str(self.path)!r} was written by a run with other settings "
                f"({details}); resume with the same settings, or use a new journal file",
                "JOURNAL_MISMATCH",
                "journal",
            )

    def _apply(self, data: dict[str, Any], number: int) -> None:
        batch, state = data.get("batch"), data.get("state")
        if isinstance(batch, bool) or not isinstance(batch, int) or state not in _STATES:
            raise _corrupt(self.path, number, "no batch number or state")
        if state == "started":
            first, count, digest = data.get("first"), data.get("count"), data.get("digest")
            if not (isinstance(first, int) and isinstance(count, int) and isinstance(digest, str)):
                raise _corrupt(self.path, number, "a started line without first/count/digest")
            self._records[batch] = BatchRecord("started", first, count, digest)
            return
        known = self._records.get(batch)
        if known is None:
            raise _corrupt(self.path, number, f"an outcome for batch {batch}, never started")
        event_id, cost = data.get("event_id"), data.get("cost")
        code, message = data.get("code"), data.get("message")
        skipped = data.get("opted_out")
        self._records[batch] = replace(
            known,
            state=state,
            event_id=event_id if isinstance(event_id, int) else None,
            cost=float(cost) if isinstance(cost, int | float) else None,
            code=code if isinstance(code, str) else None,
            message=message if isinstance(message, str) else None,
            opted_out=tuple(p for p in skipped if isinstance(p, int))
            if isinstance(skipped, list)
            else (),
        )

    # -- reading and writing ----------------------------------------------------------------

    def get(self, batch: int) -> BatchRecord | None:
        """What the journal knows about ``batch`` (``None``: never started)."""
        return self._records.get(batch)

    def started(self, batch: int, first: int, count: int, digest: str) -> None:
        """Record that ``batch`` is about to be sent (on disk when this returns)."""
        record = BatchRecord("started", first, count, digest)
        self._write(
            {"batch": batch, "state": "started", "first": first, "count": count, "digest": digest},
            batch,
            record,
        )

    def finished(
        self,
        batch: int,
        state: BatchState,
        *,
        event_id: int | None = None,
        cost: float | None = None,
        code: str | None = None,
        message: str | None = None,
        opted_out: list[int] | None = None,
    ) -> None:
        """Record the outcome of a started ``batch`` (on disk when this returns)."""
        known = self._records.get(batch)
        if known is None:  # pragma: no cover - an engine bug, never a user's
            raise RuntimeError(f"smsflow: outcome of batch {batch}, which was never started")
        line: dict[str, Any] = {"batch": batch, "state": state}
        if state == "sent":
            line.update(event_id=event_id, cost=cost)
            if opted_out:
                line["opted_out"] = opted_out
        else:
            line.update(code=code, message=message)
        record = replace(
            known,
            state=state,
            event_id=event_id,
            cost=cost,
            code=code,
            message=message,
            opted_out=tuple(opted_out or ()),
        )
        self._write(line, batch, record)

    def _write(
        self, line: dict[str, Any], batch: int | None = None, record: BatchRecord | None = None
    ) -> None:
        text = json.dumps(line, ensure_ascii=True, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            handle = self._file
            if handle is None:
                raise RuntimeError("smsflow: the bulk journal is not open")
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            if batch is not None and record is not None:
                self._records[batch] = record

    def close(self) -> None:
        """Close the file (releasing its lock). Idempotent."""
        with self._lock:
            handle, self._file = self._file, None
        if handle is not None:
            handle.close()


def _fsync_dir(folder: Path) -> None:
    """``fsync`` a folder, so a file just created in it survives a power cut (POSIX; a no-op
    where folders cannot be opened, as on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _lock_exclusive(handle: IO[bytes], path: Path) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise invalid(
            f"bulk journal {str(path)!r} is in use by another run (process); wait for it to "
            "finish, or give this run its own journal",
            "JOURNAL_LOCKED",
            "journal",
        ) from None
