"""Export a scenario as a SED-ML (L1V3) simulation experiment inside a COMBINE/OMEX archive.

The archive holds the SBML model (``model.xml``), the experiment (``simulation.sedml``, the
master file) and a manifest. Each arm becomes a SED-ML model (the SBML plus ``changeAttribute``
changes), a task on one shared ``UniformTimeCourse`` (0 .. ``duration_min`` minutes, the
scenario's output points, CVODE with its tolerances), one data generator per readout and a
report.

Pre-equilibration, pre-treatment and the stimulus are *folded* into each arm's start state:
igfsim (libRoadRunner) applies the arm's overrides, runs the ligand-free, drug-free cell to
steady state, applies the pre-treatments (``start_min < 0``) and the events at t = 0, and the
resulting state at t = 0 (every species concentration and every changed parameter) is written
as the arm's model changes. Everything after t = 0 is left to the engine that runs the archive.
Treatments that start or stop after the stimulus (``start_min``/``stop_min`` > 0) cannot be
written this way and are refused (:class:`SedmlExportError`).

Caution: importing libsedml (done here lazily, and by tellurium) after libsbml in one process turns
libsbml's AST node types into unhashable SWIG objects, which breaks the scipy engine's SBML
translation afterwards in that process. Export in a separate process from scipy-engine runs.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from igfsim.engines import get_engine
from igfsim.engines.protocol import MAX_STEPS, Protocol
from igfsim.engines.roadrunner_ode import RoadRunnerEngine
from igfsim.errors import SedmlExportError
from igfsim.model.sbml import Model
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.schema import Scenario
from igfsim.scenario.translate import build_protocol

SEDML_LEVEL, SEDML_VERSION = 1, 3
KISAO_CVODE = "KISAO:0000019"
KISAO_RTOL = "KISAO:0000209"
KISAO_ATOL = "KISAO:0000211"
KISAO_MAX_STEPS = "KISAO:0000415"
FORMAT_SBML = "http://identifiers.org/combine.specifications/sbml"
FORMAT_SEDML = "http://identifiers.org/combine.specifications/sed-ml"
SEDML_FILE = "simulation.sedml"


@dataclass(frozen=True)
class StartState:
    """An arm's state at t = 0, just after the stimulus and any drug added at t = 0."""

    species: dict[str, float]  # concentrations of every species
    parameters: dict[str, float]  # independent parameters whose value differs from the model's


def species_xpath(sid: str) -> str:
    return f"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='{sid}']"


def parameter_xpath(pid: str) -> str:
    return f"/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='{pid}']"


def _sid(text: str) -> str:
    """A SED-ML id fragment from an arm name."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def start_state(model: Model, protocol: Protocol) -> StartState:
    """Run igfsim's own semantics up to t = 0 and return the state just after the t = 0 events."""
    late = [e.time for e in protocol.events if e.time > 0]
    if late:
        raise SedmlExportError(
            f"{protocol.label}: changes after the stimulus (at t = {late[0]:g} min) cannot be "
            "written in this SED-ML export; only treatments starting at or before t = 0 "
            "(and never stopped) are supported"
        )
    engine = get_engine("roadrunner")  # the registry's instance: its compiled models are reused
    if not isinstance(engine, RoadRunnerEngine):
        raise TypeError(f"the 'roadrunner' engine is a {type(engine).__name__}, not a RoadRunnerEngine")
    state = engine.state_at(model, protocol, 0.0)
    params = {
        pid: value
        for pid, value in state.parameters.items()
        if pid in protocol.overrides or not math.isclose(value, model.parameters[pid], rel_tol=1e-14, abs_tol=0.0)
    }
    return StartState(species=state.species, parameters=params)


def _check(obj, what: str) -> None:
    if obj is None:
        raise SedmlExportError(f"libsedml could not create {what}")


def arm_model_file(index: int, name: str) -> str:
    """Location of an arm's SBML file in the archive."""
    return f"arm{index}_{_sid(name)}.xml"


def arm_sbml(model: Model, state: StartState) -> str:
    """The model's SBML with every species starting at ``state`` (their initial assignments removed).

    Parameters keep the model's values: the arm's parameter changes are SED-ML model changes.
    """
    import libsbml

    doc = libsbml.readSBMLFromString(model.sbml)
    m = doc.getModel()
    for sid, value in state.species.items():
        ia = m.getInitialAssignmentBySymbol(sid)
        if ia is not None:
            m.removeInitialAssignment(sid)
        m.getSpecies(sid).setInitialConcentration(value)
    return libsbml.writeSBMLToString(doc)


