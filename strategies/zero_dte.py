"""The Friday 0DTE credit spread: the trade Progressive Friday's parameters and the 0.5% rule drive.

Rule (framework source, every number a parameter): on a New York Friday with a same-day expiry,
inside the day's entry window (``FridaySettings.zero_dte``: 10:30 onwards), measure the move from
the day's open. |move| > ``zero-dte-move-pct``: a credit vertical; by default the move is *faded*
(an up-move sells a call spread, a down-move a put spread), ``zero-dte-mode=trend`` sells the other
side. Otherwise an iron condor. Short strikes are the listed same-day contracts whose |delta| (pricing
core, live mid) lies in [min, max] and is nearest their middle; each long wing is the listed strike
nearest ``zero-dte-wing-pct`` of the underlying further out. The order is one combo limit at the mid
credit minus a concession, never through the natural price. Exits ride on the trade book: profit
target and stop as multiples of the credit, time exit at ``s9b-0dte-exit-time``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from core.market import MarketSnapshot
from core.orders import ExitRule, OrderIntent, floor_to_tick
from core.settings import ZeroDteParameters, ZeroDteSettings
from pricing.chain import PricingInputs, greeks_for, usable_mid
from strategies.structures import Structure, legs_from_rows
from strategies.verdict import units_within


@dataclasses.dataclass(frozen=True)
class ZeroDtePlan:
    """A sized, ready order and what it is (credit per share, max loss in dollars per unit)."""

    kind: str
    intent: OrderIntent
    credit_mid: float
    natural_credit: float
    max_loss_per_unit: float
    move_pct: float
    progressive: bool


def _short_row(rows: list[int], deltas: dict[int, float], low: float, high: float) -> int | None:
    inside = [r for r in rows if low <= abs(deltas[r]) <= high]
    target = (low + high) / 2.0
    return min(inside, key=lambda r: abs(abs(deltas[r]) - target)) if inside else None


def plan_zero_dte(snap: MarketSnapshot, market: PricingInputs, rules: ZeroDteSettings,
                  params: ZeroDteParameters, progressive: bool, min_credit_scale: float,
                  max_risk_dollars: float, tick: float = 0.05) -> ZeroDtePlan | str:
    """The trade for this bar, or why there is none (every refusal names its reason)."""
    now = snap.time
    if not (snap.is_friday() and snap.has_same_day_expiry()):
        return "not a Friday with a same-day expiry"
    if not params.entry_start <= now.time() < params.entry_end:
        return f"outside the entry window {params.entry_start:%H:%M}-{params.entry_end:%H:%M}"
    move = snap.underlying.move_from_open_pct()
    if move.value is None or market.spot is None:
        return f"move from the open unavailable ({move.reason or 'no spot'})"
    chain = snap.chain
    mid = usable_mid(chain.bid, chain.ask, chain.quote_age_minutes, market.max_quote_age_minutes)
    today = np.datetime64(snap.today, "D")
    rows = [int(i) for i in np.flatnonzero((chain.expiry == today) & np.isfinite(mid))]
    greeks = greeks_for([chain.contracts[i] for i in rows], chain, market)
    deltas = {i: greeks[chain.contracts[i]].delta for i in rows if chain.contracts[i] in greeks}
    sides = _sides(move.value, rules)
    legs_rows: list[int] = []
    quantities: list[int] = []
    for is_call in sides:
        side = [i for i in deltas if bool(chain.is_call[i]) == is_call]
        short = _short_row(side, deltas, rules.short_delta_min, rules.short_delta_max)
        if short is None:
            return (f"no same-day {'call' if is_call else 'put'} with |delta| in "
                    f"[{rules.short_delta_min:g}, {rules.short_delta_max:g}]")
        sign = 1.0 if is_call else -1.0
        target = chain.strike[short] + sign * market.spot * rules.wing_pct / 100.0
        # a long wing is bought at its ask: any same-day contract of that right with an ask will do
        buyable = np.flatnonzero((chain.expiry == today) & (chain.is_call == is_call) & (chain.ask > 0))
        further = [int(i) for i in buyable if sign * (chain.strike[i] - chain.strike[short]) > 0]
        if not further:
            return f"no listed wing beyond the short {chain.strike[short]:g}"
        wing = min(further, key=lambda i: abs(chain.strike[i] - target))
        legs_rows += [short, wing]
        quantities += [-1, 1]
    structure = Structure("0DTE", legs_from_rows(chain, legs_rows, quantities))
    credit_mid, natural_credit = -structure.mid(), -structure.natural()
    need = params.min_credit * min_credit_scale
    if credit_mid < need:
        return f"credit {credit_mid:.2f} below the minimum {need:.2f}"
    widths = [abs(chain.strike[legs_rows[k + 1]] - chain.strike[legs_rows[k]]) for k in range(0, len(legs_rows), 2)]
    # the limit credit is on the tick, at most the mid less the concession, never below the natural credit
    limit_credit = max(floor_to_tick(credit_mid - rules.concession, tick), natural_credit)
    # only one side can finish in the money: at worst the widest side's width is owed; the loss is
    # counted at the limit credit, the least the order can fill for
    max_loss = (max(widths) - limit_credit) * structure.multiplier
    units = min(params.max_contracts, units_within(max_loss, max_risk_dollars * params.position_multiplier))
    if units < 1:
        return f"risk budget ${max_risk_dollars * params.position_multiplier:,.0f} allows no unit at max loss ${max_loss:,.0f}"
    kind = "0DTE Iron Condor" if len(sides) == 2 else f"0DTE {'Call' if sides[0] else 'Put'} Credit Spread"
    signals = (f"move {move.value:+.2f}% from the open", "progressive Friday" if progressive else "normal Friday",
               f"mode {rules.mode}")
    limit = -round(limit_credit, 10)
    rule = ExitRule(target_of_credit=params.profit_target, credit_stop_multiple=params.stop_loss_multiplier)
    intent = OrderIntent(kind, tuple(leg.order_leg() for leg in structure.legs), units, limit, now, signals,
                         max_loss=max_loss * units, value_range=(-max(widths), 0.0), exit_rule=rule).priced_at(limit)
    return ZeroDtePlan(kind, intent, credit_mid, natural_credit, max_loss, move.value, progressive)


def _sides(move_pct: float, rules: ZeroDteSettings) -> tuple[bool, ...]:
    """Which sides to sell (True = call): both for a small move, else one by the fade/trend rule."""
    if abs(move_pct) <= rules.move_threshold_pct:
        return (False, True)
    up = move_pct > 0
    return ((up,) if rules.mode == "fade" else (not up,))
