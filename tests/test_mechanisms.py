"""Issue 4: one scenario per mechanism. ``not_expressible`` (N/A per engine), ``vs_normalize`` (ratio of
ratios), the ``mechanism`` block, the generated docs/mechanisms.md with ``igfsim docs [--check]``, and
the exit code of ``validate --engine all`` (an expectation failing in any engine fails)."""

from __future__ import annotations

import copy
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

import igfsim
import igfsim.analysis.consistency
from igfsim.analysis.consistency import ScenarioConsistency, format_consistency
from igfsim.analysis.ensemble import EnsembleSummary
from igfsim.analysis.expectations import check_expectation, describe
from igfsim.cli import main
from igfsim.engines import ENGINES
from igfsim.report.mechanisms_doc import render_mechanisms_md
from igfsim.report.outputs import summary_dict
from igfsim.resources import bundled_scenarios_dir
from igfsim.result.scenario_result import ArmRecord, ScenarioResult
from igfsim.scenario.schema import Expectation

T = np.linspace(0.0, 10.0, 11)
DOCS_FILE = Path(__file__).resolve().parents[1] / "docs" / "mechanisms.md"

#: the antibody leaves part of pAkt on in the ODE (graded, ~0.4 of control) but switches it OFF in the logic
PARTIAL_RETENTION = {
    "readout": "pAkt",
    "metric": "final",
    "arm": "cixutumumab",
    "vs": "control",
    "op": ">=",
    "value": 0.1,
}
GRADED_REASON = "graded claim: partial retention; in the logic Akt is ON or OFF"


def _result(engine: str = "none", **curves) -> ScenarioResult:
    """A one-readout ("x") result with a constant or array curve per arm."""
    arms = tuple(curves)
    values = np.stack([np.broadcast_to(np.asarray(v, dtype=float), T.shape) for v in curves.values()])[:, :, None]
    return ScenarioResult(
        scenario="synthetic",
        engine=engine,
        arms=arms,
        times=T,
        readouts=("x",),
        values=values.copy(),
        records=tuple(ArmRecord(a, "ok") for a in arms),
        units={"x": "u"},
    )


def _exp(**kw) -> Expectation:
    return Expectation(**{"readout": "x", "metric": "final", **kw})


def _scenario(minimal: dict, expect: list[dict], **top) -> igfsim.Scenario:
    d = copy.deepcopy(minimal)
    d.update(expect=expect, **top)
    return igfsim.parse_scenario(d, "test.yaml")


# ------------------------------------------------------------------------------ not_expressible


def test_not_expressible_is_na_with_the_reason_and_does_not_fail():
    e = _exp(arm="a", vs="b", op=">=", value=0.5, not_expressible={"boolean": "graded: no logical form"})
    out = check_expectation(_result("boolean", a=1.0, b=4.0), e)
    assert out.verdict == "n/a" and out.ok
    assert out.detail == "graded: no logical form"
    assert out.observed == pytest.approx(0.25)  # still computed, for information


def test_not_expressible_applies_only_to_the_named_engine():
    e = _exp(arm="a", vs="b", op=">=", value=0.5, not_expressible={"boolean": "graded"})
    assert check_expectation(_result("roadrunner", a=1.0, b=4.0), e).verdict == "fail"
    assert check_expectation(_result("scipy", a=3.0, b=4.0), e).verdict == "pass"


def test_not_expressible_of_a_missing_readout_is_na_not_an_error():
    e = _exp(arm="a", vs="b", op=">=", value=0.5, not_expressible={"boolean": "not a node"})
    out = check_expectation(_result("boolean", a=math.nan, b=math.nan), e)
    assert out.verdict == "n/a" and out.ok and math.isnan(out.observed)


def test_not_expressible_wins_over_a_known_failure_for_every_engine():
    e = _exp(arm="a", vs="b", op=">=", value=0.5, known_failure="too weak", not_expressible={"boolean": "graded"})
    assert check_expectation(_result("boolean", a=1.0, b=4.0), e).verdict == "n/a"
    assert check_expectation(_result("roadrunner", a=1.0, b=4.0), e).verdict == "xfail"


