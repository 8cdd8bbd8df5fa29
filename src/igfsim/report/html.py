"""One self-contained HTML report (and optionally a PDF) from the outputs of ``run``, ``validate`` and
``sweep``.

Inputs are run output folders (``<dir>/<scenario>/summary.json`` + ``timecourse.csv``, or one such
scenario folder) and sweep folders (``manifest.json``), read by :mod:`igfsim.report_inputs`, whose
:func:`~igfsim.report_inputs.run_bundled` simulates the bundled
scenarios instead. Every image is an embedded PNG (``data:`` URI), CSS is inline, and the page needs no
network. Each section carries a provenance block: model file and sha256, engine and tolerances,
parameter overrides, seed (sweeps), igfsim and dependency versions, generation date.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
from pathlib import Path

from igfsim.report.inputs import ScenarioSection, SweepSection, overrides, versions

_MARK = {
    "pass": ("✔", "pass", "PASS"),
    "fail": ("✘", "fail", "FAIL"),
    "xpass": ("✘", "fail", "XPASS"),
    "xfail": ("✘", "xfail", "XFAIL (known failure)"),
    "n/a": ("–", "na", "N/A (not expressible)"),
}


# ----------------------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;max-width:1280px;padding:1em 2em;
color:#222;line-height:1.4}
h1{font-size:1.6em;border-bottom:2px solid #444}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #aaa}
h3{font-size:1.05em}section{page-break-before:always}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:2px 6px;
text-align:left;vertical-align:top}th{background:#f0f0f0}
.pass{color:#1a7f1a;font-weight:bold}.fail{color:#c00;font-weight:bold}.xfail{color:#b06000;font-weight:bold}
.na{color:#666}tr.row-fail{background:#fde8e8}.num{text-align:right;font-family:monospace}
.prov{background:#f7f7f7;border:1px solid #ddd;padding:.5em 1em;font-size:.85em;margin-top:1em}
.prov code{word-break:break-all}.note{color:#805000}figure{margin:1em 0}
figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{font-size:.85em;color:#555}
.mech{background:#eef4fb;border-left:4px solid #4a7fb5;padding:.4em 1em}
"""

