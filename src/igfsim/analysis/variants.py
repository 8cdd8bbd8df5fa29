"""Scenario variants for the analyses: a scenario with targets set, run as design rows of a sweep.

:func:`apply_values` sets targets on a copy of a scenario; :class:`PointRuns` runs explicit design rows
of a scenario (each row sets the targets of one run) through :func:`igfsim.sweep.run_sweep` (design
``points``), with its executors, per-run failure records, batching and progress bar. Both
:mod:`igfsim.analysis.sensitivity` and :mod:`igfsim.analysis.robustness` run their variants here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from igfsim.errors import ScenarioError
from igfsim.model.sbml import Model, load_model
from igfsim.scenario.checks import validate_scenario
from igfsim.scenario.loading import load_scenario
from igfsim.scenario.schema import Scenario
from igfsim.scenario.targets import apply_targets, parse_target
from igfsim.sweep import Axis, Sweep, SweepResult, check_sweep, run_sweep
from igfsim.sweep.spec import NON_NEGATIVE_KINDS


def load_inputs(scenario: Scenario | str | Path, model: Model | str | Path | None) -> tuple[Scenario, Model]:
    """The scenario and the model, each loaded unless given as an object (no model: the bundled one)."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    m = model if isinstance(model, Model) else load_model(model)
    return sc, m


def apply_values(
    scenario: Scenario, targets: Sequence[str], values: Sequence[float], *, model: Model | None = None
) -> Scenario:
    """A copy of ``scenario`` with each target set to its value.

    The one applier of targets, :func:`igfsim.scenario.targets.apply_targets` (sweeps use it too),
    under its former name here: ``parameter:``/``expression:``/``initial:`` go into the scenario's cell
    and every arm cell (so they win over arms), ``stimulus:`` into the scenario's medium and the arm
    media that list the species, ``dose:<arm>/<drug>`` (or ``dose:*/<drug>``) into that drug's
    treatments, and ``scale:<id>`` multiplies each arm's effective value (needs ``model``).
    """
    return apply_targets(scenario, list(targets), list(values), model=model)


def sweep_executor(executor: object) -> object:
    """The adapters run in-process by default (None = "serial"); an Executor or a Dask client goes to
    :func:`igfsim.sweep.run_sweep` as given."""
    if executor is None:
        return "serial"
    if isinstance(executor, str) and executor != "serial":
        raise ValueError(
            f"executor must be None, 'serial', a concurrent.futures.Executor or a distributed.Client, not {executor!r}"
        )
    return executor


@dataclass(frozen=True)
class PointRuns:
    """Runs explicit design rows of a scenario through :func:`igfsim.sweep.run_sweep` (design ``points``)."""

    model: Model
    engine: str
    executor: object
    n_workers: int | None
    batch_size: int | None
    progress: bool

    def sweep(
        self, scenario: Scenario, targets: Sequence[str], x: np.ndarray, metrics: list[str], keep: bool = False
    ) -> Sweep:
        """Row ``i`` of ``x`` sets ``targets`` in run ``i`` (no targets: one run of the scenario)."""
        axes = [Axis(name=f"x{j}", target=t, values=x[:, j].tolist()) for j, t in enumerate(targets)]
        return Sweep(
            scenario=scenario, axes=axes, design="points", metrics=metrics, keep_trajectories=keep, engine=self.engine
        )

    def check(self, scenario: Scenario, targets: Sequence[str], metrics: list[str]) -> None:
        """ScenarioError naming every problem of the targets (checked with value 1) and the scenario."""
        where = f"<{scenario.name} with {', '.join(targets)}>"
        validate_scenario(scenario, self.model, where)
        probe = self.sweep(scenario, targets, np.ones((1, len(targets))), metrics)
        if issues := check_sweep(probe, self.model):
            raise ScenarioError(where, issues)

    @staticmethod
    def valid_rows(targets: Sequence[str], x: np.ndarray) -> np.ndarray:
        """Which rows of ``x`` a sweep can run: finite values, and >= 0 where the target kind needs it
        (a dose, stimulus, expression, initial amount or scale). The other rows are recorded as failed
        runs by the callers (NaN), as a simulation failure would be, so one bad row does not stop the rest."""
        ok = np.isfinite(x).all(axis=1)
        for j, target in enumerate(targets):
            if parse_target(target).kind in NON_NEGATIVE_KINDS:
                ok &= ~(x[:, j] < 0)
        return ok

    def run(self, sweep: Sweep) -> SweepResult:
        return run_sweep(
            sweep,
            executor=self.executor,
            n_workers=self.n_workers,
            batch_size=self.batch_size,
            progress=self.progress,
            model=self.model,
        )
