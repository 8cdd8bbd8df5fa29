"""A test protocol built by hand (no scenario): the engines' input type with the defaults the tests share."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from igfsim.engines.protocol import Protocol


def protocol(
    times,
    selections=("A", "B"),
    *,
    events=(),
    overrides=None,
    initial=None,
    preequilibrate=False,
    t_start=0.0,
    label="test/arm",
    rtol=1e-8,
    atol=1e-10,
):
    """A :class:`Protocol` over ``times`` selecting ``selections``, with nothing else set unless given."""
    return Protocol(
        overrides=MappingProxyType(dict(overrides or {})),
        initial=MappingProxyType(dict(initial or {})),
        preequilibrate=preequilibrate,
        events=tuple(events),
        t_start=t_start,
        times=np.asarray(times, dtype=float),
        selections=tuple(selections),
        label=label,
        rtol=rtol,
        atol=atol,
    )
