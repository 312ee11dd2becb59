from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="BalanceResponse")


@_attrs_define
class BalanceResponse:
    """
    Attributes:
        balance (float): Credits available.
    """

    balance: float

    def to_dict(self) -> dict[str, Any]:
        balance = self.balance

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "balance": balance,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        balance = d.pop("balance")

        balance_response = cls(
            balance=balance,
        )

        return balance_response
