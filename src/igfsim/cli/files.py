"""export, docs, robustness, list: files generated from the model and the scenarios, and the catalogue."""

from __future__ import annotations

from pathlib import Path

from igfsim.cli.common import (
    EXIT_EXPECTATION,
    EXIT_INPUT,
    EXIT_OK,
    add_model_options,
    load_model_of,
    print_error,
    scenario_files,
    write_and_report,
)
from igfsim.errors import Issue, ScenarioError


def docs_file(out: str | None, name: str) -> Path:
    """``--out``, or ``docs/<name>`` of the igfsim checkout the working folder is in (never ``./docs`` of
    an unrelated folder); :class:`ScenarioError` (exit 2) outside a checkout without ``--out``."""
    from igfsim.resources import checkout_root

    if out is not None:
        return Path(out)
    root = checkout_root()
    if root is None:
        raise ScenarioError("--out", [Issue("(option)", f"not in an igfsim checkout: say where to write {name}")])
    return root / "docs" / name


def _check_page(out: Path, text: str, source: str) -> int:
    """``docs --check`` of one generated page: exit 0 when ``out`` equals ``text``, 1 (with a diff) when not."""
    import difflib

    try:
        current = out.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(f"{out}: missing; run `igfsim docs` to generate it from {source}")
        return EXIT_EXPECTATION
    except (OSError, UnicodeDecodeError) as err:
        print_error(f"{out}: cannot read ({getattr(err, 'strerror', None) or err})")
        return EXIT_INPUT
    if current == text:
        print(f"{out}: up to date with {source}")
        return EXIT_OK
    diff = list(
        difflib.unified_diff(
            current.splitlines(),
            text.splitlines(),
            f"{out} (on disk)",
            f"{out} (rendered from {source})",
            n=1,
            lineterm="",
        )
    )
    print(f"{out}: stale, differs from the rendering of {source}; run `igfsim docs`")
    limit = 60
    print("\n".join(diff[:limit]) + (f"\n... ({len(diff) - limit} more diff lines)" if len(diff) > limit else ""))
    return EXIT_EXPECTATION


def _cmd_docs(args) -> int:
    from igfsim.analysis.ensemble import EnsembleSummary
    from igfsim.model.mapping import bundled_mapping
    from igfsim.report.catalog_doc import render_catalog_md
    from igfsim.report.mechanisms_doc import render_mechanisms_md
    from igfsim.resources import bundled_scenarios_dir
    from igfsim.scenario.catalog import load_catalog

    folder = Path(args.scenarios) if args.scenarios else bundled_scenarios_dir()
    out = docs_file(args.out, "mechanisms.md")
    summary_file = Path(args.ensemble_summary) if args.ensemble_summary else out.parent / EnsembleSummary.FILE
    summary = None
    if args.ensemble_summary or summary_file.is_file():
        summary = EnsembleSummary.read(summary_file)  # ReportInputError (exit 2) naming the file and key
        print(f"ensemble shares from {summary_file} ({summary.n_members} members)")
    catalog = load_catalog(args.catalog or ())
    pages = [
        # ScenarioError (exit 2) on an invalid or missing folder
        (out, render_mechanisms_md(folder, summary), str(folder)),
        (out.with_name("catalog.md"), render_catalog_md(catalog, bundled_mapping()), "the catalogue and mapping"),
    ]
    if args.check:
        return max(_check_page(path, text, source) for path, text, source in pages)
    code = EXIT_OK
    for path, text, source in pages:

        def write(target: Path, text: str = text) -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

        code = max(code, write_and_report(path, write, f"from {source}"))
    return code


def _fragility_report(flips, files) -> int:
    """Print where the scenarios' ``fragile_under`` differ from the scan; exit 1 when they do."""
    from igfsim.analysis.parameter_scan import fragility_issues
    from igfsim.scenario.loading import load_scenario

    problems = [p for f in files for p in fragility_issues(flips, [load_scenario(f)], str(f))]
    for line in problems:
        print(line)
    if problems:
        print(
            f"{len(problems)} expectation(s) flip under a two-fold change of an assumed parameter without "
            "saying so (or say so and no longer do): update their fragile_under"
        )
        return EXIT_EXPECTATION
    return EXIT_OK


