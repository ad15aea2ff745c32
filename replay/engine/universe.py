"""Option chain universes: the daily contract selection LEAN makes for ``add_option``/``add_index_option``.

Each trading day LEAN reads the chain's universe file of the previous trading day (one row for the
underlying, then one per contract with prices, open interest, IV and Greeks) and runs the algorithm's
filter over it (``Common/Data/UniverseSelection/OptionChainUniverse.cs``). The filter universe here is
``Common/Securities/Option/OptionFilterUniverse.cs`` and ``ContractSecurityFilterUniverse.cs``:
``strikes`` counts distinct strikes around the underlying's price with LEAN's binary-search rule,
``expiration`` counts days from the selection date moved to the next trading day, standard and weekly
contracts are told apart by ``OptionSymbol.IsStandard`` / ``IndexOptionSymbol.IsStandard``, and the
type filter (standards / weeklies / both, both by default) is applied after the algorithm's filter.
"""
from __future__ import annotations

import bisect
import enum
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from replay.engine.lean_types import NotImplementedInDouble, OptionRight, SecurityType, Strict
from replay.engine.market_data import BaseData, Greeks
from replay.engine.symbols import Symbol


class ExpirationType(enum.IntFlag):
    STANDARD = 1
    WEEKLY = 2


def third_friday(day: date) -> date:
    first = day.replace(day=1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def is_standard(symbol: Symbol) -> bool:
    """``OptionSymbol.IsStandard`` (equity options: the week of the third Friday, Saturday to Thursday
    after it excluded) and ``IndexOptionSymbol.IsStandard`` (SPXW/RUTW/NQX: the third Friday; other roots
    such as SPX: always standard)."""
    expiry = symbol.expiry
    assert expiry is not None
    if symbol.security_type is SecurityType.INDEX_OPTION:
        if symbol.market != "usa":
            return True
        if symbol.root in ("SPXW", "RUTW", "NQX"):
            return third_friday(expiry) == expiry
        return True
    first = expiry.replace(day=1)
    dotnet_weekday = (first.weekday() + 1) % 7  # .NET: Sunday = 0
    first_friday = 7 if dotnet_weekday == 6 else 6 - dotnet_weekday
    return first_friday + 7 + 5 < expiry.day < first_friday + 2 * 7 + 2


class OptionUniverseRow(Strict):
    """One contract of a universe file (``OptionUniverse``): iterating a filter universe yields these."""

    def __init__(self, symbol: Symbol, values: dict[str, float], underlying: BaseData | None) -> None:
        self.symbol = symbol
        self._values = values
        self.underlying = underlying

    @property
    def id(self) -> Any:
        return self.symbol.id

    def _get(self, name: str) -> float:
        value = self._values.get(name, float("nan"))
        return 0.0 if value != value else float(value)

    @property
    def open(self) -> float:
        return self._get("open")

    @property
    def high(self) -> float:
        return self._get("high")

    @property
    def low(self) -> float:
        return self._get("low")

    @property
    def close(self) -> float:
        return self._get("close")

    price = close
    value = close

    @property
    def volume(self) -> float:
        return self._get("volume")

    @property
    def open_interest(self) -> float:
        return self._get("open_interest")

    @property
    def implied_volatility(self) -> float:
        return self._get("implied_volatility")

    @property
    def greeks(self) -> Greeks:
        theta = self._get("theta")
        return Greeks(self._get("delta"), self._get("gamma"), theta, self._get("vega"), self._get("rho"), theta * 365.0)

    def __eq__(self, other: object) -> bool:
        return self.symbol == (other.symbol if isinstance(other, OptionUniverseRow) else other)

    def __hash__(self) -> int:
        return hash(self.symbol)

    def __str__(self) -> str:
        return str(self.symbol)


class OptionFilterUniverse(Strict):
    """The universe an option filter function receives and returns (see the module docstring)."""

    def __init__(self, rows: list[OptionUniverseRow], underlying: BaseData | None, local_time: datetime,
                 trading_day: Callable[[date], date]) -> None:
        self._data = list(rows)
        self.underlying = underlying
        self.local_time = local_time
        self._trading_day = trading_day
        self._type = ExpirationType.STANDARD | ExpirationType.WEEKLY
        self._types_applied = False

    # --- contents ----------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[OptionUniverseRow]:
        return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)

    @property
    def count(self) -> int:
        return len(self._data)

    @property
    def all_symbols(self) -> list[Symbol]:
        return [r.symbol for r in self._data]

    def _set(self, rows: list[OptionUniverseRow]) -> OptionFilterUniverse:
        self._data = rows
        return self

    # --- type filters ---------------------------------------------------------------------------------

    def standards_only(self) -> OptionFilterUniverse:
        if self._types_applied:
            raise ValueError("Type filters have already been applied, please call standards_only() before other filters")
        self._type = ExpirationType.STANDARD
        return self

    def include_weeklys(self) -> OptionFilterUniverse:
        if self._types_applied:
            raise ValueError("Type filters have already been applied, please call include_weeklys() before other filters")
        self._type |= ExpirationType.WEEKLY
        return self

    def weeklys_only(self) -> OptionFilterUniverse:
        self._type = ExpirationType.WEEKLY
        return self

    def apply_types_filter(self) -> OptionFilterUniverse:
        if self._types_applied:
            return self
        wanted = self._type
        if wanted != ExpirationType.STANDARD | ExpirationType.WEEKLY:
            keep_standard = wanted == ExpirationType.STANDARD
            self._data = [r for r in self._data if is_standard(r.symbol) == keep_standard]
        self._types_applied = True
        return self

    # --- LEAN's filters -----------------------------------------------------------------------------

    def strikes(self, min_strike: int, max_strike: int) -> OptionFilterUniverse:
        """``Strikes``: the distinct strikes of the contracts still selected, around the underlying's price."""
        if self.underlying is None:
            return self
        strikes = sorted({float(r.symbol.strike or 0.0) for r in self._data})
        price = float(self.underlying.price)
        index = bisect.bisect_left(strikes, price)
        exact = index < len(strikes) and strikes[index] == price
        if not exact and index == len(strikes):
            return self._set([])
        low, high = index + int(min_strike), index + int(max_strike)
        if not exact:
            if min_strike < 0 < max_strike:
                high -= 1
            elif min_strike > 0:
                low, high = low - 1, high - 1
        if low < 0:
            low = 0
        elif low >= len(strikes):
            return self._set([])
        if high < 0:
            return self._set([])
        high = min(high, len(strikes) - 1)
        lowest, highest = strikes[low], strikes[high]
        return self._set([r for r in self._data if lowest <= float(r.symbol.strike or 0.0) <= highest])

    def expiration(self, min_expiry: int | timedelta, max_expiry: int | timedelta) -> OptionFilterUniverse:
        """Contracts expiring between the selection date (moved to a trading day) plus the bounds."""
        first = min_expiry if isinstance(min_expiry, timedelta) else timedelta(days=int(min_expiry))
        last = max_expiry if isinstance(max_expiry, timedelta) else timedelta(days=int(max_expiry))
        reference = self._trading_day(self.local_time.date())
        low, high = reference + first, reference + last
        return self._set([r for r in self._data if r.symbol.expiry is not None and low <= r.symbol.expiry <= high])

    def calls_only(self) -> OptionFilterUniverse:
        return self._set([r for r in self._data if r.symbol.right is OptionRight.CALL])

    def puts_only(self) -> OptionFilterUniverse:
        return self._set([r for r in self._data if r.symbol.right is OptionRight.PUT])

    def front_month(self) -> OptionFilterUniverse:
        self.apply_types_filter()
        if not self._data:
            return self
        first = min(r.symbol.expiry for r in self._data if r.symbol.expiry is not None)
        return self._set([r for r in self._data if r.symbol.expiry == first])

    def back_months(self) -> OptionFilterUniverse:
        self.apply_types_filter()
        if not self._data:
            return self
        first = min(r.symbol.expiry for r in self._data if r.symbol.expiry is not None)
        return self._set([r for r in self._data if r.symbol.expiry != first])

    def back_month(self) -> OptionFilterUniverse:
        return self.back_months().front_month()

    def contracts(self, selection: Any) -> OptionFilterUniverse:
        """A list of symbols (or rows), or a function from the rows to such a list."""
        chosen = selection(list(self._data)) if callable(selection) else selection
        return self.where_contains(list(chosen))

    def where_contains(self, chosen: list[Any]) -> OptionFilterUniverse:
        wanted = {c.symbol if isinstance(c, OptionUniverseRow) else c for c in chosen}
        return self._set([r for r in self._data if r.symbol in wanted])

    def _between(self, name: str, low: float, high: float) -> OptionFilterUniverse:
        return self._set([r for r in self._data if low <= getattr(r, name) <= high])

    def open_interest(self, min_open_interest: float, max_open_interest: float) -> OptionFilterUniverse:
        return self._between("open_interest", min_open_interest, max_open_interest)

    def implied_volatility(self, min_iv: float, max_iv: float) -> OptionFilterUniverse:
        return self._between("implied_volatility", min_iv, max_iv)

    iv = implied_volatility

    def delta(self, min_delta: float, max_delta: float) -> OptionFilterUniverse:
        return self._set([r for r in self._data if min_delta <= r.greeks.delta <= max_delta])

    d = delta

    def gamma(self, low: float, high: float) -> OptionFilterUniverse:
        return self._set([r for r in self._data if low <= r.greeks.gamma <= high])

    def vega(self, low: float, high: float) -> OptionFilterUniverse:
        return self._set([r for r in self._data if low <= r.greeks.vega <= high])

    def theta(self, low: float, high: float) -> OptionFilterUniverse:
        return self._set([r for r in self._data if low <= r.greeks.theta_per_day <= high])

    def rho(self, low: float, high: float) -> OptionFilterUniverse:
        return self._set([r for r in self._data if low <= r.greeks.rho <= high])

    def only_apply_filter_at_market_open(self) -> OptionFilterUniverse:
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise NotImplementedInDouble(f"LEAN double does not implement OptionFilterUniverse.{name} "
                                     "(strategy-shaped filters such as iron_condor are not modelled)")


def apply_filter(filter_function: Callable[[Any], Any] | None, universe: OptionFilterUniverse) -> list[Symbol]:
    """Run a chain's filter as ``Option.SetFilter(PyObject)`` does: it may return the universe, None or a
    list of symbols; the type filter is applied last. No filter means LEAN's default: strikes -1..+1,
    expiries within 35 days."""
    if filter_function is None:
        result: Any = universe.strikes(-1, 1).expiration(0, 35)
    else:
        result = filter_function(universe)
    if result is None:
        result = universe
    elif not isinstance(result, OptionFilterUniverse):
        result = universe.where_contains(list(result))
    return [r.symbol for r in result.apply_types_filter()]
