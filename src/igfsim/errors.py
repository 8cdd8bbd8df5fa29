"""Every exception igfsim raises on purpose, and the validation issues they carry.

The CLI catches :class:`IgfsimError` only; anything else is a bug and keeps its traceback. Each
class also derives from the matching built-in (``ValueError``, ``RuntimeError``, ``ImportError``),
so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    """How bad a validation issue is (PEtab's levels)."""

    WARNING = 20
    ERROR = 30


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file: where it is and what is wrong."""

    where: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class IgfsimError(Exception):
    """Base class of every error igfsim raises on purpose."""


def _issues_text(path: str, issues: list[Issue], what: str) -> str:
    """One line per issue, prefixed by the file; a count line first when there are several."""
    lines = [f"{path}: {i}" for i in issues]
    head = [f"{len(issues)} problem(s) in {what}"] if len(lines) > 1 else []
    return "\n".join(head + lines)


class ModelError(IgfsimError, ValueError):
    """The model text, its SBML or its provenance table is invalid."""


class BnetError(ModelError):
    """A ``.bnet`` file is invalid; carries the file and *all* problems found (``.issues``)."""

    def __init__(self, path: str, issues: list[Issue]):
        self.path = str(path)
        self.issues = list(issues)
        super().__init__(_issues_text(self.path, self.issues, "Boolean network file"))


class MappingError(ModelError):
    """A model mapping file is invalid; carries the file and *all* problems found (``.issues``)."""

    def __init__(self, path: str, issues: Iterable[Issue]):
        self.path = str(path)
        self.issues = list(issues)
        super().__init__(_issues_text(self.path, self.issues, "model mapping file"))


class BnetWarning(UserWarning):
    """A ``.bnet`` file was read with a convention igfsim made explicit (e.g. undefined nodes as inputs)."""


class ScenarioError(IgfsimError, ValueError):
    """A scenario file is invalid; carries the file path and *all* issues found."""

    def __init__(self, path: str, issues: Iterable[Issue]):
        self.path = str(path)
        self.issues = list(issues)
        super().__init__(_issues_text(self.path, self.issues, "scenario file"))


class CatalogError(ScenarioError):
    """A drug and cell catalogue file is invalid or conflicts with another; carries *all* issues."""

    def __init__(self, path: str, issues: Iterable[Issue]):
        self.path = str(path)
        self.issues = list(issues)
        ValueError.__init__(self, _issues_text(self.path, self.issues, "catalogue file"))


class SimulationError(IgfsimError, RuntimeError):
    """A simulation failed; names the engine, the run and how far it got."""

    def __init__(self, message: str, *, engine: str = "", run_id: str = "", t_reached: float | None = None):
        self.message = message
        self.engine = engine
        self.run_id = run_id
        self.t_reached = t_reached
        where = " ".join(x for x in (f"[{engine}]" if engine else "", run_id) if x)
        super().__init__(f"{where}: {message}" if where else message)


class EngineUnavailableError(IgfsimError, ImportError):
    """An engine was asked for that does not exist or is not installed."""


class SweepStoreError(IgfsimError, ValueError):
    """A sweep output folder cannot be used (exists without resume, belongs to another sweep, unreadable)."""


class ReportInputError(IgfsimError, ValueError):
    """An input folder is neither a run output folder nor a sweep folder."""


class PetabExportError(IgfsimError, ValueError):
    """The scenario cannot be written as PEtab."""


class SedmlExportError(IgfsimError, ValueError):
    """The scenario cannot be written as SED-ML (or the written document is invalid)."""


class CalibrationError(IgfsimError, ValueError):
    """A calibration problem (PEtab) is invalid or unsupported; carries the problem file and *all* issues."""

    def __init__(self, path: str, issues: Iterable[Issue]):
        self.path = str(path)
        self.issues = list(issues)
        super().__init__(_issues_text(self.path, self.issues, "calibration input"))


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    match = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    if not match:
        lowered = {c.lower(): c for c in choices}
        if str(name).lower() in lowered:
            match = [lowered[str(name).lower()]]
    return f"; did you mean {match[0]!r}?" if match else ""


def read_text_file(path) -> tuple[str | None, str]:
    """Read a UTF-8 text file: ``(text, "")``, or ``(None, what went wrong in words)``.

    Callers turn the problem into their own error (scenario, model, logical model, sweep file).
    """
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8"), ""
    except OSError as err:
        return None, f"cannot read file ({err.strerror or err})"
    except UnicodeDecodeError as err:
        return None, f"not UTF-8 text (byte {err.start}); save the file as UTF-8"
