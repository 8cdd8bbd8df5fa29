"""Wrong input is refused with the file and the key, never silently read (issue 13): Booleans where
numbers belong, NaN/inf, reversed ranges, empty arm names, duplicate keys, treatments outside the
simulated window, and files that nest, alias or expand beyond the limits; quoted values stay short."""

from __future__ import annotations

import time

import pytest

from igfsim.errors import ScenarioError
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.loading import load_scenario
from igfsim.yamlfile import MAX_DEPTH, MAX_QUOTED, MAX_VALUES

BASE = """name: s
title: t
stimulus: {IGF1: 10}
arms:
  - {name: control}
  - name: lins
    treatments: [{drug: linsitinib, dose_nM: 100}]
"""


def _issues(tmp_path, text: str) -> dict[str, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(path) in str(err.value)
    return {i.where: i.message for i in err.value.issues}


def test_booleans_nan_inf_reversed_and_empty_values_are_refused_all_at_once(tmp_path):
    issues = _issues(
        tmp_path,
        BASE.replace("dose_nM: 100", "dose_nM: true")
        + "simulation: {duration_min: yes, atol: .inf, points: 1000000}\n"
        + "expect:\n"
        + "  - {readout: pAkt, metric: final, arm: lins, vs: '', op: '<=', value: .nan}\n"
        + "  - {readout: pAkt, metric: final, arm: lins, vs: control, op: between, value: [2, 0]}\n",
    )
    assert issues["arms[1].treatments[0].dose_nM"] == "expected a number, got true (a Boolean)"
    assert issues["simulation.duration_min"] == "expected a number, got true (a Boolean)"
    assert "finite" in issues["simulation.atol"] and "100000" in issues["simulation.points"]
    assert "finite" in issues["expect[0].value"] and "at least 1 character" in issues["expect[0].vs"]
    assert "low <= high" in issues["expect[1]"]
    assert len(issues) == 7  # one message per key: a union's alternatives are not repeated


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    issues = _issues(tmp_path, BASE + "title: again\n")
    ((where, message),) = issues.items()
    assert where == "line 8, column 1" and "duplicate key 'title' (first on line 2)" in message


@pytest.mark.parametrize("kind", ["alias bomb", "deep", "many aliases"])
def test_files_beyond_the_size_limits_are_refused_fast(tmp_path, kind):
    if kind == "alias bomb":  # 9**7 values once expanded, from 600 bytes
        rows = ["a: &a [x, x, x, x, x, x, x, x, x]"]
        rows += [f"{c}: &{c} [{', '.join(['*' + p] * 9)}]" for p, c in zip("abcdef", "bcdefg", strict=True)]
        text, words = "\n".join(rows) + "\n", f"more than {MAX_VALUES} values"
    elif kind == "deep":
        text, words = "a: " + "[" * 1000 + "]" * 1000 + "\n", f"nested more than {MAX_DEPTH} levels"
    else:
        text, words = "a: &a 1\nb: [" + ", ".join(["*a"] * 300) + "]\n", "more than 200 aliases"
    t0 = time.perf_counter()
    (message,) = _issues(tmp_path, text).values()
    assert words in message and time.perf_counter() - t0 < 5


def test_a_treatment_after_the_end_is_refused_not_dropped(tmp_path, igf_model):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("dose_nM: 100", "dose_nM: 100, start_min: 500"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"arms\[1\]\.treatments\[0\]\.start_min: 500 min is after the end"):
        validate_scenario(load_scenario(path), igf_model, str(path))


def test_a_huge_value_is_quoted_short(tmp_path):
    (message,) = _issues(tmp_path, BASE + "simulation: {rtol: '" + "9" * 5000 + "x'}\n").values()
    assert len(message) < MAX_QUOTED + 100 and message.endswith("...")


def test_one_pass_reports_shape_and_name_problems_together(tmp_path):
    """PEtab-lint style: a file with a wrong shape still gets its unknown context, drug and arm names
    reported in the same error, instead of one round of fixes per kind of problem."""
    catalog = tmp_path / "cat.yaml"
    catalog.write_text("contexts:\n  MCF7-own:\n    description: own\n    expression: {}\n    source: test\n")
    issues = _issues(
        tmp_path,
        BASE.replace("linsitinib", "linsitnib").replace("dose_nM: 100", "dose_nM: -1")
        + "catalog: [cat.yaml]\n"
        + "cell: {context: MCF-7}\n"
        + "expect:\n  - {readout: pAkt, arm: lins, metric: auc, op: '<', value: 0.5, vs: contrl, compare: ratio}\n",
    )
    assert "dose_nM" in next(k for k in issues if k.endswith("dose_nM"))  # the shape problem
    assert "did you mean 'linsitinib'" in issues["arms[1].treatments[0].drug"]
    assert "unknown cell context 'MCF-7'" in issues["cell.context"]
    assert "MCF7-own" in issues["cell.context"]  # the file's own catalogue is read for the names
    assert "no arm named 'contrl'" in issues["expect[0].vs"]


def test_a_shape_only_problem_adds_no_name_noise(tmp_path):
    issues = _issues(tmp_path, BASE.replace("dose_nM: 100", "dose_nM: -1"))
    assert list(issues) == ["arms[1].treatments[0].dose_nM"]
