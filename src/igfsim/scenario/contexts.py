"""Named cell contexts: expression multipliers relative to the model's nominal copy numbers.

Nominal copies per cell (model defaults): IGF-IR 20,000, IR-A 5,000, IR-B 5,000, integrin avb3
2,000, EGFR 20,000, ErbB3 5,000 (domain-notes 1.1 and 2.3). Each context changes only what its
name says, relative to that default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from igfsim.errors import did_you_mean

#: expression keys a scenario may scale -> model parameter
EXPRESSION_PARAMETERS = MappingProxyType(
    {
        "IGF1R": "expr_IGF1R",
        "InsR_A": "expr_InsR_A",
        "InsR_B": "expr_InsR_B",
        "integrin": "expr_integrin",
        "EGFR": "expr_EGFR",
        "PDGFRA": "expr_PDGFRA",
        "ErbB3": "expr_ErbB3",
        "IGF2R": "expr_IGF2R",
        "IRS": "expr_IRS",
        "PI3K": "expr_PI3K",
        "STAT3": "expr_STAT3",
    }
)


@dataclass(frozen=True)
class CellContext:
    """A named preset of expression multipliers and parameter values."""

    name: str
    description: str
    expression: MappingProxyType
    source: str
    parameters: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))


def _c(name, description, expression, source, parameters=None):
    return CellContext(name, description, MappingProxyType(expression), source, MappingProxyType(parameters or {}))


#: the IGF-independent drive of a line whose growth and survival rest on IGF signalling (see "IGF-dependent")
_IGF_DEPENDENT = {"drive_PROLIF": 0.1, "drive_SURV": 0.1}

CONTEXTS = MappingProxyType(
    {
        c.name: c
        for c in (
            _c(
                "default",
                "IGF-IR 20k, IR-A 5k, IR-B 5k, avb3 2k, PDGFR-alpha 6k copies per cell",
                {},
                "domain-notes 1.1/2.3; IGF-IR 13,000-40,000 per cell (Sarcoma 2013:450478)",
            ),
            _c(
                "IGF1R-dominant",
                "IGF-IR 20k, IR-A 5k, no IR-B, no avb3 (MCF7-like: IGF-IR >> IR)",
                {"InsR_B": 0.0, "integrin": 0.0},
                "domain-notes 1.1 IGF1R-dom; AACR 2009 abstract 4168",
            ),
            _c(
                "InsR-A-high",
                "IGF-IR 20k, IR-A 100k, no IR-B, no avb3",
                {"InsR_A": 20.0, "InsR_B": 0.0, "integrin": 0.0},
                "domain-notes 1.1 IRA-high; review [167, 168]",
            ),
            _c(
                "InsR-B-high",
                "IR-B 100k over the parental IGF-IR 20k / IR-A 5k, no avb3",
                {"InsR_B": 20.0, "integrin": 0.0},
                "domain-notes 1.1 IRB-high (parental IR-A kept: overexpression on the parental line) [167]",
            ),
            _c(
                "integrin-high",
                "IGF-IR 20k, IR-A 5k, no IR-B, avb3 50k",
                {"InsR_B": 0.0, "integrin": 25.0},
                "domain-notes 1.1 ITG-high; review [172] (Shin 2013 JNCI)",
            ),
            _c(
                "InsR-KO",
                "IGF-IR 20k, no InsR (either isoform), no avb3",
                {"InsR_A": 0.0, "InsR_B": 0.0, "integrin": 0.0},
                "domain-notes 1.1 InsR-KO; review [168]",
            ),
            _c(
                "ER-positive",
                "default receptors with an active estrogen receptor input to proliferation (MCF7-like)",
                {},
                "review [107-109]",
                {"ER_level": 1.0},
            ),
            _c(
                "estrogen-deprived",
                "long-term estrogen-deprived ER+ cells growing on IGF/insulin: residual ER input 0.3, IR-A 25k "
                "(InsR:IGF-IR 1.25), IGF-dependent drive",
                {"InsR_A": 5.0},
                "review [107] (InsR compensation; estrogen-deprived cells escape through IGF-IR/InsR); Fox 2011 "
                "Cancer Res [M]; IR-rich ER+ lines (ZR-75-1, AACR 2009 abstract 4168)",
                {"ER_level": 0.3, **_IGF_DEPENDENT},
            ),
            _c(
                "PIK3CA-mutant",
                "default receptors with a constitutively active p110-alpha (PIK3CA hotspot mutation)",
                {},
                "review [123-126]",
                {"PIK3CA_mut": 1.0},
            ),
            _c(
                "PDGFRA-high",
                "default receptors plus 10x PDGFR-alpha (60,000 per cell), a bypass RTK of IGF-IR/IR TKI resistance",
                {"PDGFRA": 10.0},
                "review [177-180]; Huang et al. 2010 Cancer Res 70:7221: PDGFR-alpha amplified, overexpressed and "
                "constitutively active in BMS-754807-resistant Rh41-807R cells [V-abs]; the 10x is assumed (the "
                "fold is not in the abstract)",
                {},
            ),
            _c(
                "SFK-coupled",
                "IGF-dependent IGF1R-dominant cells in which Akt restrains YES/Src (rhabdomyosarcoma-like; see C07)",
                {"InsR_B": 0.0, "integrin": 0.0},
                "review [173]; Wan 2015 Neoplasia (mechanism chosen by igfsim); IGF-dependent like the "
                "rhabdomyosarcoma line Rh41 (Houghton 2010, see IGF-dependent)",
                {"k_Src_Akt": 0.005, "k_Src_basal": 0.05, **_IGF_DEPENDENT},
            ),
            _c(
                "IGF-dependent",
                "default receptors in a line whose growth and survival rest on IGF signalling "
                "(IGF-independent drive 0.1 instead of 0.45 / 0.5)",
                {},
                "PPTP in vitro panel: cixutumumab cut growth below 50 % of control only in Rh41, TC-71 and "
                "CHLA-9 (Houghton et al. 2010 Pediatr Blood Cancer 54:921) [V-abs]; the value 0.1 is assumed "
                "within that bound",
                _IGF_DEPENDENT,
            ),
            _c(
                "serum-free",
                "default cells in defined medium without serum or other growth factors (no IGF-independent drive)",
                {},
                "defined medium: drive_PROLIF = drive_SURV = 0 by definition",
                {"drive_PROLIF": 0.0, "drive_SURV": 0.0},
            ),
            _c(
                "IRS-PI3K-STAT3-adapted",
                "IGF-dependent cells with 3x IRS1/2, PI3K and STAT3 (adaptive up-regulation after IGF-IR blockade)",
                {"IRS": 3.0, "PI3K": 3.0, "STAT3": 3.0},
                "review [128]; adapted lines derive from IGF-IR-inhibitor-sensitive (IGF-dependent) ones",
                _IGF_DEPENDENT,
            ),
            _c("IGF2R-null", "default cells without the IGF-IIR sink", {"IGF2R": 0.0}, "review [21]"),
        )
    }
)


def context_hint(name: str) -> str:
    """A "did you mean" hint over context names."""
    return did_you_mean(name, CONTEXTS)
