"""Order intents: what a strategy wants to trade, before the order gate decides, and price ticks.

Every order the algorithm could send (entries, exits, hedges) is first an :class:`OrderIntent`.
The desk asks the order gate (:mod:`risk.order_gate`) whether it may go to the broker; if not, the
very same intent becomes a logged suggestion a human can act on. Limit prices are put on the
broker's tick here, in one place (:func:`floor_to_tick`, :func:`ceil_to_tick`).
"""
from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from typing import Any

from core.market import ContractSpec


@dataclasses.dataclass(frozen=True)
class OrderLeg:
    """One leg: a contract (or a plain ticker for stock/futures) and a signed quantity per unit.

    ``bid``/``ask`` are the quotes (per share) when the intent was made, for the suggestion text.
    """

    name: str
    quantity: int
    contract: ContractSpec | None = None
    bid: float = float("nan")
    ask: float = float("nan")

    @property
    def side(self) -> str:
        return "BUY" if self.quantity > 0 else "SELL"

    @property
    def key(self) -> str:
        """Identity of the instrument for position matching: the exact contract, or the ticker."""
        return self.contract.describe() if self.contract is not None else self.name

    def label(self) -> str:
        """How a trader reads the instrument: the contract (root, expiry, strike, right) or the ticker."""
        return self.contract.describe() if self.contract is not None else self.name


@dataclasses.dataclass(frozen=True)
class ExitRule:
    """How a trade's profit target and stop follow from its entry price, so that they sit at the price
    actually paid: the limit when the order is sent (a retry that concedes moves them) and the fill once
    it fills, never the mid an analyser priced (the spec's rules are relative to the credit received).

    Target: ``target_of_max_profit`` of the most the structure can still make from the entry (its
    highest value minus the entry), else ``target_of_credit`` of the credit received. Stop: a loss of
    ``credit_stop_multiple`` x the credit for a credit entry, ``debit_stop_fraction`` x the debit for a
    debit entry, never beyond the max loss at that entry. Levels are P&L per share of one unit relative
    to the entry (target > 0, stop < 0)."""

    target_of_max_profit: float | None = None
    target_of_credit: float | None = None
    credit_stop_multiple: float | None = None
    debit_stop_fraction: float | None = None

    def levels(self, entry: float, value_range: tuple[float, float] | None) -> tuple[float | None, float | None]:
        """(profit target, stop) for an entry at ``entry`` (per share, LEAN sign: negative = credit)."""
        lowest, highest = value_range if value_range is not None else (-math.inf, math.inf)
        credit = max(-entry, 0.0)
        target = None
        if self.target_of_max_profit is not None and math.isfinite(highest):
            target = self.target_of_max_profit * (highest - entry)
        elif self.target_of_credit is not None and credit > 0:
            target = self.target_of_credit * credit
        multiple = self.credit_stop_multiple if entry < 0 else self.debit_stop_fraction
        if multiple is None:
            return target, None
        return target, -min(multiple * abs(entry), entry - lowest)


@dataclasses.dataclass(frozen=True)
class OrderIntent:
    """A complete order a strategy wants: legs, units, a limit and the trade plan around it.

    ``limit_price`` is the net price per share of one unit (positive = debit, negative = credit,
    LEAN's combo convention); ``None`` means a market order, which the gate only allows for single
    legs. ``max_loss`` is in account currency for the whole order at the limit (the worst price the
    order can fill at), ``None`` when unbounded. ``value_range`` is (lowest, highest) value per share of
    one unit of the structure once held, in LEAN's sign (sum of quantity x price): its exact expiry
    values for one-expiry structures, the model's values at the front expiry for a diagonal; None when
    unknown. It bounds every closing price (never pay more to close than the structure can be worth).
    """

    strategy: str
    legs: tuple[OrderLeg, ...]
    units: int
    limit_price: float | None
    created: datetime
    signals: tuple[str, ...] = ()
    profit_target: float | None = None
    stop_loss: float | None = None
    max_loss: float | None = None
    reduces_only: bool = False
    value_range: tuple[float, float] | None = None
    exit_rule: ExitRule | None = None

    def contracts_total(self) -> int:
        """Option contracts across all legs for the whole order (for per-order size limits); shares of
        stock (a leg without a contract, e.g. a delta hedge in SPY) are not contracts."""
        return sum(abs(leg.quantity) for leg in self.legs if leg.contract is not None) * self.units

    def max_loss_per_share_at(self, entry: float) -> float | None:
        """The worst loss per share of one unit once entered at ``entry`` (LEAN sign): entry minus the
        lowest value the structure can have; None without a value range."""
        return None if self.value_range is None else entry - self.value_range[0]

    def priced_at(self, entry: float) -> OrderIntent:
        """This intent with its target and stop set by its exit rule for an entry at ``entry`` (the
        limit it is sent at, or the fill); unchanged without a rule."""
        if self.exit_rule is None:
            return self
        target, stop = self.exit_rule.levels(entry, self.value_range)
        return dataclasses.replace(self, profit_target=target, stop_loss=stop)

    def describe_legs(self) -> str:
        return ", ".join(f"{leg.side} {abs(leg.quantity) * self.units} {leg.label()}" for leg in self.legs)


