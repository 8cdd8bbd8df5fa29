"""The report as a person sees it: rendered in headless Chromium, every image loaded at its size, no
script or console error, and a non-blank screenshot.

Shipped reports carry no script; the test writes a copy of the report with :data:`PROBE` added to its
``<head>`` (so its listeners are in place before any image starts to load) and reads what the probe
recorded on ``<body>`` from ``--dump-dom``."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from igfsim.cli import main

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,  # a browser: seconds each
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (.ci/run installs Debian's chromium)"
    ),
]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",
]


#: records on <body> how many images decoded (data-images), how many at the width/height the page states
#: (data-sized), and every script error, failed resource and console error (data-errors, data-error-text)
PROBE = """<script>
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
</script>
"""


def _with_probe(report: Path, out: Path) -> Path:
    """A copy of ``report`` with :data:`PROBE` as the last element of its ``<head>``."""
    text = report.read_text(encoding="utf-8")
    assert text.count("</head>") == 1, "the report has no single </head> to put the probe in"
    out.write_text(text.replace("</head>", PROBE + "</head>"), encoding="utf-8")
    return out


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _png_pixels(path: Path) -> np.ndarray:
    """The screenshot as an (h, w, channels) array (Pillow comes with matplotlib)."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    from igfsim.resources import bundled_scenarios_dir

    assert main(
        [
            "run",
            str(bundled_scenarios_dir() / "c16_ligand_specificity.yaml"),
            "--out",
            str(folder / "run"),
            "--quiet",
            "--no-png",
        ]
    ) in (0, 1)
    out = folder / "report.html"
    assert main(["report", str(folder / "run"), "--out", str(out)]) == 0
    return out


def test_page_loads_with_all_images(report, tmp_path):
    text = report.read_text(encoding="utf-8")
    n_img = text.count("<img ")
    assert n_img >= 1
    assert "<script" not in text  # the probe is the test's, not part of the shipped report
    probed = _with_probe(report, tmp_path / "probed.html")
    res = _chromium(tmp_path, "--dump-dom", probed.as_uri())
    body = re.search(r"<body[^>]*>", res.stdout)
    assert body, f"no DOM dumped; stderr:\n{res.stderr[-2000:]}"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(0)))
    assert attrs.get("images") == f"{n_img}/{n_img}", attrs  # every image decoded (naturalWidth > 0)
    assert attrs.get("sized") == f"{n_img}/{n_img}", attrs  # at the width/height the page states
    assert attrs.get("errors") == "0", attrs.get("error-text")
    assert "Uncaught" not in res.stderr


def test_screenshot_not_blank(report, tmp_path):
    shot = tmp_path / "shot.png"
    res = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri())
    assert shot.exists(), res.stderr[-2000:]
    w, h = struct.unpack(">II", shot.read_bytes()[16:24])
    assert (w, h) == (1280, 2000)
    px = _png_pixels(shot)[::4, ::4, :3]  # every 4th pixel is plenty
    assert px.std() > 10  # not a blank page
    # the figure area holds coloured (non-grey) line pixels: arm colours drawn, not an empty box
    rgb = px.astype(int)
    colourful = (np.abs(rgb[..., 0] - rgb[..., 1]) > 60) | (np.abs(rgb[..., 1] - rgb[..., 2]) > 60)
    assert colourful.sum() > 50


def test_interactive_figures_render_offline_without_script_errors(report, tmp_path):
    """``--interactive``: plotly.js is embedded (no network), each scenario gets a plot that the browser
    draws (plotly's SVG in the DOM), and nothing raises or logs an error."""
    out = tmp_path / "interactive.html"
    assert main(["report", str(report.parent / "run"), "--out", str(out), "--interactive"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "<script src=" not in text and text.count('id="plot-c16_ligand_specificity"') == 1  # nothing fetched
    probed = _with_probe(out, tmp_path / "probed.html")
    res = _chromium(tmp_path, "--dump-dom", probed.as_uri())
    body = re.search(r"<body[^>]*>", res.stdout)
    assert body, f"no DOM dumped; stderr:\n{res.stderr[-2000:]}"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(0)))
    assert attrs.get("errors") == "0", attrs.get("error-text")
    assert "js-plotly-plot" in res.stdout and "main-svg" in res.stdout  # plotly drew the figure
    assert res.stdout.count('class="scatterlayer') >= 1
