"""The analytic Jacobian of the scipy engine's ODEs: the chain rule, forward through the rules, in sympy.

Assignment rules are not substituted into the rates. :func:`jacobian` instead gives every rule and
every rate sympy derivatives with respect to the state species it depends on, directly or through
other rules, as straight-line assignments, and writes the Jacobian's structural nonzeros in terms of
them. This keeps the expressions small and needs no common-subexpression elimination.
"""

from __future__ import annotations

import sympy as sp


def _d(expr: sp.Expr, s: sp.Symbol) -> sp.Expr:
    """d expr / d s without removable 0/0: sympy writes d(x**n)/dx as n*x**n/x, which is NaN at x = 0
    (e.g. a Hill term of a ligand that is absent), and d((x/K)**n)/dx as n*(x/K)**n/x; splitting
    power bases and combining powers turns both into n*x**(n - 1)*K**(-n)."""
    d = sp.diff(expr, s)
    if not d.has(sp.Pow):
        return d
    return sp.powsimp(sp.expand_power_base(d, force=True), force=True)


def _without_step_derivatives(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the derivatives of floor and ceiling (steps) replaced by 0."""
    return expr.replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, (sp.floor, sp.ceiling)),
        lambda e: sp.Integer(0),
    )


def jacobian(rhs: list, rates: list, state: list, rule_order: list, rules: dict, v_syms: list):
    """Forward-mode chain rule through the rules and the rates: assignments and nonzero entries.

    ``rhs[i]`` lists the (coefficient, rate symbol) terms of state species ``i``; ``rule_order`` are the
    rule targets to differentiate, in evaluation order. The assignments define one symbol per nonzero
    derivative of a rule or rate (derivatives of steps are 0); the entries map (row, column) to the
    Jacobian's nonzero values in terms of those symbols.
    """
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
    assignments = [(s, _without_step_derivatives(e)) for s, e in assignments]
    return assignments, {k: e for k, e in entries.items() if e != 0}


def finite_derivatives(exprs: list) -> bool:
    """Whether every derivative evaluated (floor/ceiling steps differentiate to 0)."""
    return not any(e.has(sp.Derivative, sp.Subs) for e in exprs)
