"""Scheduled times as ASP.NET Core binds them: a ``startDeliveryUtc`` with an offset is read
as the server's local time and then taken as UTC, so it goes out late (or early); ``Z`` is
scheduled as written. The clients always write ``Z``, so their scheduled sends go out on time
whatever offset the caller's datetime has."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from helpers import Clock

from smsflow.testing import Sandbox

from .support import send, send_body

SAST = timezone(timedelta(hours=2))
MESSAGE = {"destination": "27821234567", "content": "Your order ships tomorrow."}


@pytest.mark.invalid_requests  # an offset is off the spec's pattern: what the API still binds
def test_an_offset_is_read_as_the_servers_local_time() -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock)  # the API's zone: South Africa, +02:00
    year = datetime.fromtimestamp(clock.now, UTC).year + 1

    assert send(sandbox, send_body(start=f"{year}-01-01T08:00:00+00:00")).status == 200
    assert send(sandbox, send_body(start=f"{year}-01-01T08:00:00Z")).status == 200

    late, on_time = (event.scheduled_for for event in sandbox.events)
    assert on_time == datetime(year, 1, 1, 8, tzinfo=UTC)
    assert late == datetime(year, 1, 1, 10, tzinfo=UTC)  # two hours late, as ASP.NET does


@pytest.mark.invalid_requests  # an offset is off the spec's pattern
def test_the_servers_zone_is_a_setting() -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock, server_timezone=UTC)
    year = datetime.fromtimestamp(clock.now, UTC).year + 1

    assert send(sandbox, send_body(start=f"{year}-01-01T10:00:00+02:00")).status == 200

    assert sandbox.events[0].scheduled_for == datetime(year, 1, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("zone", [UTC, SAST, timezone(timedelta(hours=-5))])
def test_the_clients_scheduled_sends_go_out_at_the_instant_asked(
    zone: timezone, flavour: str
) -> None:
    clock = Clock()
    sandbox = Sandbox(clock=clock)
    when = datetime(datetime.fromtimestamp(clock.now, UTC).year + 1, 3, 1, 8, tzinfo=zone)

    if flavour == "sync":
        with sandbox.client() as client:
            client.send_sms("Reminders", [MESSAGE], start_delivery_utc=when)
    else:

        async def main() -> None:
            async with sandbox.async_client() as client:
                await client.send_sms("Reminders", [MESSAGE], start_delivery_utc=when)

        asyncio.run(main())

    assert sandbox.events[0].scheduled_for == when.astimezone(UTC)
