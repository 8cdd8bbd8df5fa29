"""Run SBML Test Suite semantic cases through igfsim's scipy engine and judge each result.

A case folder (``NNNNN/``) holds the model in one or more SBML levels, ``NNNNN-settings.txt``
(start, duration, steps, the variables to report, tolerances, which variables are amounts) and
``NNNNN-results.csv`` (the expected values). :func:`run_case` loads the highest SBML level the
folder has, simulates it from the settings and compares every value with the suite's criterion
``|actual - expected| <= absolute + relative * |expected|``.

Run as a script on a folder of cases (the whole suite, or the bundled sample) to print the counts
per verdict and the reasons for refusals::

    python tests/conformance/sbml_suite.py path/to/cases/semantic
"""

from __future__ import annotations

import csv
import enum
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from igfsim.engines.protocol import Protocol
from igfsim.engines.scipy_ode import ScipyEngine
from igfsim.errors import ModelError, SimulationError
from igfsim.model.sbml import load_model

#: newest first: the case is run in the highest level it is written in
LEVELS = ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2")
#: the integrator's tolerances: far tighter than any case's, so the suite's own tolerance decides
RTOL, ATOL = 1e-10, 1e-14


class Verdict(enum.Enum):
    """How one case ended."""

    MATCH = "match"  # every value within the case's tolerances
    REFUSED = "refused"  # a ModelError naming what the engine does not support
    UNSELECTABLE = "unselectable"  # a reported variable is one the engine cannot output (a reaction rate)
    FAILED = "failed"  # the model loaded but the simulation raised a SimulationError
    WRONG = "wrong"  # a value outside the tolerances: a conformance bug
    NOT_APPLICABLE = "n/a"  # not a deterministic time course (flux balance, distributions, ...)


@dataclass(frozen=True)
class Settings:
    start: float
    duration: float
    steps: int
    variables: tuple[str, ...]
    absolute: float
    relative: float
    amounts: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    case: str
    verdict: Verdict
    detail: str = ""


def read_settings(path: Path) -> Settings:
    """The ``key: value`` lines of a case's settings file."""
    raw: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            raw[key.strip()] = value.strip()

    def names(key: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in raw.get(key, "").split(",") if v.strip())

    return Settings(
        start=float(raw["start"]),
        duration=float(raw["duration"]),
        steps=int(float(raw["steps"])),
        variables=names("variables"),
        absolute=float(raw["absolute"]),
        relative=float(raw["relative"]),
        amounts=frozenset(names("amount")),
    )


def test_type(folder: Path) -> str:
    """The ``testType`` of the case's description (``TimeCourse`` for a deterministic time course)."""
    found = re.search(r"testType:\s*(\S+)", (folder / f"{folder.name}-model.m").read_text(errors="replace"))
    return found.group(1) if found else "TimeCourse"


def sbml_file(folder: Path) -> Path | None:
    for level in LEVELS:
        path = folder / f"{folder.name}-sbml-{level}.xml"
        if path.exists():
            return path
    return None


