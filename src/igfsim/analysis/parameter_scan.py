"""One-at-a-time parameter scan of a scenario catalogue: which parameters flip which verdicts.

Each scanned parameter is multiplied by each factor (default x0.5 and x2) in every arm of every
scenario, alone, on top of everything the scenario sets (``scale:<id>``, see
:func:`igfsim.scenario.targets.apply_targets`); every expectation is checked again. A *flip* is an
expectation whose claim holds (verdict ``pass`` or ``xpass``) in the unperturbed scenario and not in
the perturbed one, or the reverse; ``n/a`` verdicts are not counted, and a perturbed run that fails
to simulate is counted apart. :func:`render_robustness_md` writes the result as
``docs/robustness.md`` (``igfsim robustness``).

Scanned by default (:func:`scannable_parameters`): every independent model parameter except those
that are 0 (a multiple of nothing changes nothing: modules and contexts switched off), drug
concentrations (the scenario sets the dose), antibody options (0/1 switches) and expression
multipliers (the cell context sets them).

A flip under a parameter whose provenance source is "assumed" must be declared by its
expectation (``fragile_under: ["<parameter> x<factor>", ...]``): :func:`fragility_issues`
compares the declarations with a scan, and :func:`render_robustness_json` writes the scan next to
the page so that ``igfsim robustness --check`` and the tests can do so without re-running it.
The catalogue hash leaves ``fragile_under`` out (it records the scan's result, not its input).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from pathlib import Path

from igfsim.analysis.expectations import Verdict, describe
from igfsim.analysis.robustness import expectation_robustness
from igfsim.model.sbml import Model, load_model
from igfsim.scenario.loading import load_scenario, with_catalogs
from igfsim.scenario.schema import Scenario

#: the factors of the default scan
FACTORS = (0.5, 2.0)
#: the review's core claims (domain-notes C01-C07): the robustness target is stated for these
CORE_CLAIMS = tuple(f"C{i:02d}" for i in range(1, 8))
#: the share of changes that may flip a core claim (issue 10's target)
CORE_TARGET = 0.10


def is_assumed(model: Model, parameter: str) -> bool:
    """True when the parameter's provenance source says "assumed" (it was not sourced, fitted or calibrated)."""
    row = model.provenance.get(parameter)
    return row is not None and row.source.strip().lower().startswith("assumed")


def scannable_parameters(model: Model) -> list[str]:
    """The parameters a scan varies (see the module docstring), in model order."""
    mapping = model.mapping
    skip = set(mapping.drug_slots) | set(mapping.option_parameters.values()) | set(mapping.expression.values())
    return [p for p, v in model.parameters.items() if v != 0 and p not in skip]


@dataclass(frozen=True)
class Flip:
    """One expectation whose verdict changed under one parameter change."""

    scenario: str
    index: int
    expectation: str
    claims: tuple[str, ...]
    parameter: str
    factor: float
    holds_nominal: bool
    #: the parameter's provenance source is "assumed" (not sourced, fitted or calibrated)
    assumed: bool = False

    @property
    def change(self) -> str:
        """The change as written in ``fragile_under``, e.g. ``k_dp_fast x0.5``."""
        return f"{self.parameter} {_factor(self.factor)}"


@dataclass(frozen=True)
class ScenarioScan:
    """The scan of one scenario: its flips and the changes whose run failed."""

    scenario: str
    claims: tuple[str, ...]
    n_expectations: int
    flips: tuple[Flip, ...]
    failed: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class ScanResult:
    """The scan of a catalogue."""

    parameters: tuple[str, ...]
    factors: tuple[float, ...]
    scenarios: tuple[ScenarioScan, ...]
    model_sha256: str
    catalogue_sha256: str

    @property
    def changes(self) -> list[tuple[str, float]]:
        """Every (parameter, factor) tried."""
        return [(p, f) for p in self.parameters for f in self.factors]

    @property
    def flips(self) -> list[Flip]:
        return [f for s in self.scenarios for f in s.flips]

    def changes_flipping(self, claims: Sequence[str] | None = None) -> set[tuple[str, float]]:
        """The changes that flip at least one expectation (of one of ``claims``, when given)."""
        return {(f.parameter, f.factor) for f in self.flips if claims is None or set(f.claims) & set(claims)}

    def share_flipping(self, claims: Sequence[str] | None = None) -> float:
        """The share of all changes that flip at least one expectation (of ``claims``)."""
        return len(self.changes_flipping(claims)) / len(self.changes) if self.changes else math.nan


