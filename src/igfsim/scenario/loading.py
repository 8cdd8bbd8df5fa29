"""Read scenario files: YAML -> :class:`Scenario`, every shape problem as an :class:`Issue`.

:func:`read_yaml_file` and :func:`issues_from_pydantic` are :mod:`igfsim.yamlfile`'s helpers (which every
YAML input of igfsim uses, so a problem reads the same wherever it is found) with a scenario's error
and schema as defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from igfsim.errors import Issue, ScenarioError
from igfsim.scenario.catalog import resolve_catalog_paths
from igfsim.scenario.schema import Scenario
from igfsim.yamlfile import format_loc, read_yaml, validate_yaml
from igfsim.yamlfile import issues_from_pydantic as _issues_from_pydantic

__all__ = ["format_loc", "issues_from_pydantic", "load_scenario", "parse_scenario", "read_yaml_file", "with_catalogs"]


def issues_from_pydantic(err: ValidationError, root: type[BaseModel] = Scenario) -> list[Issue]:
    """One :class:`Issue` per problem pydantic found validating ``root`` (default: a scenario)."""
    return _issues_from_pydantic(err, root)


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Build a :class:`Scenario` from already-parsed YAML/JSON data."""
    return validate_yaml(data, Scenario, source, ScenarioError)


def read_yaml_file(path: str | Path) -> object:
    """The parsed content of a UTF-8 YAML file; :class:`ScenarioError` naming the file (and the line and
    column of a syntax error) when it cannot be read or parsed."""
    return read_yaml(path, ScenarioError)


def load_scenario(path: str | Path) -> Scenario:
    """Read and shape-check one YAML scenario file (its ``catalog`` paths made absolute against its folder)."""
    p = Path(path)
    scenario = parse_scenario(read_yaml_file(p), str(p))
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
