"""Destination normalisation: what people type -> the API's MSISDN form, and why not."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smsflow._destinations import CALLING_CODES, destination_problem, normalize_destination
from smsflow._errors import SmsFlowError, SmsFlowValidationError


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+27 82 123 4567", "27821234567"),
        ("+27-82-123-4567", "27821234567"),
        ("(082) 123 4567", "27821234567"),
        ("082-123-4567", "27821234567"),
        ("082.123.4567", "27821234567"),
        ("0027821234567", "27821234567"),
        ("27821234567", "27821234567"),
        ("0821234567", "27821234567"),
        ("+27821234567", "27821234567"),
        ("00 27 82 123 4567", "27821234567"),
        ("+27 (0)82 123 4567", "27821234567"),
        ("+27(0)821234567", "27821234567"),
        ("0027 (0) 82 123 4567", "27821234567"),
        ("(0)82 123 4567", "27821234567"),
        ("  082 123 4567\n", "27821234567"),
        ("082\t123\t4567", "27821234567"),
        ("082\u00a0123\u00a04567", "27821234567"),  # no-break spaces from a spreadsheet
        ("082\u202f123\u202f4567", "27821234567"),  # narrow no-break spaces
        ("082\u2013123\u20134567", "27821234567"),  # en dashes from a word processor
        ("082\u2011123\u20114567", "27821234567"),  # non-breaking hyphens
        ("+27 60 123 4567", "27601234567"),
        ("071 234 5678", "27712345678"),
        ("0 8 2 1 2 3 4 5 6 7", "27821234567"),
        ("+44 7700 900123", "447700900123"),
        ("0044 7700 900123", "447700900123"),
        ("+264 81 234 5678", "264812345678"),
        ("+1 (415) 555-0123", "14155550123"),
        ("+49 1512 3456789", "4915123456789"),
        ("12345678", "12345678"),
        ("123456789012345", "123456789012345"),
    ],
)
def test_normalizes_what_people_type(typed: str, expected: str) -> None:
    """Separators, + and 00 prefixes and the national 0 all give the same MSISDN."""
    assert expected == normalize_destination(typed)
    assert destination_problem(typed) is None


@pytest.mark.parametrize(
    "typed",
    ["27000000000", "27000000001", "27000009999", "+27 00 000 0000", "0027 00 000 0042"],
)
def test_reserved_test_numbers_are_accepted(typed: str) -> None:
    """The vendor's demo numbers 2700000xxxx stay usable though 0 is not a mobile prefix."""
    expected = "".join(ch for ch in typed if ch.isdigit()).removeprefix("00")
    assert expected == normalize_destination(typed)


@pytest.mark.parametrize("typed", ["27000010000", "27012345678", "27099999999"])
def test_numbers_next_to_the_test_range_are_not_mobile(typed: str) -> None:
    """Only 27000000000..27000009999 are test numbers; other 270... numbers are refused."""
    assert "not a South African mobile number" in (destination_problem(typed) or "")


@pytest.mark.parametrize(
    ("typed", "default_country", "expected"),
    [
        ("07700 900123", "GB", "447700900123"),
        ("07700 900123", "gb", "447700900123"),
        ("081 234 5678", "NA", "264812345678"),
        ("081 234 5678", "264", "264812345678"),
        ("081 234 5678", "+264", "264812345678"),
        ("0712 345678", "KE", "254712345678"),
        ("0803 123 4567", "NG", "2348031234567"),
        ("0412 345 678", "AU", "61412345678"),
        ("0612345678", "FR", "33612345678"),
        ("082 123 4567", "27", "27821234567"),
        ("+27 82 123 4567", "GB", "27821234567"),
        ("27821234567", "US", "27821234567"),
    ],
)
def test_default_country(typed: str, default_country: str, expected: str) -> None:
    """A leading 0 takes the default country's calling code; international numbers ignore it."""
    assert expected == normalize_destination(typed, default_country=default_country)


