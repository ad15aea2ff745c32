"""Trade suggestions: refused orders kept in a form a human can act on, and that survives a restart."""
from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from typing import Any

from core.market import ContractSpec
from core.orders import OrderIntent, OrderLeg


@dataclasses.dataclass(frozen=True)
class TradeSuggestion:
    """A refused order: the full intent, why it was refused, and when."""

    intent: OrderIntent
    refused_because: str
    time: datetime

    def render(self) -> str:
        """The spec's readable block, with every leg and the plan."""
        intent = self.intent
        price = "market" if intent.limit_price is None else f"{intent.limit_price:+.2f} per share (net)"
        lines = [
            "=====================================",
            "MANUAL TRADE SUGGESTION",
            "=====================================",
            f"Time: {self.time:%Y-%m-%d %H:%M}",
            f"Strategy: {intent.strategy}",
            f"Units: {intent.units}",
            f"Limit: {price}",
        ]
        for leg in intent.legs:
            lines.append(f"  {leg.side} {abs(leg.quantity) * intent.units} {leg.label()} "
                         f"(bid {leg.bid:.2f} / ask {leg.ask:.2f})")
        if intent.profit_target is not None:
            lines.append(f"Profit target: {intent.profit_target:+.2f} per share")
        if intent.stop_loss is not None:
            lines.append(f"Stop: {intent.stop_loss:+.2f} per share")
        lines.append("Max loss if nothing is done: "
                     + ("unbounded" if intent.max_loss is None else f"${intent.max_loss:,.2f}"))
        lines.append(f"Signals: {'; '.join(intent.signals) or 'none'}")
        lines.append(f"Refused because: {self.refused_because}")
        lines += ["", "TO EXECUTE MANUALLY:", "1. Review market conditions", "2. Verify entry price",
                  "3. Place order through broker", "====================================="]
        return "\n".join(lines)

    def to_record(self) -> dict[str, Any]:
        """JSON-ready (NaN quotes become null)."""
        intent = self.intent
        return {
            "time": self.time.isoformat(), "refused_because": self.refused_because,
            "strategy": intent.strategy, "units": intent.units, "limit_price": intent.limit_price,
            "created": intent.created.isoformat(), "signals": list(intent.signals),
            "profit_target": intent.profit_target, "stop_loss": intent.stop_loss, "max_loss": intent.max_loss,
            "reduces_only": intent.reduces_only,
            "legs": [{"name": leg.name, "quantity": leg.quantity, "bid": _json_float(leg.bid),
                      "ask": _json_float(leg.ask),
                      "contract": dataclasses.asdict(leg.contract) | {"expiry": leg.contract.expiry.isoformat()}
                      if leg.contract is not None else None} for leg in intent.legs],
        }

    @staticmethod
    def from_record(record: dict[str, Any]) -> TradeSuggestion:
        legs = tuple(OrderLeg(str(leg["name"]), int(leg["quantity"]), _contract(leg.get("contract")),
                              _float(leg.get("bid")), _float(leg.get("ask"))) for leg in record["legs"])
        intent = OrderIntent(
            strategy=str(record["strategy"]), legs=legs, units=int(record["units"]),
            limit_price=record.get("limit_price"), created=datetime.fromisoformat(record["created"]),
            signals=tuple(str(s) for s in record.get("signals", [])), profit_target=record.get("profit_target"),
            stop_loss=record.get("stop_loss"), max_loss=record.get("max_loss"),
            reduces_only=bool(record.get("reduces_only", False)))
        return TradeSuggestion(intent, str(record["refused_because"]), datetime.fromisoformat(record["time"]))


def _contract(data: dict[str, Any] | None) -> ContractSpec | None:
    if data is None:
        return None
    return ContractSpec(**(data | {"expiry": date.fromisoformat(data["expiry"])}))


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _float(value: Any) -> float:
    return float(value) if value is not None else float("nan")