def test_not_expressible_and_known_failure_for_the_same_engine_is_rejected(minimal_scenario_dict):
    bad = {
        **PARTIAL_RETENTION,
        "known_failure": "x",
        "known_failure_engines": ["boolean"],
        "not_expressible": {"boolean": "y"},
    }
    with pytest.raises(igfsim.ScenarioError, match="both in 'not_expressible' and in 'known_failure_engines'"):
        _scenario(minimal_scenario_dict, [bad])


@pytest.mark.parametrize("value", [{}, {"boolean": ""}, ["boolean"]], ids=["empty", "empty reason", "list"])
def test_not_expressible_needs_engine_reason_pairs(minimal_scenario_dict, value):
    with pytest.raises(igfsim.ScenarioError) as info:
        _scenario(minimal_scenario_dict, [{**PARTIAL_RETENTION, "not_expressible": value}])
    assert any(i.where.startswith("expect[0]") for i in info.value.issues), info.value.issues


@pytest.mark.parametrize(
    ("key", "value"), [("not_expressible", {"bolean": "graded"}), ("known_failure_engines", ["bolean"])]
)
def test_unknown_engine_names_are_rejected_with_a_hint(igf_model, minimal_scenario_dict, key, value):
    extra = {key: value, **({"known_failure": "reason"} if key == "known_failure_engines" else {})}
    sc = _scenario(minimal_scenario_dict, [{**PARTIAL_RETENTION, **extra}])
    issues = igfsim.check_scenario(sc, igf_model)
    assert [i.where for i in issues] == [f"expect[0].{key}"]
    assert "unknown engine 'bolean'" in issues[0].message and "did you mean 'boolean'" in issues[0].message
    for name in ENGINES:
        assert name in issues[0].message


def test_every_registered_engine_name_is_accepted(igf_model, minimal_scenario_dict):
    sc = _scenario(minimal_scenario_dict, [{**PARTIAL_RETENTION, "not_expressible": {e: "why" for e in ENGINES}}])
    assert igfsim.check_scenario(sc, igf_model) == []


# --------------------------------------------------------------------------------- vs_normalize


def test_vs_normalize_gives_a_ratio_of_ratios():
    # (a / n) / (v / m) = (6 / 2) / (4 / 8) = 6
    res = _result(a=6.0, n=2.0, v=4.0, m=8.0)
    out = check_expectation(res, _exp(arm="a", normalize="n", vs="v", vs_normalize="m", op=">=", value=5.9))
    assert out.observed == pytest.approx(6.0) and out.verdict == "pass"
    # without vs_normalize, normalize divides both sides and cancels in a ratio: a / v
    assert check_expectation(res, _exp(arm="a", normalize="n", vs="v", op=">", value=0)).observed == pytest.approx(1.5)


def test_vs_normalize_without_normalize_and_with_difference():
    res = _result(a=6.0, n=2.0, v=4.0, m=8.0)
    assert check_expectation(res, _exp(arm="a", vs="v", vs_normalize="m", op=">", value=0)).observed == pytest.approx(
        12.0
    )  # 6 / (4 / 8)
    out = check_expectation(
        res,
        _exp(arm="a", normalize="n", vs="v", vs_normalize="m", compare="difference", op="between", value=(2.4, 2.6)),
    )
    assert out.observed == pytest.approx(2.5) and out.verdict == "pass"  # 6/2 - 4/8


def test_vs_normalize_in_a_trend_divides_the_reference_arms():
    # ratios a_i / (r_i / m): 1/(4/2)=0.5, 2/(4/2)=1, 3/(4/2)=1.5 -> increasing
    res = _result(a1=1.0, a2=2.0, a3=3.0, r=4.0, m=2.0)
    e = _exp(trend="increasing", arms=["a1", "a2", "a3"], vs=["r", "r", "r"], vs_normalize="m", op=">=", value=0.9)
    assert check_expectation(res, e).observed == pytest.approx(1.0)


