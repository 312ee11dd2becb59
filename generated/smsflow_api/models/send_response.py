from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.cost_breakdown_item import CostBreakdownItem
    from ..models.error_detail import ErrorDetail


T = TypeVar("T", bound="SendResponse")


@_attrs_define
class SendResponse:
    """
    Attributes:
        cost (float): Credits charged for this send.
        remaining_balance (float): Credits left after it.
        event_id (int): Identifies the send; store it against your own records.
        messages (int): Messages accepted.
        parts (int): SMS parts (segments) billed.
        cost_breakdown (list[CostBreakdownItem]):
        error_report (list[ErrorDetail]): Per-message problems, e.g. `OPTED_OUT` recipients that were skipped.
        sample (None | str | Unset): The first message's text.
    """

    cost: float
    remaining_balance: float
    event_id: int
    messages: int
    parts: int
    cost_breakdown: list[CostBreakdownItem]
    error_report: list[ErrorDetail]
    sample: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cost = self.cost

        remaining_balance = self.remaining_balance

        event_id = self.event_id

        messages = self.messages

        parts = self.parts

        cost_breakdown = []
        for cost_breakdown_item_data in self.cost_breakdown:
            cost_breakdown_item = cost_breakdown_item_data.to_dict()
            cost_breakdown.append(cost_breakdown_item)

        error_report = []
        for error_report_item_data in self.error_report:
            error_report_item = error_report_item_data.to_dict()
            error_report.append(error_report_item)

        sample: None | str | Unset
        if isinstance(self.sample, Unset):
            sample = UNSET
        else:
            sample = self.sample

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "cost": cost,
                "remainingBalance": remaining_balance,
                "eventId": event_id,
                "messages": messages,
                "parts": parts,
                "costBreakdown": cost_breakdown,
                "errorReport": error_report,
            }
        )
        if sample is not UNSET:
            field_dict["sample"] = sample

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.cost_breakdown_item import CostBreakdownItem
        from ..models.error_detail import ErrorDetail

        d = dict(src_dict)
        cost = d.pop("cost")

        remaining_balance = d.pop("remainingBalance")

        event_id = d.pop("eventId")

        messages = d.pop("messages")

        parts = d.pop("parts")

        cost_breakdown = []
        _cost_breakdown = d.pop("costBreakdown")
        for cost_breakdown_item_data in _cost_breakdown:
            cost_breakdown_item = CostBreakdownItem.from_dict(cost_breakdown_item_data)

            cost_breakdown.append(cost_breakdown_item)

        error_report = []
        _error_report = d.pop("errorReport")
        for error_report_item_data in _error_report:
            error_report_item = ErrorDetail.from_dict(error_report_item_data)

            error_report.append(error_report_item)

        def _parse_sample(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        send_response = cls(
            cost=cost,
            remaining_balance=remaining_balance,
            event_id=event_id,
            messages=messages,
            parts=parts,
            cost_breakdown=cost_breakdown,
            error_report=error_report,
            sample=sample,
        )

        return send_response
