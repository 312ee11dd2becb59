"""Validation of a send request, as the sandbox does it (see ``spec/openapi.yaml``).

:func:`read_send` turns a send's headers and body into a :class:`ParsedSend`, or the error
reply the API gives:

* 415 ``UNSUPPORTED_MEDIA_TYPE`` when the ``Content-Type`` is not ``application/json``;
* 400 ``INVALID_REQUEST`` when the body is not valid UTF-8 JSON;
* 422 ``INVALID_REQUEST_SHAPE`` when the JSON does not have the request's shape (not an
  object, a required key missing, an unknown key, a value of the wrong JSON type); ``field``
  names the place, e.g. ``messages[3].destination``;
* 400 when the shape is right but a value is out of range: ``INVALID_DESTINATION``,
  ``INVALID_CONTENT``, ``INVALID_REQUEST`` (campaign name, start time, message count).

Shape errors win: a body with both kinds gets a 422 listing the shape errors. At most 100
errors are listed.

Keys bind case-insensitively, as ASP.NET Core binds JSON (``sendOptions``, ``Messages``,
``Content`` are read as the spec's keys). Unknown keys are refused with 422, where ASP.NET
ignores them: stricter on purpose, so a misspelt key written by your code (or the SDK) fails
in tests instead of being silently dropped by the real API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Final

from smsflow._sms import segments

from ._records import fingerprint
from ._replies import Problem, SandboxReply, error_reply, errors_reply

__all__ = [
    "MAX_CAMPAIGN_CHARS",
    "SAST",
    "MAX_CONTENT_CHARS",
    "ParsedMessage",
    "ParsedSend",
    "as_aspnet_schedules",
    "parse_date_time",
    "parse_send",
    "read_send",
]

MAX_CONTENT_CHARS: Final = 1600
MAX_CAMPAIGN_CHARS: Final = 255
MAX_ERRORS: Final = 100
#: South African Standard Time, the API server's zone (no daylight saving).
SAST: Final = timezone(timedelta(hours=2), "SAST")

_DESTINATION: Final = re.compile(r"[0-9]{8,15}")
_DATE_TIME: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_SEND_KEYS: Final = frozenset({"SendOptions", "messages"})
_OPTION_KEYS: Final = frozenset({"startDeliveryUtc", "campaignName", "checkOptOuts"})
_MESSAGE_KEYS: Final = frozenset({"content", "destination"})
SHAPE_CODE: Final = "INVALID_REQUEST_SHAPE"  # 422; 400 (bad values) is INVALID_REQUEST


def bind_keys(data: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """``data`` with keys that match a ``known`` key case-insensitively renamed to it (as
    ASP.NET Core binds JSON); an exact match wins over a case variant. Unknown keys stay (and
    are refused by the callers: stricter than ASP.NET, see the module docstring)."""
    folded = {key.lower(): key for key in known}
    bound: dict[str, Any] = {}
    for key, value in data.items():
        name = folded.get(key.lower(), key) if isinstance(key, str) else key
        if name not in bound or key == name:
            bound[name] = value
    return bound


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """One valid message: its text, SMS parts, network and fingerprint."""

    destination: str
    content: str
    parts: int
    network: str
    fingerprint: int


@dataclass(frozen=True, slots=True)
class ParsedSend:
    """A valid send request."""

    campaign: str
    check_opt_outs: bool
    start: datetime | None
    messages: list[ParsedMessage] = field(default_factory=list)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_date_time(value: str) -> datetime | None:
    """An RFC 3339 date-time with a ``Z`` or numeric offset, or ``None`` if it is not one."""
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    sign, off_h, off_m = match.group(8, 9, 10)
    try:
        if sign is None:
            tz = UTC
        else:
            if int(off_h) > 23 or int(off_m) > 59:
                return None
            offset = (int(off_h) * 60 + int(off_m)) * (1 if sign == "+" else -1)
            tz = timezone(timedelta(minutes=offset))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def as_aspnet_schedules(moment: datetime, server_zone: tzinfo) -> datetime | None:
    """When ASP.NET Core schedules a ``startDeliveryUtc`` written with an offset.

    System.Text.Json binds a value with an offset (even ``+00:00``) to a ``DateTime`` of the
    server's local time; the service then takes that clock reading as UTC (the field says
    UTC). So ``08:00+00:00`` on a server in South Africa (+02:00) goes out at 10:00 UTC,
    two hours late. ``None`` when the local reading leaves years 1 to 9999. A value with
    ``Z`` binds as UTC and is scheduled as written: the clients always write ``Z``.
    """
    try:
        return moment.astimezone(server_zone).replace(tzinfo=UTC)
    except OverflowError:
        return None


def read_send(
    headers: Mapping[str, str],
    body: bytes,
    *,
    max_batch: int,
    network_of: Callable[[str], str],
    server_zone: tzinfo = SAST,
) -> ParsedSend | SandboxReply:
    """The send request in ``body``, or the error reply for it.

    Args:
        headers: The request headers, names lower-cased.
        body: The request body.
        max_batch: Most messages one send may hold.
        network_of: The network of a destination.
        server_zone: The API server's time zone (see :func:`as_aspnet_schedules`).
    """
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        return error_reply(
            415, "UNSUPPORTED_MEDIA_TYPE", "The body must be JSON (application/json)."
        )
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return error_reply(400, "INVALID_REQUEST", "The body is not valid JSON.")
    parsed = parse_send(data, max_batch=max_batch, network_of=network_of, server_zone=server_zone)
    if isinstance(parsed, list):
        status = 422 if any(p.status == 422 for p in parsed) else 400
        return errors_reply(status, [p for p in parsed if p.status == status][:MAX_ERRORS])
    return parsed


def parse_send(
    data: object,
    *,
    max_batch: int,
    network_of: Callable[[str], str],
    server_zone: tzinfo = SAST,
) -> ParsedSend | list[Problem]:
    """The send request, or its problems (422: shape, 400: values). A ``startDeliveryUtc``
    with an offset is scheduled as ASP.NET Core would (:func:`as_aspnet_schedules`)."""
    problems: list[Problem] = []

    def shape(message: str, where: str | None) -> None:
        problems.append(Problem(422, SHAPE_CODE, message, where))

    def value(code: str, message: str, where: str) -> None:
        problems.append(Problem(400, code, message, where))

    if not isinstance(data, dict):
        shape("The body must be a JSON object.", None)
        return problems
    data = bind_keys(data, _SEND_KEYS)
    for key in sorted(set(data) - _SEND_KEYS)[:MAX_ERRORS]:
        shape("Unknown property.", key[:100])
    for key in sorted(_SEND_KEYS - set(data)):
        shape("Required property is missing.", key)

    campaign, check_opt_outs, start = "", True, None
    options = data.get("SendOptions")
    if "SendOptions" in data and not isinstance(options, dict):
        shape("SendOptions must be an object.", "SendOptions")
    elif isinstance(options, dict):
        options = bind_keys(options, _OPTION_KEYS)
        for key in sorted(set(options) - _OPTION_KEYS)[:MAX_ERRORS]:
            shape("Unknown property.", f"SendOptions.{key[:100]}")
        for key in sorted(_OPTION_KEYS - set(options)):
            shape("Required property is missing.", f"SendOptions.{key}")
        raw_campaign = options.get("campaignName")
        if "campaignName" in options and not isinstance(raw_campaign, str):
            shape("campaignName must be a string.", "SendOptions.campaignName")
        elif isinstance(raw_campaign, str):
            campaign = raw_campaign
            if not 1 <= len(campaign) <= MAX_CAMPAIGN_CHARS:
                value(
                    "INVALID_REQUEST",
                    "campaignName must be 1 to 255 characters.",
                    "SendOptions.campaignName",
                )
        raw_check = options.get("checkOptOuts")
        if "checkOptOuts" in options and not isinstance(raw_check, bool):
            shape("checkOptOuts must be true or false.", "SendOptions.checkOptOuts")
        elif isinstance(raw_check, bool):
            check_opt_outs = raw_check
        raw_start = options.get("startDeliveryUtc")
        if raw_start is not None and not isinstance(raw_start, str):
            shape("startDeliveryUtc must be a string or null.", "SendOptions.startDeliveryUtc")
        elif isinstance(raw_start, str):
            start = parse_date_time(raw_start)
            if start is not None and not raw_start.endswith(("Z", "z")):
                start = as_aspnet_schedules(start, server_zone)
            if start is None:
                value(
                    "INVALID_REQUEST",
                    "startDeliveryUtc must be an RFC 3339 date-time with an offset, within "
                    "years 1 to 9999 in the server's time zone.",
                    "SendOptions.startDeliveryUtc",
                )

    parsed_messages: list[ParsedMessage] = []
    raw_messages = data.get("messages")
    if "messages" in data and not isinstance(raw_messages, list):
        shape("messages must be an array.", "messages")
    elif isinstance(raw_messages, list):
        if not 1 <= len(raw_messages) <= max_batch:
            value(
                "INVALID_REQUEST",
                f"messages must hold 1 to {max_batch} messages.",
                "messages",
            )
        else:
            parsed_messages = _parse_messages(raw_messages, problems, network_of)
    if problems:
        return problems
    return ParsedSend(campaign, check_opt_outs, start, parsed_messages)


def _parse_messages(
    raw_messages: list[object], problems: list[Problem], network_of: Callable[[str], str]
) -> list[ParsedMessage]:
    parsed: list[ParsedMessage] = []
    for index, item in enumerate(raw_messages):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            problems.append(Problem(422, SHAPE_CODE, "A message must be an object.", where))
            continue
        item = bind_keys(item, _MESSAGE_KEYS)
        problems.extend(
            Problem(422, SHAPE_CODE, "Unknown property.", f"{where}.{key[:100]}")
            for key in sorted(set(item) - _MESSAGE_KEYS)[:MAX_ERRORS]
        )
        content = item.get("content")
        destination = item.get("destination")
        for name, found in (("content", content), ("destination", destination)):
            if name not in item:
                problems.append(
                    Problem(
                        422,
                        SHAPE_CODE,
                        "Required property is missing.",
                        f"{where}.{name}",
                    )
                )
            elif not isinstance(found, str):
                problems.append(
                    Problem(422, SHAPE_CODE, f"{name} must be a string.", f"{where}.{name}")
                )
        if not isinstance(content, str) or not isinstance(destination, str):
            continue
        bad = False
        if not 1 <= len(content) <= MAX_CONTENT_CHARS:
            problems.append(
                Problem(
                    400,
                    "INVALID_CONTENT",
                    "content must be 1 to 1600 characters.",
                    f"{where}.content",
                )
            )
            bad = True
        if _DESTINATION.fullmatch(destination) is None:
            problems.append(
                Problem(
                    400,
                    "INVALID_DESTINATION",
                    "Destination must be 8 to 15 digits.",
                    f"{where}.destination",
                )
            )
            bad = True
        if bad or problems:
            continue
        parsed.append(
            ParsedMessage(
                destination,
                content,
                segments(content).parts,
                network_of(destination),
                fingerprint(destination, content),
            )
        )
    return parsed
