"""GreeksMonitor: position and portfolio Greeks against the spec's limits, alerts, hedge ideas.

One declared unit for book risk, whatever is held: **shares of the beta reference** (``greeks-beta-
reference``, SPY by default). A position's own Greeks are per-share Greeks × multiplier × signed
quantity (delta and gamma in its underlying's share-equivalents, gamma per $1 of that underlying).
The book's delta is the beta-weighted sum: Σ delta × beta × underlying price / reference price (SPY
shares); its gamma likewise per $1 move of the reference: Σ gamma × (beta × underlying price /
reference price)². So one SPX call and one SPY share add up, and a limit of 100 means the same exposure
(100 SPY shares, about $45,000 of S&P 500 at 450) for an SPX book, a SPY book or both. Dollar gamma per
1% move (Σ gamma × S² / 100) is reported beside it. Theta is $/day, vega $ per vol point, rho $ per rate
point: dollars, which add across underlyings as they are. Stock and futures carry delta = quantity ×
multiplier and nothing else (/ES is 50, /MES 5, options 100). The S&P 500 family (SPX, SPXW, SPY, XSP,
ES, MES) has beta 1 by construction; any other underlying has no beta here, so the book's delta is
unavailable rather than guessed (and an unmeasurable book fails closed in manual mode).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

from core.market import BookPosition, ContractSpec, Reading
from core.settings import GreeksSettings
from pricing.chain import ContractGreeks

SP500_FAMILY = frozenset({"SPX", "SPXW", "SPY", "XSP", "ES", "/ES", "MES", "/MES"})


@dataclasses.dataclass(frozen=True)
class PositionGreeks:
    """One holding's Greeks in its underlying's units (see the module docstring); ``iv``/``source``
    say how its volatility was found."""

    name: str
    quantity: float
    delta_shares: float
    gamma_shares: float
    theta_dollars_per_day: float
    vega_dollars_per_point: float
    rho_dollars_per_point: float
    underlying: str
    underlying_price: float
    iv: float = float("nan")
    source: str = "linear"

    @property
    def dollar_delta(self) -> float:
        return self.delta_shares * self.underlying_price

    @property
    def dollar_gamma_per_pct(self) -> float:
        """Change of the dollar delta for a 1% move of the underlying ($ per 1%)."""
        return self.gamma_shares * self.underlying_price ** 2 / 100.0


@dataclasses.dataclass(frozen=True)
class PortfolioGreeks:
    """Book totals. ``delta`` and ``gamma`` are in the beta reference's shares (the limits' unit; a
    Reading that says why when it cannot be computed); ``missing`` names option positions whose Greeks
    could not be computed."""

    delta: Reading
    gamma: Reading
    dollar_delta: float
    dollar_gamma_per_pct: float
    theta_dollars_per_day: float
    vega_dollars_per_point: float
    rho_dollars_per_point: float
    positions: tuple[PositionGreeks, ...]
    missing: tuple[str, ...]
    reference: str = "SPY"

    @property
    def underlyings(self) -> frozenset[str]:
        return frozenset(r.underlying.upper() for r in self.positions)

    @property
    def measurable(self) -> bool:
        return not self.missing and self.delta.value is not None and self.gamma.value is not None

    def delta_reading(self) -> Reading:
        """The delta the limits apply to (reference shares), unavailable when any position is."""
        if self.missing:
            return Reading.missing(f"Greeks unavailable for {', '.join(self.missing)}")
        return self.delta


def _position(position: BookPosition, greeks: ContractGreeks | None) -> PositionGreeks | None:
    scale = position.quantity * position.multiplier
    price = position.underlying_price
    if position.contract is None:
        return PositionGreeks(position.name, position.quantity, scale, 0.0, 0.0, 0.0, 0.0,
                              position.underlying or position.name, price)
    if greeks is None or not greeks.is_finite():
        return None
    return PositionGreeks(
        position.name, position.quantity, greeks.delta * scale, greeks.gamma * scale,
        greeks.theta_per_day * scale, greeks.vega_per_point * scale, greeks.rho_per_point * scale,
        position.underlying, price, greeks.iv, greeks.source)


def _reference_ratios(rows: Sequence[PositionGreeks], reference_price: Reading) -> list[float] | str:
    """beta × underlying price / reference price of each row, or why it cannot be known."""
    if reference_price.value is None or reference_price.value <= 0:
        return f"beta reference price {reference_price.reason or 'not positive'}"
    unknown = sorted({r.underlying for r in rows if r.underlying.upper() not in SP500_FAMILY})
    if unknown:
        return f"no beta to the reference for {', '.join(unknown)}"
    if any(not (math.isfinite(r.underlying_price) and r.underlying_price > 0) for r in rows):
        return "an underlying price is unavailable"
    return [r.underlying_price / reference_price.value for r in rows]


def beta_weighted(rows: Sequence[PositionGreeks], reference_price: Reading) -> tuple[Reading, Reading]:
    """(delta in reference shares, gamma in reference shares per $1 of the reference), or why not."""
    ratios = _reference_ratios(rows, reference_price)
    if isinstance(ratios, str):
        return Reading.missing(ratios), Reading.missing(ratios)
    return (Reading(sum(r.delta_shares * k for r, k in zip(rows, ratios))),
            Reading(sum(r.gamma_shares * k * k for r, k in zip(rows, ratios))))


class GreeksMonitor:
    """Aggregates the book's Greeks and applies the spec's limits and hedge rules."""

    def __init__(self, settings: GreeksSettings, on_multiple_breaches: Callable[[str], None],
                 log: Callable[[str], None]) -> None:
        self.settings = settings
        self.on_multiple_breaches = on_multiple_breaches
        self.log = log
        self._breached: frozenset[str] = frozenset()

    def calculate_portfolio_greeks(self, positions: Sequence[BookPosition],
                                   greeks: Mapping[ContractSpec, ContractGreeks],
                                   reference_price: Reading = Reading.missing("no beta reference")
                                   ) -> PortfolioGreeks:
        rows: list[PositionGreeks] = []
        missing: list[str] = []
        for position in positions:
            found = greeks.get(position.contract) if position.contract is not None else None
            row = _position(position, found)
            if row is None:
                missing.append(position.name)
            else:
                rows.append(row)
        delta, gamma = beta_weighted(rows, reference_price)
        return PortfolioGreeks(
            delta=delta, gamma=gamma,
            dollar_delta=sum(r.dollar_delta for r in rows),
            dollar_gamma_per_pct=sum(r.dollar_gamma_per_pct for r in rows),
            theta_dollars_per_day=sum(r.theta_dollars_per_day for r in rows),
            vega_dollars_per_point=sum(r.vega_dollars_per_point for r in rows),
            rho_dollars_per_point=sum(r.rho_dollars_per_point for r in rows),
            positions=tuple(rows), missing=tuple(missing), reference=self.settings.beta_reference.upper())

    def limit_alerts(self, book: PortfolioGreeks) -> list[str]:
        """The spec's alert lines for every limit the book breaches."""
        s, unit = self.settings, f"{book.reference} shares"
        alerts = []
        delta, gamma = book.delta_reading(), book.gamma
        if delta.value is not None and abs(delta.value) > s.delta_limit:
            alerts.append(f"DELTA LIMIT: {delta.value:.2f} {unit} (max: {s.delta_limit:g})")
        if gamma.value is not None and abs(gamma.value) > s.gamma_limit:
            alerts.append(f"GAMMA LIMIT: {gamma.value:.2f} {unit} per $1 (max: {s.gamma_limit:g})")
        if book.theta_dollars_per_day < s.theta_limit:
            alerts.append(f"THETA DECAY: ${book.theta_dollars_per_day:.2f}/day (limit: {s.theta_limit:g})")
        if abs(book.vega_dollars_per_point) > s.vega_limit:
            alerts.append(f"VEGA EXPOSURE: ${book.vega_dollars_per_point:.2f} per 1% IV (max: {s.vega_limit:g})")
        return alerts

    def monitor_greeks_limits(self, book: PortfolioGreeks) -> list[str]:
        """Alerts for ``book``; enough simultaneous breaches hand over to manual mode (spec)."""
        alerts = self.limit_alerts(book)
        breached = frozenset(a.split(":")[0] for a in alerts)
        if alerts and breached != self._breached:  # log when the set of breached limits changes
            self.log("\n".join(["=" * 60, "GREEKS RISK ALERT", *(f"  {a}" for a in alerts), "=" * 60]))
        self._breached = breached
        if alerts:
            if len(alerts) >= self.settings.breaches_for_manual:
                self.on_multiple_breaches(f"Multiple Greeks limits exceeded: {'; '.join(alerts)}")
        return alerts

    def suggest_hedge(self, book: PortfolioGreeks) -> list[str]:
        """The spec's hedge suggestions; the delta hedge in shares of the beta reference (SPY)."""
        s = self.settings
        suggestions = []
        delta = book.delta_reading()
        if delta.value is not None and abs(delta.value) > s.hedge_delta:
            hedge = -delta.value
            suggestions.append(f"Delta Hedge: {'Buy' if hedge > 0 else 'Sell'} {abs(hedge):.0f} "
                               f"{book.reference} shares (beta-weighted)")
        if book.gamma.value is not None and abs(book.gamma.value) > s.hedge_gamma:
            suggestions.append("Gamma Hedge: Consider ATM straddle to reduce gamma exposure")
        if book.theta_dollars_per_day < s.hedge_theta:
            suggestions.append(f"Theta Warning: Losing ${abs(book.theta_dollars_per_day):.2f}/day to time decay")
        if abs(book.vega_dollars_per_point) > s.hedge_vega:
            direction = "short" if book.vega_dollars_per_point > 0 else "long"
            suggestions.append(f"Vega Hedge: Consider {direction} volatility to reduce vega")
        return suggestions
