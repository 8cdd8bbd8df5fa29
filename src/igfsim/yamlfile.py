"""Read YAML input files and turn schema problems into :class:`~igfsim.errors.Issue` lists.

Every YAML input of igfsim (scenarios, sweeps, drug and cell catalogues, model mappings) is read
here, so a malformed file or a wrong key reads the same wherever it is found: the file, the dotted
key, what was expected, and every problem of the file at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from igfsim.errors import IgfsimError, Issue, did_you_mean, read_text_file

#: an error class built from a file's path and its issues (ScenarioError, CatalogError, MappingError)
FileError = Callable[[str, Iterable[Issue]], IgfsimError]
M = TypeVar("M", bound=BaseModel)


#: limits of an input file, checked before anything is built from it
MAX_DEPTH = 64  # nested mappings and lists
MAX_ALIASES = 200  # uses of ``*anchor``
MAX_VALUES = 200_000  # values once every alias is expanded (a "billion laughs" file stops here)


def _expanded_size(node, memo: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias expanded (aliases share nodes: memoised)."""
    key = id(node)
    if key not in memo:
        memo[key] = 1
        if isinstance(node, yaml.SequenceNode):
            memo[key] += sum(_expanded_size(child, memo) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            memo[key] += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    return memo[key]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses duplicate keys (instead of keeping the last) and files nested,
    aliased or expanding beyond :data:`MAX_DEPTH`, :data:`MAX_ALIASES`, :data:`MAX_VALUES`."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name)", mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_data(self):
        node = self.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_VALUES:
            raise yaml.composer.ComposerError(
                None, None, f"the aliases expand to more than {MAX_VALUES} values", node.start_mark
            )
        return self.construct_document(node)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict[object, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in first:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r} (first on line {first[key] + 1})", key_node.start_mark
                        )
                    first[key] = key_node.start_mark.line
                except TypeError:  # an unhashable key: PyYAML's own check reports it
                    pass
        return super().construct_mapping(node, deep)


def read_yaml(path: str | Path, error: FileError) -> object:
    """The parsed content of a UTF-8 YAML file; ``error(path, issues)`` naming the file (and the line
    and column of a syntax error) when it cannot be read or parsed."""
    p = Path(path)
    text, problem = read_text_file(p)
    if text is None:
        raise error(str(p), [Issue("(file)", problem)])
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
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
        raise error(source, issues_from_pydantic(err, schema, data)) from None


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


def _user_loc(loc: tuple, data: object) -> tuple:
    """``loc`` without pydantic's union-branch tags (``list[float]``, ...), walking ``data`` alongside so
    that a key of the user's that looks like a tag (``"list[x]"``) stays."""
    out = []
    cur = data
    for part in loc:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        elif _union_branch(part):
            continue
        else:
            cur = None
        out.append(part)
    return tuple(out)


def issues_from_pydantic(err: ValidationError, root: type[BaseModel], data: object = None) -> list[Issue]:
    """One :class:`Issue` per problem pydantic found validating ``root`` (a union field's alternatives once).

    ``data``, the validated input, tells the user's keys from pydantic's union-branch tags."""
    issues = []
    for e in err.errors():
        raw = tuple(e["loc"])
        loc = _user_loc(raw, data) if data is not None else tuple(p for p in raw if not _union_branch(p))
        where = format_loc(loc)
        got = _bounded(e.get("input"))
        if e["type"] == "extra_forbidden":
            known = _known_keys(loc, root)
            key = loc[-1] if loc else e["loc"][-1]
            msg = f"unknown key {key!r}{did_you_mean(str(key), known)}; expected one of: {', '.join(known)}"
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
        if i.where not in seen:
            seen.add(i.where)
            unique.append(i)
    return unique


#: the part of a pydantic error location that names a branch of a union (``float``, ``list[str]``,
#: ``constrained-str``, ``function-after[...]``), not a key of the file
_BRANCH_RE = re.compile(r"^(function-|tagged-|constrained-)|\[|^(str|int|float|bool|list|tuple|dict|none)$")
#: quoted input values are cut to this many characters (a huge value must not make a huge message)
MAX_QUOTED = 200


def _union_branch(part: object) -> bool:
    return isinstance(part, str) and bool(_BRANCH_RE.search(part))


def _bounded(value: object) -> object:
    """``value`` for quoting in a message: itself when short, else its text cut to :data:`MAX_QUOTED`."""
    text = repr(value)
    return value if len(text) <= MAX_QUOTED else _Cut(text[: MAX_QUOTED - 3] + "...")


class _Cut(str):
    """A cut-off quoted value (its repr is the text itself)."""

    def __repr__(self) -> str:
        return str(self)
