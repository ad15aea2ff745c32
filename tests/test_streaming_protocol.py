"""DXLink handshake order, subscription frames, back-off, token renewal and link timers (no sockets)."""
from __future__ import annotations

import math
import random
from datetime import datetime

import pytest

from streaming.config import ConfigError, StreamSettings
from streaming.protocol import (
    FEED_CHANNEL,
    EndReason,
    ErrorBudget,
    Handshake,
    Phase,
    Step,
    SubscriptionBook,
    auth_message,
    channel_request_message,
    close_reason,
    event_types_for,
    feed_setup_message,
    keepalive_message,
    setup_message,
    subscription_messages,
)
from streaming.timing import NEW_YORK, LinkTimers, TimerVerdict, backoff_delay, token_refresh_due


def test_handshake_follows_the_strict_order() -> None:
    handshake = Handshake("quote-token", 0.1)
    assert handshake.on_message({"type": "SETUP", "channel": 0, "keepaliveTimeout": 60}).send == []
    assert handshake.server_keepalive_timeout == 60

    step = handshake.on_message({"type": "AUTH_STATE", "channel": 0, "state": "UNAUTHORIZED"})
    assert step.send == [{"type": "AUTH", "channel": 0, "token": "quote-token"}]

    step = handshake.on_message({"type": "AUTH_STATE", "channel": 0, "state": "AUTHORIZED", "userId": "u"})
    assert step.authorized
    (request,) = step.send
    assert request["type"] == "CHANNEL_REQUEST" and request["channel"] % 2 == 1
    assert request["service"] == "FEED" and request["parameters"] == {"contract": "AUTO"}

    step = handshake.on_message({"type": "CHANNEL_OPENED", "channel": FEED_CHANNEL, "service": "FEED"})
    assert step.ready and handshake.phase is Phase.READY
    (setup,) = step.send
    assert setup["type"] == "FEED_SETUP" and setup["acceptDataFormat"] == "COMPACT"
    assert set(setup["acceptEventFields"]) == {"Quote", "Trade", "Greeks", "Summary"}


def test_no_auth_before_unauthorized_and_no_channel_before_authorized() -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    assert handshake.on_message({"type": "CHANNEL_OPENED", "channel": 1}).send == []
    assert handshake.on_message({"type": "KEEPALIVE", "channel": 0}).send == []
    assert handshake.phase is Phase.SETUP_SENT


def test_rejected_token_ends_with_auth_rejected() -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    handshake.on_message({"type": "AUTH_STATE", "state": "UNAUTHORIZED"})
    step = handshake.on_message({"type": "AUTH_STATE", "state": "UNAUTHORIZED"})
    assert step.end is EndReason.AUTH_REJECTED


def test_error_frames_are_reported_not_an_end() -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    step = handshake.on_message({"type": "ERROR", "channel": 0, "error": "TIMEOUT", "message": "timeout reached"})
    assert step.end is None and step.error == "TIMEOUT"
    assert step.detail == "DXLink ERROR TIMEOUT on channel 0: timeout reached"
    step = handshake.on_message({"type": "ERROR", "channel": 1, "error": "UNAUTHORIZED", "message": "x"})
    assert step.end is None and step.error == "UNAUTHORIZED"  # not authorized for an action: informational
    step = handshake.on_message({"type": "ERROR", "channel": 0, "error": "WEIRD-42", "message": "y"})
    assert step.error == "UNKNOWN" and "'WEIRD-42'" in step.detail  # log keys stay a fixed set
    assert handshake.phase is Phase.SETUP_SENT
    step = handshake.on_message({"type": "CHANNEL_CLOSED", "channel": FEED_CHANNEL})
    assert step.end is EndReason.CHANNEL_CLOSED


def test_close_codes() -> None:
    assert close_reason(1009) is EndReason.MESSAGE_TOO_BIG
    assert close_reason(1012) is EndReason.SERVICE_RESTART
    assert close_reason(1000) is EndReason.SERVER_CLOSED
    assert close_reason(None) is EndReason.SERVER_CLOSED


def test_subscriptions_are_chunked_removals_first() -> None:
    add = [("Quote", f"S{n}") for n in range(600)]
    messages = subscription_messages(add, [("Quote", "OLD")], chunk_size=250)
    assert [len(m.get("add", m.get("remove", []))) for m in messages] == [1, 250, 250, 100]
    assert "remove" in messages[0] and all(m["channel"] == FEED_CHANNEL for m in messages)
    assert messages[1]["add"][0] == {"type": "Quote", "symbol": "S0"}


