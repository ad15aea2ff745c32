"""The order gate: may this order reach the broker now? A yes/no with a reason, and nothing else.

Every refusal rule lives here, each a small check that only answers (after NautilusTrader's risk
engine: ``_check_*`` functions and a denial with its reason). The gate changes no state: when a
rule also demands a safer automation state (an order over the size limit, the order rate broken) the
decision names that escalation and the caller applies it; the rate window counts an order only once
it was actually sent (:class:`risk.manual_mode.OrderRateWindow`).
"""
from __future__ import annotations

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


class OrderGate:
    """The checks, in order: what the broker rejects, the order's own promise, the automation state,
    then the order rate. ``state_for`` maps a trigger name to the state its parameter demands."""

    def __init__(self, settings: ManualModeSettings, combo_market_orders: bool,
                 state_for: Callable[[str], AutomationState]) -> None:
        self.settings = settings
        self.combo_market_orders = combo_market_orders
        self.state_for = state_for

    def check(self, intent: OrderIntent, state: AutomationState, state_reason: str,
              holdings: Mapping[str, float], sent_last_minute: int) -> GateDecision:
        """``state_reason`` is why the fallback is in ``state``; ``holdings`` maps instrument keys
        (``OrderLeg.key``) to signed quantities held; ``sent_last_minute`` from the rate window."""
        for rule in (self._check_combo_market, self._check_size, self._check_reduce_promise):
            decision = rule(intent, holdings)
            if decision is not None:
                return decision
        return (self._check_state(intent, state, state_reason, holdings)
                or self._check_rate(intent, state, holdings, sent_last_minute) or ALLOW)

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
    def _check_state(intent: OrderIntent, state: AutomationState, state_reason: str,
                     holdings: Mapping[str, float]) -> GateDecision | None:
        if state is AutomationState.MANUAL:
            return GateDecision(False, f"MANUAL: {state_reason}")
        if state is AutomationState.REDUCE_ONLY and not reduces_only(intent, holdings):
            return GateDecision(False, f"REDUCE_ONLY (order would not only reduce positions): {state_reason}")
        return None

    def _check_rate(self, intent: OrderIntent, state: AutomationState, holdings: Mapping[str, float],
                    sent_last_minute: int) -> GateDecision | None:
        """Over the rate the trigger escalates; what the escalated state still admits goes through."""
        limit = self.settings.max_orders_per_minute
        if sent_last_minute < limit:
            return None
        reason = f"Order rate: {sent_last_minute + 1} orders within 60 s > limit {limit}"
        escalation = Escalation("order_rate", reason, str(sent_last_minute + 1))
        after = max(state, self.state_for("order_rate"))
        if after is AutomationState.REDUCE_ONLY and reduces_only(intent, holdings):
            return GateDecision(True, reason, escalation)
        return GateDecision(False, reason, escalation)
