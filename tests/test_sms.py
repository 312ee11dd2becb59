"""SMS segment counting: encodings, units, part boundaries and the packing rules."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsflow._sms import GSM7_BASIC, GSM7_EXTENSION, SmsSegments, segments

# The GSM 03.38 basic table as published (0x1B, the escape, left out), row by row.
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
EXTENSION_TABLE = "\f^{}\\[~]|€"
GSM_ALPHABET = BASIC_TABLE + EXTENSION_TABLE

EMOJI = "\U0001f600"  # 😀: one code point, two UTF-16 code units
CYRILLIC = "Ж"  # a BMP character outside GSM-7: one UTF-16 code unit


def model(text: str) -> SmsSegments:
    """An independent, deliberately naive reference: list every part's contents explicitly."""
    gsm = all(ch in GSM_ALPHABET for ch in text)
    if gsm:
        costs = [2 if ch in EXTENSION_TABLE else 1 for ch in text]
        single, multi = 160, 153
    else:
        costs = [len(ch.encode("utf-16-le", "surrogatepass")) // 2 for ch in text]
        single, multi = 70, 67
    units = sum(costs)
    foreign = [] if gsm else [ch for ch in text if ch not in GSM_ALPHABET]
    order = tuple(dict.fromkeys(foreign))
    encoding: Literal["GSM-7", "UCS-2"] = "GSM-7" if gsm else "UCS-2"
    if not text:
        return SmsSegments("GSM-7", 0, 0, 0, 160, (), 160)
    if units <= single:
        return SmsSegments(encoding, 1, units, len(text), single, order, single - units)
    parts: list[list[int]] = [[]]
    for cost in costs:
        if sum(parts[-1]) + cost > multi:
            parts.append([])
        parts[-1].append(cost)
    last = sum(parts[-1])
    return SmsSegments(encoding, len(parts), units, len(text), multi, order, multi - last)


def test_the_basic_table_has_127_characters_and_the_extension_table_10() -> None:
    """The module's tables are exactly GSM 03.38's: 128 basic minus the escape, 10 extension."""
    expected = (127, 10)
    assert expected == (len(BASIC_TABLE), len(EXTENSION_TABLE))
    assert frozenset(BASIC_TABLE) == GSM7_BASIC
    assert frozenset(EXTENSION_TABLE) == GSM7_EXTENSION


def test_empty_text_has_no_parts() -> None:
    """An empty text is GSM-7 with 0 parts, 0 units and a whole single part free."""
    assert SmsSegments("GSM-7", 0, 0, 0, 160, (), 160) == segments("")


def test_short_plain_text() -> None:
    """A short ASCII message is one GSM-7 part; remaining is what is left of 160."""
    assert SmsSegments("GSM-7", 1, 23, 23, 160, (), 137) == segments("Order 1001 has shipped.")


@pytest.mark.parametrize(
    ("length", "parts", "per_part", "remaining"),
    [
        (1, 1, 160, 159),
        (159, 1, 160, 1),
        (160, 1, 160, 0),
        (161, 2, 153, 145),
        (305, 2, 153, 1),
        (306, 2, 153, 0),
        (307, 3, 153, 152),
        (459, 3, 153, 0),
        (460, 4, 153, 152),
        (1600, 11, 153, 83),
    ],
)
def test_gsm7_part_boundaries(length: int, parts: int, per_part: int, remaining: int) -> None:
    """GSM-7 holds 160 septets in one part, then 153 per part."""
    assert SmsSegments("GSM-7", parts, length, length, per_part, (), remaining) == segments(
        "a" * length
    )


@pytest.mark.parametrize(
    ("length", "parts", "per_part", "remaining"),
    [
        (1, 1, 70, 69),
        (70, 1, 70, 0),
        (71, 2, 67, 63),
        (134, 2, 67, 0),
        (135, 3, 67, 66),
        (201, 3, 67, 0),
        (202, 4, 67, 66),
        (268, 4, 67, 0),
        (335, 5, 67, 0),
    ],
)
def test_ucs2_part_boundaries(length: int, parts: int, per_part: int, remaining: int) -> None:
    """UCS-2 holds 70 units in one part, then 67 per part."""
    expected = SmsSegments("UCS-2", parts, length, length, per_part, (CYRILLIC,), remaining)
    assert expected == segments(CYRILLIC * length)


@pytest.mark.parametrize("k", [2, 3, 4, 5, 10, 23])
def test_ucs2_exact_multiples_of_67(k: int) -> None:
    """67*k units fill exactly k parts, and one unit more needs a new part."""
    assert (k, 0) == (segments(CYRILLIC * (67 * k)).parts, segments(CYRILLIC * (67 * k)).remaining)
    assert (k + 1, 66) == (
        segments(CYRILLIC * (67 * k + 1)).parts,
        segments(CYRILLIC * (67 * k + 1)).remaining,
    )


@pytest.mark.parametrize("k", [2, 3, 4, 10])
def test_gsm7_exact_multiples_of_153(k: int) -> None:
    """153*k septets fill exactly k parts, and one septet more needs a new part."""
    assert (k, 0) == (segments("x" * (153 * k)).parts, segments("x" * (153 * k)).remaining)
    assert k + 1 == segments("x" * (153 * k + 1)).parts


@pytest.mark.parametrize("char", list(EXTENSION_TABLE))
def test_each_extension_character_costs_two_septets(char: str) -> None:
    """Form feed, ^ { } \\ [ ~ ] | and € stay GSM-7 but cost 2 septets each."""
    assert SmsSegments("GSM-7", 1, 2, 1, 160, (), 158) == segments(char)


def test_every_basic_character_costs_one_septet() -> None:
    """The whole basic table is GSM-7 at one septet per character."""
    assert SmsSegments("GSM-7", 1, 127, 127, 160, (), 33) == segments(BASIC_TABLE)


def test_extension_characters_fill_a_single_part_exactly() -> None:
    """80 euro signs are 160 septets: one part; 81 are 162: two parts of 76 and 5 euros."""
    assert SmsSegments("GSM-7", 1, 160, 80, 160, (), 0) == segments("€" * 80)
    # The first part takes 76 euros (152 septets): a 77th would need septets 153-154.
    assert SmsSegments("GSM-7", 2, 162, 81, 153, (), 143) == segments("€" * 81)


def test_an_extension_character_pushes_past_a_single_part() -> None:
    """159 letters and one ^ are 161 septets: the message becomes two parts."""
    assert SmsSegments("GSM-7", 2, 161, 160, 153, (), 145) == segments("a" * 159 + "^")


def test_an_escape_pair_is_not_split_across_parts() -> None:
    """A 2-septet character that would straddle a boundary moves whole to the next part."""
    # 152 + 2 + 152 = 306 septets = 153*2, yet the euro cannot occupy septets 153-154.
    result = segments("a" * 152 + "€" + "a" * 152)
    assert SmsSegments("GSM-7", 3, 306, 305, 153, (), 152) == result


def test_an_escape_pair_that_ends_exactly_on_a_boundary_fits() -> None:
    """A 2-septet character occupying septets 152-153 stays in the first part."""
    result = segments("a" * 151 + "€" + "a" * 153)
    assert SmsSegments("GSM-7", 2, 306, 305, 153, (), 0) == result


def test_emoji_counts_two_units() -> None:
    """An emoji is one character but two UTF-16 code units, and forces UCS-2."""
    assert SmsSegments("UCS-2", 1, 2, 1, 70, (EMOJI,), 68) == segments(EMOJI)


def test_emoji_fill_a_single_part_exactly() -> None:
    """35 emoji are 70 units: one part; 36 are 72: two parts of up to 33 emoji (66 units)."""
    assert SmsSegments("UCS-2", 1, 70, 35, 70, (EMOJI,), 0) == segments(EMOJI * 35)
    assert SmsSegments("UCS-2", 2, 72, 36, 67, (EMOJI,), 61) == segments(EMOJI * 36)


def test_a_surrogate_pair_is_not_split_across_parts() -> None:
    """An emoji that would straddle a part boundary moves whole to the next part."""
    # 66 + 2 + 66 = 134 units = 67*2, yet the emoji cannot occupy units 67-68.
    result = segments(CYRILLIC * 66 + EMOJI + CYRILLIC * 66)
    assert SmsSegments("UCS-2", 3, 134, 133, 67, (CYRILLIC, EMOJI), 66) == result


def test_a_surrogate_pair_that_ends_exactly_on_a_boundary_fits() -> None:
    """An emoji occupying units 66-67 stays in the first part."""
    result = segments(CYRILLIC * 65 + EMOJI + CYRILLIC * 67)
    assert SmsSegments("UCS-2", 2, 134, 133, 67, (CYRILLIC, EMOJI), 0) == result


def test_one_non_gsm_character_switches_the_whole_message_to_ucs2() -> None:
    """A single curly apostrophe turns a 100-character message from 1 GSM-7 part to 2 UCS-2."""
    text = "a" * 99 + "\u2019"
    assert SmsSegments("UCS-2", 2, 100, 100, 67, ("\u2019",), 34) == segments(text)
    straight_apostrophe = segments("a" * 99 + "'")
    assert SmsSegments("GSM-7", 1, 100, 100, 160, (), 60) == straight_apostrophe


def test_extension_characters_cost_one_unit_in_ucs2() -> None:
    """In a UCS-2 message the euro sign is an ordinary 1-unit character."""
    assert SmsSegments("UCS-2", 1, 3, 3, 70, ("ç",), 67) == segments("€ ç")


def test_mixed_text() -> None:
    """Text mixing ASCII, GSM accents, an extension character and an emoji counts as UCS-2."""
    text = "Hi Zoë, R50 off {today} \u2713 \U0001f389"
    expected = SmsSegments("UCS-2", 1, 28, 27, 70, ("ë", "\u2713", "\U0001f389"), 42)
    assert expected == segments(text)


def test_gsm_accents_stay_gsm7() -> None:
    """Accented letters of the GSM table (é, ñ, Ä, à, Ç, ß) and Greek capitals stay GSM-7."""
    text = "Café Niño Äpfel à Ça Straße ΔΦΓΛΩΠΨΣΘΞ"
    assert ("GSM-7", len(text), ()) == (
        segments(text).encoding,
        segments(text).units,
        segments(text).ucs2_characters,
    )


@pytest.mark.parametrize(
    ("char", "forcing"),
    [
        ("ç", "ç"),  # only the capital Ç is in the table
        ("\t", "\t"),  # tab is not GSM-7
        ("`", "`"),
        ("\x1b", "\x1b"),  # the escape itself is not a character of the text
        ("\u2019", "\u2019"),  # right single quotation mark, from word processors
        ("\u201c", "\u201c"),  # left double quotation mark
        ("\u2013", "\u2013"),  # en dash
        ("\u00a0", "\u00a0"),  # no-break space
        ("\u2026", "\u2026"),  # ellipsis
        ("á", "á"),
        ("\u2126", "\u2126"),  # ohm sign, not the table's Greek capital omega U+03A9
        ("e\u0301", "\u0301"),  # decomposed é: e plus a combining acute accent
    ],
)
def test_characters_that_force_ucs2(char: str, forcing: str) -> None:
    """Common look-alikes and word-processor substitutions are not GSM-7."""
    result = segments("Hello " + char)
    assert ("UCS-2", (forcing,)) == (result.encoding, result.ucs2_characters)


def test_ucs2_characters_are_distinct_in_order_of_first_appearance() -> None:
    """Each forcing character is listed once, in the order it first appears."""
    result = segments("ça va? \u041f\u0440\u0438\u0432\u0435\u0442, ça va! \u2019")
    expected = ("ç", "\u041f", "\u0440", "\u0438", "\u0432", "\u0435", "\u0442", "\u2019")
    assert expected == result.ucs2_characters


def test_ucs2_characters_order_with_many_distinct_characters() -> None:
    """The order holds for text with many distinct forcing characters (e.g. CJK)."""
    text = "".join(chr(0x4E00 + i) for i in range(40, 0, -1)) * 2 + "abc"
    assert tuple(chr(0x4E00 + i) for i in range(40, 0, -1)) == segments(text).ucs2_characters


def test_newlines_are_gsm7_and_count_one_septet_each() -> None:
    """CR and LF are in the basic table: CRLF costs 2 septets."""
    assert SmsSegments("GSM-7", 1, 4, 4, 160, (), 156) == segments("a\r\nb")


def test_characters_counts_code_points() -> None:
    """characters is len(text): an emoji is one character but two units."""
    result = segments("ok " + EMOJI * 3)
    expected = (6, 9)
    assert expected == (result.characters, result.units)


@pytest.mark.parametrize("value", [None, b"hello", 42, ["a"], 1.5])
def test_non_str_raises_type_error(value: object) -> None:
    """Anything but a str raises TypeError naming the type given."""
    with pytest.raises(TypeError, match=type(value).__name__):
        segments(value)  # type: ignore[arg-type]


def test_result_is_frozen() -> None:
    """SmsSegments is immutable and hashable."""
    result = segments("hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.parts = 5  # type: ignore[misc]
    assert hash(result) == hash(segments("hi"))


def test_str_subclass_is_accepted() -> None:
    """A str subclass is counted like the str it is."""

    class Text(str):
        __slots__ = ()

    assert segments("hello") == segments(Text("hello"))


# --- properties ------------------------------------------------------------------------------

gsm_text = st.text(alphabet=GSM_ALPHABET, max_size=700)
any_text = st.text(max_size=400)
mixed_text = st.text(
    alphabet=st.sampled_from([*GSM_ALPHABET, EMOJI, CYRILLIC, "ç", "\u2019", "\U0001f389"]),
    max_size=400,
)


@given(gsm_text)
def test_gsm_only_text_is_gsm7(text: str) -> None:
    """Any text made only of GSM-7 characters is GSM-7, with units = len + extension count."""
    result = segments(text)
    expected_units = len(text) + sum(ch in EXTENSION_TABLE for ch in text)
    assert ("GSM-7", expected_units, ()) == (result.encoding, result.units, result.ucs2_characters)


@given(st.one_of(gsm_text, any_text, mixed_text))
def test_matches_the_reference_model(text: str) -> None:
    """segments() agrees with a naive part-by-part reference implementation."""
    assert model(text) == segments(text)


@given(st.one_of(gsm_text, any_text, mixed_text))
def test_parts_hold_all_units(text: str) -> None:
    """parts*per_part >= units, parts is within one wasted unit per part of the minimum."""
    result = segments(text)
    assert result.parts * result.per_part >= result.units
    assert result.parts >= math.ceil(result.units / result.per_part)
    if result.parts > 1:
        assert result.parts <= math.ceil(result.units / (result.per_part - 1))
    assert 0 <= result.remaining <= result.per_part
    assert (result.parts == 0) == (text == "")
    assert len(text) == result.characters


@given(st.one_of(any_text, mixed_text))
def test_ucs2_units_are_utf16_code_units(text: str) -> None:
    """For UCS-2 text, units is the length of the text in UTF-16 code units."""
    result = segments(text)
    if result.encoding == "UCS-2":
        assert len(text.encode("utf-16-le", "surrogatepass")) // 2 == result.units
        assert all(ch in result.ucs2_characters for ch in text if ch not in GSM_ALPHABET)


@given(st.one_of(gsm_text, mixed_text), st.sampled_from([*GSM_ALPHABET, EMOJI, "ç"]))
def test_appending_never_reduces_parts(text: str, char: str) -> None:
    """Adding a character can only keep or raise the part count."""
    assert segments(text + char).parts >= segments(text).parts
