"""Which files commands read: bundled scenarios and sweeps by name from any folder, the checkout before
the installed copy, docs written into the checkout, and what each command says it read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import igfsim.resources as resources
from igfsim.cli import main
from igfsim.cli.common import bundled_by_name

ROOT = Path(__file__).resolve().parents[1]


def test_a_bundled_scenario_runs_by_name_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "c16_ligand_specificity", "--out", "o", "--no-png"]) in (0, 1)
    out = capsys.readouterr().out
    assert (tmp_path / "o" / "c16_ligand_specificity" / "summary.json").is_file()
    assert "model: " in out and "scenarios: 1 file(s) from" in out and "mapping: igf1r.mapping.yaml" in out
    assert bundled_by_name("cixutumumab_vs_insr_a", resources.bundled_sweeps_dir()) is not None
    assert bundled_by_name("sub/c16_ligand_specificity", resources.bundled_scenarios_dir()) is None


def test_the_checkout_holding_the_working_folder_is_read_before_the_installed_copy(tmp_path, monkeypatch):
    checkout = tmp_path / "my-igfsim"
    shutil.copytree(ROOT / "models", checkout / "models")
    (checkout / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "c16_ligand_specificity.yaml", checkout / "scenarios")
    (checkout / "pyproject.toml").write_text('[project]\nname = "igfsim"\n', encoding="utf-8")
    (checkout / "docs").mkdir()
    monkeypatch.chdir(checkout / "docs")
    assert resources.checkout_root() == checkout
    assert resources.bundled_scenarios_dir() == checkout / "scenarios"
    assert resources.bundled_model_path() == checkout / "models" / "igf1r.antimony"
    assert "(checkout" in resources.where(resources.bundled_scenarios_dir())
    # an edit in this checkout is what `igfsim docs --check` compares against, and docs go into its docs/
    assert main(["docs"]) == 0 and (checkout / "docs" / "mechanisms.md").is_file()
    assert main(["docs", "--check"]) == 0
    f = checkout / "scenarios" / "c16_ligand_specificity.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1), encoding="utf-8")
    assert main(["docs", "--check"]) == 1


def test_docs_outside_a_checkout_need_out(monkeypatch, capsys):
    monkeypatch.setattr(resources, "checkout_root", lambda: None)
    assert main(["docs"]) == 2
    assert "not in an igfsim checkout" in capsys.readouterr().err


def test_report_refuses_to_overwrite_before_running_anything(tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("mine", encoding="utf-8")
    assert main(["report", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "mine"


def test_compare_offers_only_the_options_it_uses(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "--threshold" in text and "--catalog" in text
    assert "--engine" not in text and "--no-png" not in text and "--set" not in text


def test_set_overrides_a_parameter_and_refuses_bad_items_all_at_once(tmp_path, capsys):
    base = ["run", "c16_ligand_specificity", "--no-png", "--quiet"]
    assert main([*base, "--set", "nope=1", "--set", "Kd_R11_IGF1", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "'nope' is no parameter or species" in err and "expected ID=VALUE" in err
    assert not (tmp_path / "x").exists()
    main([*base, "--out", str(tmp_path / "a")])
    main([*base, "--set", "Kd_R11_IGF1=30", "--out", str(tmp_path / "b")])
    a = (tmp_path / "a" / "c16_ligand_specificity" / "timecourse.csv").read_text(encoding="utf-8")
    b = (tmp_path / "b" / "c16_ligand_specificity" / "timecourse.csv").read_text(encoding="utf-8")
    assert a != b  # a 190-fold weaker IGF1 binding changes the trajectories


@pytest.mark.slow
def test_an_installed_copy_outside_a_checkout_has_the_scenarios_and_sweeps(tmp_path):
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(ROOT)]
    subprocess.run(pip, check=True, capture_output=True, timeout=600)
    code = (
        "import igfsim.resources as r; print(r.checkout_root()); print(r.where(r.bundled_scenarios_dir())); "
        "print(r.bundled_sweeps_dir().joinpath('cixutumumab_vs_insr_a.yaml').is_file()); "
        "print(r.bundled_model_path().with_name('igf1r.mapping.yaml').is_file())"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=True
    )
    lines = proc.stdout.split("\n")
    assert lines[0] == "None" and "(installed copy)" in lines[1] and lines[2:4] == ["True", "True"], proc.stdout
