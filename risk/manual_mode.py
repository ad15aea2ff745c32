"""ManualModeFallback: stop automated trading when it is unsafe, keep suggesting trades, never forget.

States follow mature kill switches (NautilusTrader's ACTIVE/REDUCING/HALTED): ``AUTOMATIC`` sends
orders; ``REDUCE_ONLY`` lets through only orders whose every leg reduces an existing position in
that exact contract; ``MANUAL`` sends nothing. Triggers only ever escalate; leaving a halted state
takes a human's explicit :meth:`resume` with the acknowledgement token from the alert, and only
while no trigger is active. Every transition is persisted (``Effects.save``) so a restart resumes
in the same state. A refused order is kept and logged as a :class:`TradeSuggestion` a human can act
on. The class never touches LEAN: the desk injects the effects it needs. Which orders may go is the
order gate's answer (:mod:`risk.order_gate`); this module applies what that answer demands.
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from core.market import Reading
from core.orders import OrderIntent, intent_from_record, intent_to_record
from core.settings import ManualModeSettings


RATE_WINDOW = timedelta(seconds=60)
MAX_KEPT_SUGGESTIONS = 50  # the newest suggestions kept (and persisted); older ones are in the log


class AutomationState(enum.IntEnum):
    """Ordered by severity, so escalation is ``max``."""

    AUTOMATIC = 0
    REDUCE_ONLY = 1
    MANUAL = 2


class OrderRateWindow:
    """Orders actually sent in the last 60 s (the order-rate trigger's measure)."""

    def __init__(self) -> None:
        self._sent: deque[datetime] = deque()

    def count(self, now: datetime) -> int:
        while self._sent and now - self._sent[0] >= RATE_WINDOW:
            self._sent.popleft()
        return len(self._sent)

    def record(self, now: datetime) -> None:
        self._sent.append(now)

    def clear(self) -> None:
        self._sent.clear()


@dataclasses.dataclass(frozen=True)
class Effects:
    """What the fallback may do to the outside world, supplied by ``main.py``."""

    log: Callable[[str], None]
    cancel_open_orders: Callable[[], None]
    alert: Callable[[str, str], None]
    save: Callable[[str], None] = lambda text: None


@dataclasses.dataclass(frozen=True)
class HealthInputs:
    """The measurements the triggers look at for one bar (None / unavailable = not measurable)."""

    vix: Reading
    portfolio_delta: Reading
    underlying_data_age_minutes: float | None = None
    vix_data_age_minutes: float | None = None
    websocket_down_seconds: float | None = None
    websocket_failed: str | None = None  # why the stream stopped for good (rejected credentials): no waiting
    greeks_breaches: tuple[str, ...] = ()
    greeks_unavailable: str | None = None


@dataclasses.dataclass(frozen=True)
class Trigger:
    """One active trigger: the measured value, the threshold and the state it demands."""

    name: str
    state: AutomationState
    reason: str
    value: str


@dataclasses.dataclass(frozen=True)
class Escalation:
    """A trigger an order-gate decision demands: its name (``manual-state-<name>`` sets the state)."""

    trigger: str
    reason: str
    value: str


@dataclasses.dataclass(frozen=True)
class GateDecision:
    """The order gate's answer (:mod:`risk.order_gate`): may the order go, why not, what it escalates."""

    allowed: bool
    reason: str = ""
    escalation: Escalation | None = None


# --- suggestions: refused orders kept in a form a human can act on, surviving a restart ---------------

@dataclasses.dataclass(frozen=True)
class TradeSuggestion:
    """A refused order: the full intent, why it was refused, and when."""

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

    def to_record(self) -> dict[str, Any]:
        """JSON-ready (NaN quotes become null)."""
        return intent_to_record(self.intent) | {"time": self.time.isoformat(), "refused_because": self.refused_because}

    @staticmethod
    def from_record(record: dict[str, Any]) -> TradeSuggestion:
        return TradeSuggestion(intent_from_record(record), str(record["refused_because"]),
                               datetime.fromisoformat(record["time"]))


class ManualModeFallback:
    """The spec's safety net, with the states, triggers, persistence and resume rules above."""

    def __init__(self, settings: ManualModeSettings, effects: Effects,
                 token_factory: Callable[[str], str] | None = None, greeks_breaches_to_trigger: int = 2) -> None:
        self.settings = settings
        self.greeks_breaches_to_trigger = greeks_breaches_to_trigger
        self.effects = effects
        self.token_factory = token_factory or _digest_token
        self.state = AutomationState.AUTOMATIC
        self.reason = ""
        self.since: datetime | None = None
        self.ack_token = ""
        self.trigger_values: dict[str, str] = {}
        self.active_triggers: list[Trigger] = []
        self.pending_trades: list[TradeSuggestion] = []
        self._errors: deque[datetime] = deque()
        self._invalid_keys: set[str] = set()
        self.orders_sent = OrderRateWindow()

    # --- state ----------------------------------------------------------------------------------

    @property
    def is_manual_mode(self) -> bool:
        return self.state is not AutomationState.AUTOMATIC

    @property
    def error_count(self) -> int:
        return len(self._errors)

    def state_for(self, name: str) -> AutomationState:
        """The state the ``manual-state-<name>`` parameter sends a trigger to."""
        return AutomationState[getattr(self.settings, f"state_{name}")]

    def escalate(self, state: AutomationState, reason: str, now: datetime, values: Mapping[str, str] | None = None
                 ) -> None:
        """Move to ``state`` if it is more severe: cancel orders, log, alert, persist."""
        if state <= self.state:
            return
        self.state, self.reason, self.since = state, reason, now
        self.trigger_values = dict(values or {})
        self.ack_token = self.token_factory(f"{state.name}|{reason}|{now.isoformat()}")
        label = "MANUAL MODE ACTIVATED" if state is AutomationState.MANUAL else "REDUCE-ONLY MODE ACTIVATED"
        self.effects.log(f"[CRITICAL] {label}: {reason}")
        self.effects.cancel_open_orders()
        for suggestion in self.pending_trades:
            self.effects.log(suggestion.render())
        self.effects.alert(label, f"System switched to {state.name}: {reason}. "
                                  f"To resume send {{\"command\": \"resume\", \"token\": \"{self.ack_token}\"}}")
        self._persist()

    def activate_manual_mode(self, reason: str, now: datetime) -> None:
        """The spec's public name: halt everything."""
        self.escalate(AutomationState.MANUAL, reason, now, {"manual": reason})

    # --- triggers ---------------------------------------------------------------------------------

    def evaluate(self, now: datetime, health: HealthInputs) -> list[Trigger]:
        """Every trigger active for ``health`` (without acting on them)."""
        s, active = self.settings, []
        self._expire_errors(now)
        if self.error_count >= s.max_order_errors:
            active.append(self._trigger("order_errors", f"{self.error_count} invalid orders within "
                                        f"{s.error_window_minutes:g} min (budget {s.max_order_errors})",
                                        str(self.error_count)))
        if health.vix.value is not None and health.vix.value > s.extreme_vix:
            active.append(self._trigger("extreme_vix", f"Extreme VIX: {health.vix.value:.2f} > {s.extreme_vix:g}",
                                        f"{health.vix.value:.2f}"))
        delta = health.portfolio_delta.value
        if delta is not None and abs(delta) > s.portfolio_delta_limit:
            active.append(self._trigger("delta", f"Portfolio delta exceeded: {delta:.2f} "
                                        f"(limit {s.portfolio_delta_limit:g})", f"{delta:.2f}"))
        if len(health.greeks_breaches) >= self.greeks_breaches_to_trigger:
            active.append(self._trigger("greeks", f"Multiple Greeks limits exceeded: "
                                        f"{'; '.join(health.greeks_breaches)}", str(len(health.greeks_breaches))))
        if health.greeks_unavailable:
            active.append(self._trigger("greeks_unavailable", health.greeks_unavailable, "unavailable"))
        for name, age in (("underlying", health.underlying_data_age_minutes), ("VIX", health.vix_data_age_minutes)):
            if age is not None and age > s.stale_data_minutes:
                active.append(self._trigger("stale_data", f"Stale data: no new {name} bar for {age:.0f} min "
                                            f"(limit {s.stale_data_minutes:g})", f"{age:.0f}"))
        down = health.websocket_down_seconds
        if health.websocket_failed is not None:
            active.append(self._trigger("websocket", f"Live stream failed for good: {health.websocket_failed}",
                                        "failed"))
        elif down is not None and down > s.websocket_down_seconds:
            active.append(self._trigger("websocket", f"Live stream down for {down:.0f} s "
                                        f"(limit {s.websocket_down_seconds:g})", f"{down:.0f}"))
        return active

    def _trigger(self, name: str, reason: str, value: str) -> Trigger:
        return Trigger(name, self.state_for(name), reason, value)

    def check_automation_health(self, now: datetime, health: HealthInputs) -> bool:
        """Run every trigger, escalate to the most severe state any demands; True while AUTOMATIC."""
        self.active_triggers = self.evaluate(now, health)
        if self.active_triggers:
            worst = max(self.active_triggers, key=lambda t: t.state)
            self.escalate(worst.state, worst.reason, now, {t.name: t.value for t in self.active_triggers})
        return self.state is AutomationState.AUTOMATIC

    def on_order_event(self, status: str, message: str, now: datetime, order_key: str = "") -> None:
        """Count invalid orders (LEAN ``OrderStatus.INVALID``) against the rolling error budget.

        A combo's legs arrive as one INVALID event each and share ``order_key``: one error per order."""
        if status != "INVALID" or (order_key and order_key in self._invalid_keys):
            return
        if order_key:
            self._invalid_keys.add(order_key)
        self._expire_errors(now)
        self._errors.append(now)
        self.effects.log(f"[ORDER ERROR] {self.error_count}/{self.settings.max_order_errors} within "
                         f"{self.settings.error_window_minutes:g} min: {message}")
        if self.error_count >= self.settings.max_order_errors:
            self.escalate(self.state_for("order_errors"),
                          f"Too many order failures: {self.error_count} within "
                          f"{self.settings.error_window_minutes:g} min (budget {self.settings.max_order_errors})",
                          now, {"order_errors": str(self.error_count)})

    def _expire_errors(self, now: datetime) -> None:
        window = timedelta(minutes=self.settings.error_window_minutes)
        while self._errors and now - self._errors[0] > window:
            self._errors.popleft()

    def on_brokerage_disconnect(self, now: datetime) -> None:
        self.escalate(self.state_for("disconnect"), "Brokerage disconnected", now, {"disconnect": "true"})

    # --- the gate's escalations and the rate window -------------------------------------------------

    def admit(self, decision: GateDecision, now: datetime) -> bool:
        """Apply what an order-gate decision demands (an order over the size limit, the rate broken
        escalate) and say whether the order may go."""
        if decision.escalation is not None:
            e = decision.escalation
            self.escalate(self.state_for(e.trigger), e.reason, now, {e.trigger: e.value})
        return decision.allowed

    def suggest_trade(self, intent: OrderIntent, refused_because: str, now: datetime) -> TradeSuggestion:
        """Keep and log a refused order as a suggestion a human can act on (and persist it)."""
        suggestion = TradeSuggestion(intent, refused_because, now)
        self.pending_trades = (self.pending_trades + [suggestion])[-MAX_KEPT_SUGGESTIONS:]
        self.effects.log(suggestion.render())
        self._persist()
        return suggestion

    # --- the human ----------------------------------------------------------------------------------

    def resume(self, now: datetime, token: str | None, by: str) -> tuple[bool, str]:
        """Back to AUTOMATIC only with the alert's token and no trigger active; resets the error budget."""
        if self.state is AutomationState.AUTOMATIC:
            return False, "already AUTOMATIC"
        if not token or token != self.ack_token:
            return False, "resume refused: the token does not match the last alert's acknowledgement token"
        blocking = [t for t in self.active_triggers if t.name != "order_errors"]  # resume resets that budget
        if blocking:
            reasons = "; ".join(t.reason for t in blocking)
            return False, f"resume refused: triggers still active: {reasons}"
        previous, errors = self.reason, self.error_count
        self.state, self.reason, self.since, self.ack_token = AutomationState.AUTOMATIC, "", now, ""
        self._errors.clear()
        self._invalid_keys.clear()
        self.orders_sent.clear()
        self.trigger_values = {}
        self._persist()
        message = (f"[RESUMED] AUTOMATIC by {by}; was halted for: {previous}; reset: order-error budget "
                   f"({errors} errors cleared), order-rate window")
        self.effects.log(message)
        return True, message

    def status(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M}" if self.since else ""
        active = "; ".join(t.reason for t in self.active_triggers) or "none"
        return (f"{self.state.name}{since}; reason: {self.reason or 'none'}; active triggers: {active}; "
                f"order errors {self.error_count}/{self.settings.max_order_errors} in "
                f"{self.settings.error_window_minutes:g} min; suggestions kept: {len(self.pending_trades)}")

    # --- persistence --------------------------------------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        return {"state": self.state.name, "reason": self.reason,
                "since": self.since.isoformat() if self.since else None,
                "trigger_values": self.trigger_values, "ack_token": self.ack_token,
                "suggestions": [s.to_record() for s in self.pending_trades]}

    def _persist(self) -> None:
        self.effects.save(json.dumps(self.to_record(), sort_keys=True))

    def restore(self, text: str | None, now: datetime) -> None:
        """Start from a persisted record: none = first deploy (AUTOMATIC); anything that is not a
        complete, valid record = MANUAL with the reason (fail closed)."""
        if text is None:
            self.effects.log("[MANUAL MODE] no saved record: first deploy, starting AUTOMATIC")
            return
        try:
            restored = _read_record(text)
        except RecordError as exc:
            self.escalate(AutomationState.MANUAL, f"unreadable manual-mode record: {exc}", now,
                          {"restore": "unreadable"})
            return
        self.state, self.reason, self.since, self.ack_token = (
            restored.state, restored.reason, restored.since, restored.ack_token)
        self.trigger_values, self.pending_trades = restored.trigger_values, restored.suggestions
        self.effects.log(f"[MANUAL MODE] restored {self.state.name}" + (
            f" since {self.since:%Y-%m-%d %H:%M}: {self.reason}" if self.state and self.since else ""))


