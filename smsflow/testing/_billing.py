"""Billing for the sandbox: which network a destination is on, and what a send costs.

Prices are kept as :class:`~decimal.Decimal` so that a balance never drifts by float rounding.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ._validation import ParsedMessage

__all__ = [
    "DEFAULT_NETWORK_PREFIXES",
    "DEFAULT_PRICE_PER_PART",
    "OTHER_NETWORK",
    "Pricing",
    "Quote",
]

#: Destination prefix -> network, for billing (longest prefix wins; else ``"Other"``).
DEFAULT_NETWORK_PREFIXES: Final[Mapping[str, str]] = {
    **dict.fromkeys(("2782", "2772", "2776", "2779"), "Vodacom"),
    **dict.fromkeys(("2783", "2773", "2778", "2763"), "MTN"),
    **dict.fromkeys(("2784", "2774"), "Cell C"),
    "2781": "Telkom",
}
OTHER_NETWORK: Final = "Other"
DEFAULT_PRICE_PER_PART: Final = 0.25
_DEFAULT_PRICE: Final = Decimal("0.25")


@dataclass(frozen=True, slots=True)
class Quote:
    """What one send costs, before it is charged.

    Attributes:
        accepted: The messages to send (opted-out ones left out), in order.
        skipped: ``errorReport`` items for the opted-out messages.
        parts_by_network: SMS parts per network, in first-seen order.
        costs: Credits per network, same order.
        total: Credits for the whole send.
        parts: SMS parts in all.
    """

    accepted: list[ParsedMessage]
    skipped: list[dict[str, str]]
    parts_by_network: dict[str, int]
    costs: dict[str, Decimal]
    total: Decimal
    parts: int


class Pricing:
    """Networks by destination prefix, and the price of a part on each.

    Args:
        price_per_part: One price for every network, or network name -> price (networks it
            omits cost 0.25).
        network_prefixes: Destination prefix -> network name.

    Raises:
        ValueError: A price is negative.
    """

    def __init__(
        self, price_per_part: float | Mapping[str, float], network_prefixes: Mapping[str, str]
    ) -> None:
        if isinstance(price_per_part, Mapping):
            flat = None
            table = {network: Decimal(str(p)) for network, p in price_per_part.items()}
        else:
            flat, table = Decimal(str(price_per_part)), {}
        if (flat is not None and flat < 0) or any(p < 0 for p in table.values()):
            raise ValueError("prices must be >= 0")
        self._flat_price = flat
        self._prices = table
        self._prefixes = dict(network_prefixes)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes}, reverse=True)

    def network_of(self, destination: str) -> str:
        """The network of ``destination`` (longest known prefix), else ``"Other"``."""
        for length in self._prefix_lengths:
            network = self._prefixes.get(destination[:length])
            if network is not None:
                return network
        return OTHER_NETWORK

    def price(self, network: str) -> Decimal:
        """Credits per SMS part on ``network``."""
        if self._flat_price is not None:
            return self._flat_price
        return self._prices.get(network, _DEFAULT_PRICE)

    def quote(
        self,
        messages: Sequence[ParsedMessage],
        *,
        opt_outs: Collection[str],
        check_opt_outs: bool,
    ) -> Quote:
        """What sending ``messages`` costs, skipping opted-out destinations when asked."""
        skipped: list[dict[str, str]] = []
        accepted: list[ParsedMessage] = []
        for index, message in enumerate(messages):
            if check_opt_outs and message.destination in opt_outs:
                skipped.append(
                    {
                        "code": "OPTED_OUT",
                        "message": "The recipient opted out; the message was not sent.",
                        "field": f"messages[{index}].destination",
                    }
                )
            else:
                accepted.append(message)
        parts_by_network: dict[str, int] = {}
        for message in accepted:
            parts_by_network[message.network] = (
                parts_by_network.get(message.network, 0) + message.parts
            )
        costs = {net: self.price(net) * parts for net, parts in parts_by_network.items()}
        return Quote(
            accepted,
            skipped,
            parts_by_network,
            costs,
            sum(costs.values(), Decimal(0)),
            sum(parts_by_network.values()),
        )
