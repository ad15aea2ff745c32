"""Choosing real contracts from the chain: liquid quotes, the listed expiry nearest a DTE target,
listed strikes nearest a target price. Vectorised over :class:`core.market.ChainColumns` columns.

Nothing is rounded to a strike that might not exist: a target price (ATM, ATM - width, ...) is mapped
to the nearest strike actually listed, with a quote passing :func:`liquid_mask`, for that expiry
and right.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from core.market import ChainColumns
from pricing.chain import PricingInputs, implied_vols, years_to_settlement
from strategies.params import Liquidity, dte_window

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]


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
