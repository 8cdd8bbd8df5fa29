"""The command line, in-process through ``main(argv)`` plus one smoke test of the installed script."""

from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import igfsim
from igfsim.cli import main
from igfsim.resources import bundled_scenarios_dir

TRUE_EXPECTATION = {
    "readout": "pIGF1R",
    "metric": "at_15",
    "arm": "cixutumumab",
    "vs": "control",
    "op": "<=",
    "value": 0.5,
}
FALSE_EXPECTATION = {**TRUE_EXPECTATION, "op": ">=", "value": 0.5}


@pytest.fixture
def scenario_file(tmp_path, write_yaml, minimal_scenario_dict):
    """Write a variant of the minimal scenario: ``scenario_file(name, expect=[...], **top_level)``."""

    def write(name="good", expect=(TRUE_EXPECTATION,), **changes):
        d = copy.deepcopy(minimal_scenario_dict)
        d.update(name=name, expect=[dict(e) for e in expect], **changes)
        return write_yaml(tmp_path, yaml.safe_dump(d, sort_keys=False), f"{name}.yaml")

    return write


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("igfsim: error:")]


def test_validate_passing_scenario_exits_0(scenario_file, capsys):
    assert main(["validate", str(scenario_file())]) == 0
    out, err = capsys.readouterr()
    assert "PASS" in out and "1/1 expectations passed" in out
    assert not _errors(err)


def test_validate_failing_expectation_exits_1(scenario_file, capsys):
    assert main(["validate", str(scenario_file("bad_claim", expect=[FALSE_EXPECTATION]))]) == 1
    out, _ = capsys.readouterr()
    assert "FAIL" in out and "0/1 expectations passed" in out


def test_bad_input_exits_2_with_one_error_line(scenario_file, capsys):
    path = scenario_file(
        "typo",
        arms=[{"name": "control"}, {"name": "cixutumumab", "treatments": [{"drug": "cixutumumb", "dose_nM": 100}]}],
    )
    assert main(["run", str(path), "--out", str(path.parent / "out")]) == 2
    out, err = capsys.readouterr()
    lines = _errors(err)
    assert len(lines) == 1, err
    assert str(path) in lines[0] and "arms[1].treatments[0].drug" in lines[0] and "cixutumumab" in lines[0]
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    "content",
    [b"name: x\ntitle: [y\n", b"", b"name: x\ntitle: caf\xe9\narms: [{name: a}]\n"],
    ids=["malformed", "empty", "latin-1"],
)
def test_unreadable_file_exits_2(tmp_path, capsys, content):
    path = tmp_path / "weird.yaml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert len(_errors(err)) == 1 and str(path) in err and "Traceback" not in err + out


def test_missing_file_and_empty_folder_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["validate", str(tmp_path / "empty")]) == 2
    _, err = capsys.readouterr()
    assert "nope.yaml" in err and "empty" in err and "Traceback" not in err


def test_bad_model_exits_2(scenario_file, tmp_path, capsys):
    assert main(["validate", str(scenario_file()), "--model", str(tmp_path / "none.antimony")]) == 2
    _, err = capsys.readouterr()
    assert len(_errors(err)) == 1 and "none.antimony" in err


def test_unknown_engine_exits_2(scenario_file, capsys):
    assert main(["validate", str(scenario_file()), "--engine", "roadruner"]) == 2
    _, err = capsys.readouterr()
    assert "did you mean 'roadrunner'" in err


DIVERGING = {"k_dp_fast": -1}  # deactivation becomes activation: pre-equilibration cannot settle


def test_override_really_breaks_preequilibration(igf_model, minimal_scenario_dict):
    minimal_scenario_dict["cell"] = {"parameters": DIVERGING}
    sc = igfsim.parse_scenario(minimal_scenario_dict, "diverging")
    with pytest.raises(igfsim.SimulationError, match="pre-equilibration"):
        igfsim.run_scenario(sc, igf_model)


def test_simulation_failure_exits_3(scenario_file, tmp_path, capsys):
    path = scenario_file("diverging", cell={"parameters": DIVERGING})
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-png"]) == 3
    out, err = capsys.readouterr()
    lines = _errors(err)
    assert lines and all(str(path) in line and "pre-equilibration" in line for line in lines)
    assert "Traceback" not in err + out
    summary = json.loads((tmp_path / "out" / "diverging" / "summary.json").read_text())
    assert {a["status"] for a in summary["arms"].values()} == {"failed"}


