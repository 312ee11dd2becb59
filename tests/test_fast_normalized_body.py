"""The column-wise fast path of a send body normalises destinations exactly as the
message-by-message path does (the one phone-number policy), for any list of messages."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from smsflow import SmsFlowValidationError
from smsflow._core import Core

NUMBER_FORMS = st.one_of(
    st.from_regex(r"\A27[678]\d{8}\Z"),
    st.from_regex(r"\A0[678]\d{8}\Z"),
    st.from_regex(r"\A\+27 ?[678]\d \d{3} \d{4}\Z"),
    st.from_regex(r"\A0027[678]\d{8}\Z"),
    st.from_regex(r"\A[1-9]\d{7,14}\Z"),
    st.from_regex(r"\A\d{1,17}\Z"),
    st.from_regex(r"\A[678]\d{8}\Z"),  # a ZA mobile number without its 0
    st.from_regex(r"\A27\d{6,13}\Z"),
    st.from_regex(r"\A2700000\d{4}\Z"),  # the test range
)


def _body(core: Core, messages: Any, country: str | None) -> bytes | str:
    try:
        body, destinations = core.send_request(
            campaign_name="Alerts",
            messages=messages,
            start_delivery_utc=None,
            check_opt_outs=True,
            normalize_destinations=True,
            default_country=country,
        )
    except SmsFlowValidationError as error:
        return f"{error.code} {error.field_errors} {error.body}"
    return body + repr(destinations).encode()


@settings(max_examples=600, deadline=None)
@given(
    st.lists(NUMBER_FORMS, min_size=3, max_size=12),
    st.sampled_from(["ZA", "27", "US", None]),
)
def test_fast_path_equals_the_message_by_message_path(
    destinations: list[str], country: str | None
) -> None:
    core = Core.__new__(Core)  # send_request reads no state of the core
    messages = [{"content": f"Hi {i}", "destination": d} for i, d in enumerate(destinations)]
    fast = _body(core, messages, country)  # a list of plain dicts: the column-wise path
    slow = _body(core, iter(messages), country)  # an iterator: message by message
    assert slow == fast
