"""The bundled validation suite: enough independent observations, and docs/validation.md from this model."""

from __future__ import annotations

from pathlib import Path

import pytest

from igfsim.cli import main
from igfsim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "validation"
DOC = ROOT / "docs" / "validation.md"


def _observations():
    return [o for f in sorted(SUITE.glob("*.yaml")) for o in load_scenario(f).observations]


def test_the_suite_has_at_least_15_cited_observations_that_set_no_parameter():
    obs = _observations()
    independent = [o for o in obs if o.anchor is None]
    assert len(independent) >= 15
    assert len({o.id for o in obs}) == len(obs)
    for o in obs:
        assert o.published.citation and o.published.figure and o.published.digitised and o.tolerance_reason


def test_no_catalogue_scenario_is_also_a_validation_file():
    names = {load_scenario(f).name for f in SUITE.glob("*.yaml")}
    catalogue = {load_scenario(f).name for f in (ROOT / "scenarios").glob("*.yaml")}
    assert not names & catalogue


def test_docs_validation_page_is_generated_from_this_model_and_suite(capsys):
    code = main(["validate", str(SUITE), "--doc", str(DOC), "--check", "--quiet"])
    out = capsys.readouterr()
    assert code == 0, (
        f"{out.err}\ndocs/validation.md is stale: run `igfsim validate validation/ --doc docs/validation.md`"
    )


def test_check_fails_on_a_stale_page_and_min_within_fails_below_the_share(tmp_path, capsys):
    page = tmp_path / "validation.md"
    assert main(["validate", str(SUITE / "v02_akt_reporter_half_time.yaml"), "--doc", str(page), "--quiet"]) == 0
    page.write_text(page.read_text() + "edited\n")
    assert main(["validate", str(SUITE / "v02_akt_reporter_half_time.yaml"), "--doc", str(page), "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    code = main(["validate", str(SUITE / "v04_igf1_cell_cycle_entry.yaml"), "--min-within", "1.0", "--quiet"])
    text = capsys.readouterr()
    outcome_line = [ln for ln in text.out.splitlines() if "published observations" in ln][0]
    if outcome_line.startswith("1/1"):
        pytest.skip("V04 is within tolerance for this model; the failing path needs an outside observation")
    assert code == 1 and "fewer than 100 %" in text.err
