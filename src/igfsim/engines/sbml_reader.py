"""MathML -> sympy for the scipy engine: the math of an SBML model as sympy expressions.

:class:`Reader` maps the model's compartments, species and parameters to sympy symbols and
translates MathML trees (function definitions inlined, lambda arguments bound) into expressions.
Constructs the engine does not implement raise :class:`ModelError` naming them, from
:meth:`Reader.expr` for math and :meth:`Reader.reject_unsupported` for the rest of the model.
"""

from __future__ import annotations

import math

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
    libsbml.AST_FUNCTION_ARCSEC: sp.asec,
    libsbml.AST_FUNCTION_ARCCSC: sp.acsc,
    libsbml.AST_FUNCTION_ARCCOT: sp.acot,
    libsbml.AST_FUNCTION_ARCSECH: sp.asech,
    libsbml.AST_FUNCTION_ARCCSCH: sp.acsch,
    libsbml.AST_FUNCTION_ARCCOTH: sp.acoth,
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


def _is_boolean(e: sp.Basic) -> bool:
    """A truth value (a relation, a logical operator, true/false); a symbol is a number here."""
    return isinstance(e, sp.logic.boolalg.Boolean) and not isinstance(e, sp.Expr)


def _as_bool(e: sp.Basic) -> sp.Basic:
    """``e`` in a Boolean context: a number is true when non-zero (SBML Level 3 Version 2)."""
    return e if _is_boolean(e) else sp.Ne(e, 0)


def _as_number(e: sp.Basic) -> sp.Basic:
    """``e`` in a numeric context: a Boolean is 1 when true, else 0 (SBML Level 3 Version 2)."""
    return sp.Piecewise((1, e), (0, True)) if _is_boolean(e) else e


def _truncated_quotient(x: sp.Basic, y: sp.Basic) -> sp.Basic:
    """MathML ``quotient``: x / y rounded toward zero."""
    q = x / y
    return sp.Piecewise((sp.floor(q), q >= 0), (sp.ceiling(q), True))


class Reader:
    """The symbols of a libsbml model and the translation of its MathML."""

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
        if t in _LOGIC or t in (libsbml.AST_LOGICAL_NOT, libsbml.AST_LOGICAL_IMPLIES):
            kids = [_as_bool(k) for k in kids]
        elif t == libsbml.AST_FUNCTION_PIECEWISE:
            kids = [_as_bool(k) if i % 2 else _as_number(k) for i, k in enumerate(kids)]
        elif t != libsbml.AST_FUNCTION:  # arithmetic, relations and functions take numbers
            kids = [_as_number(k) for k in kids]
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
        if t == libsbml.AST_CONSTANT_E:  # doubles, as every simulator has them: eq(P1, pi) holds for P1 = pi
            return sp.Float(math.e)
        if t == libsbml.AST_CONSTANT_PI:
            return sp.Float(math.pi)
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
        if t == libsbml.AST_LOGICAL_IMPLIES:
            return sp.Implies(kids[0], kids[1])
        if t == libsbml.AST_FUNCTION_QUOTIENT:
            return _truncated_quotient(kids[0], kids[1])
        if t == libsbml.AST_FUNCTION_REM:
            return kids[0] - kids[1] * _truncated_quotient(kids[0], kids[1])
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
        """Raise :class:`ModelError` for the first model construct (event, rule, ...) the engine does not implement."""
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
