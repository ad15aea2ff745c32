"""``OptionPriceModels``: the names of LEAN's option price models (``Common/Securities/Option/OptionPriceModels.cs``).

An algorithm picks one with ``option.set_price_model(OptionPriceModels.black_scholes())`` (or assigns
``option.price_model``); the double records the choice. The double prices no Greeks (``OptionContract.greeks``
raises ``NotImplementedInDouble``); its ``implied_volatility`` is Black-Scholes for European contracts and
the project's American model for American ones, LEAN's defaults (``QLOptionPriceModelProvider``), whatever
model was set.
"""
from __future__ import annotations

from replay.engine.lean_types import Strict


class OptionPriceModel(Strict):
    """A chosen price model, by LEAN's name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return self.name


def _model(name: str) -> staticmethod:
    return staticmethod(lambda *args, **kwargs: OptionPriceModel(name))


class OptionPriceModels:
    black_scholes = _model("BlackScholes")
    barone_adesi_whaley = _model("BaroneAdesiWhaley")
    bjerksund_stensland = _model("BjerksundStensland")
    integral = _model("Integral")
    crank_nicolson_fd = _model("CrankNicolsonFD")
    binomial_jarrow_rudd = _model("BinomialJarrowRudd")
    binomial_cox_ross_rubinstein = _model("BinomialCoxRossRubinstein")
    additive_equiprobabilities = _model("AdditiveEquiprobabilities")
    binomial_trigeorgis = _model("BinomialTrigeorgis")
    binomial_tian = _model("BinomialTian")
    binomial_leisen_reimer = _model("BinomialLeisenReimer")
    binomial_joshi = _model("BinomialJoshi")


OptionPriceModels.QuantLib = OptionPriceModels  # type: ignore[attr-defined]
