"""The LEAN double's entry point: ``AlgorithmImports`` for algorithms run without LEAN.

:func:`install` registers a module named ``AlgorithmImports`` (and the few ``QuantConnect.*`` modules
LEAN's own algorithms import from) built from the double's modules, so ``from AlgorithmImports import *``
binds them, standard names included as LEAN's ``AlgorithmImports.py`` provides them (``datetime``,
``timedelta``, ``np``, ``pd``, ``math``, ``json``, ``typing``). Any LEAN member the double does not
implement raises :class:`NotImplementedInDouble` naming it, never a silent ``None``.

Modules: :mod:`~replay.engine.lean_types` (enums), :mod:`~replay.engine.symbols`,
:mod:`~replay.engine.market_data` (bars, chains, slices), :mod:`~replay.engine.securities`,
:mod:`~replay.engine.orders`, :mod:`~replay.engine.strategies`, :mod:`~replay.engine.algorithm`.
"""
from __future__ import annotations

import json
import math
import sys
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from replay.engine.algorithm import InterestRateModel, OptionChainProvider, QCAlgorithm
from replay.engine.brokerage import DefaultBrokerageModel, TastytradeBrokerageModel
from replay.engine.dividends import DividendYieldProvider
from replay.engine.fees import (
    CashAmount, ConstantFeeModel, FeeModel, InteractiveBrokersFeeModel, OrderFee, OrderFeeParameters,
    TastytradeFeeModel)
from replay.engine.exercise import (
    DefaultOptionAssignmentModel, NullOptionAssignmentModel, OptionAssignmentParameters, OptionAssignmentResult)
from replay.engine.fills import EquityFillModel, FillModel
from replay.engine.initializers import (
    BrokerageModelSecurityInitializer, CompositeSecurityInitializer, FuncSecurityInitializer, FuncSecuritySeeder,
    SecuritySeeder)
from replay.engine.lean_types import (
    AccountType, BrokerageName, DataMappingMode, DataNormalizationMode, DayOfWeek, DelistingType, Extensions, Futures,
    Market, NotImplementedInDouble as NotImplementedInDouble, OptionRight, OptionStyle, OrderDirection, OrderExtensions, OrderField,
    OrderStatus, OrderType, Resolution, SecurityType, SettlementType, TimeZones)
from replay.engine.margin import MarginCallModel, OptionMarginModel, OptionStrategyPositionGroupBuyingPowerModel, SecurityMarginModel
from replay.engine.market_data import (
    Bar, BaseData, DataDictionary, Delisting, Dividend, Greeks, OpenInterest, OptionChain, OptionContract, QuoteBar,
    SecurityChanges, Slice, SymbolChangedEvent, TradeBar)
from replay.engine.orders import Leg, Order, OrderEvent, OrderResponse, OrderTicket, UpdateOrderFields
from replay.engine.positions import Position, PositionGroup
from replay.engine.price_models import OptionPriceModel, OptionPriceModels
from replay.engine.securities import Future, Option, Security, SecurityHolding
from replay.engine.strategies import OptionStrategies, OptionStrategy
from replay.engine.symbols import SecurityIdentifier, Symbol, option_symbol as option_symbol
from replay.engine.trades import Trade, TradeBuilder, TradeDirection
from replay.engine.universe import OptionFilterUniverse

IPositionGroup = PositionGroup
IPosition = Position

EXPORTS: dict[str, Any] = {
    # enums and constants
    "AccountType": AccountType, "BrokerageName": BrokerageName, "DataMappingMode": DataMappingMode,
    "DataNormalizationMode": DataNormalizationMode, "DayOfWeek": DayOfWeek, "DelistingType": DelistingType,
    "Futures": Futures, "Market": Market, "OptionRight": OptionRight, "OptionStyle": OptionStyle,
    "OrderDirection": OrderDirection, "OrderExtensions": OrderExtensions, "OrderField": OrderField,
    "OrderStatus": OrderStatus, "OrderType": OrderType, "Resolution": Resolution, "SecurityType": SecurityType,
    "SettlementType": SettlementType, "TimeZones": TimeZones,
    # symbols, data
    "Symbol": Symbol, "SecurityIdentifier": SecurityIdentifier, "Bar": Bar, "BaseData": BaseData,
    "TradeBar": TradeBar, "QuoteBar": QuoteBar, "OpenInterest": OpenInterest, "Delisting": Delisting, "Dividend": Dividend,
    "SymbolChangedEvent": SymbolChangedEvent, "Slice": Slice, "OptionChain": OptionChain,
    "OptionContract": OptionContract, "Greeks": Greeks, "DataDictionary": DataDictionary,
    "SecurityChanges": SecurityChanges, "OptionFilterUniverse": OptionFilterUniverse,
    # securities, orders, models
    "QCAlgorithm": QCAlgorithm, "Security": Security, "Option": Option, "Future": Future,
    "SecurityHolding": SecurityHolding, "Leg": Leg, "Order": Order, "OrderEvent": OrderEvent,
    "OrderTicket": OrderTicket, "OrderResponse": OrderResponse, "UpdateOrderFields": UpdateOrderFields,
    "OptionStrategies": OptionStrategies, "OptionStrategy": OptionStrategy, "IPositionGroup": IPositionGroup,
    "IPosition": IPosition, "OptionStrategyPositionGroupBuyingPowerModel": OptionStrategyPositionGroupBuyingPowerModel,
    "OptionMarginModel": OptionMarginModel, "MarginCallModel": MarginCallModel, "SecurityMarginModel": SecurityMarginModel, "FeeModel": FeeModel,
    "ConstantFeeModel": ConstantFeeModel, "InteractiveBrokersFeeModel": InteractiveBrokersFeeModel,
    "TastytradeFeeModel": TastytradeFeeModel, "OrderFee": OrderFee, "CashAmount": CashAmount,
    "OrderFeeParameters": OrderFeeParameters, "FillModel": FillModel, "ImmediateFillModel": FillModel,
    "EquityFillModel": EquityFillModel, "DefaultBrokerageModel": DefaultBrokerageModel,
    "TastytradeBrokerageModel": TastytradeBrokerageModel, "DividendYieldProvider": DividendYieldProvider,
    "InterestRateModel": InterestRateModel, "OptionChainProvider": OptionChainProvider,
    "OptionPriceModels": OptionPriceModels, "OptionPriceModel": OptionPriceModel,
    "BrokerageModelSecurityInitializer": BrokerageModelSecurityInitializer,
    "CompositeSecurityInitializer": CompositeSecurityInitializer, "FuncSecurityInitializer": FuncSecurityInitializer,
    "SecuritySeeder": SecuritySeeder, "FuncSecuritySeeder": FuncSecuritySeeder, "Extensions": Extensions,
    "DefaultOptionAssignmentModel": DefaultOptionAssignmentModel, "NullOptionAssignmentModel": NullOptionAssignmentModel,
    "Trade": Trade, "TradeBuilder": TradeBuilder, "TradeDirection": TradeDirection,
    "OptionAssignmentParameters": OptionAssignmentParameters, "OptionAssignmentResult": OptionAssignmentResult,
    # what LEAN's AlgorithmImports.py imports for every algorithm
    "date": date, "time": time, "datetime": datetime, "timedelta": timedelta, "math": math, "json": json,
    "np": np, "pd": pd,
}
EXPORTS |= {name: getattr(typing, name) for name in typing.__all__ if not name.startswith("_")}

