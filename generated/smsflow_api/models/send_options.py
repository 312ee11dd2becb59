from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="SendOptions")


@_attrs_define
class SendOptions:
    """
    Attributes:
        start_delivery_utc (datetime.datetime | None): null to send now, or the UTC time (ISO 8601) to schedule the send
            for.
        campaign_name (str): A label for the send. Decision: 1 to 255 characters.
        check_opt_outs (bool): Skip recipients who opted out. Default: True.
    """

    start_delivery_utc: datetime.datetime | None
    campaign_name: str
    check_opt_outs: bool = True

    def to_dict(self) -> dict[str, Any]:
        start_delivery_utc: None | str
        if isinstance(self.start_delivery_utc, datetime.datetime):
            start_delivery_utc = self.start_delivery_utc.isoformat()
        else:
            start_delivery_utc = self.start_delivery_utc

        campaign_name = self.campaign_name

        check_opt_outs = self.check_opt_outs

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "startDeliveryUtc": start_delivery_utc,
                "campaignName": campaign_name,
                "checkOptOuts": check_opt_outs,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_start_delivery_utc(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                start_delivery_utc_type_0 = datetime.datetime.fromisoformat(data)

                return start_delivery_utc_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        start_delivery_utc = _parse_start_delivery_utc(d.pop("startDeliveryUtc"))

        campaign_name = d.pop("campaignName")

        check_opt_outs = d.pop("checkOptOuts")

        send_options = cls(
            start_delivery_utc=start_delivery_utc,
            campaign_name=campaign_name,
            check_opt_outs=check_opt_outs,
        )

        return send_options