def _timecourse(doc, scenario: Scenario):
    """The one ``UniformTimeCourse`` of every task: 0 .. duration, CVODE with the scenario's tolerances."""
    sim_cfg = scenario.simulation
    sim = doc.createUniformTimeCourse()
    sim.setId("timecourse")
    sim.setName(f"{scenario.name}: 0..{sim_cfg.duration_min:g} min after the stimulus")
    sim.setInitialTime(0.0)
    sim.setOutputStartTime(0.0)
    sim.setOutputEndTime(float(sim_cfg.duration_min))
    sim.setNumberOfPoints(int(sim_cfg.points) - 1)  # L1V3: number of intervals
    alg = sim.createAlgorithm()
    alg.setKisaoID(KISAO_CVODE)
    for kisao, text in (
        (KISAO_RTOL, repr(float(sim_cfg.rtol))),
        (KISAO_ATOL, repr(float(sim_cfg.atol))),
        (KISAO_MAX_STEPS, str(MAX_STEPS)),
    ):
        ap = alg.createAlgorithmParameter()
        ap.setKisaoID(kisao)
        ap.setValue(text)
    return sim


def _add_arm(doc, sim, scenario: Scenario, model: Model, index: int, state: StartState) -> None:
    """Arm ``index``: its model (SBML at the start state + parameter changes), task and report."""
    import libsedml

    arm = scenario.arms[index]
    tag = f"a{index}_{_sid(arm.name)}"
    m = doc.createModel()
    m.setId(f"model_{tag}")
    m.setName(f"{scenario.name}/{arm.name}: state at t = 0 (pre-equilibrated, pre-treated, stimulated)")
    m.setLanguage("urn:sedml:language:sbml.level-3.version-2")
    m.setSource(arm_model_file(index, arm.name))
    for pid, value in state.parameters.items():
        ch = m.createChangeAttribute()
        ch.setTarget(f"{parameter_xpath(pid)}/@value")
        ch.setNewValue(repr(float(value)))
    task = doc.createTask()
    task.setId(f"task_{tag}")
    task.setName(arm.name)
    task.setModelReference(m.getId())
    task.setSimulationReference(sim.getId())
    report = doc.createReport()
    report.setId(f"report_{tag}")
    report.setName(f"{scenario.name}/{arm.name}")
    columns = [("time", None)] + [(r, r) for r in scenario.selected_readouts(model.mapping.readouts)]
    for label, rid in columns:
        dg = doc.createDataGenerator()
        dg.setId(f"dg_{tag}_{label}")
        dg.setName(f"{arm.name}: {label}")
        var = dg.createVariable()
        var.setId(f"v_{tag}_{label}")
        var.setTaskReference(task.getId())
        if rid is None:
            var.setSymbol("urn:sedml:symbol:time")
        else:
            xpath = species_xpath(rid) if model.kind(rid) == "species" else parameter_xpath(rid)
            var.setTarget(xpath)
        math_ast = libsedml.parseL3Formula(var.getId())
        _check(math_ast, f"the math of data generator {dg.getId()}")
        dg.setMath(math_ast)
        ds = report.createDataSet()
        ds.setId(f"ds_{tag}_{label}")
        ds.setLabel(label)
        ds.setDataReference(dg.getId())


def sedml_document(scenario: Scenario, model: Model, states: list[StartState] | None = None):
    """The libsedml ``SedDocument`` of ``scenario`` (one model, task, data generators and report per arm).

    ``states`` are the arms' start states (computed with :func:`start_state` when not given).
    """
    import libsedml

    validate_scenario(scenario, model, f"<scenario {scenario.name}>")
    if states is None:
        states = [start_state(model, build_protocol(model, scenario, arm)) for arm in scenario.arms]
    doc = libsedml.SedDocument(SEDML_LEVEL, SEDML_VERSION)
    sim = _timecourse(doc, scenario)
    for i in range(len(scenario.arms)):
        _add_arm(doc, sim, scenario, model, i, states[i])
    return doc


