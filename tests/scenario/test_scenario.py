"""Scenario files: the bundled ones are valid; every bad input is reported with file and dotted key."""

from __future__ import annotations

import copy

import pytest
import yaml

import igfsim
from igfsim.resources import bundled_scenarios_dir

BUNDLED = sorted(bundled_scenarios_dir().glob("*.yaml"))


def test_there_are_bundled_scenarios():
    assert BUNDLED


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenario_is_valid(igf_model, path):
    sc = igfsim.load_scenario(path)
    assert igfsim.check_scenario(sc, igf_model) == []
    assert sc.expect, "a bundled scenario should check something"
    assert path.stem == sc.name


def test_minimal_scenario_is_valid(igf_model, minimal_scenario_dict):
    sc = igfsim.parse_scenario(minimal_scenario_dict, "minimal.yaml")
    assert igfsim.check_scenario(sc, igf_model) == []
    assert [a.name for a in sc.arms] == ["control", "cixutumumab"]
    assert sc.selected_readouts() == list(igfsim.READOUTS)


def _mutations():
    """(id, mutate(dict), dotted key expected in the message, text expected in the message)."""

    def arm1_tr(d):
        return d["arms"][1]["treatments"][0]

    def rename(d, old, new):
        d[new] = d.pop(old)

    return [
        ("unknown top-level key", lambda d: rename(d, "stimulus", "stimulis"), "stimulis", "did you mean 'stimulus'"),
        (
            "unknown arm key",
            lambda d: d["arms"][1].update(treatment=[]),
            "arms[1].treatment",
            "did you mean 'treatments'",
        ),
        ("unknown treatment key", lambda d: arm1_tr(d).update(dose=1), "arms[1].treatments[0].dose", "unknown key"),
        (
            "unknown simulation key",
            lambda d: d["simulation"].update(duration=5),
            "simulation.duration",
            "did you mean 'duration_min'",
        ),
        (
            "unknown drug",
            lambda d: arm1_tr(d).update(drug="cixutumumb"),
            "arms[1].treatments[0].drug",
            "did you mean 'cixutumumab'",
        ),
        (
            "unknown readout in expect",
            lambda d: d["expect"][0].update(readout="pIGFR1"),
            "expect[0].readout",
            "did you mean 'pIGF1R'",
        ),
        (
            "unknown readout in readouts",
            lambda d: d.update(readouts=["pAkt", "pAKT1"]),
            "readouts[1]",
            "unknown readout",
        ),
        (
            "unknown context",
            lambda d: d.update(cell={"context": "InsR-A-hgh"}),
            "cell.context",
            "did you mean 'InsR-A-high'",
        ),
        (
            "unknown arm context",
            lambda d: d["arms"][0].update(cell={"context": "integrin-hi"}),
            "arms[0].cell.context",
            "did you mean 'integrin-high'",
        ),
        (
            "unknown expression key",
            lambda d: d.update(cell={"expression": {"IGF1r": 2}}),
            "cell.expression.IGF1r",
            "did you mean 'IGF1R'",
        ),
        (
            "unknown species in initial",
            lambda d: d.update(cell={"initial": {"Akt_PP": 1}}),
            "cell.initial.Akt_PP",
            "unknown species",
        ),
        (
            "unknown parameter",
            lambda d: d.update(cell={"parameters": {"kdeg_Rx": 1}}),
            "cell.parameters.kdeg_Rx",
            "did you mean 'kdeg_R'",
        ),
        (
            "rule id as parameter",
            lambda d: d.update(cell={"parameters": {"pAkt": 1}}),
            "cell.parameters.pAkt",
            "computed by a rule",
        ),
        ("unknown stimulus species", lambda d: d.update(stimulus={"IGF3": 1}), "stimulus.IGF3", "did you mean 'IGF2'"),
        ("negative dose", lambda d: arm1_tr(d).update(dose_nM=-1), "arms[1].treatments[0].dose_nM", ">= 0"),
        ("non-numeric dose", lambda d: arm1_tr(d).update(dose_nM="lots"), "arms[1].treatments[0].dose_nM", "'lots'"),
        (
            "vs names a missing arm",
            lambda d: d["expect"][0].update(vs="contrl"),
            "expect[0].vs",
            "did you mean 'control'",
        ),
        (
            "stop before start",
            lambda d: arm1_tr(d).update(start_min=10, stop_min=5),
            "arms[1].treatments[0]",
            "stop_min",
        ),
        (
            "option for the wrong drug",
            lambda d: arm1_tr(d).update(drug="linsitinib", binds_hybrids=True),
            "arms[1].treatments[0].binds_hybrids",
            "does not apply",
        ),
        (
            "two drugs in one slot",
            lambda d: d["arms"][1]["treatments"].append({"drug": "ganitumab", "dose_nM": 1}),
            "arms[1].treatments[1].drug",
            "same model slot",
        ),
        ("unknown metric", lambda d: d["expect"][0].update(metric="area"), "expect[0].metric", "unknown metric"),
        ("missing title", lambda d: d.pop("title"), "title", "required"),
        (
            "fragile_under not a parameter and a factor",
            lambda d: d["expect"][0].update(fragile_under=["k_dp_fast*2"]),
            "expect[0].fragile_under",
            "like 'k_dp_fast x0.5'",
        ),
        (
            "fragile_under names an unknown parameter",
            lambda d: d["expect"][0].update(fragile_under=["k_dp_fsat x2"]),
            "expect[0].fragile_under",
            "did you mean 'k_dp_fast'",
        ),
    ]


