"""SBML -> ODEs for the scipy engine: an SBML model as sympy programs in concentration units.

:func:`read_system` reads the SBML with libsbml (independently of libRoadRunner) and returns the
run-time description of the system (:class:`Meta`, plain data) with four straight-line programs
that :mod:`igfsim.engines.scipy_build` compiles to C or lambdifies: the right-hand side, its
analytic Jacobian, the assignment-rule values and the initial concentrations. Here the model is
laid out (which species are integrated, which ids are run-time inputs), assignment rules are put
in evaluation order and the right-hand side is assembled; the MathML is read by
:mod:`igfsim.engines.sbml_reader`, initial values are resolved by :mod:`igfsim.engines.sbml_initial`
and the Jacobian is derived by :mod:`igfsim.engines.sbml_jacobian`. Constructs the engine does not
implement raise :class:`ModelError` naming them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libsbml
import sympy as sp

from igfsim.engines.sbml_initial import InitialValues
from igfsim.engines.sbml_jacobian import finite_derivatives, jacobian
from igfsim.engines.sbml_reader import TIME as TIME  # re-exported
from igfsim.engines.sbml_reader import Reader
from igfsim.errors import ModelError


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


@dataclass
class _Rules:
    """The model's rules as sympy: assignment rules by target symbol, rate rules by species id."""

    assign: dict[sp.Symbol, sp.Expr]
    rate: dict[str, sp.Expr]
    order: list[sp.Symbol]  # assignment-rule targets in evaluation order


@dataclass
class Layout:
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


def _read_rules(rd: Reader) -> _Rules:
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


def _layout(rd: Reader, rules: _Rules) -> Layout:
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
    return Layout(state, params, kinds, {s.getId(): s.getCompartment() for s in species}, sizes)


def _read_reactions(rd: Reader, rules: _Rules, state: list[str]) -> _Reactions:
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
    rd: Reader, rules: _Rules, layout: Layout, rx: _Reactions
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
    rd: Reader,
    rules: _Rules,
    layout: Layout,
    rx: _Reactions,
    rhs_rules: list[tuple[sp.Symbol, sp.Expr]],
    jac_terms: list[list[tuple[sp.Expr, sp.Symbol]]],
) -> tuple[Program, list[int], bool]:
    """The Jacobian's program, its nonzeros' flat column-major positions, and whether every derivative evaluated."""
    xs = [rd.sym[s] for s in layout.state]
    d_assign, entries = jacobian(jac_terms, rx.rates, xs, [s for s, _ in rhs_rules], rules.assign, rx.symbols)
    n = len(layout.state)
    positions = [j * n + i for (i, j) in entries]
    jac = Program([*rhs_rules, *d_assign], list(entries.values()))
    return jac, positions, finite_derivatives([e for _, e in d_assign])


def read_system(sbml: str) -> tuple[Meta, dict[str, Program]]:
    """Read ``sbml`` into run-time metadata and the programs ``rhs``, ``jac``, ``rules``, ``init``."""
    doc = libsbml.readSBMLFromString(sbml)  # owns the model: keep it alive while reading
    m = doc.getModel()
    if m is None:
        raise ModelError("invalid SBML: no model")
    rd = Reader(m)
    rd.reject_unsupported()
    rules = _read_rules(rd)
    layout = _layout(rd, rules)
    initial = InitialValues(rd, rules.assign, layout)
    values = initial.param_values()
    init = Program([], initial.state_values())
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
