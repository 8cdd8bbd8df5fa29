"""Calibration against known answers (prints; nothing is asserted).

For each bundled PEtab benchmark problem (``benchmarks/petab-benchmark``):

1. the objective at the published nominal parameters vs the AMICI reference (``reference.yaml``);
2. the cost of one objective evaluation through igfsim vs pyPESTO's bare libRoadRunner objective
   built by hand in the same run (interleaved, repeats; ratio, goal <= 1.1);
3. a multi-start fit from random starts in the bounds (``--starts``, ``--workers``, ``--seed``,
   ``--gradient``, ``--rtol``/``--atol``/``--max-steps``): wall time, best objective, how many starts
   reach the published optimum (within 1 unit of negative log-likelihood) and how many failed.

Run: ``python benchmarks/bench_calibrate.py [--problem Boehm_JProteomeRes2014] [--starts 20] [--workers 2]
[--gradient sensitivities] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

BENCH = Path(__file__).resolve().parent / "petab-benchmark"
PROBLEMS = ("Boehm_JProteomeRes2014", "Fujita_SciSignal2010")


def _bare_objective(path: Path):
    """pyPESTO's libRoadRunner objective with the same tolerances, without igfsim."""
    import petab.v1 as petab
    from pypesto.objective.roadrunner import PetabImporterRR, SolverOptions

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        problem = petab.Problem.from_yaml(str(path))
        if petab.lint.measurement_table_has_timepoint_specific_mappings(problem.measurement_df):
            petab.flatten_timepoint_specific_output_overrides(problem)
        pp = PetabImporterRR(problem).create_problem()
    pp.objective.solver_options = SolverOptions(
        relative_tolerance=1e-10, absolute_tolerance=1e-12, maximum_num_steps=100_000
    )
    return pp.objective, np.asarray(problem.x_nominal_free_scaled, dtype=float)


def evaluation_ratio(path: Path, repeats: int = 7, n: int = 20) -> tuple[float, float, float]:
    from igfsim.calibrate import Gradient, SolverSettings, load_problem
    from igfsim.calibrate.objective import build_problem, library_quiet

    ours = build_problem(load_problem(path), Gradient.NONE, SolverSettings()).objective
    bare, x = _bare_objective(path)
    t_ours, t_bare = [], []
    with library_quiet():
        for _ in range(repeats):  # interleaved rounds
            t0 = time.perf_counter()
            for _ in range(n):
                bare(x)
            t_bare.append((time.perf_counter() - t0) / n)
            t0 = time.perf_counter()
            for _ in range(n):
                ours(x)
            t_ours.append((time.perf_counter() - t0) / n)
    mo, mb = statistics.median(t_ours), statistics.median(t_bare)
    return mo / mb, mo, mb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", action="append", choices=PROBLEMS, help="default: both")
    ap.add_argument("--starts", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--gradient", default="auto", choices=["auto", "sensitivities", "finite-differences"])
    ap.add_argument("--rtol", type=float, default=1e-10)
    ap.add_argument("--atol", type=float, default=1e-12)
    ap.add_argument("--max-steps", type=int, default=100_000)
    ap.add_argument("--no-fit", action="store_true", help="objective checks only")
    ap.add_argument("--out", type=Path, help="write each problem's fit tables (starts.tsv, ...) to OUT/<problem>")
    args = ap.parse_args()
    from igfsim.calibrate import CalibrationOptions, Gradient, SolverSettings, calibrate, load_problem, objective_at

    reference = yaml.safe_load((BENCH / "reference.yaml").read_text())
    for name in args.problem or PROBLEMS:
        path = BENCH / name / f"{name}.yaml"
        problem = load_problem(path)
        published = reference[name]["nllh"]
        at = objective_at(problem, problem.nominal_scaled)
        print(f"== {name}: {len(problem.parameter_ids)} parameters, {problem.n_measurements} measurements")
        print(
            f"objective at nominal: igfsim {at:.6f}, AMICI reference {published:.6f}, "
            f"rel. diff {abs(at / published - 1):.1e}"
        )
        ratio, mo, mb = evaluation_ratio(path)
        print(
            f"one evaluation: igfsim {mo * 1e3:.2f} ms, bare pyPESTO/libRoadRunner {mb * 1e3:.2f} ms: "
            f"ratio {ratio:.2f}x (goal <= 1.1)"
        )
        if args.no_fit:
            continue
        t0 = time.perf_counter()
        options = CalibrationOptions(
            n_starts=args.starts,
            seed=args.seed,
            gradient=Gradient(args.gradient),
            solver=SolverSettings(rtol=args.rtol, atol=args.atol, max_steps=args.max_steps),
        )
        res = calibrate(problem, options, n_workers=args.workers)
        wall = time.perf_counter() - t0
        if args.out is not None:
            res.write_tables(args.out / name)
        reached = sum(s.ok and s.fval <= published + 1.0 for s in res.starts)
        print(
            f"multi-start ({res.gradient.value}, rtol {args.rtol:g}): {args.starts} starts (seed {args.seed}) "
            f"on {args.workers} workers in {wall:.0f} s; "
            f"best {res.best.fval:.4f} (published {published:.4f}); {reached} start(s) within 1 of the published "
            f"optimum; {res.n_failed} failed; median {statistics.median(s.n_fval for s in res.starts):.0f} "
            "evaluations per start"
        )


if __name__ == "__main__":
    main()
