"""A model's provenance table: one row per parameter with value, unit, meaning and source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from igfsim.model.sbml import Model

import csv
import math
from pathlib import Path

from igfsim.errors import Issue, ModelError, did_you_mean

PROVENANCE_COLUMNS = ("id", "value", "unit", "meaning", "source", "review_refs")


@dataclass(frozen=True)
class ProvenanceRow:
    """One row of a model's provenance table."""

    id: str
    value: float
    unit: str
    meaning: str
    source: str
    review_refs: str


def load_provenance(path: Path) -> dict[str, ProvenanceRow]:
    """Read a provenance CSV (columns :data:`PROVENANCE_COLUMNS`)."""
    rows: dict[str, ProvenanceRow] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = set(PROVENANCE_COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise ModelError(f"{path}: missing column(s) {sorted(missing)}; expected {list(PROVENANCE_COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            try:
                value = float(row["value"])
            except ValueError:
                raise ModelError(f"{path}: line {n}: value {row['value']!r} of {row['id']!r} is not a number") from None
            if row["id"] in rows:
                raise ModelError(f"{path}: line {n}: duplicate row for {row['id']!r}")
            rows[row["id"]] = ProvenanceRow(
                row["id"], value, row["unit"], row["meaning"], row["source"], row["review_refs"]
            )
    return rows


def provenance_path(model_path: Path) -> Path:
    """``models/igf1r.antimony`` -> ``models/igf1r.provenance.csv``."""
    return model_path.with_name(model_path.name.split(".")[0] + ".provenance.csv")


def check_provenance(model: Model) -> list[Issue]:
    """Compare the model's independent parameters and compartments with its provenance table."""
    where = str(provenance_path(Path(model.path)))
    expected = {**model.parameters, **model.compartments}
    issues = [
        Issue(where, f"parameter {pid!r} has no provenance row") for pid in expected if pid not in model.provenance
    ]
    for pid, row in model.provenance.items():
        if pid not in expected:
            issues.append(Issue(where, f"row {pid!r} names no model parameter{did_you_mean(pid, expected)}"))
            continue
        if not math.isclose(row.value, expected[pid], rel_tol=1e-9, abs_tol=1e-15):
            issues.append(Issue(where, f"row {pid!r} says {row.value:g} but the model has {expected[pid]:g}"))
        if not row.source.strip():
            issues.append(Issue(where, f"row {pid!r} has no source (write 'assumed' if it is)"))
        if not row.unit.strip():
            issues.append(Issue(where, f"row {pid!r} has no unit"))
    return issues
