"""One self-contained HTML report (and optionally a PDF) from the outputs of ``run``, ``validate`` and
``sweep``.

Inputs are run output folders (``<dir>/<scenario>/summary.json`` + ``timecourse.csv``, or one such
scenario folder) and sweep folders (``manifest.json``), read by :mod:`igfsim.report.inputs`, whose
:func:`~igfsim.report.inputs.run_bundled` simulates the bundled scenarios instead.

This module only builds the *context* of the page: one view per scenario and per sweep (tables as rows,
figures as PNG data with their sizes, provenance as ``(key, value)`` rows). The markup is the Jinja2
template ``templates/report.html.j2`` (CSS in ``templates/report.css``), rendered with autoescape on.
Every image is an embedded PNG (``data:`` URI), CSS is inline, and the page needs no network. Each
section carries a provenance block: model file and sha256, engine and tolerances, parameter overrides,
seed (sweeps), igfsim and dependency versions, generation date.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from igfsim.analysis.expectations import Verdict
from igfsim.errors import IgfsimError
from igfsim.report.inputs import (
    CalibrationSection,
    EnsembleSection,
    ScenarioSection,
    Section,
    SweepSection,
    overrides,
    versions,
)
from igfsim.result.scenario_result import RunStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from jinja2 import Environment
    from matplotlib.figure import Figure

    from igfsim.analysis.consistency import ScenarioConsistency
    from igfsim.report.figures import IC50Row, Png
    from igfsim.report.summary import ExpectationSummary, RunSummary

#: a PDF page item: ("fig", Figure) or ("text", the page's text)
PdfItem = tuple[str, Any]


@dataclass(frozen=True)
class Mark:
    """How a verdict is shown: its symbol, CSS class and label."""

    symbol: str
    css: str
    label: str


_MARK: dict[Verdict, Mark] = {
    Verdict.PASS: Mark("✔", "pass", "PASS"),
    Verdict.FAIL: Mark("✘", "fail", "FAIL"),
    Verdict.XPASS: Mark("✘", "fail", "XPASS"),
    Verdict.XFAIL: Mark("✘", "xfail", "XFAIL (known failure)"),
    Verdict.NOT_EXPRESSIBLE: Mark("–", "na", "N/A (not expressible)"),
}


def _fmt(x: object) -> str:
    """A number with four significant digits (NaN for a missing or non-finite one)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NaN"
    return f"{x:.4g}" if isinstance(x, int | float) else str(x)


def _pct(x: object) -> str:
    """A signed fraction as a percentage ("-5 %"), "n/a" when missing or not finite."""
    if not isinstance(x, int | float) or not math.isfinite(x):
        return "n/a"
    return f"{x:+.0%}".replace("%", " %")


# ----------------------------------------------------------------------------------------- context


@dataclass(frozen=True)
class FigureView:
    """An embedded figure: its number in the page, caption and PNG."""

    number: int
    caption: str
    png: Png


@dataclass(frozen=True)
class ExpectationRow:
    """One row of a scenario's expectation table."""

    index: int
    verdict: Verdict
    mark: Mark
    text: str
    observed: float | None
    note: str


@dataclass(frozen=True)
class AgreementCell:
    """One engine's verdict on one expectation."""

    verdict: Verdict
    mark: Mark
    detail: str
    observed: float


@dataclass(frozen=True)
class AgreementView:
    """The cross-engine block of a scenario (``--engines all``)."""

    errors: list[tuple[str, str]]
    ode_max_abs_diff: float | None
    engines: list[str]
    rows: list[tuple[str, list[AgreementCell]]]
    threshold: float
    n_nodes: int
    n_agree: int
    figure: FigureView | None


@dataclass(frozen=True)
class ScenarioView:
    """One scenario section."""

    summary: RunSummary
    n_failed: int
    question: str | None
    expectations: list[ExpectationRow]
    timecourse: FigureView | None
    timecourse_note: str
    agreement: AgreementView | None
    provenance: list[tuple[str, str]]
    #: the interactive time-course figure (an HTML fragment of plotly), with ``interactive=True``
    interactive: str = ""


