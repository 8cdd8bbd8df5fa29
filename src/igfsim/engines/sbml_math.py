"""SBML -> sympy for the scipy engine: an SBML model as ODEs in concentration units.

:func:`read_system` reads the SBML with libsbml (independently of libRoadRunner), turns its MathML
into sympy expressions and returns the run-time description of the system (:class:`Meta`, plain
data) with four straight-line programs that :mod:`igfsim.engines.scipy_ode` compiles to C or
lambdifies: the right-hand side, its analytic Jacobian, the assignment-rule values and the initial
concentrations. Constructs the engine does not implement raise :class:`ModelError` naming them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libsbml
import sympy as sp

from igfsim.errors import ModelError

#: the SBML ``time`` csymbol
TIME = sp.Symbol("sbml_time", real=True)
_UNSUPPORTED = "is not supported by the scipy engine"
_FUNCS = {
    libsbml.AST_FUNCTION_ABS: sp.Abs,
    libsbml.AST_FUNCTION_EXP: sp.exp,
    libsbml.AST_FUNCTION_LN: sp.log,
    libsbml.AST_FUNCTION_FLOOR: sp.floor,
    libsbml.AST_FUNCTION_CEILING: sp.ceiling,
    libsbml.AST_FUNCTION_FACTORIAL: sp.factorial,
    libsbml.AST_FUNCTION_SIN: sp.sin,
    libsbml.AST_FUNCTION_COS: sp.cos,
    libsbml.AST_FUNCTION_TAN: sp.tan,
    libsbml.AST_FUNCTION_SEC: sp.sec,
    libsbml.AST_FUNCTION_CSC: sp.csc,
    libsbml.AST_FUNCTION_COT: sp.cot,
    libsbml.AST_FUNCTION_SINH: sp.sinh,
    libsbml.AST_FUNCTION_COSH: sp.cosh,
    libsbml.AST_FUNCTION_TANH: sp.tanh,
    libsbml.AST_FUNCTION_ARCSIN: sp.asin,
    libsbml.AST_FUNCTION_ARCCOS: sp.acos,
    libsbml.AST_FUNCTION_ARCTAN: sp.atan,
    libsbml.AST_FUNCTION_ARCSINH: sp.asinh,
    libsbml.AST_FUNCTION_ARCCOSH: sp.acosh,
    libsbml.AST_FUNCTION_ARCTANH: sp.atanh,
}
_RELATIONS = {
    libsbml.AST_RELATIONAL_EQ: sp.Eq,
    libsbml.AST_RELATIONAL_NEQ: sp.Ne,
    libsbml.AST_RELATIONAL_LT: sp.Lt,
    libsbml.AST_RELATIONAL_LEQ: sp.Le,
    libsbml.AST_RELATIONAL_GT: sp.Gt,
    libsbml.AST_RELATIONAL_GEQ: sp.Ge,
}
_LOGIC = {libsbml.AST_LOGICAL_AND: sp.And, libsbml.AST_LOGICAL_OR: sp.Or, libsbml.AST_LOGICAL_XOR: sp.Xor}


@dataclass
class Meta:
    """What the engine needs at run time (plain data, stored as JSON inside the compiled library)."""

    state: list[str]  # integrated species (concentrations), in the order of the state vector
    params: list[str]  # run-time inputs: parameters, compartment sizes, boundary/constant species
    param_values: list[float]  # their SBML values (initial assignments of parameters evaluated once)
    param_kind: list[str]  # "parameter", "compartment" or "species"
    rules: list[str]  # assignment-rule targets, in evaluation order
    compartment_of: dict[str, str]  # species id -> compartment id
    compartment_sizes: dict[str, float]  # SBML compartment sizes (species amounts are kept on resizing)
    jac_nonzeros: list[int] = field(default_factory=list)  # flat column-major positions in the Jacobian
    has_jacobian: bool = True


@dataclass
class Program:
    """Straight-line code: ``assignments`` (symbol, expression) in order, then ``outputs``."""

    assignments: list[tuple[sp.Symbol, sp.Expr]]
    outputs: list[sp.Expr]


class _Reader:
    def __init__(self, m: libsbml.Model):
        self.m = m
        self.fdefs = {f.getId(): f for f in m.getListOfFunctionDefinitions()}
        self.sym: dict[str, sp.Symbol] = {}
        for x in [*m.getListOfCompartments(), *m.getListOfSpecies(), *m.getListOfParameters()]:
            self.sym[x.getId()] = sp.Symbol("m_" + x.getId(), real=True)
        self.names = {s: i for i, s in self.sym.items()}  # symbol -> SBML id
        self.reactions = {r.getId() for r in m.getListOfReactions()}

    # ------------------------------------------------------------------ MathML -> sympy
    def expr(self, ast: libsbml.ASTNode | None, where: str, local: dict[str, sp.Expr] | None = None) -> sp.Expr:
        """The sympy expression of ``ast``; translation problems become :class:`ModelError` naming ``where``."""
        if ast is None:
            raise ModelError(f"{where} has no math")
        try:
            return self._node(ast, where, local or {})
        except ModelError:
            raise
        except (TypeError, ValueError, AttributeError) as err:
            raise ModelError(f"{where}: cannot translate {libsbml.formulaToL3String(ast)!r} ({err})") from None

    def _node(self, n: libsbml.ASTNode, where: str, local: dict[str, sp.Expr]) -> sp.Expr:  # noqa: C901
        """The sympy expression of MathML node ``n`` (children first; ``local`` binds lambda arguments).

        Longer than the other functions on purpose: one flat branch per MathML construct reads
        better as one dispatch than split across helpers.
        """
        t = n.getType()
        kids = (
            [self._node(n.getChild(i), where, local) for i in range(n.getNumChildren())]
            if t != libsbml.AST_LAMBDA
            else []
        )
        if t == libsbml.AST_INTEGER:
            return sp.Integer(n.getInteger())
        if t in (libsbml.AST_REAL, libsbml.AST_REAL_E):
            return sp.Float(n.getReal())
        if t == libsbml.AST_RATIONAL:
            return sp.Rational(n.getNumerator(), n.getDenominator())
        if t == libsbml.AST_NAME:
            name = n.getName()
            if name in local:
                return local[name]
            if name in self.sym:
                return self.sym[name]
            if name in self.reactions:
                raise ModelError(f"{where}: a reaction rate used as a value ({name!r}) {_UNSUPPORTED}")
            raise ModelError(f"{where}: {name!r} (e.g. a species reference's stoichiometry) {_UNSUPPORTED}")
        if t == libsbml.AST_NAME_TIME:
            return TIME
        if t == libsbml.AST_NAME_AVOGADRO:
            return sp.Float(6.02214179e23)
        if t == libsbml.AST_CONSTANT_E:
            return sp.E
        if t == libsbml.AST_CONSTANT_PI:
            return sp.pi
        if t == libsbml.AST_CONSTANT_TRUE:
            return sp.true
        if t == libsbml.AST_CONSTANT_FALSE:
            return sp.false
        if t == libsbml.AST_PLUS:
            return sp.Add(*kids)
        if t == libsbml.AST_MINUS:
            return -kids[0] if len(kids) == 1 else kids[0] - kids[1]
        if t == libsbml.AST_TIMES:
            return sp.Mul(*kids)
        if t == libsbml.AST_DIVIDE:
            return kids[0] / kids[1]
        if t in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
            return kids[0] ** kids[1]
        if t == libsbml.AST_FUNCTION_ROOT:
            return sp.sqrt(kids[-1]) if len(kids) == 1 else kids[1] ** (1 / kids[0])
        if t == libsbml.AST_FUNCTION_LOG:
            return sp.log(kids[-1], 10 if len(kids) == 1 else kids[0])
        if t in _FUNCS:
            return _FUNCS[t](*kids)
        if t == libsbml.AST_FUNCTION_MAX:
            return sp.Max(*kids)
        if t == libsbml.AST_FUNCTION_MIN:
            return sp.Min(*kids)
        if t in _RELATIONS:
            return sp.And(*[_RELATIONS[t](a, b) for a, b in zip(kids[:-1], kids[1:], strict=True)])
        if t in _LOGIC:
            return _LOGIC[t](*kids)
        if t == libsbml.AST_LOGICAL_NOT:
            return sp.Not(kids[0])
        if t == libsbml.AST_FUNCTION_PIECEWISE:
            pieces = [(kids[i], kids[i + 1]) for i in range(0, len(kids) - 1, 2)]
            pieces.append((kids[-1], True) if len(kids) % 2 else (sp.nan, True))
            return sp.Piecewise(*pieces)
        if t == libsbml.AST_FUNCTION and n.getName() in self.fdefs:
            return self._call(n.getName(), kids, where)
        what = {
            libsbml.AST_FUNCTION_DELAY: "the delay function",
            libsbml.AST_FUNCTION_RATE_OF: "the rateOf function",
        }.get(t, f"MathML {n.getName() or t!r}")
        raise ModelError(f"{where}: {what} ({libsbml.formulaToL3String(n)}) {_UNSUPPORTED}")

    def _call(self, fid: str, args: list, where: str):
        lam = self.fdefs[fid].getMath()
        if lam is None or lam.getType() != libsbml.AST_LAMBDA:
            raise ModelError(f"function definition {fid!r} has no lambda body and {_UNSUPPORTED}")
        nb = lam.getNumBvars()
        if nb != len(args):
            raise ModelError(f"{where}: function {fid!r} takes {nb} argument(s), got {len(args)}")
        bound = {lam.getChild(i).getName(): a for i, a in enumerate(args)}
        return self._node(lam.getChild(nb), f"function definition {fid!r} (called from {where})", bound)

    # ------------------------------------------------------------------ model checks
    def reject_unsupported(self) -> None:
        m = self.m
        for i, ev in enumerate(m.getListOfEvents()):
            raise ModelError(
                f"SBML event {ev.getId() or f'#{i + 1}'!r} {_UNSUPPORTED}; schedule changes "
                "with scenario treatments (protocol events) instead"
            )
        for rule in m.getListOfRules():
            var = rule.getVariable() if not rule.isAlgebraic() else ""
            if rule.isAlgebraic():
                raise ModelError(f"algebraic rule {libsbml.formulaToL3String(rule.getMath())!r} {_UNSUPPORTED}")
            if rule.isRate() and m.getSpecies(var) is None:
                raise ModelError(f"rate rule on non-species {var!r} {_UNSUPPORTED}")
            if m.getCompartment(var) is not None:
                raise ModelError(f"rule on compartment {var!r} (non-constant compartment) {_UNSUPPORTED}")
        for c in m.getListOfCompartments():
            if not c.getConstant():
                raise ModelError(f"non-constant compartment {c.getId()!r} {_UNSUPPORTED}")
        if m.isSetConversionFactor():
            raise ModelError(f"model conversion factor {m.getConversionFactor()!r} {_UNSUPPORTED}")
        for s in m.getListOfSpecies():
            if s.getHasOnlySubstanceUnits():
                raise ModelError(f"species {s.getId()!r} has hasOnlySubstanceUnits=true, which {_UNSUPPORTED}")
            if s.isSetConversionFactor():
                raise ModelError(f"conversion factor of species {s.getId()!r} {_UNSUPPORTED}")
        for r in m.getListOfReactions():
            if r.isSetFast() and r.getFast():
                raise ModelError(f"fast reaction {r.getId()!r} {_UNSUPPORTED}")
            if r.getKineticLaw() is None:
                raise ModelError(f"reaction {r.getId()!r} has no kinetic law")
            for sr in [*r.getListOfReactants(), *r.getListOfProducts()]:
                if sr.isSetStoichiometryMath() or (
                    sr.isSetId()
                    and (m.getRule(sr.getId()) is not None or m.getInitialAssignment(sr.getId()) is not None)
                ):
                    raise ModelError(
                        f"variable stoichiometry of {sr.getSpecies()!r} in reaction {r.getId()!r} {_UNSUPPORTED}"
                    )


def _order_rules(rules: dict[sp.Symbol, sp.Expr], names: dict) -> list[sp.Symbol]:
    """Assignment-rule targets so that each comes after the rules it uses (SBML order otherwise)."""
    done: list[sp.Symbol] = []
    seen: set = set()
    visiting: set = set()

    def visit(s):
        if s in seen:
            return
        if s in visiting:
            raise ModelError(f"assignment rules depend on each other in a cycle through {names[s]!r}")
        visiting.add(s)
        for d in sorted(rules[s].free_symbols & rules.keys(), key=str):
            visit(d)
        visiting.discard(s)
        seen.add(s)
        done.append(s)

    for s in rules:
        visit(s)
    return done


def _d(expr: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """d expr / d s without removable 0/0: sympy writes d(x**n)/dx as n*x**n/x, which is NaN at x = 0
    (e.g. a Hill term of a ligand that is absent), and d((x/K)**n)/dx as n*(x/K)**n/x; splitting
    power bases and combining powers turns both into n*x**(n - 1)*K**(-n)."""
    d = sp.diff(expr, s)
    if not d.has(sp.Pow):
        return d
    return sp.powsimp(sp.expand_power_base(d, force=True), force=True)


def _jacobian(rhs: list, rates: list, state: list, rule_order: list, rules: dict, v_syms: list):
    """Forward-mode chain rule through the rules and the rates: assignments and nonzero entries."""
    assignments: list = []
    dsym: dict = {}  # (rule or rate symbol) -> {state index: symbol of its total derivative}
    xi = {s: i for i, s in enumerate(state)}
    for target, expr in [*[(r, rules[r]) for r in rule_order], *zip(v_syms, rates, strict=True)]:
        total: dict[int, sp.Expr] = {}
        for s in expr.free_symbols:
            if s in xi:
                total[xi[s]] = total.get(xi[s], 0) + _d(expr, s)
            elif s in dsym:
                part = _d(expr, s)
                for j, dj in dsym[s].items():
                    total[j] = total.get(j, 0) + part * dj
        dsym[target] = {}
        for j, d in sorted(total.items()):
            if d != 0:
                sym = sp.Symbol(f"d_{target.name}_{j}", real=True)
                assignments.append((sym, d))
                dsym[target][j] = sym
    entries: dict[tuple[int, int], sp.Expr] = {}
    for i, terms in enumerate(rhs):
        for coeff, v in terms:
            for j, dj in dsym[v].items():
                entries[(i, j)] = entries.get((i, j), 0) + coeff * dj
    return assignments, {k: e for k, e in entries.items() if e != 0}


def _finite_derivatives(exprs: list) -> bool:
    """Whether every derivative evaluated (floor/ceiling steps differentiate to 0)."""
    return not any(e.has(sp.Derivative, sp.Subs) for e in exprs)


@dataclass
class _Rules:
    """The model's rules as sympy: assignment rules by target symbol, rate rules by species id."""

    assign: dict[sp.Symbol, sp.Expr]
    rate: dict[str, sp.Expr]
    order: list[sp.Symbol]  # assignment-rule targets in evaluation order


