"""Per-arm cost of igfsim against a bare libRoadRunner loop doing the same work, side by side.

Contenders (interleaved rounds; ratios to ``bare`` taken round by round):

* ``bare``: reset, set the cell's values, pre-equilibrate, give the drug and the stimulus, simulate
  241 points: the work of one arm, written directly against libRoadRunner;
* ``bare, steady state reused``: the same loop starting from a steady state it saved once;
* ``igfsim arm, new cell``: ``run_scenario`` of a one-arm scenario whose cell it has not seen (the
  steady-state cache emptied before each call): goal <= 1.05x;
* ``igfsim arm, known cell``: the same call again (the cell's steady state cached);
* ``igfsim dose sweep``: ``run_sweep(executor="serial")`` over 12 doses, per run, the cache emptied
  before each sweep (so its first run pre-equilibrates): goal <= 0.5x;
* ``igfsim cvodes arm, new cell``: the arm on the sparse CVODE engine (``engine="cvodes"``: CVODES +
  KLU on the generated C and analytic Jacobian; needs the ``amici`` extra), goal <= 0.45x, with its
  largest difference from the roadrunner engine's values and the SUNDIALS build it links.

Run: ``python benchmarks/bench_run.py [--rounds 7]``. Figures only; nothing here is asserted.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import interleaved, ratios

CELL = {"expr_InsR_A": 20.0, "expr_InsR_B": 0.0, "expr_integrin": 0.0}  # the InsR-A-high context
DOSES = np.logspace(-1, 3, 12)


class BareLoop:
    """One arm (linsitinib 1000 nM, IGF2 10 nM, InsR-A-high) straight on libRoadRunner."""

    def __init__(self, sbml: str, selections: list[str]) -> None:
        import roadrunner

        self.rr = roadrunner.RoadRunner(sbml)
        self.selections = ["time", *selections]
        self.times = np.linspace(0, 240, 241)
        self.steady: np.ndarray | None = None

    def _cell(self) -> None:
        rr = self.rr
        rr.resetToOrigin()
        rr.integrator.relative_tolerance = 1e-8
        rr.integrator.absolute_tolerance = 1e-10
        for k, v in CELL.items():
            rr[k] = v
        rr.reset()

    def _arm(self, dose: float) -> np.ndarray:
        self.rr["TKI_dual"] = dose
        self.rr["[IGF2]"] = 10.0
        self.rr.timeCourseSelections = self.selections
        return self.rr.simulate(times=self.times)

    def run(self, dose: float = 1000.0) -> np.ndarray:
        self._cell()
        self.rr.simulate(0, 1e5, 2)
        return self._arm(dose)

    def run_reusing(self, dose: float = 1000.0) -> np.ndarray:
        if self.steady is None:
            self._cell()
            self.rr.simulate(0, 1e5, 2)
            self.steady = np.array(self.rr.model.getFloatingSpeciesAmounts())
        self._cell()
        self.rr.model.setFloatingSpeciesAmounts(self.steady)
        return self._arm(dose)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=5)
    args = ap.parse_args()

    from igfsim import load_model, parse_scenario, run_scenario
    from igfsim.engines.steady_state import STEADY_STATES
    from igfsim.sweep import Axis, Sweep, run_sweep

    model = load_model()
    spec = {
        "name": "bench",
        "title": "benchmark",
        "stimulus": {"IGF2": 10},
        "cell": {"context": "InsR-A-high"},
        "arms": [{"name": "tki", "treatments": [{"drug": "linsitinib", "dose_nM": 1000}]}],
    }
    sc = parse_scenario(spec)
    sweep = Sweep(scenario=sc, axes=[Axis(name="dose", target="dose:tki/linsitinib", values=DOSES.tolist())])
    bare = BareLoop(model.sbml, list(sc.selected_readouts()))

    def new_cell():
        STEADY_STATES.clear()
        run_scenario(sc, model)

    def dose_sweep():
        STEADY_STATES.clear()
        run_sweep(sweep, executor="serial", progress=False, model=model)

    run_scenario(sc, model)  # compiled once, as a session would
    contenders = {
        "bare": bare.run,
        "bare, steady state reused": bare.run_reusing,
        "igfsim arm, new cell": new_cell,
        "igfsim arm, known cell": lambda: run_scenario(sc, model),
        "igfsim dose sweep (per run)": dose_sweep,
    }
    try:
        from igfsim.engines.cvodes_ode import sundials_build

        build = sundials_build()
        sparse = run_scenario(sc, model, engine="cvodes").values
        diff = float(np.max(np.abs(sparse - run_scenario(sc, model).values)))
        print(
            f"cvodes engine: SUNDIALS {build.version} ({build.build_type} build, KLU), "
            f"max |cvodes - roadrunner| {diff:.1e}"
        )

        def sparse_cell():
            STEADY_STATES.clear()
            run_scenario(sc, model, engine="cvodes")

        sparse_sweep = sweep.model_copy(update={"engine": "cvodes"})

        def sparse_dose_sweep():
            STEADY_STATES.clear()
            run_sweep(sparse_sweep, executor="serial", progress=False, model=model)

        contenders["igfsim cvodes arm, new cell"] = sparse_cell
        contenders["igfsim cvodes dose sweep (per run)"] = sparse_dose_sweep
    except ImportError as err:  # EngineUnavailableError: no amici extra
        print(f"cvodes engine not measured: {err}")
    times = interleaved(
        contenders,
        rounds=args.rounds,
        calls=args.calls,
        per_call={"igfsim dose sweep (per run)": len(DOSES), "igfsim cvodes dose sweep (per run)": len(DOSES)},
    )
    print(f"model: {len(model.species)} species, {len(model.parameters)} parameters; {args.rounds} rounds")
    goals = {
        "igfsim arm, new cell": "goal <= 1.05x",
        "igfsim dose sweep (per run)": "goal <= 0.5x",
        "igfsim cvodes arm, new cell": "goal <= 0.45x",
    }
    for name, r in ratios(times, "bare").items():
        print(f"{name:32s} {r}  {goals.get(name, '')}")


if __name__ == "__main__":
    main()
