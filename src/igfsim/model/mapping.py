"""A model's mapping file: what scenarios may name in it, beside the equations themselves.

Scenarios speak of readouts (``pAkt``), drugs by mode of action (an anti-IGF-IR antibody), expression
keys (``InsR_A``) and a logical model; the equations know only ids. ``<model>.mapping.yaml`` beside the
model file (or ``load_model(..., mapping=FILE)``) says which ids those are:

``medium``
    the compartment of the extracellular species (stimulus, antibodies, fresh medium);
``readouts``
    readout id -> description, unit and (optional) group; the readouts a scenario records when it
    lists none;
``expression``
    expression key a cell may scale -> the model parameter (a multiplier, 1 = nominal);
``modes_of_action``
    the drug classes the model can carry: the *slot* (a medium species for a drug that binds and is
    depleted, a parameter for a small molecule whose free concentration is clamped), the potency
    parameters a drug of the class sets, and its 0/1 option parameters;
``boolean``
    the logical model of the same network (``bnet``) and, where its node names differ from the
    readout ids, ``nodes: {readout: node}``. Without it the Boolean engine refuses the model.

A model without a mapping file has none of these: its scenarios list readouts by model id and
apply no drugs or expression keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, field_validator

from igfsim.errors import Issue, MappingError
from igfsim.yamlfile import read_yaml, validate_yaml

#: the treatment options a scenario can set (keys of a mode of action's ``options``)
TREATMENT_OPTIONS = ("binds_hybrids", "downregulates")
#: file name suffix of a model's mapping file: ``igf1r.antimony`` -> ``igf1r.mapping.yaml``
MAPPING_SUFFIX = ".mapping.yaml"


class SlotKind(StrEnum):
    """How a drug's concentration reaches the equations."""

    #: a medium species: the drug binds, is depleted and is renewed with fresh medium (antibodies)
    SPECIES = "species"
    #: a parameter: the free concentration is clamped at the dose (small molecules)
    PARAMETER = "parameter"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ReadoutEntry(_Strict):
    description: str = Field(min_length=1)
    unit: str = Field(default="fraction of pool", min_length=1)
    group: str = ""


class _ModeEntry(_Strict):
    description: str = Field(min_length=1)
    slot: str = Field(min_length=1)
    kind: SlotKind
    potency: tuple[str, ...] = ()
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _known_options(cls, v: dict[str, str]) -> dict[str, str]:
        if unknown := sorted(set(v) - set(TREATMENT_OPTIONS)):
            known = ", ".join(TREATMENT_OPTIONS)
            raise ValueError(f"unknown option(s) {', '.join(unknown)}; a treatment can set {known}")
        return v


class _BooleanEntry(_Strict):
    bnet: str = Field(min_length=1)
    nodes: dict[str, str] = Field(default_factory=dict)


class _MappingFile(_Strict):
    medium: str = Field(default="medium", min_length=1)
    readouts: dict[str, _ReadoutEntry] = Field(default_factory=dict)
    expression: dict[str, str] = Field(default_factory=dict)
    modes_of_action: dict[str, _ModeEntry] = Field(default_factory=dict)
    boolean: _BooleanEntry | None = None


@dataclass(frozen=True)
class Readout:
    """A named quantity a scenario records: a model id with its meaning and unit."""

    id: str
    description: str
    unit: str
    #: the part of the network it reads (figures order and title panels by group)
    group: str = ""


@dataclass(frozen=True)
class ModeOfActionSlot:
    """A drug class the model carries: where its dose goes and which parameters its potency sets."""

    name: str
    description: str
    slot: str
    kind: SlotKind
    potency: tuple[str, ...] = ()
    #: option name a treatment may set (e.g. ``binds_hybrids``) -> its 0/1 model parameter
    options: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __reduce__(self):
        return _rebuild, (type(self), {**self.__dict__, "options": dict(self.options)}, "options")

    @property
    def slot_is_species(self) -> bool:
        """True when the dose is a medium species (binds and is depleted)."""
        return self.kind is SlotKind.SPECIES


@dataclass(frozen=True)
class BooleanView:
    """The logical model of the same network: its file and the readout -> node names that differ."""

    bnet: Path
    nodes: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __reduce__(self):
        return _rebuild, (type(self), {**self.__dict__, "nodes": dict(self.nodes)}, "nodes")

    def node_of(self, readout: str) -> str:
        """The node that stands for ``readout`` (the readout's own name unless mapped)."""
        return self.nodes.get(readout, readout)


