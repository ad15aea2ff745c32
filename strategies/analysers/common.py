"""What every analyser shares: choosing real contracts from the chain, the bar's context, the VIX and
spot gates, pricing a chosen structure, and the step function of the score formulas. One module
because every analyser calls all of it and nothing outside the analysers uses it.

Choosing contracts (liquid quotes, the listed expiry nearest a DTE target, listed strikes nearest a
target price, ATM IV), vectorised over :class:`core.market.ChainColumns` columns. Nothing is rounded to
a strike that might not exist: a target price (ATM, ATM - width, ...) is mapped to the nearest strike
actually listed, with a quote passing :func:`liquid_mask`, for that expiry and right.

The bar as the analysers see it (:class:`Context`), the gates most of them share in the spec's order,
and a chosen structure priced (natural, mid, limit) with its exact expiry risk and net Greeks.

Scores are 0-100, given as (component, points) :data:`Parts` so a verdict shows how it was reached;
each analyser's formula stands next to it, built from the step function :func:`tier`. The butterfly's
formula is the spec's ``score_butterfly_setup``. The spec names but does not give the others; each
follows the same pattern (three or four components, tiers, total capped at 100) and rewards what its
strategy needs. Per-share credits are compared with the spec's SPY numbers times ``scale`` (see
:mod:`strategies.params`); percentages are of the underlying's price; IVs in vol points.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from core.market import ChainColumns, MarketSnapshot
from pricing.chain import PricingInputs, implied_vols, years_to_settlement
from strategies.params import AnalyserParams, Liquidity, dte_window
from strategies.structures import Structure, same_expiry_profile
from strategies.valuation import NetGreeks, net_greeks
from strategies.verdict import NetPrices, Setup, StrategyAnalysis, refuse

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

Parts = tuple[tuple[str, float], ...]

NO_PRICING_INPUTS = "pricing inputs (rate, dividend yield) not given"


# --- choosing contracts from the chain ---------------------------------------------------------------

def liquid_mask(chain: ChainColumns, rules: Liquidity) -> BoolArray:
    """Rows whose quote is tradeable: bid > 0, ask >= bid, spread <= max(pct of mid, allowance),
    open interest >= the minimum (unknown OI fails when a minimum is set), quote fresh enough."""
    bid, ask = chain.bid, chain.ask
    with np.errstate(invalid="ignore"):
        two_sided = np.isfinite(bid) & np.isfinite(ask) & (bid > 0) & (ask >= bid)
        mid = (bid + ask) / 2.0
        tight = (ask - bid) <= np.maximum(rules.max_spread_pct / 100.0 * mid, rules.spread_allowance) + 1e-12
        interest = (chain.open_interest >= rules.min_open_interest) if rules.min_open_interest > 0 else True
        fresh = chain.quote_age_minutes <= rules.max_quote_age_minutes
    return np.asarray(two_sided & tight & interest & fresh, dtype=np.bool_)


def why_illiquid(chain: ChainColumns, row: int, rules: Liquidity) -> str:
    """The first liquidity rule a row fails (for refusal messages)."""
    bid, ask = float(chain.bid[row]), float(chain.ask[row])
    name = chain.contracts[row].describe()
    if not (np.isfinite(bid) and np.isfinite(ask) and bid > 0 and ask >= bid):
        return f"{name}: no two-sided quote (bid {bid:g}, ask {ask:g})"
    mid = (bid + ask) / 2.0
    if ask - bid > max(rules.max_spread_pct / 100.0 * mid, rules.spread_allowance) + 1e-12:
        return f"{name}: spread {ask - bid:.2f} wider than {rules.max_spread_pct:g}% of mid {mid:.2f}"
    oi = float(chain.open_interest[row])
    if rules.min_open_interest > 0 and not oi >= rules.min_open_interest:
        shown = f"{oi:g}" if np.isfinite(oi) else "unknown"
        return f"{name}: open interest {shown} below {rules.min_open_interest:g}"
    return f"{name}: quote {float(chain.quote_age_minutes[row]):g} minutes old"


def days_to(chain: ChainColumns, today: date) -> NDArray[np.int64]:
    """Calendar days from ``today`` to each row's expiry."""
    return np.asarray((chain.expiry - np.datetime64(today, "D")).astype(np.int64))