@dataclass
class _Layout:
    """Which ids are integrated (``state``) and which are run-time inputs (``params``, of ``kinds``)."""

    state: list[str]
    params: list[str]
    kinds: list[str]
    compartment_of: dict[str, str]
    sizes: dict[str, float]  # compartment id -> SBML size (updated by initial assignments)


@dataclass
class _Reactions:
    """Rates (amount per time) with their symbols, and each state species' (stoichiometry, rate) terms."""

    rates: list[sp.Expr]
    symbols: list[sp.Symbol]
    terms: dict[str, list[tuple[sp.Expr, sp.Symbol]]]


def _read_rules(rd: _Reader) -> _Rules:
    sym = rd.sym
    assign = {
        sym[r.getVariable()]: rd.expr(r.getMath(), f"assignment rule for {r.getVariable()!r}")
        for r in rd.m.getListOfRules()
        if r.isAssignment()
    }
    rate = {
        r.getVariable(): rd.expr(r.getMath(), f"rate rule for {r.getVariable()!r}")
        for r in rd.m.getListOfRules()
        if r.isRate()
    }
    return _Rules(assign, rate, _order_rules(assign, rd.names))


def _layout(rd: _Reader, rules: _Rules) -> _Layout:
    """Integrated species: rate-rule targets and species a reaction changes; the rest are inputs or rules."""
    m, sym, assign = rd.m, rd.sym, rules.assign
    species = list(m.getListOfSpecies())
    state = [
        s.getId()
        for s in species
        if s.getId() in rules.rate
        or (sym[s.getId()] not in assign and not s.getBoundaryCondition() and not s.getConstant())
    ]
    fixed_species = [s.getId() for s in species if s.getId() not in state and sym[s.getId()] not in assign]
    sizes = {c.getId(): c.getSize() if c.isSetSize() else 1.0 for c in m.getListOfCompartments()}
    # independent inputs: parameters without rules, compartments, species that no reaction changes
    params = [p.getId() for p in m.getListOfParameters() if sym[p.getId()] not in assign]
    kinds = ["parameter"] * len(params) + ["compartment"] * len(sizes) + ["species"] * len(fixed_species)
    params += [*sizes, *fixed_species]
    return _Layout(state, params, kinds, {s.getId(): s.getCompartment() for s in species}, sizes)


