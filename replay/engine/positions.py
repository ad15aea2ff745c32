"""Position groups: option positions matched to LEAN's named strategies (``Common/Securities/Positions/``,
``Common/Securities/Option/StrategyMatcher/OptionStrategyDefinitions.cs``).

LEAN resolves the portfolio's option positions, per underlying, into strategies (bull put spread,
iron condor, naked call...) and margins each group with its strategy's rule; positions left over form
single-security default groups. Definitions here are LEAN's, each with its inverse (a sold strategy),
except where the inverse is itself another named definition (LEAN's ``AllDefinitions``).

The matcher is the replay's: definitions are tried by descending leg count (LEAN's
``DescendingByLegCountOptionStrategyDefinitionEnumerator``), each repeatedly, taking the largest
multiple of the first match found in (expiry, strike) order. LEAN's ``OptionStrategyMatcher`` searches
alternative matches with an objective function; for the usual books (one strategy per set of
contracts) both give the same groups.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from replay.engine.lean_types import OptionRight, SecurityType, Strict
from replay.engine.symbols import Symbol


@dataclasses.dataclass(frozen=True)
class Candidate:
    """An option position as the leg predicates see it."""

    symbol: Symbol
    quantity: float
    strike: float
    expiry: date
    right: OptionRight


Predicate = Callable[[list[Candidate], Candidate], bool]


@dataclasses.dataclass(frozen=True)
class LegDefinition:
    right: OptionRight
    quantity: int
    predicates: tuple[tuple[str, Predicate], ...] = ()  # (text, test): the text compares definitions


@dataclasses.dataclass(frozen=True)
class StrategyDefinition:
    name: str
    underlying_lots: int
    legs: tuple[LegDefinition, ...]

    def inverted(self) -> StrategyDefinition:
        return StrategyDefinition(self.name, -self.underlying_lots,
                                  tuple(dataclasses.replace(leg, quantity=-leg.quantity) for leg in self.legs))

    def same_shape(self, other: StrategyDefinition) -> bool:
        if self.underlying_lots != other.underlying_lots or len(self.legs) != len(other.legs):
            return False
        return all(any(o.right == leg.right and o.quantity == leg.quantity
                       and {t for t, _ in leg.predicates} <= {t for t, _ in o.predicates} for o in other.legs)
                   for leg in self.legs)


def _p(text: str, test: Predicate) -> tuple[str, Predicate]:
    return text, test


SAME_EXPIRY_0 = _p("expiry == legs[0].expiry", lambda legs, c: c.expiry == legs[0].expiry)
SAME_STRIKE_0 = _p("strike == legs[0].strike", lambda legs, c: c.strike == legs[0].strike)
ABOVE_0 = _p("strike > legs[0].strike", lambda legs, c: c.strike > legs[0].strike)
BELOW_0 = _p("strike < legs[0].strike", lambda legs, c: c.strike < legs[0].strike)
AT_OR_ABOVE_0 = _p("strike >= legs[0].strike", lambda legs, c: c.strike >= legs[0].strike)
AT_OR_ABOVE_1 = _p("strike >= legs[1].strike", lambda legs, c: c.strike >= legs[1].strike)
ABOVE_1 = _p("strike > legs[1].strike", lambda legs, c: c.strike > legs[1].strike)
ABOVE_2 = _p("strike > legs[2].strike", lambda legs, c: c.strike > legs[2].strike)
BELOW_1 = _p("strike < legs[1].strike", lambda legs, c: c.strike < legs[1].strike)
SAME_STRIKE_1 = _p("strike == legs[1].strike", lambda legs, c: c.strike == legs[1].strike)
EVEN_WINGS = _p("strike - legs[1].strike == legs[1].strike - legs[0].strike",
                lambda legs, c: math.isclose(c.strike - legs[1].strike, legs[1].strike - legs[0].strike))
MIRROR_WING = _p("strike == 2 * legs[0].strike - legs[1].strike",
                 lambda legs, c: math.isclose(c.strike, 2 * legs[0].strike - legs[1].strike))
LATER_EXPIRY_0 = _p("expiry > legs[0].expiry", lambda legs, c: c.expiry > legs[0].expiry)
SAME_EXPIRY_1 = _p("expiry == legs[1].expiry", lambda legs, c: c.expiry == legs[1].expiry)

C, P = OptionRight.CALL, OptionRight.PUT


def _d(name: str, lots: int, *legs: LegDefinition) -> StrategyDefinition:
    return StrategyDefinition(name, lots, legs)


def _leg(right: OptionRight, quantity: int, *predicates: tuple[str, Predicate]) -> LegDefinition:
    return LegDefinition(right, quantity, tuple(predicates))


DEFINITIONS: tuple[StrategyDefinition, ...] = (
    _d("Covered Call", 1, _leg(C, -1)),
    _d("Protective Call", -1, _leg(C, 1)),
    _d("Covered Put", -1, _leg(P, -1)),
    _d("Protective Put", 1, _leg(P, 1)),
    _d("Protective Collar", 1, _leg(C, -1), _leg(P, 1, BELOW_0, SAME_EXPIRY_0)),
    _d("Conversion", 1, _leg(C, -1), _leg(P, 1, SAME_STRIKE_0, SAME_EXPIRY_0)),
    _d("Reverse Conversion", -1, _leg(C, 1), _leg(P, -1, SAME_STRIKE_0, SAME_EXPIRY_0)),
    _d("Naked Call", 0, _leg(C, -1)),
    _d("Naked Put", 0, _leg(P, -1)),
    _d("Bear Call Spread", 0, _leg(C, -1), _leg(C, 1, ABOVE_0, SAME_EXPIRY_0)),
    _d("Bear Put Spread", 0, _leg(P, 1), _leg(P, -1, BELOW_0, SAME_EXPIRY_0)),
    _d("Bull Call Spread", 0, _leg(C, 1), _leg(C, -1, ABOVE_0, SAME_EXPIRY_0)),
    _d("Bull Put Spread", 0, _leg(P, -1), _leg(P, 1, BELOW_0, SAME_EXPIRY_0)),
    _d("Straddle", 0, _leg(C, 1), _leg(P, 1, SAME_STRIKE_0, SAME_EXPIRY_0)),
    _d("Short Straddle", 0, _leg(C, -1), _leg(P, -1, SAME_STRIKE_0, SAME_EXPIRY_0)),
    _d("Strangle", 0, _leg(C, 1), _leg(P, 1, BELOW_0, SAME_EXPIRY_0)),
    _d("Short Strangle", 0, _leg(C, -1), _leg(P, -1, BELOW_0, SAME_EXPIRY_0)),
    _d("Butterfly Call", 0, _leg(C, 1), _leg(C, -2, AT_OR_ABOVE_0, SAME_EXPIRY_0),
       _leg(C, 1, AT_OR_ABOVE_1, SAME_EXPIRY_0, EVEN_WINGS)),
    _d("Short Butterfly Call", 0, _leg(C, -1), _leg(C, 2, AT_OR_ABOVE_0, SAME_EXPIRY_0),
       _leg(C, -1, AT_OR_ABOVE_1, SAME_EXPIRY_0, EVEN_WINGS)),
    _d("Butterfly Put", 0, _leg(P, 1), _leg(P, -2, AT_OR_ABOVE_0, SAME_EXPIRY_0),
       _leg(P, 1, AT_OR_ABOVE_1, SAME_EXPIRY_0, EVEN_WINGS)),
    _d("Short Butterfly Put", 0, _leg(P, -1), _leg(P, 2, AT_OR_ABOVE_0, SAME_EXPIRY_0),
       _leg(P, -1, AT_OR_ABOVE_1, SAME_EXPIRY_0, EVEN_WINGS)),
    _d("Call Calendar Spread", 0, _leg(C, -1), _leg(C, 1, SAME_STRIKE_0, LATER_EXPIRY_0)),
    _d("Short Call Calendar Spread", 0, _leg(C, 1), _leg(C, -1, SAME_STRIKE_0, LATER_EXPIRY_0)),
    _d("Put Calendar Spread", 0, _leg(P, -1), _leg(P, 1, SAME_STRIKE_0, LATER_EXPIRY_0)),
    _d("Short Put Calendar Spread", 0, _leg(P, 1), _leg(P, -1, SAME_STRIKE_0, LATER_EXPIRY_0)),
    _d("Iron Butterfly", 0, _leg(P, -1), _leg(P, 1, BELOW_0, SAME_EXPIRY_0), _leg(C, -1, SAME_STRIKE_0, SAME_EXPIRY_0),
       _leg(C, 1, MIRROR_WING, SAME_EXPIRY_0)),
    _d("Short Iron Butterfly", 0, _leg(P, 1), _leg(P, -1, BELOW_0, SAME_EXPIRY_0),
       _leg(C, 1, SAME_STRIKE_0, SAME_EXPIRY_0), _leg(C, -1, MIRROR_WING, SAME_EXPIRY_0)),
    _d("Iron Condor", 0, _leg(P, 1), _leg(P, -1, ABOVE_0, SAME_EXPIRY_0), _leg(C, -1, ABOVE_1, SAME_EXPIRY_0),
       _leg(C, 1, ABOVE_2, SAME_EXPIRY_0)),
    _d("Short Iron Condor", 0, _leg(P, -1), _leg(P, 1, ABOVE_0, SAME_EXPIRY_0), _leg(C, 1, ABOVE_1, SAME_EXPIRY_0),
       _leg(C, -1, ABOVE_2, SAME_EXPIRY_0)),
    _d("Box Spread", 0, _leg(P, 1), _leg(P, -1, BELOW_0, SAME_EXPIRY_0), _leg(C, 1, SAME_STRIKE_1, SAME_EXPIRY_0),
       _leg(C, -1, SAME_STRIKE_0, SAME_EXPIRY_0)),
    _d("Short Box Spread", 0, _leg(P, -1), _leg(P, 1, BELOW_0, SAME_EXPIRY_0),
       _leg(C, -1, SAME_STRIKE_1, SAME_EXPIRY_0), _leg(C, 1, SAME_STRIKE_0, SAME_EXPIRY_0)),
    _d("Jelly Roll", 0, _leg(C, -1), _leg(C, 1, SAME_STRIKE_0, LATER_EXPIRY_0),
       _leg(P, 1, SAME_STRIKE_0, SAME_EXPIRY_0), _leg(P, -1, SAME_STRIKE_0, SAME_EXPIRY_1)),
    _d("Short Jelly Roll", 0, _leg(C, 1), _leg(C, -1, SAME_STRIKE_0, LATER_EXPIRY_0),
       _leg(P, -1, SAME_STRIKE_0, SAME_EXPIRY_0), _leg(P, 1, SAME_STRIKE_0, SAME_EXPIRY_1)),
    _d("Bear Call Ladder", 0, _leg(C, -1), _leg(C, 1, ABOVE_0, SAME_EXPIRY_0), _leg(C, 1, ABOVE_1, SAME_EXPIRY_0)),
    _d("Bear Put Ladder", 0, _leg(P, 1), _leg(P, -1, BELOW_0, SAME_EXPIRY_0), _leg(P, -1, BELOW_1, SAME_EXPIRY_0)),
    _d("Bull Call Ladder", 0, _leg(C, 1), _leg(C, -1, ABOVE_0, SAME_EXPIRY_0), _leg(C, -1, ABOVE_1, SAME_EXPIRY_0)),
    _d("Bull Put Ladder", 0, _leg(P, -1), _leg(P, 1, BELOW_0, SAME_EXPIRY_0), _leg(P, 1, BELOW_1, SAME_EXPIRY_0)),
    _d("Call Backspread", 0, _leg(C, -1), _leg(C, 2, ABOVE_0, SAME_EXPIRY_0)),
    _d("Put Backspread", 0, _leg(P, -1), _leg(P, 2, BELOW_0, SAME_EXPIRY_0)),
    _d("Short Call Backspread", 0, _leg(C, 1), _leg(C, -2, ABOVE_0, SAME_EXPIRY_0)),
    _d("Short Put Backspread", 0, _leg(P, 1), _leg(P, -2, BELOW_0, SAME_EXPIRY_0)),
)


def all_definitions() -> list[StrategyDefinition]:
    """LEAN's ``AllDefinitions``: each definition and its inverse unless the inverse is already named."""
    out: list[StrategyDefinition] = []
    for definition in DEFINITIONS:
        out.append(definition)
        inverse = definition.inverted()
        if not any(other.same_shape(inverse) for other in DEFINITIONS):
            out.append(inverse)
    return out


