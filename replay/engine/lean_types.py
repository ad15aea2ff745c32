"""LEAN's enumerations and constants as the double exposes them, and the strict base class.

Values follow LEAN's C# enums (``Common/Global.cs``, ``Common/Orders/OrderTypes.cs``,
``Common/Orders/OrderStatus.cs``...). They are ``IntEnum`` so they order and compare like LEAN's
enums do under pythonnet (``sorted(chain, key=lambda c: c.right)`` puts calls before puts).
"""
from __future__ import annotations

import enum
from typing import Any


class NotImplementedInDouble(NotImplementedError):
    """An algorithm used a LEAN member the double does not implement."""


class Strict:
    """Base for double objects: a missing member fails loudly with its qualified name."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        lean_type = next(c.__name__ for c in type(self).__mro__ if c.__module__.startswith("replay.engine"))
        raise NotImplementedInDouble(f"LEAN double does not implement {lean_type}.{name}")


class Resolution(enum.IntEnum):
    TICK = 0
    SECOND = 1
    MINUTE = 2
    HOUR = 3
    DAILY = 4


class SecurityType(enum.IntEnum):
    BASE = 0
    EQUITY = 1
    OPTION = 2
    COMMODITY = 3
    FOREX = 4
    FUTURE = 5
    CFD = 6
    CRYPTO = 7
    FUTURE_OPTION = 8
    INDEX = 10
    INDEX_OPTION = 11
    CRYPTO_FUTURE = 12

    @property
    def is_option(self) -> bool:
        return self in (SecurityType.OPTION, SecurityType.INDEX_OPTION, SecurityType.FUTURE_OPTION)


class OptionRight(enum.IntEnum):
    CALL = 0
    PUT = 1


class OptionStyle(enum.IntEnum):
    AMERICAN = 0
    EUROPEAN = 1


class SettlementType(enum.IntEnum):
    PHYSICAL_DELIVERY = 0
    CASH = 1


class OrderType(enum.IntEnum):
    MARKET = 0
    LIMIT = 1
    STOP_MARKET = 2
    STOP_LIMIT = 3
    MARKET_ON_OPEN = 4
    MARKET_ON_CLOSE = 5
    OPTION_EXERCISE = 6
    LIMIT_IF_TOUCHED = 7
    COMBO_MARKET = 8
    COMBO_LIMIT = 9
    COMBO_LEG_LIMIT = 10
    TRAILING_STOP = 11


class OrderStatus(enum.IntEnum):
    NEW = 0
    SUBMITTED = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 5
    NONE = 6
    INVALID = 7
    CANCEL_PENDING = 8
    UPDATE_SUBMITTED = 9


class OrderDirection(enum.IntEnum):
    BUY = 0
    SELL = 1
    HOLD = 2


class OrderField(enum.IntEnum):
    LIMIT_PRICE = 0
    STOP_PRICE = 1
    TRIGGER_PRICE = 2
    TRAILING_AMOUNT = 3
    TRAILING_AS_PERCENTAGE = 4


class DelistingType(enum.IntEnum):
    WARNING = 0
    DELISTED = 1


class BrokerageName(enum.IntEnum):
    DEFAULT = 0
    QUANTCONNECT_BROKERAGE = 0
    INTERACTIVE_BROKERS_BROKERAGE = 1
    TASTYTRADE = 32


class AccountType(enum.IntEnum):
    MARGIN = 0
    CASH = 1


class DataMappingMode(enum.IntEnum):
    LAST_TRADING_DAY = 0
    FIRST_DAY_MONTH = 1
    OPEN_INTEREST = 2
    OPEN_INTEREST_ANNUAL = 3


class DataNormalizationMode(enum.IntEnum):
    RAW = 0
    ADJUSTED = 1
    SPLIT_ADJUSTED = 2
    TOTAL_RETURN = 3
    FORWARD_PANAMA_CANAL = 4
    BACKWARDS_PANAMA_CANAL = 5
    BACKWARDS_RATIO = 6
    SCALED_RAW = 7


class DayOfWeek(enum.IntEnum):
    """.NET's System.DayOfWeek numbering (Sunday = 0)."""

    SUNDAY = 0
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6


class Market:
    USA = "usa"
    CBOE = "cboe"
    CME = "cme"


class TimeZones:
    NEW_YORK = "America/New_York"
    CHICAGO = "America/Chicago"
    UTC = "UTC"


class Futures:
    class Indices:
        SP_500_E_MINI = "ES"
        MICRO_SP_500_E_MINI = "MES"
        NASDAQ_100_E_MINI = "NQ"


class Extensions:
    """The few ``QuantConnect.Extensions`` helpers option algorithms call. The replay runs on one New
    York clock (``utc_time`` is that clock too), so time-zone conversions accept New York only."""

    @staticmethod
    def is_option(security_type: SecurityType) -> bool:
        return security_type.is_option

    @staticmethod
    def convert_from_utc(moment: Any, zone: str) -> Any:
        return Extensions._same_clock(moment, zone)

    @staticmethod
    def convert_to_utc(moment: Any, zone: str) -> Any:
        return Extensions._same_clock(moment, zone)

    @staticmethod
    def _same_clock(moment: Any, zone: str) -> Any:
        if str(zone) != TimeZones.NEW_YORK:
            raise NotImplementedInDouble(f"LEAN double runs on New York time only, not {zone}")
        return moment


class OrderExtensions:
    """``OrderExtensions.is_open(status)`` and friends (``Common/Orders/OrderExtensions.cs``)."""

    @staticmethod
    def is_open(status: OrderStatus) -> bool:
        return status in (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED,
                          OrderStatus.UPDATE_SUBMITTED, OrderStatus.CANCEL_PENDING)

    @staticmethod
    def is_closed(status: OrderStatus) -> bool:
        return status in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID)

    @staticmethod
    def is_fill(status: OrderStatus) -> bool:
        return status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED)
