"""The ``smsflow`` command line (``smsflow`` or ``python -m smsflow``). See docs/cli.md.

::

    smsflow [--version] [--sandbox] [--json] [--debug] [--timeout S] [--no-token-cache]
            [--allow-insecure-http] COMMAND ...
      send --to NUMBER [--to ...] --message TEXT [--campaign NAME] [--at ISO8601] ...
      send --csv FILE [--template TEXT] [--output FILE] [--journal FILE] [--dry-run] ...
      balance
      segments TEXT
      sandbox [--port 8025] [--host 127.0.0.1] [--balance N] [--opt-out NUMBER] [--log]
              [--error-style smsflow|problem]

Credentials come from ``SMSFLOW_CLIENT_ID`` / ``SMSFLOW_CLIENT_SECRET`` (``SMSFLOW_BASE_URL``
for another API root). ``--sandbox`` runs the command against an in-process sandbox instead.
Exit codes are in :data:`smsflow._cli_parser.EXIT_CODES`. Errors print one line with a code
(one JSON object with ``--json``; a traceback only with ``--debug``), never a secret, and
name flags and variables, not keyword arguments. Tokens are cached in ``~/.cache/smsflow``
(owner-only) so repeated runs log in once; ``--no-token-cache`` disables that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ._cli_parser import parse
from ._cli_speak import report_error

if TYPE_CHECKING:
    from ._sync_client import SmsFlowClient

__all__ = ["main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PIPE = 0, 1, 2, 141
SANDBOX_BALANCE = 1_000_000.0  # credits of the in-process sandbox behind --sandbox
SANDBOX_URL = "https://in-process-sandbox.smsflow.invalid"  # never resolved: no network


class _UsageError(Exception):
    """Bad command-line usage found after parsing (exit code 2)."""

    def __init__(self, message: str, code: str = "USAGE") -> None:
        super().__init__(message)
        self.code = code


def _client(args: argparse.Namespace) -> SmsFlowClient:
    from ._sync_client import SmsFlowClient

    if args.sandbox:
        from .testing import Sandbox

        # A generous balance, so a demo CSV of many thousand rows goes through. The URL names
        # the in-process sandbox, so --debug logs never read as if production was called.
        return Sandbox(balance=SANDBOX_BALANCE).client(
            timeout=args.timeout, base_url=SANDBOX_URL, default_country=country(args)
        )
    options: dict[str, Any] = {}
    if not args.no_token_cache:
        from ._tokens import FileTokenStore

        options["token_store"] = FileTokenStore()
    return SmsFlowClient(
        timeout=args.timeout,
        allow_insecure_http=args.allow_insecure_http,
        default_country=country(args),
        **options,
    )


def country(args: argparse.Namespace) -> str | None:
    """``--country`` as the client's ``default_country`` (``none``: national numbers refused)."""
    value: str | None = getattr(args, "country", "ZA")
    return None if value is None or value.lower() == "none" else value


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


def _schedule(args: argparse.Namespace) -> dt.datetime | None:
    """``--at`` as an aware UTC datetime; a time in the past is a usage error."""
    from ._validate import check_start_delivery

    when = check_start_delivery(args.at)
    if when is not None:
        now = dt.datetime.now(dt.UTC)
        if when <= now:
            raise _UsageError(
                f"--at {args.at} is in the past ({when:%Y-%m-%dT%H:%M:%SZ} UTC; now is "
                f"{now:%Y-%m-%dT%H:%M:%SZ} UTC); leave --at out to send now",
                "INVALID_START_DELIVERY",
            )
        args.at = when
    return when


def _cmd_send(args: argparse.Namespace, out: TextIO) -> int:
    when = _schedule(args)
    if when is not None:
        print(f"scheduled for {when:%Y-%m-%dT%H:%M:%SZ} (UTC)", file=sys.stderr)
    if args.csv:
        if args.to or args.message:
            raise _UsageError("use either --csv or --to/--message, not both")
        from ._cli_csv import open_csv

        source = open_csv(
            args.csv, encoding=args.encoding, delimiter=args.delimiter, template=args.template
        )
        if args.dry_run:
            from ._cli_dry import dry_run

            return dry_run(source.rows(), args, out, sys.stderr)
        from ._cli_bulk import send_csv

        return send_csv(lambda: _client(args), source, args, out, sys.stderr)
    if not args.to or args.message is None:
        raise _UsageError("send needs --to and --message (or --csv FILE)")
    if args.template or args.dry_run:
        raise _UsageError("--template and --dry-run need --csv")
    messages = [{"destination": d, "content": args.message} for d in args.to]
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

    serve(
        port=args.port,
        host=args.host,
        balance=args.balance,
        opt_outs=args.opt_out,
        log=sys.stderr if args.log else None,
        error_style=args.error_style,
    )
    return EXIT_OK


_COMMANDS = {
    "send": _cmd_send,
    "balance": _cmd_balance,
    "segments": _cmd_segments,
    "sandbox": _cmd_sandbox,
}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (see ``EXIT_CODES`` in ``_cli_parser``)."""
    out = out if out is not None else sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse(argv)
    if args is None:
        return EXIT_OK
    args.argv = argv
    if args.debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="%(name)s %(levelname)s %(message)s")
        logging.getLogger("smsflow").setLevel(logging.DEBUG)
    err = sys.stderr

    def fail(code: str, message: str, exit_code: int, kind: str = "error") -> int:
        report_error(err, code, message, as_json=args.json, kind=kind)
        return exit_code

    from ._cli_csv import CsvUsageError
    from ._errors import SmsFlowError, SmsFlowValidationError

    try:
        return _COMMANDS[args.command](args, out)
    except (_UsageError, CsvUsageError) as exc:
        return fail(exc.code, str(exc), EXIT_USAGE, "usage error")
    except KeyboardInterrupt:
        err.write("smsflow: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): say nothing more on stdout, exit like SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE
    except SmsFlowError as exc:
        if args.debug:
            raise
        usage = isinstance(exc, SmsFlowValidationError) and exc.status_code is None
        return fail(exc.code, exc.message, EXIT_USAGE if usage else EXIT_ERROR)
    except OSError as exc:
        if args.debug:
            raise
        if args.command == "sandbox":
            return fail(
                "PORT_UNAVAILABLE",
                f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
                "another program may be using it: pick another with --port",
                EXIT_ERROR,
            )
        where = f"{exc.filename}: " if exc.filename else ""
        return fail("OS_ERROR", f"{where}{exc.strerror or exc}", EXIT_ERROR)
