"""Real data: our implied volatilities vs QuantConnect's on the GOOG 2015-12-24 option universe.

Data: LEAN sample data ``option/usa/universes/goog/20151224.csv`` (read in place through the
``lean_data_dir`` fixture, never copied). Format (shared/reference/lean.md section 3): header
``#expiry,strike,right,open,high,low,close,volume,open_interest,implied_volatility,delta,...``,
first data row = the underlying (748.40 close on 2015-12-24), prices unscaled.

Conventions used for our side, as LEAN prices: spot = the underlying's close; t = calendar time
from 2015-12-24 16:00 New York to 16:00 on the expiry date / 365 (pricing.expiry); r = Fed
primary credit rate from LEAN's ``alternative/interest-rate/usa/interest-rate.csv`` (1.00% since
2015-12-17); q = 0 (GOOG paid no dividend); American exercise (pricing.american; with q = 0 the
calls are exactly European). Option price = the contract's ``close`` (its last trade).

What QuantConnect's column is: call and put of a strike always carry the *same* IV (LEAN's mirror
smoothing: the OTM contract's IV for both), and on most expiries of this file the values are not a
usable reference: zeros where LEAN's Brent solver failed (it returns 0) and values of 50-350% next
to 20% ones, from stale last-trade prices (e.g. 2016-01-15 ATM: QC 58%, 0%, 33%, 183% on
consecutive strikes; ours 19.4%, 17.8%, 19.1%, 17.3%). The one expiry whose QC IVs form a smooth
smile is 2016-02-05; there we compare the OTM contract of each strike within 5% of spot.

Measured (30 contracts): ours - QC median -0.38 vol points, max |diff| 0.54 points. Tolerance:
max 1.0 point, median 0.6 point. Justification: QC's timestamp/T convention and rate are not
documented for these files (moving "now" by a day shifts our IVs by ~0.3 points, r from 0.25% to
1% by ~0.2 points on the ITM side), the prices are last trades not synchronous with the 748.40
underlying close, and the $0.05 tick on ~$10-35 prices is worth ~0.05 points. A genuine pricing
error (wrong units, wrong T, European vs American puts, a solver failure) shows up as several
points, so the test still discriminates.
"""
from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from pricing.american import american_implied_volatility
from pricing.expiry import year_fraction_to_expiry

pytestmark = pytest.mark.lean_data

UNIVERSE = Path("option/usa/universes/goog/20151224.csv")
RATES = Path("alternative/interest-rate/usa/interest-rate.csv")
NOW = datetime(2015, 12, 24, 16, 0)


def _load(lean_data_dir: Path) -> tuple[float, dict[str, np.ndarray]]:
    path = lean_data_dir / UNIVERSE
    if not path.is_file():
        pytest.skip(f"{UNIVERSE} not in the LEAN sample data")
    with path.open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and not row[0].startswith("#")]
    underlying, contracts = rows[0], rows[1:]
    assert underlying[0] == "" and underlying[1] == ""  # first row is the underlying
    spot = float(underlying[6])
    columns = {
        "expiry": np.array([f"{r[0][:4]}-{r[0][4:6]}-{r[0][6:8]}" for r in contracts], dtype="datetime64[D]"),
        "strike": np.array([float(r[1]) for r in contracts]),
        "is_call": np.array([r[2] == "C" for r in contracts]),
        "close": np.array([float(r[6]) for r in contracts]),
        "qc_iv": np.array([float(r[9]) if r[9] else np.nan for r in contracts]),
    }
    return spot, columns


def _rate(lean_data_dir: Path, on: date) -> float:
    """Fed primary credit rate in force on ``on`` (LEAN's default risk-free rate), as a decimal."""
    path = lean_data_dir / RATES
    if not path.is_file():
        pytest.skip(f"{RATES} not in the LEAN sample data")
    rate = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if date.fromisoformat(row["DATE"]) <= on:
                rate = float(row["PCREDIT8"]) / 100.0
    assert rate is not None
    return rate


def _our_iv(lean_data_dir: Path) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
    spot, c = _load(lean_data_dir)
    rate = _rate(lean_data_dir, NOW.date())
    assert rate == pytest.approx(0.01)
    t = year_fraction_to_expiry(NOW, c["expiry"])
    iv = american_implied_volatility(c["close"], spot, c["strike"], t, rate, 0.0, c["is_call"])
    return spot, c, iv


def test_goog_iv_matches_quantconnect_on_the_clean_expiry(lean_data_dir: Path) -> None:
    spot, c, iv = _our_iv(lean_data_dir)
    assert spot == pytest.approx(748.40)
    otm = np.where(c["is_call"], c["strike"] >= spot, c["strike"] < spot)
    near = np.abs(np.log(c["strike"] / spot)) < 0.05
    chosen = (c["expiry"] == np.datetime64("2016-02-05")) & near & otm & (c["qc_iv"] > 0) & (c["close"] > 0)
    assert chosen.sum() == 30
    diff = iv[chosen] - c["qc_iv"][chosen]
    assert np.all(np.isfinite(diff))
    assert np.max(np.abs(diff)) <= 0.010
    assert np.median(np.abs(diff)) <= 0.006


def test_goog_iv_sane_on_every_expiry(lean_data_dir: Path) -> None:
    """Every near-the-money OTM contract of every expiry gets a finite IV in a plausible 8-60%
    band (measured 11.6-41%; QuantConnect's own column ranges over 0-357% on the same contracts)."""
    spot, c, iv = _our_iv(lean_data_dir)
    otm = np.where(c["is_call"], c["strike"] >= spot, c["strike"] < spot)
    near = (np.abs(np.log(c["strike"] / spot)) < 0.05) & otm & (c["close"] > 0)
    assert near.sum() > 200
    assert np.all(np.isfinite(iv[near]))
    assert np.all((iv[near] > 0.08) & (iv[near] < 0.60))
