"""Benchmark: implied volatility + all five Greeks for 20,000 SPY-like options on one core.

Run: ``python -m benchmarks.greeks_bench [--n 20000] [--repeat 5] [--tuned-malloc]``

Setup (as in shared/reference/greeks.md section 5): S uniform 400-600; 20% of the options 0DTE
with 1 minute to 6.5 hours left, the rest 1 day to 2 years log-uniform; vol 5-100%; r 0-6%;
q 0-2%; strikes within +-3 standard deviations; calls and puts 50/50. Prices are exact BSM
prices at the true vol, so the IV error is measurable. Timing is best-of-``repeat``, single
process; the target is < 12 ms for the 20,000 options.

References, timed in the same run when importable (skipped with a note otherwise):
  * QuantLib ``blackFormulaImpliedStdDev`` in a Python loop (accuracy 1e-12 on the std-dev);
  * py_vollib_vectorized ``vectorized_implied_volatility`` (numba Let's Be Rational); it only
    works with ``py_vollib==1.0.1 py_lets_be_rational==1.0.1`` pinned, in its own environment.
``--tuned-malloc`` additionally times with glibc's heap trimming disabled (``mallopt``), which
shows how much of the time is page-fault churn from numpy temporaries (see pricing.black_scholes._in_chunks).
"""
from __future__ import annotations

import argparse
import ctypes
import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from pricing.black_scholes import bs_greeks, bs_price, implied_volatility  # noqa: E402

FloatArray = NDArray[np.float64]
MINUTES_PER_YEAR = 365.0 * 24.0 * 60.0
TARGET_MS = 12.0


