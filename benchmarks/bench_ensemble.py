"""Cost of mechanism verdicts over a parameter ensemble (prints; nothing is asserted).

``ensemble_verdicts`` (what ``igfsim validate --ensemble`` runs) on ``--members`` members x a few
catalogue scenarios on ``--workers`` workers, against a bare loop in the same run that does the
same work the way a user would without it (for each member: apply the multipliers, run the
scenario, check its expectations), serially. Prints member-scenario runs per second of each and
the ratio to 2 x the bare serial rate (goal >= 0.8 on 2 workers, start-up included).

Run: ``python benchmarks/bench_ensemble.py [--members 20] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ["c01_mab_vs_dual_tki.yaml", "c08_mtorc1_feedback.yaml", "c16_ligand_specificity.yaml"]


def bare(files, members, model) -> float:
    from igfsim import check_expectations, load_scenario, run_scenario
    from igfsim.scenario.targets import apply_targets

    t0 = time.perf_counter()
    for f in files:
        scen = load_scenario(f)
        for m in members:
            v = apply_targets(scen, [f"scale:{k}" for k in m], list(m.values()), model=model)
            check_expectations(run_scenario(v, model), v)
    return len(files) * len(members) / (time.perf_counter() - t0)


def ours(files, ensemble, model, workers: int) -> float:
    from igfsim.analysis.ensemble import ensemble_verdicts

    t0 = time.perf_counter()
    ensemble_verdicts(files, ensemble, model, n_workers=workers)
    return len(files) * ensemble.n_members / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from igfsim import load_model
    from igfsim.calibrate.ensemble import Ensemble

    model = load_model()
    rng = np.random.default_rng(0)
    ens = Ensemble(("k_IRS_act", "k_dp_fast"), np.exp(rng.normal(0, 0.3, (args.members, 2))), "bench")
    files = [ROOT / "scenarios" / s for s in SCENARIOS]
    rates_bare, rates_ours = [], []
    for _ in range(2):  # interleaved rounds
        rates_bare.append(bare(files, ens.members(), model))
        rates_ours.append(ours(files, ens, model, args.workers))
    b, o = max(rates_bare), max(rates_ours)
    print(f"{args.members} members x {len(files)} scenarios")
    print(f"bare serial loop (apply, run, check): {b:.2f} member-scenario runs/s (best of 2)")
    print(
        f"ensemble_verdicts on {args.workers} workers: {o:.2f} member-scenario runs/s "
        "(best of 2, pool start-up included)"
    )
    print(f"ratio to {args.workers} x bare serial: {o / (args.workers * b):.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
