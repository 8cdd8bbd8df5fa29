"""Sweep figures, all as ratios measured in the same run (prints; nothing is asserted).

1. **Throughput, start-up included**: the default ``run_sweep()`` (igfsim's own pool, ``--workers``
   workers) over 400 and 2,000 runs against ``workers`` x the serial rate of a bare libRoadRunner
   loop doing the same work per run (reset, set the protocol's values, pre-equilibrate, dose,
   stimulate, simulate), in interleaved rounds. "session's first sweep" runs in a new Python
   process, so the fork server and the pool start inside the timed call; "new pool" follows
   ``close_pool()`` in this process (the fork server is up); "next sweep" reuses the pool. Two
   designs: a dose axis (every run shares the cell, so the steady-state cache serves it: the bare
   loop pre-equilibrates every run) and an expression axis (every run is a new cell, and no sweep
   repeats an earlier one's cells). Goals: >= 0.85 at 400 runs, >= 0.9 at 2,000.
2. **Memory**: main-process RSS growth of a streamed 10^5-run sweep (``--runs``; ``--engine``) above
   the idle process, and of reading it back (``status``, ``n_ok``, ``dataset``, one ``run_result``),
   in that process and in a new one that only opens the folder: goal <= 300 MB.

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
    """The work of one run written directly against libRoadRunner (one compiled model, reused), with
    the parameter values igfsim's protocol of the scenario's arm sets (the drug's, the context's)."""

    def __init__(self, model) -> None:
        import roadrunner

        from igfsim.scenario.translate import build_protocol

        sc = _scenario()
        self.overrides = dict(build_protocol(model, sc, sc.arms[0]).overrides)
        self.rr = roadrunner.RoadRunner(model.sbml)
        self.base_insr_a = self.rr["expr_InsR_A"]

    def run(self, dose: float, insr_a: float = 1.0) -> None:
        rr = self.rr
        rr.resetToOrigin()
        rr.integrator.relative_tolerance = 1e-8
        rr.integrator.absolute_tolerance = 1e-10
        for k, v in self.overrides.items():
            rr[k] = v
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


def _sweep(n: int, axis: str, shift: float = 1.0):
    """The sweep of ``n`` runs; ``shift`` scales the expression range, so a sweep with a new shift has
    cells no earlier sweep pre-equilibrated (the steady-state cache cannot serve it)."""
    from igfsim.sweep import Axis, Sweep

    target = (
        Axis(name="dose", target="dose:cixutumumab/cixutumumab", range=(0.01, 1000.0), n=n, scale="log")
        if axis == "dose"
        else Axis(name="insr_a", target="expression:InsR_A", range=(0.1 * shift, 20.0 * shift), n=n, scale="log")
    )
    return Sweep(scenario=_scenario(), axes=[target], metrics=["auc", "final"])


def sweep_rate(n: int, axis: str, workers: int, *, fresh: bool, shift: float) -> float:
    """Runs per second of the default ``run_sweep`` (a new pool when ``fresh``: start-up included)."""
    from igfsim.sweep import close_pool, run_sweep

    sweep = _sweep(n, axis, shift)
    if fresh:
        close_pool()
    t0 = time.perf_counter()
    res = run_sweep(sweep, n_workers=workers, progress=False)
    rate = n / (time.perf_counter() - t0)
    assert res.ok, res.dataset["message"].values[:3]
    return rate


_SESSION_SCRIPT = """
import sys, time
sys.path.insert(0, {here!r})
from bench_sweep import _sweep
from igfsim import load_model
from igfsim.sweep import run_sweep
model = load_model()
sweep = _sweep({n}, {axis!r}, {shift!r})
t0 = time.perf_counter()
res = run_sweep(sweep, n_workers={workers}, progress=False, model=model)
rate = {n} / (time.perf_counter() - t0)
assert res.ok
print(rate)
"""


def session_rate(n: int, axis: str, workers: int, shift: float) -> float:
    """Runs per second of ``run_sweep`` as a new Python session's first sweep (a fresh process: the
    fork server and the pool start inside the timed call; the model is read before it)."""
    import subprocess
    import sys
    from pathlib import Path

    script = _SESSION_SCRIPT.format(here=str(Path(__file__).parent), n=n, axis=axis, shift=shift, workers=workers)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


_READBACK_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
from bench_sweep import _rss_mb
from igfsim.sweep import SweepResult
import numpy as np
idle = _rss_mb()
res = SweepResult.open({out!r})
n_ok, _ = res.n_ok, res.dataset
after_read = _rss_mb()
one = res.run_result({n} // 2)
after_one = _rss_mb()
assert n_ok == {n} and np.isfinite(one.values).all()
print(f"{{after_read - idle:.0f}} {{after_one - idle:.0f}}")
"""