MUTATIONS = _mutations()


@pytest.fixture
def scenario_dict(minimal_scenario_dict):
    d = copy.deepcopy(minimal_scenario_dict)
    d["expect"] = [
        {"readout": "pIGF1R", "metric": "at_15", "arm": "cixutumumab", "vs": "control", "op": "<=", "value": 0.5}
    ]
    return d


@pytest.mark.parametrize(("mutate", "key", "text"), [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_bad_input_names_file_and_key(igf_model, tmp_path, write_yaml, scenario_dict, mutate, key, text):
    mutate(scenario_dict)
    path = write_yaml(tmp_path, yaml.safe_dump(scenario_dict, sort_keys=False), "bad_input.yaml")
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.run_scenario(path, igf_model)
    err = info.value
    msg = str(err)
    assert err.path == str(path)
    assert f"{path}: {key}: " in msg, msg
    assert text in msg, msg
    assert any(i.where == key for i in err.issues), [i.where for i in err.issues]


def test_duplicate_arm_names_point_at_arms(tmp_path, write_yaml, scenario_dict):
    scenario_dict["arms"][1]["name"] = "control"
    path = write_yaml(tmp_path, yaml.safe_dump(scenario_dict, sort_keys=False), "dups.yaml")
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and "'control'" in msg and "unique" in msg
    wheres = [i.where for i in info.value.issues]
    assert any(w.startswith("arms") for w in wheres), f"issue located at {wheres}, not at the arms key: {msg}"


def test_malformed_yaml_reports_line(tmp_path, write_yaml):
    path = write_yaml(tmp_path, "name: x\ntitle: y\narms:\n  - name: a\n   - name: b\n", "broken.yaml")
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.load_scenario(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: line 5") and "malformed YAML" in msg, msg


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "42\n"], ids=["empty", "list", "scalar"])
def test_non_mapping_file_is_reported(tmp_path, write_yaml, text):
    path = write_yaml(tmp_path, text, "notamap.yaml")
    with pytest.raises(igfsim.ScenarioError, match="expected a mapping"):
        igfsim.load_scenario(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(igfsim.ScenarioError, match="cannot read file") as info:
        igfsim.load_scenario(tmp_path / "nope.yaml")
    assert info.value.path.endswith("nope.yaml")


def test_non_utf8_file_is_reported(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: x\ntitle: caf\xe9\narms:\n  - name: a\n")
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.load_scenario(path)
    assert str(path) in str(info.value)


def test_all_shape_problems_reported_at_once(tmp_path, write_yaml, scenario_dict):
    scenario_dict["stimulis"] = scenario_dict.pop("stimulus")
    scenario_dict["arms"][0]["colour"] = "red"
    scenario_dict["arms"][1]["treatments"][0]["dose_nM"] = -5
    path = write_yaml(tmp_path, yaml.safe_dump(scenario_dict, sort_keys=False), "many.yaml")
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.load_scenario(path)
    wheres = {i.where for i in info.value.issues}
    assert wheres == {"stimulis", "arms[0].colour", "arms[1].treatments[0].dose_nM"}
    msg = str(info.value)
    assert msg.startswith("3 problem(s)") and msg.count(f"{path}: ") == 3


def test_all_name_problems_reported_at_once(igf_model, tmp_path, write_yaml, scenario_dict):
    scenario_dict["cell"] = {"context": "InsR-A-hgh", "parameters": {"kdeg_Rx": 1}}
    scenario_dict["arms"][1]["treatments"][0]["drug"] = "cixutumumb"
    scenario_dict["expect"][0]["readout"] = "pIGFR1"
    scenario_dict["expect"][0]["vs"] = "contrl"
    path = write_yaml(tmp_path, yaml.safe_dump(scenario_dict, sort_keys=False), "names.yaml")
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.run_scenario(path, igf_model)
    wheres = {i.where for i in info.value.issues}
    assert wheres == {
        "cell.context",
        "cell.parameters.kdeg_Rx",
        "arms[1].treatments[0].drug",
        "expect[0].readout",
        "expect[0].vs",
    }


def test_parse_scenario_names_the_source():
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.parse_scenario({"name": "x", "title": "t", "arms": []}, "inline-source")
    assert str(info.value).startswith("inline-source: arms: ")


def test_drug_aliases_are_accepted(igf_model, scenario_dict):
    scenario_dict["arms"][1]["treatments"][0]["drug"] = "IMC-A12"
    sc = igfsim.parse_scenario(scenario_dict, "alias")
    assert igfsim.check_scenario(sc, igf_model) == []
    assert igfsim.find_drug("imc-a12").name == "cixutumumab"


def test_expectation_shapes_are_checked(scenario_dict):
    bad = [
        {"readout": "pAkt", "metric": "auc", "arm": "control", "op": "between", "value": 1},
        {"readout": "pAkt", "metric": "auc", "arm": "control", "op": ">=", "value": [0, 1]},
        {
            "readout": "pAkt",
            "metric": "auc",
            "trend": "increasing",
            "arms": ["control", "cixutumumab"],
            "op": ">=",
            "value": 0.8,
        },
        {"readout": "pAkt", "metric": "auc", "op": ">=", "value": 0.8},
    ]
    scenario_dict["expect"] = bad
    with pytest.raises(igfsim.ScenarioError) as info:
        igfsim.parse_scenario(scenario_dict, "shapes.yaml")
    assert {i.where for i in info.value.issues} == {f"expect[{i}]" for i in range(len(bad))}
