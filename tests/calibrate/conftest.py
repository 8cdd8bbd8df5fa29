"""The bundled PEtab benchmark problems (benchmarks/petab-benchmark) and a writable copy of one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "petab-benchmark"
BOEHM = BENCH / "Boehm_JProteomeRes2014" / "Boehm_JProteomeRes2014.yaml"
FUJITA = BENCH / "Fujita_SciSignal2010" / "Fujita_SciSignal2010.yaml"


@pytest.fixture(scope="session")
def reference() -> dict:
    return yaml.safe_load((BENCH / "reference.yaml").read_text())


@pytest.fixture
def boehm_copy(tmp_path: Path) -> Path:
    """A copy of the Boehm 2014 problem a test may break."""
    dest = tmp_path / "boehm"
    shutil.copytree(BOEHM.parent, dest)
    return dest / BOEHM.name