class RecordError(ValueError):
    """What makes a saved manual-mode record unusable."""


@dataclasses.dataclass(frozen=True)
class _Record:
    state: AutomationState
    reason: str
    since: datetime | None
    ack_token: str
    trigger_values: dict[str, str]
    suggestions: list[TradeSuggestion]


def _read_record(text: str) -> _Record:
    """Parse and schema-check a saved record (see :meth:`ManualModeFallback.to_record`)."""
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise RecordError(f"not a JSON object ({type(record).__name__})")
    missing = [k for k in ("state", "reason", "since", "ack_token", "trigger_values", "suggestions") if k not in record]
    if missing:
        raise RecordError(f"missing {', '.join(missing)}")
    state = record["state"]
    if not isinstance(state, str) or state not in AutomationState.__members__:
        raise RecordError(f"state {state!r} is not one of {', '.join(AutomationState.__members__)}")
    halted = state != AutomationState.AUTOMATIC.name
    since = _field(record, "since", str, required=halted)
    token = _field(record, "ack_token", str, required=halted)
    reason = _field(record, "reason", str, required=False)
    values = record["trigger_values"]
    if not isinstance(values, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items()):
        raise RecordError("trigger_values is not an object of strings")
    if not isinstance(record["suggestions"], list):
        raise RecordError("suggestions is not a list")
    try:
        when = datetime.fromisoformat(since) if since else None
        suggestions = [TradeSuggestion.from_record(r) for r in record["suggestions"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RecordError(f"bad time or suggestion ({exc!r})") from None
    return _Record(AutomationState[state], reason or "", when, token or "", dict(values), suggestions)


def _field(record: dict[str, Any], key: str, kind: type, required: bool) -> Any:
    value = record[key]
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (required and not value):
        raise RecordError(f"{key} is {value!r} (a non-empty {kind.__name__} is needed)")
    return value


def random_token(_seed: str) -> str:
    """A fresh acknowledgement token per activation (live: nobody can derive it from the alert's text)."""
    return secrets.token_urlsafe(9)


def _digest_token(seed: str) -> str:
    """A short acknowledgement token derived from the transition (deterministic for replays)."""
    return hashlib.sha256(seed.encode()).hexdigest()[:10]
