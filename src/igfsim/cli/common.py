"""What every subcommand shares: exit codes, the error line, scenario files, writing an output."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from igfsim.errors import Issue, ScenarioError

EXIT_OK, EXIT_EXPECTATION, EXIT_INPUT, EXIT_SIMULATION, EXIT_CRASH = 0, 1, 2, 3, 4
#: Ctrl-C, as shells report SIGINT (128 + 2)
EXIT_INTERRUPTED = 130


def bundled_by_name(item: str, folder: Path) -> Path | None:
    """A bundled file addressed by name: ``c01_mab_vs_dual_tki`` (or with ``.yaml``) in ``folder``."""
    stem = Path(item).name.removesuffix(".yaml").removesuffix(".yml")
    if Path(item).parent != Path(".") or not folder.is_dir():
        return None
    return next((f for f in (folder / f"{stem}.yaml", folder / f"{stem}.yml") if f.is_file()), None)


def scenario_files(items: Sequence[str]) -> list[Path]:
    """The scenario files named (folders expanded; a name that is not a path may name a bundled
    scenario, from any folder), or the bundled ones."""
    from igfsim.resources import bundled_scenarios_dir

    paths = [Path(i) for i in items] or [bundled_scenarios_dir()]
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:
                raise ScenarioError(str(p), [Issue("(folder)", "no scenario files (*.yaml) here")])
            files += found
        elif not p.exists() and (named := bundled_by_name(str(p), bundled_scenarios_dir())) is not None:
            files.append(named)
        else:
            files.append(p)
    return files


def announce_inputs(model, files: Sequence[Path] = (), catalogs: Sequence[str] = ()) -> None:
    """Say which files a command reads: the model and its mapping, catalogues, scenario files."""
    from igfsim.resources import where

    source = Path(model.mapping.source) if model.mapping.source else None
    beside = source is not None and source.parent.resolve() == Path(model.path).parent.resolve()
    mapping = (source.name if beside else where(source)) if source is not None else "none"
    print(f"model: {where(model.path)}; mapping: {mapping}")
    if catalogs:
        print(f"catalogues: {', '.join(map(str, catalogs))} (over the bundled one)")
    if files:
        folders = sorted({str(where(f.parent)) for f in files})
        print(f"scenarios: {len(files)} file(s) from {'; '.join(folders)}", flush=True)


def progress(msg: str) -> None:
    """One progress line on stderr, at once (long commands say how far they are)."""
    print(msg, file=sys.stderr, flush=True)


def print_error(msg: str) -> None:
    """One error line on stderr."""
    print(f"igfsim: error: {msg}", file=sys.stderr)


def write_and_report(out: Path, write: Callable[[Path], object], what: str) -> int:
    """``write(out)``, then ``wrote <file> (<what>)``; one error line and exit 2 when the file system refuses."""
    try:
        written = write(out)
    except OSError as err:
        print_error(f"{out}: cannot write ({err.strerror or err})")
        return EXIT_INPUT
    print(f"wrote {written or out} ({what})")
    return EXIT_OK


def add_model_options(sp, *, model_help: str = "Antimony or SBML model (default: the bundled model)") -> None:
    """``--model``, ``--mapping`` and ``--catalog``: the options of every command that reads a model or scenarios."""
    sp.add_argument("--model", default=None, help=model_help)
    sp.add_argument(
        "--mapping",
        default=None,
        metavar="FILE",
        help="the model's mapping file (readouts, drug slots, expression keys, logical model; default: "
        "<model>.mapping.yaml beside the model)",
    )
    sp.add_argument(
        "--catalog",
        action="append",
        default=[],
        metavar="FILE",
        help="drug and cell-context catalogue read over the bundled one (repeatable; after a scenario's own)",
    )


def load_model_of(args):
    """The model the command line names (``--model``, ``--mapping``), say which files were read."""
    from igfsim.model.sbml import load_model

    return load_model(getattr(args, "model", None), mapping=getattr(args, "mapping", None))
