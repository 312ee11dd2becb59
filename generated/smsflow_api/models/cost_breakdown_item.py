from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CostBreakdownItem")


@_attrs_define
class CostBreakdownItem:
    """
    Attributes:
        quantity (int): SMS parts billed on this network.
        cost (float): Credits charged for them.
        network (str): The mobile network, e.g. `Vodacom`.
    """

    quantity: int
    cost: float
    network: str

    def to_dict(self) -> dict[str, Any]:
        quantity = self.quantity

        cost = self.cost

        network = self.network

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "quantity": quantity,
                "cost": cost,
                "network": network,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        quantity = d.pop("quantity")

        cost = d.pop("cost")

        network = d.pop("network")

        cost_breakdown_item = cls(
            quantity=quantity,
            cost=cost,
            network=network,
        )

        return cost_breakdown_item
