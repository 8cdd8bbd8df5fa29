"""The logical engine: .bnet parsing, vectorised updates, attractors (own and mpbn's), scenario mapping."""

from __future__ import annotations

import itertools
import shutil
import warnings
from types import MappingProxyType

import numpy as np
import pytest

import igfsim
from igfsim.cli import main
from igfsim.engines import get_engine
from igfsim.engines.boolean import BooleanEngine, _Ensemble, attractors, sync_cycles
from igfsim.engines.boolean_map import HIGH_AT_OR_ABOVE, MODULE_NODES, event_step, input_schedule, input_values
from igfsim.engines.protocol import Change, Event, Protocol
from igfsim.errors import BnetWarning, ModelError
from igfsim.model import bnet as bnet_module
from igfsim.model.bnet import (
    BnetError,
    evaluate,
    load_bnet,
    pack_states,
    parse_bnet,
    parse_rule,
    to_text,
    unpack_states,
)
from igfsim.resources import bundled_bnet_path, bundled_scenarios_dir
from igfsim.scenario.readouts import READOUTS
from igfsim.scenario.translate import build_protocol

SCENARIOS = sorted(bundled_scenarios_dir().glob("*.yaml"))
ODE_ONLY_READOUTS = {"IGF1R_total", "InsR_total"}
#: every context input ON at its normal level, as in the default cell (integrin not high)
DEFAULT_CELL = {
    "IGF1R_present": 1,
    "IRA_present": 1,
    "IRB_present": 1,
    "EGFR_present": 1,
    "ErbB3_present": 1,
    "IRS_present": 1,
    "PI3K_present": 1,
    "STAT3_present": 1,
    "mAb_binds_hybrids": 1,
}


@pytest.fixture(scope="module")
def net():
    return load_bnet(bundled_bnet_path())


def _quiet_mpbn(network):
    import mpbn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        return mpbn.MPBooleanNetwork(network) if isinstance(network, dict) else network.to_mpbn()


