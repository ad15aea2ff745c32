"""Buying power as LEAN checks it before an order is submitted and again before it fills.

Ported from ``Common/Securities/BuyingPowerModel.cs`` (``SecurityMarginModel``),
``Common/Securities/Option/OptionMarginModel.cs``, ``OptionStrategyPositionGroupBuyingPowerModel.cs``,
``Common/Securities/Positions/PositionGroupBuyingPowerModel.cs`` and
``SecurityPortfolioManager.HasSufficientBuyingPowerForOrder``:

* an order that can be grouped with the book's option positions (any order once options are held,
  or a multi-leg combo) is checked by its position group's model: the margin of the groups it
  touches after the order (initial margin, plus the premium the order pays) less their margin now
  must not exceed the portfolio's free margin (total value less the maintenance margin of all groups);
* otherwise the security's own model checks the order's initial margin (plus fees) against free margin;
* strategy margins: defined-risk spreads and condors at their width (``Max(strike difference, 0)``),
  long options, straddles, strangles, butterflies at 0 beyond the premium paid, naked options at the
  CBOE rule (premium + max(10% of the underlying (calls) or strike (puts), 20% (equity) / 15% (index)
  of the underlying less the out-of-the-money amount)) per contract.
An order that fails becomes ``Invalid`` with LEAN's message (see :mod:`replay.engine.transactions`).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from replay.engine.fees import fee_amount
from replay.engine.lean_types import OptionRight, OrderDirection, OrderType, SecurityType, Strict
from replay.engine.orders import Order
from replay.engine.positions import (
    Match, Position, PositionGroup, StrategyDefinition, has_options, match_strategies, underlying_of)
from replay.engine.symbols import Symbol


class MarginCallModel(Strict):
    """``MarginCallModel``: the replay issues no margin calls, which is what ``MarginCallModel.NULL``
    (``Common/Securities/NullMarginCallModel.cs``) asks for; LEAN's default model is not modelled."""

    NULL: MarginCallModel

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


MarginCallModel.NULL = MarginCallModel("NullMarginCallModel")


class SecurityMarginModel(Strict):
    """``SecurityMarginModel``: initial and maintenance margin = value / leverage."""

    def __init__(self, leverage: float = 1.0) -> None:
        self.leverage = float(leverage)

    def get_leverage(self, security: Any) -> float:
        return self.leverage

    def initial_margin(self, security: Any, quantity: float) -> float:
        return float(security.price) * security.symbol_properties.contract_multiplier * quantity / self.leverage

    def initial_margin_without_premium(self, security: Any, quantity: float) -> tuple[float, float]:
        return self.initial_margin(security, quantity), 0.0

    def maintenance_margin(self, security: Any, quantity: float) -> float:
        value = float(security.price) * security.symbol_properties.contract_multiplier * quantity
        return abs(value) / self.leverage

    def order_initial_margin(self, security: Any, order: Order) -> float:
        margin = self.initial_margin(security, order.quantity)
        fees = fee_amount(security.fee_model, security, order)
        return margin + (1 if margin > 0 else -1 if margin < 0 else 0) * fees


