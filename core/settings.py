"""The algorithm's typed settings: every tunable is a LEAN parameter, parsed once in ``initialize``.

Defaults are the values of the user's spec (``critical-features.md``); ``config.json`` carries the
same values as strings so the cloud IDE and ``lean backtest --parameter`` can change them.
Components receive their own section and never read parameters themselves.
Prices and strike widths are in the underlying's points; percentages are percent (0.5 = 0.5%).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, time

from core.params import (
    Getter,
    ParamSpec,
    SettingsError,
    at_most_zero,
    defaults_as_parameters,
    format_value,
    fraction,
    in_range,
    non_negative,
    one_of,
    param,
    param_fields,
    parse_section,
    positive,
    webhook_url_problem,
)


def _window_problems(name: str, start: time, end: time) -> list[str]:
    return [] if start < end else [f"{name}: start {start:%H:%M} must be before end {end:%H:%M}"]


@dataclasses.dataclass(frozen=True)
class UniverseSettings:
    """What the algorithm subscribes and the backtest window."""

    underlying: str = param("underlying", "SPX", "Underlying ticker (SPX, SPY, ...)")
    underlying_type: str = param(
        "underlying-type", "index", "index (cash-settled index options) or equity",
        one_of("index", "equity"))
    option_ticker: str = param(
        "option-ticker", "SPXW", "Option root: SPXW weeklies for SPX, the ticker itself for equities")
    start_date: date = param("start-date", date(2021, 1, 4), "Backtest start (YYYY-MM-DD)")
    end_date: date = param("end-date", date(2021, 1, 8), "Backtest end (YYYY-MM-DD)")
    cash: float = param("cash", 100_000.0, "Starting cash in account currency", positive)
    strikes_around_atm: int = param(
        "option-strikes-around-atm", 40, "Chain filter: listed strikes each side of the money", positive)
    max_expiry_days: int = param(
        "option-max-expiry-days", 45, "Chain filter: latest expiry in calendar days (0DTE included)",
        non_negative)
    futures_enabled: bool = param(
        "futures-enabled", True, "Subscribe the E-mini S&P 500 front contract with extended hours")
    brokerage_model: str = param(
        "brokerage-model", "tastytrade", "LEAN brokerage model: tastytrade (combo limit orders only) or default",
        one_of("tastytrade", "default"))

    def cross_check(self) -> list[str]:
        problems = []
        if self.start_date > self.end_date:
            problems.append(f"start-date {self.start_date} is after end-date {self.end_date}")
        if self.underlying_type == "equity" and self.option_ticker != self.underlying:
            problems.append(f"option-ticker {self.option_ticker!r} must equal underlying {self.underlying!r} "
                            "for equity options")
        return problems


_STATE = one_of("MANUAL", "REDUCE_ONLY")


@dataclasses.dataclass(frozen=True)
class ManualModeSettings:
    """When automation must stop (spec section 1), which state each trigger sends it to, and alerts.

    States: MANUAL (nothing but cancels) or REDUCE_ONLY (only orders that reduce existing positions).
    """

    max_order_errors: int = param(
        "manual-max-order-errors", 3, "Invalid/rejected orders within the window that trigger", positive)
    error_window_minutes: float = param(
        "manual-error-window-minutes", 60.0, "Rolling window for the order-error budget, minutes", positive)
    extreme_vix: float = param("manual-extreme-vix", 50.0, "VIX above this triggers", positive)
    portfolio_delta_limit: float = param(
        "manual-portfolio-delta-limit", 100.0,
        "|Portfolio delta| above this triggers: shares of greeks-beta-reference (beta-weighted)", positive)
    stale_data_minutes: float = param(
        "manual-stale-data-minutes", 5.0,
        "Underlying (or VIX, once seen) without a new bar this long in the session triggers", positive)
    websocket_down_seconds: float = param(
        "manual-websocket-down-seconds", 120.0, "Live: DXLink stream down this long triggers", positive)
    max_orders_per_minute: int = param(
        "manual-max-orders-per-minute", 10, "Orders sent in any 60 seconds above this trigger", positive)
    max_contracts_per_order: int = param(
        "manual-max-contracts-per-order", 50, "Contracts across all legs of one order above this trigger",
        positive)
    state_order_errors: str = param("manual-state-order-errors", "MANUAL", "State for the order-error budget", _STATE)
    state_extreme_vix: str = param("manual-state-extreme-vix", "MANUAL", "State for extreme VIX", _STATE)
    state_delta: str = param(
        "manual-state-delta", "REDUCE_ONLY", "State for the portfolio delta limit (reduce-only lets exits out)",
        _STATE)
    state_greeks: str = param(
        "manual-state-greeks", "REDUCE_ONLY", "State for multiple Greeks limits (reduce-only lets exits out)", _STATE)
    state_greeks_unavailable: str = param(
        "manual-state-greeks-unavailable", "MANUAL", "State when held Greeks cannot be computed", _STATE)
    state_stale_data: str = param("manual-state-stale-data", "MANUAL", "State for stale data", _STATE)
    state_websocket: str = param(
        "manual-state-websocket", "REDUCE_ONLY", "State when the live stream is down too long", _STATE)
    state_disconnect: str = param(
        "manual-state-disconnect", "MANUAL", "State on a brokerage disconnect", _STATE)
    state_order_rate: str = param(
        "manual-state-order-rate", "REDUCE_ONLY", "State when the order rate is exceeded", _STATE)
    state_order_size: str = param(
        "manual-state-order-size", "MANUAL", "State when an order exceeds the contract limit", _STATE)
    alert_emails: str = param("manual-alert-emails", "", "Comma-separated e-mail addresses for LEAN notify")
    alert_sms: str = param("manual-alert-sms", "", "Comma-separated phone numbers for LEAN notify")
    alert_telegram_chat_id: str = param("manual-alert-telegram-chat-id", "", "Telegram chat id for LEAN notify")
    alert_web_url: str = param("manual-alert-web-url", "", "URL for LEAN notify.web")
    alert_webhook_url: str = param(
        "manual-alert-webhook-url", "",
        "Local live only: POST alerts here as JSON (https, or http to localhost; LEAN notify needs the cloud)",
        webhook_url_problem, secret=True)


@dataclasses.dataclass(frozen=True)
class GreeksSettings:
    """Portfolio Greeks limits and hedge-suggestion levels (spec section 3)."""

    delta_limit: float = param(
        "greeks-delta-limit", 100.0, "Max |portfolio delta|, shares of greeks-beta-reference (beta-weighted)",
        positive)
    gamma_limit: float = param(
        "greeks-gamma-limit", 20.0,
        "Max |portfolio gamma|, shares of greeks-beta-reference per $1 of it (beta-weighted)", positive)
    theta_limit: float = param(
        "greeks-theta-limit", -500.0, "Alert when portfolio theta ($/day) falls below this", at_most_zero)
    vega_limit: float = param(
        "greeks-vega-limit", 1000.0, "Max |portfolio vega|, $ per vol point", positive)
    breaches_for_manual: int = param(
        "greeks-breaches-for-manual", 2, "Simultaneous limit breaches that switch to manual mode", positive)
    hedge_delta: float = param(
        "greeks-hedge-delta", 50.0, "Suggest a delta hedge above this |delta| (beta-reference shares)", positive)
    hedge_gamma: float = param(
        "greeks-hedge-gamma", 10.0, "Suggest a gamma hedge above this |gamma| (beta-reference shares per $1)",
        positive)
    hedge_theta: float = param(
        "greeks-hedge-theta", -200.0, "Warn when theta ($/day) falls below this", at_most_zero)
    hedge_vega: float = param(
        "greeks-hedge-vega", 500.0, "Suggest a vega hedge above this |vega| ($/vol point)", positive)
    max_quote_age_minutes: float = param(
        "greeks-max-quote-age-minutes", 5.0,
        "IV from a quote no older than this; older quotes fall back to LEAN's IV, marked", positive)
    auto_hedge: bool = param(
        "greeks-auto-hedge", False,
        "Send the delta hedge (beta-reference shares, market order) instead of only suggesting it")
    beta_reference: str = param(
        "greeks-beta-reference", "SPY",
        "Equity whose shares are the unit of book delta, gamma, their limits and delta hedges")
    plot_every_minutes: int = param(
        "greeks-plot-every-minutes", 15, "Sample portfolio Greeks onto LEAN charts this often", positive)


@dataclasses.dataclass(frozen=True)
class StreamingSettings:
    """The live DXLink stream and its real-time checks (spec section 2)."""

    environment: str = param(
        "tastytrade-environment", "production", "tastytrade API: production or sandbox",
        one_of("production", "sandbox"))
    move_threshold_pct: float = param(
        "stream-0dte-move-pct", 0.5, "Friday 0DTE signal: |move from the day's open| above this %", positive)
    signal_start: time = param("stream-0dte-start", time(10, 0), "Friday 0DTE signal window start (NY)")
    signal_end: time = param("stream-0dte-end", time(15, 0), "Friday 0DTE signal window end (NY)")
    delta_warning: float = param(
        "stream-delta-warning", 50.0, "Real-time |delta| warning, share-equivalents", positive)
    gamma_warning: float = param(
        "stream-gamma-warning", 10.0, "Real-time |gamma| warning, share-equivalents per $1", positive)
    max_quote_age_seconds: float = param(
        "stream-max-quote-age-seconds", 60.0,
        "A streamed quote (or price for the 0DTE signal) older than this is not used", positive)
    error_limit: int = param(
        "stream-error-limit", 5, "DXLink ERROR frames tolerated within the window; one more reconnects", positive)
    error_window_seconds: float = param(
        "stream-error-window-seconds", 60.0, "Window for counting DXLink ERROR frames, seconds", positive)
    keepalive_timeout_seconds: float = param(
        "stream-keepalive-timeout-seconds", 30.0,
        "SETUP keepaliveTimeout: the server must send within this; longer silence marks the stream stale",
        positive)
    dead_link_seconds: float = param(
        "stream-dead-link-seconds", 60.0, "Silence after which the stream reconnects, seconds", positive)

    def cross_check(self) -> list[str]:
        problems = _window_problems("stream-0dte-start/end", self.signal_start, self.signal_end)
        if self.keepalive_timeout_seconds > self.dead_link_seconds:
            problems.append(f"stream-keepalive-timeout-seconds {self.keepalive_timeout_seconds:g} must not exceed "
                            f"stream-dead-link-seconds {self.dead_link_seconds:g}")
        return problems


@dataclasses.dataclass(frozen=True)
class ZeroDteParameters:
    """One set of the spec's enhanced 0DTE trade parameters (progressive or normal Friday)."""

    position_multiplier: float
    stop_loss_multiplier: float
    profit_target: float
    entry_start: time
    entry_end: time
    min_credit: float
    max_contracts: int


