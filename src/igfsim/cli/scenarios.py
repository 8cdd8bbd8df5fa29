"""run, validate, compare: simulate scenarios and print their verdicts."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from igfsim.cli.common import (
    EXIT_EXPECTATION,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_SIMULATION,
    add_model_options,
    announce_inputs,
    load_model_of,
    print_error,
    progress,
    scenario_files,
)
from igfsim.errors import Issue, ScenarioError


def _print_scenario(scenario, outcomes, observed) -> None:
    from igfsim.analysis.expectations import describe, scenario_header

    print("\n" + "\n".join(scenario_header(scenario.name, scenario.title, scenario.claims, scenario.references)))
    for o in outcomes:
        extra = f"  ({o.detail})" if o.detail else ""
        print(f"  {o.verdict.label:5s}  {describe(o.expectation):70s} observed {o.observed:.4g}{extra}")
    for ob in observed:
        obs, pub = ob.observation, ob.observation.published
        word = "ANCHOR" if ob.anchor else ("WITHIN" if ob.within else "OUTSIDE")
        print(
            f"  {word:7s} {obs.id}: {obs.quantity.value} of {obs.readout} simulated {ob.simulated:.3g} {pub.unit}"
            f" vs published {pub.value:.3g} ({pub.citation}, {pub.figure}; ratio {ob.ratio:.2f}, "
            f"tolerance {obs.tolerance_text()})"
        )


def _plot_readouts(args, result) -> list[str] | None:
    """``--plot-readouts`` (``all``, or a comma-separated list; unknown ones refused) for one result."""
    if not args.plot_readouts:
        return None
    if args.plot_readouts == "all":
        return list(result.readouts)
    wanted = [r.strip() for r in args.plot_readouts.split(",") if r.strip()]
    if missing := [r for r in wanted if r not in result.readouts]:
        raise ScenarioError("--plot-readouts", [Issue(r, f"not recorded by {result.scenario}") for r in missing])
    return wanted


def _model_and_files(args, model=None):
    """The model and the scenario files the command line names, announced (unless --quiet); or exit 2."""
    model = model or load_model_of(args)
    try:
        files = scenario_files(args.scenarios)
    except ScenarioError as err:
        print_error(str(err))
        return EXIT_INPUT
    if not args.quiet:
        announce_inputs(model, files, args.catalog)
    return model, files


def _run_files(args, *, write: bool) -> int:
    from igfsim.analysis.expectations import Verdict, check_expectations, verdict_counts
    from igfsim.analysis.observations import ValidationSummary, check_observations
    from igfsim.report.outputs import write_run_outputs
    from igfsim.runner import run_scenario
    from igfsim.scenario.loading import load_scenario, with_catalogs
    from igfsim.scenario.targets import parse_overrides, with_overrides

    inputs = _model_and_files(args)
    if isinstance(inputs, int):
        return inputs
    model, files = inputs
    overrides = parse_overrides(args.set, model)  # ScenarioError -> exit 2 in main(), before any run
    code, n_pass, n_total, n_xfail, n_na = EXIT_OK, 0, 0, 0, 0
    observed: list = []
    for path in files:
        try:
            scenario = with_overrides(with_catalogs(load_scenario(path), args.catalog), overrides)
            result = run_scenario(scenario, model, engine=args.engine, on_error="record", source=str(path))
        except ScenarioError as err:
            print_error(str(err) if str(err).startswith(str(path)) else f"{path}: {err}")
            code = max(code, EXIT_INPUT)
            continue
        outcomes = check_expectations(result, scenario) if result.ok else []
        if write:
            try:
                folder = write_run_outputs(
                    result,
                    scenario,
                    outcomes,
                    args.out,
                    png=args.png,
                    readouts=_plot_readouts(args, result),
                    groups=model.mapping.groups(),
                )
                print(
                    f"{scenario.name}: wrote {folder}/timecourse.csv, summary.json"
                    + (", timecourse.png" if args.png else "")
                )
            except OSError as err:  # this scenario's files stay as they were; the next scenarios still run
                print_error(f"{args.out}: cannot write outputs of {scenario.name} ({err.strerror or err})")
                code = max(code, EXIT_INPUT)
        if not result.ok:
            for rec in result.records:
                if not rec.ok:
                    print_error(f"{path}: arm {rec.arm!r}: {rec.message}")
            code = max(code, EXIT_SIMULATION)
            continue
        these = check_observations(result, scenario)
        observed += these
        if not args.quiet:
            _print_scenario(scenario, outcomes, these)
        n_total += len(outcomes)
        counts = verdict_counts(outcomes)
        n_pass += counts.get(Verdict.PASS, 0)
        n_xfail += counts.get(Verdict.XFAIL, 0)
        n_na += counts.get(Verdict.NOT_EXPRESSIBLE, 0)
        if any(not o.ok for o in outcomes):
            code = max(code, EXIT_EXPECTATION)
    known = f", {n_xfail} known failure(s)" if n_xfail else ""
    known += f", {n_na} not expressible in this engine" if n_na else ""
    if n_total == 0 and not observed and code != EXIT_OK:
        return code
    if n_total or not observed:
        print(f"\n{n_pass}/{n_total} expectations passed{known} ({len(files)} scenario file(s), engine {args.engine})")
    else:
        print(f"\n{len(files)} scenario file(s), engine {args.engine}")
    if observed:
        code = max(code, _report_validation(args, ValidationSummary(tuple(observed)), model, files))
    return code


def _report_validation(args, summary, model, files) -> int:
    """The suite's summary line, its minimum share, and the generated page (``--doc``, ``--check``)."""
    from igfsim.report.validation_doc import render_validation_md

    print(summary.line())
    code = EXIT_OK
    min_within = getattr(args, "min_within", None)
    if min_within is not None and not summary.share_within >= min_within:
        print_error(f"fewer than {100 * min_within:.0f} % of the published observations are within tolerance")
        code = EXIT_EXPECTATION
    doc = getattr(args, "doc", None)
    if doc is None:
        return code
    text = render_validation_md(summary, model, files, engine=args.engine)
    target = Path(doc)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print_error(f"{doc} is stale: re-run `igfsim validate {' '.join(args.scenarios)} --doc {doc}`")
            return max(code, EXIT_EXPECTATION)
        print(f"{doc} is up to date")
        return code
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {doc}")
    return code


