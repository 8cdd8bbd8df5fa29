"""Mechanism verdicts over a parameter ensemble: in what share of members each expectation holds.

``igfsim validate --ensemble FILE`` runs every scenario once per member of an ensemble
(:class:`igfsim.calibrate.ensemble.Ensemble`, multipliers on model parameters) through
:func:`igfsim.analysis.robustness.expectation_robustness` and reports each expectation as the share
of members in which its claim holds ("C02 IR-A complete resistance: holds in 94 % of 200
members"). An expectation of a core claim (C01-C07) that holds in fewer than ``ROBUST_SHARE`` of
the members it was evaluated in is flagged as not robust rather than passed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from igfsim.analysis.parameter_scan import CORE_CLAIMS
from igfsim.analysis.robustness import expectation_robustness
from igfsim.calibrate.ensemble import Ensemble
from igfsim.errors import Issue, ReportInputError
from igfsim.model.sbml import Model
from igfsim.scenario.loading import load_scenario, with_catalogs

__all__ = ["ROBUST_SHARE", "EnsembleSummary", "EnsembleVerdict", "ensemble_verdicts", "format_ensemble"]

#: a core claim holding in fewer than this share of the ensemble is "not robust"
ROBUST_SHARE = 0.80


@dataclass(frozen=True)
class EnsembleVerdict:
    """One expectation over the ensemble."""

    scenario: str
    index: int
    expectation: str
    claims: tuple[str, ...]
    nominal: str  # the verdict with the model's own parameters
    n_members: int
    n_evaluated: int  # members whose run succeeded and whose verdict is not n/a
    n_holds: int

    @property
    def share(self) -> float:
        return self.n_holds / self.n_evaluated if self.n_evaluated else math.nan

    @property
    def core(self) -> bool:
        return bool(set(self.claims) & set(CORE_CLAIMS))

    @property
    def robust(self) -> bool:
        """False for a core claim below ``ROBUST_SHARE`` (or never evaluated); other claims are reported only."""
        return not self.core or (self.n_evaluated > 0 and self.share >= ROBUST_SHARE)

    def line(self) -> str:
        claims = ",".join(self.claims) or "-"
        share = f"{100 * self.share:.0f} %" if self.n_evaluated else "n/a"
        flag = "" if self.robust else "  NOT ROBUST (core claim below 80 %)"
        return f"{self.scenario} [{claims}] {self.expectation}: holds in {share} of {self.n_evaluated} members{flag}"

    def to_json(self) -> dict:
        return {**asdict(self), "share": None if math.isnan(self.share) else self.share, "robust": self.robust}

    @classmethod
    def from_json(cls, doc: dict) -> EnsembleVerdict:
        """The inverse of :meth:`to_json` (derived keys ``share`` and ``robust`` are recomputed)."""
        return cls(
            scenario=str(doc["scenario"]),
            index=int(doc["index"]),
            expectation=str(doc["expectation"]),
            claims=tuple(str(c) for c in doc["claims"]),
            nominal=str(doc["nominal"]),
            n_members=int(doc["n_members"]),
            n_evaluated=int(doc["n_evaluated"]),
            n_holds=int(doc["n_holds"]),
        )


@dataclass(frozen=True)
class EnsembleSummary:
    """What ``igfsim validate --ensemble ... --out DIR`` writes (``ensemble_summary.json``) and the docs read."""

    ensemble: str  # the ensemble file, as given
    n_members: int
    parameters: tuple[str, ...]
    source: str
    verdicts: tuple[EnsembleVerdict, ...]

    FILE = "ensemble_summary.json"

    @property
    def n_core(self) -> int:
        return sum(v.core for v in self.verdicts)

    @property
    def n_not_robust(self) -> int:
        return sum(not v.robust for v in self.verdicts)

    def verdict(self, scenario: str, index: int) -> EnsembleVerdict | None:
        return next((v for v in self.verdicts if v.scenario == scenario and v.index == index), None)

    def to_json(self) -> str:
        doc = {
            "ensemble": self.ensemble,
            "n_members": self.n_members,
            "parameters": list(self.parameters),
            "source": self.source,
            "verdicts": [v.to_json() for v in self.verdicts],
        }
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def read(cls, path: str | Path) -> EnsembleSummary:
        """Read a summary; a missing, unreadable or malformed file is a ``ReportInputError`` naming it and the key."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ReportInputError(f"{path}: cannot read an ensemble summary: {err}") from None
        issues: list[Issue] = []
        if not isinstance(doc, dict):
            raise ReportInputError(f"{path}: expected a JSON object (an igfsim validate --ensemble summary)")
        for key, kind in (("ensemble", str), ("n_members", int), ("parameters", list), ("verdicts", list)):
            if not isinstance(doc.get(key), kind):
                issues.append(Issue(key, f"expected {kind.__name__}, got {type(doc.get(key)).__name__}"))
        verdicts: list[EnsembleVerdict] = []
        raw = doc.get("verdicts")
        records: list = raw if isinstance(raw, list) else []
        for k, v in enumerate(records):
            try:
                verdicts.append(EnsembleVerdict.from_json(v))
            except (KeyError, TypeError, ValueError) as err:
                issues.append(Issue(f"verdicts[{k}]", f"expected a verdict record ({type(err).__name__}: {err})"))
        if issues:
            raise ReportInputError("\n".join(f"{path}: {i}" for i in issues))
        return cls(
            ensemble=doc["ensemble"],
            n_members=doc["n_members"],
            parameters=tuple(str(p) for p in doc["parameters"]),
            source=str(doc.get("source") or ""),
            verdicts=tuple(verdicts),
        )