def test_run_writes_outputs(scenario_file, tmp_path, capsys):
    out_dir = tmp_path / "out"
    path = scenario_file("outputs", readouts=["pIGF1R", "pAkt", "IGF1"], expect=[TRUE_EXPECTATION, FALSE_EXPECTATION])
    assert main(["run", str(path), "--out", str(out_dir), "--png"]) == 1
    folder = out_dir / "outputs"

    with (folder / "timecourse.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["arm", "time", "pIGF1R", "pAkt", "IGF1"]
    assert len(rows) == 1 + 2 * 61
    assert {r[0] for r in rows[1:]} == {"control", "cixutumumab"}
    assert float(rows[1][1]) == 0.0 and float(rows[61][1]) == 60.0
    assert all(-1e-8 <= float(r[2]) <= 1 + 1e-8 for r in rows[1:])

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == "outputs" and summary["engine"] == "roadrunner"
    assert set(summary["arms"]) == {"control", "cixutumumab"}
    for arm in summary["arms"].values():
        assert arm["status"] == "ok"
        assert set(arm["metrics"]) == {"pIGF1R", "pAkt", "IGF1"}
        assert {"auc", "peak", "final", "mean", "min", "tpeak"} <= set(arm["metrics"]["pAkt"])
    exps = summary["expectations"]
    assert [e["verdict"] for e in exps] == ["pass", "fail"]
    assert exps[0]["observed"] == pytest.approx(exps[1]["observed"]) and 0 <= exps[0]["observed"] <= 0.5
    assert summary["passed"] == 1 and summary["failed"] == 1
    assert summary["model"]["sha256"]

    png = (folder / "timecourse.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert "timecourse.png" in capsys.readouterr().out


def test_run_draws_a_figure_only_when_asked(scenario_file, tmp_path, capsys):
    path = scenario_file("plain", expect=[TRUE_EXPECTATION])
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    folder = tmp_path / "out" / "plain"
    assert (folder / "timecourse.csv").is_file() and not (folder / "timecourse.png").exists()
    assert "timecourse.png" not in capsys.readouterr().out


def test_results_are_not_lost_when_a_later_scenario_is_bad(scenario_file, tmp_path, capsys):
    good = scenario_file("first")
    bad = scenario_file("second", stimulus={"IGF1": -3})
    out_dir = tmp_path / "out"
    assert main(["run", str(good), str(bad), "--out", str(out_dir), "--no-png"]) == 2
    assert (out_dir / "first" / "timecourse.csv").is_file()
    assert (out_dir / "first" / "summary.json").is_file()
    assert not (out_dir / "second").exists()
    _, err = capsys.readouterr()
    assert len(_errors(err)) == 1 and "second.yaml" in err and "stimulus.IGF1" in err


def test_largest_exit_code_wins(scenario_file, capsys):
    ok, failing = scenario_file("ok"), scenario_file("failing", expect=[FALSE_EXPECTATION])
    diverging = scenario_file("diverging", cell={"parameters": DIVERGING})
    assert main(["validate", str(ok), str(failing)]) == 1
    assert main(["validate", str(diverging), str(failing), str(ok)]) == 3
    capsys.readouterr()


def test_validate_directory(scenario_file, capsys):
    path = scenario_file("in_folder")
    scenario_file("in_folder_too")
    assert main(["validate", str(path.parent)]) == 0
    out, _ = capsys.readouterr()
    assert "2/2 expectations passed" in out and "2 scenario file(s)" in out


@pytest.mark.slow
def test_validate_bundled_directory(capsys):
    assert main(["validate", str(bundled_scenarios_dir()), "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert "expectations passed" in out


def test_list_prints_everything(capsys):
    assert main(["list"]) == 0
    out, _ = capsys.readouterr()
    for name in [*igfsim.DRUGS, *igfsim.CONTEXTS, *igfsim.READOUTS]:
        assert name in out, name
    for f in bundled_scenarios_dir().glob("*.yaml"):
        assert igfsim.load_scenario(f).name in out
    assert "INVALID" not in out


@pytest.mark.parametrize("what", ["drugs", "contexts", "readouts", "scenarios"])
def test_list_one_section(capsys, what):
    assert main(["list", what]) == 0
    out, _ = capsys.readouterr()
    headers = {"drugs": "Drugs (", "contexts": "Cell contexts (", "readouts": "Readouts", "scenarios": "Scenarios"}
    assert len(out.splitlines()) >= 2
    assert [h for h in headers.values() if h in out] == [headers[what]]


def test_installed_script_lists():
    script = Path(sys.executable).with_name("igfsim")
    assert script.exists(), f"console script not installed next to {sys.executable}"
    proc = subprocess.run([str(script), "list"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "cixutumumab" in proc.stdout and "InsR-A-high" in proc.stdout and "pIGF1R" in proc.stdout


def test_time_point_after_the_end_is_bad_input(scenario_file, capsys):
    late = {**TRUE_EXPECTATION, "metric": "at_500"}
    path = scenario_file("late", expect=[late])
    assert main(["run", str(path), "--out", str(path.parent / "out")]) == 2
    out, err = capsys.readouterr()
    assert "expect[0].metric" in err and "after the end" in err and "Traceback" not in err + out


def test_model_without_standard_readouts_is_bad_input(scenario_file, tmp_path, capsys):
    model = tmp_path / "other.antimony"
    model.write_text("model other\ncompartment medium = 1\nspecies IGF1 in medium\nIGF1 = 0\nend\n")
    path = scenario_file("other_model", expect=[])
    assert main(["validate", str(path), "--model", str(model)]) == 2
    _, err = capsys.readouterr()
    assert "readouts: " in err and "names no standard readouts" in err and "Traceback" not in err


def test_unwritable_output_folder_exits_2(scenario_file, tmp_path, capsys):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the output folder should be")
    assert main(["run", str(scenario_file()), "--out", str(blocker)]) == 2
    _, err = capsys.readouterr()
    assert str(blocker) in err and "Traceback" not in err


def test_model_without_drug_slots_is_bad_input(scenario_file, tmp_path, capsys):
    model = tmp_path / "bare.antimony"
    model.write_text("model bare\ncompartment medium = 1\nspecies IGF1 in medium\nIGF1 = 0\nx = 1\nend\n")
    path = scenario_file("bare_model", expect=[], readouts=["IGF1"])
    assert main(["validate", str(path), "--model", str(model)]) == 2
    _, err = capsys.readouterr()
    assert "treatments[0].drug" in err and "'anti-IGF1R-mAb', which is not a mode of action" in err
    assert "no mapping file" in err and "Traceback" not in err


def test_a_crash_is_exit_4_in_one_line_never_exit_1(monkeypatch, capsys):
    """An exception igfsim did not raise on purpose is a bug: exit 4 (not 1, which means "an
    expectation failed"), one line naming it, the traceback only with --debug; Ctrl-C is 130."""
    import igfsim.cli.files as files

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(files, "_cmd_list", broken)
    assert main(["list"]) == 4
    err = capsys.readouterr().err
    assert "igfsim crashed: ZeroDivisionError: division by zero at test_cli.py:" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["--debug", "list"]) == 4
    assert "Traceback" in capsys.readouterr().err

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files, "_cmd_list", interrupted)
    assert main(["list"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_run_outputs_are_replaced_whole_and_a_write_error_skips_only_its_scenario(scenario_file, tmp_path, capsys):
    """Outputs go through a temporary file and a rename: a failing write (a full disk) leaves the
    previous files whole; a symlink where an output goes is refused, not written through; the other
    scenarios are still run and written."""
    from igfsim.result.scenario_result import ScenarioResult

    first, second = scenario_file("first", expect=[]), scenario_file("second", expect=[])
    out = tmp_path / "out"
    assert main(["run", str(first), str(second), "--out", str(out), "--no-png", "--quiet"]) == 0
    old_csv = (out / "first" / "timecourse.csv").read_bytes()
    old_summary = (out / "first" / "summary.json").read_bytes()
    real = ScenarioResult.write_csv

    def disk_full(self, path, *args, **kwargs):
        if "first" in str(Path(path).parent):
            Path(path).write_text("arm,time,pIGF1R\ncontrol,0,0.0", encoding="utf-8")  # cut off mid-write
            raise OSError(28, "No space left on device")
        return real(self, path, *args, **kwargs)

    target = tmp_path / "elsewhere.json"
    target.write_text("not igfsim's", encoding="utf-8")
    (out / "second" / "summary.json").unlink()
    (out / "second" / "summary.json").symlink_to(target)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ScenarioResult, "write_csv", disk_full)
        code = main(["run", str(first), str(second), "--out", str(out), "--no-png", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err and "is a symlink" in err
    assert (out / "first" / "timecourse.csv").read_bytes() == old_csv  # the previous files, whole
    assert (out / "first" / "summary.json").read_bytes() == old_summary
    assert target.read_text(encoding="utf-8") == "not igfsim's"  # nothing written through the symlink
    assert not list((out / "first").glob(".*.tmp")) and not list((out / "second").glob(".*.tmp"))
