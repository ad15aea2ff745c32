"""The desk's trades: Section 9B and Friday 0DTE entries, and the exits of everything in the trade book.

Entries: the best tradeable Section 9B verdict (score at least ``s9b-execute-min-score``) is sized by
the risk budget and the per-order contract limit, one live trade per strategy, at most
``s9b-max-entry-attempts`` a day, each retry conceding a step from the mid toward the natural price.
The Friday 0DTE spread comes from :func:`strategies.zero_dte.plan_zero_dte` with the day's Progressive
Friday parameters, once a day. Exits: target, stop and time rules of :class:`strategies.trade_book.TradeBook`,
closing at the mid (a first profit-target attempt) or the natural price, on the limit tick.
Every order leaves as a :class:`desk.interface.SendOrder`; the gate decides when it is sent.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import date, datetime, timedelta

import numpy as np

from core.market import ChainColumns, ContractSpec, MarketSnapshot
from core.orders import OrderIntent, ceil_to_tick, floor_to_tick
from core.settings import Settings, ZeroDteParameters
from desk.interface import Alert, CancelOrder, ClosePurpose, EntryPurpose, HedgePurpose, OrderStatus, OrderUpdate, Outbox, SendOrder, mask_numbers
from pricing.chain import PricingInputs
from strategies.section9b import Section9BStrategies, StrategyAnalysis
from strategies.verdict import units_within
from strategies.structures import Structure, legs_from_rows
from strategies.trade_book import ExitRules, Trade, TradeBook, TradeState, mark_net
from strategies.zero_dte import plan_zero_dte

ZERO_DTE_SLOT = "0DTE"  # the once-a-day entry slot of the Friday 0DTE spread
VERDICT_RELOG = timedelta(minutes=30)


class Trading:
    """Entries and exits, and the per-day memory that keeps them from repeating."""

    def __init__(self, settings: Settings, outbox: Outbox, settlement_close: Callable[[date], float | None],
                 suggest: Callable[[OrderIntent, str, datetime], object]) -> None:
        s9b = settings.section9b
        self.settings, self.outbox, self.settlement_close, self.suggest = settings, outbox, settlement_close, suggest
        self.book = TradeBook(ExitRules(s9b.zero_dte_exit, s9b.close_days_before_expiry, s9b.close_time,
                                        timedelta(minutes=s9b.entry_timeout_minutes)))
        self.section9b = Section9BStrategies(s9b)
        self.opportunities_seen = 0
        self._suggested_today: set[str] = set()
        self._verdict_log: dict[str, tuple[bool, str, datetime]] = {}
        self._zero_dte_results: list[tuple[str, float, float]] = []  # (group, credit/share, P&L $)

    def start_day(self) -> None:
        self._suggested_today = set()

    # --- exits ------------------------------------------------------------------------------------

    def manage(self, market: MarketSnapshot, automation_state: str) -> None:
        """Each minute: reconcile with holdings, cancel stale entries and closes, close open trades at
        target, stop or their time rule."""
        book, out = self.book, self.outbox
        held = {p.contract: p.quantity for p in market.positions if p.contract is not None}
        for trade in book.reconcile(held):
            out.log(f"{_tag(trade)} {trade.strategy}: no longer held ({trade.exit_reason}); trade closed")
        self._record_closed()
        for trade in book.stale_entries(market.time):
            for order_id in book.request_entry_cancel(trade):
                out.add(CancelOrder(order_id))
            out.log(f"{_tag(trade)} {trade.strategy}: entry not filled within "
                    f"{self.settings.section9b.entry_timeout_minutes:g} min, cancelling")
        for trade in book.stale_closes(market.time):
            for order_id in book.close_timed_out(trade):
                out.add(CancelOrder(order_id))
        open_trades = book.in_state(TradeState.OPEN)
        if not open_trades:
            return
        max_age = self.settings.section9b.exit_max_quote_age_minutes
        fresh, last = _marks(market, max_age), _marks(market, math.inf)
        for trade in open_trades:
            if trade.refused_in == automation_state:
                continue  # its exit is already a suggestion in this state; not repeated every minute
            current = mark_net(trade.intent.legs, fresh)
            reason = book.exit_reason(trade, current, market.time)
            if reason is not None and current is not None:
                self._close(trade, reason, current, market)
                book.exit_unblocked(trade)
                continue
            # no fresh mark on every leg: would the last quotes (any age) call for an exit?
            reason = reason or book.exit_reason(trade, mark_net(trade.intent.legs, last), market.time)
            if reason is None:
                book.exit_unblocked(trade)
            else:
                self._exit_blocked(trade, reason, market, max_age)

    def _exit_blocked(self, trade: Trade, reason: str, market: MarketSnapshot, max_age: float) -> None:
        """An exit is due but a leg has no usable quote within ``max_age`` minutes: no automatic close at
        a made-up price. Say so once, wait for fresh quotes; a stop or time exit still blocked after
        ``exit-stale-escalate-minutes`` goes to a human (suggestion + alert), once."""
        chain, now = market.chain, market.time
        fresh = _marks(market, max_age)
        stale = ", ".join(leg.label() for leg in trade.intent.legs if leg.contract is None or fresh(leg.contract) is None)
        if trade.exit_blocked_since is None:
            self.outbox.log(f"{_tag(trade)} {trade.strategy}: {reason}, but no usable quote within {max_age:g} min "
                            f"for {stale}: waiting for fresh quotes before closing")
        wait = timedelta(minutes=self.settings.section9b.exit_stale_escalate_minutes)
        if not self.book.exit_blocked(trade, now, wait) or reason.startswith("profit target"):
            return
        reverse = _reverse(trade, chain)
        natural = reverse.natural() if reverse is not None else math.nan
        limit = ceil_to_tick(natural, self.settings.section9b.limit_tick) if np.isfinite(natural) else None
        intent = self.book.closing_intent(trade, reason, limit, now)  # priced on the last quotes, for a human
        why = (f"exit held up {wait.total_seconds() / 60:g} min without usable quotes ({stale}); "
               f"the automation does not close at a price it cannot see")
        self.suggest(intent, why, now)
        self.outbox.add(Alert("EXIT NEEDS A HUMAN", f"{trade.strategy}: {reason}; {why}"))

    def _close(self, trade: Trade, reason: str, current: float, market: MarketSnapshot) -> None:
        """Reverse the structure on fresh quotes: at mid (rounded in our favour) for a first profit-target
        attempt, else ``exit-marketable-ticks`` beyond the natural price (a marketable limit: it fills at
        the market's price, and LEAN's combo fill model needs the limit strictly beyond the bars), on the
        limit tick tastytrade accepts, and never beyond what the structure can be worth
        (``TradeBook.closing_intent``)."""
        reverse = _reverse(trade, market.chain)
        if reverse is None:
            return
        s9b = self.settings.section9b
        tick = s9b.limit_tick
        if reason.startswith("profit target") and trade.close_attempts == 0:
            limit = floor_to_tick(-current, tick)
        else:  # marketable: a stop or time exit must go; LEAN fills a combo limit only strictly inside it
            limit = ceil_to_tick(reverse.natural(), tick) + s9b.exit_marketable_ticks * tick
        if not np.isfinite(limit):
            return
        intent = self.book.closing_intent(trade, reason, limit, market.time)
        capped = "" if intent.limit_price == limit else (
            f" (natural {limit:+.2f} capped at {intent.limit_price:+.2f}: the structure cannot be worth more)")
        self.outbox.log(f"{_tag(trade)} closing {trade.strategy}: {reason}{capped}")
        self.outbox.add(SendOrder(intent, ClosePurpose(trade.trade_id, reason)))

    # --- Section 9B entries -------------------------------------------------------------------------

    def run_section9b(self, market: MarketSnapshot, pricing: PricingInputs | None) -> None:
        verdicts, opportunities = self.section9b.analyze_all_section9b(market, pricing)
        for verdict in verdicts:
            self._log_verdict(verdict, market.time)
        if not opportunities:
            return
        self.opportunities_seen += len(opportunities)
        self.outbox.statistic("Section 9B Opportunities", str(self.opportunities_seen))
        best = opportunities[0]
        self.outbox.log_once("s9b:best", f"[Section 9B] Best opportunity: {best.strategy} (Score: {best.score:g})")
        if best.score >= self.settings.section9b.execute_min_score:
            self._execute(best, market)

    def _log_verdict(self, verdict: StrategyAnalysis, now: datetime) -> None:
        """A verdict is logged when it turns tradeable or not; a changed reason at most every 30 minutes
        (verdicts flip between near-equal reasons minute to minute)."""
        last = self._verdict_log.get(verdict.strategy)
        kind = mask_numbers(verdict.reason)
        if last is None or last[0] != verdict.can_trade or (last[1] != kind and now - last[2] >= VERDICT_RELOG):
            self._verdict_log[verdict.strategy] = (verdict.can_trade, kind, now)
            self.outbox.log(f"[Section 9B] {verdict.strategy}: {verdict.reason}")

    def _execute(self, best: StrategyAnalysis, market: MarketSnapshot) -> None:
        """The spec's handler: one sized combo limit order, one trade per strategy, at most
        ``s9b-max-entry-attempts`` a day, sized at the worst price this attempt can fill at (its limit)."""
        s9b, intent, structure = self.settings.section9b, best.intent, best.structure
        assert intent is not None and structure is not None and best.prices is not None  # a tradeable verdict
        if (best.strategy in self.book.live_strategies() or best.strategy in self._suggested_today
                or self.book.entries_today(best.strategy, market.today) >= s9b.max_entry_attempts):
            return
        if market.time.time() >= s9b.zero_dte_exit and structure.expiries == (market.today,):
            return  # no new 0DTE structure once its time exit has passed
        limit = self._walked_limit(best, market)
        per_share = intent.max_loss_per_share_at(limit)
        unit_loss = per_share * structure.multiplier if per_share is not None else None
        units = min(units_within(unit_loss, s9b.max_risk_per_trade * market.portfolio_value),
                    self.settings.manual.max_contracts_per_order // intent.contracts_total())
        if units < 1 or unit_loss is None:
            self.outbox.log_once(f"size:{best.strategy}", (
                f"[Section 9B] {best.strategy}: the risk budget ({s9b.max_risk_per_trade:.0%} of "
                f"${market.portfolio_value:,.0f}) allows no unit at max loss "
                f"{'unknown' if unit_loss is None else f'${unit_loss:,.2f}'} per unit"))
            return
        order = dataclasses.replace(intent, units=units, limit_price=limit, max_loss=unit_loss * units).priced_at(limit)
        self.outbox.log(f"[Section 9B] Entering {best.strategy} x{units}: {order.describe_legs()} at {limit:+.2f}")
        self.outbox.add(SendOrder(order, EntryPurpose(best.strategy)))

    def _walked_limit(self, best: StrategyAnalysis, market: MarketSnapshot) -> float:
        """First attempt at the analyser's limit (the mid); each retry of the day concedes an equal step
        toward the natural price, the last attempt at natural, never through it (rounded in our favour)."""
        assert best.intent is not None and best.intent.limit_price is not None and best.prices is not None
        attempts = self.settings.section9b.max_entry_attempts
        step = self.book.entries_today(best.strategy, market.today) / (attempts - 1) if attempts > 1 else 1.0
        mid, natural = best.intent.limit_price, best.prices.natural
        return min(floor_to_tick(mid + step * (natural - mid), self.settings.section9b.limit_tick), natural)

    # --- the Friday 0DTE entry ----------------------------------------------------------------------

    def run_zero_dte(self, market: MarketSnapshot, pricing: PricingInputs | None, progressive: bool,
                     params: ZeroDteParameters) -> None:
        """The Friday 0DTE credit spread with the day's (progressive or normal) parameters, once a day."""
        z, s9b = self.settings.zero_dte, self.settings.section9b
        spot = market.underlying.price.value
        if (not z.enabled or not market.is_friday() or spot is None or pricing is None
                or ZERO_DTE_SLOT in self._suggested_today
                or any(t.strategy.startswith(ZERO_DTE_SLOT) and t.opened.date() == market.today
                       for t in self.book.trades)):
            return
        plan = plan_zero_dte(market, pricing, z, params, progressive, spot / s9b.spy_reference_price,
                             s9b.max_risk_per_trade * market.portfolio_value, s9b.limit_tick)
        if isinstance(plan, str):
            self.outbox.log_once("0dte", f"[0DTE] no entry: {plan}", by_kind=True)
            return
        assert plan.intent.limit_price is not None  # a 0DTE plan is always a combo limit
        credit = -plan.intent.limit_price
        self.outbox.log(f"[0DTE] {plan.intent.strategy} x{plan.intent.units} "
                        f"({'progressive' if progressive else 'normal'} Friday, move {plan.move_pct:+.2f}%): "
                        f"{plan.intent.describe_legs()} for {credit:.2f} credit")
        self.outbox.add(SendOrder(plan.intent, EntryPurpose(ZERO_DTE_SLOT)))

    # --- what the gate and the broker said -----------------------------------------------------------

    def sent(self, order: SendOrder, order_ids: list[int], now: datetime, automation_state: str) -> None:
        purpose = order.purpose
        if isinstance(purpose, HedgePurpose):
            self.outbox.log(f"[HEDGE] {order.intent.describe_legs()} sent ({purpose.reason})" if order_ids
                            else f"[HEDGE] LEAN placed no order for {order.intent.describe_legs()}")
            return
        if isinstance(purpose, EntryPurpose):
            if order_ids:
                self.book.add_entry(order.intent, order_ids, now)
            else:
                self.outbox.error(f"[ORDER] LEAN placed no order for {order.intent.strategy}; not retried today")
                self._suggested_today.add(purpose.strategy)
            return
        trade = self.book.get(purpose.trade_id)
        if trade is None or trade.state is not TradeState.OPEN:
            return
        if order_ids:
            self.book.close_sent(trade, order_ids, purpose.reason, now)
            self._record_closed()  # its fills may have come before its ids
        else:
            self.outbox.error(f"[ORDER] LEAN placed no closing order for {trade.strategy}")
            self.book.close_refused(trade, purpose.reason, automation_state)

    def refused(self, order: SendOrder, automation_state: str) -> None:
        """The gate refused it (it is a suggestion now): not repeated today, or in this state for exits."""
        purpose = order.purpose
        if isinstance(purpose, HedgePurpose):
            return
        if isinstance(purpose, EntryPurpose):
            self._suggested_today.add(purpose.strategy)
            return
        trade = self.book.get(purpose.trade_id)
        if trade is not None:
            self.book.close_refused(trade, purpose.reason, automation_state)

    def on_order_update(self, update: OrderUpdate) -> None:
        book = self.book
        if update.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            trade = book.on_fill(update.order_id, update.fill_price, update.fill_quantity,
                                 update.status is OrderStatus.FILLED, update.event_id)
            if trade is not None and trade.state is TradeState.OPEN and trade.entry_net is not None:
                self._announce_open(trade)
            self._record_closed()
        elif update.status is OrderStatus.CANCELED:
            book.on_cancel(update.order_id)
        elif update.status is OrderStatus.INVALID:
            book.on_invalid(update.order_id)

    def _announce_open(self, trade: Trade) -> None:
        """The fill and the exit levels it set (once per trade: a fill delivered twice says nothing new)."""
        intent = trade.intent
        limit = "market" if intent.limit_price is None else f"{intent.limit_price:+.2f}"
        target = "none" if intent.profit_target is None else f"{intent.profit_target:+.2f}"
        stop = "none" if intent.stop_loss is None else f"{intent.stop_loss:+.2f}"
        self.outbox.log_once(f"opened:{trade.trade_id}", (
            f"{_tag(trade)} {trade.strategy} x{intent.units} filled at {trade.entry_net:+.2f} per share (limit "
            f"{limit}); profit target {target}, stop {stop} per share, set from the fill"))

    def _record_closed(self) -> None:
        """Each newly closed trade's P&L: from its closing fills, else held to expiry at the settlement."""
        for trade in self.book.take_closed():
            pnl = self.book.realized_pnl_per_share(trade)
            if pnl is None:
                close = self.settlement_close(trade.expiry)
                pnl = None if close is None else self.book.settled_pnl_per_share(trade, close)
            self._record_result(trade, pnl)

    def _record_result(self, trade: Trade, pnl_per_share: float | None) -> None:
        """0DTE trades: P&L tagged progressive/normal, summarised as runtime statistics."""
        if not trade.strategy.startswith(ZERO_DTE_SLOT) or pnl_per_share is None or trade.entry_net is None:
            return
        group = "progressive" if "progressive Friday" in trade.intent.signals else "normal"
        multiplier = next(leg.contract.multiplier for leg in trade.intent.legs if leg.contract is not None)
        dollars = pnl_per_share * multiplier * trade.intent.units
        self._zero_dte_results.append((group, -trade.entry_net, dollars))
        for label in ("progressive", "normal"):
            done = [(c, p) for g, c, p in self._zero_dte_results if g == label]
            if not done:
                continue
            wins = sum(1 for _c, p in done if p > 0)
            self.outbox.statistic(f"0DTE {label} Fridays", (
                f"{len(done)} trade{'' if len(done) == 1 else 's'}, win rate {wins / len(done):.0%}, "
                f"avg credit {sum(c for c, _ in done) / len(done):.2f}, "
                f"avg P&L before fees ${sum(p for _, p in done) / len(done):,.2f}, worst ${min(p for _, p in done):,.2f}"))


