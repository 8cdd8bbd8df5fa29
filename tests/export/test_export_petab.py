"""`igfsim export --format petab`: PEtab v2 tables that the PEtab library loads and lints without issues."""

from __future__ import annotations

import math

import pytest

from igfsim import load_scenario
from igfsim.cli import main
from igfsim.resources import bundled_scenarios_dir

v2 = pytest.importorskip("petab.v2")
from petab.v2.lint import lint_problem  # noqa: E402

# the petab library itself calls a pandas API that pandas >= 3.1 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame:Warning")


def _export(name: str, tmp_path):
    out = tmp_path / name
    assert (
        main(
            [
                "export",
                "--format",
                "petab",
                "--scenario",
                str(bundled_scenarios_dir() / f"{name}.yaml"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out / "problem.yaml"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["c01_mab_vs_dual_tki", "c04_acquired_igf2_ira_switch"])
def test_petab_v2_problem_lints_clean(name, tmp_path):
    path = _export(name, tmp_path)
    issues = lint_problem(path)
    assert [i.message for i in issues] == []
    problem = v2.Problem.from_yaml(path)
    sc = load_scenario(bundled_scenarios_dir() / f"{name}.yaml")
    assert len(problem.experiments) == len(sc.arms)
    assert {o.id for o in problem.observables} == {f"obs_{r}" for r in sc.selected_readouts()}
    assert len(problem.measurements) == len(sc.arms) * len(sc.selected_readouts()) * sc.simulation.points
    for exp in problem.experiments:
        assert exp.sorted_periods[0].time == -math.inf  # pre-equilibration


def test_timed_treatments_become_periods(tmp_path):
    problem = v2.Problem.from_yaml(_export("c04_acquired_igf2_ira_switch", tmp_path))
    conds = {c.id: {ch.target_id: float(ch.target_value) for ch in c.changes} for c in problem.conditions}
    (switch,) = [e for e in problem.experiments if "to_NVP" in e.id]
    times = [p.time for p in switch.sorted_periods]
    # the switch at day 5 and the medium changes every 2 days (simulation.medium_change_min: 2880)
    assert times == [-math.inf, 0.0, 2880.0, 5760.0, 7200.0, 8640.0]
    at = {p.time: conds[p.condition_ids[0]] for p in switch.sorted_periods[1:]}
    assert at[0.0]["mAb_IGF1R"] == 100 and at[0.0]["IGF1"] == 1
    assert at[7200.0] == {"mAb_IGF1R": 0.0, "TKI_sel": 300.0}  # wash-out and the new drug
    # fresh medium: the stimulus and the antibody being given, nothing the cells made or bound
    assert at[2880.0]["IGF1"] == 1 and at[2880.0]["mAb_IGF1R"] == 100 and at[2880.0]["IGF1_IGFBP"] == 0
    assert at[8640.0]["IGF1"] == 1 and at[8640.0]["mAb_IGF1R"] == 0  # washed out at day 5


def test_pretreatment_is_a_period_before_the_stimulus(tmp_path):
    problem = v2.Problem.from_yaml(_export("c01_mab_vs_dual_tki", tmp_path))
    (cix,) = [e for e in problem.experiments if e.id.endswith("cixutumumab")]
    assert [p.time for p in cix.sorted_periods] == [-math.inf, -60.0, 0.0]


def test_the_parameter_table_lists_the_kinetic_parameters_at_their_model_values(tmp_path):
    import igfsim
    from igfsim.export.petab import write_petab

    model = igfsim.load_model()
    scenario = load_scenario(bundled_scenarios_dir() / "c16_ligand_specificity.yaml")
    problem = v2.Problem.from_yaml(write_petab(scenario, model, tmp_path / "a", measurements=False))
    table = {p.id: p for p in problem.parameters}
    assert len(table) > 100 and not any(p.estimate for p in table.values())
    assert table["kon_lig"].nominal_value == model.parameters["kon_lig"]
    assert "expr_IGF1R" not in table and "mAb_IGF1R" not in table and "TKI_dual" not in table  # cell and drug ids
    targets = {ch.target_id for c in problem.conditions for ch in c.changes}
    assert not targets & set(table)  # a condition sets none of them
    assumed = v2.Problem.from_yaml(write_petab(scenario, model, tmp_path / "b", measurements=False, estimate="assumed"))
    free = {p.id: p for p in assumed.parameters if p.estimate}
    assert free and all(model.provenance[p].source.lower().startswith("assumed") for p in free)
    assert free["kon_mAb"].lb == pytest.approx(0.003) and free["kon_mAb"].ub == pytest.approx(0.3)
    # without measurements, petab warns that no experiment is measured; nothing else
    assert [i.task for i in lint_problem(tmp_path / "b" / "problem.yaml")] == ["CheckUnusedExperiments"]


def test_estimating_an_unknown_or_condition_set_parameter_is_refused(tmp_path, capsys):
    args = ["export", "--format", "petab", "--scenario", "c01_mab_vs_dual_tki", "--out", str(tmp_path / "p")]
    assert main([*args, "--estimate", "nope", "--estimate", "Kd_mAb_IGF1R"]) == 2
    err = capsys.readouterr().err
    assert "cannot estimate Kd_mAb_IGF1R, nope" in err and not (tmp_path / "p" / "problem.yaml").exists()