#: records image load state and script errors on <body> for the browser test (harmless otherwise)
_CHECK_JS = """
(function(){var errs=[];function note(){if(document.body){document.body.dataset.errors=String(errs.length);
document.body.dataset.errorText=errs.join(' | ');}}
window.addEventListener('error',function(e){errs.push(String(e.message||('failed to load '+
((e.target&&e.target.tagName)||'resource'))));note();},true);
var ce=console.error;console.error=function(){errs.push(Array.prototype.join.call(arguments,' '));note();
return ce.apply(console,arguments);};
window.addEventListener('load',function(){var im=document.images,ok=0,sized=0;for(var i=0;i<im.length;i++){
if(im[i].complete&&im[i].naturalWidth>0){ok++;if(im[i].naturalWidth==im[i].getAttribute('width')&&
im[i].naturalHeight==im[i].getAttribute('height'))sized++;}}
document.body.dataset.images=ok+'/'+im.length;document.body.dataset.sized=sized+'/'+im.length;note();});})();
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NaN"
    return f"{x:.4g}" if isinstance(x, (int, float)) else _e(x)


class _Page:
    """Collects HTML parts and, for the PDF, figures and text pages."""

    def __init__(self, pdf: bool):
        self.parts: list[str] = []
        self.pdf_items: list = []  # ("fig", Figure) or ("text", str)
        self.pdf = pdf
        self.n_fig = 0

    def add(self, s: str) -> None:
        self.parts.append(s)

    def figure(self, fig, caption: str) -> None:
        from igfsim.report.figures import to_png

        png = to_png(fig)
        self.n_fig += 1
        self.add(
            f'<figure><img src="data:image/png;base64,{png.data}" width="{png.width}" height="{png.height}" '
            f'alt="{_e(caption)}"><figcaption>Figure {self.n_fig}. {_e(caption)}</figcaption></figure>'
        )
        if self.pdf:
            self.pdf_items.append(("fig", fig))

    def text(self, lines: list[str]) -> None:
        if self.pdf:
            self.pdf_items.append(("text", "\n".join(lines)))


def _provenance(page: _Page, rows: list[tuple[str, str]], vers: dict, date: str) -> list[str]:
    rows = [*rows, ("igfsim and dependencies", ", ".join(f"{k} {v}" for k, v in vers.items())), ("generated", date)]
    page.add(
        '<div class="prov"><b>Provenance</b><table>'
        + "".join(f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in rows)
        + "</table></div>"
    )
    return [f"{k}: {v}" for k, v in rows]


def _expectation_table(page: _Page, exps: list[dict]) -> list[str]:
    if not exps:
        page.add("<p>No expectations in this scenario.</p>")
        return ["(no expectations)"]
    page.add(
        '<table class="expect"><tr><th>#</th><th>verdict</th><th>expectation</th><th>observed</th><th>note</th></tr>'
    )
    lines = []
    for x in exps:
        mark, cls, label = _MARK.get(x.get("verdict"), ("?", "na", str(x.get("verdict"))))
        note = x.get("detail") or x.get("note") or ""
        page.add(
            f'<tr class="row-{cls}" data-verdict="{_e(x.get("verdict"))}"><td>{x.get("index", "")}</td>'
            f'<td class="{cls}" title="{_e(label)}">{mark} {_e(label)}</td><td>{_e(x.get("text", ""))}</td>'
            f'<td class="num observed">{_fmt(x.get("observed"))}</td><td>{_e(note)}</td></tr>'
        )
        lines.append(f"{mark} {label:6s} {x.get('text', '')}  observed {_fmt(x.get('observed'))}")
    page.add("</table>")
    return lines


def _agreement(page: _Page, rep) -> list[str]:
    from igfsim.report.figures import agreement_figure

    lines = [f"Engines: {', '.join(rep.engines)}"]
    page.add("<h3>Engine agreement</h3>")
    if rep.errors:
        page.add("<p class='fail'>" + "; ".join(f"{_e(k)} failed: {_e(v)}" for k, v in rep.errors.items()) + "</p>")
    if rep.ode_max_abs_diff is not None:
        page.add(f"<p>Largest |roadrunner − scipy| over the 0..1 readouts: {rep.ode_max_abs_diff:.2e}</p>")
        lines.append(f"max |roadrunner - scipy| = {rep.ode_max_abs_diff:.2e}")
    table = rep.outcome_table()
    if table:
        engines = list(table[0][1])
        page.add("<table><tr><th>expectation</th>" + "".join(f"<th>{_e(e)}</th>" for e in engines) + "</tr>")
        for text, row in table:
            cells = []
            for e in engines:
                o = row.get(e)
                mark, cls, label = _MARK.get(o.verdict, ("?", "na", o.verdict)) if o else ("", "na", "")
                cells.append(
                    f'<td class="{cls}" title="{_e(o.detail if o else "")}">{mark} {_e(label.split()[0])}'
                    f' <span class="num">{_fmt(o.observed) if o else ""}</span></td>'
                )
            page.add(f"<tr><td>{_e(text)}</td>{''.join(cells)}</tr>")
            lines.append(text + ": " + ", ".join(f"{e} {row[e].verdict}" for e in engines if e in row))
        page.add("</table>")
    if rep.nodes:
        dis = rep.disagreements()
        page.add(
            f"<p>Boolean/ODE agreement (ODE ON at ≥ {rep.threshold:g} of the pool): "
            f"{len(rep.nodes) - len(dis)} of {len(rep.nodes)} arm/readout pairs agree.</p>"
        )
        lines.append(f"Boolean/ODE: {len(rep.nodes) - len(dis)} of {len(rep.nodes)} agree")
        page.figure(agreement_figure(rep), f"{rep.scenario}: Boolean/ODE agreement per arm and readout")
    return lines


def _scenario_section(page: _Page, sec: ScenarioSection, vers: dict, date: str) -> None:
    from igfsim.report.figures import timecourse_figure

    s, sc = sec.summary, sec.scenario
    name = s.get("scenario", "?")
    page.add(f'<section id="{_e(name)}"><h2>{_e(name)}: {_e(s.get("title", ""))}</h2>')
    exps = s.get("expectations", [])
    n_fail = sum(x.get("verdict") in ("fail", "xpass") for x in exps)
    page.add(
        f"<p><b>Claims:</b> {_e(', '.join(s.get('claims') or []) or '–')} · <b>engine</b> "
        f"{_e(s.get('engine'))} · {s.get('passed', 0)} passed, "
        f"<span class='{'fail' if n_fail else 'pass'}'>{n_fail} failed</span>, "
        f"{s.get('known_failures', 0)} known failure(s), {s.get('not_expressible', 0)} N/A</p>"
    )
    text = [f"{name}: {s.get('title', '')}", f"claims {', '.join(s.get('claims') or [])}; engine {s.get('engine')}"]
    if sc is not None and sc.description:
        page.add(f"<p><b>Question.</b> {_e(sc.description)}</p>")
    mech = s.get("mechanism") or {}
    if mech:
        page.add(
            '<div class="mech"><b>Mechanism</b>'
            + (f" ({_e(mech['id'])})" if mech.get("id") else "")
            + (f": {_e(mech['summary'])}" if mech.get("summary") else "")
        )
        if mech.get("model_parts"):
            page.add(
                "<br><b>Model parts:</b><ul>" + "".join(f"<li>{_e(p)}</li>" for p in mech["model_parts"]) + "</ul>"
            )
        if mech.get("by_construction"):
            page.add(f"<p><b>By construction:</b> {_e(mech['by_construction'])}</p>")
        page.add("</div>")
        text.append(f"mechanism: {mech.get('summary') or ''}")
    if s.get("references"):
        page.add("<p><b>References:</b> " + "; ".join(_e(r) for r in s["references"]) + "</p>")
    failed_arms = [(a, v.get("message", "")) for a, v in (s.get("arms") or {}).items() if v.get("status") != "ok"]
    for arm, msg in failed_arms:
        page.add(f"<p class='fail'>✘ arm {_e(arm)} failed to simulate: {_e(msg)}</p>")
    page.add("<h3>Expectations</h3>")
    text += ["", "Expectations:", *_expectation_table(page, exps)]
    page.text(text)
    page.add("<h3>Time courses</h3>")
    if sec.result is not None:
        try:
            page.figure(
                timecourse_figure(sec.result, f"{name} ({sec.result.engine})"),
                f"{name}: every readout over time, one line per arm ({', '.join(sec.result.arms)})",
            )
        except Exception as err:  # noqa: BLE001 - a bad figure becomes a note, the report is still written
            page.add(f"<p class='note'>time-course figure skipped: {_e(err)}</p>")
    else:
        page.add("<p class='note'>no timecourse.csv: no time-course figure</p>")
    if sec.consistency is not None:
        page.text(["Engine agreement", *_agreement(page, sec.consistency)])
    model = s.get("model") or {}
    tol = s.get("tolerances") or {}
    rows = [
        ("scenario source", sec.source),
        ("model file", model.get("path") or "?"),
        ("model sha256", model.get("sha256") or "?"),
        ("engine", s.get("engine", "?")),
        ("tolerances", f"rtol {tol.get('rtol')}, atol {tol.get('atol')}"),
        ("seed", "none (deterministic simulation)"),
    ]
    ov = overrides(sc)
    rows.append(
        ("parameter overrides", " | ".join(ov) if ov else "unknown (scenario file not found)" if sc is None else "none")
    )
    page.text(["", "Provenance:", *_provenance(page, rows, vers, date)])
    page.add("</section>")


def _sweep_section(page: _Page, sec: SweepSection, vers: dict, date: str) -> None:
    from igfsim.report.figures import sweep_figures

    m = sec.sweep.meta
    scen = (sec.spec or {}).get("scenario") or {}
    page.add(
        f'<section id="sweep-{_e(m["scenario"])}"><h2>Sweep {_e(m["scenario"])}'
        + (f": {_e(scen['title'])}" if scen.get("title") else "")
        + "</h2>"
    )
    st = sec.sweep.status
    n_ok = sum(x == "ok" for x in st)
    page.add(
        f"<p>{_e(m['design'])} design, {len(st)} runs ({n_ok} ok"
        + (f", <span class='fail'>{len(st) - n_ok} failed</span>" if n_ok < len(st) else "")
        + f"); arms {_e(', '.join(m['arms']))}; axes "
        + "; ".join(f"{_e(a)} = <code>{_e(t)}</code>" for a, t in zip(m["axes"], m["targets"], strict=True))
        + "</p>"
    )
    text = [f"Sweep {m['scenario']} ({m['design']}, {len(st)} runs, {n_ok} ok)"]
    try:
        figs, notes, rows = sweep_figures(sec.sweep)
    except Exception as err:  # noqa: BLE001
        figs, notes, rows = [], [f"sweep figures skipped: {err}"], []
    for caption, fig in figs:
        page.figure(fig, caption)
    for n in notes:
        page.add(f"<p class='note'>{_e(n)}</p>")
    if rows:
        page.add(
            "<h3>IC50 per readout</h3><table><tr><th>readout</th><th>arm</th><th>metric</th><th>level</th>"
            "<th>IC50 (nM)</th><th>95% CI</th><th>R²</th></tr>"
        )
        for r in rows:
            ci = f"{_fmt(r['ci'][0])} – {_fmt(r['ci'][1])}" if r["converged"] else _e(r["message"])
            page.add(
                f"<tr><td>{_e(r['readout'])}</td><td>{_e(r['arm'])}</td><td>{_e(r['metric'])}</td>"
                f"<td>{_e(r['level'])}</td><td class='num'>{_fmt(r['ic50'])}</td><td>{ci}</td>"
                f"<td class='num'>{_fmt(r['r2'])}</td></tr>"
            )
            text.append(f"{r['readout']} {r['level']}: IC50 {_fmt(r['ic50'])} nM (R2 {_fmt(r['r2'])})")
        page.add("</table>")
    text += notes
    page.text(text)
    spec_sim = scen.get("simulation") or {}
    rows_p = [
        ("sweep folder", str(sec.path)),
        ("model sha256", m.get("model_sha256", "?")),
        ("engine", m.get("engine", "?")),
        ("tolerances", f"rtol {spec_sim.get('rtol', '?')}, atol {spec_sim.get('atol', '?')}"),
        ("seed", str(m.get("seed"))),
        ("spec hash", m.get("spec_hash", "?")),
        (
            "parameter overrides",
            "axes: "
            + ", ".join(m["targets"])
            + (f" | stimulus {json.dumps(scen.get('stimulus'))} | cell {json.dumps(scen.get('cell'))}" if scen else ""),
        ),
    ]
    page.text(["", "Provenance:", *_provenance(page, rows_p, vers, date)])
    page.add("</section>")


def render_report(sections, *, title: str = "igfsim report", pdf: bool = False) -> tuple[str, list]:
    """The HTML text of the report and, with ``pdf=True``, the items of its PDF."""
    vers = versions()
    date = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = _Page(pdf)
    scen = [s for s in sections if isinstance(s, ScenarioSection)]
    sweeps = [s for s in sections if isinstance(s, SweepSection)]
    page.add(
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style>'
        f"<script>{_CHECK_JS}</script></head><body><h1>{_e(title)}</h1>"
    )
    page.add(
        f"<p>Generated {date} by igfsim {_e(vers['igfsim'])}: {len(scen)} scenario run(s), "
        f"{len(sweeps)} sweep(s). ✔ pass · ✘ fail (observed value shown) · XFAIL known failure · "
        "N/A not expressible in that engine.</p>"
    )
    if scen:
        page.add(
            "<table><tr><th>scenario</th><th>engine</th><th>passed</th><th>failed</th><th>XFAIL</th><th>N/A</th></tr>"
        )
        for s in scen:
            d = s.summary
            nf = sum(x.get("verdict") in ("fail", "xpass") for x in d.get("expectations", []))
            page.add(
                f"<tr><td><a href='#{_e(d['scenario'])}'>{_e(d['scenario'])}</a></td><td>{_e(d.get('engine'))}"
                f"</td><td>{d.get('passed', 0)}</td><td class='{'fail' if nf else ''}'>{'✘ ' if nf else ''}{nf}"
                f"</td><td>{d.get('known_failures', 0)}</td><td>{d.get('not_expressible', 0)}</td></tr>"
            )
        page.add("</table>")
    for s in scen:
        _scenario_section(page, s, vers, date)
    for s in sweeps:
        _sweep_section(page, s, vers, date)
    page.add("</body></html>\n")
    return "".join(page.parts), page.pdf_items


def write_pdf(items: list, out: str | Path) -> Path:
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
    sections, out: str | Path = "report.html", *, pdf: bool = False, title: str = "igfsim report"
) -> list[Path]:
    """Write ``out`` (HTML) and, with ``pdf=True``, the same figures and tables next to it as ``.pdf``."""
    text, items = render_report(sections, title=title, pdf=pdf)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    written = [out]
    if pdf:
        written.append(write_pdf(items, out.with_suffix(".pdf")))
    return written
