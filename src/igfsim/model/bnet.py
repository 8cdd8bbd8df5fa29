"""Boolean networks in BoolNet/CoLoMoTo ``.bnet`` format: parsing, checking and numpy evaluation.

A ``.bnet`` file has one ``target, rule`` line per node (an optional ``targets, factors`` header
first); rules combine node names and the constants ``0``/``1`` with ``!``, ``&``, ``|`` and
parentheses (``!`` binds tightest, then ``&``, then ``|``). ``#`` starts a comment.

:func:`load_bnet` / :func:`parse_bnet` return a frozen :class:`BooleanNetwork`; every problem in the
file (syntax error, unknown node, duplicate target) is collected first and raised together as one
:class:`BnetError` whose lines read ``<file>: line <n>: <message>``.

Evaluation is vectorised: each rule is compiled to one numpy expression over a state array whose
row ``k`` holds node ``k`` for many states at once. The same code runs on ``bool`` rows (one state
per element) and on bit-packed ``uint64`` rows (64 states per element, :func:`pack_states`).
For single-node (asynchronous) updates each rule is also tabulated over its regulators
(:attr:`BooleanNetwork.truth_tables`).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn

import numpy as np

from igfsim.errors import BnetError, BnetWarning, Issue, did_you_mean, read_text_file

#: a rule's syntax tree: ("var", name) | ("const", bool) | ("not", node) | ("and"|"or", (node, ...))
Expr = tuple

#: node names as mpbn and pyboolnet read them: letters, digits, ``_``, ``.`` and ``-``, but not ``0``/``1`` alone
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_NAME_RE = re.compile(rf"^{_NAME}$")
_CONST = r"[01](?![A-Za-z0-9_.\-])"
_TOKEN_RE = re.compile(rf"\s*(?:(?P<const>{_CONST})|(?P<name>{_NAME})|(?P<op>[!&|()]))")
#: rules nested deeper than this are refused: they are compiled to Python expressions, whose parser
#: allows at most 200 nested parentheses (same-operator groups and double negations are flattened first)
MAX_NESTING = 90
#: parentheses nested deeper than this are refused before parsing (bounds the parser's recursion)
MAX_PARENTHESES = 2000
#: regulators above this count are not tabulated (2**k entries); such networks update by full evaluation
MAX_TABLE_INPUTS = 16


class _SyntaxError(Exception):
    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


class _Parser:
    """Recursive descent over one rule: or := and ('|' and)*; and := not ('&' not)*; not := '!' not | atom."""

    def __init__(self, text: str):
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN_RE.match(text, pos)
            if m is None:
                col = pos + len(text[pos:]) - len(text[pos:].lstrip()) + 1
                raise _SyntaxError(f"unexpected character {text[col - 1]!r}", col)
            kind = m.lastgroup
            assert kind is not None  # the pattern's alternatives are all named groups
            self.tokens.append((kind, m.group(kind), m.start(kind) + 1))
            pos = m.end()
        self.i = 0

    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _fail(self, expected: str) -> NoReturn:
        tok = self._peek()
        if tok is None:
            raise _SyntaxError(f"expected {expected} but the rule ends", len(self.text) + 1)
        raise _SyntaxError(f"expected {expected} but found {tok[1]!r}", tok[2])

    def parse(self) -> Expr:
        if not self.tokens:
            raise _SyntaxError("empty rule", 1)
        depth = deepest = 0
        for _, value, col in self.tokens:
            depth += (value == "(") - (value == ")")
            if depth > MAX_PARENTHESES:
                raise _SyntaxError(f"parentheses nested more than {MAX_PARENTHESES} levels deep", col)
            deepest = max(deepest, depth)
        # the descent takes a few frames per level: room for the deepest accepted nesting
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 8 * (deepest + len(self.tokens) // 2) + 200))
        try:
            expr = self._or()
        finally:
            sys.setrecursionlimit(limit)
        if (levels := _depth(expr)) > MAX_NESTING:
            raise _SyntaxError(
                f"the rule is nested {levels} levels deep (alternating operators), more than the {MAX_NESTING} "
                "the logic engine compiles",
                1,
            )
        if self._peek() is not None:
            self._fail("'&', '|' or the end of the rule")
        return expr

    def _binary(self, op: str, kind: str, sub) -> Expr:
        items = [sub()]
        while (tok := self._peek()) is not None and tok[1] == op:
            self.i += 1
            items.append(sub())
        if len(items) == 1:
            return items[0]
        # (a & (b & c)) is a & b & c: one level, not two
        flat = [x for item in items for x in (item[1] if item[0] == kind else (item,))]
        return (kind, tuple(flat))

    def _or(self) -> Expr:
        return self._binary("|", "or", self._and)

    def _and(self) -> Expr:
        return self._binary("&", "and", self._not)

    def _not(self) -> Expr:
        tok = self._peek()
        if tok is None:
            self._fail("a node name, '!' or '('")
        kind, value, _ = tok
        self.i += 1
        if value == "!":
            inner = self._not()
            return inner[1] if inner[0] == "not" else ("not", inner)  # !!x is x
        if value == "(":
            inner = self._or()
            if (close := self._peek()) is None or close[1] != ")":
                self._fail("')'")
            self.i += 1
            return inner
        if kind == "name":
            return ("var", value)
        if kind == "const":
            return ("const", value == "1")
        self.i -= 1
        self._fail("a node name, '!' or '('")


def _depth(expr: Expr) -> int:
    """Levels of ``expr`` (a variable or constant is 1), without recursion."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if node[0] == "not":
            stack.append((node[1], level + 1))
        elif node[0] in ("and", "or"):
            stack.extend((child, level + 1) for child in node[1])
    return deepest


