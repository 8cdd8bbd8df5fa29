"""sweep, report: run a sweep file; write the HTML report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from igfsim.cli.common import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SIMULATION,
    add_model_options,
    bundled_by_name,
    load_model_of,
    print_error,
    progress,
)


def _saved_runs(out: Path) -> int:
    """How many runs the finished parts of a sweep folder hold (0 when there are none yet)."""
    import pyarrow.parquet as pq

    runs: set[int] = set()
    for part in sorted((out / "parts").glob("part-*.parquet")):
        try:
            runs.update(pq.read_table(part, columns=["run"]).column("run").to_pylist())
        except (OSError, ValueError):
            continue  # resume checks and sets it aside
    return len(runs)


def _cmd_sweep(args) -> int:
    """Run a sweep file; exit 0 every run ok, 3 some runs failed (results still written), 2 bad input."""
    from igfsim.resources import bundled_sweeps_dir, where
    from igfsim.sweep.execute import run_sweep
    from igfsim.sweep.spec import load_sweep

    path = Path(args.sweep)
    if not path.exists() and (named := bundled_by_name(args.sweep, bundled_sweeps_dir())) is not None:
        path = named  # a bundled sweep by name, from any folder
    print(f"sweep: {where(path)}")
    sweep = load_sweep(path, catalogs=args.catalog)  # ScenarioError -> exit 2 in main()
    out = Path(args.out) if args.out else Path("out") / Path(args.sweep).stem
    client = None
    executor: object = None  # None (a process pool), "serial" or a distributed.Client
    if args.dask:
        try:
            from distributed import Client
        except ImportError:
            print_error("--dask needs the dask extra: pip install 'igfsim[dask]'")
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
        print_error(f"{out}: cannot write the sweep ({err.strerror or err})")
        return EXIT_INPUT
    except KeyboardInterrupt:
        print_error(
            f"interrupted: {_saved_runs(out)} run(s) are saved in {out}; "
            f"`igfsim sweep {args.sweep} --out {out} --resume` runs the rest"
        )
        return EXIT_INTERRUPTED
    finally:
        if client is not None:
            client.close()
    from igfsim.result.scenario_result import RunStatus

    failed = [
        (r, m)
        for r, s, m in zip(res.dataset["run"].values, res.status, res.dataset["message"].values, strict=True)
        if s != RunStatus.OK
    ]
    print(f"{sweep.scenario.name}: {res.n_ok} run(s) ok, {len(failed)} failed of {res.n_runs}; wrote {out}")
    for run, msg in failed[:5]:
        print_error(f"run {run}: {msg}")
    if len(failed) > 5:
        print_error(f"... and {len(failed) - 5} more failed run(s) (status and message are in the dataset)")
    return EXIT_SIMULATION if failed else EXIT_OK


def _cmd_report(args) -> int:
    """Write one self-contained HTML report (and a PDF with --pdf); exit 0 written, 2 bad input."""
    from igfsim.report.html import write_report
    from igfsim.report.inputs import Section, load_inputs, run_bundled

    if Path(args.out).exists() and not args.force:  # before minutes of simulation
        print_error(f"{args.out} exists; give --force to overwrite it, or another --out")
        return EXIT_INPUT
    sections: Sequence[Section]
    if args.inputs:
        # ReportInputError / SweepStoreError -> exit 2 in main()
        sections = load_inputs(args.inputs, args.scenarios or ())
    else:
        print(f"no input folders: running the bundled scenarios (engines: {args.engines})")
        sections = run_bundled(
            model=load_model_of(args),
            engines=args.engines,
            catalogs=args.catalog,
            on_done=lambda i, n, name: progress(f"[{i}/{n}] {name}"),
        )
    try:
        written = write_report(sections, args.out, pdf=args.pdf, interactive=args.interactive)
    except OSError as err:
        print_error(f"{args.out}: cannot write the report ({err.strerror or err})")
        return EXIT_INPUT
    print("wrote " + ", ".join(map(str, written)))
    return EXIT_OK


def add_commands(sub) -> None:
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
    swp.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="drug and cell-context catalogue read over the bundled one (repeatable; after the sweep file's catalog)",
    )
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
    rep.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    rep.add_argument(
        "--interactive",
        action="store_true",
        help="add an interactive (plotly) time-course figure per scenario; plotly.js is embedded (about 4.6 MB)",
    )
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
    add_model_options(rep, model_help="without INPUT: Antimony or SBML model (default: the bundled model)")
    rep.set_defaults(handler=_cmd_report)
