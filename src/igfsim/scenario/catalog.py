"""Drug and cell-context catalogues: YAML files of drugs and cell contexts, merged over the bundled one.

igfsim ships ``catalogue/drugs.yaml`` and ``catalogue/contexts.yaml``. A user catalogue is a YAML file
with ``drugs:`` and/or ``contexts:`` in the same form; it is read on top of the bundled one (the
``catalog:`` key of a scenario or sweep file, ``--catalog FILE`` on the command line, or
:func:`load_catalog`). A name or alias that is already taken is an error naming both files, unless the
new entry says ``replaces: true`` (then it redefines the entry of that name). Which mode of action a
drug names, and whether the model has its potency parameters, is checked against the model's
mapping when a scenario is validated (:mod:`igfsim.scenario.checks`), since a catalogue may serve
several models.

A drug's potency values are nM (K_D of an antibody, effective K_i of a small molecule); a context's
expression values are multipliers of the model's nominal copies per cell (1 = nominal, 0 = absent).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from igfsim.errors import CatalogError, Issue, did_you_mean
from igfsim.scenario.contexts import CellContext
from igfsim.scenario.drugs import Drug
from igfsim.yamlfile import read_yaml, validate_yaml

if TYPE_CHECKING:
    from igfsim.scenario.schema import Scenario

_HERE = Path(__file__).resolve().parent / "catalogue"
#: the bundled catalogue files, read in this order
BUNDLED_FILES = (_HERE / "drugs.yaml", _HERE / "contexts.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(values: dict[str, float], *, positive: bool) -> dict[str, float]:
    for key, v in values.items():
        if not math.isfinite(v) or (v <= 0 if positive else v < 0):
            raise ValueError(f"{key}: expected a finite number {'> 0' if positive else '>= 0'}, got {v!r}")
    return values


class _DrugEntry(_Strict):
    mode_of_action: str = Field(min_length=1)
    potency: dict[str, float] = Field(default_factory=dict)
    source: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    options: dict[str, bool] = Field(default_factory=dict)
    note: str = ""
    replaces: bool = False

    @field_validator("potency")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        return _finite(v, positive=True)


class _ContextEntry(_Strict):
    description: str = Field(min_length=1)
    expression: dict[str, float] = Field(default_factory=dict)
    parameters: dict[str, float] = Field(default_factory=dict)
    source: str = Field(min_length=1)
    replaces: bool = False

    @field_validator("expression")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        return _finite(v, positive=False)

    @field_validator("parameters")
    @classmethod
    def _finite_parameters(cls, v: dict[str, float]) -> dict[str, float]:
        for key, x in v.items():
            if not math.isfinite(x):
                raise ValueError(f"{key}: expected a finite number, got {x!r}")
        return v


class _CatalogFile(_Strict):
    drugs: dict[str, _DrugEntry] = Field(default_factory=dict)
    contexts: dict[str, _ContextEntry] = Field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """Drugs and cell contexts by name, with the files they were read from (in order)."""

    drugs: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # name -> Drug
    contexts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))  # name -> CellContext
    files: tuple[str, ...] = ()

    @cached_property
    def _names(self) -> dict[str, str]:
        """Every name and alias, lower-cased -> the drug's name (built once per catalogue)."""
        return {a.lower(): d.name for d in self.drugs.values() for a in (d.name, *d.aliases)}

    def find_drug(self, name: str) -> Drug | None:
        """The drug called ``name`` (its name or an alias, case-insensitive), or ``None``."""
        key = self._names.get(str(name).lower())
        return self.drugs[key] if key else None

    def get_drug(self, name: str) -> Drug:
        """The drug called ``name``; ``KeyError`` with a hint when there is none."""
        drug = self.find_drug(name)
        if drug is None:
            raise KeyError(f"unknown drug {name!r}{self.drug_hint(name)}")
        return drug

    def drug_hint(self, name: str) -> str:
        """A "did you mean" hint over drug names and aliases."""
        return did_you_mean(name, [a for d in self.drugs.values() for a in (d.name, *d.aliases)])

    def context_hint(self, name: str) -> str:
        """A "did you mean" hint over context names."""
        return did_you_mean(name, self.contexts)

    def unknown_context(self, name: str) -> str:
        """The message for a cell context the catalogue does not have."""
        return f"unknown cell context {name!r}{self.context_hint(name)}; expected one of: {', '.join(self.contexts)}"

    def unknown_drug(self, name: str) -> str:
        """The message for a drug the catalogue does not have."""
        return f"unknown drug {name!r}{self.drug_hint(name)}"

    def where(self) -> str:
        """The files in words, for error messages."""
        return ", ".join(self.files) or "(empty catalogue)"


