from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CostBreakdownItem")


@_attrs_define
class CostBreakdownItem:
    """Tolerant reader: every field may be missing.

    Attributes:
        quantity (int | Unset): SMS parts billed on this network.
        cost (float | Unset): Credits charged for them.
        network (str | Unset): The mobile network, e.g. `Vodacom`.
    """

    quantity: int | Unset = UNSET
    cost: float | Unset = UNSET
    network: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        quantity = self.quantity

        cost = self.cost

        network = self.network

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if quantity is not UNSET:
            field_dict["quantity"] = quantity
        if cost is not UNSET:
            field_dict["cost"] = cost
        if network is not UNSET:
            field_dict["network"] = network

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        quantity = d.pop("quantity", UNSET)

        cost = d.pop("cost", UNSET)

        network = d.pop("network", UNSET)

        cost_breakdown_item = cls(
            quantity=quantity,
            cost=cost,
            network=network,
        )

        cost_breakdown_item.additional_properties = d
        return cost_breakdown_item

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
