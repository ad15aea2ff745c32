"""LEAN parameters → typed settings: defaults are the spec's, bad values are named."""
from __future__ import annotations

from datetime import date, time

import pytest

from core.params import SettingsError
from core.settings import default_parameters, load_settings, parameter_docs


def _load(**overrides: str):
    params = default_parameters()
    params.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return load_settings(params.get)


def test_defaults_are_the_specs_values():
    s = load_settings(lambda name: None)
    assert s.universe.underlying == "SPX" and s.universe.option_ticker == "SPXW"
    assert (s.universe.start_date, s.universe.end_date) == (date(2021, 1, 4), date(2021, 1, 8))
    assert s.manual.max_order_errors == 3 and s.manual.extreme_vix == 50 and s.manual.portfolio_delta_limit == 100
    assert (s.greeks.delta_limit, s.greeks.gamma_limit, s.greeks.theta_limit, s.greeks.vega_limit) == (
        100, 20, -500, 1000)
    assert s.friday.progressive_threshold == 7 and s.friday.high_confidence == 8
    assert s.section9b.execute_min_score == 70 and s.section9b.batman_min_credit == 1.5
    progressive = s.friday.zero_dte(True)
    assert (progressive.position_multiplier, progressive.stop_loss_multiplier, progressive.profit_target,
            progressive.entry_start, progressive.entry_end, progressive.min_credit, progressive.max_contracts
            ) == (1.5, 1.5, 0.8, time(10, 30), time(14, 30), 0.35, 10)
    normal = s.friday.zero_dte(False)
    assert (normal.stop_loss_multiplier, normal.profit_target, normal.entry_end, normal.max_contracts) == (
        2.0, 0.5, time(13, 30), 5)


def test_config_defaults_round_trip():
    assert load_settings(default_parameters().get) == load_settings(lambda name: None)


@pytest.mark.parametrize("name, value", [
    ("greeks-delta-limit", "abc"),
    ("greeks-delta-limit", "-5"),
    ("greeks-theta-limit", "500"),
    ("friday-volume-sessions", "-3"),
    ("friday-volume-sessions", "2.5"),
    ("manual-max-order-errors", "0"),
    ("stream-0dte-start", "10"),
    ("underlying-type", "future"),
    ("start-date", "2021-13-01"),
    ("futures-enabled", "maybe"),
    ("s9b-max-risk-per-trade", "1.5"),
    ("cash", "nan"),
])
def test_bad_value_names_parameter_and_value(name, value):
    with pytest.raises(SettingsError) as raised:
        _load(**{name: value})
    assert name in str(raised.value) and repr(value) in str(raised.value)


@pytest.mark.parametrize("name, value, says", [
    ("cash", "abc", "expected a number (e.g. 0.5)"),
    ("friday-volume-sessions", "1.5", "expected a whole number (e.g. 5)"),
    ("end-date", "yesterday", "expected a date YYYY-MM-DD"),
    ("stream-0dte-start", "25:00", "expected HH:MM (New York time)"),
])
def test_a_value_that_does_not_parse_says_what_is_expected_not_pythons_words(name, value, says):
    with pytest.raises(SettingsError) as raised:
        _load(**{name: value})
    assert f"{name}={value!r}: {says}" in str(raised.value)
    assert "invalid literal" not in str(raised.value) and "isoformat" not in str(raised.value)


def test_every_problem_is_reported_at_once():
    params = default_parameters() | {"greeks-delta-limit": "abc", "greeks-gamma-limit": "-1"}
    with pytest.raises(SettingsError) as raised:
        load_settings(params.get)
    assert len(raised.value.problems) == 2


@pytest.mark.parametrize("overrides, fragment", [
    ({"stream-0dte-start": "15:00", "stream-0dte-end": "10:00"}, "stream-0dte-start/end"),
    ({"friday-normal-entry-start": "14:00", "friday-normal-entry-end": "13:30"}, "friday-normal-entry"),
    ({"start-date": "2021-02-01", "end-date": "2021-01-01"}, "start-date"),
    ({"s9b-bwb-narrow-wing": "12"}, "s9b-bwb-narrow-wing < s9b-bwb-wide-wing"),
    ({"friday-pc-low": "1.0"}, "friday-pc-low < friday-pc-elevated"),
    ({"underlying": "SPY", "underlying-type": "equity"}, "option-ticker 'SPXW' must equal underlying 'SPY'"),
])
def test_inconsistent_parameters_are_refused(overrides, fragment):
    params = default_parameters() | overrides
    with pytest.raises(SettingsError, match=fragment.replace("<", "<")):
        load_settings(params.get)


def test_types_parse():
    s = _load(futures_enabled="false", stream_0dte_start="09:45", underlying="SPY", underlying_type="equity",
              option_ticker="SPY")
    assert s.universe.futures_enabled is False
    assert s.streaming.signal_start == time(9, 45)
    assert s.universe.underlying_type == "equity"


def test_empty_string_means_default():
    assert _load(greeks_delta_limit="").greeks.delta_limit == 100


def test_every_parameter_is_documented_and_unique():
    specs = [spec for spec, _ in parameter_docs()]
    names = [spec.name for spec in specs]
    assert len(names) == len(set(names))
    assert all(spec.doc.strip() for spec in specs)
    assert set(names) == set(default_parameters())
