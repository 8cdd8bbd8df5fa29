"""Initial values for the scipy engine: SBML values, initial assignments and rules resolved at t = 0.

:class:`InitialValues` gives the values of the run-time inputs (parameters, compartment sizes,
boundary and constant species) and the initial concentrations of the state as expressions in those
inputs, so that overrides re-evaluate them. Cycles among initial values raise :class:`ModelError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from igfsim.engines.sbml_reader import TIME, Reader
from igfsim.errors import ModelError

if TYPE_CHECKING:  # sbml_math imports this module
    from igfsim.engines.sbml_math import Layout


class InitialValues:
    """SBML values, initial assignments and rules resolved together at t = 0.

    Compartment sizes given by initial assignments are written into ``layout.sizes``.
    """

    def __init__(self, rd: Reader, assign: dict[sp.Symbol, sp.Expr], layout: Layout):
        m, sym = rd.m, rd.sym
        self.sym, self.names, self.assign, self.layout = sym, rd.names, assign, layout
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
        # sympify after each substitution: a bare symbol (``k1 = y``) is replaced by a plain number
        expr = sp.sympify(expr.xreplace({d: self.resolve(d) for d in expr.free_symbols}))
        value = sp.sympify(
            expr.xreplace(
                {
                    d: self.fixed_value(d) if self.names.get(d) in self.ia else self.base.get(d, d)
                    for d in expr.free_symbols
                }
            )
        )
        if value in (sp.true, sp.false):  # a Boolean initial value (``p = true``) is 1 or 0, as SBML says
            return 1.0 if value == sp.true else 0.0
        return float(value.evalf())

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

    def state_values(self) -> list[sp.Expr]:
        """Initial concentrations of the state, in terms of the run-time inputs."""
        return [self.resolve(self.sym[s]) for s in self.layout.state]
