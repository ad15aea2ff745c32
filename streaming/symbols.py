"""LEAN-style instruments <-> DXLink streamer symbols.

Plain inputs only (ticker, expiry date, right, strike), no LEAN ``Symbol`` objects, so this module runs
without LEAN. Every builder takes an optional ``streamer_symbol``: when the tastytrade REST API returned
one (``"streamer-symbol"`` on instruments, ``call-streamer-symbol``/``put-streamer-symbol`` on chains),
it wins, because it is the broker's own truth and covers cases the rules below cannot (adjusted
options, futures whose contract month differs from the expiry month).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

FUTURE_MONTH_CODES = "FGHJKMNQUVXZ"  # January..December
# LEAN market name -> ISO 10383 MIC used by dxFeed after the colon (LEAN _futureLeanMarketToStreamExchange).
LEAN_MARKET_TO_MIC = {"CME": "XCME", "CBOT": "XCBT", "COMEX": "XCEC", "NYMEX": "XNYM", "CFE": "XCBF"}
MIC_TO_LEAN_MARKET = {mic: market for market, mic in LEAN_MARKET_TO_MIC.items()}

_OPTION_RE = re.compile(r"^\.([A-Z0-9/]+?)(\d{6})([CP])(\d+(?:\.\d+)?)$")
_OCC_RE = re.compile(r"^([A-Z0-9]{1,6})\s*(\d{6})([CP])(\d{8})$")
_FUTURE_RE = re.compile(r"^/([A-Z0-9]+?)([FGHJKMNQUVXZ])(\d{2}):([A-Z]{4})$")


class SymbolError(ValueError):
    """A symbol that does not follow the expected format."""


@dataclass(frozen=True, slots=True)
class OptionContract:
    """An equity or index option as plain values; ``root`` is the OCC root (``SPXW`` for SPX weeklies)."""

    root: str
    expiry: date
    right: str  # "C" or "P"
    strike: Decimal


@dataclass(frozen=True, slots=True)
class FutureContract:
    """A futures contract: root (``ES``), contract year and month, exchange MIC (``XCME``)."""

    root: str
    year: int
    month: int
    exchange_mic: str

    @property
    def lean_market(self) -> str:
        return MIC_TO_LEAN_MARKET.get(self.exchange_mic, self.exchange_mic)


def streamer_symbol_from_instrument(instrument: Mapping[str, object]) -> str | None:
    """The ``streamer-symbol`` of a tastytrade REST instrument, or None when absent."""
    value = instrument.get("streamer-symbol")
    return value if isinstance(value, str) and value else None


def is_option_symbol(streamer_symbol: str) -> bool:
    """Equity, index and future options all start with a dot (``.SPY…``, ``./EW4N23…``)."""
    return streamer_symbol.startswith(".")


def equity_streamer_symbol(ticker: str, streamer_symbol: str | None = None) -> str:
    """``SPY`` -> ``SPY``; LEAN's class-share dot becomes a slash (``BRK.B`` -> ``BRK/B``)."""
    if streamer_symbol:
        return streamer_symbol
    cleaned = ticker.strip().upper()
    if not cleaned:
        raise SymbolError("empty equity ticker")
    return cleaned.replace(".", "/")


def equity_ticker(streamer_symbol: str) -> str:
    """Inverse of :func:`equity_streamer_symbol`: ``BRK/B`` -> ``BRK.B``."""
    return streamer_symbol.replace("/", ".")


def index_streamer_symbol(ticker: str, streamer_symbol: str | None = None) -> str:
    """``SPX``, ``VIX``, ``VIX3M`` stream under their plain names (no ``$``, not ``$VIX.X``)."""
    if streamer_symbol:
        return streamer_symbol
    cleaned = ticker.strip().upper().lstrip("$")
    if cleaned.endswith(".X"):
        cleaned = cleaned[:-2]
    if not cleaned:
        raise SymbolError("empty index ticker")
    return cleaned


