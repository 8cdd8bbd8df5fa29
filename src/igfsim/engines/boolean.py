"""Logical (Boolean) engine: the ``.bnet`` model of the same network, driven by the same protocols.

Update modes (constructor arguments; the registry builds ``BooleanEngine()`` with the defaults):

* ``"async"`` (default): general asynchronous update of an ensemble of ``n_trajectories``
  trajectories (default 64). One step is ``m`` elementary updates, ``m`` the number of non-input
  nodes; each elementary update picks, independently in every trajectory, one non-input node
  uniformly at random and sets it to its rule's value. The random stream is
  ``numpy.random.default_rng(seed)`` (default seed 0), started afresh for every arm, so the same
  seed gives the same result whatever ran before.
* ``"sync"``: every node at once; deterministic, one trajectory.

A run: input nodes from the protocol (:mod:`.boolean_map`), non-input nodes OFF; with
pre-equilibration, the drug-free, ligand-free network runs to its attractor; then step 0 applies
the stimulus and drugs. Row ``k`` of the output is the ensemble mean of each selected node at step
``k``; the last row is the mean activity on the attractor reached (sync: exact cycle average;
async: exact when every trajectory sits on a fixed point, else the mean over ``window`` steps
after ``burn_in`` further steps). Selections that are not nodes give NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from igfsim.engines.boolean_kernel import async_steps
from igfsim.engines.boolean_map import DRUG_NODES, input_schedule
from igfsim.engines.protocol import Protocol
from igfsim.errors import EngineUnavailableError, SimulationError
from igfsim.model.bnet import BooleanNetwork, load_bnet
from igfsim.model.mapping import mapping_path
from igfsim.model.sbml import Model
from igfsim.resources import bundled_bnet_path

__all__ = ["Attractor", "BooleanEngine", "attractors", "sync_cycles"]

MODES = ("async", "sync")
DEFAULT_MODE = "async"
DEFAULT_SEED = 0
DEFAULT_TRAJECTORIES = 64
#: async: steps run after the transient before the attractor is sampled
DEFAULT_BURN_IN = 50
#: async: steps over which the attractor's mean activity is sampled (once per step and trajectory)
DEFAULT_WINDOW = 200
#: async: pre-equilibration stops at a fixed point of every trajectory or after this many steps
DEFAULT_PREEQUILIBRATION_STEPS = 500
#: sync: give up looking for a repeated state after this many steps
MAX_SYNC_STEPS = 100_000


# ------------------------------------------------------------------------------------ attractors


@dataclass(frozen=True, eq=False)
class Attractor:
    """A synchronous attractor (``states``: its cycle in update order) or a most-permissive trap space."""

    nodes: tuple[str, ...]
    states: np.ndarray | None = None
    trap_space: Mapping[str, int | str] | None = None

    def _space(self) -> Mapping[str, int | str]:
        if self.trap_space is None:
            raise ValueError("an Attractor needs its cycle (states) or its trap space")
        return self.trap_space

    @property
    def is_fixed_point(self) -> bool:
        """One state (a cycle of length 1, or a trap space without free nodes)."""
        if self.states is not None:
            return len(self.states) == 1
        return all(v != "*" for v in self._space().values())

    def fixed_point(self) -> dict[str, int] | None:
        """The state as ``{node: 0/1}`` if this is a fixed point, else None."""
        if not self.is_fixed_point:
            return None
        if self.states is not None:
            return {n: int(v) for n, v in zip(self.nodes, self.states[0], strict=True)}
        space = self._space()
        return {n: int(space[n]) for n in self.nodes}

    def mean(self) -> dict[str, float]:
        """Mean activity per node: cycle average, or 0/1 on a trap space (NaN for its free nodes)."""
        if self.states is not None:
            return dict(zip(self.nodes, self.states.mean(axis=0).tolist(), strict=True))
        space = self._space()
        return {n: (np.nan if space[n] == "*" else float(space[n])) for n in self.nodes}


def sync_cycles(network: BooleanNetwork, states: np.ndarray, max_steps: int = MAX_SYNC_STEPS) -> list[np.ndarray]:
    """Follow each state of ``states`` (``(n_states, n_nodes)`` bool) synchronously until a state repeats.

    Returns, per initial state, its attractor as a ``(cycle_length, n_nodes)`` array starting at
    the first state of the cycle that the trajectory entered. All states advance together
    (vectorised); raises ``RuntimeError`` if some trajectory has not repeated within ``max_steps``.
    """
    x = np.array(states, dtype=bool, ndmin=2)
    seen: list[dict[bytes, int]] = [{} for _ in range(len(x))]
    trail: list[np.ndarray] = []
    cycles: dict[int, np.ndarray] = {}  # trajectory -> its cycle
    todo = list(range(len(x)))
    for t in range(max_steps + 1):
        keys = np.packbits(x, axis=1)
        trail.append(x)
        still = []
        for e in todo:
            first = seen[e].setdefault(keys[e].tobytes(), t)
            if first == t:
                still.append(e)
            else:
                cycles[e] = np.array([trail[s][e] for s in range(first, t)])
        todo = still
        if not todo:
            return [cycles[e] for e in range(len(x))]
        x = network.update(x.T).T
    raise RuntimeError(f"{len(todo)} trajectory(ies) did not repeat a state within {max_steps} synchronous steps")


def _state_array(network: BooleanNetwork, initial_state) -> np.ndarray:
    if isinstance(initial_state, Mapping):
        unknown = [k for k in initial_state if k not in network.index]
        if unknown:
            raise ValueError(f"unknown node(s) in the initial state: {', '.join(map(repr, unknown))}")
        x = np.zeros((1, len(network.nodes)), dtype=bool)
        for k, v in initial_state.items():
            x[0, network.index[k]] = bool(v)
        return x
    x = np.array(initial_state, dtype=bool, ndmin=2)
    if x.shape[1] != len(network.nodes):
        raise ValueError(f"states need {len(network.nodes)} columns (one per node), got {x.shape[1]}")
    return x


@lru_cache(maxsize=8)
def _mp_network(network: BooleanNetwork):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        return network.to_mpbn()


def attractors(
    network: BooleanNetwork | str | Path, initial_state, mode: str = "sync", *, max_steps: int = MAX_SYNC_STEPS
) -> list[Attractor]:
    """Attractors reachable from ``initial_state`` (a ``{node: 0/1}`` dict, missing nodes 0, or state rows).

    ``mode="sync"``: exact synchronous attractors (cycles), one per distinct attractor reached.
    ``mode="async"`` (alias ``"mp"``): the most-permissive attractors (minimal trap spaces) reachable
    from each state, computed exactly by mpbn. Each holds at least one asynchronous attractor, in which
    a free node ``"*"`` may oscillate; rare "motif-avoidant" asynchronous attractors lie outside them.
    """
    net = network if isinstance(network, BooleanNetwork) else load_bnet(network)
    x = _state_array(net, initial_state)
    found: list[Attractor] = []
    keys: set[frozenset[bytes] | tuple[int | str, ...]] = set()
    if mode == "sync":
        for cycle in sync_cycles(net, x, max_steps):
            key = frozenset(row.tobytes() for row in np.packbits(cycle, axis=1))
            if key not in keys:
                keys.add(key)
                found.append(Attractor(net.nodes, states=cycle))
        return found
    if mode not in ("async", "mp"):
        raise ValueError(f"unknown mode {mode!r}; expected 'sync', 'async' or 'mp'")
    mbn = _mp_network(net)
    for row in x:
        start = {n: int(v) for n, v in zip(net.nodes, row, strict=True)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            spaces = list(mbn.attractors(reachable_from=start))
        for space in spaces:
            space_key = tuple(space[n] for n in net.nodes)
            if space_key not in keys:
                keys.add(space_key)
                found.append(Attractor(net.nodes, trap_space=MappingProxyType({n: space[n] for n in net.nodes})))
    return found


# --------------------------------------------------------------------------------------- dynamics


class _Ensemble:
    """States of one arm: ``x`` is ``(n_trajectories, n_nodes + 1)`` uint8, the last column constant 0."""

    def __init__(self, net: BooleanNetwork, mode: str, n_traj: int, rng: np.random.Generator):
        self.net, self.mode, self.rng = net, mode, rng
        self.n = len(net.nodes)
        self.x = np.zeros((1 if mode == "sync" else n_traj, self.n + 1), dtype=np.uint8)
        inputs = set(net.inputs)
        self.free = np.array([k for k, name in enumerate(net.nodes) if name not in inputs], dtype=np.intp)
        self.rows = np.arange(len(self.x))
        self.tables = net.truth_tables
        if self.tables is not None:
            self.weights = (1 << np.arange(self.tables[0].shape[1])).astype(np.int64)

    def states(self) -> np.ndarray:
        return self.x[:, : self.n].astype(bool)

    def set_inputs(self, values: Mapping[str, bool]) -> None:
        for name, on in values.items():
            self.x[:, self.net.index[name]] = on

    def next_states(self) -> np.ndarray:
        return self.net.update(self.states().T).T

    def at_fixed_point(self) -> bool:
        return bool(np.array_equal(self.next_states(), self.states()))

    def step(self) -> None:
        """One synchronous step, or ``m`` elementary asynchronous updates per trajectory."""
        self.steps(1)

    def _draws(self, n_steps: int) -> np.ndarray:
        """The nodes chosen in ``n_steps`` asynchronous steps: ``(n_steps, m, n_traj)``, drawn step by
        step (the stream does not depend on how many steps one call runs)."""
        m, shape = self.free.size, (self.free.size, len(self.x))
        return np.array([self.free[self.rng.integers(0, m, size=shape)] for _ in range(n_steps)], dtype=np.int64)

    def steps(self, n_steps: int, means: np.ndarray | None = None, *, stop_at_fixed: bool = False) -> int:
        """Run ``n_steps`` steps (with ``stop_at_fixed``, stop before one that starts at a fixed point of
        every trajectory); ``means[s]`` gets the mean activity after step ``s``. Returns the steps done."""
        if self.mode == "async" and self.free.size and self.tables is not None:
            return self._native_steps(n_steps, means, stop_at_fixed)
        for s in range(n_steps):
            if stop_at_fixed and self.at_fixed_point():
                return s
            if self.mode == "sync":
                self.x[:, : self.n] = self.next_states()
            elif self.free.size:
                for k in self._draws(1)[0]:
                    self.x[self.rows, k] = self.next_states()[self.rows, k]
            if means is not None:
                means[s] = self.x[:, : self.n].mean(axis=0)
        return n_steps

    def _native_steps(self, n_steps: int, means: np.ndarray | None, stop_at_fixed: bool) -> int:
        assert self.tables is not None
        before = self.rng.bit_generator.state if stop_at_fixed else None
        done = async_steps(self.x, self._draws(n_steps), self.tables, self.n, means, stop_at_fixed)
        if before is not None and done < n_steps:  # draw again only what the steps done used
            self.rng.bit_generator.state = before
            self._draws(done)
        return done

    def settle(self, max_steps: int) -> None:
        """Run to the attractor: sync until a state repeats (stopping on the cycle), async to fixed points."""
        if self.mode == "sync":
            self.x[:, : self.n] = sync_cycles(self.net, self.states(), max_steps)[0][0]
            return
        self.steps(max_steps, stop_at_fixed=True)

    def attractor_mean(self, burn_in: int, window: int, max_steps: int) -> np.ndarray:
        if self.mode == "sync":
            return sync_cycles(self.net, self.states(), max_steps)[0].mean(axis=0)
        for start in range(0, burn_in, 5):  # looking for a fixed point every 5 steps
            if self.at_fixed_point():
                return self.states().mean(axis=0)
            self.steps(min(5, burn_in - start))
        if self.at_fixed_point():
            return self.states().mean(axis=0)
        means = np.empty((window, self.n))
        self.steps(window, means)
        total = np.zeros(self.n)
        for row in means:  # summed in order, as the means arrive
            total += row
        return total / window


def logical_model_path(model: Model) -> Path:
    """The logical model of ``model``: its mapping's ``boolean.bnet``, else ``<stem>.bnet`` beside the model
    file; :class:`EngineUnavailableError` when it has neither (never another model's network)."""
    if model.mapping.boolean is not None:
        return model.mapping.boolean.bnet
    sibling = Path(model.path).with_suffix(".bnet")
    if sibling.is_file():
        return sibling
    raise EngineUnavailableError(
        f"{model.path}: the Boolean engine has no logical model of this model; name one in the model's mapping "
        f"file ({mapping_path(model.path)}, key boolean.bnet) or put {sibling.name} beside the model"
    )


class BooleanEngine:
    """Simulates protocols on the logical model; output rows are steps, values mean activities (0..1)."""

    name = "boolean"
    time_units = "step"

    def __init__(
        self,
        mode: str = DEFAULT_MODE,
        seed: int = DEFAULT_SEED,
        n_trajectories: int = DEFAULT_TRAJECTORIES,
        *,
        network: BooleanNetwork | str | Path | None = None,
        burn_in: int = DEFAULT_BURN_IN,
        window: int = DEFAULT_WINDOW,
        preequilibration_steps: int = DEFAULT_PREEQUILIBRATION_STEPS,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown update mode {mode!r}; expected one of {', '.join(MODES)}")
        for label, value in (
            ("n_trajectories", n_trajectories),
            ("window", window),
            ("preequilibration_steps", preequilibration_steps),
        ):
            if int(value) < 1:
                raise ValueError(f"{label} must be >= 1, got {value!r}")
        if int(burn_in) < 0:
            raise ValueError(f"burn_in must be >= 0, got {burn_in!r}")
        self.mode, self.seed, self.n_trajectories = mode, int(seed), int(n_trajectories)
        self.burn_in, self.window, self.preequilibration_steps = int(burn_in), int(window), int(preequilibration_steps)
        self._network = network if isinstance(network, BooleanNetwork) else None
        self._network_path = None if network is None or isinstance(network, BooleanNetwork) else Path(network)
        self._loaded: dict[tuple, BooleanNetwork] = {}

    def network_for(self, model: Model | None = None) -> BooleanNetwork:
        """The logical model: the one given to the engine, else ``model``'s (:func:`logical_model_path`;
        the bundled model's without one)."""
        if self._network is not None:
            return self._network
        path = self._network_path
        if path is None:
            path = logical_model_path(model) if model is not None else bundled_bnet_path()
        key = (str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0)
        if key not in self._loaded:
            self._loaded[key] = load_bnet(path)
        return self._loaded[key]

    def check_model(self, model: Model) -> None:
        """:class:`EngineUnavailableError` when this engine has no logical model of ``model``."""
        self.network_for(model)

    def output_times(self, protocol: Protocol) -> np.ndarray:
        """Steps ``0 .. len(protocol.times) - 1``; the last holds the attractor's mean activity."""
        return np.arange(len(protocol.times), dtype=float)

    def simulate(self, model: Model, protocol: Protocol) -> np.ndarray:
        """Mean activity of each selected node per step (NaN for selections that are not nodes)."""
        net = self.network_for(model)
        slots = model.mapping.drug_slots if model.mapping.modes_of_action else DRUG_NODES
        schedule = input_schedule(protocol, dict(model.parameters), net.inputs, slots)
        ens = _Ensemble(net, self.mode, self.n_trajectories, np.random.default_rng(self.seed))
        n_steps = len(protocol.times) - 1
        ens.set_inputs(schedule.initial)
        changes = dict(schedule.changes)
        rows = np.empty((n_steps + 1, len(net.nodes)))
        try:
            if protocol.preequilibrate:
                ens.settle(self.preequilibration_steps if self.mode == "async" else MAX_SYNC_STEPS)
            if 0 in changes:
                ens.set_inputs(changes[0])
            rows[0] = ens.x[:, : ens.n].mean(axis=0)
            done = 0  # rows filled so far; the steps up to the next input change run in one call
            for change in sorted({*(c for c in changes if 0 < c < n_steps), n_steps - 1}):
                ens.steps(change - done, rows[done + 1 : change + 1])
                if change in changes:  # the row of a change step shows the state just after it
                    ens.set_inputs(changes[change])
                    rows[change] = ens.x[:, : ens.n].mean(axis=0)
                done = change
            for step, values in schedule.changes:
                if step >= n_steps:
                    ens.set_inputs(values)
            rows[n_steps] = ens.attractor_mean(self.burn_in, self.window, MAX_SYNC_STEPS)
        except RuntimeError as err:
            raise SimulationError(str(err), engine=self.name, run_id=protocol.label) from None
        out = np.full((n_steps + 1, len(protocol.selections)), np.nan)
        view = model.mapping.boolean
        for j, sel in enumerate(protocol.selections):
            node = view.node_of(sel) if view is not None else sel
            if node in net.index:
                out[:, j] = rows[:, net.index[node]]
        return out
