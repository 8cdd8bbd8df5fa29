"""Simulation engines behind one interface; backends are imported lazily by name."""

from __future__ import annotations

from importlib import import_module
from typing import Protocol as _Proto
from typing import runtime_checkable

import numpy as np

from igfsim.engines.protocol import Protocol
from igfsim.errors import EngineUnavailableError, did_you_mean
from igfsim.model.sbml import Model

#: engine name -> "module:Class"
ENGINES = {
    "roadrunner": "igfsim.engines.roadrunner_ode:RoadRunnerEngine",
    "scipy": "igfsim.engines.scipy_ode:ScipyEngine",
    "cvodes": "igfsim.engines.cvodes_ode:CvodesEngine",
    "boolean": "igfsim.engines.boolean:BooleanEngine",
}
#: the ODE engines, in the order reports list them (the first is the reference of agreement checks)
ODE_ENGINES = ("roadrunner", "scipy", "cvodes")
#: the engines every ``compare`` and ``validate --engine all`` runs (and the mechanism page names):
#: the two independent ODE views and the logical one
CORE_ENGINES = ("roadrunner", "scipy", "boolean")
#: engines ``compare`` adds when they are installed (``cvodes`` needs the ``amici`` extra's libraries)
OPTIONAL_ENGINES = ("cvodes",)
#: engines that integrate another engine's equations (``cvodes``: the scipy engine's generated C under
#: CVODES): a scenario's ``known_failure_engines`` and ``not_expressible`` entries for that engine hold
#: for them too, because a known failure is one of the model's equations, not of the integrator
SAME_EQUATIONS = {"cvodes": "scipy"}


def equations_of(engine: str) -> str:
    """The engine whose equations ``engine`` integrates (itself, for an engine of its own)."""
    return SAME_EQUATIONS.get(engine, engine)


class Engine(_Proto):
    """Simulates a protocol on a model and returns values of ``protocol.selections``."""

    name: str
    #: unit of the output time axis: "min" for ODE engines, "step" for logical ones
    time_units: str

    def check_model(self, model: Model) -> None:
        """Raise :class:`igfsim.errors.EngineUnavailableError` when this engine has no view of ``model``
        (e.g. the Boolean engine without a logical model of it); before anything is simulated."""
        ...

    def output_times(self, protocol: Protocol) -> np.ndarray:
        """The time axis of :meth:`simulate`'s rows for this protocol."""
        ...

    def simulate(self, model: Model, protocol: Protocol) -> np.ndarray:
        """Return an array of shape ``(len(protocol.times), len(protocol.selections))``.

        Raises :class:`igfsim.errors.SimulationError` when the run fails.
        """
        ...


@runtime_checkable
class ShipsCompiled(_Proto):
    """An engine whose compiled model can be sent to another process (so workers do not compile)."""

    def compiled_state(self, model: Model) -> bytes:
        """``model`` compiled, as bytes another process's engine can :meth:`adopt`."""
        ...

    def adopt(self, model: Model, state: bytes) -> None:
        """Use ``state`` (a :meth:`compiled_state` of ``model``) for ``model`` from now on."""
        ...


_INSTANCES: dict[str, Engine] = {}


def get_engine(name: str = "roadrunner") -> Engine:
    """The engine called ``name`` (one instance per process, so compiled models are reused)."""
    if name not in ENGINES:
        raise EngineUnavailableError(
            f"unknown engine {name!r}{did_you_mean(name, ENGINES)}; available: {', '.join(ENGINES)}"
        )
    if name not in _INSTANCES:
        module, cls = ENGINES[name].split(":")
        try:
            _INSTANCES[name] = getattr(import_module(module), cls)()
        except ImportError as err:
            raise EngineUnavailableError(f"engine {name!r} needs a package that is not installed: {err}") from None
    return _INSTANCES[name]