def _fixed_points_mpbn(mbn, constraints=None) -> set[frozenset]:
    """mpbn's fixed points as sets of (node, 0/1) pairs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        return {frozenset((n, int(v)) for n, v in fp.items()) for fp in mbn.fixedpoints(constraints=constraints or {})}


# ----------------------------------------------------------------------------- the bundled model


def test_bundled_bnet_has_every_ode_readout_and_the_scenario_inputs(net, igf_model):
    nodes = set(net.nodes)
    assert set(READOUTS) - ODE_ONLY_READOUTS <= nodes
    inputs = set(net.inputs)
    # the scenario supplies IGF1, IGF2 and insulin through <L>_ext: the medium pools IGF1, IGF2, insulin
    # are nodes that modules also feed (autocrine IGF2, hepatic IGF1 and insulin)
    assert {
        "IGF1_ext",
        "IGF2_ext",
        "insulin_ext",
        "EGF",
        "IGFBP7",
        "mAb_IGF1R",
        "mAb_IGF",
        "TKI_dual",
        "TKI_sel",
        "SRCi",
        "EGFRi",
        "MTORC1i",
        "MTORKi",
        "PI3Kai",
        "MEKi",
        "ERi",
        "PDGFRi",
        "PDGF",
        "PDGFRA_high",
        "IRA_high",
        "IRB_high",
        "ITG_high",
        *MODULE_NODES.values(),
    } <= inputs
    assert not {"IGF1", "IGF2", "insulin"} & inputs
    # names shared with the ODE model are readouts, ligands/drug slots/switches, ODE ids of *active* forms,
    # or the ODE ids of the module quantities the logic mirrors
    shared = nodes & set(igf_model.all_ids())
    active_forms = {"SOS_a", "Ras_GTP", "Raf_P", "MEK_P", "PI3K_a", "PIP3", "mTORC1_a", "mTORC2_a", "ErbB3_P"}
    modules = {
        "IGF1",
        "IGF2",
        "insulin",
        "PDGF",
        "PDGFRA_PDGF_p",
        "ER_act",
        "IGF1R_blocked",
        "A_adapt",
        "occ_pituitary",
        "GH_drive",
    }
    assert shared - set(READOUTS) - inputs <= {"pHybrid", *active_forms, *modules}
    assert modules <= shared
    # the two required feedbacks
    assert "pS6K" in net.regulators["pIRS1"] and "pERK" in net.regulators["SOS_a"]


def test_bundled_bnet_loads_in_mpbn_with_the_same_nodes(net):
    import mpbn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        mbn = mpbn.MPBooleanNetwork(str(net.source))
    assert set(mbn) == set(net.nodes)


def test_rule_text_round_trips():
    for text in ("a & !(b | c)", "!a | b & c", "(a | b) & (c | !d)", "!!a", "1", "a & 0"):
        expr = parse_rule(text)
        assert parse_rule(to_text(expr)) == expr


# --------------------------------------------------------------------------------- parse errors


def test_syntax_error_names_file_line_and_column(tmp_path):
    path = tmp_path / "broken.bnet"
    path.write_text("targets, factors\n# comment\na, a\nb, (a & !c\nc, a\n", encoding="utf-8")
    with pytest.raises(
        BnetError,
        match=r"broken\.bnet: line 4: syntax error in the rule of 'b': expected "
        r"'\)' but the rule ends \(column 11\)",
    ) as info:
        load_bnet(path)
    assert isinstance(info.value, ModelError)
    assert [i.where for i in info.value.issues] == ["line 4"]


def test_an_undefined_node_is_an_input_with_a_warning_that_suggests_a_name(tmp_path):
    """BoolNet, mpbn and pyboolnet read a node that no line defines as an input; so does igfsim, and
    says so (with a hint, since it may be a typo)."""
    path = tmp_path / "unknown.bnet"
    path.write_text("pAkt, PIP3\nPIP3, PI3K_a\nPI3K_a, PI3Ka\n", encoding="utf-8")
    with pytest.warns(BnetWarning, match=r"unknown\.bnet: 1 node\(s\).* inputs.*PI3Ka did you mean 'PI3K_a'\?"):
        net = load_bnet(path)
    assert net.inputs == ("PI3Ka",) and net.nodes[-1] == "PI3Ka"


def test_names_as_mpbn_and_pyboolnet_write_them_and_deep_nesting():
    net = parse_bnet("2x-a, 1 & !!b.c\nb.c, b.c\n_d, 2x-a | (((((b.c)))))\n")
    assert net.rules["2x-a"] == ("and", (("const", True), ("var", "b.c")))  # !!x is x; 1 is a constant
    assert net.rules["_d"] == ("or", (("var", "2x-a"), ("var", "b.c")))
    flat = parse_bnet("x, " + "(" * 1500 + "y" + ")" * 1500 + "\ny, y\n")  # redundant parentheses: fine
    assert flat.rules["x"] == ("var", "y")
    chain = parse_bnet("x, " + "a & (" * 300 + "b" + ")" * 300 + "\na, a\nb, b\n")  # one and, flattened
    assert chain.rules["x"][0] == "and" and len(chain.rules["x"][1]) == 301
    with pytest.raises(BnetError, match=r"line 1: .*nested 201 levels deep .* more than the 90"):
        parse_bnet("x, " + "a & (" * 100 + "b" + " | c)" * 100 + "\na, a\nb, b\nc, c\n")
    with pytest.raises(BnetError, match="parentheses nested more than 2000 levels deep"):
        parse_bnet("x, " + "(" * 2500 + "y" + ")" * 2500 + "\ny, y\n")


def test_every_problem_is_reported_at_once():
    text = "a, b\nb a\na, !b\nc, a & | b\n0, e\n"
    with pytest.raises(BnetError) as info:
        parse_bnet(text, "net.bnet")
    msg = str(info.value)
    assert msg.startswith("4 problem(s)")
    assert "net.bnet: line 2: syntax error: expected 'target, rule'" in msg
    assert "net.bnet: line 3: duplicate target 'a' (first defined on line 1)" in msg
    assert "net.bnet: line 4: syntax error in the rule of 'c': expected a node name, '!' or '(' but found '|'" in msg
    assert "net.bnet: line 5: syntax error: invalid target name '0'" in msg


def test_cli_maps_a_broken_bnet_to_exit_code_2(tmp_path, capsys):
    model = tmp_path / "igf1r.antimony"
    shutil.copy(igfsim.load_model().path, model)
    shutil.copy(igfsim.load_model().mapping.source, tmp_path)  # its boolean.bnet is the broken file beside it
    (tmp_path / "igf1r.bnet").write_text("x, y &\n", encoding="utf-8")
    code = main(["validate", "--engine", "boolean", "--model", str(model), str(SCENARIOS[-1])])
    assert code == 2
    assert "igf1r.bnet: line 1: syntax error in the rule of 'x'" in capsys.readouterr().err


# --------------------------------------------------------------------------- vectorised updates


def test_vectorised_update_matches_a_per_state_loop(net):
    rng = np.random.default_rng(7)
    states = rng.random((len(net.nodes), 300)) < 0.5
    fast = net.update(states)
    packed = unpack_states(net.update(pack_states(states)), states.shape[1])
    regs, offsets, table = net.truth_tables
    padded = np.vstack([states, np.zeros((1, states.shape[1]), dtype=bool)]).astype(np.int64)
    for s in range(states.shape[1]):
        state = dict(zip(net.nodes, states[:, s], strict=True))
        slow = [evaluate(net.rules[n], state) for n in net.nodes]
        assert fast[:, s].tolist() == slow
        assert packed[:, s].tolist() == slow
        lookup = [table[offsets[k] + padded[regs[k], s] @ (1 << np.arange(regs.shape[1]))] for k in range(len(slow))]
        assert lookup == slow


def test_bit_packing_round_trips():
    x = np.random.default_rng(3).random((5, 130)) < 0.3
    assert np.array_equal(unpack_states(pack_states(x), 130), x)


def test_async_without_truth_tables_gives_the_same_trajectories(monkeypatch, net):
    with_tables = parse_bnet(net.to_bnet())
    assert with_tables.truth_tables is not None
    monkeypatch.setattr(bnet_module, "MAX_TABLE_INPUTS", 2)
    without = parse_bnet(net.to_bnet())
    assert without.truth_tables is None
    runs = []
    for network in (with_tables, without):
        ens = _Ensemble(network, "async", 8, np.random.default_rng(5))
        ens.set_inputs({**DEFAULT_CELL, "IGF1_ext": True})
        for _ in range(20):
            ens.step()
        runs.append(ens.states())
    assert np.array_equal(*runs)


@pytest.mark.parametrize("name", ["c04_acquired_igf2_ira_switch", "c16_ligand_specificity"])
def test_the_native_update_gives_the_numpy_update_s_arms_exactly(monkeypatch, igf_model, name):
    """The C kernel and the numpy loop take the same draws and give the same states: the same rows,
    pre-equilibration, input changes (c04 switches IGF2 on mid-run) and attractor means included."""
    from igfsim.engines import boolean_kernel

    scenario = igfsim.load_scenario(bundled_scenarios_dir() / f"{name}.yaml")
    outputs = {}
    for backend in ("c", "python"):
        monkeypatch.setenv(boolean_kernel.BACKEND_ENV, backend)
        monkeypatch.setattr(boolean_kernel, "_KERNEL", [])
        assert (boolean_kernel.kernel() is None) == (backend == "python")
        outputs[backend] = igfsim.run_scenario(scenario, igf_model, engine="boolean").values
    assert np.isfinite(outputs["c"]).any() and np.array_equal(outputs["c"], outputs["python"], equal_nan=True)


def test_native_steps_stop_before_a_fixed_point_and_draw_only_what_they_used(net):
    """Settling stops at the first step that starts on a fixed point of every trajectory, and the random
    stream then stands where a step-by-step run would leave it."""
    from igfsim.engines import boolean_kernel

    if boolean_kernel.kernel() is None:
        pytest.skip("no C compiler: the numpy update is the only one")
    a = _Ensemble(net, "async", 16, np.random.default_rng(3))
    b = _Ensemble(net, "async", 16, np.random.default_rng(3))
    for ens in (a, b):
        ens.set_inputs(DEFAULT_CELL)  # ligand-free: every trajectory settles on a fixed point
    done = a.steps(500, stop_at_fixed=True)
    stepwise = 0
    while not b.at_fixed_point() and stepwise < 500:
        b.step()
        stepwise += 1
    assert 0 < done == stepwise < 500 and a.at_fixed_point()
    assert np.array_equal(a.states(), b.states()) and a.rng.integers(1 << 30) == b.rng.integers(1 << 30)


# ------------------------------------------------------------------------------------ attractors


def test_two_node_oscillator_has_a_four_cycle():
    osc = parse_bnet("x, !y\ny, x\n")
    (att,) = attractors(osc, {"x": 0, "y": 0}, mode="sync")
    assert att.states.astype(int).tolist() == [[0, 0], [1, 0], [1, 1], [0, 1]]
    assert not att.is_fixed_point and att.mean() == {"x": 0.5, "y": 0.5}
    (mp,) = attractors(osc, {"x": 0, "y": 0}, mode="async")
    assert dict(mp.trap_space) == {"x": "*", "y": "*"}


def test_toggle_switch_has_two_fixed_points_in_every_method():
    toggle = parse_bnet("a, !b\nb, !a\n")
    every_state = np.array(list(itertools.product([0, 1], repeat=2)), dtype=bool)
    found = attractors(toggle, every_state, mode="sync")
    fixed = sorted(tuple(a.fixed_point().values()) for a in found if a.is_fixed_point)
    assert fixed == [(0, 1), (1, 0)]
    assert sorted(len(a.states) for a in found) == [1, 1, 2]  # plus the synchronous 00 <-> 11 cycle
    assert _fixed_points_mpbn(_quiet_mpbn({"a": "!b", "b": "!a"})) == {
        frozenset({("a", 0), ("b", 1)}),
        frozenset({("a", 1), ("b", 0)}),
    }
    mp = attractors(toggle, every_state, mode="async")
    assert sorted(tuple(a.fixed_point().values()) for a in mp) == [(0, 1), (1, 0)]


def test_fixed_points_agree_with_mpbn_on_every_state_of_a_small_network():
    text = "i, i\na, i & !c\nb, a | b & !i\nc, b\nd, !a & c\n"
    small = parse_bnet(text)
    every_state = np.array(list(itertools.product([0, 1], repeat=5)), dtype=bool)
    ours = {
        frozenset(zip(small.nodes, s.astype(int).tolist(), strict=True))
        for s in every_state
        if np.array_equal(small.update(s[:, None])[:, 0], s)
    }
    assert len(ours) == 2
    assert ours == _fixed_points_mpbn(small.to_mpbn())


@pytest.mark.parametrize(
    "inputs",
    [
        {},
        {"IGF1_ext": 1},
        {"IGF1_ext": 1, "MTORC1i": 1, "MEKi": 1},
        {"IGF1_ext": 1, "ITG_high": 1, "mAb_IGF1R": 1},
        {"IGF2_ext": 1, "IRA_high": 1, "mAb_IGF1R": 1, "MTORC1i": 1, "MEKi": 1},
        {"insulin_ext": 1, "IRB_high": 1, "TKI_dual": 1},
        {"EGF": 1, "IGF1_ext": 1, "ITG_high": 1, "MEKi": 1},
        # mechanism modules
        {"IGF1_ext": 1, "PDGF": 1, "PDGFRA_present": 1, "PDGFRA_high": 1, "TKI_dual": 1, "MEKi": 1, "MTORC1i": 1},
        {"PIK3CA_mut": 1, "MEKi": 1},
        {"PIK3CA_mut": 1, "PI3Kai": 1, "IGF1_ext": 1, "TKI_dual": 1},
        {"ER_present": 1, "TKI_dual": 1, "IGF1_ext": 1},
        {"IGF2_ext": 1, "IGFBP7": 1, "IRA_high": 1, "MEKi": 1, "MTORC1i": 1},
        {"IGF1_ext": 1, "adapt_on": 1, "mAb_IGF1R": 1, "MEKi": 1, "MTORC1i": 1},
        {"adapt_on": 1, "TKI_dual": 1},
        {"systemic": 1, "TKI_dual": 1},
        {"systemic": 1},
        {"SFK_coupled": 1, "IGF1_ext": 1, "mAb_IGF1R": 1},
    ],
    ids=lambda d: "+".join(d) or "no-ligand",
)
def test_sync_attractors_agree_with_mpbn_on_the_bundled_model(net, inputs):
    start = {**DEFAULT_CELL, **inputs}
    (sync,) = attractors(net, start, mode="sync")
    mp = attractors(net, start, mode="async")
    assert mp, "mpbn found no reachable attractor"
    if sync.is_fixed_point:
        fp = sync.fixed_point()
        assert any(a.fixed_point() == fp for a in mp)
        constraints = {n: v for n, v in fp.items() if n in net.inputs}
        assert _fixed_points_mpbn(_quiet_mpbn(net), constraints) == {frozenset(fp.items())}
    else:
        # every state of the synchronous cycle lies in one most-permissive trap space
        assert any(
            all(
                space.trap_space[n] == "*" or all(int(s[k]) == space.trap_space[n] for s in sync.states)
                for k, n in enumerate(net.nodes)
            )
            for space in mp
        )


def test_sync_cycles_run_many_states_at_once(net):
    rng = np.random.default_rng(11)
    states = rng.random((40, len(net.nodes))) < 0.5
    together = sync_cycles(net, states)
    one_by_one = [sync_cycles(net, s[None, :])[0] for s in states]
    for a, b in zip(together, one_by_one, strict=True):
        assert np.array_equal(a, b)


# ------------------------------------------------------------------------------------ the engine


def _arm_final(scenario: dict, engine: str = "boolean") -> dict[str, dict[str, float]]:
    """{arm: {readout: attractor mean}} of a scenario dict run with the Boolean engine."""
    sc = igfsim.parse_scenario({"title": "t", "simulation": {"duration_min": 30, "points": 31}, **scenario})
    res = igfsim.run_scenario(sc, engine=engine)
    return {a: {r: float(res.get(a, r)[-1]) for r in res.readouts} for a in res.arms}


def _treat(*drugs, **kw):
    return [{"drug": d, "dose_nM": 100, "start_min": -60, **kw} for d in drugs]


def test_antibody_blocks_igf1r_but_irahigh_igf2_keeps_insr_and_akt_on():
    out = _arm_final(
        {
            "name": "mab",
            "readouts": ["pIGF1R", "pInsR", "pAkt", "pIRA"],
            "arms": [
                {"name": "IGF1_mab", "stimulus": {"IGF1": 10}, "treatments": _treat("cixutumumab")},
                {"name": "IGF1_control", "stimulus": {"IGF1": 10}},
                {
                    "name": "IRA_IGF2_mab",
                    "stimulus": {"IGF2": 10},
                    "cell": {"context": "InsR-A-high"},
                    "treatments": _treat("cixutumumab"),
                },
                {
                    "name": "parental_IGF2_mab",
                    "stimulus": {"IGF2": 10},
                    "cell": {"context": "IGF1R-dominant"},
                    "treatments": _treat("cixutumumab"),
                },
            ],
        }
    )
    assert out["IGF1_control"]["pIGF1R"] == 1 and out["IGF1_mab"]["pIGF1R"] == 0
    assert out["IGF1_mab"]["pAkt"] == 0
    assert out["IRA_IGF2_mab"]["pIGF1R"] == 0 and out["IRA_IGF2_mab"]["pInsR"] == 1
    assert out["IRA_IGF2_mab"]["pAkt"] > 0.3  # on, cycling with the S6K -| IRS1 feedback
    assert out["parental_IGF2_mab"]["pIRA"] == 1 and out["parental_IGF2_mab"]["pAkt"] == 0


def test_dual_tki_switches_off_igf1r_insr_and_akt_selective_tki_spares_insr():
    out = _arm_final(
        {
            "name": "tki",
            "readouts": ["pIGF1R", "pInsR", "pIRA", "pHybrid", "pAkt"],
            "cell": {"context": "InsR-A-high"},
            "stimulus": {"IGF2": 10},
            "arms": [
                {"name": "dual", "treatments": _treat("linsitinib")},
                {"name": "dual_IGF1", "stimulus": {"IGF1": 10}, "treatments": _treat("BMS-754807")},
                {"name": "selective", "treatments": _treat("NVP-AEW541")},
            ],
        }
    )
    for arm in ("dual", "dual_IGF1"):
        assert (out[arm]["pIGF1R"], out[arm]["pInsR"], out[arm]["pAkt"]) == (0, 0, 0)
    assert out["selective"]["pIGF1R"] == 0 and out["selective"]["pHybrid"] == 0
    assert out["selective"]["pIRA"] == 1 and out["selective"]["pAkt"] > 0.3


def test_xentuzumab_removes_igfs_but_leaves_insulin_signalling_on():
    out = _arm_final(
        {
            "name": "xen",
            "readouts": ["pIGF1R", "pInsR", "pIRB", "pAkt"],
            "arms": [
                {
                    "name": "insulin",
                    "stimulus": {"insulin": 1},
                    "cell": {"context": "InsR-B-high"},
                    "treatments": _treat("xentuzumab"),
                },
                {"name": "IGF1", "stimulus": {"IGF1": 10}, "treatments": _treat("xentuzumab")},
                {
                    "name": "IGF1_IGF2",
                    "stimulus": {"IGF1": 10, "IGF2": 10},
                    "cell": {"context": "InsR-A-high"},
                    "treatments": _treat("xentuzumab"),
                },
            ],
        }
    )
    assert out["insulin"]["pInsR"] == 1 and out["insulin"]["pIRB"] == 1 and out["insulin"]["pAkt"] > 0.3
    assert out["IGF1"]["pIGF1R"] == 0 and out["IGF1"]["pAkt"] == 0
    assert out["IGF1_IGF2"]["pInsR"] == 0 and out["IGF1_IGF2"]["pAkt"] == 0


def test_integrin_bypass_keeps_src_and_akt_on_under_the_antibody_and_dasatinib_removes_it():
    out = _arm_final(
        {
            "name": "itg",
            "readouts": ["pIGF1R", "pSrc", "pFAK", "pAkt", "pERK"],
            "stimulus": {"IGF1": 10},
            "cell": {"context": "integrin-high"},
            "arms": [
                {"name": "mab", "treatments": _treat("cixutumumab")},
                {"name": "mab_das", "treatments": _treat("cixutumumab", "dasatinib")},
                {"name": "null_mab", "cell": {"context": "IGF1R-dominant"}, "treatments": _treat("cixutumumab")},
            ],
        }
    )
    assert out["mab"]["pIGF1R"] == 0 and out["mab"]["pSrc"] == 1 and out["mab"]["pFAK"] == 1
    assert out["mab"]["pAkt"] == 1 and out["mab"]["pERK"] == 0
    assert out["mab_das"]["pSrc"] == 0 and out["mab_das"]["pAkt"] == 0
    assert out["null_mab"]["pSrc"] == 0 and out["null_mab"]["pAkt"] == 0


def test_antibody_option_binds_hybrids_false_leaves_hybrids_signalling():
    out = _arm_final(
        {
            "name": "hyb",
            "readouts": ["pIGF1R", "pHybrid"],
            "stimulus": {"IGF1": 10},
            "arms": [
                {"name": "binds", "treatments": _treat("dalotuzumab")},
                {"name": "spares", "treatments": _treat("ganitumab", binds_hybrids=False)},
            ],
        }
    )
    assert out["binds"] == {"pIGF1R": 0, "pHybrid": 0}
    assert out["spares"] == {"pIGF1R": 1, "pHybrid": 1}


def test_everolimus_relieves_s6k_feedback_and_raises_akt():
    out = _arm_final(
        {
            "name": "eve",
            "readouts": ["pS6K", "pIRS1", "pAkt"],
            "stimulus": {"IGF1": 10},
            "cell": {"context": "IGF1R-dominant"},
            "arms": [{"name": "control"}, {"name": "everolimus", "treatments": _treat("everolimus")}],
        }
    )
    assert out["everolimus"]["pS6K"] == 0 and out["everolimus"]["pAkt"] == 1 > out["control"]["pAkt"] + 0.3


def test_drug_start_and_washout_map_to_steps(igf_model):
    sc = igfsim.parse_scenario(
        {
            "name": "wash",
            "title": "t",
            "simulation": {"duration_min": 60, "points": 61},
            "stimulus": {"IGF1": 10},
            "readouts": ["pIGF1R"],
            "arms": [
                {
                    "name": "a",
                    "treatments": [{"drug": "linsitinib", "dose_nM": 1000, "start_min": 20, "stop_min": 40.5}],
                }
            ],
        }
    )
    y = BooleanEngine(mode="sync").simulate(igf_model, build_protocol(igf_model, sc, sc.arms[0]))[:, 0]
    # the inhibitor input is ON from step 20; pR11/pHybrid follow one update later, pIGF1R two
    assert y[5:22].min() == 1 and y[22:43].max() == 0
    # the washout at minute 40.5 takes effect at step 41 (first output time >= 40.5): pIGF1R back at 43
    assert y[43:].min() == 1


def test_expression_thresholds_and_ligand_rules():
    assert event_step(-60, np.arange(5.0)) == 0 and event_step(2.5, np.arange(5.0)) == 3
    v = input_values(
        {
            "expr_InsR_A": HIGH_AT_OR_ABOVE,
            "expr_InsR_B": 4.99,
            "expr_IGF1R": 0.0,
            "IGF1": 0.1,
            "IGFBP": 5.0,
            "IGF2": 0.4,
        }
    )
    assert v["IRA_present"] and v["IRA_high"] and v["IRB_present"] and not v["IRB_high"]
    assert not v["IGF1R_present"] and v["IGF1"] and not v["insulin"]
    assert v["IGFBP"] is True  # 5 nM IGFBP is 10x the 0.5 nM of IGF
    assert input_values({"IGFBP": 5.0, "IGF2": 1.0})["IGFBP"] is False
    assert input_values({})["mAb_binds_hybrids"] is True and input_values({})["IGF1R_present"] is True


def _protocol(selections, seed_events=()):
    return Protocol(
        overrides=MappingProxyType({"expr_InsR_A": 20.0}),
        initial=MappingProxyType({}),
        preequilibrate=True,
        events=tuple(seed_events),
        t_start=0.0,
        times=np.arange(31.0),
        selections=tuple(selections),
        label="t/a",
    )


def test_async_runs_are_reproducible_and_depend_on_the_seed(igf_model):
    prot = _protocol(["pAkt", "pERK", "pIRS1", "IGF1R_total"], [Event(0.0, (Change("IGF2", 1.0, "species"),))])
    a = BooleanEngine(seed=3).simulate(igf_model, prot)
    other = BooleanEngine(seed=4)
    b = other.simulate(igf_model, prot)
    again = BooleanEngine(seed=3).simulate(igf_model, prot)
    assert np.array_equal(a, again, equal_nan=True)
    assert not np.array_equal(a[:, :3], b[:, :3])
    assert np.array_equal(b, other.simulate(igf_model, prot), equal_nan=True)  # fresh stream per arm
    assert np.isnan(a[:, 3]).all() and np.isfinite(a[:, :3]).all()
    assert a.shape == (31, 4) and np.all((a[:, :3] >= 0) & (a[:, :3] <= 1))


def test_sync_mode_is_deterministic_with_an_exact_cycle_mean(igf_model):
    prot = _protocol(["pAkt", "pIGF1R"], [Event(0.0, (Change("IGF1", 1.0, "species"),))])
    out = BooleanEngine(mode="sync", seed=1).simulate(igf_model, prot)
    assert np.array_equal(out, BooleanEngine(mode="sync", seed=2).simulate(igf_model, prot))
    assert set(np.unique(out[:-1])) <= {0.0, 1.0} and out[-1, 1] == 1.0
    # pAkt cycles (S6K -| IRS1): the last row is the exact mean over the cycle the steps settle into
    akt = out[:-1, 0]
    seq = akt[int(np.argmax(akt)) :]  # from the first ON step: the cycle, repeated
    period = next(p for p in range(2, len(seq) - 3) if np.array_equal(seq[p:], seq[:-p]))
    assert 0 < out[-1, 0] < 1 and out[-1, 0] == pytest.approx(seq[:period].mean(), abs=1e-12)


def test_engine_defaults_and_bad_options():
    eng = get_engine("boolean")
    assert (eng.name, eng.time_units, eng.mode, eng.seed, eng.n_trajectories) == ("boolean", "step", "async", 0, 64)
    with pytest.raises(ValueError, match="unknown update mode 'random'"):
        BooleanEngine(mode="random")
    with pytest.raises(ValueError, match="n_trajectories must be >= 1"):
        BooleanEngine(n_trajectories=0)


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_runs_with_values_in_unit_interval(net, path):
    res = igfsim.run_scenario(path, engine="boolean")
    assert res.ok and res.time_units == "step" and res.engine == "boolean"
    assert res.times.tolist() == list(range(res.times.size))
    for k, readout in enumerate(res.readouts):
        values = res.values[:, :, k]
        if readout in net.index:
            assert np.all((values >= 0) & (values <= 1)), readout
        else:
            assert np.isnan(values).all(), readout


# ------------------------------------------------------------------------- mechanism modules (issue 4)


def test_module_inputs_follow_context_parameters_and_igfbp7_its_kd():
    off = input_values({})
    assert not any(off[node] for node in MODULE_NODES.values()) and not off["IGFBP7"]
    on = input_values(
        {
            "ER_level": 0.3,
            "PIK3CA_mut": 1.0,
            "k_Src_Akt": 0.005,
            "adapt_on": 1.0,
            "systemic": 1.0,
            "IGFBP7": 5.0,
            "IGF2": 1.0,
        }
    )
    assert all(on[node] for node in MODULE_NODES.values())
    assert on["IGFBP7"] and not input_values({"IGFBP7": 4.9})["IGFBP7"]
    assert input_values({"IGFBP7": 20.0, "Kd_IGFBP7_IGF1R": 50.0})["IGFBP7"] is False  # threshold follows the K_D
    # a scenario's ligand sets both <L> and <L>_ext; the network takes whichever is an input
    assert on["IGF2"] and on["IGF2_ext"] and not on["IGF1_ext"]


def test_contexts_reach_the_module_inputs_through_the_protocol(igf_model, net):
    sc = igfsim.parse_scenario(
        {
            "name": "ctx",
            "title": "t",
            "simulation": {"duration_min": 30, "points": 31},
            "stimulus": {"IGF1": 1},
            "readouts": ["pAkt"],
            "arms": [
                {"name": name, "cell": {"context": name}}
                for name in ("PDGFRA-high", "estrogen-deprived", "PIK3CA-mutant", "SFK-coupled", "default")
            ],
        }
    )
    flags = {
        arm.name: input_schedule(build_protocol(igf_model, sc, arm), dict(igf_model.parameters), net.inputs)
        for arm in sc.arms
    }
    assert flags["PDGFRA-high"].initial["PDGFRA_high"] and not flags["default"].initial["PDGFRA_high"]
    assert flags["default"].initial["PDGFRA_present"] and flags["PIK3CA-mutant"].initial["PIK3CA_mut"]
    assert flags["estrogen-deprived"].initial["ER_present"] and flags["SFK-coupled"].initial["SFK_coupled"]
    assert not any(flags["default"].initial[n] for n in MODULE_NODES.values())
    # the stimulus goes to IGF1_ext at step 0
    assert flags["default"].changes[0][0] == 0 and flags["default"].changes[0][1]["IGF1_ext"]


def test_ligand_mapping_still_sets_old_style_ligand_inputs(igf_model):
    small = parse_bnet("IGF1, IGF1\nseen, IGF1\n")
    prot = _protocol(["seen", "IGF1"], [Event(0.0, (Change("IGF1", 1.0, "species"),))])
    out = BooleanEngine(mode="sync", network=small).simulate(igf_model, prot)
    assert out[0].tolist() == [0.0, 1.0] and out[-1].tolist() == [1.0, 1.0]


def test_igfbp7_blocks_igf1r_and_hybrids_but_not_ira():
    out = _arm_final(
        {
            "name": "bp7",
            "readouts": ["pIGF1R", "pHybrid", "pIRA", "pInsR", "pAkt"],
            "cell": {"context": "InsR-A-high"},
            "arms": [
                {"name": "control", "stimulus": {"IGF2": 1}},
                {"name": "IGFBP7", "stimulus": {"IGF2": 1, "IGFBP7": 50}},
                {"name": "IGFBP7_below_kd", "stimulus": {"IGF2": 1, "IGFBP7": 1}},
                {
                    "name": "IGFBP7_IGF1_parental",
                    "stimulus": {"IGF1": 10, "IGFBP7": 50},
                    "cell": {"context": "IGF1R-dominant"},
                },
            ],
        }
    )
    assert out["control"]["pIGF1R"] == 1 and out["control"]["pHybrid"] == 1
    assert out["IGFBP7"]["pIGF1R"] == 0 and out["IGFBP7"]["pHybrid"] == 0
    assert out["IGFBP7"]["pIRA"] == 1 and out["IGFBP7"]["pInsR"] == 1 and out["IGFBP7"]["pAkt"] > 0.3
    assert out["IGFBP7_below_kd"]["pIGF1R"] == 1
    assert out["IGFBP7_IGF1_parental"]["pIGF1R"] == 0 and out["IGFBP7_IGF1_parental"]["pAkt"] == 0


def test_abundant_pdgfra_keeps_akt_and_erk_on_under_linsitinib_and_imatinib_removes_it():
    out = _arm_final(
        {
            "name": "rtk",
            "readouts": ["pIGF1R", "PDGFRA_PDGF_p", "pShc", "pAkt", "pERK"],
            "stimulus": {"IGF1": 10, "PDGF": 0.06},
            "cell": {"context": "PDGFRA-high"},
            "arms": [
                {"name": "linsitinib", "treatments": _treat("linsitinib")},
                {"name": "linsitinib+imatinib", "treatments": _treat("linsitinib", "imatinib")},
                {"name": "parental_linsitinib", "cell": {"context": "default"}, "treatments": _treat("linsitinib")},
                {"name": "no_PDGF", "stimulus": {"IGF1": 10}, "treatments": _treat("linsitinib")},
            ],
        }
    )
    lins = out["linsitinib"]
    assert lins["pIGF1R"] == 0 and lins["PDGFRA_PDGF_p"] == 1 and lins["pShc"] == 1
    assert lins["pAkt"] == 1 and lins["pERK"] > 0.3  # PDGFR -> PI3K needs no IRS1; ERK cycles with ERK -| SOS
    # the parental cell has PDGFR-alpha and PDGF, but not enough receptor to matter
    assert out["parental_linsitinib"]["PDGFRA_PDGF_p"] == 1
    for arm in ("linsitinib+imatinib", "parental_linsitinib", "no_PDGF"):
        assert out[arm]["pAkt"] == 0 and out[arm]["pERK"] == 0 and out[arm]["pShc"] == 0


def test_er_input_keeps_prolif_on_under_linsitinib_until_fulvestrant():
    out = _arm_final(
        {
            "name": "er",
            "readouts": ["ER_act", "pERK", "PROLIF"],
            "stimulus": {"IGF1": 1, "IGF2": 1, "insulin": 0.1},
            "cell": {"context": "estrogen-deprived"},
            "arms": [
                {"name": "control"},
                {"name": "linsitinib", "treatments": _treat("linsitinib")},
                {"name": "fulvestrant", "treatments": _treat("fulvestrant")},
                {"name": "linsitinib+fulvestrant", "treatments": _treat("linsitinib", "fulvestrant")},
                {
                    "name": "ER-negative_linsitinib",
                    "cell": {"context": "IGF-dependent"},
                    "treatments": _treat("linsitinib"),
                },
                {"name": "serum_linsitinib", "cell": {"context": "default"}, "treatments": _treat("linsitinib")},
            ],
        }
    )
    assert out["control"]["ER_act"] == 1 and out["control"]["PROLIF"] == 1
    assert out["linsitinib"]["pERK"] == 0 and out["linsitinib"]["PROLIF"] == 1  # residual ER input alone
    assert out["fulvestrant"]["ER_act"] == 0 and 0.3 < out["fulvestrant"]["PROLIF"] < 1  # ERK, cycling
    assert out["linsitinib+fulvestrant"]["PROLIF"] == 0 and out["ER-negative_linsitinib"]["PROLIF"] == 0
    # default culture has an IGF-independent drive (drive_PROLIF 0.45 >= 0.2): PROLIF stays on
    assert out["serum_linsitinib"]["pERK"] == 0 and out["serum_linsitinib"]["PROLIF"] == 1


def test_mutant_pik3ca_drives_akt_without_ligand_and_alpelisib_blocks_it():
    out = _arm_final(
        {
            "name": "pik3ca",
            "readouts": ["PIP3", "pAkt", "pS6K", "FOXO", "pIRS1"],
            "cell": {"context": "PIK3CA-mutant"},
            "arms": [
                {"name": "no_ligand"},
                {"name": "IGF1", "stimulus": {"IGF1": 0.3}},
                {"name": "alpelisib", "stimulus": {"IGF1": 0.3}, "treatments": _treat("alpelisib")},
                {
                    "name": "alpelisib+linsitinib",
                    "stimulus": {"IGF1": 0.3},
                    "treatments": _treat("alpelisib", "linsitinib"),
                },
            ],
        }
    )
    assert out["no_ligand"]["pAkt"] == 1 and out["no_ligand"]["FOXO"] == 0
    # constitutive PIP3 holds S6K on, so S6K -| IRS1 keeps IGF-IR's IRS1 off (no cycling)
    assert out["IGF1"]["pAkt"] == 1 and out["IGF1"]["pS6K"] == 1 and out["IGF1"]["pIRS1"] == 0
    for arm in ("alpelisib", "alpelisib+linsitinib"):
        assert out[arm]["PIP3"] == 0 and out[arm]["pAkt"] == 0 and out[arm]["pS6K"] == 0 and out[arm]["FOXO"] == 1
    assert out["alpelisib"]["pIRS1"] == 1 and out["alpelisib+linsitinib"]["pIRS1"] == 0


def test_sfk_coupling_releases_src_under_igf1r_blockade_and_dasatinib_removes_the_route():
    out = _arm_final(
        {
            "name": "sfk",
            "readouts": ["pIGF1R", "pSrc", "pFAK", "pAkt", "pSTAT3", "SURV"],
            "stimulus": {"IGF1": 10},
            "cell": {"context": "SFK-coupled"},
            "arms": [
                {"name": "control"},
                {"name": "ganitumab", "treatments": _treat("ganitumab")},
                {"name": "BMS-754807", "treatments": _treat("BMS-754807")},
                {"name": "ganitumab+dasatinib", "treatments": _treat("ganitumab", "dasatinib")},
                {
                    "name": "uncoupled_ganitumab",
                    "cell": {"context": "IGF1R-dominant"},
                    "treatments": _treat("ganitumab"),
                },
            ],
        }
    )
    # Akt restrains Src: in control it is on only part of the time; blockade removes IGF-IR-driven Akt
    assert 0 < out["control"]["pSrc"] < out["ganitumab"]["pSrc"]
    assert out["BMS-754807"]["pSrc"] == pytest.approx(out["ganitumab"]["pSrc"])
    # released Src feeds FAK -> PI3K -> Akt and STAT3 (the loop Src -> ... -> Akt -| Src cycles)
    gan = out["ganitumab"]
    assert gan["pIGF1R"] == 0 and gan["pFAK"] > 0.3 and gan["pAkt"] > 0.3 and gan["SURV"] > 0.5
    assert out["ganitumab+dasatinib"] == {"pIGF1R": 0, "pSrc": 0, "pFAK": 0, "pAkt": 0, "pSTAT3": 0, "SURV": 0}
    assert out["uncoupled_ganitumab"]["pSrc"] == 0 and out["uncoupled_ganitumab"]["pAkt"] == 0


def test_adaptation_node_turns_on_ira_and_autocrine_igf2_under_sustained_blockade():
    common = {"stimulus": {"IGF1": 1}, "cell": {"context": "default", "parameters": {"adapt_on": 1}}}
    readouts = ["IGF1R_blocked", "A_adapt", "IGF2", "pIRA", "pIRS1", "pAkt", "pERK"]
    out = _arm_final(
        {
            "name": "adapt",
            "readouts": readouts,
            **common,
            "arms": [
                {"name": "control"},
                {"name": "cixutumumab", "treatments": _treat("cixutumumab")},
                {"name": "cixutumumab+xentuzumab", "treatments": _treat("cixutumumab", "xentuzumab")},
                {"name": "linsitinib", "treatments": _treat("linsitinib")},
                {"name": "InsR-KO_cixutumumab", "cell": {"context": "InsR-KO"}, "treatments": _treat("cixutumumab")},
                {"name": "no_module", "cell": {"parameters": {"adapt_on": 0}}, "treatments": _treat("cixutumumab")},
            ],
        }
    )
    assert out["control"]["A_adapt"] == 0 and out["control"]["IGF2"] == 0
    cix = out["cixutumumab"]
    assert cix["IGF1R_blocked"] == cix["A_adapt"] == cix["IGF2"] == cix["pIRA"] == 1
    # IR-A, now abundant, drives IRS1/Shc: Akt and ERK recover (cycling with the feedbacks)
    assert cix["pIRS1"] > 0.3 and cix["pAkt"] > 0.3 and cix["pERK"] > 0.3
    for arm in ("cixutumumab+xentuzumab", "linsitinib", "InsR-KO_cixutumumab"):
        assert out[arm]["A_adapt"] == 1 and out[arm]["pAkt"] == 0, arm
    assert out["no_module"]["A_adapt"] == 0 and out["no_module"]["IGF2"] == 0 and out["no_module"]["pAkt"] == 0


def test_adaptation_with_a_late_dual_tki_maps_the_day_5_start_to_its_step(igf_model):
    sc = igfsim.parse_scenario(
        {
            "name": "late",
            "title": "t",
            "simulation": {"duration_min": 10080, "points": 169},
            "stimulus": {"IGF1": 1, "IGF2": 0.3},
            "cell": {"context": "IGF1R-dominant", "parameters": {"adapt_on": 1}},
            "readouts": ["A_adapt", "pInsR", "pAkt"],
            "arms": [
                {
                    "name": "a",
                    "treatments": [
                        {"drug": "cixutumumab", "dose_nM": 100, "start_min": 0},
                        {"drug": "linsitinib", "dose_nM": 1000, "start_min": 7200},
                    ],
                }
            ],
        }
    )
    y = BooleanEngine(mode="sync").simulate(igf_model, build_protocol(igf_model, sc, sc.arms[0]))
    assert event_step(7200, np.linspace(0, 10080, 169)) == 120
    assert y[5:120, 0].min() == 1 and y[5:121, 1].min() == 1  # adapted, IR-A on until the TKI starts at step 120
    assert y[10:120, 2].max() == 1 and y[125:, 1].max() == 0 and y[130:, 2].max() == 0


def test_systemic_module_gh_loop_cycles_at_baseline_and_igf1r_blockade_raises_igf1_and_insulin():
    common = {"cell": {"context": "default", "parameters": {"systemic": 1}}}
    out = _arm_final(
        {
            "name": "gh",
            "readouts": ["occ_pituitary", "GH_drive", "IGF1", "insulin", "pIRA", "pInsR"],
            **common,
            "arms": [
                {"name": "in_vivo"},
                {"name": "figitumumab", "treatments": _treat("figitumumab")},
                {"name": "linsitinib", "treatments": _treat("linsitinib")},
                {"name": "xentuzumab", "treatments": _treat("xentuzumab")},
                {
                    "name": "in_vitro",
                    "cell": {"parameters": {"systemic": 0}},
                    "stimulus": {"IGF1": 0.3, "insulin": 0.05},
                    "treatments": _treat("figitumumab"),
                },
            ],
        }
    )
    base = out["in_vivo"]
    for node in ("GH_drive", "IGF1", "insulin", "occ_pituitary"):
        assert 0.3 < base[node] < 0.7, node  # GH -> IGF1 -> pituitary IGF-IR -| GH: a negative loop
    for arm in ("figitumumab", "linsitinib", "xentuzumab"):  # the pituitary sensor is blocked or starved
        assert out[arm]["occ_pituitary"] == 0 and out[arm]["GH_drive"] == out[arm]["IGF1"] == out[arm]["insulin"] == 1
    assert out["figitumumab"]["pIRA"] == 1 > base["pIRA"] and out["linsitinib"]["pInsR"] == 0
    assert out["in_vitro"]["GH_drive"] == 0 and out["in_vitro"]["IGF1"] == 1 and out["in_vitro"]["insulin"] == 1


def test_egfr_igf1r_mirror_image_in_the_logic():
    out = _arm_final(
        {
            "name": "mirror",
            "readouts": ["pEGFR", "pIGF1R", "pAkt", "pERK"],
            "stimulus": {"IGF1": 1, "EGF": 1},
            "arms": [
                {"name": "control"},
                {"name": "linsitinib", "treatments": _treat("linsitinib")},
                {"name": "erlotinib", "treatments": _treat("erlotinib")},
                {"name": "both", "treatments": _treat("linsitinib", "erlotinib")},
            ],
        }
    )
    assert out["control"]["pAkt"] == 1  # ErbB3 -> PI3K, which S6K does not inhibit
    assert out["linsitinib"]["pERK"] > 0.3 and out["linsitinib"]["pAkt"] == 1  # EGFR -> Shc, ErbB3 -> PI3K
    assert out["erlotinib"]["pAkt"] > 0.3 and out["erlotinib"]["pERK"] > 0.3  # IGF-IR -> IRS1/Shc, cycling
    assert out["both"]["pAkt"] == 0 and out["both"]["pERK"] == 0