def parse_rule(text: str) -> Expr:
    """Parse one rule into its syntax tree; raises ``ValueError`` with the column on a syntax error."""
    try:
        return _Parser(text).parse()
    except _SyntaxError as err:
        raise ValueError(f"{err} (column {err.column})") from None


def variables(expr: Expr) -> set[str]:
    """Node names a rule reads."""
    if expr[0] == "var":
        return {expr[1]}
    if expr[0] == "const":
        return set()
    if expr[0] == "not":
        return variables(expr[1])
    return set().union(*(variables(e) for e in expr[1]))


def to_text(expr: Expr, parent: str = "or") -> str:
    """Write a syntax tree back as bnet rule text (parentheses only where needed)."""
    kind = expr[0]
    if kind == "var":
        return expr[1]
    if kind == "const":
        return "1" if expr[1] else "0"
    if kind == "not":
        return "!" + to_text(expr[1], "not")
    sep = " & " if kind == "and" else " | "
    text = sep.join(to_text(e, kind) for e in expr[1])
    return f"({text})" if parent == "not" or (kind == "or" and parent == "and") else text


def evaluate(expr: Expr, state: Mapping[str, bool]) -> bool:
    """Evaluate a rule on one state (plain Python; the reference for the vectorised code)."""
    kind = expr[0]
    if kind == "var":
        return bool(state[expr[1]])
    if kind == "const":
        return expr[1]
    if kind == "not":
        return not evaluate(expr[1], state)
    if kind == "and":
        return all(evaluate(e, state) for e in expr[1])
    return any(evaluate(e, state) for e in expr[1])


@dataclass(frozen=True)
class Notation:
    """How to write a rule in another language, fully parenthesised: ``var`` formats a node name,
    ``true``/``false`` the constants, ``negate`` a negation; ``and_``/``or_`` join the operands."""

    var: Callable[[str], str]
    true: str
    false: str
    negate: Callable[[str], str]
    and_: str
    or_: str


def render(expr: Expr, notation: Notation) -> str:
    """Write ``expr`` in ``notation``; every and/or is parenthesised, so the target language's
    precedence rules cannot change its meaning (SBML L3 infix gives ``&&`` and ``||`` equal precedence)."""
    kind = expr[0]
    if kind == "var":
        return notation.var(expr[1])
    if kind == "const":
        return notation.true if expr[1] else notation.false
    if kind == "not":
        return notation.negate(render(expr[1], notation))
    sep = notation.and_ if kind == "and" else notation.or_
    return "(" + sep.join(render(e, notation) for e in expr[1]) + ")"