ORDERED_DEFINITIONS = sorted(all_definitions(), key=lambda d: -(len(d.legs) + (1 if d.underlying_lots else 0)))


class Position(Strict):
    """``IPosition``: a symbol, a signed quantity and the quantity per group unit."""

    def __init__(self, symbol: Symbol, quantity: float, unit_quantity: float = 1.0) -> None:
        self.symbol, self.quantity, self.unit_quantity = symbol, float(quantity), float(unit_quantity)

    def __str__(self) -> str:
        return f"{self.quantity:g} {self.symbol}"


class PositionGroup(Strict):
    """``IPositionGroup``: positions margined together by one buying-power model."""

    def __init__(self, positions: list[Position], quantity: float, buying_power_model: Any,
                 strategy: StrategyDefinition | None) -> None:
        self.positions, self.quantity = positions, float(quantity)
        self.buying_power_model = buying_power_model
        self.strategy = strategy

    @property
    def count(self) -> int:
        return len(self.positions)

    def __len__(self) -> int:
        return len(self.positions)

    def __iter__(self) -> Iterator[Position]:
        return iter(self.positions)

    def try_get_position(self, symbol: Symbol) -> Position | None:
        return next((p for p in self.positions if p.symbol == symbol), None)

    @property
    def key(self) -> str:
        name = self.strategy.name if self.strategy is not None else "Default"
        return f"{name}: " + ", ".join(str(p.symbol) for p in self.positions)

    def __str__(self) -> str:
        return f"{self.key} x{self.quantity:g}"