def test_vs_normalize_needs_vs(minimal_scenario_dict):
    with pytest.raises(igfsim.ScenarioError, match="'vs_normalize' needs 'vs'"):
        _scenario(
            minimal_scenario_dict,
            [{"readout": "pAkt", "metric": "auc", "arm": "control", "vs_normalize": "control", "op": ">=", "value": 0}],
        )


def test_vs_normalize_arm_name_is_checked(igf_model, minimal_scenario_dict):
    sc = _scenario(minimal_scenario_dict, [{**PARTIAL_RETENTION, "normalize": "control", "vs_normalize": "contrl"}])
    issues = igfsim.check_scenario(sc, igf_model)
    assert [i.where for i in issues] == ["expect[0].vs_normalize"]
    assert "did you mean 'control'" in issues[0].message
    assert "control" in sc.expect[0].arm_names()


def test_describe_writes_a_ratio_of_ratios_out():
    text = describe(
        _exp(
            arm="lins_adapted",
            normalize="control_adapted",
            vs="lins_default",
            vs_normalize="control_default",
            op=">=",
            value=1.5,
        )
    )
    assert text == "x final (lins_adapted / control_adapted) / (lins_default / control_default) >= 1.5"
    text = describe(
        _exp(arm="a", normalize="n", vs="v", vs_normalize="m", compare="difference", op="between", value=(0, 1))
    )
    assert text == "x final (a / n) - (v / m) between [0, 1]"
    assert describe(_exp(arm="a", vs="v", vs_normalize="m", op="<", value=2)) == "x final a / (v / m) < 2"
    text = describe(
        _exp(trend="increasing", arms=["a", "b", "c"], vs=["r", "r", "r"], vs_normalize="m", op=">=", value=0.8)
    )
    assert "references normalised to m" in text


# ------------------------------------------------------------------------------ mechanism block

MECHANISM = {
    "id": "C01",
    "summary": "The antibody spares InsR.",
    "model_parts": ["antibody slot (Ab_IGF1R)", "IR-A homodimer binding"],
    "by_construction": None,
}


def test_mechanism_block_is_optional_and_parsed(igf_model, minimal_scenario_dict):
    sc = _scenario(minimal_scenario_dict, [PARTIAL_RETENTION], claims=["C01"], mechanism=MECHANISM)
    assert sc.mechanism.model_parts == MECHANISM["model_parts"] and sc.mechanism.by_construction is None
    assert igfsim.check_scenario(sc, igf_model) == []
    assert _scenario(minimal_scenario_dict, [PARTIAL_RETENTION]).mechanism is None


def test_mechanism_block_rejects_unknown_keys(minimal_scenario_dict):
    with pytest.raises(igfsim.ScenarioError) as info:
        _scenario(minimal_scenario_dict, [PARTIAL_RETENTION], mechanism={**MECHANISM, "parts": []})
    assert [i.where for i in info.value.issues] == ["mechanism.parts"]
    assert "did you mean 'model_parts'" in str(info.value)


def test_mechanism_id_must_be_one_of_the_claims(igf_model, minimal_scenario_dict):
    sc = _scenario(minimal_scenario_dict, [PARTIAL_RETENTION], claims=["C02"], mechanism=MECHANISM)
    assert [i.where for i in igfsim.check_scenario(sc, igf_model)] == ["mechanism.id"]


# ------------------------------------------------------------------------------------ renderer

BUNDLED = sorted(bundled_scenarios_dir().glob("*.yaml"))


def test_rendering_is_deterministic_and_independent_of_the_folder(tmp_path):
    first = render_mechanisms_md(bundled_scenarios_dir())
    assert render_mechanisms_md(bundled_scenarios_dir()) == first
    copy_dir = tmp_path / "elsewhere"
    copy_dir.mkdir()
    for f in reversed(BUNDLED):  # a different folder, files created in a different order
        shutil.copy(f, copy_dir / f.name)
    assert render_mechanisms_md(copy_dir) == first
    assert str(bundled_scenarios_dir()) not in first and str(tmp_path) not in first


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_rendering_contains_each_scenarios_title_and_references(path):
    text = render_mechanisms_md(bundled_scenarios_dir())
    sc = igfsim.load_scenario(path)
    assert " ".join(sc.title.split()) in text
    assert f"`{sc.name}`" in text and f"scenarios/{path.name}" in text
    for ref in sc.references:
        assert ref in text
    for e in sc.expect:
        assert describe(e) in text
        for reason in (e.not_expressible or {}).values():
            assert " ".join(reason.split()) in text


