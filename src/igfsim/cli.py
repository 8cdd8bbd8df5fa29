"""Command line: ``igfsim run | validate | list``.

Exit codes: 0 every expectation holds, 1 an expectation failed, 2 bad input, 3 simulation
failure. With several scenarios the largest code wins; every scenario is still attempted and
its outputs are written, so a failure never loses results already computed.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from .errors import IgfsimError, Issue, ScenarioError, SimulationError

EXIT_OK, EXIT_EXPECTATION, EXIT_INPUT, EXIT_SIMULATION = 0, 1, 2, 3
_VERDICT = {"pass": "PASS", "fail": "FAIL", "xfail": "XFAIL", "xpass": "XPASS"}


def _scenario_files(items: Sequence[str]) -> list[Path]:
    from .resources import bundled_scenarios_dir

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
    from .analysis import check_expectations, describe
    from .model import load_model
    from .outputs import write_run_outputs
    from .runner import run_scenario
    from .scenario import load_scenario

    model = load_model(args.model)
    code, n_pass, n_total, n_xfail = EXIT_OK, 0, 0, 0
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
            print(f"{scenario.name}: wrote {folder}/timecourse.csv, summary.json"
                  + ("" if args.no_png else ", timecourse.png"))
        if not result.ok:
            for rec in result.records:
                if rec.status != "ok":
                    _err(f"{path}: arm {rec.arm!r}: {rec.message}")
            code = max(code, EXIT_SIMULATION)
            continue
        if not args.quiet:
            refs = f"  [{'; '.join(scenario.references)}]" if scenario.references else ""
            print(f"\n{scenario.name}: {scenario.title}{refs}")
            for o in outcomes:
                extra = f"  ({o.detail})" if o.detail else ""
                print(f"  {_VERDICT[o.verdict]:5s}  {describe(o.expectation):70s} observed {o.observed:.4g}{extra}")
        n_total += len(outcomes)
        n_pass += sum(o.verdict == "pass" for o in outcomes)
        n_xfail += sum(o.verdict == "xfail" for o in outcomes)
        if any(not o.ok for o in outcomes):
            code = max(code, EXIT_EXPECTATION)
    known = f", {n_xfail} known failure(s)" if n_xfail else ""
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


#: largest |roadrunner - scipy| on 0..1 readouts that counts as agreement
ODE_AGREEMENT = 1e-3


def _cmd_compare(args) -> int:
    from .consistency import compare_scenario, format_consistency
    from .engines import ENGINES, ODE_ENGINES
    from .model import load_model
    from .scenario import load_scenario

    model = load_model(args.model)
    try:
        files = _scenario_files(args.scenarios)
    except ScenarioError as err:
        _err(str(err))
        return EXIT_INPUT
    code, reports = EXIT_OK, []
    for path in files:
        try:
            scenario = load_scenario(path)
            rep = compare_scenario(scenario, model, engines=tuple(ENGINES), threshold=args.threshold,
                                   source=str(path))
        except ScenarioError as err:
            _err(str(err))
            code = max(code, EXIT_INPUT)
            continue
        reports.append(rep)
        odes = [e for e in ODE_ENGINES if e in rep.engines]
        if any(e in rep.errors for e in odes):
            code = max(code, EXIT_SIMULATION)
            continue
        if any(not o.ok for e in odes for o in rep.outcomes.get(e, [])):
            code = max(code, EXIT_EXPECTATION)
        verdicts = {tuple(rep.outcomes[e][i].verdict for e in odes) for i in range(len(scenario.expect))}
        if any(len(set(v)) > 1 for v in verdicts) or (rep.ode_max_abs_diff or 0) > ODE_AGREEMENT:
            code = max(code, EXIT_EXPECTATION)
    print(format_consistency(reports))
    return code


def _cmd_export(args) -> int:
    from .engines.bnet import bundled_bnet_path, load_bnet
    from .export import write_bnet, write_sbml, write_sbml_qual
    from .model import load_model

    default_names = {"sbml": "igf1r.xml", "bnet": "igf1r.bnet", "sbml-qual": "igf1r.qual.xml"}
    out = Path(args.out or default_names[args.format])
    try:
        if args.format == "sbml":
            write_sbml(load_model(args.model), out)
        else:
            net = load_bnet(args.bnet or bundled_bnet_path())
            rules = {n: net.rule_text(n) for n in net.nodes}
            if args.format == "bnet":
                write_bnet(rules, out, header=f"igfsim logical model, exported from {net.source}")
            else:
                write_sbml_qual(rules, out)
    except OSError as err:
        _err(f"{out}: cannot write ({err.strerror or err})")
        return EXIT_INPUT
    print(f"wrote {out} ({args.format})")
    return EXIT_OK


def _cmd_list(args) -> int:
    from .contexts import CONTEXTS
    from .drugs import CATALOG
    from .readouts import READOUTS
    from .resources import bundled_scenarios_dir
    from .scenario import load_scenario

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
            print(f"  {d.name + alias:34s} {d.mechanism.value}; {pot}")
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
    from . import __version__

    p = argparse.ArgumentParser(prog="igfsim", description="Simulate IGF-IR/InsR signalling and drug resistance.")
    p.add_argument("--version", action="version", version=f"igfsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--engine", default="roadrunner",
                        help="simulation engine: roadrunner (default), scipy, boolean, or all (validate)")
        sp.add_argument("--threshold", type=float, default=0.2,
                        help="with all engines: ODE fraction at or above which a readout counts as ON (0.2)")
        sp.add_argument("--model", default=None, help="Antimony or SBML model (default: the bundled model)")
        sp.add_argument("--quiet", action="store_true", help="print only the summary line")
        sp.add_argument("--no-png", action="store_true", help="skip the time-course figure")

    run = sub.add_parser("run", help="simulate scenarios and write timecourse.csv, summary.json, timecourse.png")
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    run.add_argument("--out", default="out", help="output folder (default: out)")
    common(run)
    run.set_defaults(handler=_cmd_run)
    val = sub.add_parser("validate", help="check every expectation (default: all bundled scenarios)")
    val.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    val.add_argument("--out", default=None, help="also write run outputs here")
    common(val)
    val.set_defaults(handler=_cmd_validate)
    cmp_ = sub.add_parser("compare", help="run scenarios in every engine and print the agreement table "
                                          "(same as validate --engine all)")
    cmp_.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    common(cmp_)
    cmp_.set_defaults(handler=_cmd_compare, engine="all")
    exp = sub.add_parser("export", help="write the model as SBML, or the logical model as bnet or SBML-qual")
    exp.add_argument("--format", required=True, choices=["sbml", "bnet", "sbml-qual"])
    exp.add_argument("--out", default=None, help="output file (default: igf1r.xml / igf1r.bnet / igf1r.qual.xml)")
    exp.add_argument("--model", default=None, help="Antimony or SBML model (default: the bundled model)")
    exp.add_argument("--bnet", default=None, help="logical model (default: the bundled models/igf1r.bnet)")
    exp.set_defaults(handler=_cmd_export)
    lst = sub.add_parser("list", help="show scenarios, drugs, contexts and readouts")
    lst.add_argument("what", nargs="?", default="all", choices=["all", "scenarios", "drugs", "contexts", "readouts"])
    lst.set_defaults(handler=_cmd_list)
    return p


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
