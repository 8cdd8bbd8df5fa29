"""Compile once: libRoadRunner's compiled model and the reading of a model text are kept in the private
engine cache, each file checked against its digest before it is used; what comes from the cache
simulates exactly like what was built."""

from __future__ import annotations

import numpy as np
import pytest
from engine_protocols import protocol

import igfsim
from igfsim.cache import digest_file
from igfsim.engines import roadrunner_ode
from igfsim.engines.roadrunner_ode import RoadRunnerEngine, compiled_roadrunner
from igfsim.model import read_cache, sbml

TINY = "model tinycache\n compartment c = 1\n species A in c, B in c\n J1: A -> B; c*k*A\n k = 0.1\n A = 10\nend\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("IGFSIM_CACHE_DIR", str(folder))
    return folder


def _states(folder):
    return sorted(folder.glob("roadrunner-*.rrstate"))


def test_a_compiled_model_is_saved_and_loaded_instead_of_compiled_again(cache, monkeypatch, tiny_model):
    built = compiled_roadrunner(tiny_model.sbml, "tiny")
    (state,) = _states(cache)
    assert digest_file(state).is_file() and (cache.stat().st_mode & 0o777) == 0o700

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled again")

    loaded = []
    monkeypatch.setattr(roadrunner_ode, "_from_state", lambda s: loaded.append(s) or _real_from_state(s))
    import roadrunner

    real_class = roadrunner.RoadRunner
    monkeypatch.setattr(roadrunner, "RoadRunner", lambda *a: real_class() if not a else no_compiling())
    again = compiled_roadrunner(tiny_model.sbml, "tiny")
    assert loaded == [state.read_bytes()]
    for rr in (built, again):
        rr.resetToOrigin()
    np.testing.assert_array_equal(built.simulate(0, 10, 11), again.simulate(0, 10, 11))


_real_from_state = roadrunner_ode._from_state


@pytest.mark.parametrize("damage", ["planted", "cut", "no digest"])
def test_a_state_that_does_not_match_its_digest_is_never_loaded(cache, monkeypatch, tiny_model, damage):
    compiled_roadrunner(tiny_model.sbml, "tiny")
    (state,) = _states(cache)
    good = state.read_bytes()
    if damage == "planted":
        state.write_bytes(b"\x00igfsim test: not a state" + good[100:])
    elif damage == "cut":
        state.write_bytes(good[: len(good) // 2])
    else:
        digest_file(state).unlink()
    loaded = []
    monkeypatch.setattr(roadrunner_ode, "_from_state", lambda s: loaded.append(s) or _real_from_state(s))
    rr = compiled_roadrunner(tiny_model.sbml, "tiny")  # built again, and saved whole
    assert loaded == [] and rr.simulate(0, 1, 2).shape == (2, 3)
    assert state.read_bytes() != b"" and digest_file(state).is_file()
    assert roadrunner_ode.read_verified(state) is not None


def test_an_unsafe_cache_folder_is_refused(tmp_path, monkeypatch, tiny_model):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    monkeypatch.setenv("IGFSIM_CACHE_DIR", str(folder))
    with pytest.raises(igfsim.EngineUnavailableError, match="roadrunner engine will not load compiled models"):
        compiled_roadrunner(tiny_model.sbml, "tiny")


def test_workers_adopt_the_compiled_state_and_simulate_the_same(cache, tiny_model):
    parent, worker = RoadRunnerEngine(), RoadRunnerEngine()
    worker.adopt(tiny_model, parent.compiled_state(tiny_model))
    p = protocol(np.linspace(0, 5, 6), ("A", "B"))
    np.testing.assert_array_equal(parent.simulate(tiny_model, p), worker.simulate(tiny_model, p))


def test_a_model_text_is_read_once_per_machine(cache, monkeypatch):
    sbml._load_cached.cache_clear()
    first = igfsim.load_model_string(TINY, "tinycache")
    (stored,) = cache.glob("model-*.json")
    assert digest_file(stored).is_file()
    sbml._load_cached.cache_clear()

    def no_reading(*args):
        raise AssertionError("read again")

    monkeypatch.setattr(sbml, "_compile_antimony", no_reading)
    monkeypatch.setattr(sbml, "_introspect", no_reading)
    second = igfsim.load_model_string(TINY, "tinycache")
    assert (second.sbml, dict(second.species), dict(second.parameters)) == (
        first.sbml,
        dict(first.species),
        dict(first.parameters),
    )
    stored.write_bytes(stored.read_bytes().replace(b"tinycache", b"tampered!"))
    sbml._load_cached.cache_clear()
    monkeypatch.undo()
    monkeypatch.setenv("IGFSIM_CACHE_DIR", str(cache))
    assert igfsim.load_model_string(TINY, "tinycache").sbml == first.sbml  # read again: the digest failed
    sbml._load_cached.cache_clear()


def test_texts_that_depend_on_other_files_are_not_cached(cache):
    assert read_cache.cached('import "other.ant"\n' + TINY) is None
    read_cache.store('import "other.ant"\n' + TINY, read_cache.ModelText("<sbml/>", {}, {}, [], {}))
    read_cache.store('<sbml xmlns:comp="x"/>', read_cache.ModelText("<sbml/>", {}, {}, [], {}))
    assert not list(cache.glob("model-*.json"))
