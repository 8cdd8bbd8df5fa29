"""Parameter ensembles: the uncertainty of a fit, as model-parameter multipliers that scenarios can run.

An :class:`Ensemble` is a table of members x model parameters; each value multiplies the
parameter's effective value in every arm of a scenario (``scale:<id>``), so an ensemble from a
data problem (:mod:`igfsim.calibrate.datasets`, whose estimates are log10 folds) applies to every
scenario of the catalogue. :func:`ensemble_from_fit` collects the parameter vectors the data do
not reject at 95 %: the optimiser end points within the chi-square threshold of the best
(``Delta NLL <= chi2_0.95(n_parameters) / 2``, the simultaneous region) and the profile points
inside each parameter's 95 % interval. The file form (``write_tsv`` / ``read_tsv``) is a TSV with a
``member`` column and one column per parameter, after ``#`` comment lines saying where it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from igfsim.errors import CalibrationError, Issue

if TYPE_CHECKING:
    from igfsim.calibrate.datasets import DataProblem
    from igfsim.calibrate.profile import ParameterProfile
    from igfsim.calibrate.result import CalibrationResult

__all__ = ["Ensemble", "ensemble_from_fit"]


@dataclass(frozen=True)
class Ensemble:
    """Members x parameters of multipliers on model parameters."""

    parameters: tuple[str, ...]
    folds: np.ndarray  # (n_members, n_parameters), > 0
    source: str = ""

    def __post_init__(self) -> None:
        f = np.asarray(self.folds, dtype=float)
        if f.ndim != 2 or f.shape[1] != len(self.parameters) or f.shape[0] < 1:
            raise ValueError(f"folds must be (members, {len(self.parameters)}), got {f.shape}")
        if not np.all(np.isfinite(f)) or np.any(f <= 0):
            raise ValueError("every multiplier must be a finite positive number")

    @property
    def n_members(self) -> int:
        return int(np.asarray(self.folds).shape[0])

    def members(self) -> list[dict[str, float]]:
        """``[{parameter: multiplier}, ...]``: what ``analysis.robustness.expectation_robustness`` takes."""
        return [dict(zip(self.parameters, map(float, row), strict=True)) for row in np.asarray(self.folds)]

    def write_tsv(self, path: str | Path) -> Path:
        path = Path(path)
        lines = [f"# {line}" for line in (self.source or "igfsim parameter ensemble").splitlines()]
        lines.append("# values multiply each parameter's effective value in every arm (scale:<id>)")
        lines.append("\t".join(["member", *self.parameters]))
        for i, row in enumerate(np.asarray(self.folds)):
            lines.append("\t".join([str(i), *(repr(float(v)) for v in row)]))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read_tsv(cls, path: str | Path, model_parameters: set[str] | None = None) -> Ensemble:
        """Read a TSV ensemble; :class:`CalibrationError` names the row and column of every bad value."""
        from igfsim.errors import did_you_mean, read_text_file

        path = Path(path)
        text, why = read_text_file(path)
        if text is None:
            raise CalibrationError(str(path), [Issue("file", why)])
        comments = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("#")]
        body = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        if len(body) < 2:
            raise CalibrationError(str(path), [Issue("file", "expected a header (member, parameters...) and members")])
        header = body[0].split("\t")
        issues: list[Issue] = []
        if header[0] != "member" or len(header) < 2:
            issues.append(Issue("header", "expected 'member' then one column per model parameter"))
        params = header[1:]
        if model_parameters is not None:
            for p in params:
                if p not in model_parameters:
                    issues.append(Issue(f"column {p}", f"unknown model parameter{did_you_mean(p, model_parameters)}"))
        rows: list[list[float]] = []
        for k, line in enumerate(body[1:], start=2):
            cells = line.split("\t")
            if len(cells) != len(header):
                issues.append(Issue(f"line {k}", f"{len(cells)} columns, the header has {len(header)}"))
                continue
            row = []
            for p, cell in zip(params, cells[1:], strict=True):
                try:
                    v = float(cell)
                except ValueError:
                    v = math.nan
                if not (math.isfinite(v) and v > 0):
                    issues.append(Issue(f"line {k}, column {p}", f"expected a positive multiplier, got {cell!r}"))
                row.append(v)
            rows.append(row)
        if issues:
            raise CalibrationError(str(path), issues)
        return cls(tuple(params), np.array(rows, dtype=float), "\n".join(comments))


def model_parameter_columns(result: CalibrationResult) -> tuple[DataProblem, list[int]]:
    """A data-problem fit's problem and the columns of its model parameters (expression levels left out)."""
    from igfsim.calibrate.datasets import DataProblem

    problem = getattr(result, "problem", None)
    if not isinstance(problem, DataProblem):
        raise ValueError("an ensemble of model-parameter multipliers needs a data problem (igfsim's own model)")
    kinetic = [k for k, p in enumerate(problem.parameters) if not p.is_expression]
    if not kinetic:
        raise ValueError("only expression levels were fitted: a cell's levels are its context, not an ensemble")
    return problem, kinetic


def ensemble_from_fit(
    result: CalibrationResult, profiles: list[ParameterProfile] | None = None, *, confidence: float = 0.95
) -> Ensemble:
    """The parameter vectors of a data-problem fit that the data do not reject (see the module docstring)."""
    from scipy.stats import chi2

    problem, kinetic = model_parameter_columns(result)
    starts = result.starts
    best = starts[0]
    if not best.ok:
        raise ValueError("no start finished: there is no fit to take an ensemble from")
    cut = best.fval + chi2.ppf(confidence, df=len(problem.parameters)) / 2
    vectors = [s.x for s in starts if s.ok and s.fval <= cut]
    n_ends = len(vectors)
    for prof in profiles or []:
        vectors += list(prof.members)
    unique = np.unique(np.round(np.array(vectors, dtype=float)[:, kinetic], 12), axis=0)
    source = (
        f"ensemble of {problem.name} ({problem.path}): {n_ends} optimiser end point(s) within "
        f"chi2({confidence:g}, {len(problem.parameters)})/2 of the best NLL {best.fval:.6g}, "
        f"plus {len(vectors) - n_ends} profile point(s) inside the {confidence:.0%} intervals"
    )
    if len(kinetic) < len(problem.parameters):
        source += " (the fitted expression levels are left out: they describe the fitted cell, not the model)"
    return Ensemble(tuple(problem.parameters[k].id for k in kinetic), 10.0**unique, source)