def test_calling_code_table() -> None:
    """The documented regions map to their calling codes and the table is read-only."""
    expected = {
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
    assert expected == dict(CALLING_CODES)
    with pytest.raises(TypeError):
        CALLING_CODES["XX"] = "999"  # type: ignore[index]


@pytest.mark.parametrize("default_country", ["XX", "", "South Africa", "0", "027", "1234", "+"])
def test_unknown_default_country_is_a_value_error(default_country: str) -> None:
    """An unknown region is a plain ValueError (a configuration mistake), from both functions."""
    with pytest.raises(ValueError, match="unknown default_country") as raised:
        normalize_destination("082 123 4567", default_country=default_country)
    assert not isinstance(raised.value, SmsFlowError)
    with pytest.raises(ValueError, match="unknown default_country"):
        destination_problem("082 123 4567", default_country=default_country)


def test_non_str_default_country_is_a_value_error() -> None:
    """A default_country that is not a str is refused the same way."""
    with pytest.raises(ValueError, match="unknown default_country"):
        normalize_destination("082 123 4567", default_country=27)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "destination is empty"),
        ("   ", "destination '   ' is blank"),
        (
            "082 12",
            "destination '082 12' has 5 digits; a South African mobile number written with a "
            "leading 0 has 10 (082 123 4567)",
        ),
        (
            "082 123 45678",
            "destination '082 123 45678' has 11 digits; a South African mobile number written "
            "with a leading 0 has 10 (082 123 4567)",
        ),
        (
            "+27 82 123 456",
            "destination '+27 82 123 456' has 10 digits; a South African mobile number has 11 "
            "with the country code (27 82 123 4567)",
        ),
        (
            "021 123 4567",
            "destination '021 123 4567' is not a South African mobile number: mobile numbers "
            "start with 06, 07 or 08 (27 6, 27 7 or 27 8 with the country code)",
        ),
        (
            "0211234567",
            "destination '0211234567' is not a South African mobile number: mobile numbers "
            "start with 06, 07 or 08 (27 6, 27 7 or 27 8 with the country code)",
        ),
        (
            "+27 21 123 4567",
            "destination '+27 21 123 4567' is not a South African mobile number: mobile numbers "
            "start with 06, 07 or 08 (27 6, 27 7 or 27 8 with the country code)",
        ),
        (
            "+27 082 123 4567",
            "destination '+27 082 123 4567' has a 0 after the country code 27; drop it "
            "(27821234567)",
        ),
        (
            "821234567",
            "destination '821234567' looks like a South African mobile number without its "
            "leading 0 (spreadsheets drop it): write 0821234567 or 27821234567, or start it "
            "with + if it is an international number",
        ),
        (
            "082 CALL NOW",
            "destination '082 CALL NOW' contains letters; write the number with digits only "
            "(spaces, dashes, dots and parentheses are fine)",
        ),
        (
            "082/123/4567",
            "destination '082/123/4567' contains '/', which is not part of a phone number",
        ),
        (
            "082 123 4567 #2",
            "destination '082 123 4567 #2' contains '#', which is not part of a phone number",
        ),
        (
            "\uff10\uff18\uff12\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
            "destination '\uff10\uff18\uff12\uff11\uff12\uff13\uff14\uff15\uff16\uff17' "
            "contains '\uff10', which is not part of a phone number",
        ),
        (
            "082 123 4567, 083 123 4567",
            "destination '082 123 4567, 083 123 4567' contains ',', which is not part of a "
            "phone number",
        ),
        ("27 82+123 4567", "destination '27 82+123 4567' has a '+' that is not at the start"),
        ("++27821234567", "destination '++27821234567' has a '+' that is not at the start"),
        ("+", "destination '+' has no digits"),
        ("()-.", "destination '()-.' has no digits"),
        (
            "+082 123 4567",
            "destination '+082 123 4567' has a 0 right after the '+'; a country code never "
            "starts with 0 (write +27 82 123 4567 or 082 123 4567)",
        ),
        (
            "000 82 123 4567",
            "destination '000 82 123 4567' does not have a country code after the "
            "international prefix 00 (write 0027 82 123 4567 or 082 123 4567)",
        ),
        (
            "+44 1234",
            "destination '+44 1234' has 6 digits; a mobile number has 8 to 15 including the "
            "country code",
        ),
        (
            "+1234 5678 9012 3456",
            "destination '+1234 5678 9012 3456' has 16 digits; a mobile number has 8 to 15 "
            "including the country code",
        ),
        (
            "1234567",
            "destination '1234567' has 7 digits; a mobile number has 8 to 15 including the "
            "country code",
        ),
        (None, "destination must be a str, got NoneType"),
        (27821234567, "destination must be a str, got int"),
        (b"0821234567", "destination must be a str, got bytes"),
        (["0821234567"], "destination must be a str, got list"),
    ],
)
def test_rejections_and_their_reasons(typed: object, reason: str) -> None:
    """Each kind of bad input gets its own readable reason, from both functions."""
    assert reason == destination_problem(typed)
    with pytest.raises(SmsFlowValidationError) as raised:
        normalize_destination(typed)  # type: ignore[arg-type]
    assert reason == raised.value.message