def _numpy_notation(index: Mapping[str, int]) -> Notation:
    """Bitwise numpy over the state array ``x`` (``_T``/``_F`` are all-ones/all-zeros)."""
    return Notation(lambda name: f"x[{index[name]}]", "_T", "_F", lambda s: f"~{s}", " & ", " | ")


@dataclass(frozen=True, eq=False)
class BooleanNetwork:
    """Nodes (in file order) with their rules; inputs are nodes whose rule is the node itself."""

    nodes: tuple[str, ...]
    rules: Mapping[str, Expr]
    source: str = "<string>"

    @cached_property
    def index(self) -> dict[str, int]:
        """Node name -> row index in state arrays."""
        return {n: i for i, n in enumerate(self.nodes)}

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """Nodes that keep their value (rule ``x, x``); scenarios set them."""
        return tuple(n for n in self.nodes if self.rules[n] == ("var", n))

    @cached_property
    def regulators(self) -> dict[str, tuple[str, ...]]:
        """Node -> the nodes its rule reads, in network order."""
        return {n: tuple(sorted(variables(self.rules[n]), key=self.index.__getitem__)) for n in self.nodes}

    def rule_text(self, node: str) -> str:
        """The rule of ``node`` as bnet text."""
        return to_text(self.rules[node])

    def to_bnet(self) -> str:
        """The network as ``.bnet`` text (no comments)."""
        return "targets, factors\n" + "".join(f"{n}, {self.rule_text(n)}\n" for n in self.nodes)

    def to_mpbn(self):
        """An ``mpbn.MPBooleanNetwork`` of the same rules (most-permissive semantics)."""
        import mpbn

        return mpbn.MPBooleanNetwork({n: self.rule_text(n) for n in self.nodes})

    # ------------------------------------------------------------------ vectorised evaluation
    @cached_property
    def _update_function(self) -> Callable[[np.ndarray, np.generic, np.generic], np.ndarray]:
        """The rules compiled to one Python function ``update(x, true, false)`` of numpy row expressions."""
        lines = ["def update(x, _T, _F):", "    out = np.empty_like(x)"]
        notation = _numpy_notation(self.index)
        for k, n in enumerate(self.nodes):
            lines.append(f"    out[{k}] = {render(self.rules[n], notation)}")
        lines.append("    return out")
        scope: dict = {"np": np}
        exec(compile("\n".join(lines), f"<bnet rules of {self.source}>", "exec"), scope)  # noqa: S102
        return scope["update"]

    def update(self, x: np.ndarray) -> np.ndarray:
        """Synchronous update of many states: ``x`` is ``(n_nodes, ...)`` of bool, or bit-packed uint64."""
        if x.dtype == np.bool_:
            return self._update_function(x, np.True_, np.False_)
        if x.dtype == np.uint64:
            return self._update_function(x, np.uint64(0xFFFFFFFFFFFFFFFF), np.uint64(0))
        raise TypeError(f"states must be bool or bit-packed uint64 arrays, got {x.dtype}")

    @cached_property
    def truth_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(regs, offsets, table)`` for single-node updates, or None if a rule has too many regulators.

        ``regs[k]`` lists node ``k``'s regulator indices, padded with ``n_nodes`` (a constant-0
        column); node ``k``'s next value in state ``s`` is ``table[offsets[k] + sum_j s[regs[k, j]] << j]``.
        """
        regs = [[self.index[r] for r in self.regulators[n]] for n in self.nodes]
        width = max((len(r) for r in regs), default=0)
        if width > MAX_TABLE_INPUTS:
            return None
        n = len(self.nodes)
        padded = np.full((n, max(width, 1)), n, dtype=np.intp)
        offsets = np.zeros(n, dtype=np.intp)
        chunks, start = [], 0
        for k, r in enumerate(regs):
            padded[k, : len(r)] = r
            combos = np.arange(2 ** len(r))
            x = np.zeros((n, combos.size), dtype=bool)
            for j, reg in enumerate(r):
                x[reg] = (combos >> j) & 1
            chunks.append(self.update(x)[k])
            offsets[k] = start
            start += combos.size
        return padded, offsets, np.concatenate(chunks)


# ------------------------------------------------------------------------------- bit packing


def pack_states(states: np.ndarray) -> np.ndarray:
    """``(n_nodes, n_states)`` bool -> ``(n_nodes, ceil(n_states/64))`` uint64.

    State ``64*w + j`` is bit ``j`` of word ``w``; the bits past ``n_states`` are 0.
    """
    n, m = states.shape
    words = -(-m // 64)
    padded = np.zeros((n, words * 64), dtype=bool)
    padded[:, :m] = states
    return np.packbits(padded, axis=-1, bitorder="little").view("<u8").astype(np.uint64, copy=False)


def unpack_states(packed: np.ndarray, n_states: int) -> np.ndarray:
    """Inverse of :func:`pack_states`."""
    as_bytes = np.ascontiguousarray(packed.astype("<u8", copy=False)).view(np.uint8)
    return np.unpackbits(as_bytes, axis=-1, count=n_states, bitorder="little").astype(bool)


# ----------------------------------------------------------------------------------- parsing


def parse_bnet(text: str, source: str = "<string>") -> BooleanNetwork:
    """Parse ``.bnet`` text; raise :class:`BnetError` listing every problem with its line."""
    issues: list[Issue] = []
    rules: dict[str, Expr] = {}
    first_line: dict[str, int] = {}
    refs: list[tuple[int, str, str]] = []  # (line, target, referenced name)
    header_allowed = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"line {number}"
        if "," not in line:
            issues.append(Issue(where, f"syntax error: expected 'target, rule', got {line!r}"))
            continue
        target, rule = (part.strip() for part in line.split(",", 1))
        if header_allowed and target.lower() == "targets" and rule.lower() == "factors":
            header_allowed = False
            continue
        header_allowed = False
        if not _NAME_RE.match(target) or target in ("0", "1"):
            issues.append(
                Issue(
                    where,
                    f"syntax error: invalid target name {target!r}; names hold letters, digits, '_', '.' and "
                    "'-' (and are not 0 or 1)",
                )
            )
            continue
        try:
            expr = _Parser(rule).parse()
        except _SyntaxError as err:
            rest = raw[raw.index(",") + 1 :]
            column = raw.index(",") + 1 + len(rest) - len(rest.lstrip()) + err.column
            issues.append(Issue(where, f"syntax error in the rule of {target!r}: {err} (column {column})"))
            continue
        if target in first_line:
            issues.append(Issue(where, f"duplicate target {target!r} (first defined on line {first_line[target]})"))
            continue
        first_line[target] = number
        rules[target] = expr
        refs += [(number, target, name) for name in sorted(variables(expr))]
    # a node that rules read but no line defines is an input, as BoolNet, mpbn and pyboolnet read it
    undefined = sorted({name for _, _, name in refs if name not in rules}, key=lambda n: [r[2] for r in refs].index(n))
    if undefined and not issues:
        warnings.warn(
            BnetWarning(
                f"{source}: {len(undefined)} node(s) read by rules but defined by no line are taken as inputs "
                f"(they keep their value): {', '.join(n + did_you_mean(n, rules).replace(';', '') for n in undefined)}"
            ),
            stacklevel=2,
        )
        rules.update({name: ("var", name) for name in undefined})
    if not rules and not issues:
        issues.append(Issue("(file)", "no 'target, rule' lines"))
    if issues:
        issues.sort(key=lambda i: int(i.where.split()[-1]) if i.where.startswith("line") else 0)
        raise BnetError(source, issues)
    return BooleanNetwork(nodes=tuple(rules), rules=MappingProxyType(rules), source=source)


def load_bnet(path: str | Path) -> BooleanNetwork:
    """Read and check a ``.bnet`` file."""
    p = Path(path)
    text, problem = read_text_file(p)
    if text is None:
        raise BnetError(str(p), [Issue("(file)", problem)])
    return parse_bnet(text, str(p))
