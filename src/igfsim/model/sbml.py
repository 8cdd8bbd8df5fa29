"""Load an Antimony or SBML model into a frozen :class:`Model` with its provenance table.

Only this module talks to antimony/libsbml for parsing; engines receive ``Model.sbml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from igfsim.errors import ModelError, did_you_mean, read_text_file
from igfsim.model.provenance import ProvenanceRow, load_provenance, provenance_path
from igfsim.resources import bundled_model_path

Kind = Literal["species", "parameter", "assigned", "compartment"]


@dataclass(frozen=True)
class Model:
    """A compiled model: SBML text plus the ids an engine or a scenario may refer to."""

    path: str
    sbml: str
    sha256: str
    species: MappingProxyType  # id -> compartment id
    parameters: MappingProxyType  # independent constant parameters: id -> value
    assigned: tuple[str, ...]  # ids computed by assignment rules (readouts, derived rates)
    compartments: MappingProxyType  # id -> size (pL)
    provenance: MappingProxyType[str, ProvenanceRow] = field(default_factory=lambda: MappingProxyType({}))

    def kind(self, sid: str) -> Kind | None:
        """Return what ``sid`` is in this model, or ``None`` if it is unknown."""
        if sid in self.species:
            return "species"
        if sid in self.parameters:
            return "parameter"
        if sid in self.compartments:
            return "compartment"
        if sid in self.assigned:
            return "assigned"
        return None

    def all_ids(self) -> list[str]:
        """Every id a user can select or set."""
        return [*self.species, *self.parameters, *self.compartments, *self.assigned]

    def suggest(self, sid: str, kinds: tuple[Kind, ...] | None = None) -> str:
        """A "did you mean" hint among ids of the given kinds."""
        pool = [i for i in self.all_ids() if kinds is None or self.kind(i) in kinds]
        return did_you_mean(sid, pool)


def _compile_antimony(text: str, origin: str) -> str:
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise ModelError(f"{origin}: Antimony could not parse the model: {antimony.getLastError().strip()}")
    main = antimony.getMainModuleName()
    sbml = antimony.getSBMLString(main)
    if not sbml:
        raise ModelError(f"{origin}: Antimony produced no SBML: {antimony.getLastError().strip()}")
    return sbml


def _introspect(sbml: str, origin: str) -> tuple[dict, dict, list, dict]:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    errors = [
        doc.getError(i) for i in range(doc.getNumErrors()) if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors or doc.getModel() is None:
        msg = "; ".join(e.getMessage().strip() for e in errors[:3]) or "no model in file"
        raise ModelError(f"{origin}: invalid SBML: {msg}")
    m = doc.getModel()
    ruled = {m.getRule(i).getVariable() for i in range(m.getNumRules())}
    init_assigned = {m.getInitialAssignment(i).getSymbol() for i in range(m.getNumInitialAssignments())}
    species = {s.getId(): s.getCompartment() for s in m.getListOfSpecies()}
    compartments = {c.getId(): c.getSize() for c in m.getListOfCompartments()}
    params, assigned = {}, []
    for p in m.getListOfParameters():
        if p.getId() in ruled:
            assigned.append(p.getId())
        elif p.getId() not in init_assigned:
            params[p.getId()] = p.getValue()
    return species, params, assigned, compartments


@lru_cache(maxsize=8)
def _load_cached(path: str, text: str) -> Model:
    p = Path(path)
    sbml = text if text.lstrip().startswith("<") else _compile_antimony(text, path)
    species, params, assigned, compartments = _introspect(sbml, path)
    prov_file = provenance_path(p)
    prov = load_provenance(prov_file) if prov_file.exists() else {}
    return Model(
        path=path,
        sbml=sbml,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        species=MappingProxyType(species),
        parameters=MappingProxyType(params),
        assigned=tuple(assigned),
        compartments=MappingProxyType(compartments),
        provenance=MappingProxyType(prov),
    )


def load_model(path: str | Path | None = None) -> Model:
    """Load an Antimony (``.antimony``/``.txt``) or SBML (``.xml``/``.sbml``) model.

    With no path, the bundled IGF-IR network model is loaded. Results are cached per file
    content, so calling this repeatedly is cheap.
    """
    p = Path(path) if path is not None else bundled_model_path()
    text, problem = read_text_file(p)
    if text is None:
        raise ModelError(f"{p}: model file: {problem}")
    return _load_cached(str(p), text)


def load_model_string(text: str, name: str = "<string>") -> Model:
    """Compile Antimony or SBML given as a string (tests and notebooks)."""
    return _load_cached(name, text)
