"""The bundled model: loads, valid SBML, sourced parameters, ligand specificity."""

from __future__ import annotations

import csv
import shutil

import libsbml
import numpy as np
import pytest
import roadrunner

import igfsim
from igfsim.model.provenance import PROVENANCE_COLUMNS, provenance_path
from igfsim.resources import bundled_model_path


def test_bundled_model_loads(igf_model):
    assert igf_model.species and igf_model.parameters and igf_model.assigned
    assert set(igf_model.compartments) == {"cell", "medium"}
    assert igf_model.sbml.lstrip().startswith("<")
    # cached per file content (not compared with the session fixture: the cache keeps the last 8 models,
    # and tests that ran before may have pushed it out)
    assert igfsim.load_model() is igfsim.load_model()


@pytest.mark.parametrize("readout", list(igfsim.READOUTS))
def test_standard_readouts_are_assigned_ids(igf_model, readout):
    assert igf_model.kind(readout) == "assigned"


def test_sbml_is_consistent(igf_model):
    doc = libsbml.readSBMLFromString(igf_model.sbml)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    serious = [
        f"{e.getSeverityAsString()} {e.getErrorId()}: {e.getMessage().strip()}"
        for e in errors
        if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    assert not serious, "\n".join(serious)


def test_invalid_antimony_gives_model_error():
    with pytest.raises(igfsim.ModelError, match="Antimony"):
        igfsim.load_model_string("model broken\n  A -> ; k*\nend\n", "broken")


def test_missing_model_file_gives_model_error(tmp_path):
    with pytest.raises(igfsim.ModelError, match="cannot read"):
        igfsim.load_model(tmp_path / "nope.antimony")


def test_non_utf8_model_file_gives_model_error(tmp_path):
    path = tmp_path / "latin1.antimony"
    path.write_bytes(b"// caf\xe9\nmodel m\n  species A; A = 1\nend\n")
    with pytest.raises(igfsim.ModelError, match="latin1.antimony"):
        igfsim.load_model(path)


# ----------------------------------------------------------------------------------- provenance


def test_bundled_provenance_matches_model(igf_model):
    issues = igfsim.check_provenance(igf_model)
    assert issues == [], f"{len(issues)} provenance issue(s), first: " + "; ".join(map(str, issues[:5]))


def test_every_provenance_row_has_source_and_unit(igf_model):
    rows = igf_model.provenance
    assert rows, f"no provenance rows loaded (expected {provenance_path(bundled_model_path())})"
    missing = [r.id for r in rows.values() if not r.source.strip() or not r.unit.strip()]
    assert not missing, f"rows without source or unit: {missing}"


@pytest.fixture
def model_copy(tmp_path, igf_model):
    """Write the bundled Antimony into tmp_path with a complete provenance table; return an editor.

    The table is generated from the model's own parameters, so these tests check
    :func:`check_provenance` itself whatever the state of the bundled CSV.
    """
    src = bundled_model_path()
    model_file = tmp_path / src.name
    shutil.copyfile(src, model_file)
    rows = [
        {"id": pid, "value": repr(float(v)), "unit": "1", "meaning": "m", "source": "assumed", "review_refs": ""}
        for pid, v in {**igf_model.parameters, **igf_model.compartments}.items()
    ]

    def write(extra_model_text: str = "", edit_rows=None):
        text = src.read_text(encoding="utf-8")
        if extra_model_text:
            head, sep, tail = text.rpartition("end")
            text = head + extra_model_text + "\n" + sep + tail
        model_file.write_text(text, encoding="utf-8")
        table = [dict(r) for r in rows]
        if edit_rows:
            table = edit_rows(table)
        with provenance_path(model_file).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=PROVENANCE_COLUMNS)
            writer.writeheader()
            writer.writerows(table)
        return igfsim.load_model(model_file)

    return write


def test_complete_provenance_copy_has_no_issues(model_copy):
    model = model_copy()
    assert model.provenance
    assert igfsim.check_provenance(model) == []


def test_parameter_without_row_is_reported(model_copy):
    model = model_copy("  extra_test_param = 3.5")
    issues = igfsim.check_provenance(model)
    assert any("extra_test_param" in str(i) and "no provenance row" in str(i) for i in issues), issues
    assert all(i.where.endswith(".provenance.csv") for i in issues)


def test_row_naming_no_parameter_is_reported(model_copy):
    def add_row(table):
        return table + [
            {"id": "kon_ligg", "value": "1", "unit": "1", "meaning": "m", "source": "assumed", "review_refs": ""}
        ]

    issues = igfsim.check_provenance(model_copy(edit_rows=add_row))
    hits = [str(i) for i in issues if "kon_ligg" in str(i)]
    assert hits and "names no model parameter" in hits[0]
    assert "kon_lig" in hits[0].split("did you mean")[-1]


