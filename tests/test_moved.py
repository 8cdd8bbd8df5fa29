"""Names that moved in 0.2.0 still import from their 0.1 places, with a DeprecationWarning naming the new one."""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import version

import pytest

import igfsim
from igfsim._moved import MOVED


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_old_module_path_is_the_new_module_and_warns(old, new):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=rf"{old} moved to {new}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__spec__.name == new  # the real module keeps its own identity (pickling, reload)


def test_old_from_import_forms_still_work():
    sys.modules.pop("igfsim.doseresponse", None)
    with pytest.warns(DeprecationWarning):
        from igfsim.doseresponse import fit_hill
    from igfsim.analysis.hill import fit_hill as new

    assert fit_hill is new


def test_a_name_that_never_existed_is_not_invented():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("igfsim.no_such_module")


def test_renamed_attributes_warn_and_give_the_new_values():
    drug = igfsim.find_drug("cixutumumab")
    with pytest.warns(DeprecationWarning, match="mode_of_action"):
        assert drug.mechanism is drug.mode_of_action
    from igfsim import scenario

    with pytest.warns(DeprecationWarning, match="ResistanceMechanism"):
        assert scenario.Mechanism is scenario.ResistanceMechanism
    with pytest.raises(AttributeError):
        _ = scenario.NoSuchName


def test_one_version_source():
    assert igfsim.__version__ == version("igfsim")
