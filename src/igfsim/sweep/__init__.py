"""Parameter sweeps: a scenario plus axes (grids, Latin hypercube / Sobol designs, virtual cell panels).

>>> from igfsim.sweep import Axis, Sweep, run_sweep  # doctest: +SKIP
>>> sw = Sweep(scenario="scenarios/c01_mab_vs_dual_tki.yaml",
...            axes=[Axis(name="dose", target="dose:*/cixutumumab", range=(0.01, 1000), n=9, scale="log")])
>>> res = run_sweep(sw)                      # a process pool; executor="serial" runs in-process
>>> res.dataset["summary"].sel(arm="cixutumumab", readout="pAkt", metric="auc")  # doctest: +SKIP

``spec`` holds the specification, its checks and the runs it makes, ``execute`` runs them,
``store`` writes them to disk and ``result`` reads them back; ``records`` holds the typed seams
between them (the manifest of a sweep, the outcome of a batch of runs). Targets are applied by
:func:`igfsim.scenario.targets.apply_targets`. See ``docs/sweeps.md``.
"""

from __future__ import annotations

from igfsim.errors import SweepStoreError
from igfsim.sweep.execute import close_pool, run_sweep
from igfsim.sweep.records import BatchResult, SweepManifest
from igfsim.sweep.result import SweepResult
from igfsim.sweep.spec import Axis, Sweep, apply_row, check_sweep, design_table, load_sweep, sweep_hash
from igfsim.sweep.store import SweepStore

__all__ = [
    "Axis",
    "BatchResult",
    "Sweep",
    "SweepManifest",
    "SweepResult",
    "SweepStore",
    "SweepStoreError",
    "apply_row",
    "check_sweep",
    "close_pool",
    "design_table",
    "load_sweep",
    "run_sweep",
    "sweep_hash",
]
