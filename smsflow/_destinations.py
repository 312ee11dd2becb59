"""Normalise what people type as a phone number into the API's MSISDN form.

The API wants a destination in international form, digits only, without ``+``: the South
African mobile ``082 123 4567`` is ``27821234567``. :func:`normalize_destination` turns what
people type (or what a spreadsheet exports) into that form:

* Spaces (including non-breaking and thin spaces), tabs, dashes (``-`` and the Unicode
  hyphens and en/em dashes word processors substitute), dots and parentheses are dropped.
* A leading ``+`` or ``00`` means an international number. After it, a trunk ``(0)`` as in
  ``+27 (0)82 123 4567`` is dropped.
* A leading single ``0`` is a national number of ``default_country``: the ``0`` is replaced
  by that country's calling code (``"ZA"`` -> ``27``). With ``default_country=None``
  national numbers are refused (only international forms are accepted).
* Anything else made of digits is already international (``27821234567``).

The result has 8 to 15 digits (E.164; the spec's limits, ``_validate.MIN_DESTINATION`` and
``MAX_DESTINATION``). A number starting with ``27`` (South Africa) must have
exactly 11 digits and be a mobile number: ``27`` then ``6``, ``7`` or ``8``. Landlines such as
``021 123 4567`` are refused, since they cannot receive an SMS.

Reserved test numbers: ``27000000000`` to ``27000009999`` (``2700000`` and 4 digits) are
accepted although ``0`` is not a mobile prefix. The vendor's documentation and this project's
README and sandbox use ``27000000000`` and ``27000000001`` as demo numbers, and they must stay
usable through the CLI and the bulk sender.

Spreadsheets drop leading zeros: with ``default_country="ZA"``, 9 digits starting with 6, 7
or 8 and no ``+``/``00`` (``821234567``) are refused with a reason saying the leading 0 is
probably missing, rather than being sent abroad (``82`` is South Korea's calling code). Write
such a number as ``+`` and its digits if it really is international. This is the one case
where the output of :func:`normalize_destination` (for instance from ``+687 123456``) is not
accepted again unchanged; ``"+" + output`` always is.

Errors:
    :func:`normalize_destination` raises :class:`~smsflow.SmsFlowValidationError` (also a
    ``ValueError``) with code ``INVALID_DESTINATION`` and a one-line reason for a value it
    cannot normalise, including a value that is not a ``str``.
    :func:`destination_problem` returns that reason instead (or ``None``) and never raises for
    any ``value``.
    Both raise a plain ``ValueError`` when ``default_country`` is neither a known region code
    (see :data:`CALLING_CODES`) nor a calling code given as digits: that is a programming or
    configuration error, not bad data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from smsflow._errors import SmsFlowValidationError, invalid
from smsflow._validate import MAX_DESTINATION, MIN_DESTINATION, Message

__all__ = [
    "CALLING_CODES",
    "check_default_country",
    "destination_problem",
    "normalize_destination",
    "normalized",
    "normalized_column",
    "normalizing",
    "raw_destination",
]

INVALID_DESTINATION: Final = "INVALID_DESTINATION"

#: Region codes (ISO 3166-1 alpha-2) accepted as ``default_country``, with their calling codes.
CALLING_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ZA": "27",
        "NA": "264",
        "BW": "267",
        "ZW": "263",
        "MZ": "258",
        "LS": "266",
        "SZ": "268",
        "ZM": "260",
        "KE": "254",
        "NG": "234",
        "GB": "44",
        "US": "1",
        "CA": "1",
        "AU": "61",
        "DE": "49",
        "FR": "33",
        "IN": "91",
    }
)

_ZA: Final = "27"
_ZA_DIGITS: Final = 11
_ZA_MOBILE_PREFIXES: Final = frozenset("678")
_TEST_RANGE_PREFIX: Final = "2700000"  # then 4 digits: 27000000000..27000009999
_SHOW_LIMIT: Final = 40

# Separators people type between groups of digits. Parentheses are handled apart (for "(0)").
_SEPARATORS: Final = str.maketrans(
    dict.fromkeys(
        " \t\u00a0\u2007\u2009\u202f"  # space, tab, no-break, figure, thin, narrow no-break
        "-\u2010\u2011\u2012\u2013\u2014\u2212"  # hyphen-minus, hyphens, dashes, minus sign
        ".",
    )
)
_PARENTHESES: Final = str.maketrans(dict.fromkeys("()"))
_ASCII_DIGITS: Final = frozenset("0123456789")


def normalize_destination(value: str, *, default_country: str | None = "ZA") -> str:
    """Return ``value`` as an MSISDN: digits only, international form, no ``+``.

    ``"+27 82 123 4567"``, ``"(082) 123 4567"`` and ``"0027821234567"`` all give
    ``"27821234567"``.

    Args:
        value: The number as typed.
        default_country: Region code (``"ZA"``, ``"GB"``, ...) or calling code (``"27"``)
            used for a national number written with a leading ``0``; ``None`` refuses
            national numbers.

    Raises:
        SmsFlowValidationError: ``value`` cannot be normalised (code ``INVALID_DESTINATION``;
            the message says why).
        ValueError: ``default_country`` is unknown.
    """
    number, problem = _normalize(value, _calling_code(default_country))
    if problem is not None:
        raise SmsFlowValidationError(problem, code=INVALID_DESTINATION)
    return number


def destination_problem(value: object, *, default_country: str | None = "ZA") -> str | None:
    """Return why ``value`` is not a usable destination, or ``None`` if it can be normalised.

    Never raises for any ``value`` (a non-``str`` gets a reason too).

    Raises:
        ValueError: ``default_country`` is unknown.
    """
    return _normalize(value, _calling_code(default_country))[1]


def check_default_country(default_country: object) -> str | None:
    """``default_country`` upper-cased, or ``None`` (no national numbers).

    Raises:
        ValueError: it is neither ``None``, a known region code nor a calling code.
    """
    if default_country is None:
        return None
    if not isinstance(default_country, str):
        raise ValueError(f"default_country must be a str or None, not {default_country!r}")
    _calling_code(default_country)
    return default_country.upper()


def _calling_code(default_country: str | None) -> str | None:
    if default_country is None:
        return None
    if isinstance(default_country, str):
        code = CALLING_CODES.get(default_country.upper())
        if code is not None:
            return code
        digits = default_country.removeprefix("+")
        if 1 <= len(digits) <= 3 and _ASCII_DIGITS.issuperset(digits) and digits[0] != "0":
            return digits
    raise ValueError(
        f"unknown default_country {default_country!r}: use a region code such as 'ZA' "
        f"({', '.join(sorted(CALLING_CODES))}) or a calling code such as '27'"
    )


def _show(value: str) -> str:
    """The value as typed, quoted on one line, shortened if long."""
    if len(value) > _SHOW_LIMIT:
        return repr(value[: _SHOW_LIMIT - 3]) + "..."
    return repr(value)


def _digits(count: int) -> str:
    return "1 digit" if count == 1 else f"{count} digits"


def _normalize(value: object, calling_code: str | None) -> tuple[str, str | None]:
    """Return ``(msisdn, None)``, or ``("", reason)`` when ``value`` cannot be normalised."""
    if not isinstance(value, str):
        return "", f"destination must be a str, got {type(value).__name__}"
    shown = _show(value)
    text = value.strip()
    if not text:
        return "", "destination is empty" if not value else f"destination {shown} is blank"

    compact = text.translate(_SEPARATORS)
    international = compact.startswith(("+", "00"))
    if "(" in compact or ")" in compact:
        if international and "(0)" in compact:
            compact = compact.replace("(0)", "", 1)
        compact = compact.translate(_PARENTHESES)
    body = compact.removeprefix("+")

    if not _ASCII_DIGITS.issuperset(body):
        return "", _character_problem(shown, body)
    if not body:
        return "", f"destination {shown} has no digits"

    national = False
    if compact.startswith("+"):
        typed = body
        if body.startswith("0"):
            return "", (
                f"destination {shown} has a 0 right after the '+'; a country code never "
                "starts with 0 (write +27 82 123 4567 or 082 123 4567)"
            )
    elif body.startswith("00"):
        typed = body[2:]
        if typed.startswith("0") or not typed:
            return "", (
                f"destination {shown} does not have a country code after the international "
                "prefix 00 (write 0027 82 123 4567 or 082 123 4567)"
            )
    elif body.startswith("0"):
        if calling_code is None:
            return "", (
                f"destination {shown} is a national number and no default country is set "
                "(default_country=None): write it with + and the country code "
                "(+27 82 123 4567)"
            )
        national = True
        typed = body
        body = calling_code + body[1:]
    else:
        typed = body
        if calling_code == _ZA and len(body) == _ZA_DIGITS - 2 and body[0] in _ZA_MOBILE_PREFIXES:
            return "", (
                f"destination {shown} looks like a South African mobile number without its "
                f"leading 0 (spreadsheets drop it): write 0{body} or 27{body}, or start it "
                "with + if it is an international number"
            )
    msisdn = typed if not national else body

    if msisdn.startswith(_ZA):
        problem = _south_african_problem(shown, msisdn, typed, national)
        return ("", problem) if problem is not None else (msisdn, None)
    if not MIN_DESTINATION <= len(msisdn) <= MAX_DESTINATION:
        if national:
            return "", (
                f"destination {shown} has {_digits(len(typed))}, {len(msisdn)} with the country "
                f"code {calling_code}; a mobile number has {MIN_DESTINATION} to {MAX_DESTINATION} "
                "including the country code"
            )
        return "", (
            f"destination {shown} has {_digits(len(msisdn))}; a mobile number has "
            f"{MIN_DESTINATION} to {MAX_DESTINATION} including the country code"
        )
    return msisdn, None


def _character_problem(shown: str, body: str) -> str:
    """The reason for a value holding something other than digits and separators."""
    if any(ch.isalpha() for ch in body):
        return (
            f"destination {shown} contains letters; write the number with digits only "
            "(spaces, dashes, dots and parentheses are fine)"
        )
    bad = next(ch for ch in body if ch not in _ASCII_DIGITS)
    if bad == "+":
        return f"destination {shown} has a '+' that is not at the start"
    return f"destination {shown} contains {bad!r}, which is not part of a phone number"


def _south_african_problem(shown: str, msisdn: str, typed: str, national: bool) -> str | None:
    """The reason a number starting with 27 is not a South African mobile number, or None."""
    if len(msisdn) != _ZA_DIGITS:
        if len(msisdn) == _ZA_DIGITS + 1 and msisdn[2] == "0" and not national:
            return (
                f"destination {shown} has a 0 after the country code 27; drop it (27{msisdn[3:]})"
            )
        if national:
            return (
                f"destination {shown} has {_digits(len(typed))}; a South African mobile number "
                "written with a leading 0 has 10 (082 123 4567)"
            )
        return (
            f"destination {shown} has {_digits(len(typed))}; a South African mobile number has "
            "11 with the country code (27 82 123 4567)"
        )
    if msisdn[2] in _ZA_MOBILE_PREFIXES or msisdn.startswith(_TEST_RANGE_PREFIX):
        return None
    return (
        f"destination {shown} is not a South African mobile number: mobile numbers start with "
        "06, 07 or 08 (27 6, 27 7 or 27 8 with the country code)"
    )


def raw_destination(item: Any) -> str | None:
    """The destination of a message item as written (a ``Message`` or a mapping), or
    ``None`` when it has no ``str`` destination. Never raises."""
    if isinstance(item, Message):
        value: Any = item.destination
    elif isinstance(item, Mapping):
        value = item.get("destination")
    else:
        return None
    return value if isinstance(value, str) else None


def normalized(item: Any, index: int, default_country: str | None = "ZA") -> Any:
    """``item`` with its destination normalised (a copy; ``item`` itself when unchanged).

    Anything that is not a message with a ``str`` destination is returned as is, for
    :func:`~smsflow._validate.check_message` to explain.

    Raises:
        SmsFlowValidationError: the destination cannot be normalised (code
            ``INVALID_DESTINATION``, ``field`` ``messages[index].destination``).
    """
    destination = raw_destination(item)
    if destination is None:
        return item
    try:
        value = normalize_destination(destination, default_country=default_country)
    except SmsFlowValidationError as exc:
        where = f"messages[{index}].destination"
        raise invalid(f"{where}: {exc.message}", "INVALID_DESTINATION", where) from None
    if value == destination:
        return item
    if isinstance(item, Message):
        return Message(value, item.content)
    return {**item, "destination": value}


# Destinations (already plain ASCII digits, 8-15 long) that _normalize returns unchanged:
# a South African mobile or test-range number with 27, or any other international number
# (no leading 0); with ZA as the default country, not 9 digits starting 6, 7 or 8 (a ZA
# mobile number without its 0). Checked a column at a time, by one match over the column
# joined with newlines (a third of the time of a match per number); any miss takes _normalize.
_ZA_FORMS: Final = r"27(?:[678][0-9]{8}|00000[0-9]{4})"
_INTERNATIONAL: Final = r"(?!27)[1-9][0-9]{7,14}"
_UNCHANGED_ZA: Final = re.compile(rf"(?:(?:{_ZA_FORMS}|(?![678][0-9]{{8}}\n){_INTERNATIONAL})\n)*")
_UNCHANGED: Final = re.compile(rf"(?:(?:{_ZA_FORMS}|{_INTERNATIONAL})\n)*")


def _wants_normalizing(normalize: object) -> bool:
    """``normalize`` itself. Raises SmsFlowValidationError when it is not a bool."""
    if normalize is not True and normalize is not False:
        raise invalid(
            f"normalize_destinations must be True or False, not {normalize!r}",
            "INVALID_REQUEST",
            "normalize_destinations",
        )
    return normalize


def normalized_column(
    destinations: list[str], normalize: object, default_country: str | None = "ZA"
) -> list[str]:
    """The destinations of one request, each normalised as :func:`normalized` would.

    Raises:
        SmsFlowValidationError: ``normalize`` is not a bool (``INVALID_REQUEST``), or a
            destination cannot be normalised (``INVALID_DESTINATION``, ``field``
            ``messages[index].destination``).
    """
    if not _wants_normalizing(normalize):
        return destinations
    calling_code = _calling_code(default_country)
    unchanged = _UNCHANGED_ZA if calling_code == _ZA else _UNCHANGED
    if unchanged.fullmatch("\n".join(destinations) + "\n"):
        return destinations
    out: list[str] = []
    for index, destination in enumerate(destinations):
        number, problem = _normalize(destination, calling_code)
        if problem is not None:
            where = f"messages[{index}].destination"
            raise invalid(f"{where}: {problem}", INVALID_DESTINATION, where)
        out.append(number)
    return out


def normalizing(messages: Any, normalize: object, default_country: str | None = "ZA") -> Any:
    """``messages``, normalising each destination on the way when ``normalize`` is True.

    Raises:
        SmsFlowValidationError: ``normalize`` is not a bool (``INVALID_REQUEST``).
    """
    if not _wants_normalizing(normalize):
        return messages
    if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Iterable):
        return messages  # check_messages says what is wrong with it
    return (normalized(item, index, default_country) for index, item in enumerate(messages))
