"""A simulated broker for the replay: fills, fees, holdings, cash and expiry settlement.

Fill model (stated, deliberately simple and conservative):

* market orders fill at once at the opposing quote (buy at ask, sell at bid), falling back to the
  last trade; with no price at all they are Invalid, as LEAN rejects orders without data;
* limit orders are checked from the next minute on and fill at the opposing quote once it is at or
  better than the limit;
* combo limit orders fill only when the net *natural* price of one unit (buy legs at ask, sell legs
  at bid, per share) is at or better than the net limit, each leg at its natural price. The limit is
  the price of one unit of the combo as its legs are written (positive = debit); buying the combo
  (units > 0) fills at or below the limit, selling it (units < 0) at or above, as LEAN's combo limit
  fill does. Combo market orders are Invalid under the tastytrade model;
* fees: a fixed amount per option or future contract; no margin model (orders are never refused
  for buying power), no partial fills, no slippage beyond the spread.

Expiry: cash-settled index options pay their intrinsic value against the underlying's last price of
the expiry day (PM settlement); equity options in the money are exercised or assigned into shares at
the strike, out of the money they expire worthless.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from replay.engine.double import OrderEvent, OrderStatus, OrderTicket, OptionRight, SecurityType, Symbol

QuoteLookup = Callable[[Symbol], "tuple[float, float, float] | None"]
TRADABLE = {SecurityType.EQUITY, SecurityType.OPTION, SecurityType.INDEX_OPTION, SecurityType.FUTURE}


@dataclasses.dataclass(frozen=True)
class Fill:
    """One executed leg (or settlement) for the orders CSV; price per share, fee in dollars."""

    time: datetime
    order_id: int
    group: int
    kind: str
    symbol: str
    quantity: float
    price: float
    fee: float
    tag: str


def _finite(value: float) -> bool:
    return value is not None and math.isfinite(value)


class SimulatedBroker:
    """Holds open orders and executes them against the replay's current quotes."""

    def __init__(self, quotes: QuoteLookup, fee_per_contract: float, combo_market_allowed: bool) -> None:
        self.quotes = quotes
        self.fee_per_contract = fee_per_contract
        self.combo_market_allowed = combo_market_allowed
        self.open_groups: dict[int, list[OrderTicket]] = {}
        self.fills: list[Fill] = []
        self.invalid: list[tuple[int, str]] = []
        self.fees_paid = 0.0

    # --- submission -------------------------------------------------------------------------

    def submit(self, algorithm: Any, tickets: list[OrderTicket]) -> None:
        problem = self._validate(algorithm, tickets)
        if problem:
            self._finish(algorithm, tickets, OrderStatus.INVALID, problem)
            self.invalid.append((tickets[0].group, problem))
            return
        for ticket in tickets:
            ticket.status = OrderStatus.SUBMITTED
            algorithm.on_order_event(OrderEvent(ticket.order_id, ticket.symbol, OrderStatus.SUBMITTED))
        if tickets[0].kind in ("market", "combo_market"):
            if not self._try_fill(algorithm, tickets, marketable=True):
                self._finish(algorithm, tickets, OrderStatus.INVALID, "no price data to fill a market order")
            return
        self.open_groups[tickets[0].group] = tickets

    def _validate(self, algorithm: Any, tickets: list[OrderTicket]) -> str:
        if tickets[0].kind == "combo_market" and not self.combo_market_allowed:
            return "the tastytrade brokerage model does not support combo market orders"
        for ticket in tickets:
            if ticket.symbol not in algorithm.securities:
                return f"{ticket.symbol} is not subscribed"
            if ticket.symbol.security_type not in TRADABLE:
                return f"{ticket.symbol} ({ticket.symbol.security_type.name}) is not tradable"
            if ticket.quantity == 0:
                return "order quantity is zero"
        return ""

    def _finish(self, algorithm: Any, tickets: list[OrderTicket], status: OrderStatus, message: str) -> None:
        for ticket in tickets:
            ticket.status = status
            algorithm.on_order_event(OrderEvent(ticket.order_id, ticket.symbol, status, message))

    # --- execution --------------------------------------------------------------------------

    def process(self, algorithm: Any) -> None:
        """Try every open limit/combo order against the current minute's quotes."""
        for group, tickets in list(self.open_groups.items()):
            if self._try_fill(algorithm, tickets, marketable=False):
                del self.open_groups[group]

    def cancel_order(self, algorithm: Any, order_id: int) -> None:
        """Cancel the open group holding ``order_id`` (a combo is cancelled whole)."""
        for group, tickets in list(self.open_groups.items()):
            if any(t.order_id == order_id for t in tickets):
                del self.open_groups[group]
                self._finish(algorithm, tickets, OrderStatus.CANCELED, "cancelled by the algorithm")

    def cancel_all(self, algorithm: Any) -> list[OrderTicket]:
        cancelled = [t for tickets in self.open_groups.values() for t in tickets]
        self.open_groups.clear()
        self._finish(algorithm, cancelled, OrderStatus.CANCELED, "cancelled by the algorithm")
        return cancelled

    def _natural(self, ticket: OrderTicket) -> float | None:
        quote = self.quotes(ticket.symbol)
        if quote is None:
            return None
        bid, ask, last = quote
        price = ask if ticket.quantity > 0 else bid
        if not _finite(price) or price < 0 or (ticket.quantity > 0 and price == 0):
            price = last
        return price if _finite(price) else None

    def _try_fill(self, algorithm: Any, tickets: list[OrderTicket], marketable: bool) -> bool:
        prices = [self._natural(t) for t in tickets]
        if any(p is None for p in prices):
            return False
        fills = [float(p) for p in prices if p is not None]
        if not marketable:
            limit = tickets[0].limit_price
            assert limit is not None
            units = tickets[0].combo_units
            if units is None:  # a single-leg limit: buy at or below, sell at or above
                buying, price = tickets[0].quantity > 0, fills[0]
            else:
                buying, price = units > 0, sum(t.quantity / units * p for t, p in zip(tickets, fills))
            if (price > limit + 1e-9) if buying else (price < limit - 1e-9):
                return False
        for ticket, price in zip(tickets, fills):
            self._execute(algorithm, ticket, price)
        return True

    def _multiplier(self, algorithm: Any, symbol: Symbol) -> float:
        return float(algorithm.securities[symbol].symbol_properties.contract_multiplier)

    def _execute(self, algorithm: Any, ticket: OrderTicket, price: float) -> None:
        multiplier = self._multiplier(algorithm, ticket.symbol)
        per_contract = ticket.symbol.security_type is not SecurityType.EQUITY
        fee = self.fee_per_contract * abs(ticket.quantity) if per_contract else 0.0
        self._book(algorithm, ticket.symbol, ticket.quantity, price, multiplier, fee)
        ticket.status, ticket.fill_price = OrderStatus.FILLED, price
        self.fills.append(Fill(algorithm.time, ticket.order_id, ticket.group, ticket.kind, str(ticket.symbol),
                               ticket.quantity, price, fee, ticket.tag))
        algorithm.on_order_event(OrderEvent(ticket.order_id, ticket.symbol, OrderStatus.FILLED, "",
                                            price, ticket.quantity))

    def _book(self, algorithm: Any, symbol: Symbol, quantity: float, price: float, multiplier: float,
              fee: float) -> None:
        """Apply a trade to cash and holdings (average price kept for the position still open)."""
        portfolio = algorithm.portfolio
        portfolio.cash -= quantity * price * multiplier + fee
        self.fees_paid += fee
        held = portfolio[symbol] if symbol in algorithm.securities else None
        old_qty = held.quantity if held is not None else 0.0
        old_avg = held.average_price if held is not None else 0.0
        new_qty = old_qty + quantity
        if new_qty == 0:
            avg = 0.0
        elif old_qty == 0 or (old_qty > 0) != (new_qty > 0):
            avg = price
        elif abs(new_qty) > abs(old_qty):
            avg = (old_avg * old_qty + price * quantity) / new_qty
        else:
            avg = old_avg
        portfolio.set_holding(symbol, new_qty, avg)

    # --- expiry -------------------------------------------------------------------------------

    def settle_expiries(self, algorithm: Any, day: date, settlement_price: Callable[[Symbol], float | None]
                        ) -> list[str]:
        """Settle every option holding that expires on ``day`` (after the close).

        ``settlement_price`` gives the underlying's settlement for a contract (today's close, or the
        opening print for AM-settled contracts); a contract without one is left open and named in
        the returned list, never settled at an older price."""
        unsettled = []
        for holding in list(algorithm.portfolio.values()):
            symbol = holding.symbol
            if not holding.invested or symbol.expiry != day or symbol.strike is None:
                continue
            spot = settlement_price(symbol)
            if spot is None:
                unsettled.append(str(symbol))
                continue
            self._settle(algorithm, symbol, holding.quantity, spot)
        return unsettled

    def _settle(self, algorithm: Any, symbol: Symbol, quantity: float, spot: float) -> None:
        assert symbol.strike is not None
        call = symbol.right is OptionRight.CALL
        intrinsic = max(0.0, spot - symbol.strike) if call else max(0.0, symbol.strike - spot)
        self._book(algorithm, symbol, -quantity, intrinsic, self._multiplier(algorithm, symbol), 0.0)
        kind = "cash-settlement" if symbol.security_type is SecurityType.INDEX_OPTION else "expiry"
        if symbol.security_type is SecurityType.OPTION and intrinsic > 0 and symbol.underlying is not None:
            kind = "exercise" if quantity > 0 else "assignment"
            shares = quantity * self._multiplier(algorithm, symbol) * (1 if call else -1)
            # the option's intrinsic was booked above; shares at spot complete paying the strike
            self._book(algorithm, symbol.underlying, shares, spot, 1.0, 0.0)
            self.fills.append(Fill(algorithm.time, 0, 0, kind, str(symbol.underlying), shares, spot, 0.0, kind))
            algorithm.on_order_event(OrderEvent(0, symbol.underlying, OrderStatus.FILLED, f"option {kind}",
                                                spot, shares))
        self.fills.append(Fill(algorithm.time, 0, 0, kind, str(symbol), -quantity, intrinsic, 0.0, kind))
        algorithm.on_order_event(OrderEvent(0, symbol, OrderStatus.FILLED, f"option {kind} at {spot:g}",
                                            intrinsic, -quantity))