def nearest_expiry(chain: ChainColumns, today: date, target_days: int, tolerance_ratio: float
                   ) -> tuple[date | None, str]:
    """The listed expiry (not before today) nearest ``target_days`` (ties: the earlier), or why none:
    an expiry outside [target/ratio, target*ratio] days is not near the target."""
    days = np.unique(days_to(chain, today))
    days = days[days >= 0]
    if days.size == 0:
        return None, "no listed expiries"
    best = int(days[np.argmin(np.abs(days - target_days))])
    low, high = dte_window(target_days, tolerance_ratio)
    chosen = today + timedelta(days=best)
    if not low <= best <= high:
        return None, (f"nearest expiry to {target_days} DTE is {chosen.isoformat()} ({best} DTE), "
                      f"outside {low:g}..{high:g} DTE")
    return chosen, ""


def side_rows(chain: ChainColumns, expiry: date, is_call: bool, usable: BoolArray) -> IntArray:
    """Usable rows of one expiry and right, sorted by strike."""
    rows = np.flatnonzero(usable & (chain.expiry == np.datetime64(expiry, "D")) & (chain.is_call == is_call))
    return rows[np.argsort(chain.strike[rows], kind="stable")]


def nearest_row(chain: ChainColumns, rows: IntArray, target: float, above: float | None = None,
                below: float | None = None) -> int | None:
    """Row of ``rows`` whose strike is nearest ``target`` (ties: the lower strike), optionally only
    strikes strictly above ``above`` and/or strictly below ``below``; None when there is none."""
    strikes = chain.strike[rows]
    keep = np.ones(rows.shape, dtype=np.bool_)
    if above is not None:
        keep &= strikes > above
    if below is not None:
        keep &= strikes < below
    if not keep.any():
        return None
    candidates, strikes = rows[keep], strikes[keep]
    return int(candidates[np.lexsort((strikes, np.abs(strikes - target)))[0]])


def atm_iv(chain: ChainColumns, expiry: date, spot: float, usable: BoolArray, market: PricingInputs,
           strikes_tried: int = 3) -> tuple[float, str]:
    """Implied volatility at the money for one expiry: the mean of the call and put IVs (from their
    mids) at the liquid strike nearest spot that has one (trying the ``strikes_tried`` nearest);
    NaN and why when there is none."""
    rows = np.flatnonzero(usable & (chain.expiry == np.datetime64(expiry, "D")))
    if rows.size == 0:
        return float("nan"), f"no liquid quotes for {expiry.isoformat()}"
    distance = np.abs(chain.strike[rows] - spot)
    near = np.unique(distance)[:strikes_tried]
    rows = rows[np.isin(distance, near)]
    t = years_to_settlement(market.now, chain.expiry[rows], [chain.contracts[r].settles_at_open for r in rows])
    mid = (chain.bid[rows] + chain.ask[rows]) / 2.0
    ivs = implied_vols(mid, spot, chain.strike[rows], t, chain.is_call[rows], market)
    good = np.isfinite(ivs)
    if not good.any():
        return float("nan"), f"no implied volatility near the money for {expiry.isoformat()}"
    strikes = chain.strike[rows][good]
    nearest = strikes[np.argmin(np.abs(strikes - spot))]
    return float(np.mean(ivs[good][strikes == nearest])), ""


def nearest_shared_strike(chain: ChainColumns, rows_a: IntArray, rows_b: IntArray, spot: float) -> float | None:
    """The strike nearest ``spot`` listed in both row sets (ties: the lower), None when none is shared."""
    shared = np.intersect1d(chain.strike[rows_a], chain.strike[rows_b])
    if shared.size == 0:
        return None
    return float(shared[np.lexsort((shared, np.abs(shared - spot)))[0]])


# --- the bar as the analysers see it, and a chosen structure priced ---------------------------------

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
    """The listed expiry nearest the target (see :func:`nearest_expiry`)."""
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


# --- scoring -----------------------------------------------------------------------------------------

def tier(value: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Points of the first (threshold, points) whose threshold ``value`` reaches, else 0."""
    for threshold, points in tiers:
        if value >= threshold:
            return points
    return 0.0
