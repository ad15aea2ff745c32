"""The order gate: may this order reach the broker now? A yes/no with a reason, and nothing else.

Every refusal rule lives here, each a small check that only answers (after NautilusTrader's risk
engine: ``_check_*`` functions and a denial with its reason). The gate changes no state: when a
rule also demands a safer automation state (an order over the size limit, the order rate broken) the
decision names that escalation and the caller applies it; the rate window counts an order only once
it was actually sent (:class:`risk.manual_mode.OrderRateWindow`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

from core.orders import OrderIntent
from core.settings import ManualModeSettings
from risk.manual_mode import AutomationState, Escalation, GateDecision


ALLOW = GateDecision(True)


def reduces_only(intent: OrderIntent, holdings: Mapping[str, float]) -> bool:
    """True when every leg trades against an existing position in that exact contract, by no more
    than its size (a close or partial close; never an opening or a flip)."""
    for leg in intent.legs:
        held = holdings.get(leg.key, 0.0)
        traded = leg.quantity * intent.units
        if held == 0 or traded == 0 or (held > 0) == (traded > 0) or abs(traded) > abs(held):
            return False
    return True


@dataclasses.dataclass(frozen=True)
class GateContext:
    """What the gate looks at besides the order: the automation state and why, the holdings (instrument
    keys ``OrderLeg.key`` -> signed quantity), the orders sent in the last 60 s, and for REDUCE_ONLY the
    breached measures (active trigger names) with the book's delta, its limit and the order's effect on
    it (all in shares of the beta reference; None when unknown); ``delta_only``: the order has no
    option leg (its gamma, theta and vega are zero)."""

    state: AutomationState
    state_reason: str
    holdings: Mapping[str, float]
    sent_last_minute: int = 0
    breached: frozenset[str] = frozenset()
    book_delta: float | None = None
    delta_limit: float = math.inf
    delta_effect: float | None = None
    delta_only: bool = False


#: Triggers a delta hedge can answer: the delta limit, and the Greeks limits together (its other
#: Greeks are zero, so it moves none of them the wrong way). Stale data, VIX, a lost stream... are not.
HEDGEABLE = frozenset({"delta", "greeks"})


def reduces_breached_delta(ctx: GateContext) -> bool:
    """The delta limit is breached, nothing a hedge cannot answer is, and the order (delta only: shares
    or futures, no gamma, theta or vega) moves |book delta| toward zero without crossing to the other
    side beyond the limit."""
    book, effect = ctx.book_delta, ctx.delta_effect
    if (book is None or effect is None or not ctx.delta_only or abs(book) <= ctx.delta_limit
            or not ctx.breached or not ctx.breached <= HEDGEABLE):
        return False
    after = book + effect
    return abs(after) < abs(book) and (after * book >= 0 or abs(after) <= ctx.delta_limit)


def _reduces(intent: OrderIntent, ctx: GateContext) -> bool:
    """What REDUCE_ONLY admits: closing existing positions, or reducing the breached risk."""
    return reduces_only(intent, ctx.holdings) or reduces_breached_delta(ctx)


class OrderGate:
    """The checks, in order: what the broker rejects, the order's own promise, the automation state,
    then the order rate. ``state_for`` maps a trigger name to the state its parameter demands."""

    def __init__(self, settings: ManualModeSettings, combo_market_orders: bool,
                 state_for: Callable[[str], AutomationState]) -> None:
        self.settings = settings
        self.combo_market_orders = combo_market_orders
        self.state_for = state_for

    def check(self, intent: OrderIntent, ctx: GateContext) -> GateDecision:
        for rule in (self._check_combo_market, self._check_size, self._check_reduce_promise):
            decision = rule(intent, ctx.holdings)
            if decision is not None:
                return decision
        return self._check_state(intent, ctx) or self._check_rate(intent, ctx) or ALLOW

    def _check_combo_market(self, intent: OrderIntent, _holdings: Mapping[str, float]) -> GateDecision | None:
        if len(intent.legs) > 1 and intent.limit_price is None and not self.combo_market_orders:
            return GateDecision(False, "combo market orders are rejected by tastytrade; a limit is required")
        return None

    def _check_size(self, intent: OrderIntent, _holdings: Mapping[str, float]) -> GateDecision | None:
        limit = self.settings.max_contracts_per_order
        if intent.contracts_total() <= limit:
            return None
        reason = f"Order size: {intent.contracts_total()} contracts > limit {limit} ({intent.strategy})"
        return GateDecision(False, reason, Escalation("order_size", reason, str(intent.contracts_total())))

    @staticmethod
    def _check_reduce_promise(intent: OrderIntent, holdings: Mapping[str, float]) -> GateDecision | None:
        if intent.reduces_only and not reduces_only(intent, holdings):
            return GateDecision(False, "marked reduce-only but does not only reduce current holdings "
                                       "(already closed?)")
        return None

    @staticmethod
    def _check_state(intent: OrderIntent, ctx: GateContext) -> GateDecision | None:
        if ctx.state is AutomationState.MANUAL:
            return GateDecision(False, f"MANUAL: {ctx.state_reason}")
        if ctx.state is AutomationState.REDUCE_ONLY and not _reduces(intent, ctx):
            return GateDecision(False, f"REDUCE_ONLY (order would not only reduce positions or the breached risk): "
                                       f"{ctx.state_reason}")
        return None

    def _check_rate(self, intent: OrderIntent, ctx: GateContext) -> GateDecision | None:
        """Over the rate the trigger escalates; what the escalated state still admits goes through."""
        limit, sent = self.settings.max_orders_per_minute, ctx.sent_last_minute
        if sent < limit:
            return None
        reason = f"Order rate: {sent + 1} orders within 60 s > limit {limit}"
        escalation = Escalation("order_rate", reason, str(sent + 1))
        after = max(ctx.state, self.state_for("order_rate"))
        if after is AutomationState.REDUCE_ONLY and _reduces(intent, ctx):
            return GateDecision(True, reason, escalation)
        return GateDecision(False, reason, escalation)