def _cmd_robustness(args) -> int:
    """One-at-a-time x0.5/x2 scan of the catalogue -> docs/robustness.md and .json (or --check them)."""
    from igfsim.analysis.parameter_scan import (
        ScenarioScan,
        catalogue_hash,
        load_robustness_json,
        render_robustness_json,
        render_robustness_md,
        scan_catalogue,
        stamp_of,
    )

    files = scenario_files(args.scenarios)  # ScenarioError -> exit 2 in main()
    out = docs_file(args.out, "robustness.md")
    data_out = out.with_suffix(".json")
    model = load_model_of(args)
    if args.check:
        try:
            stamp = stamp_of(out.read_text(encoding="utf-8"))
            data_stamp, flips = load_robustness_json(data_out.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
            why = getattr(err, "strerror", None) or err
            print(f"{out} / {data_out.name}: cannot read ({why}); run `igfsim robustness --out {out}`")
            return EXIT_EXPECTATION
        current = (model.sha256, catalogue_hash(files))
        if stamp != current or data_stamp != current:
            print(f"{out}: stale (the model or the scenarios changed since it was written); run `igfsim robustness`")
            return EXIT_EXPECTATION
        print(f"{out}: up to date with the model and {len(files)} scenario file(s)")
        return _fragility_report(flips, files)
    print(
        f"scanning {len(files)} scenario file(s); this takes minutes (one line per scenario as it finishes)",
        flush=True,
    )
    executor = None
    if args.workers is None or args.workers > 1:
        from igfsim.sweep.executors import spawn_pool

        executor = spawn_pool(args.workers)
    try:

        def report(s: ScenarioScan) -> None:
            print(f"  {s.scenario}: {len(s.flips)} flip(s), {len(s.failed)} failed run(s)", flush=True)

        result = scan_catalogue(
            files,
            args.model,
            factors=args.factors,
            executor=executor,
            on_done=report,
            mapping=args.mapping,
            catalogs=args.catalog,
        )
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    text, data = render_robustness_md(result, model), render_robustness_json(result)

    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(".json").write_text(data, encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        return path

    code = write_and_report(out, write, f"{len(result.changes)} changes x {len(files)} scenarios; data in {data_out}")
    return code or _fragility_report(result.flips, files)


def _cmd_export(args) -> int:
    from igfsim.export.models import write_bnet, write_sbml, write_sbml_qual
    from igfsim.model.bnet import load_bnet

    if args.format in ("sedml", "petab"):  # a scenario as an OMEX archive (SED-ML) or a PEtab v2 folder
        from igfsim.export.petab import write_petab
        from igfsim.export.sedml import write_omex
        from igfsim.scenario.loading import load_scenario, with_catalogs

        if not args.scenario:
            print_error(f"--format {args.format} needs --scenario FILE")
            return EXIT_INPUT
        (path,) = scenario_files([args.scenario])  # a file, or a bundled scenario by name
        scenario = with_catalogs(load_scenario(path), args.catalog)  # ScenarioError -> exit 2 in main()
        model = load_model_of(args)
        out = Path(args.out or (f"{scenario.name}.omex" if args.format == "sedml" else f"{scenario.name}_petab"))
        what = f"{args.format}, scenario {scenario.name}"
        estimate = "assumed" if args.estimate == ["assumed"] else args.estimate

        def writer(path):
            if args.format == "sedml":
                return write_omex(scenario, model, path)
            return write_petab(scenario, model, path, estimate=estimate)
    else:
        defaults = {"sbml": "igf1r.xml", "bnet": "igf1r.bnet", "sbml-qual": "igf1r.qual.xml"}
        out = Path(args.out or defaults[args.format])
        what = args.format
        if args.format == "sbml":
            model = load_model_of(args)

            def writer(path):
                return write_sbml(model, path)
        else:
            from igfsim.engines.boolean import logical_model_path

            net = load_bnet(args.bnet or logical_model_path(load_model_of(args)))
            rules = {n: net.rule_text(n) for n in net.nodes}

            def writer(path):
                if args.format == "bnet":
                    return write_bnet(rules, path, header=f"igfsim logical model, exported from {net.source}")
                return write_sbml_qual(rules, path)

    return write_and_report(out, writer, what)


def _cmd_list(args) -> int:
    from igfsim.resources import bundled_scenarios_dir
    from igfsim.scenario.catalog import load_catalog
    from igfsim.scenario.loading import load_scenario

    what = args.what
    model = load_model_of(args) if what in ("all", "drugs", "readouts") else None
    catalog = load_catalog(args.catalog or ())
    if what in ("all", "scenarios"):
        print(f"Scenarios (bundled, {bundled_scenarios_dir()}):")
        for f in sorted(bundled_scenarios_dir().glob("*.yaml")):
            try:
                s = load_scenario(f)
                print(f"  {s.name:34s} {s.title}")
            except ScenarioError as err:
                print(f"  {f.name:34s} INVALID: {err}")
    if what in ("all", "drugs"):
        assert model is not None
        print(f"Drugs ({catalog.where()}):")
        modes = model.mapping.modes_of_action
        for d in catalog.drugs.values():
            alias = f" ({', '.join(d.aliases)})" if d.aliases else ""
            pot = ", ".join(f"{k}={v:g} nM" for k, v in d.potency.items())
            mode = modes[d.mode_of_action].description if d.mode_of_action in modes else f"{d.mode_of_action} (no slot)"
            print(f"  {d.name + alias:34s} {mode}; {pot}")
    if what in ("all", "contexts"):
        print(f"Cell contexts ({catalog.where()}):")
        for c in catalog.contexts.values():
            print(f"  {c.name:34s} {c.description}")
    if what in ("all", "readouts"):
        assert model is not None
        print(f"Readouts of {model.mapping.what()} (any model species id may also be selected):")
        for r in model.mapping.readouts.values():
            print(f"  {r.id:34s} {r.description} [{r.unit}]")
    return EXIT_OK


def add_commands(sub) -> None:
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
    exp.add_argument(
        "--estimate",
        action="append",
        default=[],
        metavar="ID",
        help="petab: a parameter to estimate (repeatable), or 'assumed' for every parameter whose provenance "
        "says assumed (default: none; the table still lists every kinetic parameter)",
    )
    add_model_options(exp)
    exp.add_argument("--bnet", default=None, help="logical model (default: the model's, from its mapping file)")
    exp.set_defaults(handler=_cmd_export)
    docs = sub.add_parser(
        "docs", help="write docs/mechanisms.md (from the scenarios) and docs/catalog.md (drugs, contexts; or --check)"
    )
    docs.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the file differs from the rendering"
    )
    docs.add_argument(
        "--out", default=None, help="the file (default: docs/mechanisms.md of the igfsim checkout you are in)"
    )
    docs.add_argument(
        "--scenarios", default=None, metavar="DIR", help="scenario folder (default: the bundled scenarios)"
    )
    docs.add_argument(
        "--ensemble-summary",
        default=None,
        metavar="FILE",
        help="`igfsim validate --ensemble --out` summary whose shares each expectation shows "
        "(default: ensemble_summary.json beside --out, when present)",
    )
    docs.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="also list the drugs and contexts of this catalogue in catalog.md (repeatable)",
    )
    docs.set_defaults(handler=_cmd_docs)
    rob = sub.add_parser(
        "robustness", help="one-at-a-time x0.5/x2 parameter scan of the catalogue -> docs/robustness.md"
    )
    rob.add_argument("scenarios", nargs="*", metavar="SCENARIO|DIR")
    rob.add_argument(
        "--out", default=None, help="the file (default: docs/robustness.md of the igfsim checkout you are in)"
    )
    rob.add_argument("--factors", type=float, nargs="+", default=[0.5, 2.0], help="multipliers (default: 0.5 2)")
    rob.add_argument("--workers", type=int, default=None, metavar="N", help="processes (default: all CPUs)")
    add_model_options(rob)
    rob.add_argument(
        "--check",
        action="store_true",
        help="no simulation: exit 1 when the files were made from another model or scenarios, or when an "
        "expectation's fragile_under differs from the scan",
    )
    rob.set_defaults(handler=_cmd_robustness)
    lst = sub.add_parser("list", help="show scenarios, drugs, contexts and readouts")
    lst.add_argument("what", nargs="?", default="all", choices=["all", "scenarios", "drugs", "contexts", "readouts"])
    add_model_options(lst)
    lst.set_defaults(handler=_cmd_list)
