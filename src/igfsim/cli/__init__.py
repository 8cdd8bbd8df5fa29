"""Command line: ``igfsim run | validate | compare | sweep | calibrate | report | export | docs | robustness | list``.

Exit codes: 0 every expectation holds, 1 an expectation failed, 2 bad input, 3 simulation
failure, 4 igfsim crashed (an unexpected exception: a bug, reported in one line; ``--debug`` shows its
traceback), 130 interrupted (Ctrl-C). An uncaught exception never exits 1, which means "an
expectation failed". With several scenarios the largest code wins; every scenario is still attempted and
its outputs are written, so a failure never loses results already computed. An expectation that
is ``not_expressible`` in the engine (verdict N/A) or a known failure (XFAIL) does not fail.
``validate --engine all`` fails (1) when an expectation fails in any engine, when the two ODE
engines differ by more than 1e-3 or in a verdict; ``docs --check`` and ``robustness --check`` exit 1
when the generated page is stale.

One module per group of subcommands (``scenarios``, ``sweeps``, ``calibration``, ``files``); ``common`` holds the
exit codes and helpers they share. This package holds no domain rules: it calls the library and
turns its errors into one line and an exit code.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from igfsim.cli import calibration, files, scenarios, sweeps
from igfsim.cli.common import (
    EXIT_CRASH,
    EXIT_EXPECTATION,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SIMULATION,
    print_error,
)
from igfsim.errors import IgfsimError, SimulationError

__all__ = [
    "EXIT_CRASH",
    "EXIT_EXPECTATION",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SIMULATION",
    "console",
    "main",
]


def _parser() -> argparse.ArgumentParser:
    from igfsim._version import __version__

    p = argparse.ArgumentParser(prog="igfsim", description="Simulate IGF-IR/InsR signalling and drug resistance.")
    p.add_argument("--version", action="version", version=f"igfsim {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True)
    scenarios.add_commands(sub)
    sweeps.add_commands(sub)
    calibration.add_commands(sub)
    files.add_commands(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of exiting (testable in-process)."""
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except IgfsimError as err:
        if args.debug:
            traceback.print_exc()
        print_error(str(err))
        return EXIT_SIMULATION if isinstance(err, SimulationError) else EXIT_INPUT
    except KeyboardInterrupt:
        print_error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - a bug: one line and its own exit code, never 1
        if args.debug:
            traceback.print_exc()
        where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
        at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
        print_error(
            f"igfsim crashed: {type(err).__name__}: {err}{at}. This is a bug in igfsim; please report it with "
            "the command and its input (rerun with --debug for the traceback)"
        )
        return EXIT_CRASH


def console() -> None:
    """``[project.scripts]`` wrapper."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into e.g. `head`
        code = EXIT_OK
        sys.stdout = None
    sys.exit(code)
