"""The ``smsflow`` command line (``smsflow`` or ``python -m smsflow``).

::

    smsflow [--sandbox] [--json] [--debug] COMMAND ...
      send --to MSISDN [--to ...] --message TEXT [--campaign NAME] [--at ISO8601]
           [--no-opt-out-check]
      send --csv FILE [--template TEXT] [--output FILE] [--journal FILE] [--batch-size N]
      balance
      segments TEXT
      sandbox [--port 8025] [--host 127.0.0.1]

Credentials come from ``SMSFLOW_CLIENT_ID`` / ``SMSFLOW_CLIENT_SECRET`` (``SMSFLOW_BASE_URL``
for another API root). ``--sandbox`` runs the command against an in-process sandbox instead.
Exit codes: 0 success, 1 API or runtime error, 2 usage error. Errors print one line with the
API's code (a traceback only with ``--debug``), never a secret. Tokens are cached in
``~/.cache/smsflow`` (owner-only) so repeated runs log in once; ``--no-token-cache`` disables.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from ._sync_client import SmsFlowClient

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
SANDBOX_BALANCE = 1_000_000.0  # credits of the in-process sandbox behind --sandbox


class _UsageError(Exception):
    """Bad command-line usage found after parsing (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: usage error: {message}\n")


def _add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--sandbox",
        action="store_true",
        default=default(False),
        help="use an in-process sandbox (no account needed)",
    )
    parser.add_argument(
        "--json", action="store_true", default=default(False), help="JSON output for scripts"
    )
    parser.add_argument(
        "--debug", action="store_true", default=default(False), help="log requests; tracebacks"
    )
    parser.add_argument(
        "--timeout", type=float, default=default(30.0), help="seconds per call (30)"
    )
    parser.add_argument(
        "--no-token-cache",
        action="store_true",
        default=default(False),
        help="do not reuse a token across runs",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``smsflow`` command."""
    parser = _Parser(
        prog="smsflow",
        description="Send SMS and check credit with the SMSFlow API.",
        epilog="Credentials: SMSFLOW_CLIENT_ID and SMSFLOW_CLIENT_SECRET in the environment.",
    )
    _add_global_options(parser, defaults=True)
    # The same options are accepted after the command too (`smsflow send ... --json`).
    common = _Parser(add_help=False)
    _add_global_options(common, defaults=False)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    send = sub.add_parser(
        "send", parents=[common], help="send SMS to numbers, or to every row of a CSV file"
    )
    send.add_argument("--to", action="append", default=[], metavar="MSISDN", help="repeatable")
    send.add_argument("--message", "-m", help="the text (with --to)")
    send.add_argument("--csv", metavar="FILE", help="CSV with destination and content columns")
    send.add_argument(
        "--template", help="text with {column} fields filled from each CSV row (with --csv)"
    )
    send.add_argument("--output", metavar="FILE", help="write CSV result lines here (stdout)")
    send.add_argument("--journal", metavar="FILE", help="resume journal for --csv runs")
    send.add_argument("--batch-size", type=int, default=500, help="messages per request (500)")
    send.add_argument("--campaign", default="smsflow CLI", help="campaign name")
    send.add_argument("--at", metavar="ISO8601", help="schedule, e.g. 2026-12-01T08:00:00Z")
    send.add_argument(
        "--no-opt-out-check", action="store_true", help="send to opted-out numbers too"
    )
    send.add_argument("--country", default="ZA", help="default country of local numbers (ZA)")

    sub.add_parser("balance", parents=[common], help="print the credit balance")

    seg = sub.add_parser("segments", parents=[common], help="count the SMS parts of a text")
    seg.add_argument("text")

    box = sub.add_parser("sandbox", parents=[common], help="run a local SMSFlow sandbox server")
    box.add_argument("--port", type=int, default=8025)
    box.add_argument("--host", default="127.0.0.1")
    box.add_argument("--balance", type=float, default=1000.0, help="starting credit")
    return parser


def _client(args: argparse.Namespace) -> SmsFlowClient:
    from ._sync_client import SmsFlowClient

    if args.sandbox:
        from .testing import Sandbox

        # A generous balance, so a demo CSV of many thousand rows goes through.
        return Sandbox(balance=SANDBOX_BALANCE).client(timeout=args.timeout)
    options: dict[str, Any] = {}
    if not args.no_token_cache:
        from ._tokens import FileTokenStore

        options["token_store"] = FileTokenStore()
    return SmsFlowClient(timeout=args.timeout, **options)


def format_credits(value: float) -> str:
    """Credits for people: up to 4 decimals, no exponent (999999.75, 0.25, 1000)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _emit(args: argparse.Namespace, data: Any, text: str, out: TextIO) -> None:
    out.write(json.dumps(data, ensure_ascii=False) + "\n" if args.json else text + "\n")


def _cmd_segments(args: argparse.Namespace, out: TextIO) -> int:
    from ._sms import segments

    info = segments(args.text)
    data = {
        "encoding": info.encoding,
        "parts": info.parts,
        "units": info.units,
        "characters": info.characters,
        "per_part": info.per_part,
        "remaining": info.remaining,
        "ucs2_characters": list(info.ucs2_characters),
    }
    text = f"{info.encoding}: {info.parts} part(s), {info.units} units ({info.per_part} per part)"
    if info.ucs2_characters:
        text += "; UCS-2 because of: " + " ".join(repr(c) for c in info.ucs2_characters)
    _emit(args, data, text, out)
    return EXIT_OK


def _cmd_balance(args: argparse.Namespace, out: TextIO) -> int:
    with _client(args) as client:
        balance = client.get_balance()
    _emit(args, dict(balance), f"balance: {format_credits(balance.balance)} credits", out)
    return EXIT_OK


def _cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    if args.csv:
        if args.to or args.message:
            raise _UsageError("use either --csv or --to/--message, not both")
        from ._cli_csv import CsvUsageError, send_csv

        with _client(args) as client:
            try:
                return send_csv(client, args, out)
            except CsvUsageError as exc:
                raise _UsageError(str(exc)) from None
    if not args.to or args.message is None:
        raise _UsageError("send needs --to and --message (or --csv FILE)")
    if args.template:
        raise _UsageError("--template needs --csv")
    from ._destinations import normalize_destination

    destinations = [normalize_destination(d, default_country=args.country) for d in args.to]
    messages = [{"destination": d, "content": args.message} for d in destinations]
    with _client(args) as client:
        result = client.send_sms(
            campaign_name=args.campaign,
            messages=messages,
            start_delivery_utc=args.at,
            check_opt_outs=not args.no_opt_out_check,
        )
    r = result.send_response
    text = (
        f"event id: {r.event_id}\n"
        f"messages: {_shown(r.messages)}  parts: {_shown(r.parts)}  "
        f"cost: {_credits(r.cost)}  remaining balance: {_credits(r.remaining_balance)}"
    )
    for problem in result.error_report:
        text += (
            f"\nnot sent: {problem.field or ''} {_shown(problem.code)}: {_shown(problem.message)}"
        )
    _emit(args, result, text, out)
    return EXIT_OK


def _shown(value: object) -> str:
    """A field of an answer for people: ``?`` when the answer left it out."""
    from smsflow_api.types import Unset

    return "?" if value is None or isinstance(value, Unset) else str(value)


def _credits(value: object) -> str:
    return format_credits(value) if isinstance(value, int | float) else "?"


def _cmd_sandbox(args: argparse.Namespace, out: TextIO) -> int:
    from .testing import serve

    serve(port=args.port, host=args.host, balance=args.balance)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 API/runtime error, 2 usage)."""
    out = out if out is not None else sys.stdout
    args = build_parser().parse_args(argv)
    if args.debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
        logging.getLogger("smsflow").setLevel(logging.DEBUG)
    commands = {
        "send": _cmd_send,
        "balance": _cmd_balance,
        "segments": _cmd_segments,
        "sandbox": _cmd_sandbox,
    }
    from ._errors import SmsFlowError, SmsFlowValidationError

    try:
        return commands[args.command](args, out)
    except _UsageError as exc:
        print(f"smsflow: usage error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("smsflow: interrupted", file=sys.stderr)
        return 130
    except SmsFlowError as exc:
        if args.debug:
            raise
        code = (
            EXIT_USAGE
            if isinstance(exc, SmsFlowValidationError) and exc.status_code is None
            else EXIT_ERROR
        )
        print(f"smsflow: error: {exc.code}: {exc.message}", file=sys.stderr)
        return code
    except (OSError, ValueError) as exc:
        if args.debug:
            raise
        print(f"smsflow: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