def test_value_mismatch_is_reported(model_copy):
    def change_value(table):
        for r in table:
            if r["id"] == "kdeg_R":
                r["value"] = repr(float(r["value"]) * 2)
        return table

    issues = igfsim.check_provenance(model_copy(edit_rows=change_value))
    assert [str(i) for i in issues if "kdeg_R" in str(i)], issues
    assert len(issues) == 1


@pytest.mark.parametrize("column", ["source", "unit"])
def test_empty_source_or_unit_is_reported(model_copy, column):
    def blank(table):
        for r in table:
            if r["id"] == "kp_R":
                r[column] = "  "
        return table

    issues = igfsim.check_provenance(model_copy(edit_rows=blank))
    assert len(issues) == 1 and "kp_R" in str(issues[0]) and column in str(issues[0])


# ---------------------------------------------------------------------------- ligand specificity


@pytest.fixture(scope="module")
def kd(igf_model):
    """Effective K_D values (nM) evaluated from the model's assignment rules."""
    rr = roadrunner.RoadRunner(igf_model.sbml)
    return lambda name: float(rr[name])


def test_igf1r_prefers_igf1_over_insulin(kd):
    assert kd("Kd_R11_insulin") / kd("Kd_R11_IGF1") >= 100


def test_ir_a_binds_insulin_and_igf2_alike(kd):
    ratio = kd("Kd_RAA_IGF2") / kd("Kd_RAA_insulin")
    assert 1 / 5 <= ratio <= 5


def test_ir_b_prefers_insulin_over_igf2(kd):
    assert kd("Kd_RBB_IGF2") / kd("Kd_RBB_insulin") >= 10


def test_hybrids_prefer_igf1_over_insulin(kd):
    for hybrid in ("H1A", "H1B"):
        assert kd(f"Kd_{hybrid}_insulin") / kd(f"Kd_{hybrid}_IGF1") >= 20


def test_default_cell_at_rest_has_its_nominal_receptor_amounts():
    """FOXO_ref is calibrated so that the ligand-free default cell holds the nominal copy numbers."""
    sc = igfsim.parse_scenario(
        {
            "name": "rest",
            "title": "ligand-free default cell",
            "simulation": {"duration_min": 1, "points": 2},
            "readouts": ["IGF1R_total", "InsR_total", "FOXO"],
            "arms": [{"name": "rest"}],
        },
        "rest",
    )
    res = igfsim.run_scenario(sc)
    assert res.get("rest", "IGF1R_total")[0] == pytest.approx(1.0, abs=1e-3)
    assert res.get("rest", "InsR_total")[0] == pytest.approx(1.0, abs=1e-3)
    assert res.get("rest", "FOXO")[0] > 0.9


COMP_MODEL = """
model sub()
  A -> B; k*A
  k = 0.5; A = 10; B = 0
end
model main()
  s1: sub()
  s2: sub()
end
"""


@pytest.mark.parametrize("engine", ["roadrunner", "scipy"])
def test_a_hierarchical_comp_model_is_flattened_not_read_as_its_top_level(tmp_path, engine):
    """An SBML file with model composition (comp) is flattened by libsbml before any engine sees it: both
    submodels' reactions run. Before, the engines read the (empty) top-level model only."""
    import antimony

    from igfsim.scenario.loading import parse_scenario

    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(COMP_MODEL) >= 0
    path = tmp_path / "comp.xml"
    path.write_text(antimony.getCompSBMLString("main"), encoding="utf-8")
    model = igfsim.load_model(path)
    assert set(model.species) == {"s1__A", "s1__B", "s2__A", "s2__B"}
    scenario = parse_scenario(
        {
            "name": "comp",
            "title": "two decaying submodels",
            "simulation": {"duration_min": 4, "points": 5, "preequilibrate": False},
            "readouts": ["s1__A", "s2__B"],
            "arms": [{"name": "only"}],
        }
    )
    res = igfsim.run_scenario(scenario, model, engine=engine)
    t = np.linspace(0, 4, 5)
    np.testing.assert_allclose(res.get("only", "s1__A"), 10 * np.exp(-0.5 * t), rtol=1e-5)
    np.testing.assert_allclose(res.get("only", "s2__B"), 10 * (1 - np.exp(-0.5 * t)), rtol=1e-5, atol=1e-8)


def test_a_model_that_requires_an_unsupported_package_is_refused(tmp_path):
    import libsbml

    doc = libsbml.SBMLDocument(3, 2)
    doc.enablePackage(libsbml.DistribExtension.getXmlnsL3V1V1(), "distrib", True)
    doc.setPackageRequired("distrib", True)
    m = doc.createModel()
    m.setId("m")
    c = m.createCompartment()
    c.setId("c")
    c.setSize(1)
    c.setConstant(True)
    path = tmp_path / "distrib.xml"
    path.write_text(libsbml.writeSBMLToString(doc), encoding="utf-8")
    with pytest.raises(igfsim.ModelError, match=r"distrib.xml: the model requires the SBML package\(s\) distrib"):
        igfsim.load_model(path)