def test_subscription_book_versions_and_event_types() -> None:
    book = SubscriptionBook(["SPY", " VIX ", ""])
    version, pairs = book.snapshot()
    assert ("Trade", "VIX") in pairs and ("Summary", "SPY") in pairs and len(pairs) == 6
    book.add(["SPY"])
    assert book.version == version  # no change, no resend
    book.set_held([".SPY251219C500"])
    version2, pairs = book.snapshot()
    assert version2 > version and ("Greeks", ".SPY251219C500") in pairs
    book.remove(["VIX"])
    assert ("Quote", "VIX") not in book.snapshot()[1]


def test_backoff_grows_to_thirty_seconds_with_jitter() -> None:
    settings = StreamSettings()
    rng = random.Random(7)
    delays = [backoff_delay(n, settings, rng) for n in range(8)]
    for n, delay in enumerate(delays):
        base = min(30.0, 2.0**n)
        assert 0.8 * base <= delay <= base
    assert max(backoff_delay(50, settings, rng) for _ in range(100)) <= 30.0
    assert len({round(backoff_delay(10, settings, rng), 6) for _ in range(20)}) > 1  # spread at the cap


def epoch(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).timestamp()


def test_token_renewal_prefers_quiet_hours_but_never_passes_23_hours() -> None:
    settings = StreamSettings()
    wednesday_noon = epoch(2025, 12, 17, 12)
    wednesday_night = epoch(2025, 12, 17, 2)
    saturday_noon = epoch(2025, 12, 20, 12)
    hour = 3600.0
    assert not token_refresh_due(11 * hour, wednesday_night, settings)
    assert token_refresh_due(13 * hour, wednesday_night, settings)
    assert token_refresh_due(13 * hour, saturday_noon, settings)
    assert not token_refresh_due(22 * hour, wednesday_noon, settings)
    assert token_refresh_due(23 * hour, wednesday_noon, settings)


def test_link_timers_keepalive_and_dead_link() -> None:
    timers = LinkTimers(
        opened_at=100.0, keepalive_interval=20.0, stale_after=30.0, dead_link_seconds=60.0, handshake_timeout=10.0
    )
    timers.ready = True
    assert timers.verdict(110.0) is TimerVerdict.NONE
    assert timers.verdict(120.0) is TimerVerdict.KEEPALIVE
    timers.last_sent = 120.0
    timers.last_inbound = 150.0
    assert timers.verdict(139.0) is TimerVerdict.NONE
    assert timers.verdict(209.0) is TimerVerdict.KEEPALIVE
    assert timers.verdict(210.0) is TimerVerdict.DEAD_LINK  # 60 s without an inbound frame
    timers.adopt_server_timeout(30.0)
    assert timers.keepalive_interval == 15.0


def test_link_timers_handshake_timeout() -> None:
    timers = LinkTimers(
        opened_at=0.0, keepalive_interval=20.0, stale_after=30.0, dead_link_seconds=60.0, handshake_timeout=10.0
    )
    timers.last_inbound = 9.0
    assert timers.verdict(10.0) is TimerVerdict.HANDSHAKE_TIMEOUT
    timers.ready = True
    assert timers.verdict(10.0) is TimerVerdict.NONE


def test_settings_reject_unsafe_values() -> None:
    with pytest.raises(ConfigError):
        StreamSettings(keepalive_interval_seconds=60)
    with pytest.raises(ConfigError):
        StreamSettings(token_max_age_seconds=24 * 3600)
    with pytest.raises(ConfigError):
        StreamSettings(backoff_initial_seconds=40)


# ----- what the mutation run showed untested (issue 14 point 7) and issue 17's rules ------------------
def test_connection_messages_go_on_channel_zero_with_the_spec_fields() -> None:
    assert setup_message(30.0, 60.0) == {
        "type": "SETUP", "channel": 0, "version": "0.1-DXF-JS/0.3.0", "keepaliveTimeout": 30, "acceptKeepaliveTimeout": 60
    }  # fmt: skip
    assert setup_message(0.4, 60.5)["keepaliveTimeout"] == 0.4 and setup_message(0.4, 60.5)["acceptKeepaliveTimeout"] == 60.5
    assert keepalive_message() == {"type": "KEEPALIVE", "channel": 0}
    assert auth_message("t0k3n-value") == {"type": "AUTH", "channel": 0, "token": "t0k3n-value"}