class _InitialValues:
    """SBML values, initial assignments and rules resolved together at t = 0.

    Compartment sizes given by initial assignments are written into ``layout.sizes``.
    """

    def __init__(self, rd: _Reader, rules: _Rules, layout: _Layout):
        m, sym = rd.m, rd.sym
        self.sym, self.names, self.assign, self.layout = sym, rd.names, rules.assign, layout
        self.ia = {
            a.getSymbol(): rd.expr(a.getMath(), f"initial assignment for {a.getSymbol()!r}")
            for a in m.getListOfInitialAssignments()
        }
        self.by_id = {s.getId(): s for s in m.getListOfSpecies()}
        self.species_ids = set(layout.compartment_of)
        self.subst_at0: dict[sp.Symbol, sp.Expr] = {TIME: sp.Integer(0)}
        self.resolving: set[sp.Symbol] = set()
        self.base = {sym[p.getId()]: p.getValue() for p in m.getListOfParameters()} | {
            sym[c]: v for c, v in layout.sizes.items()
        }
        self.fixed_values: dict[sp.Symbol, float] = {}

    def sbml_initial(self, sid: str) -> sp.Expr:
        s = self.by_id[sid]
        if s.isSetInitialConcentration():
            return sp.Float(s.getInitialConcentration())
        if s.isSetInitialAmount():
            return sp.Float(s.getInitialAmount() / self.layout.sizes[self.layout.compartment_of[sid]])
        return sp.nan

    def resolve(self, s: sp.Symbol) -> sp.Expr:
        """``s`` at t = 0 in terms of run-time inputs (parameter values from initial assignments are fixed below)."""
        if s in self.subst_at0:
            return self.subst_at0[s]
        sid = self.names.get(s)
        if s in self.assign:
            expr = self.assign[s]
        elif sid is not None and sid in self.species_ids:
            expr = self.ia[sid] if sid in self.ia else self.sbml_initial(sid)
        else:
            return s  # a run-time input
        if s in self.resolving:
            raise ModelError(f"initial values depend on each other in a cycle through {sid!r}")
        self.resolving.add(s)
        out = expr.xreplace({d: self.resolve(d) for d in expr.free_symbols})
        self.resolving.discard(s)
        self.subst_at0[s] = out
        return out

    def evaluate(self, expr: sp.Expr) -> float:
        expr = expr.xreplace({d: self.resolve(d) for d in expr.free_symbols})
        return float(
            expr.xreplace(
                {
                    d: self.fixed_value(d) if self.names.get(d) in self.ia else self.base.get(d, d)
                    for d in expr.free_symbols
                }
            ).evalf()
        )

    def fixed_value(self, s: sp.Symbol) -> float:
        """An initial assignment of a parameter or compartment, evaluated once from the SBML values."""
        if s not in self.fixed_values:
            if s in self.resolving:
                raise ModelError(f"initial assignments depend on each other in a cycle through {self.names[s]!r}")
            self.resolving.add(s)
            self.fixed_values[s] = self.evaluate(self.ia[self.names[s]])
            self.resolving.discard(s)
        return self.fixed_values[s]

    def param_values(self) -> list[float]:
        """Values of the run-time inputs (after sizing the compartments that have initial assignments).

        Like libRoadRunner's reset(), only the integrated species are re-initialised after overrides;
        parameters, compartments and boundary species keep the values computed here.
        """
        sym, sizes = self.sym, self.layout.sizes
        for cid in sizes:
            if cid in self.ia:
                sizes[cid] = self.base[sym[cid]] = self.fixed_value(sym[cid])
        return [
            self.evaluate(self.resolve(sym[pid]))
            if pid in self.species_ids
            else self.fixed_value(sym[pid])
            if pid in self.ia
            else float(self.base[sym[pid]])
            for pid in self.layout.params
        ]

    def program(self) -> Program:
        """Initial concentrations of the state."""
        return Program([], [self.resolve(self.sym[s]) for s in self.layout.state])


