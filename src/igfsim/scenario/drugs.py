"""Drugs: each typed by the mode of action it acts through, with potency, source and the file it came from.

The drugs themselves are data (``catalogue/drugs.yaml`` and users' catalogues, read by
:mod:`igfsim.scenario.catalog`). A drug names a mode of action of the model's mapping
(:mod:`igfsim.model.mapping`); the mapping says which *slot* (a species or parameter) carries its
concentration and which potency parameters it sets. Doses are nM in the medium.

``CATALOG``, ``DRUGS``, :func:`find_drug` and :func:`get_drug` here are views of the bundled catalogue;
code that serves a scenario uses :func:`igfsim.scenario.catalog.catalog_for` instead, which includes
the scenario's own catalogue files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class ModeOfAction(StrEnum):
    """The bundled model's modes of action (``models/igf1r.mapping.yaml``), by the name drugs use."""

    ANTI_IGF1R_MAB = "anti-IGF1R-mAb"
    IGF_NEUTRALISING_MAB = "IGF-neutralising-mAb"
    DUAL_TKI = "dual-TKI"
    SELECTIVE_TKI = "selective-TKI"
    SRC_INHIBITOR = "SFK-inhibitor"
    EGFR_INHIBITOR = "EGFR-inhibitor"
    MTORC1_INHIBITOR = "mTORC1-inhibitor"
    MTOR_KINASE_INHIBITOR = "mTOR-kinase-inhibitor"
    PI3KA_INHIBITOR = "PI3Ka-inhibitor"
    MEK_INHIBITOR = "MEK-inhibitor"
    ER_DEGRADER = "ER-degrader"
    PDGFR_INHIBITOR = "PDGFR-inhibitor"


@dataclass(frozen=True)
class Drug:
    """One drug: what it is, how it acts, how potent, where the numbers come from."""

    name: str
    #: a mode of action of the model's mapping (for the bundled model, a :class:`ModeOfAction` value)
    mode_of_action: str
    potency: MappingProxyType  # model parameter -> value (nM)
    source: str
    aliases: tuple[str, ...] = ()
    #: treatment option (e.g. ``binds_hybrids``) -> this drug's default
    options: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    note: str = ""
    #: the catalogue file the drug was read from
    origin: str = ""

    @property
    def mechanism(self) -> str:
        """Deprecated name of :attr:`mode_of_action` (0.1); goes in 0.3.0."""
        import warnings

        warnings.warn("Drug.mechanism is now Drug.mode_of_action", DeprecationWarning, stacklevel=2)
        return self.mode_of_action


def __getattr__(name: str):
    """``CATALOG`` (a tuple of drugs) and ``DRUGS`` (name -> drug): the bundled catalogue, read on first use."""
    if name in ("CATALOG", "DRUGS"):
        from igfsim.scenario.catalog import bundled_catalog

        drugs = bundled_catalog().drugs
        return tuple(drugs.values()) if name == "CATALOG" else drugs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def find_drug(name: str) -> Drug | None:
    """Look a drug of the bundled catalogue up by name or alias (case-insensitive)."""
    from igfsim.scenario.catalog import bundled_catalog

    return bundled_catalog().find_drug(name)


def get_drug(name: str) -> Drug:
    """The bundled drug called ``name`` (name or alias); ``KeyError`` with a hint when there is none."""
    from igfsim.scenario.catalog import bundled_catalog

    return bundled_catalog().get_drug(name)


def drug_hint(name: str) -> str:
    """A "did you mean" hint over the bundled drug names and aliases."""
    from igfsim.scenario.catalog import bundled_catalog

    return bundled_catalog().drug_hint(name)
