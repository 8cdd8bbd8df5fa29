"""`igfsim export --format sedml`: a valid OMEX/SED-ML archive; tellurium's own SED-ML executor reproduces igfsim.

Everything that imports libsedml (the export, libsedml's reader, tellurium) runs in a child
process: importing libsedml after libsbml in one process turns libsbml's AST node types into
unhashable SWIG objects, which breaks the scipy engine's SBML translation in later tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from igfsim.resources import bundled_scenarios_dir

pytestmark = pytest.mark.slow  # a child process or a notebook kernel: seconds each

CHILD = textwrap.dedent("""
    import json, sys, warnings
    from pathlib import Path
    import numpy as np
    warnings.simplefilter("ignore")
    import libcombine, libsbml
    from igfsim import load_scenario, run_scenario
    from igfsim.cli import main
    from igfsim.export.sedml import FORMAT_SBML, FORMAT_SEDML, read_omex_sedml, report_array, sedml_errors
    from tellurium.sedml.tesedml import executeCombineArchive

    scenarios, tmp = Path(sys.argv[1]), Path(sys.argv[2])
    out = {}
    for name in ["c16_ligand_specificity", "c01_mab_vs_dual_tki"]:
        sc = load_scenario(scenarios / f"{name}.yaml")
        omex = tmp / f"{name}.omex"
        rec = {"rc": main(["export", "--format", "sedml", "--scenario", str(scenarios / f"{name}.yaml"),
                           "--out", str(omex)])}
        archive = libcombine.CombineArchive()
        assert archive.initializeFromArchive(str(omex))
        entries = [archive.getEntry(i) for i in range(archive.getNumEntries())]
        rec["formats"] = [e.getFormat() for e in entries]
        rec["master"] = archive.getMasterFile().getFormat()
        rec["sbml_errors"] = []
        for e in entries:
            if e.getFormat() == FORMAT_SBML:
                doc = libsbml.readSBMLFromString(archive.extractEntryToString(e.getLocation()))
                doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
                doc.checkConsistency()
                rec["sbml_errors"] += [doc.getError(i).getMessage() for i in range(doc.getNumErrors())
                                       if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
        archive.cleanUp()
        doc = read_omex_sedml(omex)
        rec["level_version"] = [doc.getLevel(), doc.getVersion()]
        rec["sedml_errors"] = sedml_errors(doc)
        rec["tasks"] = [t.getName() for t in doc.getListOfTasks()]
        rec["n_outputs"], rec["n_dg"] = doc.getNumOutputs(), doc.getNumDataGenerators()
        (run,) = executeCombineArchive(str(omex), createOutputs=False).values()
        ref = run_scenario(sc)
        rec["arms"] = [a.name for a in sc.arms]
        rec["n_readouts"] = len(sc.selected_readouts())
        rec["time_diff"], rec["abs_diff"], rec["excess"] = [], [], []
        for i in range(len(sc.arms)):
            got = report_array(run["dataGenerators"], sc, i)
            rec["time_diff"].append(float(np.abs(got[:, 0] - ref.times).max()))
            diff = np.abs(got[:, 1:] - ref.values[i])
            rec["abs_diff"].append(float(diff.max()))
            # > 0 where outside rtol 1e-3 / atol 1e-6
            rec["excess"].append(float((diff - (1e-6 + 1e-3 * np.abs(ref.values[i]))).max()))
        out[name] = rec
    c04 = tmp / "c04.omex"
    out["c04_rc"] = main(["export", "--format", "sedml", "--scenario",
                          str(scenarios / "c04_acquired_igf2_ira_switch.yaml"), "--out", str(c04)])
    out["c04_written"] = c04.exists()
    out["no_scenario_rc"] = main(["export", "--format", "sedml", "--out", str(c04)])
    print("RESULT" + json.dumps(out))
""")


@pytest.fixture(scope="module")
def child(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sedml")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(bundled_scenarios_dir()), str(tmp)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT") :]), proc.stderr


@pytest.mark.parametrize("name", ["c16_ligand_specificity", "c01_mab_vs_dual_tki"])
def test_archive_has_manifest_models_and_a_consistent_sedml_master(child, name):
    from igfsim.export.sedml import FORMAT_SBML, FORMAT_SEDML

    rec = child[0][name]
    assert rec["rc"] == 0
    assert rec["formats"].count(FORMAT_SEDML) == 1 and rec["formats"].count(FORMAT_SBML) == len(rec["arms"])
    assert rec["master"] == FORMAT_SEDML
    assert rec["sbml_errors"] == [] and rec["sedml_errors"] == []
    assert rec["level_version"] == [1, 3]
    assert rec["tasks"] == rec["arms"] and rec["n_outputs"] == len(rec["arms"])
    assert rec["n_dg"] == len(rec["arms"]) * (1 + rec["n_readouts"])


@pytest.mark.parametrize("name", ["c16_ligand_specificity", "c01_mab_vs_dual_tki"])
def test_tellurium_sedml_executor_reproduces_igfsim(child, name):
    rec = child[0][name]
    assert max(rec["time_diff"]) < 1e-12
    assert max(rec["excess"]) <= 0, f"outside rtol 1e-3/atol 1e-6; max |diff| per arm {rec['abs_diff']}"


def test_changes_after_the_stimulus_are_refused_and_scenario_is_required(child):
    res, stderr = child
    assert res["c04_rc"] == 2 and not res["c04_written"]
    assert "after the stimulus" in stderr
    assert res["no_scenario_rc"] == 2 and "needs --scenario" in stderr