def _right_letter(right: str) -> str:
    letter = right.strip().upper()[:1]
    if letter not in ("C", "P"):
        raise SymbolError(f"option right must be call/put or C/P, got {right!r}")
    return letter


def _strike_decimal(strike: Decimal | float | int | str) -> Decimal:
    try:
        value = Decimal(str(strike))
    except InvalidOperation as exc:
        raise SymbolError(f"invalid strike {strike!r}") from exc
    if not value.is_finite() or value <= 0:
        raise SymbolError(f"strike must be positive, got {strike!r}")
    return value


def format_strike(strike: Decimal | float | int | str) -> str:
    """Strike as DXLink writes it: no trailing zeros (500, 502.5, 0.5)."""
    return format(_strike_decimal(strike).normalize(), "f")


def option_streamer_symbol(
    root: str,
    expiry: date,
    right: str,
    strike: Decimal | float | int | str,
    streamer_symbol: str | None = None,
) -> str:
    """``("SPY", 2025-12-19, "call", 500)`` -> ``.SPY251219C500``; ``502.5`` -> ``…P502.5``."""
    if streamer_symbol:
        return streamer_symbol
    cleaned = root.strip().upper()
    if not cleaned:
        raise SymbolError("empty option root")
    return f".{cleaned}{expiry:%y%m%d}{_right_letter(right)}{format_strike(strike)}"


def parse_option_streamer_symbol(streamer_symbol: str) -> OptionContract:
    """``.SPY251219P502.5`` -> OptionContract("SPY", 2025-12-19, "P", Decimal("502.5"))."""
    match = _OPTION_RE.match(streamer_symbol)
    if match is None:
        raise SymbolError(f"not an equity/index option streamer symbol: {streamer_symbol!r}")
    root, yymmdd, right, strike = match.groups()
    return OptionContract(root, _yymmdd(yymmdd), right, Decimal(strike))


def occ_to_streamer_symbol(occ_symbol: str) -> str:
    """OCC/OSI (LEAN's option ``symbol.value``) -> streamer: ``SPY   251219C00500000`` -> ``.SPY251219C500``."""
    match = _OCC_RE.match(occ_symbol.strip().upper())
    if match is None:
        raise SymbolError(f"not an OCC option symbol: {occ_symbol!r}")
    root, yymmdd, right, strike_thousandths = match.groups()
    strike = Decimal(int(strike_thousandths)) / 1000
    return option_streamer_symbol(root, _yymmdd(yymmdd), right, strike)


def streamer_to_occ_symbol(streamer_symbol: str) -> str:
    """Inverse of :func:`occ_to_streamer_symbol` (root padded to 6, strike in thousandths, 8 digits)."""
    contract = parse_option_streamer_symbol(streamer_symbol)
    thousandths = contract.strike * 1000
    if thousandths != thousandths.to_integral_value() or len(contract.root) > 6:
        raise SymbolError(f"cannot be written as an OCC symbol: {streamer_symbol!r}")
    return f"{contract.root:<6}{contract.expiry:%y%m%d}{contract.right}{int(thousandths):08d}"


def future_streamer_symbol(
    root: str, year: int, month: int, exchange: str, streamer_symbol: str | None = None
) -> str:
    """``("ES", 2025, 12, "CME")`` -> ``/ESZ25:XCME``.

    ``year``/``month`` are the *contract* month (CL's December contract expires in November), which is
    why the REST ``streamer-symbol`` should be preferred when available. ``exchange`` is a LEAN market
    name (``CME``) or a MIC (``XCME``).
    """
    if streamer_symbol:
        return streamer_symbol
    if not 1 <= month <= 12:
        raise SymbolError(f"month must be 1..12, got {month}")
    code = root.strip().upper().lstrip("/")
    if not code:
        raise SymbolError("empty futures root")
    upper = exchange.strip().upper()
    mic = LEAN_MARKET_TO_MIC.get(upper, upper)
    if len(mic) != 4:
        raise SymbolError(f"unknown futures exchange {exchange!r}")
    return f"/{code}{FUTURE_MONTH_CODES[month - 1]}{year % 100:02d}:{mic}"