def test_national_number_of_another_country_too_short() -> None:
    """For a non-ZA national number the reason gives both digit counts and the calling code."""
    expected = (
        "destination '07700 9' has 6 digits, 7 with the country code 44; a mobile number has "
        "8 to 15 including the country code"
    )
    assert expected == destination_problem("07700 9", default_country="GB")


def test_single_digit_is_singular() -> None:
    """A lone 0 says '1 digit', not '1 digits'."""
    expected = (
        "destination '0' has 1 digit; a South African mobile number written with a leading 0 "
        "has 10 (082 123 4567)"
    )
    assert expected == destination_problem("0")


def test_validation_error_details() -> None:
    """The raised error is a ValueError coded INVALID_DESTINATION, with no HTTP status."""
    with pytest.raises(SmsFlowValidationError) as raised:
        normalize_destination("082 12")
    error = raised.value
    expected = ("INVALID_DESTINATION", None, False)
    assert expected == (error.code, error.status_code, error.retryable)
    assert isinstance(error, ValueError)
    assert str(error).startswith("INVALID_DESTINATION: destination '082 12' has 5 digits")


@pytest.mark.parametrize(
    ("typed", "default_country", "expected"),
    [
        ("+82 1234567", "ZA", "821234567"),
        ("0082 1234567", "ZA", "821234567"),
        ("+687 123456", "ZA", "687123456"),
        ("821234567", "GB", "821234567"),
        ("912345678", "ZA", "912345678"),
    ],
)
def test_missing_zero_hint_only_for_za_without_prefix(
    typed: str, default_country: str, expected: str
) -> None:
    """9 digits starting 6-8 are accepted with + or 00, or with another default country."""
    assert expected == normalize_destination(typed, default_country=default_country)


def test_reasons_are_one_line_and_bounded() -> None:
    """Reasons escape control characters and shorten a very long input."""
    expected = "destination '082\\n123\\r4567' contains '\\n', which is not part of a phone number"
    assert expected == destination_problem("082\n123\r4567")
    long_reason = destination_problem("0" + "1" * 10_000) or ""
    assert "\n" not in long_reason
    assert len(long_reason) < 200
    assert "destination '0" + "1" * 36 + "'... has 10001 digits" in long_reason


def test_int_like_str_subclass_is_accepted() -> None:
    """A str subclass is normalised like the str it is."""

    class Number(str):
        __slots__ = ()

    expected = "27821234567"
    assert expected == normalize_destination(Number("082 123 4567"))


# --- properties ------------------------------------------------------------------------------

za_mobile_national = st.from_regex(r"\A0[678][0-9]{8}\Z")
separators = st.sampled_from([" ", "-", ".", "\u00a0", "\u2013", ""])
phoneish = st.text(alphabet="0123456789 +-.()", max_size=25)
anything = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.binary(max_size=20),
    st.text(max_size=30),
    phoneish,
    za_mobile_national,
    st.lists(st.integers(), max_size=3),
)


@given(anything)
def test_problem_is_none_exactly_when_normalize_succeeds(value: object) -> None:
    """destination_problem never raises, and is None iff normalize_destination succeeds."""
    problem = destination_problem(value)
    if problem is None:
        normalize_destination(value)  # type: ignore[arg-type]
    else:
        with pytest.raises(SmsFlowValidationError) as raised:
            normalize_destination(value)  # type: ignore[arg-type]
        assert problem == raised.value.message


@given(anything)
def test_problems_are_single_lines(value: object) -> None:
    """A reason is always one line, however odd the input."""
    problem = destination_problem(value)
    if problem is not None:
        assert problem.splitlines() == [problem]


@given(st.one_of(phoneish, za_mobile_national))
def test_output_is_e164_digits(value: str) -> None:
    """A normalised destination is 8 to 15 ASCII digits, not starting with 0."""
    assume(destination_problem(value) is None)
    result = normalize_destination(value)
    assert result.isascii()
    assert result.isdigit()
    assert 8 <= len(result) <= 15
    assert not result.startswith("0")
    if result.startswith("27"):
        assert len(result) == 11


@given(st.one_of(phoneish, za_mobile_national))
def test_normalize_is_idempotent(value: str) -> None:
    """Normalising a normalised destination, with or without '+', gives it back unchanged."""
    assume(destination_problem(value) is None)
    result = normalize_destination(value)
    assert result == normalize_destination("+" + result)
    ambiguous = len(result) == 9 and result[0] in "678"  # a ZA number missing its 0? see module
    if not ambiguous:
        assert result == normalize_destination(result)


