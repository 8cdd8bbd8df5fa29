"""The standard readouts: model ids of fractions (0..1) or indices, with their meaning."""

from __future__ import annotations

from types import MappingProxyType

READOUTS = MappingProxyType(
    {
        "pIGF1R": "phosphorylated IGF-IR protomers (homodimers and the IGF-IR half of hybrids) / all IGF-IR",
        "pInsR": "phosphorylated InsR protomers (IR-A, IR-B and the InsR half of hybrids) / all InsR",
        "pIRA": "phosphorylated IR-A homodimers / all IR-A homodimers",
        "pIRB": "phosphorylated IR-B homodimers (with IR-A/IR-B heterodimers) / their pool",
        "pIRS1": "Tyr-phosphorylated IRS1/2 / all IRS1/2",
        "pShc": "phosphorylated Shc / all Shc",
        "pAkt": "Akt phosphorylated on T308 and S473 / all Akt",
        "pS6K": "active S6K / all S6K",
        "pERK": "doubly phosphorylated ERK1/2 / all ERK",
        "pSrc": "active Src/YES (pY416) / all Src",
        "pFAK": "active FAK / all FAK",
        "pSTAT3": "pY705 STAT3 / all STAT3",
        "pEGFR": "phosphorylated EGFR / all EGFR",
        "FOXO": "nuclear (active) FOXO / all FOXO",
        "IGF1R_total": "IGF-IR protomers relative to the default context's nominal amount",
        "InsR_total": "InsR protomers relative to the default context's nominal amount",
        "PROLIF": "proliferation index H(pERK)*(0.5+0.5*H(pS6K)) (domain-notes 4.4)",
        "SURV": "survival index 1-(1-H(pAkt))*(1-0.5*H(pSTAT3)) (domain-notes 4.4)",
    }
)

#: unit label of a readout on plot axes
FRACTION_UNIT = "fraction of pool"


def unit_of(readout: str, model_species: dict | None = None) -> str:
    """Axis unit for a readout: fractions, relative amounts, indices or nM for species."""
    if readout in ("IGF1R_total", "InsR_total"):
        return "relative to default"
    if readout in ("PROLIF", "SURV"):
        return "index 0..1"
    if readout in READOUTS:
        return FRACTION_UNIT
    if model_species is not None and readout in model_species:
        return "nM"
    return "model units"
