"""Write the model in standard formats: SBML (the ODE model), bnet and SBML-qual (the logical model).

``rules`` arguments are ``{node: rule}`` with rules in bnet syntax (``&``, ``|``, ``!``,
parentheses); an input node's rule is its own name.
"""

from __future__ import annotations

from pathlib import Path

from igfsim.errors import ModelError
from igfsim.model.bnet import Notation, parse_rule, render, variables
from igfsim.model.sbml import Model

#: SBML L3 infix over qualitative species levels
L3_NOTATION = Notation(lambda name: f"({name} == 1)", "true", "false", lambda s: f"!{s}", " && ", " || ")


def rule_to_l3_formula(rule: str) -> str:
    """Translate a bnet rule into a fully parenthesised SBML L3 formula over levels.

    SBML's L3 infix syntax gives ``&&`` and ``||`` the same precedence, so every operation is
    parenthesised: ``!A & (B | C)`` becomes ``(!(A == 1) && ((B == 1) || (C == 1)))``.
    """

    try:
        return render(parse_rule(rule), L3_NOTATION)
    except ValueError as err:
        raise ModelError(f"cannot read rule {rule!r}: {err}") from None


def write_sbml(model: Model, path: str | Path) -> Path:
    """The ODE model as SBML (the text igfsim simulates)."""
    p = Path(path)
    p.write_text(model.sbml, encoding="utf-8")
    return p


def write_bnet(rules: dict[str, str], path: str | Path, header: str = "") -> Path:
    """The logical model as a BoolNet/CoLoMoTo ``.bnet`` file."""
    p = Path(path)
    lines = [f"# {line}" for line in header.splitlines()] + ["targets, factors"]
    lines += [f"{node}, {rule}" for node, rule in rules.items()]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def sbml_qual_document(rules: dict[str, str], model_id: str = "igf1r_logical"):
    """A libsbml ``SBMLDocument`` (L3V1 + qual V1) holding the logical model."""
    import libsbml

    ns = libsbml.SBMLNamespaces(3, 1, "qual", 1)
    doc = libsbml.SBMLDocument(ns)
    doc.setPackageRequired("qual", True)
    m = doc.createModel()
    m.setId(model_id)
    comp = m.createCompartment()
    comp.setId("cell")
    comp.setConstant(True)
    qual = m.getPlugin("qual")
    if bad := [n for n in rules if not libsbml.SyntaxChecker.isValidSBMLSId(n)]:
        raise ModelError(
            f"node name(s) {', '.join(map(repr, bad))} are not SBML ids (a letter or '_' first, then letters, digits, "
            "'_'); rename them to export SBML-qual"
        )
    inputs = {n for n, r in rules.items() if r.strip() == n}
    for node in rules:
        q = qual.createQualitativeSpecies()
        q.setId(node)
        q.setCompartment("cell")
        q.setConstant(node in inputs)
        q.setMaxLevel(1)
        q.setInitialLevel(0)
    for node, rule in rules.items():
        if node in inputs:
            continue
        t = qual.createTransition()
        t.setId(f"tr_{node}")

        regulators = sorted(variables(parse_rule(rule)))
        for reg in regulators:
            if reg not in rules:
                raise ModelError(f"rule of {node!r} names unknown node {reg!r}")
            i = t.createInput()
            i.setId(f"in_{node}_{reg}")
            i.setQualitativeSpecies(reg)
            i.setTransitionEffect(libsbml.INPUT_TRANSITION_EFFECT_NONE)
        o = t.createOutput()
        o.setId(f"out_{node}")
        o.setQualitativeSpecies(node)
        o.setTransitionEffect(libsbml.OUTPUT_TRANSITION_EFFECT_ASSIGNMENT_LEVEL)
        ft = t.createFunctionTerm()
        ft.setResultLevel(1)
        math = libsbml.parseL3Formula(rule_to_l3_formula(rule))
        if math is None:
            raise ModelError(f"rule of {node!r} could not be turned into MathML: {libsbml.getLastParseL3Error()}")
        ft.setMath(math)
        t.createDefaultTerm().setResultLevel(0)
    return doc


def write_sbml_qual(rules: dict[str, str], path: str | Path) -> Path:
    """The logical model as SBML-qual."""
    import libsbml

    p = Path(path)
    if not libsbml.writeSBMLToFile(sbml_qual_document(rules), str(p)):
        raise ModelError(f"{p}: could not write SBML-qual")
    return p


def _ast_to_rule(node) -> str:
    import libsbml

    t = node.getType()
    kids = [node.getChild(i) for i in range(node.getNumChildren())]
    if t == libsbml.AST_LOGICAL_AND:
        return "(" + " & ".join(_ast_to_rule(k) for k in kids) + ")"
    if t == libsbml.AST_LOGICAL_OR:
        return "(" + " | ".join(_ast_to_rule(k) for k in kids) + ")"
    if t == libsbml.AST_LOGICAL_NOT:
        return "!" + _ast_to_rule(kids[0])
    if t == libsbml.AST_RELATIONAL_EQ and len(kids) == 2 and kids[0].isName() and kids[1].isInteger():
        return kids[0].getName() if kids[1].getInteger() == 1 else "!" + kids[0].getName()
    if t == libsbml.AST_CONSTANT_TRUE:
        return "1"
    if t == libsbml.AST_CONSTANT_FALSE:
        return "0"
    raise ModelError(f"unsupported SBML-qual math {libsbml.formulaToL3String(node)!r}")


def read_sbml_qual_rules(path: str | Path) -> dict[str, str]:
    """Read back Boolean SBML-qual (as written by :func:`write_sbml_qual`) as bnet-style rules."""
    import libsbml

    doc = libsbml.readSBMLFromFile(str(path))
    if doc.getModel() is None or doc.getModel().getPlugin("qual") is None:
        raise ModelError(f"{path}: not an SBML-qual model")
    qual = doc.getModel().getPlugin("qual")
    rules = {q.getId(): q.getId() for q in qual.getListOfQualitativeSpecies()}
    for t in qual.getListOfTransitions():
        node = t.getOutput(0).getQualitativeSpecies()
        rules[node] = _ast_to_rule(t.getFunctionTerm(0).getMath())
    return rules
