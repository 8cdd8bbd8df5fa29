"""The model: SBML text with its ids and provenance table, and the logical (Boolean) network file."""

from __future__ import annotations

from igfsim.model.bnet import BnetError, BooleanNetwork, load_bnet, parse_bnet
from igfsim.model.provenance import (
    PROVENANCE_COLUMNS,
    ProvenanceRow,
    check_provenance,
    load_provenance,
    provenance_path,
)
from igfsim.model.sbml import Kind, Model, load_model, load_model_string
from igfsim.resources import bundled_bnet_path

__all__ = [
    "PROVENANCE_COLUMNS",
    "BnetError",
    "BooleanNetwork",
    "Kind",
    "Model",
    "ProvenanceRow",
    "bundled_bnet_path",
    "check_provenance",
    "load_bnet",
    "load_model",
    "load_model_string",
    "load_provenance",
    "parse_bnet",
    "provenance_path",
]