def _candidates(positions: dict[Symbol, float]) -> list[Candidate]:
    found = [Candidate(s, q, float(s.strike), s.expiry, s.right) for s, q in positions.items()
             if q != 0 and s.security_type.is_option and s.expiry is not None and s.strike is not None
             and s.right is not None]
    return sorted(found, key=lambda c: (c.expiry, c.strike, c.right))


def _find(definition: StrategyDefinition, options: list[Candidate], shares: float, lot: float
          ) -> tuple[list[Candidate], int] | None:
    """The first assignment of positions to the definition's legs, and how many times it fits."""
    lots = definition.underlying_lots
    if lots and (shares * lots <= 0 or abs(shares) < abs(lots) * lot):
        return None
    chosen: list[Candidate] = []

    def search(i: int) -> bool:
        if i == len(definition.legs):
            return True
        leg = definition.legs[i]
        for cand in options:
            if cand in chosen or cand.right != leg.right or cand.quantity * leg.quantity <= 0:
                continue
            if abs(cand.quantity) < abs(leg.quantity):
                continue
            if chosen and not all(test(chosen, cand) for _, test in leg.predicates):
                continue
            chosen.append(cand)
            if search(i + 1):
                return True
            chosen.pop()
        return False

    if not search(0):
        return None
    times = min(int(abs(c.quantity) // abs(leg.quantity)) for c, leg in zip(chosen, definition.legs))
    if lots:
        times = min(times, int(abs(shares) // (abs(lots) * lot)))
    return (chosen, times) if times >= 1 else None


@dataclasses.dataclass
class Match:
    definition: StrategyDefinition
    legs: list[tuple[Symbol, float]]  # option legs with their total quantity
    underlying: tuple[Symbol, float] | None  # underlying shares in the group
    quantity: int  # group quantity (the multiple)


def match_strategies(positions: dict[Symbol, float], underlying: Symbol | None, lot: float) -> list[Match]:
    """Match one underlying's positions (options and shares) to strategies; what is left is unmatched."""
    left = dict(positions)
    shares = left.get(underlying, 0.0) if underlying is not None else 0.0
    matches: list[Match] = []
    for definition in ORDERED_DEFINITIONS:
        if definition.underlying_lots and underlying is None:
            continue
        while True:
            found = _find(definition, _candidates(left), shares, lot)
            if found is None:
                break
            chosen, times = found
            legs = [(c.symbol, float(leg.quantity * times)) for c, leg in zip(chosen, definition.legs)]
            for symbol, quantity in legs:
                left[symbol] -= quantity
            under: tuple[Symbol, float] | None = None
            if definition.underlying_lots and underlying is not None:
                moved = definition.underlying_lots * times * lot
                shares -= moved
                left[underlying] = shares
                under = (underlying, moved)
            matches.append(Match(definition, legs, under, times))
    return matches


def underlying_of(symbol: Symbol) -> Symbol:
    return symbol.underlying if symbol.security_type.is_option and symbol.underlying is not None else symbol


def has_options(symbol: Symbol) -> bool:
    return symbol.security_type in (SecurityType.EQUITY, SecurityType.INDEX, SecurityType.FUTURE)