@dataclasses.dataclass(frozen=True)
class FridaySettings:
    """Progressive Friday scoring thresholds and the 0DTE parameters they unlock (spec section 4)."""

    base_score: float = param("friday-base-score", 5.0, "Score before signals (0-10 scale)", in_range(0, 10))
    progressive_threshold: float = param(
        "friday-progressive-score", 7.0, "Score at or above which a Friday is progressive", in_range(0, 10))
    high_confidence: float = param(
        "friday-high-confidence-score", 8.0, "Score at or above which confidence is HIGH", in_range(0, 10))
    gap_small_pct: float = param("friday-gap-small-pct", 0.3, "|Gap| below this %: small (+1)", positive)
    gap_moderate_max_pct: float = param(
        "friday-gap-moderate-max-pct", 0.8, "|Gap| from small up to this %: moderate (+2)", positive)
    gap_large_pct: float = param("friday-gap-large-pct", 1.5, "|Gap| above this %: exhaustion (-1)", positive)
    volume_high_ratio: float = param(
        "friday-volume-high-ratio", 1.5, "Opening volume ratio above this: +2", positive)
    volume_elevated_ratio: float = param(
        "friday-volume-elevated-ratio", 1.2, "Opening volume ratio above this: +1", positive)
    volume_low_ratio: float = param("friday-volume-low-ratio", 0.7, "Opening volume ratio below this: -1", positive)
    opening_minutes: int = param(
        "friday-opening-volume-minutes", 30, "Opening volume window after 09:30, minutes", positive)
    volume_sessions: int = param(
        "friday-volume-sessions", 20, "Sessions averaged for the opening volume baseline", positive)
    vix_backwardation: float = param(
        "friday-vix-backwardation-ratio", 1.05, "VIX9D/VIX above this: backwardation (+2)", positive)
    vix_contango: float = param(
        "friday-vix-contango-ratio", 0.95, "VIX9D/VIX below this: contango (+1)", positive)
    pc_high: float = param("friday-pc-high", 1.2, "Put/call volume ratio above this: +2", positive)
    pc_elevated: float = param("friday-pc-elevated", 0.9, "Put/call volume ratio above this: +1", positive)
    pc_low: float = param("friday-pc-low", 0.6, "Put/call volume ratio below this: -1", positive)
    breadth_strong: float = param("friday-breadth-strong", 2.0, "Advance/decline above this: +2 (half weight)", positive)
    breadth_positive: float = param(
        "friday-breadth-positive", 1.2, "Advance/decline above this: +1 (half weight)", positive)
    breadth_weak: float = param("friday-breadth-weak", 0.5, "Advance/decline below this: -1 (half weight)", positive)
    momentum_low_pct: float = param(
        "friday-momentum-low-pct", 0.2, "|Pre-market E-mini move| from this % ...", positive)
    momentum_high_pct: float = param(
        "friday-momentum-high-pct", 0.5, "... up to this %: moderate momentum (+2, half weight)", positive)
    momentum_extreme_pct: float = param(
        "friday-momentum-extreme-pct", 1.0, "|Pre-market move| above this %: fade (-1, half weight)", positive)
    decision_time: time = param(
        "friday-decision-time", time(10, 30),
        "When the day's reading is taken, held for the day and recorded with its reference trade (NY)")
    min_signals: int = param(
        "friday-min-signals", 4, "Signals (of 6) that must be measured before a Friday can be progressive",
        in_range(0, 6))
    outcome_short_delta: float = param(
        "friday-outcome-short-delta", 0.20, "Reference 0DTE condor: |delta| of the short strikes", fraction)
    outcome_wing_pct: float = param(
        "friday-outcome-wing-pct", 0.75, "Reference 0DTE condor: wing width, % of the underlying", positive)
    breadth_proxy: str = param(
        "friday-breadth-proxy", "XLB,XLC,XLE,XLF,XLI,XLK,XLP,XLRE,XLU,XLV,XLY",
        "Breadth proxy: tickers whose advance/decline vs previous close is counted (none = off)")
    progressive_size_multiplier: float = param(
        "friday-progressive-size-multiplier", 1.5, "Progressive Friday position size multiplier", positive)
    progressive_stop_multiplier: float = param(
        "friday-progressive-stop-multiplier", 1.5, "Progressive Friday stop, multiple of credit", positive)
    progressive_profit_target: float = param(
        "friday-progressive-profit-target", 0.8, "Progressive Friday target, fraction of credit", fraction)
    progressive_entry_start: time = param(
        "friday-progressive-entry-start", time(10, 30), "Progressive Friday entry window start (NY)")
    progressive_entry_end: time = param(
        "friday-progressive-entry-end", time(14, 30), "Progressive Friday entry window end (NY)")
    progressive_min_credit: float = param(
        "friday-progressive-min-credit", 0.35, "Progressive Friday minimum credit per share", non_negative)
    progressive_max_contracts: int = param(
        "friday-progressive-max-contracts", 10, "Progressive Friday contract limit", positive)
    normal_size_multiplier: float = param(
        "friday-normal-size-multiplier", 1.0, "Normal Friday position size multiplier", positive)
    normal_stop_multiplier: float = param(
        "friday-normal-stop-multiplier", 2.0, "Normal Friday stop, multiple of credit", positive)
    normal_profit_target: float = param(
        "friday-normal-profit-target", 0.5, "Normal Friday target, fraction of credit", fraction)
    normal_entry_start: time = param(
        "friday-normal-entry-start", time(10, 30), "Normal Friday entry window start (NY)")
    normal_entry_end: time = param(
        "friday-normal-entry-end", time(13, 30), "Normal Friday entry window end (NY)")
    normal_min_credit: float = param(
        "friday-normal-min-credit", 0.45, "Normal Friday minimum credit per share", non_negative)
    normal_max_contracts: int = param(
        "friday-normal-max-contracts", 5, "Normal Friday contract limit", positive)

    def cross_check(self) -> list[str]:
        problems = _window_problems(
            "friday-progressive-entry-start/end", self.progressive_entry_start, self.progressive_entry_end)
        problems += _window_problems(
            "friday-normal-entry-start/end", self.normal_entry_start, self.normal_entry_end)
        ordered = [
            ("friday-gap-small-pct < friday-gap-moderate-max-pct <= friday-gap-large-pct",
             self.gap_small_pct < self.gap_moderate_max_pct <= self.gap_large_pct),
            ("friday-volume-low-ratio < friday-volume-elevated-ratio < friday-volume-high-ratio",
             self.volume_low_ratio < self.volume_elevated_ratio < self.volume_high_ratio),
            ("friday-vix-contango-ratio < friday-vix-backwardation-ratio",
             self.vix_contango < self.vix_backwardation),
            ("friday-pc-low < friday-pc-elevated < friday-pc-high",
             self.pc_low < self.pc_elevated < self.pc_high),
            ("friday-breadth-weak < friday-breadth-positive < friday-breadth-strong",
             self.breadth_weak < self.breadth_positive < self.breadth_strong),
            ("friday-momentum-low-pct < friday-momentum-high-pct <= friday-momentum-extreme-pct",
             self.momentum_low_pct < self.momentum_high_pct <= self.momentum_extreme_pct),
        ]
        problems += [f"thresholds must satisfy {rule}" for rule, ok in ordered if not ok]
        return problems

    def breadth_tickers(self) -> list[str]:
        if self.breadth_proxy.strip().lower() in ("none", "off"):
            return []
        return [t.strip().upper() for t in self.breadth_proxy.split(",") if t.strip()]

    def zero_dte(self, is_progressive: bool) -> ZeroDteParameters:
        """The spec's ``get_enhanced_0dte_parameters`` values for this kind of Friday."""
        if is_progressive:
            return ZeroDteParameters(
                self.progressive_size_multiplier, self.progressive_stop_multiplier,
                self.progressive_profit_target, self.progressive_entry_start, self.progressive_entry_end,
                self.progressive_min_credit, self.progressive_max_contracts)
        return ZeroDteParameters(
            self.normal_size_multiplier, self.normal_stop_multiplier, self.normal_profit_target,
            self.normal_entry_start, self.normal_entry_end, self.normal_min_credit, self.normal_max_contracts)


