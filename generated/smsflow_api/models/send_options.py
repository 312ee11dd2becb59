from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="SendOptions")


@_attrs_define
class SendOptions:
    """
    Attributes:
        start_delivery_utc (None | str): null to send now, or the UTC time to schedule the send for, as
            `YYYY-MM-DDTHH:MM:SSZ`. Decision: always with `Z`, never an offset: ASP.NET binds
            a value with an offset (even `+00:00`) as a local time of the server's time zone.
            Decision: years 1000 to 9999.
             Example: 2030-01-01T08:00:00Z.
        campaign_name (str): A label for the send. Decision: 1 to 255 characters.
        check_opt_outs (bool): Skip recipients who opted out (the SDKs send `true` unless told otherwise).
    """

    start_delivery_utc: None | str
    campaign_name: str
    check_opt_outs: bool

    def to_dict(self) -> dict[str, Any]:
        start_delivery_utc: None | str
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

        def _parse_start_delivery_utc(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        start_delivery_utc = _parse_start_delivery_utc(d.pop("startDeliveryUtc"))

        campaign_name = d.pop("campaignName")

        check_opt_outs = d.pop("checkOptOuts")

        send_options = cls(
            start_delivery_utc=start_delivery_utc,
            campaign_name=campaign_name,
            check_opt_outs=check_opt_outs,
        )

        return send_options
