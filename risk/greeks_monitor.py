"""GreeksMonitor: position and portfolio Greeks against the spec's limits, alerts, hedge ideas.

Units (the unit is in every name): a position's Greeks are per-share Greeks × multiplier × signed
quantity, so delta and gamma are share-equivalents (gamma per $1 move), theta is $/day, vega $ per
vol point, rho $ per rate point. Dollar delta = delta × underlying price. Stock and futures positions
carry delta = quantity × multiplier and nothing else (read multipliers from the contract: /ES is 50,
/MES 5, options 100). Beta-weighted delta is in shares of the beta reference (SPY): dollar delta ×
beta / reference price; the S&P 500 family (SPX, SPXW, SPY, XSP, ES, MES) has beta 1 by construction,
any other underlying has no beta here and its beta-weighted delta is unavailable rather than guessed.
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
    """One holding's Greeks in position units; ``iv``/``source`` say how its volatility was found."""

    name: str
    quantity: float
    delta_shares: float
    dollar_delta: float
    gamma_shares: float
    theta_dollars_per_day: float
    vega_dollars_per_point: float
    rho_dollars_per_point: float
    underlying: str
    iv: float = float("nan")
    source: str = "linear"


@dataclasses.dataclass(frozen=True)
class PortfolioGreeks:
    """Book totals; ``missing`` names option positions whose Greeks could not be computed."""

    delta_shares: float
    dollar_delta: float
    gamma_shares: float
    theta_dollars_per_day: float
    vega_dollars_per_point: float
    rho_dollars_per_point: float
    beta_weighted_delta: Reading
    positions: tuple[PositionGreeks, ...]
    missing: tuple[str, ...]

    @property
    def underlyings(self) -> frozenset[str]:
        return frozenset(r.underlying.upper() for r in self.positions)

    def delta_reading(self) -> Reading:
        """The delta the limits apply to, unavailable when any position's Greeks are missing.

        One underlying: share-equivalents of it. Several (e.g. SPX options hedged with SPY shares):
        their share-equivalents are different units, so the beta-weighted delta in reference shares
        is used, and it is unavailable when it cannot be computed (fail closed)."""
        if self.missing:
            return Reading.missing(f"Greeks unavailable for {', '.join(self.missing)}")
        if len(self.underlyings) <= 1:
            return Reading(self.delta_shares)
        weighted = self.beta_weighted_delta
        if weighted.value is None:
            return Reading.missing(f"mixed underlyings and {weighted.reason}")
        return Reading(weighted.value, "beta-weighted, mixed underlyings")


def _position(position: BookPosition, greeks: ContractGreeks | None) -> PositionGreeks | None:
    scale = position.quantity * position.multiplier
    price = position.underlying_price
    if position.contract is None:
        return PositionGreeks(position.name, position.quantity, scale, scale * price, 0.0, 0.0, 0.0, 0.0,
                              position.underlying or position.name)
    if greeks is None or not greeks.is_finite():
        return None
    delta = greeks.delta * scale
    return PositionGreeks(
        position.name, position.quantity, delta, delta * price, greeks.gamma * scale,
        greeks.theta_per_day * scale, greeks.vega_per_point * scale, greeks.rho_per_point * scale,
        position.underlying, greeks.iv, greeks.source)


def beta_weighted(rows: Sequence[PositionGreeks], reference_price: Reading) -> Reading:
    """Σ dollar delta × beta / reference price, in reference shares; unavailable when unknowable."""
    if reference_price.value is None or reference_price.value <= 0:
        return Reading.missing(f"beta reference price {reference_price.reason or 'not positive'}")
    unknown = sorted({r.underlying for r in rows if r.underlying.upper() not in SP500_FAMILY})
    if unknown:
        return Reading.missing(f"no beta to the reference for {', '.join(unknown)}")
    if any(not math.isfinite(r.dollar_delta) for r in rows):
        return Reading.missing("an underlying price is unavailable")
    return Reading(sum(r.dollar_delta for r in rows) / reference_price.value)


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
        return PortfolioGreeks(
            delta_shares=sum(r.delta_shares for r in rows),
            dollar_delta=sum(r.dollar_delta for r in rows),
            gamma_shares=sum(r.gamma_shares for r in rows),
            theta_dollars_per_day=sum(r.theta_dollars_per_day for r in rows),
            vega_dollars_per_point=sum(r.vega_dollars_per_point for r in rows),
            rho_dollars_per_point=sum(r.rho_dollars_per_point for r in rows),
            beta_weighted_delta=beta_weighted(rows, reference_price),
            positions=tuple(rows), missing=tuple(missing))

    def limit_alerts(self, book: PortfolioGreeks) -> list[str]:
        """The spec's alert lines for every limit the book breaches."""
        s = self.settings
        alerts = []
        delta = book.delta_reading()
        if delta.value is not None and abs(delta.value) > s.delta_limit:
            unit = f" {delta.reason}" if delta.reason else ""
            alerts.append(f"DELTA LIMIT: {delta.value:.2f}{unit} (max: {s.delta_limit:g})")
        if abs(book.gamma_shares) > s.gamma_limit:
            alerts.append(f"GAMMA LIMIT: {book.gamma_shares:.2f} (max: {s.gamma_limit:g})")
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

    def suggest_hedge(self, book: PortfolioGreeks, underlying: str, reference: str) -> list[str]:
        """The spec's hedge suggestions. The delta hedge is in ``reference`` (SPY) shares from the
        beta-weighted delta when it is known, else in ``underlying`` share-equivalents."""
        s = self.settings
        suggestions = []
        delta = book.delta_reading()
        if delta.value is not None and abs(delta.value) > s.hedge_delta:
            weighted = book.beta_weighted_delta.value
            hedge, instrument = ((-weighted, f"{reference} shares (beta-weighted)") if weighted is not None
                                 else (-delta.value, f"{underlying} share-equivalents"))
            suggestions.append(f"Delta Hedge: {'Buy' if hedge > 0 else 'Sell'} {abs(hedge):.0f} {instrument}")
        if abs(book.gamma_shares) > s.hedge_gamma:
            suggestions.append("Gamma Hedge: Consider ATM straddle to reduce gamma exposure")
        if book.theta_dollars_per_day < s.hedge_theta:
            suggestions.append(f"Theta Warning: Losing ${abs(book.theta_dollars_per_day):.2f}/day to time decay")
        if abs(book.vega_dollars_per_point) > s.hedge_vega:
            direction = "short" if book.vega_dollars_per_point > 0 else "long"
            suggestions.append(f"Vega Hedge: Consider {direction} volatility to reduce vega")
        return suggestions
