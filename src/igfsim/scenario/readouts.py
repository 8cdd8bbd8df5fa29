"""Readouts: the model ids a scenario records, with their meaning and unit (from the model's mapping).

``READOUTS`` (id -> description) are the bundled model's standard readouts
(``models/igf1r.mapping.yaml``); a model's own are ``model.mapping.readouts``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from igfsim.model.sbml import Model

#: unit label of a fraction readout on plot axes
FRACTION_UNIT = "fraction of pool"


def __getattr__(name: str):
    """``READOUTS``: the bundled model's standard readouts (id -> description), read on first use."""
    if name == "READOUTS":
        from igfsim.model.mapping import bundled_mapping

        return MappingProxyType({r.id: r.description for r in bundled_mapping().readouts.values()})
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def unit_of(readout: str, model: Model | None = None) -> str:
    """Axis unit for a readout: the mapping's unit, nM for a species, else "model units".

    Without a model, the bundled model's mapping.
    """
    from igfsim.model.mapping import bundled_mapping

    mapping = model.mapping if model is not None else bundled_mapping()
    if readout in mapping.readouts:
        return mapping.readouts[readout].unit
    if model is not None and readout in model.species:
        return "nM"
    return "model units"
