"""Time to expiry from the New York exchange clock (pricing.expiry)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import numpy as np
import pytest

from pricing.expiry import (AM_SETTLEMENT, MINUTES_PER_YEAR, minutes_to_expiry, year_fraction_to_expiry)
from pricing.black_scholes import bs_greeks, bs_price, implied_volatility


def test_zero_dte_minutes_to_the_close() -> None:
    """15:00 on expiry day -> 60 minutes to the 16:00 close; 9:31 -> 389 minutes."""
    assert float(minutes_to_expiry(datetime(2024, 2, 9, 15, 0), date(2024, 2, 9))) == 60.0
    assert float(minutes_to_expiry(datetime(2024, 2, 9, 9, 31), date(2024, 2, 9))) == 389.0
    assert float(year_fraction_to_expiry(datetime(2024, 2, 9, 15, 0), date(2024, 2, 9))) == 60.0 / MINUTES_PER_YEAR


def test_am_settlement_and_past_expiry() -> None:
    """AM-settled SPX monthlies settle at the 09:30 open; after settlement t is negative."""
    now = datetime(2021, 1, 15, 9, 0)
    assert float(minutes_to_expiry(now, date(2021, 1, 15), AM_SETTLEMENT)) == 30.0
    assert float(minutes_to_expiry(datetime(2021, 1, 15, 10, 0), date(2021, 1, 15), AM_SETTLEMENT)) == -30.0
    t = year_fraction_to_expiry(datetime(2024, 2, 9, 16, 30), date(2024, 2, 9))
    assert float(t) < 0
    # documented consequences of t <= 0 in the pricing functions
    assert float(bs_price(500.0, 495.0, t, 0.05, 0.0, 0.2, True)) == 5.0
    assert float(bs_greeks(500.0, 495.0, t, 0.05, 0.0, 0.2, True)["delta"]) == 1.0
    assert np.isnan(implied_volatility(5.0, 500.0, 495.0, t, 0.05, 0.0, True))


def test_vectorised_over_expiries_and_dst() -> None:
    """Array of expiries; elapsed minutes across the March 2024 DST change are one hour short."""
    expiries = np.array(["2024-03-08", "2024-03-11", "2024-03-15", "2024-03-08"], dtype="datetime64[D]")
    minutes = minutes_to_expiry(datetime(2024, 3, 8, 15, 0), expiries)
    assert minutes.shape == (4,)
    np.testing.assert_array_equal(minutes, [60.0, 3 * 1440 + 60 - 60, 7 * 1440 + 60 - 60, 60.0])
    strings = minutes_to_expiry(datetime(2024, 3, 8, 15, 0), ["2024-03-08", "2024-03-11"])
    np.testing.assert_array_equal(strings, minutes[:2])


def test_timezone_aware_now_is_converted() -> None:
    """An aware datetime is converted to New York time (20:00 UTC = 15:00 EST in February)."""
    aware = datetime(2024, 2, 9, 20, 0, tzinfo=timezone.utc)
    assert float(minutes_to_expiry(aware, date(2024, 2, 9))) == 60.0


def test_datetime_expiry_uses_its_date() -> None:
    """A datetime passed as expiry counts as its calendar date (settlement time from the argument)."""
    assert float(minutes_to_expiry(datetime(2024, 2, 9, 15, 0), datetime(2024, 2, 9, 0, 0))) == 60.0


@pytest.mark.parametrize("minutes_left", [1, 15, 120, 389])
def test_zero_dte_greeks_are_live_until_the_close(minutes_left: int) -> None:
    """0DTE Greeks are real (finite, non-degenerate) until the close, not zeroed at dte <= 0."""
    now = datetime(2024, 2, 9, 16, 0) - np.timedelta64(minutes_left, "m").astype(object)
    t = year_fraction_to_expiry(now, date(2024, 2, 9))
    g = bs_greeks(500.0, 500.0, t, 0.05, 0.013, 0.15, True)
    assert 0.4 < float(g["delta"]) < 0.6
    assert float(g["gamma"]) > 0 and float(g["theta"]) < 0 and float(g["vega"]) > 0
