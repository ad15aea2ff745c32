"""Security initializers: what sets a new security's models (``Common/Securities/ISecurityInitializer.cs``).

* ``BrokerageModelSecurityInitializer.cs`` (the default, built from the brokerage model): fill, fee and
  buying-power models from the brokerage model, then its leverage;
* ``FuncSecurityInitializer.cs``: a function of the security; ``CompositeSecurityInitializer.cs``: several
  in order (``algorithm.security_initializer`` is the one in force, so
  ``CompositeSecurityInitializer(self.security_initializer, FuncSecurityInitializer(f))`` keeps the
  brokerage models and adds ``f``);
* ``QCAlgorithm.SetSecurityInitializer`` replaces the default: the brokerage models then apply only
  through an initializer that includes them, otherwise a security keeps the models its class starts
  with (see :func:`replay.engine.securities.class_models`); ``SetBrokerageModel`` re-initializes the
  securities added before it, keeping their leverage, unless the algorithm set its own initializer.

Seeding initial prices (``FuncSecuritySeeder``, ``Settings.SeedInitialPrices``) is not modelled: a
seeder other than ``SecuritySeeder.NULL`` raises ``NotImplementedInDouble``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from replay.engine.lean_types import NotImplementedInDouble, Strict


class SecuritySeeder(Strict):
    """``SecuritySeeder.Null``: no initial price."""

    NULL: SecuritySeeder

    def seed_security(self, security: Any) -> bool:
        return True


SecuritySeeder.NULL = SecuritySeeder()


class FuncSecuritySeeder(Strict):
    def __init__(self, *args: Any) -> None:
        raise NotImplementedInDouble("LEAN double does not seed initial prices (FuncSecuritySeeder)")


class BrokerageModelSecurityInitializer(Strict):
    """The brokerage model's fill, fee and buying-power models and leverage."""

    def __init__(self, brokerage_model: Any, security_seeder: Any = None) -> None:
        if security_seeder is not None and security_seeder is not SecuritySeeder.NULL:
            raise NotImplementedInDouble("LEAN double does not seed initial prices (security seeders)")
        self.brokerage_model = brokerage_model

    def initialize(self, security: Any) -> None:
        model = self.brokerage_model
        security.fill_model = model.get_fill_model(security)
        security.fee_model = model.get_fee_model(security)
        security.buying_power_model = model.get_buying_power_model(security)
        security.set_leverage(model.get_leverage(security))


class FuncSecurityInitializer(Strict):
    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def initialize(self, security: Any) -> None:
        self.function(security)


class CompositeSecurityInitializer(Strict):
    def __init__(self, *initializers: Any) -> None:
        self.initializers = [as_initializer(i) for i in initializers]

    def add_security_initializer(self, initializer: Any) -> None:
        self.initializers.append(as_initializer(initializer))

    def initialize(self, security: Any) -> None:
        for initializer in self.initializers:
            initializer.initialize(security)


def as_initializer(value: Any) -> Any:
    """An initializer object, or a Python function wrapped as LEAN wraps a delegate."""
    if hasattr(type(value), "initialize"):
        return value
    if callable(value):
        return FuncSecurityInitializer(value)
    raise TypeError(f"not a security initializer: {value!r}")