def parse_future_streamer_symbol(streamer_symbol: str) -> FutureContract:
    """``/ESZ25:XCME`` -> FutureContract("ES", 2025, 12, "XCME")."""
    match = _FUTURE_RE.match(streamer_symbol)
    if match is None:
        raise SymbolError(f"not a futures streamer symbol: {streamer_symbol!r}")
    root, month_code, yy, mic = match.groups()
    return FutureContract(root, 2000 + int(yy), FUTURE_MONTH_CODES.index(month_code) + 1, mic)


def future_root(streamer_symbol: str) -> str | None:
    """``/ESZ25:XCME`` -> ``/ES``; None for anything that is not a futures streamer symbol."""
    match = _FUTURE_RE.match(streamer_symbol)
    return f"/{match.group(1)}" if match else None


# ----- what the live algorithm streams (spec: SPY, VIX, /ES, /MES) ------------------------------------
E_MINI_ROOTS = ("ES", "MES")  # E-mini and Micro E-mini S&P 500: same quarterly cycle, same expiry day
E_MINI_MONTHS = (3, 6, 9, 12)  # H, M, U, Z
# CME's roll: volume moves to the next quarter about eight days before the expiry (the second Thursday).
E_MINI_ROLL_DAYS = 8
SPEC_SYMBOLS = ("VIX", "VIX9D", "SPY")  # after the underlying, before the E-minis


def third_friday(year: int, month: int) -> date:
    """Equity index futures expire on the third Friday of the contract month."""
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def e_mini_front_expiry(today: date, roll_days: int = E_MINI_ROLL_DAYS) -> date:
    """The quarterly expiry the front E-mini has on ``today`` by the calendar: the first third Friday of
    March/June/September/December more than ``roll_days`` away. Only a fallback for when LEAN has not
    mapped its continuous contract yet (LEAN rolls on open interest, which is usually the same day)."""
    for year in (today.year, today.year + 1):
        for month in E_MINI_MONTHS:
            expiry = third_friday(year, month)
            if expiry - today > timedelta(days=roll_days):
                return expiry
    raise SymbolError(f"no quarterly expiry after {today}")  # unreachable: December of next year is later


def e_mini_streamer_symbols(contract_expiry: date | None, today: date) -> tuple[str, ...]:
    """``/ESH26:XCME`` and ``/MESH26:XCME`` for the front E-mini contract.

    ``contract_expiry`` is the expiry of LEAN's mapped contract (``future.mapped.id.date``); the E-mini
    expires in its contract month, so the month code comes straight from it. /MES follows the same
    quarterly cycle, so its front contract has the same code. When LEAN has no mapped contract yet
    (None, or a date already past) the calendar rule of :func:`e_mini_front_expiry` decides.
    """
    expiry = contract_expiry if contract_expiry is not None and contract_expiry >= today else e_mini_front_expiry(today)
    return tuple(future_streamer_symbol(root, expiry.year, expiry.month, "CME") for root in E_MINI_ROOTS)


def live_stream_symbols(underlying: str, is_index: bool, e_mini: Iterable[str]) -> list[str]:
    """What the live algorithm streams: the underlying, VIX, VIX9D, then the spec's SPY and front
    E-minis (``e_mini``, from :func:`e_mini_streamer_symbols`), each once, in that order."""
    first = index_streamer_symbol(underlying) if is_index else equity_streamer_symbol(underlying)
    return list(dict.fromkeys([first, *SPEC_SYMBOLS, *e_mini]))


def _yymmdd(text: str) -> date:
    try:
        return date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError as exc:
        raise SymbolError(f"invalid expiry {text!r}") from exc