def _read_reactions(rd: _Reader, rules: _Rules, state: list[str]) -> _Reactions:
    """Rates in amount per time; d[S]/dt = sum(stoich * rate) / V for each species without a rate rule."""
    rates, v_syms = [], []
    terms: dict[str, list[tuple[sp.Expr, sp.Symbol]]] = {s: [] for s in state}
    for k, r in enumerate(rd.m.getListOfReactions()):
        kl = r.getKineticLaw()
        local = {p.getId(): sp.Float(p.getValue()) for p in [*kl.getListOfParameters(), *kl.getListOfLocalParameters()]}
        rates.append(rd.expr(kl.getMath(), f"kinetic law of reaction {r.getId()!r}", local))
        v_syms.append(sp.Symbol(f"v_{k}", real=True))
        for sign, refs in ((-1, r.getListOfReactants()), (1, r.getListOfProducts())):
            for sr in refs:
                if sr.getSpecies() in terms and sr.getSpecies() not in rules.rate:
                    st = sr.getStoichiometry() if sr.isSetStoichiometry() else 1.0
                    st = sp.Integer(int(st)) if float(st).is_integer() else sp.Float(st)
                    terms[sr.getSpecies()].append((sign * st, v_syms[-1]))
    return _Reactions(rates, v_syms, terms)


