"""``smsflow send --csv FILE``: one bulk run over the rows of a CSV file, every row accounted for.

* One result line per input row, **in input order** (``row,destination,status,event_id,code,
  reason``; JSON lines with ``--json``, where a missing ``event_id`` is ``null``). ``row`` is
  the row's line number when no field spans lines (the header is line 1). Outcomes arrive as
  batches finish; a reorder buffer holds at most about ``concurrency x batch size`` rows.
* ``status`` is the library's outcome: ``sent``, ``already_sent`` (sent by an earlier run of
  the same ``--journal``), ``opted_out`` (the API skipped the recipient: ``OPTED_OUT`` in its
  ``errorReport``), ``rejected``, ``refused``, ``not_sent`` or ``unknown``.
* **Stopping**: the first SIGINT (Ctrl-C) or SIGTERM (``docker stop``, systemd) starts no new
  batch; batches in flight finish and their rows are written, every row not sent is written
  ``not_sent`` with code ``INTERRUPTED``. A second signal quits at once (batches in flight
  still finish and are journaled). Either way the counts so far and the command that resumes
  the run are printed; the exit code is 130 (SIGINT) or 143 (SIGTERM).
* Progress: a bar on a terminal; otherwise one line every ``--progress-every`` seconds.
* Exit code 0 when every row was sent, already sent or opted out; 1 when any was not.
"""

from __future__ import annotations

import argparse
import csv
import json
import shlex
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, Self, TextIO

from ._cli_csv import CsvInput
from ._cli_speak import cli_text

if TYPE_CHECKING:
    from ._bulk_run import BulkRun
    from ._bulk_types import BulkProgress, MessageOutcome
    from ._sync_client import SmsFlowClient

__all__ = ["RESULT_COLUMNS", "InOrder", "send_csv"]

RESULT_COLUMNS = ("row", "destination", "status", "event_id", "code", "reason")
_OK_STATUSES = frozenset({"sent", "already_sent", "opted_out"})
_EXIT_FOR_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class InOrder:
    """Hands outcomes to ``write`` in input order, holding only those that came early."""

    def __init__(self, write: Callable[[MessageOutcome], None]) -> None:
        self._write = write
        self._next = 0
        self._held: dict[int, MessageOutcome] = {}
        self.most_held = 0

    def add(self, outcome: MessageOutcome) -> None:
        """Take one outcome; write it and any held ones that are now next."""
        self._held[outcome.index] = outcome
        self.most_held = max(self.most_held, len(self._held))
        while self._next in self._held:
            self._write(self._held.pop(self._next))
            self._next += 1

    def flush(self) -> None:
        """Write whatever is held (after a hard stop: rows with no outcome are skipped)."""
        for index in sorted(self._held):
            self._write(self._held.pop(index))