def _tag(trade: Trade) -> str:
    """The log prefix a trader searches for: the Friday 0DTE trade's own, else Section 9B's."""
    return "[0DTE]" if trade.strategy.startswith(ZERO_DTE_SLOT) else "[Section 9B]"


def _marks(market: MarketSnapshot, max_age_minutes: float) -> Callable[[ContractSpec], float | None]:
    """Each contract's mid from a quote no older than ``max_age_minutes`` with an ask and a bid (a zero
    bid counts: a far wing quoted 0.00 / 0.05 is marked 0.025), not crossed; else None."""
    chain = market.chain
    rows = chain.row_of
    with np.errstate(invalid="ignore"):
        ok = ((chain.bid >= 0) & (chain.ask > 0) & (chain.ask >= chain.bid)
              & (chain.quote_age_minutes <= max_age_minutes))
    mids = np.where(ok, (chain.bid + chain.ask) / 2.0, np.nan)

    def mark(contract: ContractSpec) -> float | None:
        i = rows.get(contract)
        return float(mids[i]) if i is not None and np.isfinite(mids[i]) else None
    return mark


def _reverse(trade: Trade, chain: ChainColumns) -> Structure | None:
    """The closing structure with the legs' current quotes, None when a leg is not in the chain."""
    rows = chain.row_of
    if any(leg.contract is None or leg.contract not in rows for leg in trade.intent.legs):
        return None
    return Structure(f"{trade.strategy} exit", legs_from_rows(
        chain, [rows[leg.contract] for leg in trade.intent.legs if leg.contract is not None],
        [-leg.quantity for leg in trade.intent.legs]))