def memory(n: int, workers: int, engine: str) -> None:
    """RSS growth of a streamed ``n``-run sweep with trajectories, and of reading it back: in the
    process that ran it, and in a new process that only opens the folder."""
    import subprocess
    import sys
    from pathlib import Path

    from igfsim.sweep import Axis, Sweep, run_sweep

    sweep = Sweep(
        scenario=_scenario(),
        design="lhs",
        n=n,
        seed=1,
        metrics=["auc", "final"],
        keep_trajectories=True,
        engine=engine,
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
        size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file()) / 2**20
        script = _READBACK_SCRIPT.format(here=str(Path(__file__).parent), out=out, n=n)
        fresh = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        fresh_read, fresh_one = fresh.stdout.split()
    assert n_ok == n and np.isfinite(one.values).all()
    print(
        f"streamed sweep of {n} runs (trajectories kept, {engine} engine) on {workers} workers: {wall:.0f} s, "
        f"folder {size:.0f} MB; main-process RSS idle {idle:.0f} MB, after the sweep +{after_sweep - idle:.0f} MB, "
        f"after status/n_ok/dataset +{after_read - idle:.0f} MB, after one run_result +{after_one - idle:.0f} MB; "
        f"a new process opening the folder: +{fresh_read} MB after status/n_ok/dataset, +{fresh_one} MB after "
        f"one run_result (goal <= +300 MB)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=100_000, help="size of the streamed sweep (memory figure)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sizes", default="400,2000")
    ap.add_argument("--axes", default="dose,expression", help="designs to time: dose, expression or both")
    ap.add_argument("--engine", default="roadrunner", help="engine of the memory figure's sweep (cvodes: faster)")
    args = ap.parse_args()
    from igfsim import load_model

    bare = Bare(load_model())
    shift = 1.0
    for n in (int(s) for s in args.sizes.split(",") if s.strip() and int(s) > 0):  # --sizes "": memory only
        for axis in (a.strip() for a in args.axes.split(",") if a.strip()):
            ratios: dict[str, list[float]] = {"session's first sweep": [], "new pool": [], "next sweep": []}
            for _ in range(args.rounds):  # interleaved: bare, then each contender, in every round
                base = args.workers * bare.rate(min(n, 200), axis)
                shift *= 1.001  # every sweep below has cells of its own
                ratios["session's first sweep"].append(session_rate(n, axis, args.workers, shift) / base)
                shift *= 1.001
                ratios["new pool"].append(sweep_rate(n, axis, args.workers, fresh=True, shift=shift) / base)
                shift *= 1.001
                ratios["next sweep"].append(sweep_rate(n, axis, args.workers, fresh=False, shift=shift) / base)
            for name, r in ratios.items():
                print(
                    f"{n:6d} runs, {axis:10s} axis, {name:21s}: {statistics.median(r):.2f} of {args.workers} x bare "
                    f"serial (rounds {min(r):.2f}-{max(r):.2f}; goal >= {0.85 if n < 2000 else 0.9})"
                )
    if args.runs:
        memory(args.runs, args.workers, args.engine)


if __name__ == "__main__":
    main()