def _rules_needed(rules: _Rules, exprs: list[sp.Expr]) -> list[tuple[sp.Symbol, sp.Expr]]:
    """The assignment rules that ``exprs`` use, directly or through other rules, in evaluation order."""
    used = set().union(*(e.free_symbols for e in exprs))
    needed: set[sp.Symbol] = set()
    for s in reversed(rules.order):
        if s in used or s in needed:
            needed.add(s)
            needed |= rules.assign[s].free_symbols & rules.assign.keys()
    return [(s, rules.assign[s]) for s in rules.order if s in needed]


def _rhs(
    rd: _Reader, rules: _Rules, layout: _Layout, rx: _Reactions
) -> tuple[Program, list[tuple[sp.Symbol, sp.Expr]], list[list[tuple[sp.Expr, sp.Symbol]]]]:
    """The right-hand side program, the rules it evaluates first, and each state species' Jacobian terms.

    Rate rules join ``rx.rates`` (as symbols ``rr_<species>``), so that the Jacobian differentiates them too.
    """
    rhs_rules = _rules_needed(rules, [*rx.rates, *rules.rate.values()])
    rhs_out, jac_terms = [], []
    for sid in layout.state:
        if sid in rules.rate:
            rr_sym = sp.Symbol(f"rr_{sid}", real=True)
            rx.rates.append(rules.rate[sid])
            rx.symbols.append(rr_sym)
            jac_terms.append([(sp.Integer(1), rr_sym)])
            rhs_out.append(rr_sym)
        else:
            volume = rd.sym[layout.compartment_of[sid]]
            jac_terms.append([(c / volume, v) for c, v in rx.terms[sid]])
            rhs_out.append(sp.Add(*[c * v for c, v in rx.terms[sid]]) / volume)
    return Program([*rhs_rules, *zip(rx.symbols, rx.rates, strict=True)], rhs_out), rhs_rules, jac_terms