def floor_to_tick(price: float, tick: float) -> float:
    """``price`` rounded down to a multiple of ``tick`` (a net limit in LEAN's sign: less debit or
    more credit, i.e. in our favour). The epsilon keeps an exact multiple from falling a tick."""
    return round(math.floor(price / tick + 1e-9) * tick, 10)


def ceil_to_tick(price: float, tick: float) -> float:
    """``price`` rounded up to a multiple of ``tick`` (marketable: at least the price asked)."""
    return round(math.ceil(price / tick - 1e-9) * tick, 10)


# --- records (JSON-ready, for the object store) --------------------------------------------------

def intent_to_record(intent: OrderIntent) -> dict[str, Any]:
    """An intent as JSON-ready values (NaN quotes become null, dates ISO strings)."""
    return {
        "strategy": intent.strategy, "units": intent.units, "limit_price": intent.limit_price,
        "created": intent.created.isoformat(), "signals": list(intent.signals),
        "profit_target": intent.profit_target, "stop_loss": intent.stop_loss, "max_loss": intent.max_loss,
        "reduces_only": intent.reduces_only,
        "value_range": list(intent.value_range) if intent.value_range is not None else None,
        "exit_rule": dataclasses.asdict(intent.exit_rule) if intent.exit_rule is not None else None,
        "legs": [{"name": leg.name, "quantity": leg.quantity, "bid": _json_float(leg.bid), "ask": _json_float(leg.ask),
                  "contract": (dataclasses.asdict(leg.contract) | {"expiry": leg.contract.expiry.isoformat()}
                               if leg.contract is not None else None)} for leg in intent.legs],
    }


def intent_from_record(record: dict[str, Any]) -> OrderIntent:
    """The inverse of :func:`intent_to_record`; raises KeyError, TypeError or ValueError on a bad record."""
    legs = tuple(OrderLeg(str(leg["name"]), int(leg["quantity"]), _contract(leg.get("contract")),
                          _float(leg.get("bid")), _float(leg.get("ask"))) for leg in record["legs"])
    value_range = record.get("value_range")
    return OrderIntent(
        strategy=str(record["strategy"]), legs=legs, units=int(record["units"]),
        limit_price=_optional_float(record.get("limit_price")), created=datetime.fromisoformat(record["created"]),
        signals=tuple(str(s) for s in record.get("signals", [])),
        profit_target=_optional_float(record.get("profit_target")), stop_loss=_optional_float(record.get("stop_loss")),
        max_loss=_optional_float(record.get("max_loss")), reduces_only=bool(record.get("reduces_only", False)),
        value_range=(float(value_range[0]), float(value_range[1])) if value_range is not None else None,
        exit_rule=_exit_rule(record.get("exit_rule")))


def _exit_rule(data: Any) -> ExitRule | None:
    """A saved exit rule (records written before rules were saved have none: their levels stand)."""
    if data is None:
        return None
    names = {field.name for field in dataclasses.fields(ExitRule)}
    if not isinstance(data, dict) or not set(data) <= names:
        raise ValueError(f"exit_rule: expected fields {sorted(names)}, got {data!r}")
    return ExitRule(**{name: _optional_float(value) for name, value in data.items()})


def _contract(data: dict[str, Any] | None) -> ContractSpec | None:
    if data is None:
        return None
    return ContractSpec(**(data | {"expiry": date.fromisoformat(data["expiry"])}))


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _float(value: Any) -> float:
    return float(value) if value is not None else float("nan")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
