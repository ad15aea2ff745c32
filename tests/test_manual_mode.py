"""ManualModeFallback: every trigger in every state, what it lets through, persistence, explicit resume."""
from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from core.market import ContractSpec, Reading
from core.orders import OrderIntent, OrderLeg
from core.settings import load_settings
from risk.manual_mode import AutomationState, Effects, HealthInputs, ManualModeFallback
from risk.order_gate import GateContext, OrderGate, reduces_only

SETTINGS = load_settings(lambda name: None)
NOW = datetime(2021, 1, 8, 10, 40)
CALM = HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(0.0), underlying_data_age_minutes=1.0)
PUT = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3650.0, False, 100.0)
CALL = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3750.0, True, 100.0)


class World:
    """Records every effect the fallback has on the outside world."""

    def __init__(self) -> None:
        self.logs: list[str] = []
        self.cancels = 0
        self.alerts: list[tuple[str, str]] = []
        self.saved: list[str] = []

    def effects(self) -> Effects:
        return Effects(self.logs.append, self._cancel, lambda s, b: self.alerts.append((s, b)), self.saved.append)

    def _cancel(self) -> None:
        self.cancels += 1


def _fallback(**overrides: str):
    world = World()
    settings = load_settings(overrides.get) if overrides else SETTINGS
    return ManualModeFallback(settings.manual, world.effects(), token_factory=lambda seed: "tok"), world


def _admit(fallback: ManualModeFallback, intent: OrderIntent, held: dict[str, float], now: datetime
           ) -> tuple[bool, str]:
    """What the desk does when it sends: the gate decides, the fallback applies what that demands,
    and a placed order counts in the rate window."""
    gate = OrderGate(fallback.settings, combo_market_orders=False, state_for=fallback.state_for)
    decision = gate.check(intent, GateContext(fallback.state, fallback.reason, held, fallback.orders_sent.count(now)))
    allowed = fallback.admit(decision, now)
    if allowed:
        fallback.orders_sent.record(now)
    return allowed, decision.reason


def _intent(*legs: tuple[ContractSpec, int], units: int = 1) -> OrderIntent:
    return OrderIntent("Test", tuple(OrderLeg(c.describe(), q, c, 1.0, 1.2) for c, q in legs), units, -0.5, NOW)


# --- every trigger x every state ------------------------------------------------------------------

TRIGGERS = {
    "extreme_vix": (HealthInputs(vix=Reading(50.5), portfolio_delta=Reading(0.0)), "Extreme VIX: 50.50 > 50"),
    "delta": (HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(-120.0)),
              "Portfolio delta exceeded: -120.00 (limit 100)"),
    "greeks": (HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(0.0),
                            greeks_breaches=("GAMMA LIMIT: 25", "VEGA EXPOSURE: $1200")),
               "Multiple Greeks limits exceeded: GAMMA LIMIT: 25; VEGA EXPOSURE: $1200"),
    "greeks_unavailable": (HealthInputs(vix=Reading(20.0), portfolio_delta=Reading.missing("x"),
                                        greeks_unavailable="Greeks unavailable for P1"), "Greeks unavailable for P1"),
    "stale_data": (HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(0.0), underlying_data_age_minutes=7.0),
                   "Stale data: no new underlying bar for 7 min (limit 5)"),
    "websocket": (HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(0.0), websocket_down_seconds=150.0),
                  "Live stream down for 150 s (limit 120)"),
}
STATES = ["MANUAL", "REDUCE_ONLY"]


def test_a_stream_that_failed_for_good_triggers_at_once_and_a_short_outage_does_not():
    """A FAILED stream (credentials rejected) will not come back: the stream trigger fires on the first
    bar, not after manual-websocket-down-seconds; an outage within the limit is no trigger."""
    fallback, world = _fallback()
    short = HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(0.0), websocket_down_seconds=120.0)
    assert fallback.check_automation_health(NOW, short) and world.alerts == []
    failed = HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(0.0), websocket_down_seconds=0.0,
                          websocket_failed="HTTP 401 (invalid_grant)")
    fallback.check_automation_health(NOW, failed)
    assert [(t.name, t.reason, t.value) for t in fallback.active_triggers] == [
        ("websocket", "Live stream failed for good: HTTP 401 (invalid_grant)", "failed")]
    assert fallback.state is AutomationState.REDUCE_ONLY and len(world.alerts) == 1