# the QuantConnect namespaces LEAN's Python algorithms import single names from
NAMESPACES = {
    "QuantConnect": ["Symbol", "SecurityType", "Resolution", "OptionRight", "Market"],
    "QuantConnect.Securities": ["Security", "SecurityHolding"],
    "QuantConnect.Securities.Positions": ["IPositionGroup", "IPosition"],
    "QuantConnect.Securities.Option": ["OptionStrategies", "OptionStrategyPositionGroupBuyingPowerModel"],
    "QuantConnect.Orders": ["OrderStatus", "OrderType", "OrderEvent", "OrderTicket", "UpdateOrderFields", "Leg"],
    "QuantConnect.Orders.Fees": ["FeeModel", "OrderFee", "CashAmount", "ConstantFeeModel",
                                 "InteractiveBrokersFeeModel", "TastytradeFeeModel"],
    "QuantConnect.Algorithm": ["QCAlgorithm"],
    "QuantConnect.Data.Market": ["TradeBar", "QuoteBar", "OptionChain", "OptionContract", "Greeks", "Delisting"],
}


def install() -> types.ModuleType:
    """Register ``AlgorithmImports`` (the double) and the ``QuantConnect.*`` namespaces in ``sys.modules``."""
    module = types.ModuleType("AlgorithmImports", "LEAN double (replay/engine/double.py)")
    for name, value in EXPORTS.items():
        setattr(module, name, value)
    module.__all__ = list(EXPORTS)  # type: ignore[attr-defined]
    sys.modules["AlgorithmImports"] = module
    for path, names in NAMESPACES.items():
        namespace = types.ModuleType(path, "LEAN double namespace")
        for name in names:
            setattr(namespace, name, EXPORTS[name])
        sys.modules[path] = namespace
        parent, _, child = path.rpartition(".")
        if parent in sys.modules:
            setattr(sys.modules[parent], child, namespace)
    return module


class NotAnAlgorithm(ValueError):
    """The file LEAN would run does not define exactly one ``QCAlgorithm`` subclass."""


def algorithm_class(module: types.ModuleType) -> type[QCAlgorithm]:
    """The one QCAlgorithm subclass a module defines (LEAN instantiates exactly that class)."""
    found = [obj for obj in vars(module).values()
             if isinstance(obj, type) and issubclass(obj, QCAlgorithm) and obj is not QCAlgorithm
             and obj.__module__ == module.__name__]
    if len(found) != 1:
        raise NotAnAlgorithm(f"{module.__name__} must define exactly one QCAlgorithm subclass, found {len(found)}")
    return found[0]


def load_main() -> types.ModuleType:
    """Install the double and import the project's ``main.py`` against it."""
    install()
    import importlib

    return importlib.import_module("main")


def start_algorithm(parameters: dict[str, str] | None = None, live_mode: bool = False,
                    prepare: Callable[[Any], None] | None = None) -> Any:
    """Create ``main.py``'s algorithm with LEAN parameters and run its ``initialize`` (tests)."""
    cls = algorithm_class(load_main())
    algorithm = cls()
    algorithm.parameters = dict(parameters or {})
    algorithm.live_mode = live_mode
    if prepare is not None:
        prepare(algorithm)
    algorithm.initialize()
    return algorithm


def step(algorithm: Any, data: Slice) -> None:
    """Deliver one hand-built slice the way LEAN does (tests): the clock moves to the slice time, the
    securities' caches take the slice's real bars, then ``on_data``."""
    algorithm.time = data.time
    for source, is_quote in ((data.bars, False), (data.quote_bars, True)):
        for symbol, bar in source.items():
            security = algorithm.securities.get(symbol)
            if security is None or bar.is_fill_forward:
                continue
            if is_quote:
                security.cache.seed(quote=bar)
            else:
                security.cache.seed(trade=bar)
    algorithm.current_slice = data
    algorithm.on_data(data)