@dataclasses.dataclass(frozen=True)
class Section9BSettings:
    """Section 9B analysers: gates, targets and score cut-offs (spec section 5).

    Strike widths are in the underlying's points as the spec states them for SPY; the analysers
    scale them to the underlying's price level.
    """

    max_butterfly_width: float = param("s9b-max-butterfly-width", 50.0, "Widest butterfly wing, points", positive)
    max_condor_width: float = param("s9b-max-condor-width", 100.0, "Widest condor, points", positive)
    min_credit: float = param("s9b-min-credit", 0.50, "Minimum butterfly credit per share", non_negative)
    max_risk_per_trade: float = param(
        "s9b-max-risk-per-trade", 0.05, "Max loss per trade as a fraction of portfolio value", fraction)
    iron_condor_probability: float = param(
        "s9b-iron-condor-probability", 0.70, "Target probability of profit for condors", fraction)
    butterfly_target_profit: float = param(
        "s9b-butterfly-target-profit", 0.50, "Take profit at this fraction of max profit", fraction)
    execute_min_score: float = param(
        "s9b-execute-min-score", 70.0, "Execute the best opportunity at or above this score", in_range(0, 100))
    butterfly_entry: time = param("s9b-butterfly-entry", time(10, 35), "Friday butterfly earliest entry (NY)")
    butterfly_min_move_pct: float = param(
        "s9b-butterfly-min-move-pct", 1.0, "Butterfly needs |move from open| at least this %", positive)
    butterfly_wing_base_pct: float = param(
        "s9b-butterfly-wing-base-pct", 1.0, "Wing width base, % of price (scaled by sqrt(VIX/ref))", positive)
    butterfly_wing_vix_reference: float = param(
        "s9b-butterfly-wing-vix-reference", 16.0, "VIX at which the wing equals the base width", positive)
    butterfly_min_score: float = param(
        "s9b-butterfly-min-score", 70.0, "Butterfly score cut-off", in_range(0, 100))
    diagonal_vix_min: float = param("s9b-diagonal-vix-min", 15.0, "Diagonal needs VIX at least", positive)
    diagonal_vix_max: float = param("s9b-diagonal-vix-max", 35.0, "Diagonal needs VIX at most", positive)
    diagonal_vix_high: float = param(
        "s9b-diagonal-vix-high", 25.0, "Above this VIX the diagonal uses the short DTE targets", positive)
    diagonal_front_dte: int = param("s9b-diagonal-front-dte", 14, "Front expiry target, days", positive)
    diagonal_front_dte_high_vix: int = param(
        "s9b-diagonal-front-dte-high-vix", 10, "Front expiry target when VIX is high, days", positive)
    diagonal_back_dte: int = param("s9b-diagonal-back-dte", 45, "Back expiry target, days", positive)
    diagonal_back_dte_high_vix: int = param(
        "s9b-diagonal-back-dte-high-vix", 35, "Back expiry target when VIX is high, days", positive)
    diagonal_min_score: float = param("s9b-diagonal-min-score", 65.0, "Diagonal score cut-off", in_range(0, 100))
    ratio_vix_min: float = param("s9b-ratio-vix-min", 20.0, "1x2 ratio needs VIX at least", positive)
    ratio_dte: int = param("s9b-ratio-dte", 28, "1x2 ratio expiry target, days", positive)
    ratio_width: float = param("s9b-ratio-width", 10.0, "Short strikes this far below the long, points", positive)
    ratio_min_score: float = param("s9b-ratio-min-score", 65.0, "1x2 ratio score cut-off", in_range(0, 100))
    bwb_vix_min: float = param("s9b-bwb-vix-min", 18.0, "Broken-wing butterfly needs VIX at least", positive)
    bwb_vix_max: float = param("s9b-bwb-vix-max", 35.0, "Broken-wing butterfly needs VIX at most", positive)
    bwb_dte: int = param("s9b-bwb-dte", 17, "Broken-wing butterfly expiry target, days", positive)
    bwb_narrow_wing: float = param("s9b-bwb-narrow-wing", 5.0, "Broken-wing narrow wing, points", positive)
    bwb_wide_wing: float = param("s9b-bwb-wide-wing", 10.0, "Broken-wing wide wing, points", positive)
    bwb_min_credit: float = param("s9b-bwb-min-credit", 0.25, "Broken-wing minimum credit per share", non_negative)
    bwb_min_score: float = param("s9b-bwb-min-score", 70.0, "Broken-wing score cut-off", in_range(0, 100))
    batman_vix_min: float = param("s9b-batman-vix-min", 22.0, "Batman needs VIX at least", positive)
    batman_dte: int = param("s9b-batman-dte", 10, "Batman expiry target, days", positive)
    batman_inner_width: float = param("s9b-batman-inner-width", 5.0, "Batman inner strikes from ATM, points", positive)
    batman_outer_width: float = param("s9b-batman-outer-width", 20.0, "Batman outer strikes from ATM, points", positive)
    batman_min_credit: float = param("s9b-batman-min-credit", 1.50, "Batman minimum credit per share", non_negative)
    batman_min_score: float = param("s9b-batman-min-score", 75.0, "Batman score cut-off", in_range(0, 100))

    spy_reference_price: float = param(
        "s9b-spy-reference-price", 450.0,
        "SPY price at which the spec's point widths and per-share credits apply; both scale by price / this",
        positive)
    max_spread_pct: float = param(
        "s9b-max-spread-pct", 25.0, "Leg quote: ask - bid at most this % of mid ...", positive)
    spread_allowance: float = param(
        "s9b-spread-allowance", 0.10, "... or at most this per share (cheap options quote in ticks)", non_negative)
    min_open_interest: float = param(
        "s9b-min-open-interest", 10.0, "Leg open interest at least this, contracts (unknown fails when > 0)",
        non_negative)
    max_quote_age_minutes: float = param(
        "s9b-max-quote-age-minutes", 5.0, "Leg quote no older than this, minutes", positive)
    dte_tolerance_ratio: float = param(
        "s9b-dte-tolerance-ratio", 2.0, "Nearest expiry must lie within target/ratio..target*ratio days",
        in_range(1, 100))
    limit_tick: float = param("s9b-limit-tick", 0.05, "Combo limit rounded to this per share, in our favour", positive)
    credit_stop_multiple: float = param(
        "s9b-credit-stop-multiple", 2.0, "Credit trades: stop at a loss of this x the credit", positive)
    debit_stop_fraction: float = param(
        "s9b-debit-stop-fraction", 0.5, "Debit trades: stop at a loss of this fraction of the debit", fraction)
    bias_move_pct: float = param(
        "s9b-bias-move-pct", 0.5, "Diagonal: |move from open| above this % is a bullish/bearish bias", positive)
    bwc_min_score: float = param("s9b-bwc-min-score", 70.0, "Broken-wing condor score cut-off", in_range(0, 100))
    zero_dte_exit: time = param("s9b-0dte-exit-time", time(15, 0), "0DTE structures are closed at this time (NY)")
    close_days_before_expiry: int = param(
        "s9b-close-days-before-expiry", 1,
        "Other structures are closed this many trading days before expiry (no assignment)", positive)
    close_time: time = param("s9b-close-time", time(15, 30), "Time of day for the before-expiry close (NY)")
    max_entry_attempts: int = param(
        "s9b-max-entry-attempts", 3, "Entries sent per strategy per day (unfilled ones are cancelled)", positive)
    entry_timeout_minutes: float = param(
        "s9b-entry-timeout-minutes", 10.0, "Cancel an unfilled entry after this many minutes", positive)
    exit_max_quote_age_minutes: float = param(
        "exit-max-quote-age-minutes", 5.0,
        "Marks, stops, targets and closing limits use only leg quotes no older than this (minutes)", positive)
    exit_marketable_ticks: int = param(
        "exit-marketable-ticks", 1,
        "Stop and time exits are sent this many limit ticks beyond the natural price (marketable)",
        in_range(0, 20))
    exit_stale_escalate_minutes: float = param(
        "exit-stale-escalate-minutes", 15.0,
        "An exit held up by stale leg quotes this long goes to a human (suggestion + alert), once", positive)

    def cross_check(self) -> list[str]:
        ordered = [
            ("s9b-diagonal-vix-min < s9b-diagonal-vix-max", self.diagonal_vix_min < self.diagonal_vix_max),
            ("s9b-bwb-vix-min < s9b-bwb-vix-max", self.bwb_vix_min < self.bwb_vix_max),
            ("s9b-bwb-narrow-wing < s9b-bwb-wide-wing", self.bwb_narrow_wing < self.bwb_wide_wing),
            ("s9b-batman-inner-width < s9b-batman-outer-width",
             self.batman_inner_width < self.batman_outer_width),
            ("s9b-diagonal-front-dte < s9b-diagonal-back-dte", self.diagonal_front_dte < self.diagonal_back_dte),
            ("s9b-diagonal-front-dte-high-vix < s9b-diagonal-back-dte-high-vix",
             self.diagonal_front_dte_high_vix < self.diagonal_back_dte_high_vix),
        ]
        return [f"parameters must satisfy {rule}" for rule, ok in ordered if not ok]


