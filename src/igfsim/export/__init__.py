"""Standard formats out: SBML, bnet and SBML-qual for the models; SED-ML/OMEX and PEtab v2 for a scenario.

``igfsim.export.sedml`` and ``igfsim.export.petab`` import libsedml/libcombine/petab and are
imported on use.
"""

from __future__ import annotations

from igfsim.export.models import (
    read_sbml_qual_rules,
    rule_to_l3_formula,
    sbml_qual_document,
    write_bnet,
    write_sbml,
    write_sbml_qual,
)

__all__ = [
    "rule_to_l3_formula",
    "read_sbml_qual_rules",
    "sbml_qual_document",
    "write_bnet",
    "write_sbml",
    "write_sbml_qual",
]