class OptionMarginModel(SecurityMarginModel):
    """``OptionMarginModel``: long options need their premium; short ones the CBOE naked requirement."""

    def __init__(self) -> None:
        super().__init__(1.0)

    def requirement(self, security: Any, quantity: float, value: float) -> float:
        """``GetMarginRequirement``: 1 for a debit; for a credit 1 + |q| x max(naked, OTM-adjusted) ratios."""
        underlying = security.underlying
        if (value == 0 or security.close == 0 or security.strike_price == 0 or underlying is None
                or underlying.close == 0):
            return 0.0
        if value > 0:
            return 1.0
        absolute = -value
        unit = security.contract_unit_of_trade
        ratio = underlying.symbol_properties.contract_multiplier / security.symbol_properties.contract_multiplier
        per = absolute / unit
        u = underlying.close / security.symbol_properties.strike_multiplier
        underlying_ratio = ratio * unit * (u / per)
        otm_ratio = ratio * unit * (security.out_of_the_money_amount(underlying.close) / per)
        strike_ratio = ratio * unit * (security.strike_price / per)
        naked = 0.1 * (underlying_ratio if security.right is OptionRight.CALL else strike_ratio)
        otm_rate = 0.2 if security.type is SecurityType.OPTION else 0.15
        return 1.0 + abs(quantity) * max(naked, otm_rate * underlying_ratio - otm_ratio)

    def initial_margin_without_premium(self, security: Any, quantity: float) -> tuple[float, float]:
        """``GetInitialMarginRequirement`` as (value without premium, premium) (``OptionInitialMargin``)."""
        value = float(security.price) * security.symbol_properties.contract_multiplier * quantity
        return (0.0 if quantity >= 0 else value * self.requirement(security, quantity, value)), value

    def initial_margin(self, security: Any, quantity: float) -> float:
        without, premium = self.initial_margin_without_premium(security, quantity)
        return without + max(premium, 0.0)

    def maintenance_margin(self, security: Any, quantity: float, cost: float | None = None) -> float:
        """Long: 0. Short: |holdings cost| x requirement (at the current price unless a cost is given)."""
        if quantity >= 0:
            return 0.0
        if cost is None:
            cost = float(security.price) * security.symbol_properties.contract_multiplier * quantity
        return abs(cost) * self.requirement(security, quantity, cost)

    def order_initial_margin(self, security: Any, order: Order) -> float:
        value = order.get_value(security)
        margin = value * self.requirement(security, order.quantity, value)
        fees = fee_amount(security.fee_model, security, order)
        return margin + (1 if margin > 0 else -1 if margin < 0 else 0) * fees