def _expectation_claims(scenario: Scenario, index: int) -> tuple[str, ...]:
    e = scenario.expect[index]
    return (e.claim,) if e.claim else tuple(scenario.claims)


def scan_scenario(
    scenario: Scenario, model: Model, parameters: Sequence[str], factors: Sequence[float] = FACTORS
) -> ScenarioScan:
    """The one-at-a-time scan of one scenario (runs in this process)."""
    members = [{p: float(f)} for p in parameters for f in factors]
    rob = expectation_robustness(scenario, members, model=model)
    nominal = rob.table["nominal"]
    changes = [(p, float(f)) for p in parameters for f in factors]
    flips = []
    for j in range(len(scenario.expect)):
        verdict = Verdict(nominal.iloc[j])
        if verdict is Verdict.NOT_EXPRESSIBLE:
            continue
        held = verdict.holds
        column = rob.holds.iloc[:, j].to_numpy(dtype=float)
        for i, (p, f) in enumerate(changes):
            h = column[i]
            if not math.isnan(h) and bool(h) != held:
                flips.append(
                    Flip(
                        scenario.name,
                        j,
                        describe(scenario.expect[j]),
                        _expectation_claims(scenario, j),
                        p,
                        f,
                        held,
                        is_assumed(model, p),
                    )
                )
    failed = tuple(changes[i] for i in rob.failed)
    return ScenarioScan(scenario.name, tuple(scenario.claims), len(scenario.expect), tuple(flips), failed)


@dataclass(frozen=True)
class _ScanJob:
    """One scenario file to scan, with what a worker process needs to rebuild its inputs."""

    path: str
    model_path: str | None
    mapping: str | None
    catalogs: tuple[str, ...]
    parameters: tuple[str, ...]
    factors: tuple[float, ...]


def _scan_file(job: _ScanJob) -> ScenarioScan:
    """One scenario file (module level, so a process pool can run it)."""
    scenario = with_catalogs(load_scenario(job.path), job.catalogs)
    return scan_scenario(scenario, load_model(job.model_path, mapping=job.mapping), job.parameters, job.factors)


def _scan_input(path: Path) -> bytes:
    """A scenario file's content as the scan sees it: parsed, without ``fragile_under`` (the scan's
    own result), canonical JSON; a file that does not parse is hashed as it is."""
    import yaml

    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(data, dict) and isinstance(data.get("expect"), list):
        data["expect"] = [
            {k: v for k, v in e.items() if k != "fragile_under"} if isinstance(e, dict) else e for e in data["expect"]
        ]
    return json.dumps(data, sort_keys=True, default=str).encode()