@dataclasses.dataclass(frozen=True)
class ZeroDteSettings:
    """The Friday 0DTE credit-spread trade Progressive Friday parameterises (framework source rules).

    Entry window, size multiplier, stop, target, minimum credit and contract limit come from
    ``FridaySettings.zero_dte(is_progressive)``; these are the rule's own choices."""

    enabled: bool = param("zero-dte-enabled", True, "Trade the Friday 0DTE credit spread")
    move_threshold_pct: float = param(
        "zero-dte-move-pct", 0.5, "|Move from the open| above this %: a vertical, else an iron condor", positive)
    mode: str = param("zero-dte-mode", "fade", "fade: sell the side the move came from; trend: the other side",
                      one_of("fade", "trend"))
    short_delta_min: float = param("zero-dte-short-delta-min", 0.15, "Short strikes: |delta| at least", fraction)
    short_delta_max: float = param("zero-dte-short-delta-max", 0.25, "Short strikes: |delta| at most", fraction)
    wing_pct: float = param(
        "zero-dte-wing-pct", 0.75, "Wing width, % of the underlying (the source's 30 ES points near 4,000)", positive)
    concession: float = param(
        "zero-dte-concession", 0.05, "Limit = mid credit minus this per share (never through natural)", non_negative)

    def cross_check(self) -> list[str]:
        ok = self.short_delta_min < self.short_delta_max
        return [] if ok else ["zero-dte-short-delta-min must be below zero-dte-short-delta-max"]