@dataclass(frozen=True)
class ModelMapping:
    """What a scenario may name in a model besides its ids (see the module docstring)."""

    source: str = ""
    medium: str = "medium"
    readouts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # id -> Readout
    expression: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # key -> parameter id
    modes_of_action: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # name -> slot
    boolean: BooleanView | None = None

    def __reduce__(self):
        plain = {k: dict(v) for k, v in self.__dict__.items() if isinstance(v, MappingProxyType)}
        return _rebuild, (type(self), {**self.__dict__, **plain}, *plain)

    @property
    def drug_slots(self) -> dict[str, SlotKind]:
        """Every drug slot id -> how the dose reaches it."""
        return {m.slot: m.kind for m in self.modes_of_action.values()}

    @property
    def option_parameters(self) -> dict[str, str]:
        """Every treatment option -> its 0/1 model parameter, over all modes of action."""
        return {opt: pid for m in self.modes_of_action.values() for opt, pid in m.options.items()}

    def groups(self) -> dict[str, str]:
        """Readout -> its group (figures order their panels by it)."""
        return {r.id: r.group for r in self.readouts.values() if r.group}

    def what(self) -> str:
        """The mapping in words for error messages: its file, or that the model has none."""
        return self.source or "the model's mapping (none: the model has no mapping file)"


def _rebuild(cls, fields: dict, *proxied: str):
    """Unpickle a mapping dataclass (``MappingProxyType`` does not pickle; its fields travel as dicts)."""
    return cls(**{k: MappingProxyType(v) if k in proxied else v for k, v in fields.items()})


def mapping_path(model_path: str | Path) -> Path:
    """Where the mapping of ``model_path`` lives: ``<stem>.mapping.yaml`` beside it."""
    p = Path(model_path)
    return p.with_name(p.stem + MAPPING_SUFFIX)


def bundled_mapping() -> ModelMapping:
    """The bundled model's mapping (read from its file alone, without compiling the model)."""
    from igfsim.resources import bundled_model_path

    return _load_bundled(str(mapping_path(bundled_model_path())))


@lru_cache(maxsize=1)
def _load_bundled(path: str) -> ModelMapping:
    return load_mapping(path)


def load_mapping(path: str | Path) -> ModelMapping:
    """Read a mapping file; :class:`MappingError` with every problem of the file at once."""
    p = Path(path)
    raw = validate_yaml(read_yaml(p, MappingError), _MappingFile, str(p), MappingError)
    issues = [
        Issue(f"modes_of_action.{name}.slot", f"slot {m.slot!r} is also the slot of {prev!r}; one slot per mode")
        for name, m, prev in _shared_slots(raw.modes_of_action)
    ]
    bnet = None
    if raw.boolean is not None:
        bnet = BooleanView((p.parent / raw.boolean.bnet).resolve(), MappingProxyType(dict(raw.boolean.nodes)))
        if not bnet.bnet.is_file():
            issues.append(Issue("boolean.bnet", f"no logical model at {bnet.bnet} (a path relative to {p.parent})"))
        if unknown := sorted(set(raw.boolean.nodes) - set(raw.readouts)):
            issues.append(Issue("boolean.nodes", f"not readouts of this mapping: {', '.join(unknown)}"))
    if issues:
        raise MappingError(str(p), issues)
    return ModelMapping(
        source=str(p),
        medium=raw.medium,
        readouts=MappingProxyType({k: Readout(k, r.description, r.unit, r.group) for k, r in raw.readouts.items()}),
        expression=MappingProxyType(dict(raw.expression)),
        modes_of_action=MappingProxyType(
            {
                k: ModeOfActionSlot(k, m.description, m.slot, m.kind, tuple(m.potency), MappingProxyType(m.options))
                for k, m in raw.modes_of_action.items()
            }
        ),
        boolean=bnet,
    )


def _shared_slots(modes: dict[str, _ModeEntry]):
    seen: dict[str, str] = {}
    for name, m in modes.items():
        if m.slot in seen:
            yield name, m, seen[m.slot]
        seen.setdefault(m.slot, name)


def check_mapping(mapping: ModelMapping, species: dict, parameters: dict, assigned: Iterable[str]) -> list[Issue]:
    """Ids of the mapping the model does not have (never raises)."""
    assigned = set(assigned)
    known = set(species) | set(parameters) | assigned
    issues = [Issue(f"readouts.{r}", f"the model has no id {r!r} to read") for r in mapping.readouts if r not in known]
    issues += [
        Issue(f"expression.{k}", f"the model has no parameter {pid!r} to scale")
        for k, pid in mapping.expression.items()
        if pid not in parameters
    ]
    for name, m in mapping.modes_of_action.items():
        at = f"modes_of_action.{name}"
        if m.kind is SlotKind.SPECIES and species.get(m.slot) != mapping.medium:
            issues.append(Issue(f"{at}.slot", f"the model has no species {m.slot!r} in compartment {mapping.medium!r}"))
        if m.kind is SlotKind.PARAMETER and m.slot not in parameters:
            issues.append(Issue(f"{at}.slot", f"the model has no parameter {m.slot!r}"))
        issues += [
            Issue(f"{at}.potency", f"the model has no parameter {p!r}") for p in m.potency if p not in parameters
        ]
        issues += [
            Issue(f"{at}.options.{opt}", f"the model has no parameter {pid!r}")
            for opt, pid in m.options.items()
            if pid not in parameters
        ]
    return issues
