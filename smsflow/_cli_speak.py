"""What the command line prints when something goes wrong: flags and variables, not keywords.

The library's messages name keyword arguments (``resend_unknown=True``,
``allow_insecure_http=True``); a CLI user can only pass flags and set variables.
:func:`cli_text` rewrites one into the other with the single table :data:`FLAGS`;
:func:`report_error` prints one line (or one JSON object with ``--json``) with a code.
"""

from __future__ import annotations

import json
import re
from typing import Final, TextIO

__all__ = ["FLAGS", "cli_text", "report_error"]

#: Library keyword -> the flag or variable a CLI user sets instead.
FLAGS: Final[dict[str, str]] = {
    "resend_unknown": "--resend-unknown",
    "allow_insecure_http": "--allow-insecure-http",
    "max_parts": "--max-parts",
    "messages_per_second": "--rate",
    "batch_size": "--batch-size",
    "concurrency": "--concurrency",
    "default_country": "--country",
    "start_delivery_utc": "--at",
    "campaign_name": "--campaign",
    "check_opt_outs": "--no-opt-out-check",
    "base_url": "SMSFLOW_BASE_URL",
    "client_id": "SMSFLOW_CLIENT_ID",
    "client_secret": "SMSFLOW_CLIENT_SECRET",
}

_KEYWORDS: Final = re.compile(r"\b(" + "|".join(FLAGS) + r")\b(=True)?")
_PASS: Final = re.compile(r"\bpass (?=(--|SMSFLOW_))")


def cli_text(message: str) -> str:
    """``message`` with every library keyword replaced by its flag or variable."""
    text = _KEYWORDS.sub(lambda m: FLAGS[m.group(1)], message)
    text = text.replace("pass it to the client or set ", "set ")
    return _PASS.sub(lambda m: "use " if m.group(1) == "--" else "set ", text)


def report_error(err: TextIO, code: str, message: str, *, as_json: bool, kind: str) -> None:
    """One line on ``err``: ``smsflow: <kind>: CODE: message``, or a JSON object."""
    text = cli_text(message)
    if as_json:
        err.write(
            json.dumps({"error": {"code": code, "kind": kind, "message": text}}, ensure_ascii=False)
            + "\n"
        )
    else:
        err.write(f"smsflow: {kind}: {code}: {text}\n")
    err.flush()