def catalogue_hash(files: Sequence[Path]) -> str:
    """sha256 over the scenario files' names and contents (what the scan depends on besides the model)."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.name):
        h.update(f.name.encode() + b"\0" + _scan_input(f) + b"\0")
    return h.hexdigest()


def scan_catalogue(
    files: Sequence[Path],
    model_path: str | Path | None = None,
    *,
    factors: Sequence[float] = FACTORS,
    parameters: Sequence[str] | None = None,
    executor: Executor | None = None,
    on_done: Callable[[ScenarioScan], None] | None = None,
    mapping: str | Path | None = None,
    catalogs: Sequence[str | Path] = (),
) -> ScanResult:
    """Scan every scenario file; ``executor`` (any ``concurrent.futures.Executor``) runs the
    scenarios in parallel, one scenario per task; None runs them here, one after the other.
    ``on_done(scan)`` is called as each scenario finishes (in finishing order); the result keeps
    the files' order. ``mapping`` is the model's mapping file; ``catalogs`` are read after each
    scenario's own (absolute paths are passed on, so workers find them)."""
    model = load_model(model_path, mapping=mapping)
    params = tuple(parameters) if parameters is not None else tuple(scannable_parameters(model))
    extra = tuple(str(Path(c).resolve()) for c in catalogs)
    as_str = None if model_path is None else str(model_path)
    jobs = [
        _ScanJob(str(f), as_str, None if mapping is None else str(mapping), extra, params, tuple(map(float, factors)))
        for f in files
    ]
    done = on_done or (lambda scan: None)
    if executor is None:
        scans = []
        for job in jobs:
            scans.append(_scan_file(job))
            done(scans[-1])
    else:
        futures = {executor.submit(_scan_file, job): i for i, job in enumerate(jobs)}
        by_index: dict[int, ScenarioScan] = {}
        for fut in as_completed(futures):
            by_index[futures[fut]] = fut.result()
            done(by_index[futures[fut]])
        scans = [by_index[i] for i in range(len(jobs))]
    return ScanResult(params, tuple(map(float, factors)), tuple(scans), model.sha256, catalogue_hash(list(files)))


def fragility_issues(flips: Sequence[Flip], scenarios: Sequence[Scenario], source: str = "") -> list[str]:
    """Where the expectations' ``fragile_under`` differ from the assumed-parameter flips of a scan:
    a flip not declared, or a declared change that flips nothing (one message per expectation)."""
    found: dict[tuple[str, int], set[str]] = {}
    for f in flips:
        if f.assumed:
            found.setdefault((f.scenario, f.index), set()).add(f.change)
    out = []
    for sc in scenarios:
        for i, e in enumerate(sc.expect):
            declared, seen = set(e.fragile_under or ()), found.get((sc.name, i), set())
            if declared == seen:
                continue
            parts = []
            if seen - declared:
                parts.append(f"add {sorted(seen - declared)} (they flip it)")
            if declared - seen:
                parts.append(f"remove {sorted(declared - seen)} (they no longer flip it)")
            out.append(f"{source or sc.name}: expect[{i}] ({describe(e)}) fragile_under: " + "; ".join(parts))
    return out


def render_robustness_json(result: ScanResult) -> str:
    """The scan's flips as JSON (``docs/robustness.json``), stamped like the page."""
    data = {
        "model_sha256": result.model_sha256,
        "catalogue_sha256": result.catalogue_sha256,
        "factors": list(result.factors),
        "parameters": list(result.parameters),
        "flips": [
            {
                "scenario": f.scenario,
                "index": f.index,
                "expectation": f.expectation,
                "claims": list(f.claims),
                "parameter": f.parameter,
                "factor": f.factor,
                "holds_nominal": f.holds_nominal,
                "assumed": f.assumed,
            }
            for f in result.flips
        ],
    }
    return json.dumps(data, indent=1) + "\n"


def load_robustness_json(text: str) -> tuple[tuple[str, str], list[Flip]]:
    """``((model sha256, catalogue sha256), flips)`` from :func:`render_robustness_json`'s output."""
    data = json.loads(text)
    flips = [
        Flip(
            d["scenario"],
            int(d["index"]),
            d["expectation"],
            tuple(d["claims"]),
            d["parameter"],
            float(d["factor"]),
            bool(d["holds_nominal"]),
            bool(d["assumed"]),
        )
        for d in data["flips"]
    ]
    return (data["model_sha256"], data["catalogue_sha256"]), flips


# --------------------------------------------------------------------------------------- docs

_STAMP = re.compile(r"<!-- model sha256 ([0-9a-f]{64}); scenarios sha256 ([0-9a-f]{64}) -->")


def stamp_of(text: str) -> tuple[str, str] | None:
    """``(model sha256, catalogue sha256)`` recorded in a rendered robustness page, or None."""
    m = _STAMP.search(text)
    return (m[1], m[2]) if m else None


def _factor(f: float) -> str:
    return f"x{f:g}"