def _cmd_run(args) -> int:
    return _run_files(args, write=True)


def _cmd_validate(args) -> int:
    if args.set and (args.engine == "all" or args.ensemble):
        print_error("--set applies to one engine's runs; it cannot be combined with --engine all or --ensemble")
        return EXIT_INPUT
    if args.engine == "all":
        return _cmd_compare(args)
    if args.ensemble:
        return _cmd_validate_ensemble(args)
    return _run_files(args, write=args.out is not None)


def _cmd_validate_ensemble(args) -> int:
    """Each expectation over a parameter ensemble; exit 1 when a core claim is not robust (< 80 %)."""
    from igfsim.analysis.ensemble import EnsembleSummary, ensemble_verdicts, format_ensemble
    from igfsim.calibrate.ensemble import Ensemble
    from igfsim.sweep.executors import cpu_count
    from igfsim.sweep.store import atomic_write

    if args.engine != "roadrunner":
        print_error(f"--ensemble runs the roadrunner engine only, not {args.engine!r}")
        return EXIT_INPUT
    inputs = _model_and_files(args)
    if isinstance(inputs, int):
        return inputs
    model, files = inputs
    ensemble = Ensemble.read_tsv(args.ensemble, set(model.parameters))  # CalibrationError -> exit 2
    workers = args.workers if args.workers is not None else cpu_count()
    executor: object = "serial" if workers <= 1 else None
    verdicts = ensemble_verdicts(
        files, ensemble, model, executor=executor, n_workers=workers, progress=True, catalogs=args.catalog
    )
    print(format_ensemble(verdicts, ensemble))
    if args.out:
        summary = EnsembleSummary(
            ensemble=str(args.ensemble),
            n_members=ensemble.n_members,
            parameters=tuple(ensemble.parameters),
            source=ensemble.source,
            verdicts=tuple(verdicts),
        )
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(out / EnsembleSummary.FILE, summary.to_json())
        print(f"wrote {out / EnsembleSummary.FILE}")
    return EXIT_EXPECTATION if any(not v.robust for v in verdicts) else EXIT_OK