def expected(folder: Path) -> tuple[list[str], np.ndarray]:
    with (folder / f"{folder.name}-results.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    values = np.array([[float(v) for v in r] for r in rows[1:] if r], dtype=float)
    return header, values


def _compartment_of(sbml: str) -> dict[str, str]:
    import libsbml

    m = libsbml.readSBMLFromString(sbml).getModel()
    return {s.getId(): s.getCompartment() for s in m.getListOfSpecies()} if m is not None else {}


def _reactions(sbml: str) -> set[str]:
    import libsbml

    m = libsbml.readSBMLFromString(sbml).getModel()
    return {r.getId() for r in m.getListOfReactions()} if m is not None else set()


def run_case(folder: Path, engine: ScipyEngine | None = None) -> Outcome:
    """Simulate one case folder with the scipy engine and judge the result."""
    name = folder.name
    if not (folder / f"{name}-model.m").exists() or test_type(folder) != "TimeCourse":
        return Outcome(name, Verdict.NOT_APPLICABLE, test_type(folder) if (folder / f"{name}-model.m").exists() else "")
    path = sbml_file(folder)
    if path is None:
        return Outcome(name, Verdict.NOT_APPLICABLE, "no SBML file")
    settings = read_settings(folder / f"{name}-settings.txt")
    header, want = expected(folder)
    engine = engine or ScipyEngine(backend="python")
    try:
        model = load_model(path)
        reactions = _reactions(model.sbml)
        if unselectable := [v for v in settings.variables if v in reactions]:
            return Outcome(name, Verdict.UNSELECTABLE, f"reaction rate(s) {', '.join(unselectable)}")
        compartment = _compartment_of(model.sbml)
        amount_of = {v: compartment[v] for v in settings.variables if v in settings.amounts and v in compartment}
        selections = tuple(dict.fromkeys([*settings.variables, *amount_of.values()]))
        times = np.linspace(settings.start, settings.start + settings.duration, settings.steps + 1)
        protocol = Protocol(
            overrides=MappingProxyType({}),
            initial=MappingProxyType({}),
            preequilibrate=False,
            events=(),
            t_start=settings.start,
            times=times,
            selections=selections,
            rtol=RTOL,
            atol=ATOL,
            label=name,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sympy/scipy warnings on odd math are not the verdict
            got = engine.simulate(model, protocol)
    except ModelError as err:
        return Outcome(name, Verdict.REFUSED, str(err))
    except SimulationError as err:
        if not np.isfinite(want[:, 1:]).all():  # igfsim refuses non-finite results by design
            return Outcome(name, Verdict.REFUSED, f"non-finite results: {err}")
        return Outcome(name, Verdict.FAILED, str(err))
    column = {s: i for i, s in enumerate(selections)}
    for var in settings.variables:
        actual = got[:, column[var]]
        if var in amount_of:
            actual = actual * got[:, column[amount_of[var]]]
        if var not in header[1:]:  # column 0 is time, whatever its header says
            return Outcome(name, Verdict.WRONG, f"{var!r} is not in the results file")
        target = want[:, 1 + header[1:].index(var)]
        both_nan = np.isnan(target) & np.isnan(actual)
        ok = both_nan | (np.abs(actual - target) <= settings.absolute + settings.relative * np.abs(target))
        if not ok.all():
            i = int(np.argmin(ok))
            return Outcome(name, Verdict.WRONG, f"{var} at t={times[i]:g}: {actual[i]:.10g}, expected {target[i]:.10g}")
    return Outcome(name, Verdict.MATCH)


def refusal_reason(detail: str) -> str:
    """A refusal message without the case's ids: the construct refused."""
    for pattern, reason in [
        (r"SBML event", "events"),
        (r"rate rule on non-species", "rate rules on parameters"),
        (r"hasOnlySubstanceUnits", "hasOnlySubstanceUnits species"),
        (r"stoichiometry", "assigned or variable stoichiometry"),
        (r"algebraic rule", "algebraic rules"),
        (r"non-constant compartment|rule on compartment", "non-constant compartments"),
        (r"conversion factor", "conversion factors"),
        (r"fast reaction", "fast reactions"),
        (r"package", "SBML packages other than comp"),
        (r"delay", "delay()"),
        (r"non-finite results", "non-finite results (infinity, NaN)"),
        (r"rateOf", "rateOf()"),
        (r"could not be flattened", "comp models that cannot be flattened"),
        (r"MathML '", "MathML functions (quotient, rem, implies, arcsec, ...)"),
        (r"has no math", "rules or assignments without math"),
        (r"reaction rate used as a value", "reaction ids in math"),
    ]:
        if re.search(pattern, detail):
            return reason
    return "other: " + detail[:120]


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    folders = sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit())
    engine = ScipyEngine(backend="python")
    counts: Counter[Verdict] = Counter()
    reasons: Counter[str] = Counter()
    for folder in folders:
        out = run_case(folder, engine)
        counts[out.verdict] += 1
        if out.verdict is Verdict.REFUSED:
            reasons[refusal_reason(out.detail)] += 1
        if out.verdict in (Verdict.WRONG, Verdict.FAILED):
            print(f"{out.case} {out.verdict.value}: {out.detail[:200]}", flush=True)
    print(f"{len(folders)} cases: " + ", ".join(f"{v.value} {counts[v]}" for v in Verdict))
    for reason, n in reasons.most_common():
        print(f"  refused {n:4d}  {reason}")
    return 1 if counts[Verdict.WRONG] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
