from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.error_detail import ErrorDetail


T = TypeVar("T", bound="ErrorResponse")


@_attrs_define
class ErrorResponse:
    """The one error body of every error status.

    Attributes:
        status_code (int | Unset):
        errors (list[ErrorDetail] | Unset):
        code (str | Unset): Some endpoints put the code here instead of in `errors[0].code`.
        message (str | Unset):
    """

    status_code: int | Unset = UNSET
    errors: list[ErrorDetail] | Unset = UNSET
    code: str | Unset = UNSET
    message: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        status_code = self.status_code

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        code = self.code

        message = self.message

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if status_code is not UNSET:
            field_dict["statusCode"] = status_code
        if errors is not UNSET:
            field_dict["errors"] = errors
        if code is not UNSET:
            field_dict["code"] = code
        if message is not UNSET:
            field_dict["message"] = message

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.error_detail import ErrorDetail

        d = dict(src_dict)
        status_code = d.pop("statusCode", UNSET)

        _errors = d.pop("errors", UNSET)
        errors: list[ErrorDetail] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = ErrorDetail.from_dict(errors_item_data)

                errors.append(errors_item)

        code = d.pop("code", UNSET)

        message = d.pop("message", UNSET)

        error_response = cls(
            status_code=status_code,
            errors=errors,
            code=code,
            message=message,
        )

        return error_response