@dataclass(frozen=True)
class CalibrationView:
    """One calibration section."""

    name: str
    summary: dict
    figures: list[FigureView]
    starts: list[dict]  # the convergence table's first rows
    parameters: list[tuple[str, str, str, str, str]]  # id, scale, lower, upper, best
    profiles: list[dict]  # profiles.tsv rows (empty when not profiled)
    provenance: list[tuple[str, str]]


@dataclass(frozen=True)
class EnsembleView:
    """One ensemble-verdict section: each expectation's share of members in which it holds."""

    name: str
    summary: Any  # EnsembleSummary
    rows: list[dict]  # scenario, claims, expectation, nominal, share (%), n, robust
    provenance: list[tuple[str, str]]


@dataclass(frozen=True)
class SweepView:
    """One sweep section."""

    scenario: str
    title: str
    design: str
    n_runs: int
    n_ok: int
    arms: list[str]
    axes: list[tuple[str, str]]
    figures: list[FigureView]
    notes: list[str]
    ic50: list[IC50Row]
    provenance: list[tuple[str, str]]


class _Document:
    """Numbers the figures in page order and, for the PDF, collects figures and text pages."""

    def __init__(self, pdf: bool, vers: dict[str, str], date: str, interactive: bool = False):
        self.pdf = pdf
        self.interactive = interactive
        self.items: list[PdfItem] = []
        self.n_fig = 0
        self.vers = vers
        self.date = date

    def figure(self, fig: Figure, caption: str) -> FigureView:
        from igfsim.report.figures import to_png

        png = to_png(fig)
        self.n_fig += 1
        if self.pdf:
            self.items.append(("fig", fig))
        return FigureView(self.n_fig, caption, png)

    def text(self, lines: list[str]) -> None:
        if self.pdf:
            self.items.append(("text", "\n".join(lines)))

    def provenance(self, rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``rows`` with the versions and the date added; also a text page of them."""
        rows = [
            *rows,
            ("igfsim and dependencies", ", ".join(f"{k} {v}" for k, v in self.vers.items())),
            ("generated", self.date),
        ]
        self.text(["", "Provenance:", *(f"{k}: {v}" for k, v in rows)])
        return rows


def _expectation_rows(exps: Sequence[ExpectationSummary]) -> tuple[list[ExpectationRow], list[str]]:
    rows = [ExpectationRow(x.index, x.verdict, _MARK[x.verdict], x.text, x.observed, x.note) for x in exps]
    lines = [f"{r.mark.symbol} {r.mark.label:6s} {r.text}  observed {_fmt(r.observed)}" for r in rows]
    return rows, lines or ["(no expectations)"]


def _agreement(doc: _Document, rep: ScenarioConsistency) -> AgreementView:
    from igfsim.report.figures import agreement_figure

    lines = [f"Engines: {', '.join(rep.engines)}"]
    if rep.ode_max_abs_diff is not None:
        lines.append(f"max |difference between the ODE engines| = {rep.ode_max_abs_diff:.2e}")
    table = rep.outcome_table()
    engines = list(table[0][1]) if table else []
    rows = []
    for text, row in table:
        cells = [AgreementCell(row[e].verdict, _MARK[row[e].verdict], row[e].detail, row[e].observed) for e in engines]
        rows.append((text, cells))
        lines.append(text + ": " + ", ".join(f"{e} {row[e].verdict}" for e in engines if e in row))
    figure, n_agree = None, 0
    if rep.nodes:
        n_agree = len(rep.nodes) - len(rep.disagreements())
        lines.append(f"Boolean/ODE: {n_agree} of {len(rep.nodes)} agree")
        figure = doc.figure(agreement_figure(rep), f"{rep.scenario}: Boolean/ODE agreement per arm and readout")
    doc.text(["Engine agreement", *lines])
    return AgreementView(
        list(rep.errors.items()), rep.ode_max_abs_diff, engines, rows, rep.threshold, len(rep.nodes), n_agree, figure
    )


def _timecourse(doc: _Document, sec: ScenarioSection) -> tuple[FigureView | None, str]:
    """The time-course figure, or why there is none."""
    from igfsim.report.figures import timecourse_figure

    if sec.result is None:
        return None, "no timecourse.csv: no time-course figure"
    name = sec.summary.scenario
    try:
        fig = timecourse_figure(sec.result, f"{name} ({sec.result.engine})", sec.scenario, readout_groups(sec.result))
        caption = f"{name}: readouts over time, one line per arm ({', '.join(sec.result.arms)})"
        return doc.figure(fig, caption), ""
    except Exception as err:  # noqa: BLE001 - a bad figure becomes a note, the report is still written
        return None, f"time-course figure skipped: {err}"


def readout_groups(result) -> dict[str, str]:
    """Readout -> group from the mapping of the model the result came from (none when it has no mapping)."""
    from igfsim.model.mapping import load_mapping, mapping_path

    path = mapping_path(str(result.attrs.get("model_path", ""))) if result.attrs.get("model_path") else None
    try:
        return load_mapping(path).groups() if path is not None and path.is_file() else {}
    except IgfsimError:
        return {}


def _interactive(doc: _Document, sec: ScenarioSection) -> str:
    """The interactive time-course fragment ("" without ``interactive`` or results)."""
    if not doc.interactive or sec.result is None:
        return ""
    from igfsim.report.interactive import timecourse_html

    return timecourse_html(
        sec.result, scenario=sec.scenario, groups=readout_groups(sec.result), div_id=f"plot-{sec.summary.scenario}"
    )


def _scenario_view(doc: _Document, sec: ScenarioSection) -> ScenarioView:
    s, sc = sec.summary, sec.scenario
    text = [f"{s.scenario}: {s.title}", f"claims {', '.join(s.claims)}; engine {s.engine}"]
    if s.mechanism is not None:
        text.append(f"mechanism: {s.mechanism.summary or ''}")
    rows, lines = _expectation_rows(s.expectations)
    doc.text([*text, "", "Expectations:", *lines])
    timecourse, note = _timecourse(doc, sec)
    agreement = _agreement(doc, sec.consistency) if sec.consistency is not None else None
    ov = overrides(sc)
    prov = [
        ("scenario source", sec.source),
        ("model file", s.model_path or "?"),
        ("model sha256", s.model_sha256 or "?"),
        ("engine", s.engine),
        ("tolerances", f"rtol {s.rtol}, atol {s.atol}"),
        ("seed", "none (deterministic simulation)"),
        (
            "parameter overrides",
            " | ".join(ov) if ov else "unknown (scenario file not found)" if sc is None else "none",
        ),
    ]
    return ScenarioView(
        summary=s,
        n_failed=sum(not x.verdict.ok for x in s.expectations),
        question=sc.description if sc is not None else None,
        expectations=rows,
        timecourse=timecourse,
        timecourse_note=note,
        agreement=agreement,
        provenance=doc.provenance(prov),
        interactive=_interactive(doc, sec),
    )


def _sweep_view(doc: _Document, sec: SweepSection) -> SweepView:
    from igfsim.report.figures import sweep_figures

    m = sec.sweep.meta
    scen = (sec.spec or {}).get("scenario") or {}
    st = sec.sweep.status
    n_ok = sum(x == RunStatus.OK for x in st)
    try:
        figs, notes, rows = sweep_figures(sec.sweep, scen or None)
    except Exception as err:  # noqa: BLE001
        figs, notes, rows = [], [f"sweep figures skipped: {err}"], []
    figures = [doc.figure(fig, caption) for caption, fig in figs]
    doc.text(
        [
            f"Sweep {m['scenario']} ({m['design']}, {len(st)} runs, {n_ok} ok)",
            *(f"{r.readout} {r.level}: IC50 {_fmt(r.ic50)} nM, Emax {_pct(r.emax)} (R2 {_fmt(r.r2)})" for r in rows),
            *notes,
        ]
    )
    sim = scen.get("simulation") or {}
    prov = [
        ("sweep folder", str(sec.path)),
        ("model sha256", m.get("model_sha256", "?")),
        ("engine", m.get("engine", "?")),
        ("tolerances", f"rtol {sim.get('rtol', '?')}, atol {sim.get('atol', '?')}"),
        ("seed", str(m.get("seed"))),
        ("spec hash", m.get("spec_hash", "?")),
        (
            "parameter overrides",
            "axes: "
            + ", ".join(m["targets"])
            + (f" | stimulus {json.dumps(scen.get('stimulus'))} | cell {json.dumps(scen.get('cell'))}" if scen else ""),
        ),
    ]
    return SweepView(
        scenario=m["scenario"],
        title=scen.get("title") or "",
        design=m["design"],
        n_runs=len(st),
        n_ok=n_ok,
        arms=list(m["arms"]),
        axes=list(zip(m["axes"], m["targets"], strict=True)),
        figures=figures,
        notes=notes,
        ic50=rows,
        provenance=doc.provenance(prov),
    )


def _calibration_view(doc: _Document, sec: CalibrationSection) -> CalibrationView:
    import matplotlib.pyplot as plt

    from igfsim.report.calibration_plots import plot_fit, plot_profiles, plot_waterfall

    m = sec.summary
    ax = plot_waterfall(sec.starts)
    ax.figure.tight_layout()
    figures = [doc.figure(ax.figure, "Waterfall: final objective of every start, sorted (objective − best + 1).")]
    plt.close(ax.figure)
    if sec.fit is not None:
        fig = plot_fit(sec.fit)
        figures.append(doc.figure(fig, "Best fit (lines) over the measurements (points, ±noise SD), per observable."))
        plt.close(fig)
    profiles: list[dict] = []
    if sec.profiles is not None and sec.profile_paths is not None:
        fig = plot_profiles(sec.profile_paths, sec.profiles)
        figures.append(doc.figure(fig, "Profile likelihoods; a profile that stays above the dashed line is open."))
        plt.close(fig)
        profiles = sec.profiles.to_dict(orient="records")
    starts = sec.starts.head(10).to_dict(orient="records")
    est = sec.parameters
    if "estimate" in est.columns:
        est = est[est["estimate"].astype(str).isin(["1", "1.0", "True"])]
    params = [
        (
            str(r["parameterId"]),
            str(r.get("parameterScale", "")),
            _fmt(r.get("lowerBound")),
            _fmt(r.get("upperBound")),
            _fmt(r.get("nominalValue")),
        )
        for r in est.to_dict(orient="records")
    ]
    doc.text(
        [
            f"Calibration {sec.path.name}: best {_fmt(m.get('best_fval'))}, "
            f"{m.get('n_within_1_of_best')}/{m.get('n_starts')} starts within 1 of it, {m.get('n_failed')} failed",
        ]
    )
    solver = m.get("solver") or {}
    prov = [
        ("calibration folder", str(sec.path)),
        ("problem", str(m.get("problem", "?"))),
        ("optimiser", f"{m.get('optimizer')} (fallback {m.get('fallback')}); gradient: {m.get('gradient')}"),
        (
            "tolerances",
            f"rtol {solver.get('rtol', '?')}, atol {solver.get('atol', '?')}, FD step {solver.get('fd_step')}",
        ),
        ("seed", str(m.get("seed"))),
        ("wall time", f"{m.get('wall_s')} s on {m.get('n_workers') or 'all'} worker(s)"),
    ]
    return CalibrationView(sec.path.name, m, figures, starts, params, profiles, doc.provenance(prov))


def _ensemble_view(doc: _Document, sec: EnsembleSection) -> EnsembleView:
    sm = sec.summary
    rows = [
        {
            "scenario": v.scenario,
            "claims": ", ".join(v.claims) or "-",
            "expectation": v.expectation,
            "nominal": v.nominal,
            "share": None if not v.n_evaluated else round(100 * v.share),
            "n": v.n_evaluated,
            "core": v.core,
            "robust": v.robust,
        }
        for v in sm.verdicts
    ]
    doc.text(
        [
            f"Ensemble verdicts {sec.path.name}: {sm.n_members} members over {', '.join(sm.parameters)}; "
            f"{sm.n_not_robust} of {sm.n_core} core-claim expectations below 80 %",
            *(f"{r['scenario']} [{r['claims']}] {r['expectation']}: {r['share']} % of {r['n']}" for r in rows),
        ]
    )
    prov = [("ensemble verdicts folder", str(sec.path)), ("ensemble", sm.ensemble), ("source", sm.source or "-")]
    return EnsembleView(sec.path.name, sm, rows, doc.provenance(prov))


# ----------------------------------------------------------------------------------------- rendering


@functools.cache
def _environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescape on, undefined names are errors)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("igfsim.report", "templates"),
        autoescape=select_autoescape(("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = _fmt
    env.filters["pct"] = _pct
    env.filters["fmt"] = format
    return env


def render_report(
    sections: Sequence[Section], *, title: str = "igfsim report", pdf: bool = False, interactive: bool = False
) -> tuple[str, list[PdfItem]]:
    """The HTML text of the report and, with ``pdf=True``, the items of its PDF. ``interactive`` adds a
    plotly time-course figure per scenario (plotly.js embedded once: no network needed)."""
    vers = versions()
    date = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = _Document(pdf, vers, date, interactive)
    scenarios = [_scenario_view(doc, s) for s in sections if isinstance(s, ScenarioSection)]
    sweeps = [_sweep_view(doc, s) for s in sections if isinstance(s, SweepSection)]
    calibrations = [_calibration_view(doc, s) for s in sections if isinstance(s, CalibrationSection)]
    ensembles = [_ensemble_view(doc, s) for s in sections if isinstance(s, EnsembleSection)]
    page = {"title": title, "generated": date, "version": vers["igfsim"], "plotly_js": ""}
    if any(v.interactive for v in scenarios):
        from igfsim.report.interactive import plotly_js

        page["plotly_js"] = plotly_js()
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(page=page, scenarios=scenarios, sweeps=sweeps, calibrations=calibrations, ensembles=ensembles)
    )
    return html, doc.items


def write_pdf(items: list[PdfItem], out: str | Path) -> Path:
    """Write the report's figures and text pages (tables as text) to a PDF."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = Path(out)
    with PdfPages(out) as pdf:
        for kind, item in items:
            if kind == "fig":
                pdf.savefig(item)
                continue
            lines = item.splitlines()
            for start in range(0, max(len(lines), 1), 70):
                fig = Figure(figsize=(8.27, 11.69))
                fig.text(
                    0.05,
                    0.97,
                    "\n".join(lines[start : start + 70]),
                    va="top",
                    ha="left",
                    family="monospace",
                    fontsize=6.5,
                    wrap=True,
                )
                pdf.savefig(fig)
    return out


def write_report(
    sections: Sequence[Section],
    out: str | Path = "report.html",
    *,
    pdf: bool = False,
    title: str = "igfsim report",
    interactive: bool = False,
) -> list[Path]:
    """Write ``out`` (HTML) and, with ``pdf=True``, the same figures and tables next to it as ``.pdf``;
    ``interactive`` adds plotly figures (see :func:`render_report`)."""
    text, items = render_report(sections, title=title, pdf=pdf, interactive=interactive)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    written = [out]
    if pdf:
        written.append(write_pdf(items, out.with_suffix(".pdf")))
    return written