def make_options(n: int, seed: int = 20240101) -> dict[str, Any]:
    """SPY-like random options with exact prices (see module docstring)."""
    rng = np.random.default_rng(seed)
    spot = rng.uniform(400.0, 600.0, n)
    zero_dte = rng.random(n) < 0.2
    t = np.where(zero_dte, rng.uniform(1.0, 390.0, n) / MINUTES_PER_YEAR,
                 np.exp(rng.uniform(np.log(1.0 / 365.0), np.log(2.0), n)))
    vol = rng.uniform(0.05, 1.0, n)
    rate = rng.uniform(0.0, 0.06, n)
    div = rng.uniform(0.0, 0.02, n)
    z = rng.uniform(-3.0, 3.0, n)
    strike = spot * np.exp((rate - div) * t - z * vol * np.sqrt(t))
    is_call = rng.random(n) < 0.5
    price = bs_price(spot, strike, t, rate, div, vol, is_call)
    return dict(spot=spot, strike=strike, t=t, rate=rate, div=div, vol=vol, is_call=is_call, price=price,
                zero_dte=zero_dte)


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Best wall time in seconds over ``repeat`` runs (after one warm-up)."""
    func()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def ours(o: dict[str, Any]) -> tuple[FloatArray, dict[str, FloatArray]]:
    """The measured work: IV, then all five Greeks at that IV."""
    iv = implied_volatility(o["price"], o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["is_call"])
    greeks = bs_greeks(o["spot"], o["strike"], o["t"], o["rate"], o["div"], iv, o["is_call"])
    return iv, greeks


def iv_only(o: dict[str, Any]) -> FloatArray:
    """Implied volatility alone, for like-for-like ratios against the IV-only references."""
    return implied_volatility(o["price"], o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["is_call"])


def report_ours(o: dict[str, Any], repeat: int, label: str) -> tuple[float, float]:
    """Time and check IV + Greeks; returns (options/s for IV + Greeks, IV/s for IV alone)."""
    n = o["price"].shape[0]
    seconds = best_of(repeat, lambda: ours(o))
    seconds_iv = best_of(repeat, lambda: iv_only(o))
    iv, greeks = ours(o)
    repriced = bs_price(o["spot"], o["strike"], o["t"], o["rate"], o["div"], iv, o["is_call"])
    rel_price = np.abs(repriced - o["price"]) / o["price"]
    dvol = np.abs(iv - o["vol"])
    finite = all(np.isfinite(g).all() for g in greeks.values())
    print(f"ours ({label}): {seconds * 1e3:.2f} ms for {n} options = {n / seconds / 1e6:.2f} M options/s "
          f"(IV + delta, gamma, theta, vega, rho); target < {TARGET_MS:.0f} ms: "
          f"{'met' if seconds * 1e3 < TARGET_MS * n / 20000 else 'NOT met'}")
    print(f"  worst IV error: max |price(iv)-price|/price = {np.nanmax(rel_price):.2e}, "
          f"max |iv - true vol| = {np.nanmax(dvol):.2e} (0DTE: {np.nanmax(dvol[o['zero_dte']]):.2e}), "
          f"NaN IVs = {int(np.isnan(iv).sum())}, all Greeks finite = {finite}")
    print(f"  IV alone: {seconds_iv * 1e3:.2f} ms = {n / seconds_iv / 1e6:.2f} M IV/s; "
          f"Greeks alone: {(seconds - seconds_iv) * 1e3:.2f} ms (difference)")
    return n / seconds, n / seconds_iv


def reference_quantlib(o: dict[str, Any], repeat: int) -> float | None:
    try:
        ql = importlib.import_module("QuantLib")
    except ImportError:
        print("QuantLib: not importable here (pip install QuantLib) - skipped")
        return None
    n = o["price"].shape[0]
    rows = list(zip(o["price"], o["spot"], o["strike"], o["t"], o["rate"], o["div"], o["is_call"]))

    def run() -> FloatArray:
        out = np.empty(n)
        call, put = ql.Option.Call, ql.Option.Put
        for i, (p, s, k, t, r, q, c) in enumerate(rows):
            disc = np.exp(-r * t)
            forward = s * np.exp((r - q) * t)
            std = ql.blackFormulaImpliedStdDev(call if c else put, k, forward, p, disc, 0.0, 0.2 * np.sqrt(t),
                                               1e-12, 100)
            out[i] = std / np.sqrt(t)
        return out

    seconds = best_of(max(1, repeat // 2), run)
    dvol = np.abs(run() - o["vol"])
    print(f"QuantLib {ql.__version__} blackFormulaImpliedStdDev loop (IV only, acc 1e-12): "
          f"{seconds * 1e3:.1f} ms = {n / seconds / 1e3:.0f} k IV/s, max |iv - true vol| = {np.nanmax(dvol):.1e}")
    return n / seconds


def reference_py_vollib_vectorized(o: dict[str, Any], repeat: int) -> float | None:
    try:
        vectorized_implied_volatility = importlib.import_module("py_vollib_vectorized").vectorized_implied_volatility
        flags = np.where(o["is_call"], "c", "p")
        args = (o["price"], o["spot"], o["strike"], o["t"], o["rate"], flags)

        def run() -> FloatArray:
            return np.asarray(vectorized_implied_volatility(*args, q=o["div"], model="black_scholes_merton",
                                                            return_as="numpy", on_error="ignore"))

        run()  # numba JIT warm-up, not timed
    except Exception as exc:  # ImportError, or its known numba TypingError on unpinned stacks
        print(f"py_vollib_vectorized: not usable here ({type(exc).__name__}; needs py_vollib==1.0.1 and "
              f"py_lets_be_rational==1.0.1 in its own env) - skipped")
        return None
    n = o["price"].shape[0]
    seconds = best_of(repeat, run)
    dvol = np.abs(run() - o["vol"])
    print(f"py_vollib_vectorized (numba LBR, IV only): {seconds * 1e3:.1f} ms = {n / seconds / 1e6:.2f} M IV/s, "
          f"max |iv - true vol| = {np.nanmax(dvol):.1e}")
    return n / seconds


def tune_malloc() -> bool:
    """Disable glibc heap trimming (M_TRIM_THRESHOLD = 256 MB); False where not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-1, 256 << 20))
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tuned-malloc", action="store_true")
    args = parser.parse_args(argv)
    options = make_options(args.n)
    print(f"{args.n} options, {int(options['zero_dte'].sum())} 0DTE; numpy {np.__version__}; "
          f"python {sys.version.split()[0]}; best of {args.repeat}")
    rate, rate_iv = report_ours(options, args.repeat, "default allocator")
    for name, ref in (("QuantLib", reference_quantlib(options, args.repeat)),
                      ("py_vollib_vectorized", reference_py_vollib_vectorized(options, args.repeat))):
        if ref is not None:
            print(f"  ratio vs {name} (IV only): ours IV + 5 Greeks {rate / ref:.1f}x, ours IV alone "
                  f"{rate_iv / ref:.1f}x")
    if args.tuned_malloc:
        if tune_malloc():
            report_ours(options, args.repeat, "glibc heap trimming off")
        else:
            print("--tuned-malloc: mallopt unavailable (not glibc) - skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
