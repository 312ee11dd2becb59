from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Message")


@_attrs_define
class Message:
    """
    Attributes:
        content (str): The message text, 1 to 1600 characters.
        destination (str): The MSISDN in international form without `+`, e.g. `27821234567`.
            Decision: 8 to 15 ASCII digits (E.164 without `+`); anything else is refused
            with 400 `INVALID_DESTINATION` (the vendor worker's own cap is 64 characters).
    """

    content: str
    destination: str

    def to_dict(self) -> dict[str, Any]:
        content = self.content

        destination = self.destination

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "content": content,
                "destination": destination,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        content = d.pop("content")

        destination = d.pop("destination")

        message = cls(
            content=content,
            destination=destination,
        )

        return message
