"""LEAN's ``Symbol`` and ``SecurityIdentifier`` for the double.

A contract's value is LEAN's OSI-style ticker (``SPXW  210108C03700000``: root padded to six
characters, expiry ``yymmdd``, right, strike x 1000); a canonical option chain is ``?ROOT``
(``Common/Symbol.cs``, ``Common/SymbolRepresentation.cs``). Two symbols are equal when their value
and security type are (the value already carries root, expiry, right and strike).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from replay.engine.lean_types import Market, OptionRight, OptionStyle, SecurityType, Strict

# LEAN's default option style per option security type (``SecurityTypeExtensions.DefaultOptionStyle``)
DEFAULT_STYLE = {SecurityType.OPTION: OptionStyle.AMERICAN, SecurityType.INDEX_OPTION: OptionStyle.EUROPEAN,
                 SecurityType.FUTURE_OPTION: OptionStyle.AMERICAN}
# index option roots whose underlying index has another ticker (``IndexOptionSymbol.MapToUnderlying``)
INDEX_OPTION_UNDERLYING = {"SPXW": "SPX", "VIXW": "VIX", "NDXP": "NDX", "RUTW": "RUT", "NQX": "NDX"}


class Symbol:
    """Hashable identity of a security; options carry underlying, root, expiry, strike, right, style.

    Symbols are interned: constructing one with the value and type of an existing one returns that
    instance (the value already carries root, expiry, right and strike), so equality is identity and
    hashing is the interpreter's own; both happen on every bar for every contract."""

    __slots__ = ("value", "security_type", "underlying", "expiry", "strike", "right", "style", "market", "__weakref__")
    _interned: dict[tuple[str, int], Symbol] = {}

    value: str
    security_type: SecurityType
    underlying: Symbol | None
    expiry: date | None
    strike: float | None
    right: OptionRight | None
    style: OptionStyle | None
    market: str

    def __new__(cls, value: str, security_type: SecurityType, underlying: Symbol | None = None,
                expiry: date | None = None, strike: float | None = None, right: OptionRight | None = None,
                style: OptionStyle | None = None, market: str = Market.USA) -> Symbol:
        key = (value, int(security_type))
        found = cls._interned.get(key)
        if found is not None:
            return found
        symbol = super().__new__(cls)
        for name, field in (("value", value), ("security_type", SecurityType(security_type)),
                            ("underlying", underlying), ("expiry", expiry), ("strike", strike), ("right", right),
                            ("style", style), ("market", market)):
            object.__setattr__(symbol, name, field)
        cls._interned[key] = symbol
        return symbol

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Symbol is immutable: cannot set {name}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Symbol, (self.value, self.security_type, self.underlying, self.expiry, self.strike, self.right,
                         self.style, self.market))

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if isinstance(other, Symbol):
            return False  # interned: another instance is another symbol
        symbol = getattr(other, "symbol", None)  # LEAN converts OptionContract to Symbol implicitly
        return symbol is self

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return self.value

    @property
    def id(self) -> SecurityIdentifier:
        return SecurityIdentifier(self)

    @property
    def root(self) -> str:
        """Option root (``SPXW``), or the ticker of any other security."""
        if self.security_type.is_option:
            return self.value.lstrip("?")[:6].strip() if self.expiry is not None else self.value.lstrip("?")
        return self.value

    @property
    def has_underlying(self) -> bool:
        return self.underlying is not None

    def is_canonical(self) -> bool:
        return self.security_type.is_option and self.expiry is None

    @property
    def canonical(self) -> Symbol:
        if not self.security_type.is_option or self.expiry is None:
            return self
        return Symbol(f"?{self.root}", self.security_type, self.underlying, style=self.style, market=self.market)

    # --- factories (``Symbol.Create``, ``Symbol.CreateOption``, ``Symbol.CreateCanonicalOption``) -------

    @staticmethod
    def create(ticker: str, security_type: SecurityType, market: str = Market.USA, alias: str | None = None
               ) -> Symbol:
        if security_type.is_option:
            raise NotImplementedError("use Symbol.create_option or Symbol.create_canonical_option for options")
        return Symbol(str(ticker).upper(), SecurityType(security_type), market=market)

    @staticmethod
    def create_option(*args: Any, **kwargs: Any) -> Symbol:
        """``create_option(underlying, market, style, right, strike, expiry)`` or, for a root other than the
        underlying's ticker, ``create_option(underlying, target_option, market, style, right, strike, expiry)``."""
        names = ["underlying", "market", "style", "right", "strike", "expiry"]
        if len(args) == 7:
            names.insert(1, "target_option")
        values = dict(zip(names, args)) | kwargs
        underlying = values["underlying"]
        if isinstance(underlying, str):
            underlying = Symbol.create(underlying, SecurityType.EQUITY, values.get("market", Market.USA))
        option_type = {SecurityType.INDEX: SecurityType.INDEX_OPTION,
                       SecurityType.FUTURE: SecurityType.FUTURE_OPTION}.get(underlying.security_type, SecurityType.OPTION)
        root = str(values.get("target_option") or underlying.value)
        expiry = values["expiry"]
        return option_symbol(root, underlying, expiry.date() if isinstance(expiry, datetime) else expiry,
                             float(values["strike"]), OptionRight(values["right"]), option_type,
                             OptionStyle(values["style"]), values.get("market", Market.USA))

    @staticmethod
    def create_canonical_option(underlying: Symbol, target_option: str | None = None, market: str = Market.USA,
                                alias: str | None = None) -> Symbol:
        option_type = SecurityType.INDEX_OPTION if underlying.security_type is SecurityType.INDEX else SecurityType.OPTION
        root = (target_option or underlying.value).upper()
        return Symbol(f"?{root}", option_type, underlying, style=DEFAULT_STYLE[option_type], market=market)


class SecurityIdentifier(Strict):
    """``symbol.id``: root ticker, expiry (a datetime), strike, right, style, type, market."""

    def __init__(self, symbol: Symbol) -> None:
        self.symbol = symbol.root
        self.date = datetime.combine(symbol.expiry, datetime.min.time()) if symbol.expiry else datetime.min
        self.strike_price = symbol.strike if symbol.strike is not None else 0.0
        self.option_right = symbol.right
        self.option_style = symbol.style
        self.security_type = symbol.security_type
        self.market = symbol.market
        self.underlying = symbol.underlying.id if symbol.underlying is not None else None

    def __str__(self) -> str:
        return self.symbol


def option_symbol(root: str, underlying: Symbol, expiry: date, strike: float, right: OptionRight,
                  security_type: SecurityType = SecurityType.INDEX_OPTION, style: OptionStyle | None = None,
                  market: str = Market.USA) -> Symbol:
    """An option contract symbol, named like LEAN's OSI-style value (``SPXW  210108C03700000``)."""
    value = f"{root.upper():<6}{expiry:%y%m%d}{'C' if right is OptionRight.CALL else 'P'}{round(strike * 1000):08d}"
    return Symbol(value, security_type, underlying, expiry, float(strike), OptionRight(right),
                  style if style is not None else DEFAULT_STYLE[security_type], market)


def as_symbol(value: Any) -> Symbol:
    """LEAN accepts an ``OptionContract`` (or anything with a ``symbol``) where a Symbol is expected."""
    if isinstance(value, Symbol):
        return value
    symbol = getattr(value, "symbol", None)
    if isinstance(symbol, Symbol):
        return symbol
    raise TypeError(f"expected a Symbol, got {type(value).__name__}: {value!r}")
