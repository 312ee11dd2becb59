"""Property tests (hypothesis) of the public inputs and of the answer parsing.

* Any input to ``send_sms`` (sync and async), ``send_bulk`` and the destination helpers either
  produces requests that validate against ``spec/openapi.yaml`` or raises
  :class:`~smsflow.SmsFlowValidationError` before any I/O (not even a token request).
* Any answer (arbitrary bytes, arbitrary JSON, near-valid JSON, any status from 200 to 599,
  any ``Retry-After``) to any call ends in a typed result or a :class:`~smsflow.SmsFlowError`,
  never another exception; retry waits stay within ``[0, retry_max_retry_after]``.

The API is the sandbox, in-process (no network); every request is checked with the contract
adapter of ``tests/contract``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Final

import httpx
import pytest
import spec_facts
from contract.openapi_adapter import validate_exchange
from helpers import BALANCE_PATH, SEND_PATH, TOKEN_PATH, Endpoint
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from smsflow import (
    AsyncSmsFlowClient,
    AuthToken,
    Balance,
    Message,
    SendResult,
    SmsFlowClient,
    SmsFlowError,
    SmsFlowValidationError,
    destination_problem,
    normalize_destination,
    segments,
)
from smsflow.testing import Sandbox, SandboxReply

BASE_URL: Final = "https://portal.smsflow.co.za"
MAX_RETRY_AFTER: Final = 60.0

SETTINGS: Final = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


ENDPOINTS: Final[dict[str, Endpoint]] = {
    TOKEN_PATH: "token",
    SEND_PATH: "send",
    BALANCE_PATH: "balance",
}
FUZZED_ANSWERS: Final = 20  # more than the requests any one call makes to an endpoint


class SpecCheckingApi:
    """The sandbox, recording every request and validating it against the spec at once."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.sandbox = Sandbox("prop-client", "prop-secret", balance=1_000_000.0)
        self.transport = self.sandbox.transport(observer=self._check)

    def _check(self, request: httpx.Request, reply: SandboxReply) -> None:
        self.requests.append(request)
        validate_exchange(request, None)  # raises ContractViolationError: the test fails

    def sync_client(self, **options: Any) -> SmsFlowClient:
        return SmsFlowClient(
            "prop-client",
            "prop-secret",
            BASE_URL,
            transport=self.transport,
            sleep=lambda s: None,
            **options,
        )

    def async_client(self) -> AsyncSmsFlowClient:
        async def sleep(seconds: float) -> None:
            return None

        return AsyncSmsFlowClient(
            "prop-client",
            "prop-secret",
            BASE_URL,
            transport=self.transport,
            sleep=sleep,
        )


# -- strategies of user input ----------------------------------------------------------------

