"""Named cell contexts: expression multipliers relative to the model's nominal copy numbers.

The contexts are data (``catalogue/contexts.yaml`` and users' catalogues, read by
:mod:`igfsim.scenario.catalog`); expression keys are the model mapping's (:mod:`igfsim.model.mapping`).
Nominal copies per cell of the bundled model: IGF-IR 20,000, IR-A 5,000, IR-B 5,000, integrin avb3
2,000, EGFR 20,000, ErbB3 5,000 (domain-notes 1.1 and 2.3). Each context changes only what its
name says, relative to that default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class CellContext:
    """A named preset of expression multipliers and parameter values."""

    name: str
    description: str
    expression: MappingProxyType
    source: str
    parameters: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    #: the catalogue file the context was read from
    origin: str = ""


def __getattr__(name: str):
    """``CONTEXTS`` (name -> context, the bundled catalogue) and ``EXPRESSION_PARAMETERS`` (the bundled
    model's expression keys -> parameters), read on first use."""
    if name == "CONTEXTS":
        from igfsim.scenario.catalog import bundled_catalog

        return bundled_catalog().contexts
    if name == "EXPRESSION_PARAMETERS":
        from igfsim.model.mapping import bundled_mapping

        return bundled_mapping().expression
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def context_hint(name: str) -> str:
    """A "did you mean" hint over the bundled context names."""
    from igfsim.scenario.catalog import bundled_catalog

    return bundled_catalog().context_hint(name)