class OptionStrategyPositionGroupBuyingPowerModel(Strict):
    """The margin of a matched option strategy (``OptionStrategyPositionGroupBuyingPowerModel.cs``)."""

    def __init__(self, strategy: StrategyDefinition | None) -> None:
        self.strategy = strategy

    def __str__(self) -> str:
        return self.strategy.name if self.strategy is not None else "None"

    @staticmethod
    def _options(group: PositionGroup) -> list[Position]:
        return [p for p in group.positions if p.symbol.security_type.is_option]

    @staticmethod
    def _stock(group: PositionGroup) -> Position:
        return next(p for p in group.positions if not p.symbol.security_type.is_option)

    def _width(self, group: PositionGroup, securities: Any, right: OptionRight, long_minus_short: bool) -> float:
        legs = [p for p in self._options(group) if p.symbol.right is right]
        long = next(p for p in legs if p.quantity > 0)
        short = next(p for p in legs if p.quantity < 0)
        long_strike, short_strike = float(long.symbol.strike or 0.0), float(short.symbol.strike or 0.0)
        diff = (long_strike - short_strike) if long_minus_short else (short_strike - long_strike)
        unit = securities[long.symbol].contract_unit_of_trade
        return max(float(diff) * unit * abs(group.quantity), 0.0)

    def _naked(self, option: Position, securities: Any, initial: bool) -> tuple[float, float]:
        security = securities[option.symbol]
        if initial:
            without, premium = security.buying_power_model.initial_margin_without_premium(security, option.quantity)
            return abs(without), premium
        return security.buying_power_model.maintenance_margin(security, option.quantity), 0.0

    def _margin(self, group: PositionGroup, securities: Any, initial: bool) -> float:
        name = self.strategy.name if self.strategy is not None else ""
        options = self._options(group)
        if not name or group.quantity == 0:
            return 0.0
        if name in ("Naked Call", "Naked Put"):
            return self._naked(options[0], securities, initial)[0]
        if name in ("Bear Call Spread", "Bull Call Spread"):
            return self._width(group, securities, OptionRight.CALL, True)
        if name in ("Bear Put Spread", "Bull Put Spread", "Iron Condor", "Iron Butterfly", "Short Iron Condor",
                    "Short Iron Butterfly"):
            return self._width(group, securities, OptionRight.PUT, False)
        if name in ("Call Calendar Spread", "Put Calendar Spread", "Straddle", "Strangle", "Butterfly Call",
                    "Butterfly Put", "Box Spread"):
            return 0.0
        if name in ("Short Call Calendar Spread", "Short Put Calendar Spread"):
            short = next(p for p in options if p.quantity < 0)
            security = securities[short.symbol]
            model = security.buying_power_model
            if initial:
                return abs(model.initial_margin(security, short.quantity))
            return model.maintenance_margin(security, short.quantity)
        if name in ("Short Straddle", "Short Strangle"):
            call = next(p for p in options if p.symbol.right is OptionRight.CALL)
            put = next(p for p in options if p.symbol.right is OptionRight.PUT)
            call_margin = abs(self._naked(call, securities, initial)[0])
            put_margin = abs(self._naked(put, securities, initial)[0])
            call_sec, put_sec = securities[call.symbol], securities[put.symbol]
            if put_margin > call_margin:
                return put_margin + call_sec.price * call_sec.contract_unit_of_trade * abs(call.quantity)
            return call_margin + put_sec.price * put_sec.contract_unit_of_trade * abs(put.quantity)
        if name in ("Short Butterfly Call", "Short Butterfly Put"):
            legs = sorted(options, key=lambda p: p.symbol.strike or 0.0)
            unit = securities[legs[0].symbol].contract_unit_of_trade
            middle, low = float(legs[1].symbol.strike or 0.0), float(legs[0].symbol.strike or 0.0)
            return max((middle - low) * unit * abs(group.quantity), 0.0)
        if name in ("Covered Call", "Covered Put", "Protective Call", "Protective Put", "Protective Collar",
                    "Conversion", "Reverse Conversion"):
            return self._with_stock(name, group, securities, initial)
        raise NotImplementedError(f"the replay does not margin the {name} strategy (LEAN does): an order forming it "
                                  "cannot be checked for buying power")

    def _with_stock(self, name: str, group: PositionGroup, securities: Any, initial: bool) -> float:
        option_pos = self._options(group)[0]
        stock_pos = self._stock(group)
        option, stock = securities[option_pos.symbol], securities[stock_pos.symbol]
        stock_model = stock.buying_power_model
        if name in ("Protective Put", "Protective Call"):
            if initial:
                return abs(stock_model.initial_margin(stock, stock_pos.quantity))
            otm = option.out_of_the_money_amount(stock.price) * option.contract_unit_of_trade * abs(option_pos.quantity)
            stock_margin = abs(stock_model.maintenance_margin(stock, stock_pos.quantity))
            return min(0.1 * option.strike_price * option.contract_unit_of_trade * abs(option_pos.quantity) + otm,
                       stock_margin)
        itm = option.get_intrinsic_value(stock.price) * option.contract_unit_of_trade * abs(option_pos.quantity)
        if name == "Covered Call":
            if initial:
                value = abs(option.holdings.get_quantity_value(option_pos.quantity))
                return value * 0.8 + stock_model.initial_margin(stock, stock_pos.quantity)
            stock_value = stock.holdings.get_quantity_value(stock_pos.quantity)
            option_value = option.holdings.get_quantity_value(option_pos.quantity)
            hypothetical = stock.holdings.get_quantity_value(stock_pos.quantity,
                                                             min(stock.price, option.scaled_strike_price))
            hypo_margin = abs(hypothetical) / stock_model.leverage
            margin = abs(stock_value) / stock_model.leverage
            return max(itm + hypo_margin, min(stock_value, max(option_value, margin)))
        if name in ("Covered Put", "Protective Collar", "Conversion", "Reverse Conversion"):
            return abs(stock_model.initial_margin(stock, stock_pos.quantity)) + itm
        raise NotImplementedError(name)

    def maintenance_margin(self, group: PositionGroup, securities: Any) -> float:
        return self._margin(group, securities, initial=False)

    def initial_margin(self, group: PositionGroup, securities: Any) -> tuple[float, float]:
        """(value without premium, premium) of the group (``OptionInitialMargin``)."""
        premium = sum(securities[p.symbol].holdings.get_quantity_value(p.quantity)
                      for p in self._options(group))
        return self._margin(group, securities, initial=True), premium


class SecurityPositionGroupBuyingPowerModel(Strict):
    """A one-security default group margined by the security's own model."""

    def maintenance_margin(self, group: PositionGroup, securities: Any) -> float:
        total = 0.0
        for position in group.positions:
            security = securities[position.symbol]
            total += security.buying_power_model.maintenance_margin(security, position.quantity)
        return total

    def initial_margin(self, group: PositionGroup, securities: Any) -> tuple[float, float]:
        total, premium = 0.0, 0.0
        for position in group.positions:
            security = securities[position.symbol]
            without, paid = security.buying_power_model.initial_margin_without_premium(security, position.quantity)
            total, premium = total + without, premium + paid
        return total, premium


DEFAULT_GROUP_MODEL = SecurityPositionGroupBuyingPowerModel()


