"""``smsflow send --csv FILE --dry-run``: validate every row as a real run would; send nothing.

Prints one line per invalid row (``row N: CODE: reason``) on stderr, then the counts: rows,
valid messages, rejected rows, SMS parts (counted by :func:`smsflow.segments`, the same helper
the bulk sender uses) and an estimated cost of ``parts x --price-per-part`` credits (the API
bills per part; its prices are not published, so this is an estimate). With ``--json`` the
counts are one JSON object on stdout. Exit code 0 when every row is valid, 2 otherwise.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import TextIO

from ._bulk import check_item
from ._bulk_types import BulkSettings, MessageOutcome
from ._cli import country
from ._cli_speak import cli_text

__all__ = ["dry_run"]


def dry_run(
    rows: Iterable[dict[str, str]], args: argparse.Namespace, out: TextIO, err: TextIO
) -> int:
    """Check every row of ``rows`` with the settings of ``args``; print the counts.

    Raises:
        SmsFlowValidationError: a setting is invalid (``--at``, ``--country``, ...).
        CsvUsageError: the file cannot be read to the end.
    """
    settings = BulkSettings.build(
        campaign_name=args.campaign,
        start_delivery_utc=args.at,
        check_opt_outs=not args.no_opt_out_check,
        batch_size=args.batch_size,
        max_parts=args.max_parts,
        default_country=country(args),
    )
    total = valid = parts = 0
    rejected = 0
    for index, item in enumerate(rows):
        total += 1
        checked = check_item(settings, item, index)
        if isinstance(checked, MessageOutcome):
            rejected += 1
            err.write(f"row {index + 2}: {checked.code}: {cli_text(checked.reason or '')}\n")
        else:
            valid += 1
            parts += checked[2]
    cost = parts * args.price_per_part
    data = {
        "rows": total,
        "messages": valid,
        "rejected": rejected,
        "parts": parts,
        "estimated_cost": round(cost, 4),
        "price_per_part": args.price_per_part,
        "batches": -(-valid // args.batch_size),
    }
    if args.json:
        out.write(json.dumps(data) + "\n")
    else:
        from ._cli import format_credits

        out.write(
            f"dry run, nothing sent: rows: {total}  messages: {valid}  rejected: {rejected}  "
            f"parts: {parts}  batches: {data['batches']}  estimated cost: "
            f"{format_credits(cost)} credits (at {format_credits(args.price_per_part)} per part; "
            "--price-per-part)\n"
        )
    return 0 if rejected == 0 else 2