class _Stopper:
    """Signal handler: the first SIGINT/SIGTERM stops the run gracefully, the second quits."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.run: BulkRun | None = None
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum
        name = signal.Signals(signum).name
        if self.run is not None:
            self.run.stop("INTERRUPTED", f"the run was stopped by {name} before this was sent")
        self.err.write(
            f"\nsmsflow: {name}: stopping; batches in flight finish and are written "
            "(signal again to quit at once)\n"
        )
        self.err.flush()

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for signum in _EXIT_FOR_SIGNAL:
                self._old[signum] = signal.signal(signum, self)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)


def _line(outcome: MessageOutcome, *, as_json: bool) -> dict[str, Any]:
    blank = None if as_json else ""
    return {
        "row": outcome.index + 2,
        "destination": outcome.destination if outcome.destination is not None else blank,
        "status": outcome.status,
        "event_id": outcome.event_id if outcome.event_id is not None else blank,
        "code": outcome.code if outcome.code is not None else blank,
        "reason": cli_text(outcome.reason) if outcome.reason is not None else blank,
    }


def counts(progress: BulkProgress) -> dict[str, int]:
    """The summary counts, each outcome apart."""
    return {
        "rows": progress.done,
        "sent": progress.sent,
        "already_sent": progress.already_sent,
        "opted_out": progress.opted_out,
        "rejected": progress.rejected,
        "refused": progress.refused,
        "not_sent": progress.not_sent,
        "unknown": progress.unknown,
    }


def _summary_text(progress: BulkProgress) -> str:
    return "  ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts(progress).items())


class _Progress:
    """A bar on a terminal; otherwise a line every ``every`` seconds (cron, CI logs)."""

    def __init__(self, err: TextIO, *, bar: bool, every: float) -> None:
        self.err, self.bar, self.every = err, bar, every
        self._last = time.monotonic()

    def __call__(self, progress: BulkProgress) -> None:
        total = progress.total or 0
        line = (
            f"{progress.done}/{total} sent {progress.sent} already sent {progress.already_sent} "
            f"opted out {progress.opted_out} rejected {progress.rejected} "
            f"failed {progress.failed} unknown {progress.unknown} "
            f"{progress.messages_per_second:.0f}/s"
            + (f" eta {progress.eta:.0f}s" if progress.eta is not None else "")
        )
        if self.bar:
            filled = int(30 * progress.done / total) if total else 0
            self.err.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {line} ")
        else:
            now = time.monotonic()
            if now - self._last < self.every or progress.finished:
                return
            self._last = now
            self.err.write(f"progress: {line}\n")
        self.err.flush()


def _resume_hint(args: argparse.Namespace, progress: BulkProgress) -> str:
    argv = list(args.argv)
    if args.journal:
        if progress.unknown:
            return (
                f"resume with: smsflow {shlex.join(argv)}\n"
                f"{progress.unknown} row(s) are unknown (they may have been sent): check the "
                "SMSFlow portal, then add --resend-unknown to send them again"
            )
        return f"resume with: smsflow {shlex.join(argv)}"
    return (
        "no --journal was given, so this run cannot be resumed safely: the rows with status "
        "sent went out, the others did not. Use --journal FILE to make runs resumable"
    )


def send_csv(
    client: Callable[[], SmsFlowClient],
    source: CsvInput,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
) -> int:
    """Send every row of ``source``; write one result line per row, in input order.

    Returns the exit code (0, 1, 130 or 143; see the module docstring).

    Raises:
        OSError: the output cannot be written.
        SmsFlowError: the run could not start (invalid settings, journal of another run).
    """
    target = open(args.output, "w", newline="", encoding="utf-8") if args.output else out  # noqa: SIM115
    stopper = _Stopper(err)
    try:
        writer = None if args.json else csv.DictWriter(target, fieldnames=RESULT_COLUMNS)
        if writer is not None:
            writer.writeheader()

        def write(outcome: MessageOutcome) -> None:
            line = _line(outcome, as_json=writer is None)
            if writer is None:
                target.write(json.dumps(line, ensure_ascii=False) + "\n")
            else:
                writer.writerow(line)

        order = InOrder(write)
        show = _Progress(err, bar=err.isatty() and not args.json, every=args.progress_every)
        with client() as api, stopper:
            run = api.send_bulk(
                args.campaign,
                source.rows(),
                start_delivery_utc=args.at,
                check_opt_outs=not args.no_opt_out_check,
                batch_size=args.batch_size,
                concurrency=args.concurrency,
                messages_per_second=args.rate,
                max_parts=args.max_parts,
                journal=args.journal,
                resend_unknown=args.resend_unknown,
                total=source.total,
                on_progress=show,
            )
            stopper.run = run
            if stopper.signum is not None:  # a signal came while the client was being set up
                run.stop("INTERRUPTED", "the run was stopped before this was sent")
            hard_stop = False
            with run:
                try:
                    for outcome in run:
                        order.add(outcome)
                except KeyboardInterrupt:
                    hard_stop = True
            order.flush()
            progress = run.progress
    finally:
        if target is not out:
            target.close()
        else:
            out.flush()
    if show.bar:
        err.write("\n")
    _report(args, progress, err)
    if stopper.signum is not None or hard_stop:
        err.write(_resume_hint(args, progress) + "\n")
        return _EXIT_FOR_SIGNAL.get(signal.Signals(stopper.signum or signal.SIGINT), 130)
    if progress.unknown:
        err.write(
            f"{progress.unknown} row(s) are unknown (they may have been sent): check the "
            "SMSFlow portal, then run again with --resend-unknown (and the same --journal) "
            "to send them anyway\n"
        )
    ok = sum(v for k, v in counts(progress).items() if k in _OK_STATUSES)
    return 0 if ok == progress.done else 1


def _report(args: argparse.Namespace, progress: BulkProgress, err: TextIO) -> None:
    if args.json:
        summary: dict[str, Any] = {**counts(progress), "stopped": progress.stopped}
        err.write(json.dumps({"summary": summary}) + "\n")
    else:
        err.write(
            _summary_text(progress)
            + (f"  stopped: {progress.stopped}" if progress.stopped else "")
            + "\n"
        )
    err.flush()