def test_rendering_runs_no_simulation(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("the docs generator must not simulate")

    monkeypatch.setattr(igfsim.engines, "get_engine", forbidden)
    monkeypatch.setattr(igfsim.runner, "run_scenario", forbidden)
    assert render_mechanisms_md(bundled_scenarios_dir()).startswith("# Mechanisms\n")


def _write(folder: Path, d: dict) -> None:
    (folder / f"{d['name']}.yaml").write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")


def test_rendering_sorts_by_claim_id_and_shows_the_mechanism(tmp_path, minimal_scenario_dict):
    base = {**copy.deepcopy(minimal_scenario_dict), "expect": [PARTIAL_RETENTION]}
    _write(tmp_path, {**base, "name": "a_last", "title": "No claim at all"})
    _write(tmp_path, {**base, "name": "b_c10", "title": "Claim ten", "claims": ["C10"]})
    _write(
        tmp_path,
        {
            **base,
            "name": "z_c2",
            "title": "Claim two",
            "claims": ["C2"],
            "references": ["Hua 2020 [99]"],
            "mechanism": {**MECHANISM, "id": "C2", "by_construction": "the rise is built in"},
            "expect": [
                {**PARTIAL_RETENTION, "note": "partial", "not_expressible": {"boolean": GRADED_REASON}},
                {**PARTIAL_RETENTION, "known_failure": "too weak", "known_failure_engines": ["roadrunner", "scipy"]},
            ],
        },
    )
    text = render_mechanisms_md(tmp_path)
    assert text.index("Claim two") < text.index("Claim ten") < text.index("No claim at all")  # C2 < C10 < none
    assert "The antibody spares InsR." in text and "- antibody slot (Ab_IGF1R)" in text
    assert "**By construction.** the rise is built in" in text and "Hua 2020 [99]" in text
    assert f"not expressible in boolean: {GRADED_REASON}" in text
    assert "known failure in roadrunner, scipy: too weak" in text
    assert "no `mechanism:` block" in text  # the scenarios without one say so
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_rendering_an_invalid_or_empty_folder_raises(tmp_path):
    with pytest.raises(igfsim.ScenarioError, match="no scenario files"):
        render_mechanisms_md(tmp_path)
    (tmp_path / "bad.yaml").write_text("name: bad\ntitle: t\narms: []\n", encoding="utf-8")
    with pytest.raises(igfsim.ScenarioError, match="bad.yaml"):
        render_mechanisms_md(tmp_path)


def test_committed_mechanisms_page_is_up_to_date():
    """docs/mechanisms.md must equal the rendering of the bundled scenarios: run `igfsim docs` to fix."""
    if not DOCS_FILE.parent.is_dir():  # an installed package without the source tree's docs folder
        pytest.skip("no docs/ folder next to tests/ (not a source checkout)")
    assert DOCS_FILE.is_file(), f"{DOCS_FILE} is missing: run `igfsim docs`"
    summary_file = DOCS_FILE.parent / EnsembleSummary.FILE  # the bundled ensemble's shares, when committed
    summary = EnsembleSummary.read(summary_file) if summary_file.is_file() else None
    assert DOCS_FILE.read_text(encoding="utf-8") == render_mechanisms_md(bundled_scenarios_dir(), summary), (
        f"{DOCS_FILE} is stale: run `igfsim docs` after editing a scenario"
    )


# ------------------------------------------------------------------------------------ igfsim docs


def test_docs_writes_then_check_passes_then_fails_when_stale(tmp_path, capsys):
    out = tmp_path / "sub" / "mechanisms.md"
    assert main(["docs", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_mechanisms_md(bundled_scenarios_dir())
    assert main(["docs", "--check", "--out", str(out)]) == 0
    assert "up to date" in capsys.readouterr().out
    out.write_text(out.read_text(encoding="utf-8").replace("# Mechanisms", "# Mechanism", 1), encoding="utf-8")
    before = out.read_text(encoding="utf-8")
    assert main(["docs", "--check", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert str(out) in printed and "stale" in printed and "-# Mechanism" in printed
    assert out.read_text(encoding="utf-8") == before  # --check writes nothing


def test_docs_check_of_a_missing_file_exits_1(tmp_path, capsys):
    assert main(["docs", "--check", "--out", str(tmp_path / "none.md")]) == 1
    assert "none.md" in capsys.readouterr().out
    assert not (tmp_path / "none.md").exists()


def test_docs_with_a_bad_scenario_folder_exits_2(tmp_path, capsys):
    assert main(["docs", "--scenarios", str(tmp_path), "--out", str(tmp_path / "m.md")]) == 2
    assert "no scenario files" in capsys.readouterr().err


def test_docs_from_another_folder(tmp_path, minimal_scenario_dict):
    _write(tmp_path, {**copy.deepcopy(minimal_scenario_dict), "expect": [PARTIAL_RETENTION], "claims": ["C99"]})
    out = tmp_path / "m.md"
    assert main(["docs", "--scenarios", str(tmp_path), "--out", str(out)]) == 0
    assert "## C99: " in out.read_text(encoding="utf-8")
    assert main(["docs", "--check", "--out", str(out)]) == 1  # the bundled folder renders differently


# -------------------------------------------------------------------- validate: output and exit code


@pytest.fixture
def scenario_file(tmp_path, minimal_scenario_dict):
    def write(expect, name="mech", **top):
        d = copy.deepcopy(minimal_scenario_dict)
        d.update(name=name, expect=expect, **top)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
        return path

    return write


def test_validate_single_engine_prints_na_with_reason(scenario_file, capsys):
    path = scenario_file(
        [{**PARTIAL_RETENTION, "not_expressible": {"boolean": GRADED_REASON}}],
        claims=["C01"],
        references=["Hua 2020 [1]"],
    )
    assert main(["validate", "--engine", "boolean", str(path)]) == 0
    out = capsys.readouterr().out
    assert "C01  mech: " in out and "references: Hua 2020 [1]" in out
    assert "N/A" in out and GRADED_REASON in out
    assert "0/1 expectations passed, 1 not expressible in this engine" in out


def _verdicts(row: str) -> list[str]:
    """The verdict columns of a ``validate --engine all`` row, one per engine compared."""
    words = row.split()
    return words[: words.index("pAkt")]


def test_validate_all_fails_when_only_the_boolean_engine_fails(scenario_file, capsys):
    """The ODE keeps part of pAkt under the antibody, the logic none: a graded claim checked in every engine."""
    code = main(["validate", "--engine", "all", str(scenario_file([PARTIAL_RETENTION]))])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    row = next(line for line in out.splitlines() if "pAkt final cixutumumab / control" in line)
    *odes, boolean = _verdicts(row)  # roadrunner, scipy (and cvodes where installed), then boolean
    assert odes and set(odes) == {"PASS"} and boolean == "FAIL", row
    assert "expect[0] FAIL in boolean" in out


def test_validate_all_passes_once_the_claim_is_not_expressible_in_boolean(scenario_file, capsys):
    path = scenario_file(
        [{**PARTIAL_RETENTION, "not_expressible": {"boolean": GRADED_REASON}}],
        claims=["C01"],
        references=["Hua 2020 [1]"],
    )
    code = main(["validate", "--engine", "all", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    row = next(line for line in out.splitlines() if "pAkt final cixutumumab / control" in line)
    *odes, boolean = _verdicts(row)
    assert odes and set(odes) == {"PASS"} and boolean == "N/A" and "engines differ" not in row
    assert f"boolean N/A: {GRADED_REASON}" in " ".join(out.split()), out  # the reason may wrap
    assert "C01  mech: " in out and "references: Hua 2020 [1]" in out
    assert "boolean    1 n/a (of 1)" in out


def test_validate_all_with_a_name_error_exits_2(scenario_file, capsys):
    path = scenario_file([{**PARTIAL_RETENTION, "vs_normalize": "contrl"}])
    assert main(["validate", "--engine", "all", str(path)]) == 2
    err = capsys.readouterr().err
    assert "expect[0].vs_normalize" in err and str(path) in err


# ----------------------------------------------- exit-code rules on hand-made reports (no simulation)


def _outcome(verdict: str, index: int = 0):
    e = Expectation(**PARTIAL_RETENTION)
    return igfsim.ExpectationOutcome(index, e, 0.5, verdict, "why" if verdict != "pass" else "")


def _fake_report(verdicts: dict[str, str], *, diff: float = 1e-8, errors: dict | None = None):
    rep = ScenarioConsistency(
        "mech", "t", ("roadrunner", "scipy", "boolean"), 0.2, claims=("C01",), references=("Hua 2020 [1]",)
    )
    rep.outcomes = {e: [_outcome(v)] for e, v in verdicts.items() if e not in (errors or {})}
    rep.errors = dict(errors or {})
    rep.ode_max_abs_diff = diff
    return rep


@pytest.mark.parametrize(
    ("verdicts", "kwargs", "code"),
    [
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "pass"}, {}, 0),
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "n/a"}, {}, 0),
        ({"roadrunner": "xfail", "scipy": "xfail", "boolean": "pass"}, {}, 0),
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "fail"}, {}, 1),
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "xpass"}, {}, 1),
        ({"roadrunner": "fail", "scipy": "fail", "boolean": "n/a"}, {}, 1),
        ({"roadrunner": "pass", "scipy": "xfail", "boolean": "pass"}, {}, 1),  # ODE verdicts differ
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "pass"}, {"diff": 2e-3}, 1),  # ODE values differ
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "pass"}, {"errors": {"boolean": "boom"}}, 3),
        ({"roadrunner": "pass", "scipy": "pass", "boolean": "fail"}, {"errors": {"scipy": "boom"}}, 3),
    ],
    ids=[
        "all pass",
        "n/a",
        "xfail",
        "boolean fail",
        "boolean xpass",
        "ode fail",
        "ode verdicts differ",
        "ode values differ",
        "boolean engine failed",
        "scipy engine failed",
    ],
)
def test_validate_all_exit_code_rule(monkeypatch, scenario_file, capsys, verdicts, kwargs, code):
    monkeypatch.setattr(
        igfsim.analysis.consistency, "compare_scenario", lambda *a, **k: _fake_report(verdicts, **kwargs)
    )
    assert main(["validate", "--engine", "all", str(scenario_file([PARTIAL_RETENTION]))]) == code
    out = capsys.readouterr().out
    assert ("NOT OK" in out) == (code != 0) and ("\nOK:" in out) == (code == 0)


