"""GreeksMonitor: position and portfolio Greeks against the spec's limits, alerts, hedge ideas.

Units (the unit is in every name): per-share Greeks are delta per $1, gamma per $1 per $1,
theta $/day, vega $/vol point, rho $/rate point. A position's Greeks are per-share Greeks
× multiplier × signed quantity, so delta is in share-equivalents and theta/vega/rho in dollars.
Stock and futures positions carry delta = quantity × multiplier and nothing else.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

from core.market import ContractSpec, BookPosition, Reading
from core.settings import GreeksSettings


@dataclasses.dataclass(frozen=True)
class ContractGreeks:
    """Per-share Greeks of one contract and where they came from (e.g. "lean-model")."""

    delta: float
    gamma: float
    theta_per_day: float
    vega_per_point: float
    rho_per_point: float
    source: str

    def is_finite(self) -> bool:
        return all(math.isfinite(v) for v in (self.delta, self.gamma, self.theta_per_day,
                                              self.vega_per_point, self.rho_per_point))


@dataclasses.dataclass(frozen=True)
class PositionGreeks:
    name: str
    quantity: float
    delta_shares: float
    gamma_shares: float
    theta_dollars_per_day: float
    vega_dollars_per_point: float
    rho_dollars_per_point: float


@dataclasses.dataclass(frozen=True)
class PortfolioGreeks:
    """Book totals; ``missing`` names positions whose Greeks could not be computed."""

    delta_shares: float
    gamma_shares: float
    theta_dollars_per_day: float
    vega_dollars_per_point: float
    rho_dollars_per_point: float
    positions: tuple[PositionGreeks, ...]
    missing: tuple[str, ...]

    def delta_reading(self) -> Reading:
        """Portfolio delta, unavailable when any position's Greeks are missing (fail closed)."""
        if self.missing:
            return Reading.missing(f"Greeks unavailable for {', '.join(self.missing)}")
        return Reading(self.delta_shares)


def _position_greeks(position: BookPosition, greeks: ContractGreeks | None) -> PositionGreeks | None:
    scale = position.quantity * position.multiplier
    if position.contract is None:
        return PositionGreeks(position.name, position.quantity, scale, 0.0, 0.0, 0.0, 0.0)
    if greeks is None or not greeks.is_finite():
        return None
    return PositionGreeks(
        position.name, position.quantity, greeks.delta * scale, greeks.gamma * scale,
        greeks.theta_per_day * scale, greeks.vega_per_point * scale, greeks.rho_per_point * scale)


class GreeksMonitor:
    """Aggregates the book's Greeks and applies the spec's limits and hedge rules."""

    def __init__(self, settings: GreeksSettings, on_multiple_breaches: Callable[[str], None],
                 log: Callable[[str], None]) -> None:
        self.settings = settings
        self.on_multiple_breaches = on_multiple_breaches
        self.log = log

    def calculate_portfolio_greeks(self, positions: Sequence[BookPosition],
                                   greeks: Mapping[ContractSpec, ContractGreeks]) -> PortfolioGreeks:
        rows: list[PositionGreeks] = []
        missing: list[str] = []
        for position in positions:
            found = greeks.get(position.contract) if position.contract is not None else None
            row = _position_greeks(position, found)
            if row is None:
                missing.append(position.name)
            else:
                rows.append(row)
        return PortfolioGreeks(
            delta_shares=sum(r.delta_shares for r in rows), gamma_shares=sum(r.gamma_shares for r in rows),
            theta_dollars_per_day=sum(r.theta_dollars_per_day for r in rows),
            vega_dollars_per_point=sum(r.vega_dollars_per_point for r in rows),
            rho_dollars_per_point=sum(r.rho_dollars_per_point for r in rows),
            positions=tuple(rows), missing=tuple(missing))

    def limit_alerts(self, book: PortfolioGreeks) -> list[str]:
        """The spec's alert lines for every limit the book breaches."""
        s = self.settings
        alerts = []
        if abs(book.delta_shares) > s.delta_limit:
            alerts.append(f"DELTA LIMIT: {book.delta_shares:.2f} (max: {s.delta_limit:g})")
        if abs(book.gamma_shares) > s.gamma_limit:
            alerts.append(f"GAMMA LIMIT: {book.gamma_shares:.2f} (max: {s.gamma_limit:g})")
        if book.theta_dollars_per_day < s.theta_limit:
            alerts.append(f"THETA DECAY: ${book.theta_dollars_per_day:.2f}/day (limit: {s.theta_limit:g})")
        if abs(book.vega_dollars_per_point) > s.vega_limit:
            alerts.append(f"VEGA EXPOSURE: ${book.vega_dollars_per_point:.2f} per 1% IV (max: {s.vega_limit:g})")
        return alerts

    def monitor_greeks_limits(self, positions: Sequence[BookPosition],
                              greeks: Mapping[ContractSpec, ContractGreeks]
                              ) -> tuple[PortfolioGreeks, list[str]]:
        """Totals and alerts; enough simultaneous breaches hand over to manual mode (spec)."""
        book = self.calculate_portfolio_greeks(positions, greeks)
        alerts = self.limit_alerts(book)
        if alerts:
            self.log("\n".join(["=" * 60, "GREEKS RISK ALERT", *(f"  {a}" for a in alerts), "=" * 60]))
            if len(alerts) >= self.settings.breaches_for_manual:
                self.on_multiple_breaches(f"Multiple Greeks limits exceeded: {'; '.join(alerts)}")
        return book, alerts

    def suggest_hedge(self, book: PortfolioGreeks, hedge_instrument: str) -> list[str]:
        """The spec's hedge suggestions; the delta hedge is in ``hedge_instrument`` shares."""
        s = self.settings
        suggestions = []
        if abs(book.delta_shares) > s.hedge_delta:
            hedge = -book.delta_shares
            suggestions.append(
                f"Delta Hedge: {'Buy' if hedge > 0 else 'Sell'} {abs(hedge):.0f} {hedge_instrument} shares")
        if abs(book.gamma_shares) > s.hedge_gamma:
            suggestions.append("Gamma Hedge: Consider ATM straddle to reduce gamma exposure")
        if book.theta_dollars_per_day < s.hedge_theta:
            suggestions.append(f"Theta Warning: Losing ${abs(book.theta_dollars_per_day):.2f}/day to time decay")
        if abs(book.vega_dollars_per_point) > s.hedge_vega:
            direction = "short" if book.vega_dollars_per_point > 0 else "long"
            suggestions.append(f"Vega Hedge: Consider {direction} volatility to reduce vega")
        return suggestions
