"""`igfsim export`: SBML passes libsbml's checks; bnet and SBML-qual load in CoLoMoTo tooling and keep the dynamics."""

from __future__ import annotations

import warnings

import libsbml
import numpy as np
import pytest

from igfsim.cli import main
from igfsim.engines.boolean import attractors
from igfsim.export.models import read_sbml_qual_rules, rule_to_l3_formula
from igfsim.model.bnet import load_bnet, parse_bnet
from igfsim.resources import bundled_bnet_path


@pytest.fixture(scope="module")
def network():
    return load_bnet(bundled_bnet_path())


def _errors(doc) -> list[str]:
    return [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]


def test_sbml_export_passes_libsbml_consistency(tmp_path, capsys):
    out = tmp_path / "m.xml"
    assert main(["export", "--format", "sbml", "--out", str(out)]) == 0
    doc = libsbml.readSBMLFromFile(str(out))
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    assert not _errors(doc)
    assert doc.getModel().getNumSpecies() > 50 and doc.getModel().getTimeUnits() == "time_unit"


def test_sbml_qual_export_is_valid_and_round_trips(tmp_path, network):
    out = tmp_path / "q.xml"
    assert main(["export", "--format", "sbml-qual", "--out", str(out)]) == 0
    doc = libsbml.readSBMLFromFile(str(out))
    doc.checkConsistency()
    assert not _errors(doc)
    assert doc.getModel().getPlugin("qual").getNumQualitativeSpecies() == len(network.nodes)
    rules = read_sbml_qual_rules(out)
    back = parse_bnet("targets, factors\n" + "".join(f"{n}, {rules[n]}\n" for n in network.nodes), "roundtrip")
    states = np.random.default_rng(1).random((len(network.nodes), 4000)) < 0.5
    np.testing.assert_array_equal(back.update(states), network.update(states))


def test_bnet_export_loads_in_mpbn_and_its_attractors_are_traps_of_igfsim_dynamics(tmp_path, network):
    """mpbn reads the exported file; each attractor it finds is a trap space of igfsim's own update."""
    import mpbn

    out = tmp_path / "e.bnet"
    assert main(["export", "--format", "bnet", "--out", str(out)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        mbn = mpbn.MPBooleanNetwork(str(out))
    assert set(mbn) == set(network.nodes)
    configs = [
        {"IGF1_ext": 1},
        {"IGF2_ext": 1, "insulin_ext": 1},
        {"IGF1_ext": 1, "mAb_IGF1R": 1},
        {"IGF1_ext": 1, "TKI_dual": 1},
        {},
    ]
    rng = np.random.default_rng(0)
    seen = 0
    for inputs in configs:
        # every protein present (the default cell), the ligands and drugs of the case ON
        start = {n: int(n.endswith("_present") or inputs.get(n, 0)) for n in network.nodes}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            spaces = [dict(sp) for sp in mbn.attractors(reachable_from=start)]
        assert spaces, inputs
        for space in spaces:
            fixed = [n for n in network.nodes if space[n] != "*"]
            states = np.array(
                [[space[n] if space[n] != "*" else rng.integers(0, 2) for _ in range(64)] for n in network.nodes],
                dtype=bool,
            )
            after = network.update(states)
            idx = [network.index[n] for n in fixed]
            np.testing.assert_array_equal(after[idx], states[idx])
            seen += 1
        own = attractors(network, start, mode="sync")
        for a in own:
            if a.is_fixed_point:
                assert {n: int(v) for n, v in a.fixed_point().items()} in [
                    {n: int(v) for n, v in sp.items()} for sp in spaces
                ], inputs
    assert seen >= len(configs)


def test_rule_translation_keeps_precedence():
    assert rule_to_l3_formula("!A & (B | C)") == "(!(A == 1) && ((B == 1) || (C == 1)))"
    assert rule_to_l3_formula("A & B | C & D") == "(((A == 1) && (B == 1)) || ((C == 1) && (D == 1)))"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("targets, factors\nA, A\nB, A & (C\nC, A\n", "line 3: syntax error"),
        ("targets, factors\nA, A\n1, A\n", "line 3: syntax error: invalid target name '1'"),
    ],
)
def test_broken_bnet_gives_file_line_message_and_exit_2(tmp_path, capsys, text, expected):
    bad = tmp_path / "bad.bnet"
    bad.write_text(text)
    assert main(["export", "--format", "sbml-qual", "--bnet", str(bad), "--out", str(tmp_path / "q.xml")]) == 2
    out, err = capsys.readouterr()
    assert str(bad) in err and expected in err and "Traceback" not in out + err
