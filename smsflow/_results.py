"""Typed results that are also the vendor's plain dicts.

``send_sms()`` returns a :class:`SendResult` and ``get_balance()`` a :class:`Balance`. Both are
``dict`` subclasses holding the JSON exactly as the API sent it, so smsflow 0.2.0 code keeps
working (``response["sendResponse"]["eventId"]``, ``balance["balance"]``, ``json.dumps(...)``),
and both carry typed, read-only attributes checked when the answer arrives
(``response.event_id``, ``response.send_response.cost_breakdown[0].network``,
``balance.balance``). These are this SDK's own types: a generator upgrade cannot change them.

Money is in SMSFlow credits (floats, as the API sends them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._tokens import Token

__all__ = ["AuthToken", "Balance", "CostBreakdown", "ErrorDetail", "SendResponse", "SendResult"]


class ShapeError(Exception):
    """A field of a 2xx answer is missing or of the wrong type (becomes an unexpected response)."""


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise ShapeError(f"{where}.{key} is missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ShapeError(f"{where}.{key} is {type(value).__name__}, expected {kind}")
    return value


def _num(data: Mapping[str, Any], key: str, where: str) -> float:
    return float(_get(data, key, (int, float), where))


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where} is {type(value).__name__}, expected an object")
    return value


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One problem reported by the API (an item of ``errors`` or ``errorReport``)."""

    code: str
    message: str
    field: str | None = None

    @classmethod
    def from_json(cls, value: Any, where: str) -> ErrorDetail:
        """Parse one error item. Raises ShapeError."""
        data = _obj(value, where)
        fld = data.get("field")
        return cls(
            code=_get(data, "code", str, where),
            message=str(data.get("message", "")),
            field=fld if isinstance(fld, str) else None,
        )


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Cost of a send on one mobile network: ``quantity`` SMS parts for ``cost`` credits."""

    quantity: int
    cost: float
    network: str

    @classmethod
    def from_json(cls, value: Any, where: str) -> CostBreakdown:
        """Parse one cost-breakdown item. Raises ShapeError."""
        data = _obj(value, where)
        return cls(
            quantity=_get(data, "quantity", int, where),
            cost=_num(data, "cost", where),
            network=str(data.get("network", "")),
        )


def _items(data: Mapping[str, Any], key: str, where: str, required: bool) -> list[Any]:
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ShapeError(f"{where}.{key} is {type(value).__name__}, expected a list")
    return value


class SendResponse(dict[str, Any]):
    """The ``sendResponse`` object of a send: what was accepted and what it cost.

    Attributes:
        event_id: Identifies the send; store it against your own records.
        cost: Credits charged for this send.
        remaining_balance: Credits left after it.
        messages: Messages accepted.
        parts: SMS parts billed (a long message is several parts).
        sample: The first message's text, if the API returned it.
        cost_breakdown: Parts and cost per mobile network.
        error_report: Per-message problems (e.g. ``OPTED_OUT`` recipients that were skipped).
    """

    __slots__ = (
        "cost",
        "cost_breakdown",
        "error_report",
        "event_id",
        "messages",
        "parts",
        "remaining_balance",
        "sample",
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        where = "sendResponse"
        self.event_id: int = _get(data, "eventId", int, where)
        self.cost: float = _num(data, "cost", where)
        self.remaining_balance: float = _num(data, "remainingBalance", where)
        self.messages: int = _get(data, "messages", int, where)
        self.parts: int = _get(data, "parts", int, where)
        sample = data.get("sample")
        self.sample: str | None = sample if isinstance(sample, str) else None
        self.cost_breakdown: tuple[CostBreakdown, ...] = tuple(
            CostBreakdown.from_json(v, f"{where}.costBreakdown[{i}]")
            for i, v in enumerate(_items(data, "costBreakdown", where, required=False))
        )
        self.error_report: tuple[ErrorDetail, ...] = tuple(
            ErrorDetail.from_json(v, f"{where}.errorReport[{i}]")
            for i, v in enumerate(_items(data, "errorReport", where, required=False))
        )


class SendResult(dict[str, Any]):
    """The answer to a send: ``{"statusCode", "sendResponse", "errors"}`` as sent by the API.

    Attributes:
        status_code: The ``statusCode`` the API put in the body (normally 200).
        send_response: The typed ``sendResponse`` (also ``result["sendResponse"]``).
        errors: Problems listed in the top-level ``errors`` (usually empty).
        event_id: Shortcut for ``send_response.event_id``.
        destinations: The destination of each message as it was sent (after normalising:
            ``"082 123 4567"`` was sent as ``"27821234567"``), in input order.
    """

    __slots__ = ("destinations", "errors", "send_response", "status_code")

    def __init__(self, data: Any, destinations: tuple[str, ...] = ()) -> None:
        self.destinations: tuple[str, ...] = destinations
        data = _obj(data, "body")
        super().__init__(data)
        self.send_response = SendResponse(_obj(data.get("sendResponse"), "sendResponse"))
        self["sendResponse"] = self.send_response
        code = data.get("statusCode", 200)
        self.status_code: int = (
            code if isinstance(code, int) and not isinstance(code, bool) else 200
        )
        self.errors: tuple[ErrorDetail, ...] = tuple(
            ErrorDetail.from_json(v, f"errors[{i}]")
            for i, v in enumerate(_items(data, "errors", "body", required=False))
        )

    @property
    def event_id(self) -> int:
        """The send's event id (``sendResponse.eventId``)."""
        return self.send_response.event_id


class Balance(dict[str, Any]):
    """The account's credit balance: ``balance.balance`` (credits) or ``balance["balance"]``."""

    __slots__ = ("balance",)

    def __init__(self, data: Any) -> None:
        data = _obj(data, "body")
        super().__init__(data)
        self.balance: float = _num(data, "balance", "body")


@dataclass(frozen=True, slots=True)
class AuthToken(Mapping[str, Any]):
    """The result of ``authenticate()``. ``repr`` hides the token.

    ``token["token"]``, ``token["expiresInMinutes"]`` and ``token["schema"]`` read like the
    API's JSON; ``expires_at`` is an aware UTC datetime.
    """

    _token: Token = field(repr=False)

    @property
    def token(self) -> str:
        """The bearer token itself (a secret: do not log it)."""
        return self._token.value

    @property
    def expires_in_minutes(self) -> float:
        """Minutes the token was issued for."""
        return (self._token.expires_at - self._token.issued_at) / 60.0

    @property
    def expires_at(self) -> dt.datetime:
        """When the token expires (aware, UTC)."""
        return dt.datetime.fromtimestamp(self._token.expires_at, tz=dt.UTC)

    def _as_dict(self) -> dict[str, Any]:
        minutes = self.expires_in_minutes
        return {
            "token": self.token,
            "expiresInMinutes": int(minutes) if minutes.is_integer() else minutes,
            "schema": "Bearer",
        }

    def __getitem__(self, key: str) -> Any:
        return self._as_dict()[key]

    def __iter__(self) -> Any:
        return iter(("token", "expiresInMinutes", "schema"))

    def __len__(self) -> int:
        return 3

    def __repr__(self) -> str:
        return f"AuthToken(token=<hidden>, expires_at={self.expires_at.isoformat()})"
