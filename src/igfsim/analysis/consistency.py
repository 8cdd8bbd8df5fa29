"""Compare the views of one network: two ODE engines and the Boolean engine, per scenario.

For each scenario the report holds

* per arm and readout: the ODE value at the end of the run, discretised as ON when it is at
  least ``threshold`` (a fraction of the readout's pool), against the Boolean attractor's mean
  activity, ON when at least 0.25 (oscillating nodes average ~0.5); readouts that are not
  Boolean nodes are left out;
* per expectation: the verdict in every engine (``n/a`` with the reason where the expectation is
  marked ``not_expressible`` in that engine);
* between the ODE engines: the largest absolute difference of any 0..1 readout.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from igfsim.analysis.expectations import (
    ExpectationOutcome,
    Verdict,
    check_expectations,
    describe,
    scenario_header,
    verdict_counts,
)
from igfsim.engines import ODE_ENGINES
from igfsim.model.sbml import Model
from igfsim.result.scenario_result import ScenarioResult
from igfsim.runner import run_scenario
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.readouts import READOUTS
from igfsim.scenario.schema import Scenario

#: default ODE threshold (fraction of the pool) above which a readout counts as ON
DEFAULT_THRESHOLD = 0.2
#: Boolean ON when the attractor's mean activity reaches this: nodes on a feedback cycle oscillate
#: and average about 0.5 over the ensemble, while OFF nodes are exactly 0
BOOLEAN_ON = 0.25
#: largest |difference| between the ODE engines (each against roadrunner) on 0..1 readouts that counts as agreement
ODE_AGREEMENT = 1e-3
FRACTION_READOUTS = tuple(r for r in READOUTS if r not in ("IGF1R_total", "InsR_total"))


class ProblemKind(StrEnum):
    """Why a cross-engine comparison is not OK."""

    ENGINE_FAILED = "engine failed"
    EXPECTATION_FAILED = "expectation failed"
    ODE_VERDICTS_DIFFER = "ODE verdicts differ"
    ODE_VALUES_DIFFER = "ODE values differ"


@dataclass(frozen=True)
class Problem:
    """One reason a comparison is not OK, with its line of text."""

    kind: ProblemKind
    message: str


@dataclass(frozen=True)
class NodeComparison:
    """One arm and readout: ODE level, its discretisation, and the Boolean attractor value."""

    arm: str
    readout: str
    ode_value: float
    ode_on: bool
    boolean_value: float
    boolean_on: bool

    @property
    def agree(self) -> bool:
        """Whether the discretised ODE level equals the Boolean state."""
        return self.ode_on == self.boolean_on


@dataclass
class ScenarioConsistency:
    """Everything compared for one scenario."""

    scenario: str
    title: str
    engines: tuple[str, ...]
    threshold: float
    results: dict[str, ScenarioResult] = field(default_factory=dict)
    outcomes: dict[str, list[ExpectationOutcome]] = field(default_factory=dict)
    nodes: list[NodeComparison] = field(default_factory=list)
    ode_max_abs_diff: float | None = None
    errors: dict[str, str] = field(default_factory=dict)
    claims: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def ode_engines(self) -> list[str]:
        """The ODE engines that ran, in report order (the first is the reference of agreement checks)."""
        return [e for e in ODE_ENGINES if e in self.outcomes]

    def ode_pair(self) -> str:
        """The ODE engines compared, as ``reference - other, other``."""
        odes = self.ode_engines()
        return f"{odes[0]} - {', '.join(odes[1:])}"

    def disagreements(self) -> list[NodeComparison]:
        """Arm/readout pairs where logic and the discretised ODE differ."""
        return [n for n in self.nodes if not n.agree]

    def verdict_table(self) -> list[tuple[str, dict[str, str]]]:
        """``[(expectation text, {engine: verdict})]`` in scenario order."""
        return [(text, {e: o.verdict for e, o in row.items()}) for text, row in self.outcome_table()]

    def outcome_table(self) -> list[tuple[str, dict[str, ExpectationOutcome]]]:
        """``[(expectation text, {engine: outcome})]`` in scenario order, for the engines that ran."""
        engines = [e for e in self.engines if e in self.outcomes]
        if not engines:
            return []
        return [
            (describe(o.expectation), {e: self.outcomes[e][i] for e in engines})
            for i, o in enumerate(self.outcomes[engines[0]])
        ]

    def failures(self) -> list[tuple[str, ExpectationOutcome]]:
        """``(engine, outcome)`` of every expectation that fails (``fail`` or ``xpass``) in any engine."""
        return [(e, o) for e in self.engines for o in self.outcomes.get(e, []) if not o.ok]

    def problems(self, ode_agreement: float = ODE_AGREEMENT) -> list[Problem]:
        """What makes this comparison not OK: an engine that failed (its expectations went unchecked),
        an expectation that fails in any engine, ODE engines whose verdicts differ, or ODE engines whose
        0..1 readouts differ by more than ``ode_agreement``."""
        if self.errors:
            return [Problem(ProblemKind.ENGINE_FAILED, f"{self.scenario}: the {e} engine failed") for e in self.errors]
        out = [
            Problem(
                ProblemKind.EXPECTATION_FAILED,
                f"{self.scenario}: expect[{o.index}] {o.verdict.label} in {e}: {describe(o.expectation)}",
            )
            for e, o in self.failures()
        ]
        odes = self.ode_engines()
        n_expect = len(self.outcomes[odes[0]]) if odes else 0
        out += [
            Problem(
                ProblemKind.ODE_VERDICTS_DIFFER,
                f"{self.scenario}: expect[{i}] has different verdicts in {' and '.join(odes)}",
            )
            for i in range(n_expect)
            if len({self.outcomes[e][i].verdict for e in odes}) > 1
        ]
        if (self.ode_max_abs_diff or 0) > ode_agreement:
            msg = f"{self.scenario}: max |{self.ode_pair()}| = {self.ode_max_abs_diff:.2e} exceeds {ode_agreement:g}"
            out.append(Problem(ProblemKind.ODE_VALUES_DIFFER, msg))
        return out


def _final(result: ScenarioResult, arm: str, readout: str) -> float:
    return float(result.get(arm, readout)[-1])


def compare_scenario(
    scenario: Scenario,
    model: Model,
    *,
    engines=("roadrunner", "scipy", "boolean"),
    threshold: float = DEFAULT_THRESHOLD,
    source: str | None = None,
) -> ScenarioConsistency:
    """Run ``scenario`` in every engine and compare.

    A scenario that does not fit ``model`` raises :class:`igfsim.errors.ScenarioError` (bad input);
    engine failures are recorded in ``errors``, not raised.
    """
    from igfsim.errors import IgfsimError

    validate_scenario(scenario, model, source or f"<scenario {scenario.name}>")
    report = ScenarioConsistency(
        scenario.name,
        scenario.title,
        tuple(engines),
        threshold,
        claims=tuple(scenario.claims),
        references=tuple(scenario.references),
    )
    for eng in engines:
        try:
            res = run_scenario(scenario, model, engine=eng, on_error="record", source=source)
        except IgfsimError as err:
            report.errors[eng] = str(err)
            continue
        report.results[eng] = res
        if not res.ok:
            report.errors[eng] = "; ".join(r.message for r in res.records if not r.ok)
            continue
        report.outcomes[eng] = check_expectations(res, scenario)
    odes = report.ode_engines()
    if len(odes) >= 2:  # every other ODE engine against the first
        a = report.results[odes[0]]
        cols = [i for i, r in enumerate(a.readouts) if r in FRACTION_READOUTS]
        report.ode_max_abs_diff = max(
            float(np.max(np.abs(a.values[..., cols] - report.results[e].values[..., cols]))) for e in odes[1:]
        )
    ode = next((report.results[e] for e in odes), None)
    boolean = report.results.get("boolean") if "boolean" in report.outcomes else None
    if ode is not None and boolean is not None:
        for arm in ode.arms:
            for r in ode.readouts:
                if r not in FRACTION_READOUTS or r not in boolean.readouts:
                    continue
                bval = _final(boolean, arm, r)
                if math.isnan(bval):
                    continue
                oval = _final(ode, arm, r)
                report.nodes.append(NodeComparison(arm, r, oval, oval >= threshold, bval, bval >= BOOLEAN_ON))
    return report


def _wrap(text: str, indent: int, width: int = 118) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=" " * indent,
        subsequent_indent=" " * (indent + 2),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [" " * indent]


def _detail_lines(row: dict[str, ExpectationOutcome], indent: int) -> list[str]:
    """One line per distinct (verdict, detail) that is not a plain pass, naming its engines."""
    groups: dict[tuple[str, str], list[str]] = {}
    for eng, o in row.items():
        if o.verdict is not Verdict.PASS and o.detail:
            groups.setdefault((o.verdict, o.detail), []).append(eng)
    lines = []
    for (verdict, detail), engs in groups.items():
        lines += _wrap(f"{', '.join(engs)} {verdict.upper()}: {detail}", indent)
    return lines


def format_consistency(reports: list[ScenarioConsistency]) -> str:
    """A plain-text agreement table: per scenario its claims, title and references, the verdict of every
    expectation in every engine (N/A and known failures with their reasons), the ODE agreement and the
    Boolean disagreements; at the end the verdict counts per engine."""
    lines = []
    total_nodes = sum(len(r.nodes) for r in reports)
    total_agree = sum(n.agree for r in reports for n in r.nodes)
    for rep in reports:
        lines.append("")
        lines += scenario_header(rep.scenario, rep.title, rep.claims, rep.references)
        for eng, msg in rep.errors.items():
            lines.append(f"  [{eng}] failed: {msg}")
        engines = [e for e in rep.engines if e in rep.outcomes]
        if engines:
            head = "  " + " ".join(f"{e:>10s}" for e in engines) + "  "
            lines.append(head + "expectation")
            for text, row in rep.outcome_table():
                checked = {o.verdict for o in row.values() if o.verdict is not Verdict.NOT_EXPRESSIBLE}
                mark = "   <- engines differ" if len(checked) > 1 else ""
                lines.append("  " + " ".join(f"{row[e].verdict.upper():>10s}" for e in engines) + f"  {text}{mark}")
                lines += _detail_lines(row, len(head) + 2)
        if rep.ode_max_abs_diff is not None:
            lines.append(f"  ODE engines: max |{rep.ode_pair()}| over 0..1 readouts = {rep.ode_max_abs_diff:.2e}")
        if rep.nodes:
            dis = rep.disagreements()
            lines.append(
                f"  Boolean vs ODE (ODE ON if final >= {rep.threshold:g}; Boolean ON if attractor mean "
                f">= {BOOLEAN_ON:g}): {len(rep.nodes) - len(dis)}/{len(rep.nodes)} arm x node pairs agree"
            )
            for n in dis:
                lines.append(
                    f"    {n.arm:28s} {n.readout:8s} ODE {n.ode_value:.3f} ({'ON' if n.ode_on else 'off'})"
                    f"  Boolean {n.boolean_value:.2f} ({'ON' if n.boolean_on else 'off'})"
                )
    if total_nodes:
        lines.append(
            f"\nBoolean vs ODE agreement: {total_agree}/{total_nodes} arm x node pairs "
            f"({100 * total_agree / total_nodes:.0f}%) over {len(reports)} scenario(s)"
        )
    engines = list(dict.fromkeys(e for r in reports for e in r.engines))
    counted = [(e, [o for r in reports for o in r.outcomes.get(e, [])]) for e in engines]
    counted = [(e, outs) for e, outs in counted if outs or any(e in r.errors for r in reports)]
    if counted:
        lines.append("Expectations per engine (n/a: not expressible there; xfail: known failure):")
        for e, outs in counted:
            counts = ", ".join(f"{n} {v}" for v, n in verdict_counts(outs).items()) or "none checked"
            failed = sum(e in r.errors for r in reports)
            extra = f"; {failed} scenario(s) failed to simulate" if failed else ""
            lines.append(f"  {e:10s} {counts} (of {len(outs)}){extra}")
    return "\n".join(lines)
