"""Drug and cell catalogues as data: the bundled files, users' files merged over them, and their errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import igfsim
from igfsim.cli import main
from igfsim.errors import CatalogError, ScenarioError
from igfsim.scenario.catalog import BUNDLED_FILES, bundled_catalog, load_catalog
from igfsim.scenario.checks import drug_problem, validate_scenario
from igfsim.scenario.loading import load_scenario, parse_scenario, with_catalogs
from igfsim.scenario.translate import build_protocol

ROOT = Path(__file__).resolve().parents[2]
USER_CATALOG = ROOT / "examples" / "catalog" / "my_catalog.yaml"


def _scenario(catalog: tuple[str, ...] = (), **cell) -> igfsim.Scenario:
    return parse_scenario(
        {
            "name": "user_drug",
            "title": "a drug and a context from a user catalogue",
            "catalog": list(catalog),
            "simulation": {"duration_min": 30, "points": 31},
            "cell": {"context": "MCF7", **cell},
            "stimulus": {"EGF": 1.0},
            "readouts": ["pEGFR", "pERK"],
            "arms": [
                {"name": "control"},
                {"name": "gefitinib", "treatments": [{"drug": "Iressa", "dose_nM": 1000, "start_min": -60}]},
            ],
        }
    )


def test_every_bundled_drug_fits_a_mode_of_action_of_the_bundled_model(igf_model):
    catalog = bundled_catalog()
    assert catalog.files == tuple(str(f) for f in BUNDLED_FILES)
    assert len(catalog.drugs) == 16 and len(catalog.contexts) == 15
    assert [d.name for d in catalog.drugs.values() if drug_problem(d, igf_model)] == []
    assert {d.mode_of_action for d in catalog.drugs.values()} == set(igf_model.mapping.modes_of_action)
    # the public names are views of the same catalogue
    assert igfsim.find_drug("imc-a12") is catalog.drugs["cixutumumab"]
    assert igfsim.CONTEXTS is catalog.contexts or dict(igfsim.CONTEXTS) == dict(catalog.contexts)


def test_a_scenario_runs_a_drug_and_a_context_that_only_a_user_catalogue_has(igf_model):
    with pytest.raises(ScenarioError) as err:
        validate_scenario(_scenario(), igf_model, "s.yaml")
    text = str(err.value)
    assert "unknown cell context 'MCF7'" in text and "unknown drug 'Iressa'" in text  # both problems at once

    scenario = _scenario((str(USER_CATALOG),))
    res = igfsim.run_scenario(scenario, igf_model)
    control, treated = res.get("control", "pEGFR"), res.get("gefitinib", "pEGFR")
    assert control[-1] > 0.05 and treated[-1] < 0.2 * control[-1]  # 1 uM gefitinib (K_i 33 nM) blocks EGFR
    overrides = build_protocol(igf_model, scenario, scenario.arms[1]).overrides
    assert overrides["Ki_EGFRi"] == 33 and overrides["ER_level"] == 1.0 and overrides["expr_InsR_B"] == 0.0


def test_catalog_paths_are_relative_to_the_file_that_names_them(tmp_path, igf_model):
    (tmp_path / "cat").mkdir()
    shutil.copy(USER_CATALOG, tmp_path / "cat" / "mine.yaml")
    f = tmp_path / "s.yaml"
    f.write_text(_scenario(("cat/mine.yaml",)).model_dump_json(), encoding="utf-8")
    scenario = load_scenario(f)
    assert scenario.catalog == (str((tmp_path / "cat" / "mine.yaml").resolve()),)
    validate_scenario(scenario, igf_model, str(f))
    # the command line's catalogues come after the scenario's own
    assert with_catalogs(scenario, [USER_CATALOG]).catalog == (*scenario.catalog, str(USER_CATALOG))


def _user(tmp_path: Path, text: str, name: str = "user.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_a_name_or_alias_already_taken_is_refused_naming_both_files(tmp_path):
    p = _user(
        tmp_path,
        "drugs:\n"
        "  ganitumab: {mode_of_action: anti-IGF1R-mAb, potency: {Kd_mAb_IGF1R: 1}, source: mine}\n"
        "  newmab: {mode_of_action: anti-IGF1R-mAb, potency: {Kd_mAb_IGF1R: 1}, source: mine, aliases: [amg479]}\n"
        "contexts:\n"
        "  default: {description: mine, source: mine}\n",
    )
    with pytest.raises(CatalogError) as err:
        load_catalog([p])
    issues = {i.where: i.message for i in err.value.issues}
    assert set(issues) == {"drugs.ganitumab", "drugs.newmab.aliases", "contexts.default"}
    assert "replaces: true" in issues["drugs.ganitumab"] and "drugs.yaml" in issues["drugs.ganitumab"]
    assert "alias of drug 'ganitumab'" in issues["drugs.newmab.aliases"]
    assert str(p) in str(err.value)


def test_replaces_redefines_a_bundled_entry_and_must_name_one(tmp_path, igf_model):
    p = _user(
        tmp_path,
        "drugs:\n  ganitumab: {mode_of_action: anti-IGF1R-mAb, potency: {Kd_mAb_IGF1R: 2.5}, source: my SPR, "
        "replaces: true}\n",
    )
    cat = load_catalog([p])
    assert cat.drugs["ganitumab"].potency["Kd_mAb_IGF1R"] == 2.5 and cat.drugs["ganitumab"].origin == str(p)
    assert cat.find_drug("AMG 479") is None  # the replaced entry's aliases go with it
    assert bundled_catalog().drugs["ganitumab"].potency["Kd_mAb_IGF1R"] == 0.22  # the bundled one is untouched
    bad = _user(tmp_path, "contexts:\n  nowhere: {description: x, source: y, replaces: true}\n", "bad.yaml")
    with pytest.raises(CatalogError, match="no catalogue read before .* has a context 'nowhere'"):
        load_catalog([bad])


def test_every_shape_problem_of_a_catalogue_file_is_reported_at_once(tmp_path):
    p = _user(
        tmp_path,
        "drugs:\n"
        "  a: {mode_of_action: dual-TKI, potency: {Ki_dual_IGF1R: -1, Ki_dual_InsR: .nan}, source: x}\n"
        "  b: {mode_of_action: dual-TKI, potency: {}}\n"
        "contexts:\n"
        "  c: {description: x, source: y, expresion: {IGF1R: 2}}\n"
        "cell_lines: {}\n",
    )
    with pytest.raises(CatalogError) as err:
        load_catalog([p])
    wheres = sorted(i.where for i in err.value.issues)
    assert wheres == ["cell_lines", "contexts.c.expresion", "drugs.a.potency", "drugs.b.source"], wheres
    assert "did you mean 'expression'" in str(err.value) and "> 0" in str(err.value)


def test_a_drug_whose_mode_of_action_the_model_lacks_is_refused_with_the_modes_it_has(igf_model):
    scenario = parse_scenario(
        {
            "name": "akt",
            "title": "an Akt inhibitor on the bundled model",
            "catalog": [str(USER_CATALOG)],
            "arms": [{"name": "capi", "treatments": [{"drug": "capivasertib", "dose_nM": 100}]}],
        }
    )
    with pytest.raises(ScenarioError) as err:
        validate_scenario(scenario, igf_model, "s.yaml")
    text = str(err.value)
    assert "'AKT-inhibitor', which is not a mode of action of" in text and "igf1r.mapping.yaml" in text
    assert "dual-TKI" in text and str(USER_CATALOG) in text


def test_cli_catalog_option_reaches_run_and_list(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text(_scenario().model_dump_json(), encoding="utf-8")
    assert main(["run", str(f), "--out", str(tmp_path / "o"), "--no-png"]) == 2
    assert "unknown drug 'Iressa'" in capsys.readouterr().err
    assert main(["run", str(f), "--out", str(tmp_path / "o"), "--no-png", "--catalog", str(USER_CATALOG)]) == 0
    out = np.genfromtxt(tmp_path / "o" / "user_drug" / "timecourse.csv", delimiter=",", names=True, dtype=None)
    assert len(out) > 0
    capsys.readouterr()
    assert main(["list", "drugs", "--catalog", str(USER_CATALOG)]) == 0
    listed = capsys.readouterr().out
    assert "gefitinib (ZD1839, Iressa)" in listed and str(USER_CATALOG) in listed
    assert "capivasertib" in listed and "AKT-inhibitor (no slot)" in listed


def test_docs_catalog_page_is_generated_from_the_catalogue_and_up_to_date(tmp_path):
    from igfsim.model.mapping import bundled_mapping
    from igfsim.report.catalog_doc import render_catalog_md

    page = ROOT / "docs" / "catalog.md"
    text = render_catalog_md(bundled_catalog(), bundled_mapping())
    assert page.read_text(encoding="utf-8") == text, "docs/catalog.md is stale: run `igfsim docs`"
    rows = [line.split(" | ")[0].strip("| ") for line in text.splitlines() if line.startswith("| ")]
    assert set(bundled_catalog().drugs) | set(bundled_catalog().contexts) <= set(rows)
    assert main(["docs", "--out", str(tmp_path / "mechanisms.md"), "--catalog", str(USER_CATALOG)]) == 0
    mine = (tmp_path / "catalog.md").read_text(encoding="utf-8")
    assert "| gefitinib | ZD1839, Iressa | EGFR-inhibitor: EGFR kinase inhibitor | Ki_EGFRi 33 |" in mine
    assert "| MCF7 |" in mine
