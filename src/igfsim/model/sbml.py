"""Load an Antimony or SBML model into a frozen :class:`Model` with its provenance table.

Only this module talks to antimony/libsbml for parsing; engines receive ``Model.sbml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from igfsim.errors import Issue, MappingError, ModelError, did_you_mean, read_text_file
from igfsim.model import read_cache
from igfsim.model.mapping import ModelMapping, _rebuild, check_mapping, load_mapping, mapping_path
from igfsim.model.provenance import ProvenanceRow, load_provenance, provenance_path
from igfsim.model.read_cache import ModelText
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
    #: readouts, drug slots, expression keys and logical model (``<model>.mapping.yaml``; empty without one)
    mapping: ModelMapping = field(default_factory=ModelMapping)

    def __reduce__(self):  # to worker processes as it is: nothing is parsed or compiled again there
        plain = {k: dict(v) for k, v in self.__dict__.items() if isinstance(v, MappingProxyType)}
        return _rebuild, (type(self), {**self.__dict__, **plain}, *plain)

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
    try:
        if antimony.loadAntimonyString(text) < 0:
            raise ModelError(f"{origin}: Antimony could not parse the model: {antimony.getLastError().strip()}")
        sbml = antimony.getSBMLString(antimony.getMainModuleName())
        if not sbml:
            raise ModelError(f"{origin}: Antimony produced no SBML: {antimony.getLastError().strip()}")
    except UnicodeDecodeError:  # Antimony's message quotes the offending bytes and cannot be decoded
        raise ModelError(f"{origin}: Antimony could not parse the model{_first_non_ascii(text)}") from None
    return sbml


def _first_non_ascii(text: str) -> str:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.isascii():
            return f": line {number} has a non-ASCII character; Antimony names must be ASCII letters, digits or '_'"
    return ""


def _errors(doc) -> list[str]:
    import libsbml

    return [
        doc.getError(i).getMessage().strip()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]


def _flat_sbml(sbml: str, origin: str) -> str:
    """``sbml`` with hierarchical model composition (``comp``) flattened by libsbml's converter; a
    :class:`ModelError` naming the package for any other package the document requires (engines
    would read only part of such a model)."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    if errors := _errors(doc):
        raise ModelError(f"{origin}: invalid SBML: {'; '.join(errors[:3])}")
    ns = doc.getNamespaces()
    packages = [ns.getPrefix(i) for i in range(ns.getNumNamespaces()) if ns.getPrefix(i)]  # declared packages
    required = [p for p in packages if p != "comp" and doc.getPackageRequired(p)]
    if required:
        raise ModelError(
            f"{origin}: the model requires the SBML package(s) {', '.join(required)}, which igfsim's engines do "
            "not read; igfsim supports core SBML and hierarchical composition (comp, flattened)"
        )
    if "comp" not in packages:
        return sbml
    if Path(origin).is_file():  # external model definitions are found relative to the model's file
        doc.setLocationURI(Path(origin).resolve().as_uri())
    props = libsbml.ConversionProperties()
    props.addOption("flatten comp", True)
    props.addOption("leave_ports", False)
    if doc.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS or _errors(doc):
        why = "; ".join(_errors(doc)[:3]) or "the converter failed"
        raise ModelError(f"{origin}: the hierarchical (comp) model could not be flattened: {why}")
    return libsbml.writeSBMLToString(doc)


def _introspect(sbml: str, origin: str) -> tuple[dict[str, str], dict[str, float], list[str], dict[str, float]]:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    errors = _errors(doc)
    if errors or doc.getModel() is None:
        msg = "; ".join(errors[:3]) or "no model in file"
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


def _read(path: str, text: str) -> ModelText:
    """The SBML of ``text`` and the ids it declares: from the on-disk cache, or read and stored."""
    if (hit := read_cache.cached(text)) is not None:
        return hit
    sbml = _flat_sbml(text, path) if text.lstrip().startswith("<") else _compile_antimony(text, path)
    read = ModelText(sbml, *_introspect(sbml, path))
    read_cache.store(text, read)
    return read


@lru_cache(maxsize=8)
def _load_cached(path: str, text: str) -> Model:
    read = _read(path, text)
    prov_file = provenance_path(Path(path))
    prov = load_provenance(prov_file) if prov_file.exists() else {}
    return Model(
        path=path,
        sbml=read.sbml,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        species=MappingProxyType(read.species),
        parameters=MappingProxyType(read.parameters),
        assigned=tuple(read.assigned),
        compartments=MappingProxyType(read.compartments),
        provenance=MappingProxyType(prov),
    )


@lru_cache(maxsize=8)
def _mapping_cached(path: str, _stamp: tuple[int, int]) -> ModelMapping:
    return load_mapping(path)


#: (model path, model hash, mapping object id) -> the mapped model, so loading twice gives the same object
_MAPPED: dict[tuple[str, str, int], tuple[ModelMapping, Model]] = {}


def _with_mapping(model: Model, mapping: ModelMapping) -> Model:
    key = (model.path, model.sha256, id(mapping))
    if key in _MAPPED and _MAPPED[key][0] is mapping:
        return _MAPPED[key][1]
    if issues := check_mapping(mapping, dict(model.species), dict(model.parameters), model.assigned):
        raise MappingError(mapping.source, [Issue(i.where, f"{i.message} (model {model.path})") for i in issues])
    if len(_MAPPED) >= 16:
        _MAPPED.clear()
    _MAPPED[key] = (mapping, mapped := replace(model, mapping=mapping))
    return mapped


def _mapped(model: Model, mapping: str | Path | ModelMapping | None, default: Path | None) -> Model:
    """``model`` with its mapping: ``mapping`` if given (a file must exist), else ``default`` if it exists."""
    if isinstance(mapping, ModelMapping):
        return _with_mapping(model, mapping)
    path = Path(mapping) if mapping is not None else default
    if path is None or (mapping is None and not path.is_file()):
        return model
    try:
        st = path.stat()
    except OSError as err:
        raise MappingError(str(path), [Issue("(file)", f"cannot read file ({err.strerror or err})")]) from None
    return _with_mapping(model, _mapping_cached(str(path), (st.st_mtime_ns, st.st_size)))


def load_model(path: str | Path | None = None, *, mapping: str | Path | None = None) -> Model:
    """Load an Antimony (``.antimony``/``.txt``) or SBML (``.xml``/``.sbml``) model.

    With no path, the bundled IGF-IR network model is loaded. Its mapping file (readouts, drug
    slots, expression keys, logical model; :mod:`igfsim.model.mapping`) is ``mapping`` or
    ``<stem>.mapping.yaml`` beside the model. Results are cached per file content, so calling this
    repeatedly is cheap.
    """
    p = Path(path) if path is not None else bundled_model_path()
    text, problem = read_text_file(p)
    if text is None:
        raise ModelError(f"{p}: model file: {problem}")
    return _mapped(_load_cached(str(p), text), mapping, mapping_path(p))


def load_model_string(text: str, name: str = "<string>", *, mapping: str | Path | ModelMapping | None = None) -> Model:
    """Compile Antimony or SBML given as a string (tests, notebooks, worker processes), with an optional
    mapping (a file, or the :class:`ModelMapping` of the model the text came from)."""
    return _mapped(_load_cached(name, text), mapping, None)
