"""Start-up costs, as a user meets them: CPU seconds of whole processes (prints; nothing is asserted).

Each contender is a fresh ``python`` process, timed by the CPU it and its children used
(``resource.getrusage(RUSAGE_CHILDREN)``), in interleaved rounds:

* ``import igfsim`` (goal < 0.3 s) and ``igfsim --help``;
* ``igfsim run`` of one bundled scenario with a warm engine cache (the compiled model and the model
  text's reading on disk; no figure, the default);
* the same with a cold cache (a new ``IGFSIM_CACHE_DIR``: Antimony, libsbml and the LLJIT compile
  run) and with ``--png``, which is what every ``igfsim run`` cost before the caches (plus MCJIT's
  longer compile, measured below): goal, warm at least 3x less;
* compiling the bundled model with MCJIT and with LLJIT, and loading its saved state (in-process).

Run: ``python benchmarks/bench_startup.py [--rounds 5] [--scenario c01_mab_vs_dual_tki]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu(cmd: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of running ``cmd`` to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


COMPILE = """
import sys, time, roadrunner
from igfsim import load_model
sbml = load_model().sbml
config = roadrunner.Config
config.setValue(config.LLVM_BACKEND, getattr(config, sys.argv[1]))
t0 = time.process_time(); rr = roadrunner.RoadRunner(sbml); built = time.process_time() - t0
state = rr.saveStateS(); fresh = roadrunner.RoadRunner()
t0 = time.process_time(); fresh.loadStateS(state); loaded = time.process_time() - t0
print(f"compile the bundled model with {sys.argv[1]}: {built:.2f} s CPU; load its saved state: {loaded:.3f} s")
"""


def _compile_figures() -> None:
    """Each JIT in a fresh process (a second compile in one process reuses the first's work)."""
    for jit in ("MCJIT", "LLJIT"):
        subprocess.run([sys.executable, "-c", COMPILE, jit], check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scenario", default="c01_mab_vs_dual_tki")
    args = ap.parse_args()
    scenario = str(ROOT / "scenarios" / f"{args.scenario}.yaml")
    warm_cache = tempfile.mkdtemp(prefix="igfsim-bench-cache-")
    out = tempfile.mkdtemp(prefix="igfsim-bench-out-")
    base = {**os.environ, "IGFSIM_CACHE_DIR": warm_cache}
    igfsim = [str(Path(sys.executable).with_name("igfsim"))]  # the console script of this environment
    run = [*igfsim, "run", scenario, "--out", out, "--quiet"]
    subprocess.run(run, env=base, check=False, stdout=subprocess.DEVNULL)  # warm the cache

    def cold_env() -> dict[str, str]:
        return {**os.environ, "IGFSIM_CACHE_DIR": tempfile.mkdtemp(prefix="igfsim-bench-cold-")}

    contenders = {
        "import igfsim": lambda: _cpu([sys.executable, "-c", "import igfsim"], base),
        "igfsim --help": lambda: _cpu([*igfsim, "--help"], base),
        "igfsim run, warm cache": lambda: _cpu(run, base),
        "igfsim run --png, cold cache": lambda: _cpu([*run, "--png"], cold_env()),
    }
    seconds: dict[str, list[float]] = {k: [] for k in contenders}
    for r in range(args.rounds):
        names = list(contenders)
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds[name].append(contenders[name]())
    med = {k: statistics.median(v) for k, v in seconds.items()}
    for name, v in seconds.items():
        print(f"{name:30s} {med[name]:6.2f} s CPU (rounds {min(v):.2f}-{max(v):.2f})")
    ratios = [
        c / w for c, w in zip(seconds["igfsim run --png, cold cache"], seconds["igfsim run, warm cache"], strict=True)
    ]
    print(
        f"igfsim run: cold with figure / warm = {statistics.median(ratios):.1f}x "
        f"(rounds {min(ratios):.1f}-{max(ratios):.1f}; goal >= 3x); import igfsim goal < 0.3 s"
    )
    _compile_figures()


if __name__ == "__main__":
    main()