@pytest.mark.parametrize("configured", STATES)
@pytest.mark.parametrize("trigger", sorted(TRIGGERS))
@pytest.mark.parametrize("start", list(AutomationState))
def test_every_health_trigger_in_every_state(trigger, configured, start):
    fallback, world = _fallback(**{f"manual-state-{trigger.replace('_', '-')}": configured})
    fallback.state = start
    health, reason = TRIGGERS[trigger]
    fallback.check_automation_health(NOW, health)
    expected = max(start, AutomationState[configured])
    assert fallback.state is expected
    assert [t.name for t in fallback.active_triggers] == [trigger]
    assert fallback.active_triggers[0].reason == reason
    if expected > start:  # an escalation: cancel, log the reason with value and threshold, alert, persist
        label = "MANUAL MODE" if expected is AutomationState.MANUAL else "REDUCE-ONLY MODE"
        assert world.logs[0] == f"[CRITICAL] {label} ACTIVATED: {reason}"
        assert world.cancels == 1 and len(world.alerts) == 1 and len(world.saved) == 1
    else:  # never de-escalates, never repeats
        assert world.cancels == 0 and world.alerts == []


def test_missing_vix_and_unmeasured_ages_are_not_triggers():
    fallback, world = _fallback()
    health = HealthInputs(vix=Reading.missing("no VIX data"), portfolio_delta=Reading(0.0))
    assert fallback.check_automation_health(NOW, health)
    assert fallback.state is AutomationState.AUTOMATIC and world.logs == []


@pytest.mark.parametrize("configured", STATES)
def test_order_error_budget_in_a_rolling_window(configured):
    fallback, _ = _fallback(**{"manual-state-order-errors": configured, "manual-error-window-minutes": "30"})
    fallback.on_order_event("INVALID", "a", NOW, "order-1")
    fallback.on_order_event("INVALID", "b", NOW + timedelta(minutes=10), "order-2")
    fallback.on_order_event("INVALID", "c", NOW + timedelta(minutes=35), "order-3")  # the first has expired
    assert fallback.state is AutomationState.AUTOMATIC and fallback.error_count == 2
    fallback.on_order_event("INVALID", "d", NOW + timedelta(minutes=36), "order-4")
    assert fallback.state is AutomationState[configured]
    assert fallback.reason == "Too many order failures: 3 within 30 min (budget 3)"


def test_combo_legs_count_once():
    fallback, _ = _fallback()
    for _ in range(4):
        fallback.on_order_event("INVALID", "leg rejected", NOW, "group-7")
    assert fallback.error_count == 1


@pytest.mark.parametrize("configured", STATES)
def test_brokerage_disconnect(configured):
    fallback, world = _fallback(**{"manual-state-disconnect": configured})
    fallback.on_brokerage_disconnect(NOW)
    assert fallback.state is AutomationState[configured] and fallback.reason == "Brokerage disconnected"


Event = st.one_of(
    st.tuples(st.just("health"), st.sampled_from(sorted(TRIGGERS) + ["calm"])),
    st.tuples(st.just("invalid"), st.integers(0, 5)),
    st.tuples(st.just("order"), st.sampled_from(["open", "reduce"])),
    st.tuples(st.just("resume"), st.sampled_from(["tok", "wrong"])),
    st.tuples(st.just("manual"), st.just("by hand")),
    st.tuples(st.just("disconnect"), st.just("")),
)