def render_robustness_md(result: ScanResult, model: Model) -> str:
    """``docs/robustness.md``: the figures, then per parameter and per expectation what flips."""
    n = len(result.changes)
    core = result.share_flipping(CORE_CLAIMS)
    any_share = result.share_flipping()
    lines = [
        "# Robustness of the catalogue to two-fold parameter changes",
        "",
        "Generated by `igfsim robustness` (one-at-a-time scan, `igfsim.analysis.parameter_scan`); do not edit.",
        f"<!-- model sha256 {result.model_sha256}; scenarios sha256 {result.catalogue_sha256} -->",
        "",
        f"Every one of {len(result.parameters)} parameters was multiplied by "
        f"{' and '.join(_factor(f) for f in result.factors)}, alone, in every arm of the "
        f"{len(result.scenarios)} scenarios: {n} changes. A flip is an expectation whose claim holds "
        "in the unperturbed scenario and not under the change, or the reverse (`n/a` not counted).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| changes that flip at least one expectation | {len(result.changes_flipping())} of {n} "
        f"({100 * any_share:.1f} %) |",
        f"| changes that flip a core claim (C01-C07) | {len(result.changes_flipping(CORE_CLAIMS))} of {n} "
        f"({100 * core:.1f} %; target <= {100 * CORE_TARGET:.0f} %: "
        f"{'met' if core <= CORE_TARGET else 'not met'}) |",
        f"| expectation flips in all | {len(result.flips)} |",
        f"| expectations flipped by a change of an assumed parameter (each says so in `fragile_under`) | "
        f"{len({(f.scenario, f.index) for f in result.flips if f.assumed})} |",
        f"| changes whose run failed | {sum(len(s.failed) for s in result.scenarios)} |",
        "",
    ]
    return "\n".join(lines + _parameter_table(result, model) + [""] + _expectation_table(result)) + "\n"


def _parameter_table(result: ScanResult, model: Model) -> list[str]:
    by_param: dict[str, list[Flip]] = {}
    for f in result.flips:
        by_param.setdefault(f.parameter, []).append(f)
    lines = [
        "## Parameters that flip a verdict",
        "",
        "Most flips first. *source* is the parameter's provenance row (`assumed` = not sourced).",
        "",
        "| parameter | source | flips | " + " | ".join(_factor(f) for f in result.factors) + " |",
        "|---|---|---|" + "---|" * len(result.factors),
    ]
    for p, flips in sorted(by_param.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        row = model.provenance.get(p)
        source = (row.source.split(";")[0].strip() if row else "?").replace("|", "/")[:60]
        cells = []
        for factor in result.factors:
            hit = sorted({f"{f.scenario}[{f.index}]" for f in flips if f.factor == factor})
            cells.append(", ".join(hit) or "-")
        lines.append(f"| `{p}` | {source} | {len(flips)} | " + " | ".join(cells) + " |")
    quiet = [p for p in result.parameters if p not in by_param]
    lines += ["", f"{len(quiet)} parameters flip nothing at these factors."]
    return lines


def _expectation_table(result: ScanResult) -> list[str]:
    lines = [
        "## Expectations that flip",
        "",
        "Changes of parameters whose source is *assumed* are in bold; the expectation lists those in",
        "its `fragile_under` (checked by `igfsim robustness --check` and the tests).",
        "",
        "| scenario | expectation | claims | flipped by |",
        "|---|---|---|---|",
    ]
    by_exp: dict[tuple[str, int], list[Flip]] = {}
    for f in result.flips:
        by_exp.setdefault((f.scenario, f.index), []).append(f)
    for (sc, i), flips in sorted(by_exp.items()):
        text = flips[0].expectation.replace("|", "/")
        who = ", ".join(
            f"**`{f.parameter}` {_factor(f.factor)}**" if f.assumed else f"`{f.parameter}` {_factor(f.factor)}"
            for f in sorted(flips, key=lambda f: (f.parameter, f.factor))
        )
        lines.append(f"| {sc} | [{i}] {text} | {', '.join(flips[0].claims) or '-'} | {who} |")
    if not by_exp:
        lines.append("| - | no expectation flips | - | - |")
    return lines
