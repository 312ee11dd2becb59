"""The argument parser of the ``smsflow`` command: every flag, in one place (docs/cli.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["EXIT_CODES", "build_parser", "parse"]

#: Every exit code of the command line and what it means (docs/cli.md lists the same).
EXIT_CODES: dict[int, str] = {
    0: "success: everything was sent (or, for --dry-run, every row is valid)",
    1: "an API or runtime error, or some rows were not sent (see the output rows)",
    2: "bad usage or bad input: a wrong flag, a missing or unreadable file, invalid rows "
    "with --dry-run, invalid --to/--message/--at; nothing was sent",
    130: "interrupted by Ctrl-C (SIGINT): batches in flight finished and were written",
    141: "the output pipe was closed (e.g. `| head`)",
    143: "stopped by SIGTERM (docker stop, systemd): as for 130",
}


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2 with this (sub)command's own usage line."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: usage error: {message}\n")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text}")
    return value


def _delimiter(text: str) -> str:
    value = {"tab": "\t", "\\t": "\t"}.get(text.lower(), text)
    if len(value) != 1:
        raise argparse.ArgumentTypeError("must be one character (or 'tab')")
    return value


def _add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--sandbox", action="store_true", default=default(False), help="use an in-process sandbox"
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="JSON output and errors"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="log requests (never secrets); tracebacks",
    )
    parser.add_argument(
        "--timeout", type=_positive_float, default=default(30.0), help="seconds per call (30)"
    )
    parser.add_argument(
        "--no-token-cache",
        action="store_true",
        default=default(False),
        help="do not reuse a token across runs",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        default=default(False),
        help="allow an http:// SMSFLOW_BASE_URL on another host (a sandbox in docker-compose)",
    )


def _add_send(sub: Any, common: argparse.ArgumentParser) -> None:
    send = sub.add_parser(
        "send", parents=[common], help="send SMS to numbers, or to every row of a CSV file"
    )
    send.add_argument("--to", action="append", default=[], metavar="NUMBER", help="repeatable")
    send.add_argument("--message", "-m", help="the text (with --to)")
    send.add_argument("--campaign", default="smsflow CLI", help="campaign name")
    send.add_argument("--at", metavar="ISO8601", help="schedule, e.g. 2026-12-01T08:00:00Z")
    send.add_argument(
        "--no-opt-out-check", action="store_true", help="send to opted-out numbers too"
    )
    send.add_argument(
        "--country",
        default="ZA",
        help="country of national numbers such as 082 123 4567 (ZA); 'none': refuse them",
    )
    csv_group = send.add_argument_group("CSV runs (--csv)")
    csv_group.add_argument("--csv", metavar="FILE", help="CSV with a destination column")
    csv_group.add_argument(
        "--template", help="text with {column} fields filled from each row (else: content)"
    )
    csv_group.add_argument("--output", metavar="FILE", help="result rows (default: stdout)")
    csv_group.add_argument("--journal", metavar="FILE", help="makes the run resumable")
    csv_group.add_argument(
        "--resend-unknown",
        action="store_true",
        help="on resume, send again batches whose outcome is unknown (check the portal first)",
    )
    csv_group.add_argument("--batch-size", type=_positive_int, default=500, help="(500)")
    csv_group.add_argument(
        "--concurrency", type=_positive_int, default=4, help="requests in flight (4)"
    )
    csv_group.add_argument(
        "--rate", type=_positive_float, metavar="PER_SECOND", help="max messages per second"
    )
    csv_group.add_argument(
        "--max-parts", type=_positive_int, metavar="N", help="reject rows longer than N parts"
    )
    csv_group.add_argument(
        "--dry-run", action="store_true", help="validate; print count, parts and cost; send nothing"
    )
    csv_group.add_argument(
        "--price-per-part",
        type=float,
        default=0.25,
        metavar="CREDITS",
        help="for the --dry-run cost estimate (0.25)",
    )
    csv_group.add_argument(
        "--encoding", default="utf-8", help="file encoding (utf-8, with or without BOM)"
    )
    csv_group.add_argument(
        "--delimiter", type=_delimiter, help="field separator (default: detected: , ; tab |)"
    )
    csv_group.add_argument(
        "--progress-every",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="progress line interval when stderr is not a terminal (10)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``smsflow`` command."""
    from . import __version__

    parser = _Parser(
        prog="smsflow",
        description="Send SMS and check credit with the SMSFlow API.",
        epilog="Credentials: SMSFLOW_CLIENT_ID and SMSFLOW_CLIENT_SECRET in the environment; "
        "SMSFLOW_BASE_URL for another API root. Exit codes: "
        + "; ".join(f"{code} {text.split(':')[0]}" for code, text in EXIT_CODES.items()),
    )
    parser.add_argument("--version", action="version", version=f"smsflow {__version__}")
    _add_global_options(parser, defaults=True)
    # The same options are accepted after the command too (`smsflow send ... --json`).
    common = _Parser(add_help=False)
    _add_global_options(common, defaults=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    _add_send(sub, common)
    sub.add_parser("balance", parents=[common], help="print the credit balance")
    seg = sub.add_parser("segments", parents=[common], help="count the SMS parts of a text")
    seg.add_argument("text")
    box = sub.add_parser("sandbox", parents=[common], help="run a local SMSFlow sandbox server")
    box.add_argument("--port", type=int, default=8025, help="(8025; 0: any free port)")
    box.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    box.add_argument("--balance", type=float, default=1000.0, help="starting credit (1000)")
    box.add_argument(
        "--opt-out", action="append", default=[], metavar="NUMBER", help="opted out (repeatable)"
    )
    box.add_argument("--log", action="store_true", help="print one line per request received")
    box.add_argument(
        "--error-style",
        choices=("smsflow", "problem"),
        default="smsflow",
        help="error bodies: SMSFlow's ErrorResponse (default) or ASP.NET's ProblemDetails",
    )
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """Parse ``argv``; ``None`` when no command was given (help was printed).

    A flag the command does not know is reported with that command's usage (exit 2).
    """
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return None
    if extras:
        sub = _subparser(parser, args.command)
        sub.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps its subparsers here
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser  # pragma: no cover - the parser always has subcommands
