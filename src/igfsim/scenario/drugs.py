"""The drug catalogue: each drug typed by mode of action, with potency, source and model slot.

A drug acts on the model through one *slot* (a species or parameter that carries its
concentration) and sets the slot's potency parameters. Doses are nM in the medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from igfsim.errors import did_you_mean
from igfsim.model.slots import DRUG_SLOTS


class ModeOfAction(StrEnum):
    """How a drug acts on the network (its mode of action)."""

    ANTI_IGF1R_MAB = "anti-IGF-IR antibody (blocks ligand binding)"
    IGF_NEUTRALISING_MAB = "IGF1/IGF2-neutralising antibody"
    DUAL_TKI = "dual IGF-IR/InsR kinase inhibitor"
    SELECTIVE_TKI = "IGF-IR-selective kinase inhibitor"
    SRC_INHIBITOR = "Src-family kinase inhibitor"
    EGFR_INHIBITOR = "EGFR kinase inhibitor"
    MTORC1_INHIBITOR = "mTORC1 inhibitor (rapalog)"
    MTOR_KINASE_INHIBITOR = "mTOR kinase inhibitor (mTORC1 and mTORC2)"
    PI3KA_INHIBITOR = "PI3K p110-alpha inhibitor"
    MEK_INHIBITOR = "MEK inhibitor (allosteric)"
    ER_DEGRADER = "estrogen receptor antagonist/degrader"
    PDGFR_INHIBITOR = "PDGFR kinase inhibitor"


#: the model slot (a key of :data:`igfsim.model.slots.DRUG_SLOTS`) carrying each mode of action's concentration
SLOTS: dict[ModeOfAction, str] = {
    ModeOfAction.ANTI_IGF1R_MAB: "mAb_IGF1R",
    ModeOfAction.IGF_NEUTRALISING_MAB: "mAb_IGF",
    ModeOfAction.DUAL_TKI: "TKI_dual",
    ModeOfAction.SELECTIVE_TKI: "TKI_sel",
    ModeOfAction.SRC_INHIBITOR: "SRCi",
    ModeOfAction.EGFR_INHIBITOR: "EGFRi",
    ModeOfAction.MTORC1_INHIBITOR: "MTORC1i",
    ModeOfAction.MTOR_KINASE_INHIBITOR: "MTORKi",
    ModeOfAction.PI3KA_INHIBITOR: "PI3Kai",
    ModeOfAction.MEK_INHIBITOR: "MEKi",
    ModeOfAction.ER_DEGRADER: "ERi",
    ModeOfAction.PDGFR_INHIBITOR: "PDGFRi",
}

#: drug options a scenario may set per treatment -> model parameter (0/1)
OPTION_PARAMETERS = {"binds_hybrids": "mAb_binds_hybrids", "downregulates": "mAb_downregulates"}


@dataclass(frozen=True)
class Drug:
    """One drug: what it is, how potent, where the numbers come from."""

    name: str
    mode_of_action: ModeOfAction
    potency: MappingProxyType  # model parameter -> value (nM)
    source: str
    aliases: tuple[str, ...] = ()
    options: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    note: str = ""

    @property
    def slot(self) -> str:
        """Model id that carries this drug's concentration."""
        return SLOTS[self.mode_of_action]

    @property
    def mechanism(self) -> ModeOfAction:
        """Deprecated name of :attr:`mode_of_action` (0.1); goes in 0.3.0."""
        import warnings

        warnings.warn("Drug.mechanism is now Drug.mode_of_action", DeprecationWarning, stacklevel=2)
        return self.mode_of_action

    @property
    def slot_is_species(self) -> bool:
        """True for antibodies (medium species that bind and are consumed)."""
        return DRUG_SLOTS[SLOTS[self.mode_of_action]]


def _d(name, mech, potency, source, aliases=(), options=None, note=""):
    return Drug(name, mech, MappingProxyType(potency), source, tuple(aliases), MappingProxyType(options or {}), note)


