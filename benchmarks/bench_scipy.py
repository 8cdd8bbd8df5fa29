"""Print the scipy engine's time per simulated arm as a ratio to the roadrunner engine's, same run.

Run: ``python benchmarks/bench_scipy.py``. One pre-equilibrated arm of the bundled model (the arm of
``bench_run.py``: InsR-A-high cells, linsitinib, IGF2 stimulus, 241 points) through
``run_scenario`` with each ODE engine, after a warm-up run that compiles the model. Figures only;
nothing here is asserted. The goal is a ratio of at most 1.5x.
"""

from __future__ import annotations

import statistics
import time

import numpy as np


def timed(fn) -> float:
    """Wall time of one call of ``fn()`` (seconds)."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(n: int = 30) -> None:
    from igfsim import load_model, parse_scenario, run_scenario
    from igfsim.engines import get_engine

    model = load_model()
    sc = parse_scenario(
        {
            "name": "bench",
            "title": "benchmark",
            "stimulus": {"IGF2": 10},
            "cell": {"context": "InsR-A-high"},
            "arms": [{"name": "tki", "treatments": [{"drug": "linsitinib", "dose_nM": 1000}]}],
        }
    )
    t0 = time.perf_counter()
    get_engine("scipy").system(model)
    t_build = time.perf_counter() - t0
    results = {eng: run_scenario(sc, model, engine=eng) for eng in ("roadrunner", "scipy")}  # warm up
    diff = float(np.max(np.abs(results["scipy"].values - results["roadrunner"].values)))
    # interleave the engines so both see the same machine load
    t_rr, t_sp = [], []
    for _ in range(n):
        t_rr.append(timed(lambda: run_scenario(sc, model, engine="roadrunner")))
        t_sp.append(timed(lambda: run_scenario(sc, model, engine="scipy")))
    med_rr, med_sp = statistics.median(t_rr), statistics.median(t_sp)
    backend = get_engine("scipy").backend
    print(f"model: {len(model.species)} species, {len(model.parameters)} parameters")
    print(f"scipy engine build (sympy + C compile, or the on-disk cache): {t_build:.2f} s; backend {backend}")
    print(f"roadrunner run_scenario (1 arm, pre-equilibrated, 241 points): median {med_rr * 1e3:.1f} ms over {n}")
    print(f"scipy      run_scenario (same arm):                            median {med_sp * 1e3:.1f} ms over {n}")
    print(f"max |scipy - roadrunner| over the readouts: {diff:.2g}")
    print(f"ratio scipy / roadrunner: {med_sp / med_rr:.2f}x (goal <= 1.5x)")


if __name__ == "__main__":
    main()
