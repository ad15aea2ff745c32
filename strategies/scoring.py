"""Score formulas, 0-100, as (component, points) parts so a verdict shows how it was reached.

The butterfly's formula is the spec's ``score_butterfly_setup``. The spec names but does not give the
others; each follows the same pattern (four components, tiers, total capped at 100) and rewards what
its strategy needs. Per-share credits are compared with the spec's SPY numbers times ``scale`` (see
:mod:`strategies.params`); percentages are of the underlying's price; IVs in vol points.
"""
from __future__ import annotations

from typing import Sequence

Parts = tuple[tuple[str, float], ...]


def tier(value: float, tiers: Sequence[tuple[float, float]]) -> float:
    """Points of the first (threshold, points) whose threshold ``value`` reaches, else 0."""
    for threshold, points in tiers:
        if value >= threshold:
            return points
    return 0.0


def butterfly_score(move_pct: float, vix: float, credit: float, reward_to_risk: float, scale: float) -> Parts:
    """Spec: |move| 1-3% 30 (>3% 15); VIX 18-25 25 (15-30 15); credit >= 1.00 25 (>= 0.50 15);
    max profit / max loss >= 0.5 20 (>= 0.3 10)."""
    move = abs(move_pct)
    return (
        ("move", 30.0 if 1.0 <= move <= 3.0 else 15.0 if move > 3.0 else 0.0),
        ("vix", 25.0 if 18.0 <= vix <= 25.0 else 15.0 if 15.0 <= vix <= 30.0 else 0.0),
        ("credit", tier(credit, [(1.0 * scale, 25.0), (0.5 * scale, 15.0)])),
        ("reward/risk", tier(reward_to_risk, [(0.5, 20.0), (0.3, 10.0)])),
    )


def diagonal_score(iv_edge_points: float, vix: float, directional: bool, reward_to_risk: float) -> Parts:
    """Front-minus-back ATM IV >= 3 pts 30 (>= 1 20, > 0 10); VIX 15-28 25 (else 10, the spec's
    "best between 15-28"); a directional bias 20 (neutral 10); front-expiry max profit / max loss
    >= 1 25 (>= 0.5 15)."""
    edge = 30.0 if iv_edge_points >= 3.0 else 20.0 if iv_edge_points >= 1.0 else 10.0 if iv_edge_points > 0 else 0.0
    return (
        ("iv edge", edge),
        ("vix", 25.0 if 15.0 <= vix <= 28.0 else 10.0),
        ("bias", 20.0 if directional else 10.0),
        ("reward/risk", tier(reward_to_risk, [(1.0, 25.0), (0.5, 15.0)])),
    )


def ratio_score(vix: float, credit: float, cushion_pct: float, scale: float) -> Parts:
    """VIX >= 25 35 (>= 20 25); credit >= 0.50 35 (no debit 20); lowest breakeven >= 5% below spot
    30 (>= 3% 15)."""
    return (
        ("vix", tier(vix, [(25.0, 35.0), (20.0, 25.0)])),
        ("credit", tier(credit, [(0.5 * scale, 35.0), (0.0, 20.0)])),
        ("cushion", tier(cushion_pct, [(5.0, 30.0), (3.0, 15.0)])),
    )


def broken_wing_score(vix: float, credit: float, reward_to_risk: float, cushion_pct: float, scale: float) -> Parts:
    """VIX 20-30 25 (else 15); credit >= 0.75 25 (>= 0.50 20, >= 0.25 10); max profit / max loss
    >= 1.5 25 (>= 1 15, >= 0.5 5); breakeven on the risk side >= 2% from spot 25 (>= 1% 15)."""
    return (
        ("vix", 25.0 if 20.0 <= vix <= 30.0 else 15.0),
        ("credit", tier(credit, [(0.75 * scale, 25.0), (0.5 * scale, 20.0), (0.25 * scale, 10.0)])),
        ("reward/risk", tier(reward_to_risk, [(1.5, 25.0), (1.0, 15.0), (0.5, 5.0)])),
        ("cushion", tier(cushion_pct, [(2.0, 25.0), (1.0, 15.0)])),
    )


def condor_score(vix: float, credit: float, probability: float, target_probability: float,
                 reward_to_risk: float, scale: float) -> Parts:
    """VIX 20-30 25 (else 15); credit as the broken-wing butterfly; probability of profit >= target
    + 10 pts 25 (>= target 15); max profit / max loss >= 1.5 25 (>= 1 15, >= 0.5 5)."""
    return (
        ("vix", 25.0 if 20.0 <= vix <= 30.0 else 15.0),
        ("credit", tier(credit, [(0.75 * scale, 25.0), (0.5 * scale, 20.0), (0.25 * scale, 10.0)])),
        ("probability", tier(probability, [(target_probability + 0.10, 25.0), (target_probability, 15.0)])),
        ("reward/risk", tier(reward_to_risk, [(1.5, 25.0), (1.0, 15.0), (0.5, 5.0)])),
    )


def batman_score(vix: float, credit: float, reward_to_risk: float, off_center: float, scale: float) -> Parts:
    """VIX >= 30 30 (>= 25 25, >= 22 15); credit >= 2.50 30 (>= 2.00 20, >= 1.50 10); max profit /
    max loss >= 1 20 (>= 0.5 10); |spot - centre strike| <= 25% of the inner width 20 (<= 50% 10)
    (``off_center`` is that fraction)."""
    return (
        ("vix", tier(vix, [(30.0, 30.0), (25.0, 25.0), (22.0, 15.0)])),
        ("credit", tier(credit, [(2.5 * scale, 30.0), (2.0 * scale, 20.0), (1.5 * scale, 10.0)])),
        ("reward/risk", tier(reward_to_risk, [(1.0, 20.0), (0.5, 10.0)])),
        ("centring", 20.0 if off_center <= 0.25 else 10.0 if off_center <= 0.5 else 0.0),
    )