def sedml_errors(doc) -> list[str]:
    """Problems of ``doc``: libsedml's errors on reading its serialisation back, and broken references.

    (The libsedml Python build has no ``checkConsistency``; reading back runs its schema and
    attribute checks, and the references between elements are checked here.)
    """
    import libsedml

    back = libsedml.readSedMLFromString(libsedml.writeSedMLToString(doc))
    log = back.getErrorLog()
    errors = [
        log.getError(i).getMessage().strip()
        for i in range(log.getNumErrors())
        if log.getError(i).getSeverity() >= libsedml.LIBSEDML_SEV_ERROR
    ]
    models = {m.getId() for m in back.getListOfModels()}
    sims = {s.getId() for s in back.getListOfSimulations()}
    tasks = {t.getId() for t in back.getListOfTasks()}
    dgs = {g.getId() for g in back.getListOfDataGenerators()}
    for t in back.getListOfTasks():
        if t.getModelReference() not in models or t.getSimulationReference() not in sims:
            errors.append(f"task {t.getId()} refers to a missing model or simulation")
    for g in back.getListOfDataGenerators():
        errors += [
            f"variable {v.getId()} refers to a missing task"
            for v in g.getListOfVariables()
            if v.getTaskReference() not in tasks
        ]
    for out in back.getListOfOutputs():
        errors += [
            f"data set {d.getId()} refers to a missing data generator"
            for d in out.getListOfDataSets()
            if d.getDataReference() not in dgs
        ]
    return errors


def write_omex(scenario: Scenario, model: Model, path: str | Path) -> Path:
    """Write ``scenario`` as a COMBINE archive: ``model.xml`` + ``simulation.sedml`` (master) + manifest."""
    import libcombine
    import libsedml

    validate_scenario(scenario, model, f"<scenario {scenario.name}>")
    states = [start_state(model, build_protocol(model, scenario, arm)) for arm in scenario.arms]
    doc = sedml_document(scenario, model, states)
    errors = sedml_errors(doc)
    if errors:
        raise SedmlExportError(f"{scenario.name}: the SED-ML document is invalid: {'; '.join(errors[:3])}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        sedml_file = Path(tmp) / SEDML_FILE
        if not libsedml.writeSedMLToFile(doc, str(sedml_file)):
            raise SedmlExportError(f"{sedml_file}: libsedml could not write the document")
        archive = libcombine.CombineArchive()
        ok = True
        for i, (arm, state) in enumerate(zip(scenario.arms, states, strict=True)):
            loc = arm_model_file(i, arm.name)
            (Path(tmp) / loc).write_text(arm_sbml(model, state), encoding="utf-8")
            ok = ok and archive.addFile(str(Path(tmp) / loc), f"./{loc}", FORMAT_SBML, False)
        ok = ok and archive.addFile(str(sedml_file), f"./{SEDML_FILE}", FORMAT_SEDML, True)
        desc = libcombine.OmexDescription()
        desc.setAbout(".")
        desc.setDescription(f"igfsim scenario {scenario.name}: {scenario.title}")
        desc.setCreated(libcombine.OmexDescription.getCurrentDateAndTime())
        archive.addMetadata(".", desc)
        if not ok or not archive.writeToFile(str(out)):
            raise SedmlExportError(f"{out}: libcombine could not write the archive")
        archive.cleanUp()
    return out


def read_omex_sedml(path: str | Path):
    """Read the master SED-ML document of an archive back with libcombine and libsedml."""
    import libcombine
    import libsedml

    archive = libcombine.CombineArchive()
    if not archive.initializeFromArchive(str(path)):
        raise SedmlExportError(f"{path}: libcombine cannot read the archive")
    try:
        entry = archive.getMasterFile()
        if entry is None or entry.getFormat() != FORMAT_SEDML:
            raise SedmlExportError(f"{path}: no SED-ML master file")
        return libsedml.readSedMLFromString(archive.extractEntryToString(entry.getLocation()))
    finally:
        archive.cleanUp()


def report_array(results: dict, scenario: Scenario, arm_index: int, model: Model | None = None) -> np.ndarray:
    """(time, readouts) columns of one arm from data generator values keyed by id (as tellurium returns them);
    ``model`` gives the standard readouts (default: the bundled model's)."""
    tag = f"a{arm_index}_{_sid(scenario.arms[arm_index].name)}"
    cols = ["time", *scenario.selected_readouts(model.mapping.readouts if model is not None else None)]
    return np.column_stack([np.asarray(results[f"dg_{tag}_{c}"], dtype=float).ravel() for c in cols])
