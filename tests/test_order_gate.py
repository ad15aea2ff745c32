"""The order gate: every refusal rule, no side effects, the rate window counting only what was sent."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest

from core.market import ContractSpec
from core.orders import OrderIntent, OrderLeg
from core.settings import load_settings
from risk.manual_mode import AutomationState, Effects, ManualModeFallback, OrderRateWindow
from risk.order_gate import GateContext, OrderGate, reduces_only

NOW = datetime(2021, 1, 8, 10, 40)
PUT = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3650.0, False, 100.0)
CALL = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3750.0, True, 100.0)
AUTO = AutomationState.AUTOMATIC


def _intent(*legs: tuple[ContractSpec, int], units: int = 1, limit: float | None = -0.5) -> OrderIntent:
    return OrderIntent("Test", tuple(OrderLeg(c.describe(), q, c, 1.0, 1.2) for c, q in legs), units, limit, NOW)


def _gate(combo_market_orders: bool = False, **overrides: str) -> tuple[OrderGate, ManualModeFallback]:
    settings = load_settings(overrides.get)
    fallback = ManualModeFallback(settings.manual, Effects(lambda _: None, lambda: None, lambda s, b: None),
                                  token_factory=lambda seed: "tok")
    return OrderGate(settings.manual, combo_market_orders, fallback.state_for), fallback


def test_an_ordinary_order_is_allowed_in_automatic():
    gate, _ = _gate()
    decision = gate.check(_intent((PUT, -1), (CALL, -1)), GateContext(AUTO, "", {}, 0))
    assert decision.allowed and decision.escalation is None


def test_order_size_limit_refuses_and_names_the_escalation():
    gate, fallback = _gate(**{"manual-max-contracts-per-order": "8"})
    decision = gate.check(_intent((PUT, -1), (CALL, -1), units=5), GateContext(AUTO, "", {}, 0))
    assert not decision.allowed and decision.reason == "Order size: 10 contracts > limit 8 (Test)"
    assert decision.escalation is not None and decision.escalation.trigger == "order_size"
    assert fallback.state is AUTO  # the gate itself changes nothing
    assert not fallback.admit(decision, NOW) and fallback.state is AutomationState.MANUAL


def test_combo_market_orders_refused_under_tastytrade_before_the_rate_is_counted():
    gate, _ = _gate(**{"manual-max-orders-per-minute": "1"})
    decision = gate.check(_intent((PUT, -1), (CALL, -1), limit=None), GateContext(AUTO, "", {}, 5))
    assert not decision.allowed and decision.escalation is None  # not an order-rate breach
    assert "combo market orders are rejected by tastytrade" in decision.reason
    other, _ = _gate(combo_market_orders=True)
    assert other.check(_intent((PUT, -1), (CALL, -1), limit=None), GateContext(AUTO, "", {}, 0)).allowed
    assert gate.check(_intent((PUT, -1), limit=None), GateContext(AUTO, "", {}, 0)).allowed  # one leg: a market order


def test_order_rate_limit_counts_only_orders_sent():
    gate, fallback = _gate(**{"manual-max-orders-per-minute": "2"})
    window = OrderRateWindow()
    for second in (0, 10):
        assert gate.check(_intent((PUT, -1)), GateContext(AUTO, "", {}, window.count(NOW + timedelta(seconds=second)))).allowed
        window.record(NOW + timedelta(seconds=second))
    refused_many_times = [gate.check(_intent((PUT, -1)), GateContext(AUTO, "", {}, window.count(NOW))) for _ in range(5)]
    assert window.count(NOW) == 2  # checking is not sending
    decision = refused_many_times[-1]
    assert not decision.allowed and decision.reason == "Order rate: 3 orders within 60 s > limit 2"
    fallback.admit(decision, NOW)
    assert fallback.state is AutomationState.REDUCE_ONLY
    assert window.count(NOW + timedelta(seconds=60)) == 1  # the first has left the 60 s window


def test_over_the_rate_a_reducing_order_still_goes_when_the_escalation_is_reduce_only():
    gate, _ = _gate(**{"manual-max-orders-per-minute": "1"})
    held = {PUT.describe(): -2.0}
    closing = gate.check(_intent((PUT, 1)), GateContext(AUTO, "", held, 1))
    assert closing.allowed and closing.escalation is not None and closing.escalation.trigger == "order_rate"
    manual, _ = _gate(**{"manual-max-orders-per-minute": "1", "manual-state-order-rate": "MANUAL"})
    assert not manual.check(_intent((PUT, 1)), GateContext(AUTO, "", held, 1)).allowed


def test_reduce_only_checks_every_leg_against_the_exact_contract():
    held = {PUT.describe(): -2.0, CALL.describe(): -1.0}
    assert reduces_only(_intent((PUT, 2)), held)  # closes the short put
    assert reduces_only(_intent((PUT, 1), (CALL, 1)), held)  # partial close of both
    assert not reduces_only(_intent((PUT, 3)), held)  # would flip to long
    assert not reduces_only(_intent((PUT, -1)), held)  # adds to the short
    other = ContractSpec("SPX", "SPXW", date(2021, 1, 8), 3640.0, False, 100.0)
    assert not reduces_only(_intent((PUT, 1), (other, 1)), held)  # a leg in a contract not held


@pytest.mark.parametrize("state, reducing, allowed, reason", [
    (AutomationState.MANUAL, True, False, "MANUAL: test"),
    (AutomationState.REDUCE_ONLY, True, True, ""),
    (AutomationState.REDUCE_ONLY, False, False,
     "REDUCE_ONLY (order would not only reduce positions or the breached risk): test"),
    (AutomationState.AUTOMATIC, False, True, ""),
])
def test_what_each_state_lets_through(state, reducing, allowed, reason):
    gate, _ = _gate()
    held = {PUT.describe(): -1.0}
    intent = _intent((PUT, 1)) if reducing else _intent((CALL, -1))
    decision = gate.check(intent, GateContext(state, "test", held, 0))
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_an_exit_that_no_longer_reduces_is_refused_in_every_state():
    """After a human closed the position by hand, the algorithm's pending exit would open a new one."""
    gate, _ = _gate()
    close = dataclasses.replace(_intent((PUT, 1)), reduces_only=True)
    for state in AutomationState:
        decision = gate.check(close, GateContext(state, "", {}, 0))
        assert not decision.allowed and "does not only reduce" in decision.reason
    assert gate.check(close, GateContext(AUTO, "", {PUT.describe(): -1.0}, 0)).allowed