# Any str, lone surrogates included (hypothesis leaves them out unless asked).
any_text = st.text(st.characters(exclude_categories=()), max_size=30)
any_scalar = st.one_of(
    any_text, st.integers(), st.floats(), st.none(), st.booleans(), st.binary(max_size=8)
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` about 15 times in 16, else ``bad``: with seven arguments, about half of the
    examples pass validation and are sent."""
    return st.integers(0, 15).flatmap(lambda pick: good if pick else bad)


good_destinations = st.one_of(
    st.from_regex(r"27[678][0-9]{8}", fullmatch=True),
    st.from_regex(r"(\+27 ?|0027|0)\(?[678][0-9]\)?[ -]?[0-9]{3}[ -]?[0-9]{4}", fullmatch=True),
    st.from_regex(r"\+?[1-9][0-9]{7,14}", fullmatch=True),
)
destinations = mostly(
    good_destinations,
    st.one_of(any_text, st.text(alphabet="0123456789", min_size=60, max_size=70), any_scalar),
)
contents = mostly(
    st.text(min_size=1, max_size=200),
    st.one_of(any_text, st.text(alphabet="ab€😀", min_size=1595, max_size=1605), any_scalar),
)
message_dicts = mostly(
    st.fixed_dictionaries({"destination": destinations, "content": contents}),
    st.one_of(
        st.fixed_dictionaries(
            {"destination": destinations, "content": contents}, optional={"extra": any_scalar}
        ),
        st.fixed_dictionaries({}, optional={"destination": destinations, "content": contents}),
    ),
)
messages_items = mostly(
    st.one_of(message_dicts, st.builds(Message, destination=destinations, content=contents)),
    st.one_of(st.dictionaries(any_text, any_scalar, max_size=3), any_scalar),
)


def as_iterable(kind: str, items: list[Any]) -> Any:
    """The items as the kind of iterable a user might pass (or not an iterable at all)."""
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    if kind == "generator":
        return (item for item in items)
    if kind == "dict":
        return items[0] if items else {}
    return "27821234567"  # a str: not a collection of messages


message_collections = st.builds(
    as_iterable,
    mostly(st.sampled_from(["list", "tuple", "generator"]), st.sampled_from(["dict", "str"])),
    mostly(st.lists(messages_items, min_size=1, max_size=4), st.just([])),
)
campaigns = mostly(
    st.text(min_size=1, max_size=40),
    st.one_of(any_text, st.text(alphabet="x", min_size=250, max_size=260), any_scalar),
)
starts = mostly(
    st.one_of(
        st.none(),
        st.datetimes(timezones=st.timezones()),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    ),
    st.one_of(
        st.datetimes(),
        st.datetimes(
            min_value=dt.datetime(1, 1, 1),
            max_value=dt.datetime(1, 1, 2),
            timezones=st.timezones(),
        ),
        st.datetimes().map(lambda d: d.isoformat()),
        st.sampled_from(["2026-12-01", "tomorrow", "", "9999-12-31T23:59-05:00"]),
        any_scalar,
    ),
)
flags = mostly(st.booleans(), any_scalar)
# No timeout short enough to expire: a valid one under 5 s (any_scalar's floats give 0.03125)
# could run out while the in-process sandbox checks the request against the spec.
timeouts = mostly(
    st.none() | st.floats(min_value=5, max_value=60),
    any_scalar.filter(
        lambda v: not (isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < 5)
    ),
)


def call_outcome(api: SpecCheckingApi, call: Callable[[], Any]) -> Any:
    """Run ``call``: a validation error must come before any request; else the request is valid.

    Returns the result, or ``None`` after a validation error.
    """
    try:
        result = call()
    except SmsFlowValidationError as error:
        event(f"refused: {error.code}")
        assert (None, []) == (error.status_code, api.requests)  # noqa: PT017 - either may happen
        return None
    event("sent")
    paths = [r.url.path for r in api.requests]
    assert TOKEN_PATH == paths[0]
    return result


# -- send_sms ---------------------------------------------------------------------------------


@SETTINGS
@given(
    campaign=campaigns,
    messages=message_collections,
    start=starts,
    check_opt_outs=flags,
    retry=flags,
    timeout=timeouts,
    normalize=st.booleans(),
)
@example(
    campaign="c",
    messages=[{"destination": "27821234567", "content": "\ud800"}],
    start=None,
    check_opt_outs=True,
    retry=False,
    timeout=None,
    normalize=False,
)
@example(
    campaign="c",
    messages=[{"destination": "27821234567", "content": "x"}],
    start="0001-01-01T00:00:00+05:00",
    check_opt_outs=True,
    retry=False,
    timeout=None,
    normalize=False,
)
@example(
    campaign="c",
    messages=[{"destination": "27821234567", "content": "x"}] * 1001,
    start=None,
    check_opt_outs=True,
    retry=False,
    timeout=None,
    normalize=False,
)
def test_send_sms_input_is_sent_valid_or_refused_before_io(
    campaign: Any,
    messages: Any,
    start: Any,
    check_opt_outs: Any,
    retry: Any,
    timeout: Any,
    normalize: bool,
) -> None:
    """Any send_sms input gives one spec-valid send, or a validation error before any I/O."""
    api = SpecCheckingApi()
    with api.sync_client() as client:
        result = call_outcome(
            api,
            lambda: client.send_sms(
                campaign,
                messages,
                start,
                check_opt_outs,
                retry,
                timeout=timeout,
                normalize_destinations=normalize,
            ),
        )
    if result is not None:
        assert isinstance(result, SendResult)
        assert [TOKEN_PATH, SEND_PATH] == [r.url.path for r in api.requests]


@settings(max_examples=60, deadline=None)
@given(campaign=campaigns, messages=message_collections, start=starts, check_opt_outs=flags)
def test_async_send_sms_input_is_sent_valid_or_refused_before_io(
    campaign: Any, messages: Any, start: Any, check_opt_outs: Any
) -> None:
    """The async client validates the same way: a valid send, or refused before any I/O."""
    api = SpecCheckingApi()

    async def main() -> Any:
        async with api.async_client() as client:
            return await client.send_sms(campaign, messages, start, check_opt_outs)

    result = call_outcome(api, lambda: asyncio.run(main()))
    if result is not None:
        assert [TOKEN_PATH, SEND_PATH] == [r.url.path for r in api.requests]


# -- send_bulk --------------------------------------------------------------------------------

bulk_settings = st.fixed_dictionaries(
    {},
    optional={
        "batch_size": st.one_of(st.integers(-2, 1002), any_scalar),
        "concurrency": st.one_of(st.integers(-1, 101), any_scalar),
        "max_parts": st.one_of(st.none(), st.integers(-1, 12), any_scalar),
        "normalize_destinations": flags,
        "check_opt_outs": flags,
        "start_delivery_utc": starts,
        "retries": st.one_of(st.integers(-1, 101), any_scalar),
    },
)


@SETTINGS
@given(
    campaign=campaigns,
    items=st.lists(messages_items, max_size=12),
    options=bulk_settings,
)
def test_send_bulk_input_is_sent_valid_or_refused_before_io(
    campaign: Any, items: list[Any], options: dict[str, Any]
) -> None:
    """send_bulk: bad arguments raise before any I/O; each message is sent in a spec-valid
    request or rejected, and every input gets exactly one outcome."""
    api = SpecCheckingApi()
    with api.sync_client() as client:
        try:
            run = client.send_bulk(campaign, iter(items), **options)
            with run:
                outcomes = list(run)
        except SmsFlowValidationError as error:
            event(f"refused: {error.code}")
            assert (None, []) == (error.status_code, api.requests)  # noqa: PT017 - as above
            return
    event(f"ran: {sum(o.status == 'sent' for o in outcomes) > 0} sent")
    assert sorted(o.index for o in outcomes) == list(range(len(items)))
    sent = [json.loads(r.content)["messages"] for r in api.requests if r.url.path == SEND_PATH]
    sent_count = sum(len(batch) for batch in sent)
    assert sent_count == sum(1 for o in outcomes if o.status == "sent")
    assert all(o.status in ("sent", "rejected") for o in outcomes), outcomes


# -- helpers ----------------------------------------------------------------------------------


@SETTINGS
@given(value=st.one_of(destinations, any_text), country=st.sampled_from(["ZA", "GB", "US", "27"]))
def test_normalize_destination_gives_a_spec_destination_or_a_validation_error(
    value: Any, country: str
) -> None:
    """normalize_destination: 8-15 ASCII digits, or SmsFlowValidationError; problem agrees."""
    problem = destination_problem(value, default_country=country)
    try:
        number = normalize_destination(value, default_country=country)
    except SmsFlowValidationError as error:
        assert (error.code, problem) == ("INVALID_DESTINATION", error.message)  # noqa: PT017
        return
    assert problem is None
    assert number.isascii()
    assert number.isdigit()
    assert 8 <= len(number) <= 15
    assert number == normalize_destination("+" + number, default_country=country)


@SETTINGS
@given(text=any_text | st.text(min_size=150, max_size=400))
def test_segments_counts_any_text(text: str) -> None:
    """segments: any str gets consistent counts (characters, units within the parts)."""
    info = segments(text)
    assert len(text) == info.characters
    assert (info.parts == 0) == (text == "")
    assert info.units <= max(info.parts, 1) * info.per_part


# -- answers: arbitrary bytes and JSON --------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


def _maybe(valid: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(valid), json_values)


def near(example: Any) -> st.SearchStrategy[Any]:
    """Answers near ``example`` (a spec example): each value as given or any JSON value; an
    object whole, with keys left out, or any JSON value."""
    if isinstance(example, dict):
        parts = {key: near(value) for key, value in example.items()}
        return st.one_of(
            st.fixed_dictionaries(parts),
            st.fixed_dictionaries({}, optional=parts),
            json_values,
        )
    return _maybe(example)


# From the spec's examples: a field added to an answer is fuzzed with no edit here.
near_send = near(spec_facts.success_example("send_messages"))
near_token = near(spec_facts.success_example("get_token"))
near_balance = near(spec_facts.success_example("get_balance"))
near_error = st.fixed_dictionaries(
    {"statusCode": json_values, "errors": _maybe([{"code": "X", "message": "m"}])},
    optional={"code": json_values, "message": json_values},
)
bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.one_of(near_send, near_token, near_balance, near_error).map(
        lambda v: json.dumps(v).encode()
    ),
)
retry_afters = st.one_of(
    st.none(),
    st.from_regex(r"[0-9]{1,25}", fullmatch=True),
    st.sampled_from(
        ["0", "-1", "1.5", "²", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
)
statuses = st.one_of(
    st.sampled_from([200, 201, 204, 302, 400, 401, 402, 408, 429, 503, 520]), st.integers(200, 599)
)


def answer(status: int, body: bytes, retry_after: str | None) -> Callable[[], httpx.Response]:
    def build() -> httpx.Response:
        headers = [(b"Content-Type", b"application/json")]
        if retry_after is not None:  # raw bytes, as a server may send them
            headers.append((b"Retry-After", retry_after.encode("latin-1")))
        return httpx.Response(status, headers=headers, content=body)

    return build


class FuzzApi:
    """The sandbox, answering the fuzzed endpoint with the fuzzed answer every time (a canned
    reply); the others as the spec says. A token the fuzzed answer hands out is one it knows."""

    def __init__(self, endpoint: str, reply: Callable[[], httpx.Response]) -> None:
        self.endpoint = endpoint
        response = reply()
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in response.headers.raw
            if name.lower() != b"content-length"  # the sandbox sends the true length
        }
        self.sandbox = Sandbox("prop-client", "prop-secret")
        self.sandbox.reply_next(
            FUZZED_ANSWERS,
            endpoint=ENDPOINTS[endpoint],
            status=response.status_code,
            body=response.content,
            headers=headers,
        )
        try:
            data = json.loads(response.content)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("token"), str):
            self.sandbox.issue_token(data["token"])
        self.transport = self.sandbox.transport()


OPERATIONS: Final[dict[str, tuple[str, Callable[[SmsFlowClient], Any], type]]] = {
    "authenticate": (TOKEN_PATH, lambda c: c.authenticate(), AuthToken),
    "token before get_balance": (TOKEN_PATH, lambda c: c.get_balance(), Balance),
    "get_balance": (BALANCE_PATH, lambda c: c.get_balance(), Balance),
    "send_sms": (
        SEND_PATH,
        lambda c: c.send_sms("c", [{"destination": "27821234567", "content": "x"}], retry=True),
        SendResult,
    ),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@SETTINGS
@given(status=statuses, body=bodies, retry_after=retry_afters, retries=st.sampled_from([0, 2]))
def test_any_answer_ends_in_a_typed_result_or_a_typed_error(
    operation: str, status: int, body: bytes, retry_after: str | None, retries: int
) -> None:
    """Whatever the API answers, a call returns its typed result or raises an SmsFlowError,
    and any retry wait is within [0, retry_max_retry_after] seconds."""
    path, call, result_type = OPERATIONS[operation]
    api = FuzzApi(path, answer(status, body, retry_after))
    sleeps: list[float] = []
    with SmsFlowClient(
        "prop-client",
        "prop-secret",
        BASE_URL,
        retry_retries=retries,
        transport=api.transport,
        sleep=sleeps.append,
    ) as client:
        try:
            result = call(client)
        except SmsFlowError as error:
            str(error), repr(error)  # both render without raising
        else:
            assert isinstance(result, result_type)
    assert all(0.0 <= s <= MAX_RETRY_AFTER for s in sleeps), sleeps
