from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_detail import ErrorDetail
    from ..models.send_response import SendResponse


T = TypeVar("T", bound="SendMessagesResponse")


@_attrs_define
class SendMessagesResponse:
    """
    Attributes:
        status_code (int):
        send_response (SendResponse):
        errors (list[ErrorDetail] | None | Unset):
    """

    status_code: int
    send_response: SendResponse
    errors: list[ErrorDetail] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        status_code = self.status_code

        send_response = self.send_response.to_dict()

        errors: list[dict[str, Any]] | None | Unset
        if isinstance(self.errors, Unset):
            errors = UNSET
        elif isinstance(self.errors, list):
            errors = []
            for errors_type_0_item_data in self.errors:
                errors_type_0_item = errors_type_0_item_data.to_dict()
                errors.append(errors_type_0_item)

        else:
            errors = self.errors

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "statusCode": status_code,
                "sendResponse": send_response,
            }
        )
        if errors is not UNSET:
            field_dict["errors"] = errors

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.error_detail import ErrorDetail
        from ..models.send_response import SendResponse

        d = dict(src_dict)
        status_code = d.pop("statusCode")

        send_response = SendResponse.from_dict(d.pop("sendResponse"))

        def _parse_errors(data: object) -> list[ErrorDetail] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                errors_type_0 = []
                _errors_type_0 = data
                for errors_type_0_item_data in _errors_type_0:
                    errors_type_0_item = ErrorDetail.from_dict(errors_type_0_item_data)

                    errors_type_0.append(errors_type_0_item)

                return errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ErrorDetail] | None | Unset, data)

        errors = _parse_errors(d.pop("errors", UNSET))

        send_messages_response = cls(
            status_code=status_code,
            send_response=send_response,
            errors=errors,
        )

        return send_messages_response
