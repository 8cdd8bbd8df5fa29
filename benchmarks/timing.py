"""Side-by-side timing for the benchmarks: contenders timed in interleaved rounds, ratios per round.

The machines are shared and noisy, so a figure is only the ratio of two contenders measured in the
same round; :func:`interleaved` runs every contender a few times per round, in a rotating order,
and :func:`ratios` gives each contender's median ratio to a baseline over the rounds with its spread.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    """A contender's time as a multiple of the baseline's: median over rounds, and its range."""

    name: str
    median: float
    low: float
    high: float
    seconds: float  # the contender's median time per call over every round

    def __str__(self) -> str:
        return f"{self.median:.2f}x (rounds {self.low:.2f}-{self.high:.2f}; {self.seconds * 1e3:.1f} ms per call)"


def interleaved(
    contenders: Mapping[str, Callable[[], object]],
    *,
    rounds: int = 7,
    calls: int = 5,
    per_call: Mapping[str, int] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Per contender, its median time per unit of work in each round (seconds).

    Each round times ``calls`` calls of every contender, the order rotating from round to round.
    ``per_call`` divides a contender's time by the units of work one call does (runs of a sweep).
    """
    names = list(contenders)
    per_round: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn, units = contenders[name], (per_call or {}).get(name, 1)
            samples = []
            for _ in range(calls):
                t0 = clock()
                fn()
                samples.append((clock() - t0) / units)
            per_round[name].append(statistics.median(samples))
    return per_round


def ratios(per_round: Mapping[str, list[float]], baseline: str) -> dict[str, Ratio]:
    """Each contender against ``baseline``, round by round."""
    base = per_round[baseline]
    out = {}
    for name, times in per_round.items():
        r = [t / b for t, b in zip(times, base, strict=True)]
        out[name] = Ratio(name, statistics.median(r), min(r), max(r), statistics.median(times))
    return out
