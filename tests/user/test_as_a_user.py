"""A user's own test suite, as a user writes it: only the `smsflow_*` fixtures that installing
smsflow provides, and the public API. The "application" is a tiny order notifier that must
cope with SMSFlow outages and lost answers without texting a customer twice."""

from __future__ import annotations

from dataclasses import dataclass, field

import smsflow


@dataclass
class Notifier:
    """The user's code: texts customers, remembers what happened to each order."""

    client: smsflow.SmsFlowClient
    event_ids: dict[int, int] = field(default_factory=dict)
    retry_later: list[int] = field(default_factory=list)
    check_manually: list[int] = field(default_factory=list)

    def order_shipped(self, order: int, phone: str) -> None:
        try:
            result = self.client.send_sms(
                campaign_name="Order dispatch alerts",
                messages=[{"destination": phone, "content": f"Order {order} has shipped."}],
            )
        except smsflow.SmsFlowDeliveryUnknownError:
            self.check_manually.append(order)  # may have gone out: never resend blindly
        except smsflow.SmsFlowServerError:
            self.retry_later.append(order)  # refused: safe to send again later
        else:
            self.event_ids[order] = result.event_id


def test_a_send_is_recorded_with_its_event_id(smsflow_client, smsflow_sandbox) -> None:
    """A shipped order gets one SMS and its event id is stored."""
    notifier = Notifier(smsflow_client)
    notifier.order_shipped(1001, "27821234567")
    assert {1001: smsflow_sandbox.events[-1].event_id} == notifier.event_ids
    assert ["Order 1001 has shipped."] == [m.content for m in smsflow_sandbox.messages]


def test_the_balance_goes_down_by_the_cost(smsflow_client) -> None:
    """Each one-part SMS costs the sandbox's 0.25 credits."""
    before = smsflow_client.get_balance().balance
    Notifier(smsflow_client).order_shipped(1002, "27821234567")
    assert before - 0.25 == smsflow_client.get_balance()["balance"]


def test_an_outage_queues_the_order_for_later(smsflow_client, smsflow_sandbox) -> None:
    """A 503 from SMSFlow sends nothing; the order is queued to retry, not lost."""
    smsflow_sandbox.fail_next(1, endpoint="send", status=503)
    notifier = Notifier(smsflow_client)
    notifier.order_shipped(1003, "27821234567")
    assert ([1003], {}, 0) == (
        notifier.retry_later,
        notifier.event_ids,
        smsflow_sandbox.accepted_count,
    )


def test_a_lost_answer_is_flagged_not_resent(smsflow_client, smsflow_sandbox) -> None:
    """When SMSFlow accepts the SMS but the answer is lost, the order is flagged for a
    manual check, and the SMS went out exactly once."""
    smsflow_sandbox.lose_response_next(1, endpoint="send")
    notifier = Notifier(smsflow_client)
    notifier.order_shipped(1004, "27821234567")
    assert ([1004], [], 1) == (
        notifier.check_manually,
        notifier.retry_later,
        smsflow_sandbox.accepted_count,
    )
