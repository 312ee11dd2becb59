"""The bulk run's shared gate: a pause every batch obeys, and a messages-per-second ceiling."""

from __future__ import annotations

import math

from helpers import Clock

from smsflow._rate import RateGate


def test_no_ceiling_and_no_pause_means_no_wait() -> None:
    """Without a ceiling or a pause, every batch may go at once."""
    gate = RateGate(clock=Clock())
    assert [gate.reserve(500) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert gate.pause_left() == 0.0


def test_a_pause_holds_every_batch_back_until_it_ends() -> None:
    """After pause(7), every reservation waits out the rest of the 7 seconds."""
    clock = Clock()
    gate = RateGate(clock=clock)
    gate.pause(7.0)
    assert gate.reserve(10) == 7.0
    clock.advance(3.0)
    assert gate.reserve(10) == 4.0
    assert gate.pause_left() == 4.0
    clock.advance(4.0)
    assert gate.reserve(10) == 0.0


def test_a_shorter_pause_never_cuts_a_longer_one_short() -> None:
    """Retry-After 2 arriving during a 10 s pause leaves the 10 s pause in force."""
    clock = Clock()
    gate = RateGate(clock=clock)
    gate.pause(10.0)
    clock.advance(1.0)
    gate.pause(2.0)
    assert gate.pause_left() == 9.0
    gate.pause(20.0)
    assert gate.pause_left() == 20.0


def test_ceiling_spaces_batches_by_their_message_count() -> None:
    """At 100 messages/s, batches of 50 are reserved 0.5 s apart."""
    gate = RateGate(100, clock=Clock())
    assert [gate.reserve(50) for _ in range(4)] == [0.0, 0.5, 1.0, 1.5]


def test_ceiling_holds_the_average_rate_over_a_run() -> None:
    """Sending 10,000 messages at 1,000/s (waiting as told) takes 9.5 s of waits."""
    clock = Clock()
    gate = RateGate(1000, clock=clock)
    start = clock()
    for _ in range(20):
        clock.advance(gate.reserve(500))
    assert math.isclose(9.5, clock() - start)


def test_after_a_pause_batches_restart_one_slot_apart() -> None:
    """With a ceiling, batches resume after a pause spaced by the rate, not all at once."""
    gate = RateGate(100, clock=Clock())
    gate.pause(5.0)
    assert [gate.reserve(100) for _ in range(3)] == [5.0, 6.0, 7.0]
