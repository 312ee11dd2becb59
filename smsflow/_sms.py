"""SMS segment counting: how many parts (billed segments) a message body takes.

``segments(text)`` picks the encoding a handset network would use and counts parts:

* **GSM-7** when every character is in the GSM 03.38 basic character set or its extension
  table. Units are *septets*: a basic character costs 1, an extension-table character
  (form feed, ``^ { } \\ [ ~ ] |`` and ``€``) costs 2 (an escape plus the character).
  One part holds 160 septets; a multipart message holds 153 per part (the rest is the
  concatenation header).
* **UCS-2** as soon as one character is outside GSM-7 (``ç``, a curly apostrophe, a tab,
  Cyrillic, an emoji, ...). Units are UTF-16 *code units*: a character beyond U+FFFF such as
  an emoji costs 2 (a surrogate pair). One part holds 70 units; a multipart message holds 67
  per part.

Parts are packed greedily, never splitting an escape pair or a surrogate pair across two
parts, so a multipart message can need one part more than ``ceil(units / per_part)``.
Text is counted as given: it is not Unicode-normalised (a decomposed ``é``, that is ``e``
plus a combining accent, forces UCS-2).

An empty text has 0 parts, 0 units, and ``remaining`` equal to a single part's capacity (160).

Raises:
    TypeError: ``segments`` was given something other than a ``str``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "SmsSegments",
    "segments",
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7_SINGLE_PART",
    "GSM7_MULTIPART",
    "UCS2_SINGLE_PART",
    "UCS2_MULTIPART",
]

# GSM 03.38 basic character set, in table order (0x00-0x7F), without 0x1B (the escape).
GSM7_BASIC: Final[frozenset[str]] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table (reached with the escape 0x1B): each costs 2 septets.
GSM7_EXTENSION: Final[frozenset[str]] = frozenset("\f^{}\\[~]|€")
_GSM7: Final[frozenset[str]] = GSM7_BASIC | GSM7_EXTENSION

GSM7_SINGLE_PART: Final = 160
GSM7_MULTIPART: Final = 153
UCS2_SINGLE_PART: Final = 70
UCS2_MULTIPART: Final = 67


@dataclass(frozen=True, slots=True)
class SmsSegments:
    """How a message body is encoded and split into billed SMS parts.

    Attributes:
        encoding: ``"GSM-7"`` or ``"UCS-2"``.
        parts: Number of SMS parts (0 for an empty text).
        units: GSM-7: septets (extension-table characters count 2).
            UCS-2: UTF-16 code units (a character beyond U+FFFF, such as an emoji, counts 2).
        characters: ``len(text)``: Python code points.
        per_part: Capacity of each part for this text: 160 or 153 septets, 70 or 67 units.
        ucs2_characters: The distinct characters that forced UCS-2, in order of first
            appearance (empty for GSM-7).
        remaining: Units still free in the last part (a full part's capacity when empty).
    """

    encoding: Literal["GSM-7", "UCS-2"]
    parts: int
    units: int
    characters: int
    per_part: int
    ucs2_characters: tuple[str, ...]
    remaining: int


def segments(text: str) -> SmsSegments:
    """Count the encoding, units and SMS parts of ``text``.

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"segments() expects the message text as a str, got {type(text).__name__}")
    characters = len(text)
    if characters == 0:
        return SmsSegments("GSM-7", 0, 0, 0, GSM7_SINGLE_PART, (), GSM7_SINGLE_PART)

    distinct = set(text)
    foreign = distinct - _GSM7
    if not foreign:
        escaped = distinct & GSM7_EXTENSION
        double = sum(text.count(ch) for ch in escaped) if escaped else 0
        parts, units, per_part, remaining = _pack(
            text, characters + double, double, GSM7_SINGLE_PART, GSM7_MULTIPART, True
        )
        return SmsSegments("GSM-7", parts, units, characters, per_part, (), remaining)

    # UTF-16 code units, counted in C; a lone surrogate (possible in a str) counts 1.
    double = len(text.encode("utf-16-le", "surrogatepass")) // 2 - characters
    parts, units, per_part, remaining = _pack(
        text, characters + double, double, UCS2_SINGLE_PART, UCS2_MULTIPART, False
    )
    return SmsSegments(
        "UCS-2", parts, units, characters, per_part, _in_order(text, foreign), remaining
    )


def _pack(
    text: str, units: int, double: int, single: int, multi: int, gsm7: bool
) -> tuple[int, int, int, int]:
    """Return ``(parts, units, per_part, remaining)``; ``double`` counts 2-unit characters."""
    if units <= single:
        return 1, units, single, single - units
    if double == 0:
        # Every character costs 1: nothing can straddle a boundary, so plain division is exact.
        parts = -(-units // multi)
        return parts, units, multi, parts * multi - units
    # Greedy packing: a 2-unit character that does not fit starts the next part.
    if gsm7:
        costs = (2 if ch in GSM7_EXTENSION else 1 for ch in text)
    else:
        costs = (2 if ch > "\uffff" else 1 for ch in text)
    parts, used = 1, 0
    for cost in costs:
        used += cost
        if used > multi:
            parts += 1
            used = cost
    return parts, units, multi, multi - used


def _in_order(text: str, chars: set[str]) -> tuple[str, ...]:
    """The characters of ``chars`` in order of first appearance in ``text``."""
    if len(chars) == 1:
        return tuple(chars)
    # dict.fromkeys keeps first-appearance order and runs in C; filter the distinct ones.
    return tuple(ch for ch in dict.fromkeys(text) if ch in chars)
