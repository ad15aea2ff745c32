"""ManualModeFallback: stop automated trading when it is unsafe, and keep suggesting trades.

States follow mature kill switches (NautilusTrader's ACTIVE/REDUCING/HALTED): ``AUTOMATIC`` sends
orders; ``REDUCE_ONLY`` lets through only orders that reduce existing positions; ``MANUAL`` sends
nothing. Leaving ``MANUAL`` always takes an explicit human :meth:`resume`; nothing re-arms itself.
The class never touches LEAN: ``main.py`` injects the effects it needs (log, cancel, alert).
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import datetime

from core.market import Reading
from core.orders import OrderIntent
from core.settings import ManualModeSettings


class AutomationState(enum.Enum):
    AUTOMATIC = "AUTOMATIC"
    REDUCE_ONLY = "REDUCE_ONLY"
    MANUAL = "MANUAL"


@dataclasses.dataclass(frozen=True)
class Effects:
    """What the fallback may do to the outside world, supplied by ``main.py``."""

    log: Callable[[str], None]
    cancel_open_orders: Callable[[], None]
    alert: Callable[[str, str], None]


@dataclasses.dataclass(frozen=True)
class TradeSuggestion:
    """A refused order kept for a human: the full intent, why it was refused, and when."""

    intent: OrderIntent
    refused_because: str
    time: datetime

    def render(self) -> str:
        """The spec's readable block, with every leg and the plan."""
        intent = self.intent
        price = "market" if intent.limit_price is None else f"{intent.limit_price:+.2f} per share (net)"
        lines = [
            "=====================================",
            "MANUAL TRADE SUGGESTION",
            "=====================================",
            f"Time: {self.time:%Y-%m-%d %H:%M}",
            f"Strategy: {intent.strategy}",
            f"Units: {intent.units}",
            f"Limit: {price}",
        ]
        for leg in intent.legs:
            lines.append(f"  {leg.side} {abs(leg.quantity) * intent.units} {leg.label()} "
                         f"(bid {leg.bid:.2f} / ask {leg.ask:.2f})")
        if intent.profit_target is not None:
            lines.append(f"Profit target: {intent.profit_target:+.2f} per share")
        if intent.stop_loss is not None:
            lines.append(f"Stop: {intent.stop_loss:+.2f} per share")
        lines.append("Max loss if nothing is done: "
                     + ("unbounded" if intent.max_loss is None else f"${intent.max_loss:,.2f}"))
        lines.append(f"Signals: {'; '.join(intent.signals) or 'none'}")
        lines.append(f"Refused because: {self.refused_because}")
        lines += ["", "TO EXECUTE MANUALLY:", "1. Review market conditions", "2. Verify entry price",
                  "3. Place order through broker", "====================================="]
        return "\n".join(lines)


class ManualModeFallback:
    """The spec's safety net: error budget, extreme VIX and portfolio delta triggers."""

    def __init__(self, settings: ManualModeSettings, effects: Effects) -> None:
        self.settings = settings
        self.effects = effects
        self.state = AutomationState.AUTOMATIC
        self.reason = ""
        self.since: datetime | None = None
        self.error_count = 0
        self._invalid_keys: set[str] = set()
        self.pending_trades: list[TradeSuggestion] = []

    @property
    def is_manual_mode(self) -> bool:
        return self.state is AutomationState.MANUAL

    def check_automation_health(self, now: datetime, vix: Reading, portfolio_delta: Reading) -> bool:
        """Run the spec's checks; switch to manual on a breach. True when automation may trade.

        A missing VIX is not a breach (the backtest may have no VIX data); a missing portfolio
        delta while positions exist is handled by the caller, which knows whether any are held.
        """
        if self.error_count >= self.settings.max_order_errors:
            self.activate_manual_mode(
                f"Error threshold exceeded: {self.error_count} invalid orders "
                f"(limit {self.settings.max_order_errors})", now)
        elif vix.value is not None and vix.value > self.settings.extreme_vix:
            self.activate_manual_mode(f"Extreme VIX: {vix.value:.2f} > {self.settings.extreme_vix:g}", now)
        elif (portfolio_delta.value is not None
              and abs(portfolio_delta.value) > self.settings.portfolio_delta_limit):
            self.activate_manual_mode(
                f"Portfolio delta exceeded: {portfolio_delta.value:.2f} "
                f"(limit {self.settings.portfolio_delta_limit:g})", now)
        return self.state is AutomationState.AUTOMATIC

    def activate_manual_mode(self, reason: str, now: datetime) -> None:
        """Halt: cancel open orders, log the reason and every pending suggestion, alert."""
        if self.state is AutomationState.MANUAL:
            return
        self.state, self.reason, self.since = AutomationState.MANUAL, reason, now
        self.effects.log(f"[CRITICAL] MANUAL MODE ACTIVATED: {reason}")
        self.effects.cancel_open_orders()
        for suggestion in self.pending_trades:
            self.effects.log(suggestion.render())
        self.effects.alert("MANUAL MODE ACTIVATED", f"System switched to manual: {reason}")

    def allows(self, intent: OrderIntent) -> tuple[bool, str]:
        """May this order reach the broker now? Returns (allowed, reason when refused)."""
        if self.state is AutomationState.AUTOMATIC:
            return True, ""
        if self.state is AutomationState.REDUCE_ONLY and intent.reduces_only:
            return True, ""
        return False, f"{self.state.value}: {self.reason}"

    def suggest_trade(self, intent: OrderIntent, refused_because: str, now: datetime) -> TradeSuggestion:
        """Keep and log a refused order as a suggestion a human can act on."""
        suggestion = TradeSuggestion(intent, refused_because, now)
        self.pending_trades.append(suggestion)
        self.effects.log(suggestion.render())
        return suggestion

    def on_order_event(self, status: str, message: str, now: datetime, order_key: str = "") -> None:
        """Count invalid orders (LEAN ``OrderStatus.INVALID``) against the error budget.

        ``order_key`` identifies the order as placed: a combo's legs arrive as one INVALID event each
        and share one key, so a rejected four-leg combo is one error, not four."""
        if status != "INVALID":
            return
        if order_key and order_key in self._invalid_keys:
            return
        if order_key:
            self._invalid_keys.add(order_key)
        self.error_count += 1
        self.effects.log(f"[ORDER ERROR] {self.error_count}/{self.settings.max_order_errors}: {message}")
        if self.error_count >= self.settings.max_order_errors:
            self.activate_manual_mode(f"Too many order failures: {self.error_count}", now)

    def resume(self, now: datetime, by: str) -> str:
        """A human's explicit resume: back to AUTOMATIC with a fresh error budget."""
        if self.state is AutomationState.AUTOMATIC:
            return "already AUTOMATIC"
        previous = self.reason
        self.state, self.reason, self.since, self.error_count = AutomationState.AUTOMATIC, "", now, 0
        message = f"[RESUMED] AUTOMATIC by {by}; was halted for: {previous}; error budget reset"
        self.effects.log(message)
        return message

    def status(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M}" if self.since else ""
        return (f"{self.state.value}{since}; reason: {self.reason or 'none'}; "
                f"order errors {self.error_count}/{self.settings.max_order_errors}; "
                f"suggestions kept: {len(self.pending_trades)}")
