"""Read scenario files: YAML -> :class:`Scenario`, every shape problem as an :class:`Issue`.

:func:`read_yaml_file` and :func:`issues_from_pydantic` are :mod:`igfsim.yamlfile`'s helpers (which every
YAML input of igfsim uses, so a problem reads the same wherever it is found) with a scenario's error
and schema as defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from igfsim.errors import Issue, ScenarioError, did_you_mean
from igfsim.scenario.catalog import resolve_catalog_paths
from igfsim.scenario.schema import Scenario
from igfsim.yamlfile import format_loc, read_yaml, validate_yaml
from igfsim.yamlfile import issues_from_pydantic as _issues_from_pydantic

__all__ = ["format_loc", "issues_from_pydantic", "load_scenario", "parse_scenario", "read_yaml_file", "with_catalogs"]


def issues_from_pydantic(err: ValidationError, root: type[BaseModel] = Scenario, data: object = None) -> list[Issue]:
    """One :class:`Issue` per problem pydantic found validating ``root`` (default: a scenario) from ``data``."""
    return _issues_from_pydantic(err, root, data)


def parse_scenario(data: object, source: str = "<scenario>", folder: Path | None = None) -> Scenario:
    """Build a :class:`Scenario` from already-parsed YAML/JSON data.

    When the shape is wrong, the names that can be checked without the model (cell contexts and drugs
    against the catalogue, the arms the expectations name) are checked too and reported in the same
    :class:`ScenarioError`, so one pass shows every problem of the file (the model's own names, such as
    readouts, are checked once the file has its shape). ``folder`` is where relative ``catalog`` paths
    start (default: the working folder).
    """
    try:
        return validate_yaml(data, Scenario, source, ScenarioError)
    except ScenarioError as err:
        shape = {i.where for i in err.issues}
        extra = [i for i in _name_issues(data, folder or Path.cwd()) if i.where not in shape]
        if not extra:
            raise
        raise ScenarioError(source, sorted([*err.issues, *extra], key=lambda i: i.where)) from None


#: the keys of an expectation that name arms
ARM_KEYS = ("arm", "vs", "normalize", "vs_normalize", "arms")


def no_arm(name: str, names: set[str]) -> str:
    """The message for an arm name the scenario does not define."""
    return f"no arm named {name!r}{did_you_mean(name, names)}; arms are: {', '.join(sorted(names))}"


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _strings(items: object, key: str) -> list[tuple[int, str]]:
    """``(index, item[key])`` for the mappings of a list whose ``key`` is a string."""
    if not isinstance(items, list):
        return []
    return [(i, x[key]) for i, x in enumerate(items) if isinstance(x, dict) and isinstance(x.get(key), str)]


def _name_issues(data: object, folder: Path) -> list[Issue]:
    """Unknown contexts, drugs and arm names in raw scenario data (whatever else is wrong with it)."""
    from igfsim.errors import CatalogError
    from igfsim.scenario.catalog import load_catalog

    if not isinstance(data, dict):
        return []
    files = data.get("catalog") or []
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return []
    try:
        catalog = load_catalog(resolve_catalog_paths(files, folder))
    except CatalogError:
        return []  # the catalogue's own problems are reported when it is read for the run
    issues = []
    cells = [("cell", data.get("cell"))]
    arms = _list(data.get("arms"))
    cells += [(f"arms[{i}].cell", arm.get("cell")) for i, arm in enumerate(arms) if isinstance(arm, dict)]
    for where, cell in cells:
        name = cell.get("context") if isinstance(cell, dict) else None
        if isinstance(name, str) and name not in catalog.contexts:
            issues.append(Issue(f"{where}.context", catalog.unknown_context(name)))
    for i, arm in enumerate(arms):
        for t, drug in _strings(arm.get("treatments") if isinstance(arm, dict) else None, "drug"):
            if catalog.find_drug(drug) is None:
                issues.append(Issue(f"arms[{i}].treatments[{t}].drug", catalog.unknown_drug(drug)))
    names = {name for _, name in _strings(arms, "name")}
    for k, exp in enumerate(_list(data.get("expect"))):
        for key in ARM_KEYS if isinstance(exp, dict) else ():
            val = exp.get(key)
            for name in val if isinstance(val, list) else [val]:
                if isinstance(name, str) and name and names and name not in names:
                    issues.append(Issue(f"expect[{k}].{key}", no_arm(name, names)))
    return issues


def read_yaml_file(path: str | Path) -> object:
    """The parsed content of a UTF-8 YAML file; :class:`ScenarioError` naming the file (and the line and
    column of a syntax error) when it cannot be read or parsed."""
    return read_yaml(path, ScenarioError)


def load_scenario(path: str | Path) -> Scenario:
    """Read and shape-check one YAML scenario file (its ``catalog`` paths made absolute against its folder)."""
    p = Path(path)
    scenario = parse_scenario(read_yaml_file(p), str(p), p.parent)
    if not scenario.catalog:
        return scenario
    return scenario.model_copy(update={"catalog": resolve_catalog_paths(scenario.catalog, p.parent)})


def with_catalogs(scenario: Scenario, files: Sequence[str | Path]) -> Scenario:
    """``scenario`` reading catalogue ``files`` (relative to the working folder) after its own; the command
    line's ``--catalog`` files come last, so they can replace an entry."""
    if not files:
        return scenario
    extra = resolve_catalog_paths([str(f) for f in files], Path.cwd())
    own = tuple(c for c in scenario.catalog if c not in extra)
    return scenario.model_copy(update={"catalog": (*own, *extra)})
