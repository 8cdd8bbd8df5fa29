"""Shared fixtures: the bundled model, a tiny analytic model, a minimal scenario, a YAML writer."""

from __future__ import annotations

import copy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot

import pytest  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

import igfsim  # noqa: E402

SLOW_ENV = "IGFSIM_RUN_SLOW"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help=f"also run tests marked slow (what CI runs; or set {SLOW_ENV}=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import os

    if config.getoption("--run-slow") or os.environ.get(SLOW_ENV, "") not in ("", "0"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (CI does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


# keep Hypothesis' caches inside tests/ (it writes a .gitignore there) rather than in the checkout root
set_hypothesis_home_dir(Path(__file__).resolve().parent / ".hypothesis")

#: one irreversible first-order reaction A -> B with rate k*A (analytic: A = A0 exp(-k t))
TINY_ANTIMONY = """
model tiny
  compartment c = 1
  species A in c, B in c
  J1: A -> B; c*k*A
  k = 0.1
  A = 10; B = 0
end
"""

#: two arms on default cells stimulated with IGF1; no expectations (tests add their own)
MINIMAL_SCENARIO = {
    "name": "minimal",
    "title": "IGF1-stimulated default cells with and without cixutumumab",
    "simulation": {"duration_min": 60, "points": 61},
    "stimulus": {"IGF1": 10},
    "arms": [
        {"name": "control"},
        {"name": "cixutumumab", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]},
    ],
}


def write_yaml(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    """Write ``text`` to ``tmp_path/name`` and return the path."""
    path = Path(tmp_path) / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(name="write_yaml")
def _write_yaml_fixture():
    """The :func:`write_yaml` helper, ``write_yaml(tmp_path, text, name="scenario.yaml")``."""
    return write_yaml


@pytest.fixture(scope="session")
def igf_model() -> igfsim.Model:
    """The bundled IGF-IR/InsR model (compiled once per process)."""
    return igfsim.load_model()


@pytest.fixture(scope="session")
def tiny_model() -> igfsim.Model:
    """``A -> B`` with rate ``c*k*A``, ``k = 0.1``, ``A(0) = 10``, in a compartment of size 1."""
    return igfsim.load_model_string(TINY_ANTIMONY, "tiny")


@pytest.fixture
def minimal_scenario_dict() -> dict:
    """A fresh, valid scenario dict for the bundled model (safe to mutate)."""
    return copy.deepcopy(MINIMAL_SCENARIO)
