from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.message import Message
    from ..models.send_options import SendOptions


T = TypeVar("T", bound="SendMessagesRequest")


@_attrs_define
class SendMessagesRequest:
    """
    Attributes:
        send_options (SendOptions):
        messages (list[Message]):
    """

    send_options: SendOptions
    messages: list[Message]

    def to_dict(self) -> dict[str, Any]:
        send_options = self.send_options.to_dict()

        messages = []
        for messages_item_data in self.messages:
            messages_item = messages_item_data.to_dict()
            messages.append(messages_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "SendOptions": send_options,
                "messages": messages,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.message import Message
        from ..models.send_options import SendOptions

        d = dict(src_dict)
        send_options = SendOptions.from_dict(d.pop("SendOptions"))

        messages = []
        _messages = d.pop("messages")
        for messages_item_data in _messages:
            messages_item = Message.from_dict(messages_item_data)

            messages.append(messages_item)

        send_messages_request = cls(
            send_options=send_options,
            messages=messages,
        )

        return send_messages_request
