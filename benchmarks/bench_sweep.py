"""Sweep figures, all as ratios measured in the same run (prints; nothing is asserted).

1. **Throughput, start-up included**: the default ``run_sweep()`` (igfsim's own pool, ``--workers``
   workers) over 400 and 2,000 runs against ``workers`` x the serial rate of a bare libRoadRunner
   loop doing the same work per run (reset, set values, pre-equilibrate, dose, stimulate,
   simulate), in interleaved rounds. "first sweep" starts its pool (as the first sweep of a
   session does: ``close_pool()`` before it); "next sweep" reuses it. Two designs: a dose axis
   (every run shares the cell, so the steady-state cache serves it) and an expression axis (every
   run is a new cell). Goals: >= 0.85 at 400 runs, >= 0.9 at 2,000.
2. **Memory**: main-process RSS growth of a streamed 10^5-run sweep (``--runs``) above the idle
   process, and of reading it back (``status``, ``n_ok``, ``dataset``): goal <= 300 MB.

Run: ``python benchmarks/bench_sweep.py [--runs 100000] [--rounds 3] [--workers 2]`` (``--runs 0``
skips the memory figure).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

TIMES = np.linspace(0, 240, 25)
READOUTS = ["pIGF1R", "pInsR", "pAkt", "pERK"]


def _scenario():
    from igfsim import parse_scenario

    return parse_scenario(
        {
            "name": "bench_sweep",
            "title": "cixutumumab dose x InsR-A expression",
            "simulation": {"duration_min": 240, "points": 25},
            "stimulus": {"IGF2": 1.0},
            "cell": {"context": "IGF1R-dominant"},
            "readouts": READOUTS,
            "arms": [{"name": "cixutumumab", "treatments": [{"drug": "cixutumumab", "dose_nM": 10.0}]}],
        }
    )


class Bare:
    """The work of one run written directly against libRoadRunner (one compiled model, reused)."""

    def __init__(self, model) -> None:
        import roadrunner

        self.rr = roadrunner.RoadRunner(model.sbml)
        self.base_insr_a = self.rr["expr_InsR_A"]

    def run(self, dose: float, insr_a: float = 1.0) -> None:
        rr = self.rr
        rr.resetToOrigin()
        rr.integrator.relative_tolerance = 1e-8
        rr.integrator.absolute_tolerance = 1e-10
        rr["expr_InsR_B"] = 0.0
        rr["expr_integrin"] = 0.0
        rr["expr_InsR_A"] = self.base_insr_a * insr_a
        rr.reset()
        rr.simulate(0, 1e5, 2)
        rr["[mAb_IGF1R]"] = dose
        rr["[IGF2]"] = 1.0
        rr.timeCourseSelections = ["time", *READOUTS]
        rr.simulate(times=TIMES)

    def rate(self, n: int, axis: str) -> float:
        """Runs per second over ``n`` runs of ``axis`` ("dose" or "expression")."""
        values = np.logspace(-2, 3, n) if axis == "dose" else np.logspace(-1, 1.3, n)
        t0 = time.perf_counter()
        for v in values:
            self.run(v, 1.0) if axis == "dose" else self.run(10.0, v)
        return n / (time.perf_counter() - t0)


def _sweep(n: int, axis: str):
    from igfsim.sweep import Axis, Sweep

    target = (
        Axis(name="dose", target="dose:cixutumumab/cixutumumab", range=(0.01, 1000.0), n=n, scale="log")
        if axis == "dose"
        else Axis(name="insr_a", target="expression:InsR_A", range=(0.1, 20.0), n=n, scale="log")
    )
    return Sweep(scenario=_scenario(), axes=[target], metrics=["auc", "final"])


def sweep_rate(n: int, axis: str, workers: int, *, fresh: bool) -> float:
    """Runs per second of the default ``run_sweep`` (a new pool when ``fresh``: start-up included)."""
    from igfsim.sweep import close_pool, run_sweep

    sweep = _sweep(n, axis)
    if fresh:
        close_pool()
    t0 = time.perf_counter()
    res = run_sweep(sweep, n_workers=workers, progress=False)
    rate = n / (time.perf_counter() - t0)
    assert res.ok, res.dataset["message"].values[:3]
    return rate


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def memory(n: int, workers: int) -> None:
    from igfsim.sweep import Axis, Sweep, run_sweep

    sweep = Sweep(
        scenario=_scenario(),
        design="lhs",
        n=n,
        seed=1,
        metrics=["auc", "final"],
        keep_trajectories=True,
        axes=[
            Axis(name="dose", target="dose:cixutumumab/cixutumumab", range=(0.01, 1000.0), scale="log"),
            Axis(name="InsR_A", target="expression:InsR_A", range=(0.1, 20.0), scale="log"),
        ],
    )
    idle = _rss_mb()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        res = run_sweep(sweep, n_workers=workers, out=out, progress=True)
        after_sweep = _rss_mb()
        n_ok, _ = res.n_ok, res.dataset
        after_read = _rss_mb()
        one = res.run_result(n // 2)
        after_one = _rss_mb()
    wall = time.perf_counter() - t0
    assert n_ok == n and np.isfinite(one.values).all()
    print(
        f"streamed sweep of {n} runs (trajectories kept) on {workers} workers: {wall:.0f} s; main-process RSS "
        f"idle {idle:.0f} MB, after the sweep +{after_sweep - idle:.0f} MB, after status/n_ok/dataset "
        f"+{after_read - idle:.0f} MB, after one run_result +{after_one - idle:.0f} MB (goal <= +300 MB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=100_000, help="size of the streamed sweep (memory figure)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sizes", default="400,2000")
    args = ap.parse_args()
    from igfsim import load_model

    bare = Bare(load_model())
    for n in (int(s) for s in args.sizes.split(",") if s.strip() and int(s) > 0):  # --sizes "": memory only
        for axis in ("dose", "expression"):
            ratios: dict[str, list[float]] = {"first sweep": [], "next sweep": []}
            for _ in range(args.rounds):  # interleaved: bare, first, next, in every round
                base = args.workers * bare.rate(min(n, 200), axis)
                ratios["first sweep"].append(sweep_rate(n, axis, args.workers, fresh=True) / base)
                ratios["next sweep"].append(sweep_rate(n, axis, args.workers, fresh=False) / base)
            for name, r in ratios.items():
                print(
                    f"{n:6d} runs, {axis:10s} axis, {name}: {statistics.median(r):.2f} of {args.workers} x bare serial "
                    f"(rounds {min(r):.2f}-{max(r):.2f}; goal >= {0.85 if n < 2000 else 0.9})"
                )
    if args.runs:
        memory(args.runs, args.workers)


if __name__ == "__main__":
    main()