@pytest.mark.parametrize("timeout", [0, -5, 0.0, True, math.nan, math.inf, "60", None, [60]])
def test_a_server_keepalive_timeout_that_is_not_a_positive_number_is_ignored(timeout: object) -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    step = handshake.on_message({"type": "SETUP", "channel": 0, "keepaliveTimeout": timeout})
    assert handshake.server_keepalive_timeout is None and step.send == [] and step.end is None
    assert (step.log is None) is (timeout is None)  # a wrong value is reported, a missing one is normal
    handshake.on_message({"type": "SETUP", "channel": 0, "keepaliveTimeout": 0.5})
    assert handshake.server_keepalive_timeout == 0.5


def test_a_repeated_authorized_changes_nothing() -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    handshake.on_message({"type": "AUTH_STATE", "state": "UNAUTHORIZED"})
    assert handshake.on_message({"type": "AUTH_STATE", "state": "AUTHORIZED"}).authorized
    again = handshake.on_message({"type": "AUTH_STATE", "state": "AUTHORIZED"})
    assert again == Step() and handshake.phase is Phase.CHANNEL_REQUESTED
    handshake.on_message({"type": "CHANNEL_OPENED", "channel": FEED_CHANNEL})
    assert handshake.on_message({"type": "AUTH_STATE", "state": "AUTHORIZED"}) == Step()
    assert handshake.phase is Phase.READY


def test_authorized_without_a_challenge_and_unauthorized_mid_session() -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    step = handshake.on_message({"type": "AUTH_STATE", "state": "AUTHORIZED"})  # a server needing no AUTH
    assert step.authorized and step.send[0]["type"] == "CHANNEL_REQUEST"
    handshake.on_message({"type": "CHANNEL_OPENED", "channel": FEED_CHANNEL})
    step = handshake.on_message({"type": "AUTH_STATE", "state": "UNAUTHORIZED"})  # token revoked mid-session
    assert step.end is EndReason.AUTH_REJECTED and step.send == []
    step = handshake.on_message({"type": "AUTH_STATE", "state": "MAYBE"})
    assert step.end is None and step.log_key == "control-auth-state" and "'MAYBE'" in (step.log or "")


def test_channel_messages_only_for_our_feed_channel() -> None:
    handshake = Handshake("t0k3n-value", 0.1)
    handshake.on_message({"type": "AUTH_STATE", "state": "AUTHORIZED"})
    step = handshake.on_message({"type": "CHANNEL_OPENED", "channel": 3})
    assert step.send == [] and not step.ready and step.log_key == "control-channel"
    assert handshake.on_message({"type": "CHANNEL_CLOSED", "channel": 3}) == Step()
    assert handshake.on_message({"type": "KEEPALIVE", "channel": 0}) == Step()
    step = handshake.on_message({"type": "MYSTERY", "channel": 0})
    assert step.log_key == "control-type" and step.log == "unexpected DXLink message type 'MYSTERY' ignored"
    assert handshake.on_message({"type": "CHANNEL_OPENED", "channel": FEED_CHANNEL}).ready


def test_error_budget_counts_within_the_window() -> None:
    budget = ErrorBudget(limit=2, window_seconds=10.0)
    assert not budget.exceeded(0.0) and not budget.exceeded(5.0)
    assert budget.exceeded(10.0)  # three within 10 s (the window's edge included)
    budget = ErrorBudget(limit=2, window_seconds=10.0)
    assert not budget.exceeded(0.0) and not budget.exceeded(5.0)
    assert not budget.exceeded(10.5)  # the first fell out of the window
    assert budget.exceeded(14.0)
    single = ErrorBudget(limit=1, window_seconds=1.0)
    assert not single.exceeded(0.0) and single.exceeded(0.5)


def test_subscription_book_cleans_symbols_and_versions_each_change() -> None:
    book = SubscriptionBook(["SPY", "", "  ", " SPX "])
    assert book.symbols() == {"SPY", "SPX"} and book.version == 0
    book.add(["QQQ"])
    assert book.version == 1
    book.remove(["QQQ"])
    assert book.version == 2
    book.set_held([".SPY251219C500"])
    book.set_held([".SPY251219C500"])
    assert book.version == 3
    assert event_types_for(".SPY251219C500") == ("Quote", "Greeks", "Summary")
    assert event_types_for("/ESH26:XCME") == ("Quote", "Trade", "Summary")


def test_feed_messages_use_the_feed_channel() -> None:
    assert channel_request_message() == {
        "type": "CHANNEL_REQUEST", "channel": 1, "service": "FEED", "parameters": {"contract": "AUTO"}
    }  # fmt: skip
    setup = feed_setup_message(0.1)
    assert setup["channel"] == 1 and setup["acceptAggregationPeriod"] == 0.1
    assert setup["acceptEventFields"]["Quote"][:2] == ["eventType", "eventSymbol"]