@hyp_settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(Event, max_size=40))
def test_no_unsafe_order_ever_reaches_the_broker(events):
    """For any sequence of market events, order events and commands: nothing is sent while MANUAL,
    and only reducing orders while REDUCE_ONLY."""
    fallback, _ = _fallback(**{"manual-max-orders-per-minute": "1000"})
    held = {PUT.describe(): -2.0}
    now = NOW
    for kind, arg in events:
        now += timedelta(minutes=1)
        if kind == "health":
            fallback.check_automation_health(now, CALM if arg == "calm" else TRIGGERS[arg][0])
        elif kind == "invalid":
            fallback.on_order_event("INVALID", "rejected", now, f"order-{arg}")
        elif kind == "resume":
            fallback.resume(now, arg, by="test")
        elif kind == "manual":
            fallback.activate_manual_mode(arg, now)
        elif kind == "disconnect":
            fallback.on_brokerage_disconnect(now)
        else:
            intent = _intent((PUT, 1)) if arg == "reduce" else _intent((CALL, -1))
            state_before = fallback.state
            if _admit(fallback, intent, held, now)[0]:
                assert state_before is not AutomationState.MANUAL
                assert state_before is AutomationState.AUTOMATIC or reduces_only(intent, held)


# --- resume, persistence ----------------------------------------------------------------------------

def test_resume_needs_the_token_and_no_active_trigger():
    fallback, world = _fallback()
    fallback.check_automation_health(NOW, TRIGGERS["extreme_vix"][0])
    assert '"token": "tok"' in world.alerts[0][1]
    assert fallback.resume(NOW, "nope", by="t") == (
        False, "resume refused: the token does not match the last alert's acknowledgement token")
    ok, message = fallback.resume(NOW, "tok", by="t")
    assert not ok and message == "resume refused: triggers still active: Extreme VIX: 50.50 > 50"
    fallback.check_automation_health(NOW + timedelta(minutes=1), CALM)
    ok, message = fallback.resume(NOW + timedelta(minutes=1), "tok", by="trader")
    assert ok and fallback.state is AutomationState.AUTOMATIC and fallback.error_count == 0
    assert message.startswith("[RESUMED] AUTOMATIC by trader; was halted for: Extreme VIX: 50.50 > 50; reset:")
    assert json.loads(world.saved[-1])["state"] == "AUTOMATIC"


def test_persistence_round_trip():
    fallback, world = _fallback()
    fallback.activate_manual_mode("news", NOW)
    fallback.suggest_trade(_intent((PUT, -1)), "MANUAL: news", NOW)
    restored, _ = _fallback()
    restored.restore(world.saved[-1], NOW + timedelta(days=1))
    assert (restored.state, restored.reason, restored.since, restored.ack_token) == (
        AutomationState.MANUAL, "news", NOW, "tok")
    assert restored.pending_trades == fallback.pending_trades
    assert restored.to_record() == fallback.to_record()


def test_missing_record_starts_automatic_and_corrupt_record_starts_manual():
    fresh, world = _fallback()
    fresh.restore(None, NOW)
    assert fresh.state is AutomationState.AUTOMATIC and "first deploy" in world.logs[-1]
    corrupt, world = _fallback()
    corrupt.restore("{not json", NOW)
    assert corrupt.state is AutomationState.MANUAL
    assert corrupt.reason.startswith("unreadable manual-mode record: not JSON")
    wrong, _ = _fallback()
    wrong.restore(json.dumps({"state": "PANIC"}), NOW)
    assert wrong.state is AutomationState.MANUAL


def test_resume_is_not_blocked_by_the_error_budget_it_resets():
    fallback, _ = _fallback()
    for key in ("a", "b", "c"):
        fallback.on_order_event("INVALID", "rejected", NOW, key)
    fallback.check_automation_health(NOW, CALM)
    ok, message = fallback.resume(NOW, "tok", by="trader")
    assert ok and "3 errors cleared" in message and fallback.error_count == 0


def test_the_most_severe_of_several_active_triggers_wins():
    """Stale data (MANUAL by default) together with a delta breach (REDUCE_ONLY): MANUAL, whichever is
    listed first; with min instead of max the exits would go out on stale prices."""
    fallback, world = _fallback()
    both = HealthInputs(vix=Reading(20.0), portfolio_delta=Reading(-150.0), underlying_data_age_minutes=9.0)
    fallback.check_automation_health(NOW, both)
    assert {t.name for t in fallback.active_triggers} == {"delta", "stale_data"}
    assert fallback.state is AutomationState.MANUAL
    assert fallback.reason == "Stale data: no new underlying bar for 9 min (limit 5)"
    assert json.loads(world.saved[-1])["trigger_values"] == {"delta": "-150.00", "stale_data": "9"}