SECTIONS: tuple[type, ...] = (
    UniverseSettings, ManualModeSettings, GreeksSettings, StreamingSettings, FridaySettings, Section9BSettings,
    ZeroDteSettings)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every component's settings, validated together."""

    universe: UniverseSettings
    manual: ManualModeSettings
    greeks: GreeksSettings
    streaming: StreamingSettings
    friday: FridaySettings
    section9b: Section9BSettings
    zero_dte: ZeroDteSettings


def load_settings(get: Getter) -> Settings:
    """Parse all LEAN parameters at once; raise :class:`SettingsError` listing every bad one."""
    problems: list[str] = []
    universe = parse_section(UniverseSettings, get, problems)
    manual = parse_section(ManualModeSettings, get, problems)
    greeks = parse_section(GreeksSettings, get, problems)
    streaming = parse_section(StreamingSettings, get, problems)
    friday = parse_section(FridaySettings, get, problems)
    section9b = parse_section(Section9BSettings, get, problems)
    zero_dte = parse_section(ZeroDteSettings, get, problems)
    if (problems or universe is None or manual is None or greeks is None or streaming is None
            or friday is None or section9b is None or zero_dte is None):
        raise SettingsError(problems)
    return Settings(universe, manual, greeks, streaming, friday, section9b, zero_dte)


def default_parameters() -> dict[str, str]:
    """Every parameter with its default, as ``config.json`` must carry them."""
    merged: dict[str, str] = {}
    for cls in SECTIONS:
        merged.update(defaults_as_parameters(cls))
    return merged


def parameter_docs() -> Iterator[tuple[ParamSpec, str]]:
    """(spec, default string) for every parameter, for the README table."""
    for cls in SECTIONS:
        for field, spec in param_fields(cls):
            yield spec, format_value(field.default)


__all__ = [
    "GreeksSettings", "FridaySettings", "ManualModeSettings", "Section9BSettings", "Settings",
    "SettingsError", "StreamingSettings", "UniverseSettings", "ZeroDteParameters",
    "default_parameters", "load_settings", "parameter_docs",
]
