"""Sweep figures, all as ratios measured in the same run (prints; nothing is asserted).

1. throughput of ``run_sweep`` on 2 worker processes vs 2 x the serial rate of a bare
   libRoadRunner loop doing the same work per run (goal >= 0.9);
2. peak memory of a large streamed sweep (summaries written to disk in chunks) above the idle
   process (goal <= 300 MB for 10^5 runs; ``--runs`` sets the size).

Run: ``python benchmarks/bench_sweep.py [--runs 100000] [--throughput-runs 400]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import numpy as np


def _scenario():
    from igfsim import parse_scenario

    return parse_scenario(
        {
            "name": "bench_sweep",
            "title": "cixutumumab dose x InsR-A expression",
            "simulation": {"duration_min": 240, "points": 25},
            "stimulus": {"IGF2": 1.0},
            "cell": {"context": "IGF1R-dominant"},
            "readouts": ["pIGF1R", "pInsR", "pAkt", "pERK"],
            "arms": [{"name": "cixutumumab", "treatments": [{"drug": "cixutumumab", "dose_nM": 10.0}]}],
        }
    )


def bare_rate(model, n: int) -> float:
    """Runs per second of a bare libRoadRunner loop (reset, set values, pre-equilibrate, simulate)."""
    import roadrunner

    rr = roadrunner.RoadRunner(model.sbml)
    doses = np.logspace(-2, 3, n)
    times = np.linspace(0, 240, 25)
    t0 = time.perf_counter()
    for d in doses:
        rr.resetToOrigin()
        rr.integrator.relative_tolerance = 1e-8
        rr.integrator.absolute_tolerance = 1e-10
        rr["expr_InsR_B"] = 0.0
        rr["expr_integrin"] = 0.0
        rr.reset()
        rr.simulate(0, 1e5, 2)
        rr["[mAb_IGF1R]"] = d
        rr["[IGF2]"] = 1.0
        rr.timeCourseSelections = ["time", "pIGF1R", "pInsR", "pAkt", "pERK"]
        rr.simulate(times=times)
    return n / (time.perf_counter() - t0)


def sweep_rate(n: int, workers: int) -> float:
    """Runs per second of run_sweep over a 1-D dose grid on a process pool."""
    from igfsim.sweep import Axis, Sweep, run_sweep

    sweep = Sweep(
        scenario=_scenario(),
        axes=[Axis(name="dose", target="dose:cixutumumab/cixutumumab", range=(0.01, 1000.0), n=n, scale="log")],
        metrics=["auc", "final"],
    )
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers) as pool:
        run_sweep(
            Sweep(
                scenario=_scenario(),
                axes=[Axis(name="dose", target="dose:cixutumumab/cixutumumab", values=[1.0] * workers)],
            ),
            executor=pool,
            progress=False,
        )
        t0 = time.perf_counter()
        res = run_sweep(sweep, executor=pool, progress=False)
        rate = n / (time.perf_counter() - t0)
    assert (res.dataset["status"] == "ok").all()
    return rate


def streamed_peak_mb(n: int, workers: int) -> tuple[float, float, float]:
    """(idle RSS, peak RSS, wall s) of the main process for an n-run streamed sweep."""
    from igfsim.sweep import Axis, Sweep, run_sweep

    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sweep = Sweep(
        scenario=_scenario(),
        design="lhs",
        n=n,
        seed=1,
        metrics=["auc", "final"],
        axes=[
            Axis(name="dose", target="dose:cixutumumab/cixutumumab", range=(0.01, 1000.0), scale="log"),
            Axis(name="InsR_A", target="expression:InsR_A", range=(0.1, 20.0), scale="log"),
        ],
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run_sweep(sweep, n_workers=workers, out=out, progress=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return idle, peak, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=100_000, help="size of the streamed sweep (memory figure)")
    ap.add_argument("--throughput-runs", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from igfsim import load_model

    model = load_model()
    bare = bare_rate(model, 100)
    swept = sweep_rate(args.throughput_runs, args.workers)
    print(f"bare libRoadRunner loop: {bare:.1f} runs/s (serial)")
    print(f"run_sweep on {args.workers} workers: {swept:.1f} runs/s")
    print(
        f"throughput ratio run_sweep / ({args.workers} x bare serial): {swept / (args.workers * bare):.2f} "
        "(goal >= 0.9)"
    )
    idle, peak, wall = streamed_peak_mb(args.runs, args.workers)
    print(
        f"streamed sweep of {args.runs} runs on {args.workers} workers: {wall:.0f} s, main-process peak RSS "
        f"{peak:.0f} MB, idle {idle:.0f} MB: {peak - idle:.0f} MB above idle (goal <= 300 MB)"
    )


if __name__ == "__main__":
    main()
