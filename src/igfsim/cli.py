"""Command line: ``igfsim run | validate | compare | sweep | report | export | docs | list``.

Exit codes: 0 every expectation holds, 1 an expectation failed, 2 bad input, 3 simulation
failure. With several scenarios the largest code wins; every scenario is still attempted and
its outputs are written, so a failure never loses results already computed. An expectation that
is ``not_expressible`` in the engine (verdict N/A) or a known failure (XFAIL) does not fail.
``validate --engine all`` fails (1) when an expectation fails in any engine, when the two ODE
engines differ by more than 1e-3 or in a verdict; ``docs --check`` exits 1 when the generated
mechanisms page is stale.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from igfsim.errors import IgfsimError, Issue, ScenarioError, SimulationError
from igfsim.result.scenario_result import RunStatus

EXIT_OK, EXIT_EXPECTATION, EXIT_INPUT, EXIT_SIMULATION = 0, 1, 2, 3


def _scenario_files(items: Sequence[str]) -> list[Path]:
    from igfsim.resources import bundled_scenarios_dir

    paths = [Path(i) for i in items] or [bundled_scenarios_dir()]
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                raise ScenarioError(str(p), [Issue("(folder)", "no scenario files (*.yaml) here")])
            files += found
        else:
            files.append(p)
    return files


def _err(msg: str) -> None:
    print(f"igfsim: error: {msg}", file=sys.stderr)


def _run_files(args, *, write: bool) -> int:
    from igfsim.analysis.expectations import Verdict, check_expectations, describe, scenario_header, verdict_counts
    from igfsim.model.sbml import load_model
    from igfsim.report.outputs import write_run_outputs
    from igfsim.runner import run_scenario
    from igfsim.scenario.loading import load_scenario

    model = load_model(args.model)
    code, n_pass, n_total, n_xfail, n_na = EXIT_OK, 0, 0, 0, 0
    try:
        files = _scenario_files(args.scenarios)
    except ScenarioError as err:
        _err(str(err))
        return EXIT_INPUT
    for path in files:
        try:
            scenario = load_scenario(path)
            result = run_scenario(scenario, model, engine=args.engine, on_error="record", source=str(path))
        except ScenarioError as err:
            _err(str(err) if str(err).startswith(str(path)) else f"{path}: {err}")
            code = max(code, EXIT_INPUT)
            continue
        outcomes = check_expectations(result, scenario) if result.ok else []
        if write:
            try:
                folder = write_run_outputs(result, scenario, outcomes, args.out, png=not args.no_png)
            except OSError as err:
                _err(f"{args.out}: cannot write outputs of {scenario.name} ({err.strerror or err})")
                return max(code, EXIT_INPUT)
            print(
                f"{scenario.name}: wrote {folder}/timecourse.csv, summary.json"
                + ("" if args.no_png else ", timecourse.png")
            )
        if not result.ok:
            for rec in result.records:
                if not rec.ok:
                    _err(f"{path}: arm {rec.arm!r}: {rec.message}")
            code = max(code, EXIT_SIMULATION)
            continue
        if not args.quiet:
            print(
                "\n" + "\n".join(scenario_header(scenario.name, scenario.title, scenario.claims, scenario.references))
            )
            for o in outcomes:
                extra = f"  ({o.detail})" if o.detail else ""
                print(f"  {o.verdict.label:5s}  {describe(o.expectation):70s} observed {o.observed:.4g}{extra}")
        n_total += len(outcomes)
        counts = verdict_counts(outcomes)
        n_pass += counts.get(Verdict.PASS, 0)
        n_xfail += counts.get(Verdict.XFAIL, 0)
        n_na += counts.get(Verdict.NOT_EXPRESSIBLE, 0)
        if any(not o.ok for o in outcomes):
            code = max(code, EXIT_EXPECTATION)
    known = f", {n_xfail} known failure(s)" if n_xfail else ""
    known += f", {n_na} not expressible in this engine" if n_na else ""
    if n_total == 0 and code != EXIT_OK:
        return code
    print(f"\n{n_pass}/{n_total} expectations passed{known} ({len(files)} scenario file(s), engine {args.engine})")
    return code


def _cmd_run(args) -> int:
    return _run_files(args, write=True)


def _cmd_validate(args) -> int:
    if args.engine == "all":
        return _cmd_compare(args)
    return _run_files(args, write=args.out is not None)


def _cmd_compare(args) -> int:
    from igfsim.analysis.consistency import ProblemKind, compare_scenario, format_consistency
    from igfsim.engines import ENGINES
    from igfsim.model.sbml import load_model
    from igfsim.scenario.loading import load_scenario

    model = load_model(args.model)
    try:
        files = _scenario_files(args.scenarios)
    except ScenarioError as err:
        _err(str(err))
        return EXIT_INPUT
    code, reports, problems = EXIT_OK, [], []
    for path in files:
        try:
            scenario = load_scenario(path)
            rep = compare_scenario(scenario, model, engines=tuple(ENGINES), threshold=args.threshold, source=str(path))
        except ScenarioError as err:
            _err(str(err) if str(err).startswith(str(path)) else f"{path}: {err}")
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


def _cmd_sweep(args) -> int:
    """Run a sweep file; exit 0 every run ok, 3 some runs failed (results still written), 2 bad input."""
    from igfsim.sweep.execute import run_sweep
    from igfsim.sweep.spec import load_sweep

    sweep = load_sweep(args.sweep)  # ScenarioError -> exit 2 in main()
    out = Path(args.out) if args.out else Path("out") / Path(args.sweep).stem
    client = None
    executor: object = None  # None (a process pool), "serial" or a distributed.Client
    if args.dask:
        try:
            from distributed import Client
        except ImportError:
            _err("--dask needs the dask extra: pip install 'igfsim[dask]'")
            return EXIT_INPUT
        client = Client(args.dask)
        executor = client
    elif args.workers is not None and args.workers <= 1:
        executor = "serial"
    try:
        res = run_sweep(
            sweep, executor=executor, n_workers=args.workers, out=out, resume=args.resume, progress=not args.no_progress
        )
    except OSError as err:
        _err(f"{out}: cannot write the sweep ({err.strerror or err})")
        return EXIT_INPUT
    finally:
        if client is not None:
            client.close()
    failed = [
        (r, m)
        for r, s, m in zip(res.dataset["run"].values, res.status, res.dataset["message"].values, strict=True)
        if s != RunStatus.OK
    ]
    print(f"{sweep.scenario.name}: {res.n_ok} run(s) ok, {len(failed)} failed of {res.n_runs}; wrote {out}")
    for run, msg in failed[:5]:
        _err(f"run {run}: {msg}")
    if len(failed) > 5:
        _err(f"... and {len(failed) - 5} more failed run(s) (status and message are in the dataset)")
    return EXIT_SIMULATION if failed else EXIT_OK


def _cmd_report(args) -> int:
    """Write one self-contained HTML report (and a PDF with --pdf); exit 0 written, 2 bad input."""
    from igfsim.report.html import write_report
    from igfsim.report.inputs import ScenarioSection, SweepSection, load_inputs, run_bundled

    sections: Sequence[ScenarioSection | SweepSection]
    if args.inputs:
        # ReportInputError / SweepStoreError -> exit 2 in main()
        sections = load_inputs(args.inputs, args.scenarios or ())
    else:
        print(f"no input folders: running the bundled scenarios (engines: {args.engines})")
        sections = run_bundled(model=args.model, engines=args.engines)
    try:
        written = write_report(sections, args.out, pdf=args.pdf)
    except OSError as err:
        _err(f"{args.out}: cannot write the report ({err.strerror or err})")
        return EXIT_INPUT
    print("wrote " + ", ".join(map(str, written)))
    return EXIT_OK


def _cmd_docs(args) -> int:
    import difflib

    from igfsim.report.mechanisms_doc import render_mechanisms_md
    from igfsim.resources import bundled_scenarios_dir

    folder = Path(args.scenarios) if args.scenarios else bundled_scenarios_dir()
    out = Path(args.out)
    text = render_mechanisms_md(folder)  # ScenarioError (exit 2) on an invalid or missing folder
    if args.check:
        try:
            current = out.read_text(encoding="utf-8")
        except FileNotFoundError:
            print(f"{out}: missing; run `igfsim docs --out {out}` to generate it from {folder}")
            return EXIT_EXPECTATION
        except (OSError, UnicodeDecodeError) as err:
            _err(f"{out}: cannot read ({getattr(err, 'strerror', None) or err})")
            return EXIT_INPUT
        if current == text:
            print(f"{out}: up to date with {folder}")
            return EXIT_OK
        diff = list(
            difflib.unified_diff(
                current.splitlines(),
                text.splitlines(),
                f"{out} (on disk)",
                f"{out} (rendered from {folder})",
                n=1,
                lineterm="",
            )
        )
        print(f"{out}: stale, differs from the rendering of {folder}; run `igfsim docs --out {out}`")
        limit = 60
        print("\n".join(diff[:limit]) + (f"\n... ({len(diff) - limit} more diff lines)" if len(diff) > limit else ""))
        return EXIT_EXPECTATION

    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return _write(out, write, f"from {folder}")


def _cmd_robustness(args) -> int:
    """One-at-a-time x0.5/x2 scan of the catalogue -> docs/robustness.md (or --check its stamp)."""
    from igfsim.analysis.parameter_scan import catalogue_hash, render_robustness_md, scan_catalogue, stamp_of
    from igfsim.model.sbml import load_model

    files = _scenario_files(args.scenarios)  # ScenarioError -> exit 2 in main()
    out = Path(args.out)
    model = load_model(args.model)
    if args.check:
        try:
            stamp = stamp_of(out.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            print(f"{out}: cannot read ({getattr(err, 'strerror', None) or err}); run `igfsim robustness --out {out}`")
            return EXIT_EXPECTATION
        if stamp == (model.sha256, catalogue_hash(files)):
            print(f"{out}: up to date with the model and {len(files)} scenario file(s)")
            return EXIT_OK
        print(f"{out}: stale (the model or the scenarios changed since it was written); run `igfsim robustness`")
        return EXIT_EXPECTATION
    print(f"scanning {len(files)} scenario file(s); this takes minutes (one line per scenario as it finishes)")
    executor = None
    if args.workers is None or args.workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        result = scan_catalogue(files, args.model, factors=args.factors, executor=executor)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    for s in result.scenarios:
        print(f"  {s.scenario}: {len(s.flips)} flip(s), {len(s.failed)} failed run(s)")
    text = render_robustness_md(result, model)

    def write(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return _write(out, write, f"{len(result.changes)} changes x {len(files)} scenarios")


def _cmd_export(args) -> int:
    from igfsim.export.models import write_bnet, write_sbml, write_sbml_qual
    from igfsim.model.bnet import load_bnet
    from igfsim.model.sbml import load_model
    from igfsim.resources import bundled_bnet_path

    if args.format in ("sedml", "petab"):  # a scenario as an OMEX archive (SED-ML) or a PEtab v2 folder
        from igfsim.export.petab import write_petab
        from igfsim.export.sedml import write_omex
        from igfsim.scenario.loading import load_scenario

        if not args.scenario:
            _err(f"--format {args.format} needs --scenario FILE")
            return EXIT_INPUT
        scenario = load_scenario(args.scenario)  # ScenarioError -> exit 2 in main()
        model = load_model(args.model)
        out = Path(args.out or (f"{scenario.name}.omex" if args.format == "sedml" else f"{scenario.name}_petab"))
        write = write_omex if args.format == "sedml" else write_petab
        what = f"{args.format}, scenario {scenario.name}"

        def writer(path):
            return write(scenario, model, path)
    else:
        defaults = {"sbml": "igf1r.xml", "bnet": "igf1r.bnet", "sbml-qual": "igf1r.qual.xml"}
        out = Path(args.out or defaults[args.format])
        what = args.format
        if args.format == "sbml":
            model = load_model(args.model)

            def writer(path):
                return write_sbml(model, path)
        else:
            net = load_bnet(args.bnet or bundled_bnet_path())
            rules = {n: net.rule_text(n) for n in net.nodes}

            def writer(path):
                if args.format == "bnet":
                    return write_bnet(rules, path, header=f"igfsim logical model, exported from {net.source}")
                return write_sbml_qual(rules, path)

    return _write(out, writer, what)


def _write(out: Path, write: Callable[[Path], object], what: str) -> int:
    """``write(out)``, then ``wrote <file> (<what>)``; one error line and exit 2 when the file system refuses."""
    try:
        written = write(out)
    except OSError as err:
        _err(f"{out}: cannot write ({err.strerror or err})")
        return EXIT_INPUT
    print(f"wrote {written or out} ({what})")
    return EXIT_OK


def _cmd_list(args) -> int:
    from igfsim.resources import bundled_scenarios_dir
    from igfsim.scenario.contexts import CONTEXTS
    from igfsim.scenario.drugs import CATALOG
    from igfsim.scenario.loading import load_scenario
    from igfsim.scenario.readouts import READOUTS

    what = args.what
    if what in ("all", "scenarios"):
        print("Scenarios (bundled):")
        for f in sorted(bundled_scenarios_dir().glob("*.yaml")):
            try:
                s = load_scenario(f)
                print(f"  {s.name:34s} {s.title}")
            except ScenarioError as err:
                print(f"  {f.name:34s} INVALID: {err}")
    if what in ("all", "drugs"):
        print("Drugs:")
        for d in CATALOG:
            alias = f" ({', '.join(d.aliases)})" if d.aliases else ""
            pot = ", ".join(f"{k}={v:g} nM" for k, v in d.potency.items())
            print(f"  {d.name + alias:34s} {d.mode_of_action.value}; {pot}")
    if what in ("all", "contexts"):
        print("Cell contexts:")
        for c in CONTEXTS.values():
            print(f"  {c.name:34s} {c.description}")
    if what in ("all", "readouts"):
        print("Readouts (any model species id may also be selected):")
        for r, text in READOUTS.items():
            print(f"  {r:34s} {text}")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    from igfsim._version import __version__

    p = argparse.ArgumentParser(prog="igfsim", description="Simulate IGF-IR/InsR signalling and drug resistance.")
    p.add_argument("--version", action="version", version=f"igfsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)
    _add_scenario_commands(sub)
    _add_sweep_and_report_commands(sub)
    _add_file_commands(sub)
    return p


def _common_run_options(sp: argparse.ArgumentParser) -> None:
    """Options of every command that simulates scenarios (run, validate, compare)."""
    sp.add_argument(
        "--engine",
        default="roadrunner",
        help="simulation engine: roadrunner (default), scipy, boolean, or all (validate)",
    )
    sp.add_argument(
        "--threshold",
        type=float,
        default=0.2,
        help="with all engines: ODE fraction at or above which a readout counts as ON (0.2)",
    )
    sp.add_argument("--model", default=None, help="Antimony or SBML model (default: the bundled model)")
    sp.add_argument("--quiet", action="store_true", help="print only the summary line")
    sp.add_argument("--no-png", action="store_true", help="skip the time-course figure")


def _add_scenario_commands(sub) -> None:
    """run, validate, compare."""
    run = sub.add_parser("run", help="simulate scenarios and write timecourse.csv, summary.json, timecourse.png")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    run.add_argument("--out", default="out", help="output folder (default: out)")
    _common_run_options(run)
    run.set_defaults(handler=_cmd_run)
    val = sub.add_parser("validate", help="check every expectation (default: all bundled scenarios)")
    val.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    val.add_argument("--out", default=None, help="also write run outputs here")
    _common_run_options(val)
    val.set_defaults(handler=_cmd_validate)
    cmp_ = sub.add_parser(
        "compare", help="run scenarios in every engine and print the agreement table (same as validate --engine all)"
    )
    cmp_.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    _common_run_options(cmp_)
    cmp_.set_defaults(handler=_cmd_compare, engine="all")


def _add_sweep_and_report_commands(sub) -> None:
    """sweep, report."""
    swp = sub.add_parser("sweep", help="run a parameter sweep file (docs/sweeps.md) and write its dataset")
    swp.add_argument("sweep", metavar="SWEEP.yaml")
    swp.add_argument("--out", default=None, metavar="DIR", help="output folder (default: out/<sweep file name>)")
    swp.add_argument(
        "--workers", type=int, default=None, metavar="N", help="worker processes (default: all CPUs; 1 runs in-process)"
    )
    swp.add_argument("--dask", default=None, metavar="ADDRESS", help="run on a Dask cluster (scheduler address)")
    swp.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --out")
    swp.add_argument("--no-progress", action="store_true", help="no progress bar")
    swp.set_defaults(handler=_cmd_sweep)
    rep = sub.add_parser(
        "report",
        help="one self-contained HTML report of run, validate --out and sweep folders "
        "(default: runs the bundled scenarios)",
    )
    rep.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="run output folders (<dir>/<scenario>/summary.json) or sweep folders (manifest.json)",
    )
    rep.add_argument("--out", default="report.html", help="the HTML file (default: report.html)")
    rep.add_argument("--pdf", action="store_true", help="also write the figures and tables as <out>.pdf")
    rep.add_argument(
        "--engines",
        default="roadrunner",
        choices=["roadrunner", "all"],
        help="without INPUT: roadrunner only (default) or all three engines with the agreement table",
    )
    rep.add_argument(
        "--scenarios",
        action="append",
        default=None,
        metavar="DIR|FILE",
        help="where to find the scenario files of run folders (question, overrides); repeatable; "
        "the bundled scenarios are always searched",
    )
    rep.add_argument("--model", default=None, help="without INPUT: Antimony or SBML model (default: the bundled model)")
    rep.set_defaults(handler=_cmd_report)


def _add_file_commands(sub) -> None:
    """export, docs, robustness, list."""
    exp = sub.add_parser(
        "export",
        help="write the model as SBML, the logical model as bnet or SBML-qual, or a "
        "scenario as SED-ML (OMEX archive) or PEtab v2",
    )
    exp.add_argument("--format", required=True, choices=["sbml", "bnet", "sbml-qual", "sedml", "petab"])
    exp.add_argument(
        "--out",
        default=None,
        help="output file (default: igf1r.xml / igf1r.bnet / igf1r.qual.xml / "
        "<scenario>.omex) or, for petab, folder (<scenario>_petab)",
    )
    exp.add_argument("--scenario", default=None, metavar="FILE", help="the scenario to export (sedml, petab)")
    exp.add_argument("--model", default=None, help="Antimony or SBML model (default: the bundled model)")
    exp.add_argument("--bnet", default=None, help="logical model (default: the bundled models/igf1r.bnet)")
    exp.set_defaults(handler=_cmd_export)
    docs = sub.add_parser("docs", help="write docs/mechanisms.md from the scenario files (or --check it)")
    docs.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the file differs from the rendering"
    )
    docs.add_argument("--out", default="docs/mechanisms.md", help="the file (default: docs/mechanisms.md)")
    docs.add_argument(
        "--scenarios", default=None, metavar="DIR", help="scenario folder (default: the bundled scenarios)"
    )
    docs.set_defaults(handler=_cmd_docs)
    rob = sub.add_parser(
        "robustness", help="one-at-a-time x0.5/x2 parameter scan of the catalogue -> docs/robustness.md"
    )
    rob.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    rob.add_argument("--out", default="docs/robustness.md", help="the file (default: docs/robustness.md)")
    rob.add_argument("--factors", type=float, nargs="+", default=[0.5, 2.0], help="multipliers (default: 0.5 2)")
    rob.add_argument("--workers", type=int, default=None, metavar="N", help="processes (default: all CPUs)")
    rob.add_argument("--model", default=None, help="Antimony or SBML model (default: the bundled model)")
    rob.add_argument(
        "--check", action="store_true", help="no simulation: exit 1 when the file was made from another model"
    )
    rob.set_defaults(handler=_cmd_robustness)
    lst = sub.add_parser("list", help="show scenarios, drugs, contexts and readouts")
    lst.add_argument("what", nargs="?", default="all", choices=["all", "scenarios", "drugs", "contexts", "readouts"])
    lst.set_defaults(handler=_cmd_list)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of exiting (testable in-process)."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except IgfsimError as err:
        if args.debug:
            traceback.print_exc()
        _err(str(err))
        return EXIT_SIMULATION if isinstance(err, SimulationError) else EXIT_INPUT


def console() -> None:
    """``[project.scripts]`` wrapper."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into e.g. `head`
        code = EXIT_OK
        sys.stdout = None
    sys.exit(code)
