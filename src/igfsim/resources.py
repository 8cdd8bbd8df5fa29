"""Where the bundled model and scenarios live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.exists():
            return c
    return candidates[-1]


def bundled_model_path() -> Path:
    """Path of ``models/igf1r.antimony`` (wheel copy first, then the source tree)."""
    return _first_existing(
        _PKG / "_bundled" / "models" / "igf1r.antimony", _PKG.parents[1] / "models" / "igf1r.antimony"
    )


def bundled_scenarios_dir() -> Path:
    """Folder holding the bundled scenario files."""
    return _first_existing(_PKG / "_bundled" / "scenarios", _PKG.parents[1] / "scenarios")


def bundled_bnet_path() -> Path:
    """Path of ``models/igf1r.bnet``, the logical model (wheel copy first, then the source tree)."""
    return _first_existing(_PKG / "_bundled" / "models" / "igf1r.bnet", _PKG.parents[1] / "models" / "igf1r.bnet")
