"""Typed results that are also the vendor's plain dicts, read through the generated models.

``send_sms()`` returns a :class:`SendResult` and ``get_balance()`` a :class:`Balance`. Both are
``dict`` subclasses holding the JSON exactly as the API sent it (unknown keys included), so
smsflow 0.2.0 code keeps working (``response["sendResponse"]["eventId"]``,
``balance["balance"]``, ``json.dumps(...)``). Their typed side is the generated model of the
answer's schema (:attr:`SendResult.model`, :attr:`Balance.model`), read by
:func:`~smsflow._models.read_model`: a field added to the spec is a typed attribute after
``scripts/regenerate``, with no edit here (``result.send_response.<new_field>``). Optional
fields the answer left out read as ``smsflow.UNSET`` (falsy); ``tests/typing`` holds the
public types, so a generator upgrade that changes them is a reviewed diff.

Money is in SMSFlow credits (floats, as the API sends them; never NaN or infinite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._models import ShapeError, read_model
from ._tokens import Token

if TYPE_CHECKING:
    from smsflow_api.models import BalanceResponse, ErrorDetail, SendMessagesResponse
    from smsflow_api.models import SendResponse as SendResponse

__all__ = ["AuthToken", "Balance", "SendResult", "ShapeError", "error_details"]


def error_details(items: Any) -> list[ErrorDetail]:
    """The error items of a list (``errors``, ``errorReport``) as generated models; anything
    that is not an object is skipped."""
    from smsflow_api.models import ErrorDetail

    if not isinstance(items, list):
        return []
    found = []
    for position, item in enumerate(items):
        try:
            found.append(read_model(ErrorDetail, item, f"errors[{position}]"))
        except ShapeError:
            continue
    return found


class SendResult(dict[str, Any]):
    """The answer to a send, ``{"statusCode", "sendResponse", "errors", ...}`` as sent.

    Attributes:
        model: The whole answer as the generated ``SendMessagesResponse`` (every field the
            spec names, typed; unknown keys in ``model.additional_properties``).
        destinations: The destination of each message as it was sent (after normalising:
            ``"082 123 4567"`` was sent as ``"27821234567"``), in input order.
    """

    __slots__ = ("destinations", "model")
    model: SendMessagesResponse

    def __init__(self, data: Any, destinations: tuple[str, ...] = ()) -> None:
        """Read a decoded send answer. Raises ShapeError (no valid ``eventId``)."""
        self.destinations: tuple[str, ...] = destinations
        from smsflow_api.models import SendMessagesResponse

        self.model = read_model(SendMessagesResponse, data)
        super().__init__(data)

    @property
    def send_response(self) -> SendResponse:
        """The typed ``sendResponse`` (``result["sendResponse"]`` is the raw dict)."""
        return self.model.send_response

    @property
    def event_id(self) -> int:
        """The send's event id (``sendResponse.eventId``): store it with your records."""
        return self.model.send_response.event_id

    @property
    def status_code(self) -> int:
        """The ``statusCode`` the API put in the body (200 when it left it out)."""
        code = self.model.status_code
        return code if isinstance(code, int) else 200

    @property
    def errors(self) -> list[ErrorDetail]:
        """Problems listed in the top-level ``errors`` (usually none)."""
        errors = self.model.errors
        return errors if isinstance(errors, list) else []

    @property
    def error_report(self) -> list[ErrorDetail]:
        """Per-message problems of ``sendResponse.errorReport`` (e.g. ``OPTED_OUT``)."""
        report = self.model.send_response.error_report
        return report if isinstance(report, list) else []


class Balance(dict[str, Any]):
    """The account's credit balance: ``balance.balance`` (credits) or ``balance["balance"]``.

    Attributes:
        model: The answer as the generated ``BalanceResponse``.
    """

    __slots__ = ("model",)
    model: BalanceResponse

    def __init__(self, data: Any) -> None:
        """Read a decoded balance answer. Raises ShapeError (no numeric ``balance``)."""
        from smsflow_api.models import BalanceResponse

        self.model = read_model(BalanceResponse, data)
        super().__init__(data)

    @property
    def balance(self) -> float:
        """Credits available."""
        return float(self.model.balance)


@dataclass(frozen=True, slots=True)
class AuthToken(Mapping[str, Any]):
    """The result of ``authenticate()``. ``repr`` hides the token.

    ``token["token"]``, ``token["expiresInMinutes"]`` and ``token["schema"]`` read like the
    API's JSON; ``expires_at`` is an aware UTC datetime.

    Attributes:
        schema: The scheme name the API reported (``"Basic"`` observed), or ``"Bearer"``
            when it sent none; the token is always sent as ``Bearer``.
    """

    _token: Token = field(repr=False)
    schema: str = "Bearer"

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
            "schema": self.schema,
        }

    def __getitem__(self, key: str) -> Any:
        return self._as_dict()[key]

    def __iter__(self) -> Any:
        return iter(("token", "expiresInMinutes", "schema"))

    def __len__(self) -> int:
        return 3

    def __repr__(self) -> str:
        return f"AuthToken(token=<hidden>, expires_at={self.expires_at.isoformat()})"
