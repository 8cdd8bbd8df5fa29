"""The bundled model's drug slots: the ids through which a drug's concentration reaches the equations.

A slot is either a medium species (antibodies, which bind and are depleted) or a parameter (small
molecules, whose free concentration is clamped). :mod:`igfsim.scenario.drugs` maps each mode of
action onto one slot; the logical model has an input node of the same name for each.
"""

from __future__ import annotations

from types import MappingProxyType

#: slot id -> True when the slot is a medium species, False when it is a parameter
DRUG_SLOTS = MappingProxyType(
    {
        "mAb_IGF1R": True,
        "mAb_IGF": True,
        "TKI_dual": False,
        "TKI_sel": False,
        "SRCi": False,
        "EGFRi": False,
        "MTORC1i": False,
        "MTORKi": False,
        "PI3Kai": False,
        "MEKi": False,
        "ERi": False,
        "PDGFRi": False,
    }
)