@given(za_mobile_national, st.lists(separators, min_size=10, max_size=10), st.booleans())
def test_formatting_does_not_matter(national: str, seps: list[str], plus: bool) -> None:
    """Any separators between the digits of a ZA mobile give the same result."""
    spaced = "".join(digit + sep for digit, sep in zip(national, seps, strict=True))
    typed = ("+27 " + spaced[1:]) if plus else spaced
    assert "27" + national[1:] == normalize_destination(typed)


@given(za_mobile_national)
def test_every_za_mobile_is_accepted_in_all_three_forms(national: str) -> None:
    """0XXXXXXXXX, 27XXXXXXXXX and +27XXXXXXXXX are the same number."""
    expected = "27" + national[1:]
    actual = {
        normalize_destination(national),
        normalize_destination(expected),
        normalize_destination("+" + expected),
        normalize_destination("00" + expected),
    }
    assert {expected} == actual


@given(st.from_regex(r"\A0[1-59][0-9]{8}\Z"))
def test_za_landlines_are_refused(national: str) -> None:
    """Numbers whose prefix is not 6, 7 or 8 are not mobile numbers."""
    assert "is not a South African mobile number" in (destination_problem(national) or "")


# -- one policy for send_sms, send_bulk and the CLI -------------------------------------------

TYPED = ["+27821234567", "082 123 4567", "0027 82 123 4567", "(082) 123-4567", "27821234567"]


def test_send_sms_accepts_every_unambiguous_form_and_shows_what_it_sent() -> None:
    """send_sms takes +E.164, 00, spaces, dashes and brackets (as send_bulk does), sends
    digits, and the result says which number each message went to."""
    from smsflow.testing import Sandbox

    sandbox = Sandbox()
    with sandbox.client() as client:
        result = client.send_sms("c", [{"destination": d, "content": "Hi"} for d in TYPED])
    assert ("27821234567",) * 5 == result.destinations
    assert ["27821234567"] * 5 == [m.destination for m in sandbox.messages]


def test_a_client_without_default_country_refuses_national_forms_only() -> None:
    """default_country=None switches national conversion off, in send_sms and send_bulk
    alike; international forms still go through."""
    from smsflow.testing import Sandbox

    sandbox = Sandbox()
    with sandbox.client(default_country=None) as client:
        with pytest.raises(SmsFlowValidationError) as info:
            client.send_sms("c", [{"destination": "0821234567", "content": "Hi"}])
        assert "INVALID_DESTINATION" == info.value.code
        assert "default country" in info.value.message
        items = [{"destination": d, "content": "Hi"} for d in TYPED]
        outcomes = sorted(client.send_bulk("c", items), key=lambda o: o.index)
        assert ["sent", "rejected", "sent", "rejected", "sent"] == [o.status for o in outcomes]
        sent = client.send_sms("c", [{"destination": "+27821234567", "content": "Hi"}])
        assert ("27821234567",) == sent.destinations
    assert 3 == sandbox.request_count  # token + one send_bulk batch + one send_sms


def test_the_client_default_country_applies_to_send_sms_and_send_bulk() -> None:
    """A client for the UK converts 07700 900123 to 447700900123 everywhere."""
    from smsflow.testing import Sandbox

    sandbox = Sandbox()
    with sandbox.client(default_country="GB") as client:
        sent = client.send_sms("c", [{"destination": "07700 900123", "content": "Hi"}])
        outcome = next(
            iter(client.send_bulk("c", [{"destination": "07700 900124", "content": "x"}]))
        )
    assert (("447700900123",), "447700900124") == (sent.destinations, outcome.destination)


def test_an_unknown_client_default_country_is_refused_at_construction() -> None:
    """A typo in default_country fails when the client is made, not at the first send."""
    from smsflow.testing import Sandbox

    with pytest.raises(SmsFlowValidationError) as info:
        Sandbox().client(default_country="XX")
    assert "INVALID_SETTING" == info.value.code


def test_the_8_to_15_digit_rule_lives_in_one_place() -> None:
    """The destination length limits of normalisation are the spec's, from _validate."""
    from smsflow import _destinations, _validate

    assert (8, 15) == (_validate.MIN_DESTINATION, _validate.MAX_DESTINATION)
    assert _destinations.MIN_DESTINATION is _validate.MIN_DESTINATION
    assert not hasattr(_destinations, "_MIN_DIGITS")
    from smsflow import _core

    assert not hasattr(_core, "normalized")
