"""Map an engine-neutral :class:`~igfsim.engines.protocol.Protocol` onto the input nodes of a logical model.

The mapping is by mechanism (docs/boolean.md has the table). The engine keeps the *numbers* a
scenario sets (ODE parameter defaults, then ``overrides``, then ``initial`` species, then each
event's changes, in order) and turns them into input-node values whenever they change:

* ligands ``IGF1``, ``IGF2``, ``insulin``, ``EGF``, ``PDGF``: ON when the concentration is > 0. Each gives
  two input values, ``<L>`` and ``<L>_ext``; the network uses whichever is an input. In the bundled
  model ``IGF1``, ``IGF2`` and ``insulin`` are the medium pools, which modules can also fill
  (autocrine IGF2, hepatic IGF1 and insulin), so the scenario's ligand goes to ``<L>_ext``;
* ``IGFBP``: ON when in >= :data:`IGFBP_EXCESS`-fold molar excess over IGF1 + IGF2;
* ``IGFBP7``: ON at or above its K_D for IGF-IR (parameter ``Kd_IGFBP7_IGF1R``, 5 nM);
* drug slots (the model mapping's; for the bundled model ``mAb_IGF1R``, ``mAb_IGF``, ``TKI_dual``, ...): ON
  while the slot's value is > 0 (from the drug's start until its washout);
* antibody option ``mAb_binds_hybrids``: ON when the parameter is >= 0.5 (ODE default 1);
* expression multipliers ``expr_*``: ``<X>_present`` when > :data:`ABSENT_AT_OR_BELOW`,
  ``<X>_high`` when >= :data:`HIGH_AT_OR_ABOVE` (:data:`EXPRESSION_NODES`);
* mechanism-module parameters (from contexts or ``cell.parameters``): their node is ON when the
  parameter is > 0 (:data:`MODULE_NODES`: ``ER_level`` ->
  ``ER_present``, ``PIK3CA_mut``, ``k_Src_Akt`` -> ``SFK_coupled``, ``adapt_on``, ``systemic``);
* IGF-independent drive of cell fate (``drive_PROLIF``, ``drive_SURV``, a context input): its node
  (``PROLIF_drive``, ``SURV_drive``) is ON at or above :data:`DRIVE_ON_AT`, the level at which the
  drive alone makes the ODE index count as ON in the consistency check.

Nodes missing from a network are skipped, so a smaller ``.bnet`` can use a subset of the inputs.
Time: the Boolean axis has one step per output point of the protocol; an event at minute
``t <= 0`` takes effect at step 0 (pre-treatments and the stimulus together), one at ``t > 0`` at
the first step ``k`` whose output time ``protocol.times[k] >= t``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from igfsim.engines.protocol import Protocol
from igfsim.model.mapping import bundled_mapping

#: a ligand input is ON above this concentration (nM)
LIGAND_ON_ABOVE = 0.0
#: a drug slot is ON above this value (nM); antibodies are assumed saturating, as in the review's dosing
DRUG_ON_ABOVE = 0.0
#: IGFBP sequesters IGF when in this molar excess over IGF1 + IGF2: free IGF is then about
#: K_D(IGFBP)/(excess - 1) = 0.011 nM, a twentieth of IGF-IR's K_D for IGF1 (0.2 nM)
IGFBP_EXCESS = 10.0
#: expression multiplier at or below which a protein counts as absent
ABSENT_AT_OR_BELOW = 0.0
#: expression multiplier at or above which a protein counts as highly expressed ("<X>_high")
HIGH_AT_OR_ABOVE = 5.0
#: ODE ligand species; each sets the input node of the same name or, where the network makes the medium
#: pool itself, the input ``<name>`` + :data:`SUPPLY_SUFFIX` (the ligand the scenario supplies)
LIGANDS = ("IGF1", "IGF2", "insulin", "EGF", "PDGF")
SUPPLY_SUFFIX = "_ext"
#: IGFBP7 is ON at or above this multiple of its K_D for IGF-IR (model parameter ``Kd_IGFBP7_IGF1R``):
#: then at least half of the ligand-free IGF-IR and hybrids carry IGFBP7
IGFBP7_ON_AT_KD = 1.0
#: the bundled model's drug slots (species or parameters carrying a drug's concentration; a model's own are
#: ``model.mapping.drug_slots``) -> input node of the same name
DRUG_NODES = tuple(sorted(bundled_mapping().drug_slots))
#: antibody options (0/1 parameters) -> input node of the same name
OPTION_NODES = ("mAb_binds_hybrids",)
#: expression parameter -> (node ON when present, node ON when high); None where the logic has no node
EXPRESSION_NODES = MappingProxyType(
    {
        "expr_IGF1R": ("IGF1R_present", None),
        "expr_InsR_A": ("IRA_present", "IRA_high"),
        "expr_InsR_B": ("IRB_present", "IRB_high"),
        "expr_integrin": (None, "ITG_high"),
        "expr_EGFR": ("EGFR_present", None),
        "expr_PDGFRA": ("PDGFRA_present", "PDGFRA_high"),
        "expr_ErbB3": ("ErbB3_present", None),
        "expr_IRS": ("IRS_present", None),
        "expr_PI3K": ("PI3K_present", None),
        "expr_STAT3": ("STAT3_present", None),
        "expr_IGF2R": (None, None),  # the IGF-IIR sink is graded; not in the logic
    }
)
#: mechanism-module parameter -> input node, ON when the parameter is > :data:`MODULE_ON_ABOVE`
#: (each module is off at 0 in the ODE, and acts at any positive value)
MODULE_NODES = MappingProxyType(
    {
        "ER_level": "ER_present",  # ER input (ER-positive 1, estrogen-deprived 0.3)
        "PIK3CA_mut": "PIK3CA_mut",  # mutant p110-alpha (context PIK3CA-mutant)
        "k_Src_Akt": "SFK_coupled",  # Akt -| Src/YES coupling (context SFK-coupled)
        "adapt_on": "adapt_on",  # adaptive IR-A/IGF2 module
        "systemic": "systemic",  # systemic GH/IGF1/insulin module
    }
)
MODULE_ON_ABOVE = 0.0
#: IGF-independent drive parameter -> input node, ON at or above :data:`DRIVE_ON_AT`
DRIVE_NODES = MappingProxyType({"drive_PROLIF": "PROLIF_drive", "drive_SURV": "SURV_drive"})
#: the ODE fraction at or above which igfsim compare counts a readout as ON (its default threshold)
DRIVE_ON_AT = 0.2
#: values used when neither the ODE model nor the protocol gives one
FALLBACK_DEFAULTS = MappingProxyType(
    {
        **{p: 1.0 for p in EXPRESSION_NODES},
        "mAb_binds_hybrids": 1.0,
        **{p: 0.0 for p in MODULE_NODES},
        **{p: 0.0 for p in DRIVE_NODES},
        "Kd_IGFBP7_IGF1R": 5.0,
    }
)


def input_values(values: Mapping[str, float], slots: Iterable[str] = DRUG_NODES) -> dict[str, bool]:
    """Input-node values implied by the numbers a scenario sets (missing numbers count as 0); ``slots``
    are the model's drug slots (the bundled model's by default)."""
    v = {k: float(x) for k, x in values.items()}
    get = v.get
    out: dict[str, bool] = {lig: get(lig, 0.0) > LIGAND_ON_ABOVE for lig in LIGANDS}
    out.update({lig + SUPPLY_SUFFIX: out[lig] for lig in LIGANDS})
    igf = get("IGF1", 0.0) + get("IGF2", 0.0)
    out["IGFBP"] = get("IGFBP", 0.0) > 0 and get("IGFBP", 0.0) >= IGFBP_EXCESS * igf
    bp7 = get("IGFBP7", 0.0)
    out["IGFBP7"] = bp7 > 0 and bp7 >= IGFBP7_ON_AT_KD * get("Kd_IGFBP7_IGF1R", FALLBACK_DEFAULTS["Kd_IGFBP7_IGF1R"])
    out.update({slot: get(slot, 0.0) > DRUG_ON_ABOVE for slot in slots})
    out.update({opt: get(opt, FALLBACK_DEFAULTS[opt]) >= 0.5 for opt in OPTION_NODES})
    for param, (present, high) in EXPRESSION_NODES.items():
        mult = get(param, FALLBACK_DEFAULTS[param])
        if present:
            out[present] = mult > ABSENT_AT_OR_BELOW
        if high:
            out[high] = mult >= HIGH_AT_OR_ABOVE
    out.update({node: get(param, FALLBACK_DEFAULTS[param]) > MODULE_ON_ABOVE for param, node in MODULE_NODES.items()})
    out.update({node: get(param, FALLBACK_DEFAULTS[param]) >= DRIVE_ON_AT for param, node in DRIVE_NODES.items()})
    return out


@dataclass(frozen=True)
class InputSchedule:
    """Input-node values before step 0 (pre-equilibration) and from each step on."""

    initial: Mapping[str, bool]
    #: (step, values) in increasing step order; values hold every mapped input node
    changes: tuple[tuple[int, Mapping[str, bool]], ...]


def event_step(t_min: float, times: np.ndarray) -> int:
    """The step at which an event at minute ``t_min`` takes effect (see the module docstring)."""
    if t_min <= 0:
        return 0
    return int(np.searchsorted(np.asarray(times, dtype=float), t_min - 1e-9, side="left"))


def input_schedule(
    protocol: Protocol, defaults: Mapping[str, float], nodes, slots: Iterable[str] = DRUG_NODES
) -> InputSchedule:
    """Input values over steps for ``protocol``; ``defaults`` are the ODE model's parameter values and
    ``slots`` its drug slots (each an input node of the same name)."""
    keep, slots = set(nodes), tuple(slots)
    values: dict[str, float] = {
        k: float(defaults[k])
        for k in (*EXPRESSION_NODES, *OPTION_NODES, *slots, *MODULE_NODES, *DRIVE_NODES, "Kd_IGFBP7_IGF1R")
        if k in defaults
    }
    values.update({k: float(x) for k, x in protocol.overrides.items()})
    values.update({k: float(x) for k, x in protocol.initial.items()})

    def mapped() -> dict[str, bool]:
        return {k: b for k, b in input_values(values, slots).items() if k in keep}

    initial = mapped()
    by_step: dict[int, dict[str, bool]] = {}
    for event in sorted(protocol.events, key=lambda e: e.time):
        for ch in event.changes:
            base = values.get(ch.target, 0.0) if ch.mode == "add" else 0.0
            new = base + float(ch.value)
            values[ch.target] = 0.0 if abs(new) < 1e-9 else new
        by_step[event_step(event.time, protocol.times)] = mapped()
    return InputSchedule(MappingProxyType(initial), tuple((k, MappingProxyType(v)) for k, v in sorted(by_step.items())))
