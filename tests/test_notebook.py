"""The example notebook runs top to bottom (nbclient), so it never goes stale."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a child process or a notebook kernel: seconds each

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "igfsim_tour.ipynb"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_example_notebook_executes_and_draws_its_figures():
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3").execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "dose-response, synergy and sensitivity figures"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "IC50 (nM) of pAkt" in text and "linsitinib IC50 shift" in text and "Bliss excess" in text


CALIBRATION_NOTEBOOK = NOTEBOOK.parent / "calibrate_your_data.ipynb"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_calibration_notebook_goes_from_a_csv_to_a_fit_and_verdicts():
    """docs/calibration.md's user path: a blot CSV -> data scenario -> fit -> fit plot -> C01 in that cell."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(CALIBRATION_NOTEBOOK, as_version=4)
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "the fit figure"
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "negative log-likelihood: bundled" in text and "calibrated cell:" in text
    assert text.count(" | ") >= 5  # one verdict line per C01 expectation