def _group(match: Match) -> PositionGroup:
    quantity = float(match.quantity)
    positions = [Position(s, q, abs(q) / quantity) for s, q in match.legs]
    if match.underlying is not None:
        positions.append(Position(match.underlying[0], match.underlying[1], abs(match.underlying[1]) / quantity))
    return PositionGroup(positions, quantity, OptionStrategyPositionGroupBuyingPowerModel(match.definition),
                         match.definition)


def empty_group() -> PositionGroup:
    """A liquidation: the order leaves nothing to margin (``PositionGroup.Empty``)."""
    return PositionGroup([], 0.0, OptionStrategyPositionGroupBuyingPowerModel(None), None)


class PositionGroupCollection(Strict):
    """``portfolio.positions``: the book's groups (``.groups``)."""

    def __init__(self, service: BuyingPower) -> None:
        self._service = service

    @property
    def groups(self) -> list[PositionGroup]:
        return self._service.groups()

    @property
    def is_only_default_groups(self) -> bool:
        return all(g.strategy is None for g in self.groups)


class BuyingPower:
    """The portfolio's position groups, margin used and the buying-power check of an order."""

    def __init__(self, securities: Any, portfolio: Any) -> None:
        self.securities, self.portfolio = securities, portfolio

    # --- grouping -------------------------------------------------------------------------------------

    def _lot(self, symbol: Symbol) -> float:
        return float(self.securities[symbol].contract_unit_of_trade) if symbol in self.securities else 100.0

    def _option_groups(self, positions: dict[Symbol, float]) -> tuple[list[PositionGroup], dict[Symbol, float]]:
        """Strategy groups per underlying, and the positions no strategy took (``OptionStrategyPositionGroupResolver``)."""
        by_underlying: dict[Symbol, dict[Symbol, float]] = defaultdict(dict)
        for symbol, quantity in positions.items():
            if symbol.security_type.is_option or has_options(symbol):
                by_underlying[underlying_of(symbol)][symbol] = quantity
        groups: list[PositionGroup] = []
        left = dict(positions)
        for underlying, members in by_underlying.items():
            options = [s for s in members if s.security_type.is_option]
            if not options:
                continue
            matches = match_strategies({s: q for s, q in members.items() if q != 0},
                                       underlying if underlying in members else None, self._lot(options[0]))
            for match in matches:
                group = _group(match)
                groups.append(group)
                for position in group.positions:
                    left[position.symbol] -= position.quantity
        return groups, {s: q for s, q in left.items() if q != 0}

    def resolve(self, positions: dict[Symbol, float]) -> list[PositionGroup]:
        """All groups: option strategies first, then one default group per remaining security."""
        groups, left = self._option_groups(positions)
        groups += [PositionGroup([Position(s, q)], 1.0, DEFAULT_GROUP_MODEL, None) for s, q in left.items()]
        return groups

    def held(self) -> dict[Symbol, float]:
        return {symbol: s.holdings.quantity for symbol, s in self.portfolio.held.items()}

    def groups(self) -> list[PositionGroup]:
        return self.resolve(self.held())

    def total_margin_used(self) -> float:
        return sum(g.buying_power_model.maintenance_margin(g, self.securities) for g in self.groups())

    # --- the check ------------------------------------------------------------------------------------

    @staticmethod
    def _impacted(groups: list[PositionGroup], symbols: set[Symbol]) -> list[PositionGroup]:
        """``GetImpactedGroups``: held groups with one of the symbols, or an option on one of them."""
        wanted = {x for s in symbols if s.security_type.is_option or has_options(s)
                  for x in ([s, s.underlying] if s.underlying is not None else [s])}
        return [g for g in groups if g.quantity != 0 and any(
            p.symbol in wanted or (p.symbol.security_type.is_option and p.symbol.underlying in wanted)
            for p in g.positions)]

    def _try_group(self, orders: list[Order]) -> PositionGroup | None:
        """``OptionStrategyPositionGroupResolver.TryGroup`` for the orders' positions."""
        new = [(o.symbol, o.quantity) for o in orders]
        current = self.groups()
        if not current and len(new) == 1:
            return None
        positions: list[tuple[Symbol, float]] = list(new)
        for group in self._impacted(current, {s for s, _ in new}):
            positions += [(p.symbol, p.quantity) for p in group.positions]
        by_underlying: dict[Symbol, dict[Symbol, float]] = defaultdict(dict)
        for symbol, quantity in positions:
            if symbol.security_type.is_option or has_options(symbol):
                bucket = by_underlying[underlying_of(symbol)]
                bucket[symbol] = bucket.get(symbol, 0.0) + quantity
        new_symbols = {s for s, _ in new}
        for underlying, members in by_underlying.items():
            options = [s for s in members if s.security_type.is_option]
            if not options:
                continue
            remaining = {s: q for s, q in members.items() if q != 0}
            if not any(s.security_type.is_option for s in remaining):
                return empty_group()
            matches = match_strategies(remaining, underlying if underlying in remaining else None,
                                       self._lot(options[0]))
            if not matches:
                continue
            group = _group(matches[0])
            return group if any(p.symbol in new_symbols for p in group.positions) else empty_group()
        return None

    def _contemplated(self, groups: list[PositionGroup], order_positions: dict[Symbol, float]) -> float:
        """``GetContemplatedGroupsInitialMargin`` of the option strategy model: initial margin without
        premium of the groups after the order, plus the premium the order itself pays."""
        total = 0.0
        for group in groups:
            without, _premium = group.buying_power_model.initial_margin(group, self.securities)
            total += without
        for group in self.resolve(order_positions):
            without, premium = group.buying_power_model.initial_margin(group, self.securities)
            total += max(premium, 0.0)
        return total

    def _group_check(self, orders: list[Order]) -> tuple[bool, str]:
        """``PositionGroupBuyingPowerModel.HasSufficientBuyingPowerForOrder``."""
        order_positions: dict[Symbol, float] = defaultdict(float)
        for order in orders:
            order_positions[order.symbol] += order.quantity
        impacted = self._impacted(self.groups(), set(order_positions))
        current = sum(g.buying_power_model.maintenance_margin(g, self.securities) for g in impacted)
        after: dict[Symbol, float] = dict(order_positions)
        for group in impacted:
            for position in group.positions:
                after[position.symbol] = after.get(position.symbol, 0.0) + position.quantity
        contemplated_groups = self.resolve({s: q for s, q in after.items() if q != 0})
        delta = self._contemplated(contemplated_groups, dict(order_positions)) - current
        if delta < 0:
            return True, ""
        free = self.portfolio.total_portfolio_value - self.total_margin_used()
        if delta <= free + 1e-9:
            return True, ""
        ids = ",".join(str(o.id) for o in orders)
        return False, f"Id: {ids}, Maintenance Margin Delta: {delta:.2f}, Free Margin: {free:.2f}"

    def _security_check(self, order: Order) -> tuple[bool, str]:
        """``BuyingPowerModel.HasSufficientBuyingPowerForOrder`` for one security."""
        security = self.securities[order.symbol]
        held = security.holdings.quantity
        if held * order.quantity < 0 and abs(held) >= abs(order.quantity):
            return True, ""  # reducing or closing a position always has the capital
        model = security.buying_power_model
        free = self.portfolio.total_portfolio_value - self.total_margin_used()
        if (held > 0 and order.direction is OrderDirection.SELL) or (held < 0 and order.direction is OrderDirection.BUY):
            free += model.maintenance_margin(security, held) + model.initial_margin(security, abs(held))
        required = model.order_initial_margin(security, order)
        if abs(required) > free + 1e-9:
            return False, (f"Id: {order.id}, Initial Margin: {required:.2f}, Free Margin: {free:.2f}")
        return True, ""

    def has_sufficient(self, orders: list[Order]) -> tuple[bool, str]:
        """``SecurityPortfolioManager.HasSufficientBuyingPowerForOrder``: (ok, LEAN-style reason)."""
        if any(o.type is OrderType.OPTION_EXERCISE for o in orders):
            return True, ""  # an exercise only reduces a held option (the position group empties)
        group = self._try_group(orders)
        if group is not None:
            ok, reason = self._group_check(orders)
        else:
            ok, reason = True, ""
            for order in orders:
                ok, reason = self._security_check(order)
                if not ok:
                    break
        if ok:
            return True, ""
        symbols = ", ".join(str(o.symbol) for o in orders)
        return False, (f"Order Error: ids: [{', '.join(str(o.id) for o in orders)}], Insufficient buying power to "
                       f"complete orders (Value:[{symbols}]), Reason: {reason}.")