def _hedge(shares: int) -> OrderIntent:
    return OrderIntent("Delta Hedge", (OrderLeg("SPY", shares),), 1, None, NOW)


@pytest.mark.parametrize("book, effect, breached, allowed", [
    (450.0, -450.0, {"delta"}, True),    # to zero
    (450.0, -300.0, {"delta"}, True),    # toward zero
    (450.0, -500.0, {"delta"}, True),    # past zero, within the limit on the other side (-50)
    (450.0, -560.0, {"delta"}, False),   # to -110: crosses beyond the limit on the other side
    (450.0, -1000.0, {"delta"}, False),  # to -550: |delta| grows
    (450.0, 100.0, {"delta"}, False),    # adds to the breach
    (-300.0, 250.0, {"delta"}, True),
    (450.0, -450.0, {"delta", "greeks"}, True),  # the Greeks limits together: its other Greeks are zero
    (450.0, -450.0, {"delta", "stale_data"}, False),  # stale data is breached too: a hedge does not cure it
    (450.0, -450.0, set(), False),       # nothing breached: REDUCE_ONLY only closes
    (80.0, -80.0, {"greeks"}, False),    # delta within its limit: nothing for a delta hedge to reduce
    (450.0, None, {"delta"}, False),     # the order's effect unknown
    (None, -450.0, {"delta"}, False),    # the book's delta unknown
])
def test_reduce_only_admits_an_order_that_reduces_the_breached_delta(book, effect, breached, allowed):
    gate, _ = _gate()
    ctx = GateContext(AutomationState.REDUCE_ONLY, "delta", {}, 0, frozenset(breached), book, 100.0, effect,
                      delta_only=True)
    assert gate.check(_hedge(-450), ctx).allowed is allowed


def test_an_option_order_is_not_admitted_as_a_delta_hedge():
    """Options carry gamma, theta and vega too: reducing delta with them may worsen the other limits."""
    gate, _ = _gate()
    ctx = GateContext(AutomationState.REDUCE_ONLY, "delta", {}, 0, frozenset({"delta"}), 450.0, 100.0, -450.0,
                      delta_only=False)
    assert not gate.check(_intent((PUT, 5)), ctx).allowed


def test_reduce_only_still_refuses_a_hedge_that_would_open_risk_in_manual():
    gate, _ = _gate()
    ctx = GateContext(AutomationState.MANUAL, "vix", {}, 0, frozenset({"delta"}), 450.0, 100.0, -450.0,
                      delta_only=True)
    assert not gate.check(_hedge(-450), ctx).allowed


def test_closing_a_single_long_contract_reduces():
    """A one-lot long closed by a one-lot sale (the smallest quantities on both sides)."""
    assert reduces_only(_intent((CALL, -1)), {CALL.describe(): 1.0})
    assert not reduces_only(_intent((CALL, -1)), {CALL.describe(): 0.0})
    assert not reduces_only(_intent((CALL, 1)), {CALL.describe(): 1.0})


def test_the_order_rate_escalation_names_the_count():
    gate, fallback = _gate(**{"manual-max-orders-per-minute": "2"})
    decision = gate.check(_intent((PUT, -1)), GateContext(AUTO, "", {}, 2))
    assert decision.escalation is not None and decision.escalation.value == "3"
    fallback.admit(decision, NOW)
    assert fallback.trigger_values == {"order_rate": "3"}
