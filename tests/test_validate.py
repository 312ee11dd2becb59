"""Input checks before anything is sent (smsflow/_validate.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from smsflow import Message, SmsFlowValidationError
from smsflow._validate import (
    MAX_CAMPAIGN_NAME,
    MAX_CONTENT,
    MAX_DESTINATION,
    MAX_MESSAGES_PER_REQUEST,
    check_campaign_name,
    check_message,
    check_messages,
    check_start_delivery,
    invalid,
)

SAST = dt.timezone(dt.timedelta(hours=2))


def test_limits_match_the_spec() -> None:
    """The limits are the spec's own (content, destination, campaign name, batch)."""
    spec = yaml.safe_load((Path(__file__).parents[1] / "spec" / "openapi.yaml").read_text())
    schemas = spec["components"]["schemas"]
    message = schemas["Message"]["properties"]
    assert (
        message["content"]["maxLength"],
        message["destination"]["maxLength"],
        schemas["SendOptions"]["properties"]["campaignName"]["maxLength"],
        schemas["SendMessagesRequest"]["properties"]["messages"]["maxItems"],
    ) == (MAX_CONTENT, MAX_DESTINATION, MAX_CAMPAIGN_NAME, MAX_MESSAGES_PER_REQUEST)


def test_message_to_dict() -> None:
    """A Message's JSON form is the spec's {content, destination}."""
    message = Message(destination="27821234567", content="hi")
    assert message.to_dict() == {"content": "hi", "destination": "27821234567"}


def test_check_message_accepts_dicts_and_messages() -> None:
    """Dicts and Message objects validate to the same JSON form."""
    expected = {"content": "hi", "destination": "27821234567"}
    assert expected == check_message({"destination": "27821234567", "content": "hi"}, 0)
    assert expected == check_message(Message("27821234567", "hi"), 0)


def test_limits_are_inclusive() -> None:
    """Exactly 1600 characters of content and 64 of destination are accepted."""
    item = {"destination": "2" * MAX_DESTINATION, "content": "x" * MAX_CONTENT}
    assert item == check_message(item, 0)
    assert check_campaign_name("c" * MAX_CAMPAIGN_NAME) == "c" * MAX_CAMPAIGN_NAME


@pytest.mark.parametrize(
    ("item", "code", "field"),
    [
        ({"content": "x"}, "INVALID_DESTINATION", "messages[4].destination"),
        ({"destination": "1"}, "INVALID_CONTENT", "messages[4].content"),
        ({"destination": None, "content": "x"}, "INVALID_DESTINATION", "messages[4].destination"),
        ({"destination": "1", "content": 3}, "INVALID_CONTENT", "messages[4].content"),
        ({"destination": "", "content": "x"}, "INVALID_DESTINATION", "messages[4].destination"),
        ({"destination": "1", "content": "\n "}, "INVALID_CONTENT", "messages[4].content"),
        ({"destination": "1", "content": "x", "to": "2"}, "INVALID_MESSAGE", "messages[4]"),
        (Message("1", ""), "INVALID_CONTENT", "messages[4].content"),
        (Message(27821234567, "x"), "INVALID_DESTINATION", "messages[4].destination"),  # type: ignore[arg-type]
        ("27821234567", "INVALID_MESSAGE", "messages[4]"),
        (None, "INVALID_MESSAGE", "messages[4]"),
    ],
)
def test_check_message_refuses(item: Any, code: str, field: str) -> None:
    """Each bad message names its code and the field at fault (with its index)."""
    with pytest.raises(SmsFlowValidationError) as info:
        check_message(item, 4)
    err = info.value
    assert (code, field, None) == (err.code, err.body["errors"][0]["field"], err.status_code)
    assert code == err.body["errors"][0]["code"]


def test_check_messages_consumes_a_generator_once() -> None:
    """Any iterable works; a generator is consumed exactly once."""
    pulled: list[int] = []

    def gen() -> Iterator[dict[str, str]]:
        for i in range(3):
            pulled.append(i)
            yield {"destination": f"2782123456{i}", "content": f"m{i}"}

    out = check_messages(gen())
    assert (pulled, len(out)) == ([0, 1, 2], 3)


def test_check_messages_stops_at_the_limit() -> None:
    """More than max_count messages is refused without reading an endless iterable to its end."""

    def endless() -> Iterator[dict[str, str]]:
        while True:
            yield {"destination": "27821234567", "content": "x"}

    with pytest.raises(SmsFlowValidationError) as info:
        check_messages(endless(), max_count=5)
    assert info.value.code == "TOO_MANY_MESSAGES"


@pytest.mark.parametrize(
    "messages", [[], (), iter([]), "abc", b"abc", {"destination": "1"}, 5, None]
)
def test_check_messages_refuses_non_lists(messages: Any) -> None:
    """Empty iterables, strings, a single dict and non-iterables are refused."""
    with pytest.raises(SmsFlowValidationError) as info:
        check_messages(messages)
    assert info.value.code == "INVALID_MESSAGE"


@pytest.mark.parametrize("name", ["", "   ", None, 5, "c" * 256])
def test_check_campaign_name_refuses(name: Any) -> None:
    """A campaign name must be 1-255 characters of text."""
    with pytest.raises(SmsFlowValidationError) as info:
        check_campaign_name(name)
    assert (
        info.value.code,
        info.value.body["errors"][0]["field"],
    ) == ("INVALID_CAMPAIGN_NAME", "campaign_name")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 1, 10, 0, tzinfo=SAST),
        dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC),
        "2026-12-01T08:00:00Z",
        "2026-12-01T10:00:00+02:00",
        " 2026-12-01T08:00:00.000+00:00 ",
    ],
)
def test_check_start_delivery_gives_utc(value: Any) -> None:
    """Aware datetimes and ISO strings with an offset become the same instant in UTC."""
    result = check_start_delivery(value)
    assert result == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    assert result is not None
    assert dt.timedelta(0) == result.utcoffset()


def test_check_start_delivery_none_means_now() -> None:
    """None sends now."""
    assert check_start_delivery(None) is None


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 1, 8, 0),
        "2026-12-01T08:00:00",
        "2026-12-01",
        "next tuesday",
        1_800_000_000,
        dt.date(2026, 12, 1),
    ],
)
def test_check_start_delivery_refuses(value: Any) -> None:
    """Naive datetimes, strings without an offset and other types are refused."""
    with pytest.raises(SmsFlowValidationError) as info:
        check_start_delivery(value)
    assert (
        info.value.code,
        info.value.body["errors"][0]["field"],
    ) == ("INVALID_START_DELIVERY", "start_delivery_utc")


def test_invalid_is_api_shaped() -> None:
    """A pre-send validation error has the API's error-body shape and no status."""
    err = invalid("bad", "INVALID_CONTENT", "messages[0].content")
    assert err.body == {
        "errors": [{"code": "INVALID_CONTENT", "message": "bad", "field": "messages[0].content"}]
    }
    assert (err.status_code, err.code, err.retryable) == (None, "INVALID_CONTENT", False)
    assert isinstance(err, ValueError)