def ensemble_verdicts(
    files: Sequence[str | Path],
    ensemble: Ensemble,
    model: Model,
    *,
    executor: object = None,
    n_workers: int | None = None,
    progress: bool = False,
    catalogs: Sequence[str | Path] = (),
) -> list[EnsembleVerdict]:
    """Every expectation of every scenario file over ``ensemble`` (each reading ``catalogs`` after its own).

    ``executor``: ``"serial"``, any ``concurrent.futures.Executor`` or a ``distributed.Client``; None
    runs in-process with ``n_workers`` <= 1 and otherwise on one spawn process pool of ``n_workers``
    shared by every scenario (each worker compiles the model once).
    """
    if executor is None and n_workers is not None and n_workers > 1:
        from igfsim.sweep.executors import spawn_pool

        with spawn_pool(n_workers) as pool:
            return ensemble_verdicts(
                files, ensemble, model, executor=pool, n_workers=n_workers, progress=progress, catalogs=catalogs
            )
    members = ensemble.members()
    out: list[EnsembleVerdict] = []
    for f in files:
        scen = with_catalogs(load_scenario(f), catalogs)
        if not scen.expect:
            continue
        rob = expectation_robustness(
            scen, members, model=model, executor=executor, n_workers=n_workers, progress=progress
        )
        records = rob.table.to_dict(orient="index")
        for j, e in enumerate(scen.expect):
            row = records[j]
            out.append(
                EnsembleVerdict(
                    scenario=scen.name,
                    index=j,
                    expectation=str(row["expectation"]),
                    claims=(e.claim,) if e.claim else tuple(scen.claims),
                    nominal=str(getattr(row["nominal"], "value", row["nominal"])),
                    n_members=int(row["n_members"]),
                    n_evaluated=int(row["n_evaluated"]),
                    n_holds=int(row["n_holds"]),
                )
            )
    return out


def format_ensemble(verdicts: Sequence[EnsembleVerdict], ensemble: Ensemble) -> str:
    """The CLI table: one line per expectation, then the count of core expectations flagged."""
    lines = [f"ensemble: {ensemble.n_members} members over {', '.join(ensemble.parameters)}"]
    if ensemble.source:
        lines.append(f"  ({ensemble.source.splitlines()[0]})")
    lines += [v.line() for v in verdicts]
    weak = [v for v in verdicts if not v.robust]
    core = [v for v in verdicts if v.core]
    lines.append(
        f"{len(core) - len(weak)}/{len(core)} core-claim expectations hold in at least "
        f"{ROBUST_SHARE:.0%} of the members; {len(weak)} flagged not robust"
    )
    return "\n".join(lines)
