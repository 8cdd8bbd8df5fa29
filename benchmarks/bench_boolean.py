"""Print how fast the logical engine updates the bundled ``models/igf1r.bnet``.

Run: ``python benchmarks/bench_boolean.py [n_states]`` (default 100000). Figures only; nothing here
is asserted. A node-update is one rule evaluated for one state.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np


def _median_s(fn, repeats: int = 20) -> float:
    fn()  # warm up (compiles the rules on first use)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(n_states: int = 100_000) -> None:
    from igfsim import load_model, parse_scenario, run_scenario
    from igfsim.engines import _INSTANCES
    from igfsim.engines.boolean import BooleanEngine, _Ensemble
    from igfsim.model.bnet import evaluate, load_bnet, pack_states
    from igfsim.resources import bundled_bnet_path

    net = load_bnet(bundled_bnet_path())
    n = len(net.nodes)
    rng = np.random.default_rng(0)
    states = rng.random((n, n_states)) < 0.5
    packed = pack_states(states)
    print(f"network: {n} nodes ({len(net.inputs)} inputs), {n_states} random states")

    t_bool = _median_s(lambda: net.update(states))
    t_packed = _median_s(lambda: net.update(packed))
    print(
        f"synchronous update, bool rows:        {n * n_states / t_bool / 1e3:12.3g} node-updates/ms "
        f"({t_bool * 1e3:.2f} ms per update of all states)"
    )
    print(
        f"synchronous update, bit-packed uint64: {n * n_states / t_packed / 1e3:11.3g} node-updates/ms "
        f"({t_packed * 1e3:.2f} ms per update of all states)"
    )

    few = 300
    dicts = [dict(zip(net.nodes, states[:, s], strict=True)) for s in range(few)]
    t_loop = _median_s(lambda: [[evaluate(net.rules[v], d) for v in net.nodes] for d in dicts], repeats=3)
    print(f"per-state Python loop (reference):    {n * few / t_loop / 1e3:12.3g} node-updates/ms")

    for n_traj in (64, 4096):
        ens = _Ensemble(net, "async", n_traj, np.random.default_rng(0))
        ens.x[:, :n] = states[:, :n_traj].T
        t_step = _median_s(ens.step, repeats=10)
        updates = ens.free.size * n_traj
        print(
            f"asynchronous step, {n_traj:5d} trajectories: {updates / t_step / 1e3:10.3g} node-updates/ms "
            f"({t_step * 1e3:.2f} ms per step of {ens.free.size} elementary updates)"
        )

    model = load_model()
    sc = parse_scenario(
        {
            "name": "bench",
            "title": "benchmark",
            "stimulus": {"IGF2": 10},
            "cell": {"context": "InsR-A-high"},
            "arms": [{"name": "mab", "treatments": [{"drug": "cixutumumab", "dose_nM": 100}]}],
        }
    )
    from timing import interleaved, ratios

    from igfsim.engines import boolean_kernel

    native = boolean_kernel.kernel()

    def arm(mode: str, update: object) -> None:
        _INSTANCES["boolean"] = BooleanEngine(mode=mode)
        boolean_kernel._KERNEL[:] = [update]
        run_scenario(sc, model, engine="boolean")

    contenders = {
        "async arm, numpy update": lambda: arm("async", None),
        "async arm, native update": lambda: arm("async", native),
        "sync arm": lambda: arm("sync", native),
    }
    per_round = interleaved(contenders, rounds=5, calls=3)
    for name, r in ratios(per_round, "async arm, numpy update").items():
        goal = "  goal <= 0.2 s per async arm" if "native" in name else ""
        print(f"run_scenario, 1 arm, 241 points, {name:26s} {r.seconds * 1e3:8.1f} ms ({r.median:.2f}x numpy){goal}")
    boolean_kernel._KERNEL[:] = [native]
    _INSTANCES.pop("boolean", None)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
