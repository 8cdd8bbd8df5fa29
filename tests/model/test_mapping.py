"""Model mapping files: what a scenario may name in a model, checked against the model's ids."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

import igfsim
from igfsim.errors import MappingError
from igfsim.model.mapping import SlotKind, bundled_mapping, load_mapping, mapping_path

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "examples" / "models" / "igf1r_akt_mini.antimony"


def test_the_bundled_mapping_names_ids_of_the_bundled_model(igf_model):
    m = igf_model.mapping
    assert m.source == str(mapping_path(igf_model.path)) and m == bundled_mapping()
    assert len(m.readouts) == 18 and m.readouts["PROLIF"].unit == "index 0..1"
    assert m.drug_slots["mAb_IGF1R"] is SlotKind.SPECIES and m.drug_slots["TKI_dual"] is SlotKind.PARAMETER
    assert m.boolean is not None and m.boolean.bnet.name == "igf1r.bnet" and m.boolean.bnet.is_file()
    assert set(m.expression.values()) <= set(igf_model.parameters)
    assert set(igfsim.READOUTS) == set(m.readouts)


def test_a_model_without_a_mapping_file_has_an_empty_mapping(tmp_path):
    shutil.copy(MINI, tmp_path / "toy.antimony")
    model = igfsim.load_model(tmp_path / "toy.antimony")
    assert model.mapping.source == "" and not model.mapping.readouts and model.mapping.boolean is None
    assert "no mapping file" in model.mapping.what()


def test_mapping_ids_the_model_lacks_are_all_reported_with_the_file(tmp_path):
    shutil.copy(MINI, tmp_path / "toy.antimony")
    mapping = tmp_path / "toy.mapping.yaml"
    mapping.write_text(
        "readouts:\n  pERK: {description: not in this model}\n"
        "expression:\n  IGF1R: expr_IGF1RR\n"
        "modes_of_action:\n"
        "  mab: {description: x, slot: R, kind: species, potency: [Kd_nope]}\n"
        "  tki: {description: x, slot: TKI_IGF1R, kind: parameter, options: {binds_hybrids: no_such}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as err:
        igfsim.load_model(tmp_path / "toy.antimony")
    wheres = sorted(i.where for i in err.value.issues)
    assert wheres == [
        "expression.IGF1R",
        "modes_of_action.mab.potency",
        "modes_of_action.mab.slot",
        "modes_of_action.tki.options.binds_hybrids",
        "readouts.pERK",
    ]
    assert str(mapping) in str(err.value) and "compartment 'medium'" in str(err.value)  # R is a cell species


def test_shape_problems_of_a_mapping_file_are_all_reported(tmp_path):
    p = tmp_path / "m.mapping.yaml"
    p.write_text(
        "readout: {}\n"
        "modes_of_action:\n"
        "  a: {description: x, slot: s, kind: liquid, options: {glows: p}}\n"
        "  b: {description: x, slot: s, kind: parameter}\n"
        "boolean: {bnet: missing.bnet, nodes: {pAkt: AKT}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as err:
        load_mapping(p)
    wheres = sorted(i.where for i in err.value.issues)
    assert wheres == ["modes_of_action.a.kind", "modes_of_action.a.options", "readout"], err.value
    p.write_text(
        "modes_of_action:\n"
        "  a: {description: x, slot: s, kind: parameter}\n"
        "  b: {description: x, slot: s, kind: parameter}\n"
        "boolean: {bnet: missing.bnet, nodes: {pAkt: AKT}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as err:
        load_mapping(p)
    assert sorted(i.where for i in err.value.issues) == ["boolean.bnet", "boolean.nodes", "modes_of_action.b.slot"]


def test_a_mapping_travels_to_worker_processes():
    m = igfsim.load_model(MINI).mapping
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.modes_of_action["AKT-inhibitor"].slot == "AKTi"
    model = igfsim.load_model_string(igfsim.load_model(MINI).sbml, "worker copy", mapping=back)
    assert model.mapping is back


def test_an_explicit_mapping_file_must_exist(tmp_path):
    with pytest.raises(MappingError, match="cannot read file"):
        igfsim.load_model(MINI, mapping=tmp_path / "nope.yaml")
