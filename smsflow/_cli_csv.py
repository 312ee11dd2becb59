"""``smsflow send --csv FILE``: one bulk run over the rows of a CSV file.

The file needs a ``destination`` column and either a ``content`` column or ``--template`` with
``{column}`` fields. Rows are validated (invalid ones are reported with their row number and
never sent), sent in batches through :meth:`~smsflow.SmsFlowClient.send_bulk`, and one result
line is written per row, as batches finish: ``row,destination,status,event_id,code,reason``
(CSV; JSON lines with ``--json``). ``row`` is the file's line number (the header is line 1).
A progress bar goes to stderr when it is a terminal; a summary line always does.
Exit code 0 when every row was accepted, 1 when any was not (rejected, refused, not sent or
unknown), 2 for usage errors (missing columns, template fields that are not columns).
"""

from __future__ import annotations

import argparse
import csv
import json
import string
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ._bulk_types import BulkProgress, MessageOutcome
    from ._sync_client import SmsFlowClient

__all__ = ["CsvUsageError", "send_csv"]

RESULT_COLUMNS = ("row", "destination", "status", "event_id", "code", "reason")


class CsvUsageError(ValueError):
    """The CSV file or template cannot be used as given (exit code 2)."""


def _template_fields(template: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise CsvUsageError(f"--template is not a valid template: {exc}") from None


def _rows(path: str, template: str | None) -> tuple[int, Iterator[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = set(reader.fieldnames or ())
        total = sum(1 for _ in reader)
    needed = {"destination"} | (_template_fields(template) if template else {"content"})
    missing = sorted(needed - header)
    if missing:
        raise CsvUsageError(
            f"{path}: missing column(s) {', '.join(missing)} (columns: {', '.join(sorted(header))})"
        )
    if template is not None and any(not name for name in _template_fields(template)):
        raise CsvUsageError("--template fields must be named, e.g. {first_name}")

    def generate() -> Iterator[dict[str, str]]:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                content = template.format_map(row) if template else row.get("content")
                yield {"destination": row.get("destination") or "", "content": content or ""}

    return total, generate()


def _bar(progress: BulkProgress, err: TextIO) -> None:
    total = progress.total or 0
    done = progress.done
    width = 30
    filled = int(width * done / total) if total else 0
    eta = progress.eta
    err.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
        f"sent {progress.sent + progress.already_sent} rejected {progress.rejected} "
        f"failed {progress.failed} unknown {progress.unknown} "
        f"{progress.messages_per_second:.0f}/s" + (f" eta {eta:.0f}s " if eta is not None else " ")
    )
    err.flush()


def _line(outcome: MessageOutcome) -> dict[str, Any]:
    return {
        "row": outcome.index + 2,
        "destination": outcome.destination or "",
        "status": outcome.status,
        "event_id": outcome.event_id if outcome.event_id is not None else "",
        "code": outcome.code or "",
        "reason": outcome.reason or "",
    }


def send_csv(client: SmsFlowClient, args: argparse.Namespace, out: TextIO) -> int:
    """Send every row of ``args.csv``; write one result line per row to ``args.output`` or ``out``.

    Raises:
        CsvUsageError: missing columns or a bad template (nothing is sent).
        OSError: the file cannot be read or the output written.
        SmsFlowError: the run could not start (e.g. invalid settings).
    """
    total, rows = _rows(args.csv, args.template)
    err = sys.stderr
    show_bar = err.isatty() and not args.json
    target = open(args.output, "w", newline="", encoding="utf-8") if args.output else out  # noqa: SIM115
    try:
        writer = None if args.json else csv.DictWriter(target, fieldnames=RESULT_COLUMNS)
        if writer is not None:
            writer.writeheader()
        run = client.send_bulk(
            args.campaign,
            rows,
            start_delivery_utc=args.at,
            check_opt_outs=not args.no_opt_out_check,
            batch_size=args.batch_size,
            default_country=args.country,
            journal=args.journal,
            total=total,
            on_progress=(lambda p: _bar(p, err)) if show_bar else None,
        )
        with run:
            for outcome in run:
                line = _line(outcome)
                if writer is None:
                    target.write(json.dumps(line, ensure_ascii=False) + "\n")
                else:
                    writer.writerow(line)
            progress = run.progress
    finally:
        if target is not out:
            target.close()
    if show_bar:
        err.write("\n")
    accepted = progress.sent + progress.already_sent
    err.write(
        f"rows: {progress.done}  sent: {accepted}  rejected: {progress.rejected}  "
        f"refused: {progress.refused}  not sent: {progress.not_sent}  unknown: {progress.unknown}"
        + (f"  stopped: {progress.stopped}" if progress.stopped else "")
        + "\n"
    )
    return 0 if accepted == progress.done else 1
