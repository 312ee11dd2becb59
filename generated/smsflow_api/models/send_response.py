from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.cost_breakdown_item import CostBreakdownItem
    from ..models.error_detail import ErrorDetail


T = TypeVar("T", bound="SendResponse")


@_attrs_define
class SendResponse:
    """Tolerant reader: only `eventId` is required (it proves the send was accepted); every
    other field may be missing, and unknown fields are kept.

        Attributes:
            event_id (int): Identifies the send; store it against your own records.
            cost (float | Unset): Credits charged for this send.
            remaining_balance (float | Unset): Credits left after it.
            sample (None | str | Unset): The first message's text.
            messages (int | Unset): Messages accepted.
            parts (int | Unset): SMS parts (segments) billed.
            cost_breakdown (list[CostBreakdownItem] | Unset):
            error_report (list[ErrorDetail] | Unset): Per-message problems, e.g. `OPTED_OUT` recipients that were skipped.
    """

    event_id: int
    cost: float | Unset = UNSET
    remaining_balance: float | Unset = UNSET
    sample: None | str | Unset = UNSET
    messages: int | Unset = UNSET
    parts: int | Unset = UNSET
    cost_breakdown: list[CostBreakdownItem] | Unset = UNSET
    error_report: list[ErrorDetail] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_id = self.event_id

        cost = self.cost

        remaining_balance = self.remaining_balance

        sample: None | str | Unset
        if isinstance(self.sample, Unset):
            sample = UNSET
        else:
            sample = self.sample

        messages = self.messages

        parts = self.parts

        cost_breakdown: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.cost_breakdown, Unset):
            cost_breakdown = []
            for cost_breakdown_item_data in self.cost_breakdown:
                cost_breakdown_item = cost_breakdown_item_data.to_dict()
                cost_breakdown.append(cost_breakdown_item)

        error_report: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.error_report, Unset):
            error_report = []
            for error_report_item_data in self.error_report:
                error_report_item = error_report_item_data.to_dict()
                error_report.append(error_report_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "eventId": event_id,
            }
        )
        if cost is not UNSET:
            field_dict["cost"] = cost
        if remaining_balance is not UNSET:
            field_dict["remainingBalance"] = remaining_balance
        if sample is not UNSET:
            field_dict["sample"] = sample
        if messages is not UNSET:
            field_dict["messages"] = messages
        if parts is not UNSET:
            field_dict["parts"] = parts
        if cost_breakdown is not UNSET:
            field_dict["costBreakdown"] = cost_breakdown
        if error_report is not UNSET:
            field_dict["errorReport"] = error_report

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.cost_breakdown_item import CostBreakdownItem
        from ..models.error_detail import ErrorDetail

        d = dict(src_dict)
        event_id = d.pop("eventId")

        cost = d.pop("cost", UNSET)

        remaining_balance = d.pop("remainingBalance", UNSET)

        def _parse_sample(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        sample = _parse_sample(d.pop("sample", UNSET))

        messages = d.pop("messages", UNSET)

        parts = d.pop("parts", UNSET)

        _cost_breakdown = d.pop("costBreakdown", UNSET)
        cost_breakdown: list[CostBreakdownItem] | Unset = UNSET
        if _cost_breakdown is not UNSET:
            cost_breakdown = []
            for cost_breakdown_item_data in _cost_breakdown:
                cost_breakdown_item = CostBreakdownItem.from_dict(cost_breakdown_item_data)

                cost_breakdown.append(cost_breakdown_item)

        _error_report = d.pop("errorReport", UNSET)
        error_report: list[ErrorDetail] | Unset = UNSET
        if _error_report is not UNSET:
            error_report = []
            for error_report_item_data in _error_report:
                error_report_item = ErrorDetail.from_dict(error_report_item_data)

                error_report.append(error_report_item)

        send_response = cls(
            event_id=event_id,
            cost=cost,
            remaining_balance=remaining_balance,
            sample=sample,
            messages=messages,
            parts=parts,
            cost_breakdown=cost_breakdown,
            error_report=error_report,
        )

        send_response.additional_properties = d
        return send_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
