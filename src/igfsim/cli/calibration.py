"""calibrate: fit a PEtab problem (multi-start, pyPESTO) and write its tables and figures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from igfsim.cli.common import EXIT_INPUT, EXIT_OK, EXIT_SIMULATION, print_error


def _cmd_calibrate(args) -> int:
    """Exit 0 at least one start finished, 3 every start failed (all recorded), 2 bad input."""
    from igfsim.calibrate import CalibrationOptions, Gradient, Optimizer, SolverSettings, calibrate
    from igfsim.calibrate.datasets import DataProblem
    from igfsim.calibrate.fit import load_any
    from igfsim.calibrate.sensitivities import SensitivitiesUnavailableError

    problem = load_any(args.problem)  # CalibrationError -> exit 2 in main()
    try:
        options = CalibrationOptions(
            n_starts=args.starts,
            optimizer=Optimizer(args.optimizer),
            gradient=Gradient(args.gradient) if args.optimizer != "nelder-mead" else Gradient.NONE,
            fallback=None if args.no_fallback else Optimizer.NELDER_MEAD,
            seed=args.seed,
            max_iter=args.max_iter,
            solver=SolverSettings(rtol=args.rtol, atol=args.atol, max_steps=args.max_steps),
        )
    except ValueError as err:
        print_error(f"{args.problem}: {err}")
        return EXIT_INPUT
    from igfsim.calibrate.sampling import MIN_SAMPLES

    if args.sample is not None and args.sample < MIN_SAMPLES:
        print_error(f"--sample: expected at least {MIN_SAMPLES} draws, got {args.sample}")
        return EXIT_INPUT
    out = Path(args.out) if args.out else Path("out") / f"calibrate-{problem.name}"
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        print_error(f"{out}: exists and is not empty (choose another --out or pass --overwrite)")
        return EXIT_INPUT
    client = None
    executor: object = None
    if args.dask:
        try:
            from distributed import Client
        except ImportError:
            print_error("--dask needs the dask extra: pip install 'igfsim[dask]'")
            return EXIT_INPUT
        client = executor = Client(args.dask)
    elif args.workers is not None and args.workers <= 1:
        executor = "serial"
    try:
        gradient = options.optimizer.gradient_for(options.gradient.resolve(problem))
    except SensitivitiesUnavailableError as err:
        print_error(str(err))
        return EXIT_INPUT
    print(
        f"{problem.name}: {len(problem.parameter_ids)} parameters, {problem.n_measurements} measurements; "
        f"{options.n_starts} starts of {options.optimizer.value} (gradient: {gradient.value})"
    )
    try:
        partial = _PartialStarts(out / PARTIAL_FILE)
    except OSError as err:
        print_error(f"{out}: cannot write the calibration ({err.strerror or err})")
        return EXIT_INPUT
    try:
        res = calibrate(
            problem,
            options,
            executor=executor,
            n_workers=args.workers,
            progress=not args.no_progress,
            on_start_done=partial.add,
        )
    except KeyboardInterrupt:
        print_error(f"interrupted: the starts that finished are in {partial.path}")
        return EXIT_INTERRUPTED
    finally:
        partial.close()
        if client is not None:
            client.close()
    partial.path.unlink(missing_ok=True)  # every start is in starts.tsv now
    try:
        written = res.write_tables(out)
        profiles = None
        if args.profile and res.best.ok:
            profiles = _profile(res, args, executor, out)
            written += [out / "profiles.tsv", out / "profile_paths.tsv"]
        if args.sample is not None and res.best.ok:
            written += _sample(res, args, out, isinstance(problem, DataProblem))
        if isinstance(problem, DataProblem) and res.best.ok:
            from igfsim.calibrate.ensemble import ensemble_from_fit

            written += _write_ensemble(lambda: ensemble_from_fit(res, profiles), out / "ensemble.tsv")
        if not args.no_plots:
            from igfsim.report.calibration_plots import write_calibration_figures

            written += write_calibration_figures(out)
    except OSError as err:
        print_error(f"{out}: cannot write the calibration ({err.strerror or err})")
        return EXIT_INPUT
    print(res.convergence_table().head(args.show).drop(columns=["message"]).to_string(index=False))
    best = res.best
    if res.nominal_fval is not None:
        print(f"objective at the table's nominal values: {res.nominal_fval:.6g}")
    if best.ok:
        print(
            f"best {best.fval:.6g} (start {best.start}); {res.n_at_best(1.0)}/{len(res.starts)} starts within 1 of it; "
            f"{res.n_failed} failed; {res.wall_s:.1f} s"
        )
    for s in [s for s in res.starts if not s.ok][:3]:
        print_error(f"start {s.start}: {s.message}")
    print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK if best.ok else EXIT_SIMULATION


PARTIAL_FILE = "starts.partial.tsv"
EXIT_INTERRUPTED = 130  # the shell's code for a SIGINT


class _PartialStarts:
    """Each start's end point, appended as it finishes: an interrupted calibration keeps them."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._f = path.open("w", encoding="utf-8")
        # x: the end point on the optimiser's scales, every parameter of the pyPESTO problem (fixed included)
        self._f.write("start\tfval\texitflag\tn_fval\ttime_s\tx\n")
        self._f.flush()

    def add(self, index: int, result: Any) -> None:
        x = getattr(result, "x", None)
        point = ",".join(repr(float(v)) for v in x) if x is not None else ""
        cells = [str(getattr(result, "id", index)), repr(result.fval), str(result.exitflag), str(result.n_fval)]
        self._f.write("\t".join([*cells, f"{float(result.time or 0):.3f}", point]) + "\n")
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def _profile(res, args, executor: object, out: Path) -> list:
    from igfsim.calibrate.profile import profile, profile_paths, profile_table

    profs = profile(res, executor=executor, n_workers=args.workers, progress=not args.no_progress)
    table = profile_table(profs)
    table.to_csv(out / "profiles.tsv", sep="\t", index=False)
    profile_paths(profs).to_csv(out / "profile_paths.tsv", sep="\t", index=False)
    shown = table[["parameterId", "best", "ci95_lower", "ci95_upper", "identifiable"]]
    print(shown.to_string(index=False))
    open_ = [p.parameter for p in profs if not p.identifiable]
    if open_:
        print(f"not identifiable from these data (profile open on a side): {', '.join(open_)}")
    return profs


