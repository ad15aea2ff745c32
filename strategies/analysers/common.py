"""What every analyser shares: the bar's context, the VIX gate, and pricing a chosen structure."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

import numpy as np

from core.market import MarketSnapshot
from pricing.chain import PricingInputs
from strategies.chain_select import BoolArray, liquid_mask, nearest_expiry, nearest_row, side_rows, why_illiquid
from strategies.params import AnalyserParams
from strategies.structures import Structure, same_expiry_profile
from strategies.valuation import NetGreeks, net_greeks
from strategies.verdict import NetPrices, Setup, StrategyAnalysis, refuse

NO_PRICING_INPUTS = "pricing inputs (rate, dividend yield) not given"


@dataclasses.dataclass(frozen=True)
class Context:
    """One bar as the analysers see it; ``usable`` marks the chain rows passing the liquidity rules."""

    snap: MarketSnapshot
    params: AnalyserParams
    market: PricingInputs | None
    usable: BoolArray

    @staticmethod
    def build(snap: MarketSnapshot, params: AnalyserParams, market: PricingInputs | None) -> Context:
        return Context(snap, params, market, liquid_mask(snap.chain, params.liquidity))

    @property
    def spot(self) -> float | None:
        return self.snap.underlying.price.value

    def scale(self) -> float:
        """SPY points -> this underlying's points (needs the spot)."""
        assert self.spot is not None
        return self.params.scale(self.spot)


def spot_problem(ctx: Context) -> str | None:
    """Why the underlying price cannot be used, or None."""
    price = ctx.snap.underlying.price
    return None if price.value is not None else f"Underlying price unavailable ({price.reason})"


def vix_problem(ctx: Context, low: float | None, high: float | None) -> tuple[float, str | None]:
    """(VIX, None) when VIX is within [low, high]; otherwise (nan, the reason it is not)."""
    vix = ctx.snap.vix.price
    if vix.value is None:
        return float("nan"), f"VIX unavailable ({vix.reason})"
    if low is not None and vix.value < low:
        return float("nan"), f"VIX too low: {vix.value:.2f} < {low:g}"
    if high is not None and vix.value > high:
        return float("nan"), f"VIX too high: {vix.value:.2f} > {high:g}"
    return vix.value, None


def expiry_for(ctx: Context, target_days: int) -> tuple[date | None, str]:
    """The listed expiry nearest the target (see :func:`strategies.chain_select.nearest_expiry`)."""
    return nearest_expiry(ctx.snap.chain, ctx.snap.today, target_days, ctx.params.dte_tolerance_ratio)


def greeks_of(ctx: Context, structure: Structure) -> NetGreeks:
    if ctx.market is None or ctx.spot is None:
        return NetGreeks.missing(NO_PRICING_INPUTS)
    return net_greeks(structure, ctx.spot, ctx.market)


def same_expiry_setup(ctx: Context, strategy: str, structure: Structure, signals: tuple[str, ...]) -> Setup:
    """Prices (natural, mid, limit), exact expiry risk at the limit, and net Greeks."""
    prices = NetPrices.of(structure, ctx.params.limit_tick)
    risk = same_expiry_profile(structure, prices.limit)
    return Setup(strategy, structure, prices, risk, greeks_of(ctx, structure), signals)


def pick_row(ctx: Context, expiry: date, is_call: bool, target: float, above: float | None = None,
             below: float | None = None) -> tuple[int | None, str]:
    """The liquid listed contract nearest ``target`` (optionally strictly above/below a strike), or why none."""
    rows = side_rows(ctx.snap.chain, expiry, is_call, ctx.usable)
    row = nearest_row(ctx.snap.chain, rows, target, above, below)
    if row is not None:
        return row, ""
    right = "call" if is_call else "put"
    limits = "".join([f" above {above:g}" if above is not None else "", f" below {below:g}" if below is not None else ""])
    return None, f"No liquid {expiry.isoformat()} {right} listed{limits} (target strike {target:.2f})"


def anchor_row(ctx: Context, expiry: date, is_call: bool, target: float) -> tuple[int | None, str]:
    """The listed contract nearest ``target`` whatever its quote (ties: the lower strike), refused with
    the liquidity reason when its quote fails: the at-the-money anchor of a structure never drifts to
    another strike because the nearest one is illiquid (outer strikes snap to liquid ones instead)."""
    chain = ctx.snap.chain
    rows = side_rows(chain, expiry, is_call, np.ones(len(chain), dtype=np.bool_))
    row = nearest_row(chain, rows, target)
    if row is None:
        return None, f"No {expiry.isoformat()} {'call' if is_call else 'put'} listed"
    if not ctx.usable[row]:
        return None, f"At-the-money leg not tradeable: {why_illiquid(chain, row, ctx.params.liquidity)}"
    return row, ""


def gated_structure(ctx: Context, name: str, vix_low: float | None, vix_high: float | None, target_days: int,
                    build: Callable[[Context, date], tuple[Structure | None, str]]
                    ) -> tuple[float, Structure] | StrategyAnalysis:
    """The gates most analysers share, in the spec's order (VIX range, spot, listed expiry nearest the
    target, a buildable structure): (VIX, structure), or the refusal naming the first that failed."""
    vix, why = vix_problem(ctx, vix_low, vix_high)
    why = why or spot_problem(ctx)
    if why is not None:
        return refuse(name, why)
    expiry, why = expiry_for(ctx, target_days)
    if expiry is None:
        return refuse(name, f"No suitable expiration: {why}")
    structure, why = build(ctx, expiry)
    if structure is None:
        return refuse(name, why)
    return vix, structure