def _drug(name: str, e: _DrugEntry, origin: str) -> Drug:
    return Drug(
        name=name,
        mode_of_action=e.mode_of_action,
        potency=MappingProxyType(dict(e.potency)),
        source=e.source,
        aliases=tuple(e.aliases),
        options=MappingProxyType(dict(e.options)),
        note=e.note,
        origin=origin,
    )


def _context(name: str, e: _ContextEntry, origin: str) -> CellContext:
    return CellContext(
        name,
        e.description,
        MappingProxyType(dict(e.expression)),
        e.source,
        MappingProxyType(dict(e.parameters)),
        origin=origin,
    )


def merge(base: Catalog, raw: _CatalogFile, origin: str) -> Catalog:
    """``base`` with the entries of one parsed file on top; :class:`CatalogError` listing every conflict."""
    issues: list[Issue] = []
    drugs = dict(base.drugs)
    taken = dict(base._names)
    for name, e in raw.drugs.items():
        at = f"drugs.{name}"
        if e.replaces:
            if name not in drugs:
                issues.append(Issue(f"{at}.replaces", f"no catalogue read before ({base.where()}) has a drug {name!r}"))
                continue
            old = drugs.pop(name)
            taken = {k: v for k, v in taken.items() if v != old.name}
        for alias in (name, *e.aliases):
            owner = taken.get(alias.lower())
            if owner is not None:
                issues.append(_taken(at if alias == name else f"{at}.aliases", alias, owner, drugs, origin))
            taken[alias.lower()] = name
        drugs[name] = _drug(name, e, origin)
    contexts = dict(base.contexts)
    for name, c in raw.contexts.items():
        at = f"contexts.{name}"
        if c.replaces and name not in contexts:
            issues.append(Issue(f"{at}.replaces", f"no catalogue read before ({base.where()}) has a context {name!r}"))
        elif not c.replaces and name in contexts:
            msg = f"context {name!r} is already defined (in {contexts[name].origin}); say replaces: true to redefine it"
            issues.append(Issue(at, msg))
        contexts[name] = _context(name, c, origin)
    if issues:
        raise CatalogError(origin, issues)
    return Catalog(MappingProxyType(drugs), MappingProxyType(contexts), (*base.files, origin))


def _taken(where: str, alias: str, owner: str, drugs: dict[str, Drug], origin: str) -> Issue:
    kind = "the name" if alias.lower() == owner.lower() else "an alias"
    source = drugs[owner].origin if owner in drugs else origin
    fix = "say replaces: true to redefine it" if alias == owner else "choose another"
    return Issue(where, f"{alias!r} is already {kind} of drug {owner!r} (from {source}); {fix}")


def read_catalog_file(path: str | Path) -> _CatalogFile:
    """One catalogue file, shape-checked (every problem of the file at once)."""
    p = Path(path)
    return validate_yaml(read_yaml(p, CatalogError), _CatalogFile, str(p), CatalogError)


@lru_cache(maxsize=32)
def _load(files: tuple[tuple[str, int, int], ...]) -> Catalog:
    catalog = Catalog()
    for path, _, _ in files:
        catalog = merge(catalog, read_catalog_file(path), path)
    return catalog


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError as err:
        raise CatalogError(str(path), [Issue("(file)", f"cannot read file ({err.strerror or err})")]) from None
    return str(path), st.st_mtime_ns, st.st_size


def load_catalog(files: Iterable[str | Path] = (), *, bundled: bool = True) -> Catalog:
    """The bundled catalogue (unless ``bundled=False``) with ``files`` merged on top, in order.

    Cached per file content stamp (path, modification time, size), so repeated calls are cheap.
    """
    paths = [*(BUNDLED_FILES if bundled else ()), *(Path(f) for f in files)]
    return _load(tuple(_stamp(p) for p in paths))


def bundled_catalog() -> Catalog:
    """igfsim's own drugs and cell contexts."""
    return load_catalog()


def resolve_catalog_paths(paths: Sequence[str], relative_to: Path) -> tuple[str, ...]:
    """Catalogue paths of a file, made absolute against the folder of that file."""
    return tuple(str(p if (p := Path(x).expanduser()).is_absolute() else (relative_to / p).resolve()) for x in paths)


def catalog_for(scenario: Scenario) -> Catalog:
    """The catalogue a scenario uses: the bundled one with the scenario's ``catalog`` files on top."""
    return load_catalog(scenario.catalog)