def _sample(res, args, out: Path, data_problem: bool) -> list[Path]:
    from igfsim.calibrate.sampling import ensemble_from_sample, sample_posterior

    print(f"sampling the posterior: {args.sample} draws of adaptive Metropolis from the best fit")
    sample = sample_posterior(res, args.sample, seed=args.seed)
    written = [out / "posterior.tsv", out / "samples.tsv"]
    table = sample.table()
    table.to_csv(written[0], sep="\t", index=False)
    sample.samples_table().to_csv(written[1], sep="\t", index=False)
    print(table[["parameterId", "median", "ci95_lower", "ci95_upper"]].to_string(index=False))
    print(
        f"burn-in {sample.burn_in} of {sample.n_drawn} draws (Geweke); "
        f"effective sample size {sample.effective_sample_size:.0f}"
    )
    if data_problem:
        written += _write_ensemble(lambda: ensemble_from_sample(sample, res), out / "posterior_ensemble.tsv")
    return written


def _write_ensemble(make: Callable[[], Any], path: Path) -> list[Path]:
    """Write the ensemble ``make()`` returns, or say why there is none (a ValueError of its builder)."""
    try:
        ens = make()
    except ValueError as err:
        print(f"no {path.name}: {err}")
        return []
    print(f"{path.name}: {ens.n_members} member(s) ({ens.source})")
    return [ens.write_tsv(path)]


def add_commands(sub) -> None:
    """calibrate."""
    cal = sub.add_parser(
        "calibrate",
        help="fit a PEtab problem (v1) or an igfsim data problem (multi-start, pyPESTO); docs/calibration.md",
    )
    cal.add_argument(
        "problem", metavar="PROBLEM.yaml", help="a PEtab problem file, or a data problem (data:, parameters:)"
    )
    cal.add_argument("--starts", type=int, default=20, metavar="N", help="optimiser starts (default 20)")
    cal.add_argument(
        "--optimizer",
        default="fides",
        choices=["fides", "l-bfgs-b", "nelder-mead"],
        help="local optimiser (default fides)",
    )
    cal.add_argument(
        "--gradient",
        default="auto",
        choices=["auto", "sensitivities", "finite-differences"],
        help="gradient-based optimisers' gradient: exact (AMICI forward sensitivities, PEtab problems, "
        'needs `pip install "igfsim[amici]"`) or central finite differences; auto (default) takes '
        "sensitivities where available",
    )
    cal.add_argument("--no-fallback", action="store_true", help="no derivative-free re-run of failed starts")
    cal.add_argument("--seed", type=int, default=0, help="seed of the random start points (default 0)")
    cal.add_argument("--max-iter", type=int, default=1000, metavar="N", help="iterations per start (default 1000)")
    cal.add_argument("--rtol", type=float, default=1e-10, help="CVODE relative tolerance (default 1e-10)")
    cal.add_argument("--atol", type=float, default=1e-12, help="CVODE absolute tolerance (default 1e-12)")
    cal.add_argument(
        "--max-steps", type=int, default=100_000, metavar="N", help="CVODE steps per simulation (default 100000)"
    )
    cal.add_argument("--out", default=None, metavar="DIR", help="output folder (default out/calibrate-<problem>)")
    cal.add_argument("--overwrite", action="store_true", help="write into a non-empty --out")
    cal.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: all CPUs; 1 in-process)"
    )
    cal.add_argument("--dask", default=None, metavar="ADDRESS", help="run the starts on a Dask cluster")
    cal.add_argument(
        "--profile", action="store_true", help="profile likelihoods of every estimated parameter (95 %% intervals)"
    )
    cal.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="draw N posterior samples from the best fit (adaptive Metropolis; posterior.tsv, samples.tsv, "
        "and posterior_ensemble.tsv for a data problem)",
    )
    cal.add_argument("--no-plots", action="store_true", help="tables only (no waterfall.png / fit.png)")
    cal.add_argument("--no-progress", action="store_true", help="no progress bar")
    cal.add_argument("--show", type=int, default=10, metavar="N", help="rows of the convergence table printed")
    cal.set_defaults(handler=_cmd_calibrate)
