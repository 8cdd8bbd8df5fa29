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
        self.reactions = {r.getId() for r in m.getListOfReactions()}

    # ------------------------------------------------------------------ MathML -> sympy
    def expr(self, ast, where: str, local: dict | None = None):
        if ast is None:
            raise ModelError(f"{where} has no math")
        try:
            return self._node(ast, where, local or {})
        except ModelError:
            raise
        except (TypeError, ValueError, AttributeError) as err:
            raise ModelError(f"{where}: cannot translate {libsbml.formulaToL3String(ast)!r} ({err})") from None

    def _node(self, n, where: str, local: dict):  # noqa: C901 - one branch per MathML construct
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


def read_system(sbml: str) -> tuple[Meta, dict[str, Program]]:
    """Read ``sbml`` into run-time metadata and the programs ``rhs``, ``jac``, ``rules``, ``init``."""
    doc = libsbml.readSBMLFromString(sbml)
    m = doc.getModel()
    if m is None:
        raise ModelError("invalid SBML: no model")
    rd = _Reader(m)
    rd.reject_unsupported()
    sym = rd.sym
    names = {s: i for i, s in sym.items()}
    assign = {
        sym[r.getVariable()]: rd.expr(r.getMath(), f"assignment rule for {r.getVariable()!r}")
        for r in m.getListOfRules()
        if r.isAssignment()
    }
    rate_rules = {
        r.getVariable(): rd.expr(r.getMath(), f"rate rule for {r.getVariable()!r}")
        for r in m.getListOfRules()
        if r.isRate()
    }
    rule_order = _order_rules(assign, names)
    species = list(m.getListOfSpecies())
    state = [
        s.getId()
        for s in species
        if s.getId() in rate_rules
        or (sym[s.getId()] not in assign and not s.getBoundaryCondition() and not s.getConstant())
    ]
    fixed_species = [s.getId() for s in species if s.getId() not in state and sym[s.getId()] not in assign]
    comp_of = {s.getId(): s.getCompartment() for s in species}
    sizes = {c.getId(): c.getSize() if c.isSetSize() else 1.0 for c in m.getListOfCompartments()}
    ia = {
        a.getSymbol(): rd.expr(a.getMath(), f"initial assignment for {a.getSymbol()!r}")
        for a in m.getListOfInitialAssignments()
    }
    # independent inputs: parameters without rules, compartments, species that no reaction changes
    params = [p.getId() for p in m.getListOfParameters() if sym[p.getId()] not in assign]
    kinds = ["parameter"] * len(params) + ["compartment"] * len(sizes) + ["species"] * len(fixed_species)
    params += [*sizes, *fixed_species]

    # ---- initial values: SBML values, initial assignments and rules resolved together at t = 0
    by_id = {s.getId(): s for s in species}

    def sbml_initial(sid: str) -> sp.Expr:
        s = by_id[sid]
        if s.isSetInitialConcentration():
            return sp.Float(s.getInitialConcentration())
        if s.isSetInitialAmount():
            return sp.Float(s.getInitialAmount() / sizes[comp_of[sid]])
        return sp.nan

    species_ids = set(comp_of)
    subst_at0: dict = {TIME: sp.Integer(0)}
    resolving: set = set()

    def resolve(s: sp.Symbol) -> sp.Expr:
        if s in subst_at0:
            return subst_at0[s]
        sid = names.get(s)
        if s in assign:
            expr = assign[s]
        elif sid in species_ids:
            expr = ia[sid] if sid in ia else sbml_initial(sid)
        else:
            return s  # a run-time input (parameter values from initial assignments are fixed below)
        if s in resolving:
            raise ModelError(f"initial values depend on each other in a cycle through {sid!r}")
        resolving.add(s)
        out = expr.xreplace({d: resolve(d) for d in expr.free_symbols})
        resolving.discard(s)
        subst_at0[s] = out
        return out

    base = {sym[p.getId()]: p.getValue() for p in m.getListOfParameters()} | {sym[c]: v for c, v in sizes.items()}
    fixed_values: dict = {}

    def evaluate(expr: sp.Expr) -> float:
        expr = expr.xreplace({d: resolve(d) for d in expr.free_symbols})
        return float(
            expr.xreplace(
                {d: fixed_value(d) if names.get(d) in ia else base.get(d, d) for d in expr.free_symbols}
            ).evalf()
        )

    def fixed_value(s: sp.Symbol) -> float:
        """An initial assignment of a parameter or compartment, evaluated once from the SBML values."""
        if s not in fixed_values:
            if s in resolving:
                raise ModelError(f"initial assignments depend on each other in a cycle through {names[s]!r}")
            resolving.add(s)
            fixed_values[s] = evaluate(ia[names[s]])
            resolving.discard(s)
        return fixed_values[s]

    for cid in sizes:
        if cid in ia:
            sizes[cid] = base[sym[cid]] = fixed_value(sym[cid])
    # like libRoadRunner's reset(), only the integrated species are re-initialised after overrides;
    # parameters, compartments and boundary species keep the values computed here
    values = [
        evaluate(resolve(sym[pid]))
        if pid in species_ids
        else fixed_value(sym[pid])
        if pid in ia
        else float(base[sym[pid]])
        for pid in params
    ]
    init = Program([], [resolve(sym[s]) for s in state])  # initial concentrations of the state

    # ---- reactions: rates in amount per time, d[S]/dt = sum(stoich * rate) / V
    rates, v_syms = [], []
    terms: dict[str, list] = {s: [] for s in state}
    for k, r in enumerate(m.getListOfReactions()):
        kl = r.getKineticLaw()
        local = {p.getId(): sp.Float(p.getValue()) for p in [*kl.getListOfParameters(), *kl.getListOfLocalParameters()]}
        rates.append(rd.expr(kl.getMath(), f"kinetic law of reaction {r.getId()!r}", local))
        v_syms.append(sp.Symbol(f"v_{k}", real=True))
        for sign, refs in ((-1, r.getListOfReactants()), (1, r.getListOfProducts())):
            for sr in refs:
                if sr.getSpecies() in terms and sr.getSpecies() not in rate_rules:
                    st = sr.getStoichiometry() if sr.isSetStoichiometry() else 1.0
                    st = sp.Integer(int(st)) if float(st).is_integer() else sp.Float(st)
                    terms[sr.getSpecies()].append((sign * st, v_syms[-1]))
    used = set().union(*(e.free_symbols for e in [*rates, *rate_rules.values()]))
    needed: set = set()
    for s in reversed(rule_order):
        if s in used or s in needed:
            needed.add(s)
            needed |= assign[s].free_symbols & assign.keys()
    rhs_rules = [(s, assign[s]) for s in rule_order if s in needed]
    rhs_out, jac_terms = [], []
    for sid in state:
        if sid in rate_rules:
            rr_sym = sp.Symbol(f"rr_{sid}", real=True)
            rates.append(rate_rules[sid])
            v_syms.append(rr_sym)
            jac_terms.append([(sp.Integer(1), rr_sym)])
            rhs_out.append(rr_sym)
        else:
            volume = sym[comp_of[sid]]
            jac_terms.append([(c / volume, v) for c, v in terms[sid]])
            rhs_out.append(sp.Add(*[c * v for c, v in terms[sid]]) / volume)
    rhs = Program([*rhs_rules, *zip(v_syms, rates, strict=True)], rhs_out)
    xs = [sym[s] for s in state]
    d_assign, entries = _jacobian(jac_terms, rates, xs, [s for s, _ in rhs_rules], assign, v_syms)
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
    n = len(state)
    positions = [j * n + i for (i, j) in entries]
    jac = Program([*rhs_rules, *d_assign], list(entries.values()))
    has_jac = _finite_derivatives([e for _, e in d_assign])
    rules = Program([(s, assign[s]) for s in rule_order], list(rule_order))
    meta = Meta(
        state=state,
        params=params,
        param_values=values,
        param_kind=kinds,
        rules=[names[s] for s in rule_order],
        compartment_of=comp_of,
        compartment_sizes=sizes,
        jac_nonzeros=positions,
        has_jacobian=has_jac,
    )
    return meta, {"rhs": rhs, "jac": jac, "rules": rules, "init": init}


def symbols_of(meta: Meta) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
    """The sympy symbols of the state and of the parameter vector, in order."""

    def mk(i):
        return sp.Symbol("m_" + i, real=True)

    return [mk(s) for s in meta.state], [mk(p) for p in meta.params]