def _jacobian_program(
    rd: _Reader,
    rules: _Rules,
    layout: _Layout,
    rx: _Reactions,
    rhs_rules: list[tuple[sp.Symbol, sp.Expr]],
    jac_terms: list[list[tuple[sp.Expr, sp.Symbol]]],
) -> tuple[Program, list[int], bool]:
    """The Jacobian's program, its nonzeros' flat column-major positions, and whether every derivative evaluated."""
    xs = [rd.sym[s] for s in layout.state]
    d_assign, entries = _jacobian(jac_terms, rx.rates, xs, [s for s, _ in rhs_rules], rules.assign, rx.symbols)
    d_assign = [
        (
            s,
            e.replace(
                lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, (sp.floor, sp.ceiling)),
                lambda e: sp.Integer(0),
            ),
        )
        for s, e in d_assign
    ]
    n = len(layout.state)
    positions = [j * n + i for (i, j) in entries]
    jac = Program([*rhs_rules, *d_assign], list(entries.values()))
    return jac, positions, _finite_derivatives([e for _, e in d_assign])


def read_system(sbml: str) -> tuple[Meta, dict[str, Program]]:
    """Read ``sbml`` into run-time metadata and the programs ``rhs``, ``jac``, ``rules``, ``init``."""
    doc = libsbml.readSBMLFromString(sbml)  # owns the model: keep it alive while reading
    m = doc.getModel()
    if m is None:
        raise ModelError("invalid SBML: no model")
    rd = _Reader(m)
    rd.reject_unsupported()
    rules = _read_rules(rd)
    layout = _layout(rd, rules)
    initial = _InitialValues(rd, rules, layout)
    values = initial.param_values()
    init = initial.program()
    rx = _read_reactions(rd, rules, layout.state)
    rhs, rhs_rules, jac_terms = _rhs(rd, rules, layout, rx)
    jac, positions, has_jac = _jacobian_program(rd, rules, layout, rx, rhs_rules, jac_terms)
    meta = Meta(
        state=layout.state,
        params=layout.params,
        param_values=values,
        param_kind=layout.kinds,
        rules=[rd.names[s] for s in rules.order],
        compartment_of=layout.compartment_of,
        compartment_sizes=layout.sizes,
        jac_nonzeros=positions,
        has_jacobian=has_jac,
    )
    rule_values = Program([(s, rules.assign[s]) for s in rules.order], list(rules.order))
    return meta, {"rhs": rhs, "jac": jac, "rules": rule_values, "init": init}


def symbols_of(meta: Meta) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
    """The sympy symbols of the state and of the parameter vector, in order."""

    def mk(i):
        return sp.Symbol("m_" + i, real=True)

    return [mk(s) for s in meta.state], [mk(p) for p in meta.params]