_MAB_OPTS = {"binds_hybrids": True, "downregulates": False}
#: antibodies reported to internalise and degrade IGF-IR (the option can still be switched per treatment)
_MAB_DOWN = {"binds_hybrids": True, "downregulates": True}
M = ModeOfAction
CATALOG: tuple[Drug, ...] = (
    _d(
        "ganitumab",
        M.ANTI_IGF1R_MAB,
        {"Kd_mAb_IGF1R": 0.22},
        "K_D 0.22 nM, Beltran et al. 2009 Mol Cancer Ther [M]; fully human IgG1 blocking IGF1 and IGF2 binding",
        ("AMG 479", "AMG479"),
        _MAB_OPTS,
    ),
    _d(
        "cixutumumab",
        M.ANTI_IGF1R_MAB,
        {"Kd_mAb_IGF1R": 0.04},
        "K_D 0.04 nM, Burtrum et al. 2003 Cancer Res [M]; IgG1 that prevents ligand binding (Houghton 2010 PPTP)",
        ("IMC-A12",),
        _MAB_DOWN,
        note="reported to cause rapid internalisation and degradation of IGF-IR (Burtrum et al. 2003 [M])",
    ),
    _d(
        "figitumumab",
        M.ANTI_IGF1R_MAB,
        {"Kd_mAb_IGF1R": 0.5},
        "sub-nM, Cohen et al. 2005 Clin Cancer Res [M]; IgG2",
        ("CP-751,871", "CP-751871"),
        _MAB_DOWN,
        note="reported to internalise and degrade IGF-IR (Cohen et al. 2005 Clin Cancer Res [M])",
    ),
    _d(
        "dalotuzumab",
        M.ANTI_IGF1R_MAB,
        {"Kd_mAb_IGF1R": 0.5},
        "sub-nM, Goetsch et al. 2005 Int J Cancer [M]; humanised IgG1 reported to inhibit hybrids",
        ("MK-0646", "h7C10"),
        _MAB_DOWN,
        note="ligand-independent internalisation and degradation of IGF-IR and hybrids (Goetsch et al. 2007 "
        "Eur J Cancer 43:1318 [V-abs])",
    ),
    _d(
        "xentuzumab",
        M.IGF_NEUTRALISING_MAB,
        {"Kd_mAbIGF_IGF1": 0.1, "Kd_mAbIGF_IGF2": 0.1},
        "sub-nM for IGF1 and IGF2, no insulin binding; Friedbichler et al. 2014 Mol Cancer Ther [M], "
        "patent WO2008155387 [V-abs]",
        ("BI 836845", "BI836845"),
    ),
    _d(
        "linsitinib",
        M.DUAL_TKI,
        {"Ki_dual_IGF1R": 4.4, "Ki_dual_InsR": 15.6},
        "cellular ligand-induced autophosphorylation IC50 IGF-1R 28 nM, IR 130 nM (Mulvihill et al. 2009 Future "
        "Med Chem 1:1153 [M]); effective Ki fitted so that the model reproduces both cellular IC50s (calibration "
        "anchors V13 / V14), as for every TKI (the recombinant-kinase IC50s 35 / 75 nM are not used)",
        ("OSI-906", "OSI906"),
    ),
    _d(
        "BMS-754807",
        M.DUAL_TKI,
        {"Ki_dual_IGF1R": 2.63, "Ki_dual_InsR": 2.63},
        "cellular IGF-1R autophosphorylation IC50 about 15 nM (10-20 nM; Carboni et al. 2009 Mol Cancer Ther 8:3341 "
        "[M]), equipotent on IR (enzyme IC50 1.8 / 1.7 nM, Ki < 2 nM [V-abs]); effective Ki fitted so that "
        "the model reproduces the cellular IC50 (calibration anchor V15)",
        ("BMS754807",),
    ),
    _d(
        "NVP-AEW541",
        M.SELECTIVE_TKI,
        {"Ki_sel_IGF1R": 11.7, "Ki_sel_InsR": 281},
        "cellular autophosphorylation IC50 86 nM IGF-IR vs 2.3 uM InsR (Garcia-Echeverria et al. 2004 "
        "Cancer Cell 5:231); effective Ki fitted so that the model reproduces both cellular IC50s "
        "(calibration anchors V16 / V17)",
        ("AEW541",),
        note="selective in cells only; cell-free assays show no selectivity",
    ),
    _d("dasatinib", M.SRC_INHIBITOR, {"Ki_SRCi": 1.0}, "Src/YES IC50 0.5-1 nM [M]"),
    _d("erlotinib", M.EGFR_INHIBITOR, {"Ki_EGFRi": 2.0}, "EGFR IC50 ~2 nM [M]"),
    _d("everolimus", M.MTORC1_INHIBITOR, {"Ki_MTORC1i": 2.0}, "mTORC1 IC50 1-2 nM [M]", ("RAD001",)),
    _d(
        "AZD8055",
        M.MTOR_KINASE_INHIBITOR,
        {"Ki_MTORKi": 7.21},
        "ATP-competitive mTOR kinase inhibitor of mTORC1 and mTORC2; enzyme IC50 0.8 nM (Chresta et al. 2010 "
        "Cancer Res 70:288 [V-abs]); effective Ki fitted so that the model reproduces the cellular pAkt S473 "
        "IC50 of about 24 nM (Chresta 2010 [M]; calibration anchor V22), as for the receptor TKIs",
    ),
    _d(
        "alpelisib",
        M.PI3KA_INHIBITOR,
        {"Ki_PI3Kai": 5.0},
        "p110-alpha IC50 ~5 nM; p110-beta ~1.2 uM [M]",
        ("BYL719",),
        note="spares the p110-beta share of PI3K activity (frac_p110a)",
    ),
    _d(
        "trametinib",
        M.MEK_INHIBITOR,
        {"Ki_MEKi": 1.0},
        "MEK1/2 IC50 ~1 nM [M] (assumed for the model)",
        ("GSK1120212",),
    ),
    _d("fulvestrant", M.ER_DEGRADER, {"Ki_ERi": 0.5}, "ER IC50 0.3-0.9 nM [M]; review [108]", ("ICI 182,780",)),
    _d(
        "imatinib",
        M.PDGFR_INHIBITOR,
        {"Ki_PDGFRi": 16.7},
        "cellular PDGFR-alpha/beta autophosphorylation IC50 about 0.1 uM (Buchdunger et al. 2000 J Pharmacol Exp "
        "Ther 295:139, value via secondary sources [M]); effective Ki = IC50 x kdp/(kp + kdp) (PDGFR-alpha "
        "has no endosomal signalling pool in the model, so the TKIs' factor holds exactly enough)",
        ("STI571",),
    ),
)

DRUGS: MappingProxyType = MappingProxyType({d.name: d for d in CATALOG})
_ALIASES = {a.lower(): d.name for d in CATALOG for a in (d.name, *d.aliases)}


def find_drug(name: str) -> Drug | None:
    """Look a drug up by name or alias (case-insensitive)."""
    key = _ALIASES.get(str(name).lower())
    return DRUGS[key] if key else None


def get_drug(name: str) -> Drug:
    """The drug called ``name`` (name or alias); ``KeyError`` with a hint when there is none.

    For code after validation (:func:`igfsim.scenario.check_scenario` reports unknown drugs to users).
    """
    drug = find_drug(name)
    if drug is None:
        raise KeyError(f"unknown drug {name!r}{drug_hint(name)}")
    return drug


def drug_hint(name: str) -> str:
    """A "did you mean" hint over drug names and aliases."""
    return did_you_mean(name, [*DRUGS, *(a for d in CATALOG for a in d.aliases)])
