"""Read YAML input files and turn schema problems into :class:`~igfsim.errors.Issue` lists.

Every YAML input of igfsim (scenarios, sweeps, drug and cell catalogues, model mappings) is read
here, so a malformed file or a wrong key reads the same wherever it is found: the file, the dotted
key, what was expected, and every problem of the file at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from igfsim.errors import IgfsimError, Issue, did_you_mean, read_text_file

#: an error class built from a file's path and its issues (ScenarioError, CatalogError, MappingError)
FileError = Callable[[str, Iterable[Issue]], IgfsimError]
M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path, error: FileError) -> object:
    """The parsed content of a UTF-8 YAML file; ``error(path, issues)`` naming the file (and the line
    and column of a syntax error) when it cannot be read or parsed."""
    p = Path(path)
    text, problem = read_text_file(p)
    if text is None:
        raise error(str(p), [Issue("(file)", problem)])
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(err, "problem", None) or str(err)
        raise error(str(p), [Issue(where, f"malformed YAML: {problem}")]) from None


def validate_yaml(data: object, schema: type[M], source: str, error: FileError) -> M:
    """``schema`` built from parsed YAML; ``error(source, issues)`` with every problem when it does not fit."""
    if not isinstance(data, dict):
        raise error(source, [Issue("(top level)", f"expected a mapping of keys, got {type(data).__name__}")])
    try:
        return schema.model_validate(data)
    except ValidationError as err:
        raise error(source, issues_from_pydantic(err, schema)) from None


def format_loc(loc: tuple) -> str:
    """A pydantic error location as a dotted key: ``("arms", 0, "cell")`` -> ``arms[0].cell``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _known_keys(loc: tuple, root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    keyed = False  # the last field was a mapping of names -> models: the next part is a name
    for part in loc[:-1]:
        if isinstance(part, int) or model is None or keyed:
            keyed = False
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        keyed = any(getattr(t, "__origin__", None) is dict for t in _walk_types(ann))
        model = next((t for t in _walk_types(ann) if isinstance(t, type) and issubclass(t, BaseModel)), None)
    return list(model.model_fields) if model else []


def _walk_types(ann):
    yield ann
    for a in getattr(ann, "__args__", ()) or ():
        yield from _walk_types(a)


def issues_from_pydantic(err: ValidationError, root: type[BaseModel]) -> list[Issue]:
    """One :class:`Issue` per problem pydantic found validating ``root`` (a union field's alternatives once)."""
    issues = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-"))))
        where = format_loc(loc)
        got = e.get("input")
        if e["type"] == "extra_forbidden":
            known = _known_keys(loc, root)
            msg = f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), known)}; expected one of: {', '.join(known)}"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] in ("float_parsing", "float_type", "int_parsing", "int_type"):
            msg = f"expected a number, got {got!r}"
        elif e["type"] in ("greater_than_equal",):
            msg = f"must be >= {e['ctx']['ge']}, got {got!r}"
        elif e["type"] == "value_error":
            msg = str(e["ctx"]["error"]) if "ctx" in e else e["msg"]
        else:
            msg = f"{e['msg']}" + (f", got {got!r}" if got is not None and not isinstance(got, dict) else "")
        issues.append(Issue(where, msg))
    # a union field reports once per alternative; keep the first message per location
    seen, unique = set(), []
    for i in issues:
        key = i.where.split(".float")[0].split(".tuple")[0]
        if key not in seen:
            seen.add(key)
            unique.append(Issue(key, i.message))
    return unique