def test_only_the_newest_fifty_suggestions_are_kept():
    fallback, _ = _fallback()
    for i in range(55):
        fallback.suggest_trade(dataclasses.replace(_intent((PUT, -1)), strategy=f"S{i}"), "test", NOW)
    assert [s.intent.strategy for s in fallback.pending_trades] == [f"S{i}" for i in range(5, 55)]


@pytest.mark.parametrize("state, manual", [("AUTOMATIC", False), ("REDUCE_ONLY", True), ("MANUAL", True)])
def test_is_manual_mode_means_not_automatic(state, manual):
    fallback, _ = _fallback()
    fallback.state = AutomationState[state]
    assert fallback.is_manual_mode is manual


def test_resume_clears_the_trigger_values_and_status_says_none_when_calm():
    fallback, world = _fallback()
    fallback.check_automation_health(NOW, TRIGGERS["extreme_vix"][0])
    assert fallback.trigger_values == {"extreme_vix": "50.50"}
    fallback.check_automation_health(NOW, CALM)
    assert "active triggers: none;" in fallback.status()
    assert fallback.resume(NOW, "tok", by="t")[0]
    assert fallback.trigger_values == {} and json.loads(world.saved[-1])["trigger_values"] == {}


def _record(**fields: object) -> str:
    base = {"state": "MANUAL", "reason": "news", "since": "2021-01-08T10:00:00", "ack_token": "tok",
            "trigger_values": {"manual": "news"}, "suggestions": []}
    return json.dumps(base | fields)


@pytest.mark.parametrize("fields, what", [
    ({"state": "PANIC"}, "state 'PANIC' is not one of AUTOMATIC, REDUCE_ONLY, MANUAL"),
    ({"state": 2}, "state 2 is not one of"),
    ({"since": None}, "since is None (a non-empty str is needed)"),
    ({"ack_token": ""}, "ack_token is '' (a non-empty str is needed)"),
    ({"reason": 5}, "reason is 5 (a non-empty str is needed)"),
    ({"trigger_values": {"manual": 1}}, "trigger_values is not an object of strings"),
    ({"trigger_values": ["manual"]}, "trigger_values is not an object of strings"),
    ({"suggestions": {}}, "suggestions is not a list"),
    ({"suggestions": [{"strategy": "x"}]}, "bad time or suggestion"),
])
def test_every_field_of_the_saved_record_is_checked(fields, what):
    fallback, _ = _fallback()
    fallback.restore(_record(**fields), NOW)
    assert fallback.state is AutomationState.MANUAL
    assert fallback.reason.startswith(f"unreadable manual-mode record: {what}")


def test_an_automatic_record_needs_no_reason_time_or_token():
    fallback, world = _fallback()
    fallback.restore(_record(state="AUTOMATIC", reason="", since=None, ack_token="", trigger_values={}), NOW)
    assert fallback.state is AutomationState.AUTOMATIC and world.logs[-1] == "[MANUAL MODE] restored AUTOMATIC"
    resumed, world = _fallback()
    resumed.restore(_record(state="AUTOMATIC", reason="", ack_token=""), NOW)  # after a resume: a time is kept
    assert world.logs[-1] == "[MANUAL MODE] restored AUTOMATIC"
    halted, world = _fallback()
    halted.restore(_record(), NOW)
    assert world.logs[-1] == "[MANUAL MODE] restored MANUAL since 2021-01-08 10:00: news"


def test_resume_tokens_random_in_live_and_derived_in_replays():
    import re

    from risk.manual_mode import random_token

    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", random_token("x")) and random_token("x") != random_token("x")
    fallback = ManualModeFallback(SETTINGS.manual, World().effects())
    fallback.activate_manual_mode("test", NOW)
    assert re.fullmatch(r"[0-9a-f]{10}", fallback.ack_token)
