"""Deprecated (0.2): the bundled model's drug slots are in its mapping file (``models/igf1r.mapping.yaml``).

``DRUG_SLOTS`` (slot id -> True for a medium species) is read from it; a model's own slots are
``model.mapping.drug_slots`` (:mod:`igfsim.model.mapping`). Goes in 0.3.0.
"""

from __future__ import annotations

from types import MappingProxyType


def __getattr__(name: str):
    if name == "DRUG_SLOTS":
        from igfsim.model.mapping import SlotKind, bundled_mapping

        return MappingProxyType({k: v is SlotKind.SPECIES for k, v in bundled_mapping().drug_slots.items()})
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