def test_format_consistency_lists_reasons_once_per_group_of_engines():
    rep = _fake_report({"roadrunner": "xfail", "scipy": "xfail", "boolean": "n/a"})
    text = format_consistency([rep])
    assert "C01  mech: t" in text and "references: Hua 2020 [1]" in text
    assert "roadrunner, scipy XFAIL: why" in text and "boolean N/A: why" in text
    assert "engines differ" not in text  # an N/A is not a disagreement


def test_summary_json_counts_not_expressible(minimal_scenario_dict):
    sc = _scenario(
        minimal_scenario_dict,
        [{**PARTIAL_RETENTION, "not_expressible": {"none": "x"}}],
        claims=["C01"],
        mechanism=MECHANISM,
    )
    res = ScenarioResult(
        scenario="minimal",
        engine="none",
        arms=("control", "cixutumumab"),
        times=T,
        readouts=("pAkt",),
        values=np.stack([np.full((11, 1), 0.8), np.full((11, 1), 0.2)]),
        records=(ArmRecord("control", "ok"), ArmRecord("cixutumumab", "ok")),
    )
    outcomes = igfsim.check_expectations(res, sc)
    summary = summary_dict(res, sc, outcomes)
    assert summary["not_expressible"] == 1 and summary["failed"] == 0 and summary["passed"] == 0
    assert summary["expectations"][0]["verdict"] == "n/a"
    assert summary["mechanism"]["model_parts"] == MECHANISM["model_parts"]