def _cmd_compare(args) -> int:
    from igfsim.analysis.consistency import ProblemKind, compare_scenario, format_consistency
    from igfsim.engines import CORE_ENGINES, OPTIONAL_ENGINES, get_engine
    from igfsim.errors import EngineUnavailableError
    from igfsim.scenario.loading import load_scenario, with_catalogs

    model = load_model_of(args)
    engines = list(CORE_ENGINES)
    for name in engines:  # an engine without a view of the model refuses before anything runs
        get_engine(name).check_model(model)
    for name in OPTIONAL_ENGINES:  # compared too where installed; said when not
        try:
            get_engine(name).check_model(model)
        except EngineUnavailableError as err:
            progress(f"{name} not compared: {err}")
            continue
        engines.insert(engines.index("boolean"), name)
    inputs = _model_and_files(args, model)
    if isinstance(inputs, int):
        return inputs
    files = inputs[1]
    code, reports, problems = EXIT_OK, [], []
    for i, path in enumerate(files, 1):
        t0 = time.perf_counter()
        try:
            scenario = with_catalogs(load_scenario(path), args.catalog)
            rep = compare_scenario(scenario, model, engines=tuple(engines), threshold=args.threshold, source=str(path))
            progress(f"[{i}/{len(files)}] {scenario.name}: {', '.join(engines)} ({time.perf_counter() - t0:.1f} s)")
        except ScenarioError as err:
            print_error(str(err) if str(err).startswith(str(path)) else f"{path}: {err}")
            code = max(code, EXIT_INPUT)
            continue
        reports.append(rep)
        found = rep.problems()
        if found:
            failed_engine = any(p.kind is ProblemKind.ENGINE_FAILED for p in found)
            code = max(code, EXIT_SIMULATION if failed_engine else EXIT_EXPECTATION)
            problems += [p.message for p in found]
    print(format_consistency(reports))
    if reports:
        if problems:
            print(f"\nNOT OK ({len(problems)} problem(s)):")
            for line in problems:
                print(f"  {line}")
        elif code == EXIT_OK:
            print(
                "\nOK: every expectation passes or is a known failure or not expressible in every engine; "
                "the ODE engines agree"
            )
    return code


def _common_run_options(sp: argparse.ArgumentParser, *, compare: bool = False) -> None:
    """Options of every command that simulates scenarios (run, validate; compare has no --engine,
    --no-png or --set: it runs every engine and draws nothing)."""
    if not compare:
        sp.add_argument(
            "--engine",
            default="roadrunner",
            help="simulation engine: roadrunner (default), scipy, boolean, or all (validate)",
        )
        sp.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="ID=VALUE",
            help="set a model parameter (or a species' initial amount, nM) in every arm; repeatable",
        )
    sp.add_argument(
        "--threshold",
        type=float,
        default=0.2,
        help="with all engines: ODE fraction at or above which a readout counts as ON (0.2)",
    )
    add_model_options(sp)
    sp.add_argument("--quiet", action="store_true", help="print only the summary line")
    if not compare:
        figure = sp.add_mutually_exclusive_group()
        figure.add_argument(
            "--png", action="store_true", help="also draw the time-course figure, timecourse.png (about 2 s of CPU)"
        )
        figure.add_argument("--no-png", action="store_true", help="no figure (the default; kept for scripts)")
        sp.add_argument(
            "--plot-readouts",
            default=None,
            metavar="R1,R2|all",
            help="readouts the figure shows (default: those the scenario's file lists or its expectations read)",
        )


def add_commands(sub) -> None:
    """run, validate, compare."""
    run = sub.add_parser(
        "run", help="simulate scenarios and write timecourse.csv, summary.json (--png: timecourse.png)"
    )
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    run.add_argument("--out", default="out", help="output folder (default: out)")
    _common_run_options(run)
    run.set_defaults(handler=_cmd_run)
    val = sub.add_parser("validate", help="check every expectation (default: all bundled scenarios)")
    val.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    val.add_argument("--out", default=None, help="also write run outputs here")
    val.add_argument(
        "--doc", default=None, metavar="PATH", help="write the observed-vs-published page (e.g. docs/validation.md)"
    )
    val.add_argument("--check", action="store_true", help="with --doc: exit 1 when the page is stale, write nothing")
    val.add_argument(
        "--min-within",
        type=float,
        default=None,
        metavar="SHARE",
        help="exit 1 when less than this share (0..1) of the published observations is within tolerance",
    )
    val.add_argument(
        "--ensemble",
        default=None,
        metavar="FILE.tsv",
        help="run each scenario once per member of a parameter ensemble (igfsim calibrate --ensemble) and report "
        "the share of members in which each expectation holds; exit 1 when a core claim holds in < 80 %%",
    )
    val.add_argument(
        "--workers", type=int, default=None, metavar="N", help="with --ensemble: worker processes (1: in-process)"
    )
    _common_run_options(val)
    val.set_defaults(handler=_cmd_validate)
    cmp_ = sub.add_parser(
        "compare", help="run scenarios in every engine and print the agreement table (same as validate --engine all)"
    )
    cmp_.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    _common_run_options(cmp_, compare=True)
    cmp_.set_defaults(handler=_cmd_compare, engine="all")
