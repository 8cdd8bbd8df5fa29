"""Old module paths that moved in 0.2.0, kept importable (with a DeprecationWarning) for one release.

``import igfsim.doseresponse`` gives the module now at ``igfsim.analysis.doseresponse``: the same
module object, so functions, classes and ``isinstance`` checks are shared between both names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

#: old dotted path -> new dotted path (modules that moved whole; ``igfsim.protocol`` was split in two
#: and is not here: ``igfsim.engines.protocol`` and ``igfsim.scenario.translate``). The new paths are
#: named as strings, so this bottom-layer module imports nothing above it until an old path is used.
MOVED = {
    "igfsim.doseresponse": "igfsim.analysis.doseresponse",
    "igfsim.synergy": "igfsim.analysis.synergy",
    "igfsim.sensitivity": "igfsim.analysis.sensitivity",
    "igfsim.consistency": "igfsim.analysis.consistency",
    "igfsim.sweep_plots": "igfsim.report.sweep_plots",
    "igfsim.drugs": "igfsim.scenario.drugs",
    "igfsim.contexts": "igfsim.scenario.contexts",
    "igfsim.readouts": "igfsim.scenario.readouts",
    "igfsim.sweep_design": "igfsim.sweep.spec",
    "igfsim.sweep_store": "igfsim.sweep",
    "igfsim.outputs": "igfsim.report.outputs",
    "igfsim.mechanisms": "igfsim.report.mechanisms_doc",
    "igfsim.report_inputs": "igfsim.report.inputs",
    "igfsim.report_figures": "igfsim.report.figures",
    "igfsim.html_report": "igfsim.report.html",
    "igfsim.export_sedml": "igfsim.export.sedml",
    "igfsim.export_petab": "igfsim.export.petab",
    "igfsim.engines.bnet": "igfsim.model.bnet",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves an old path to the module at its new path (found only for names in :data:`MOVED`)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; import it from there (the old path goes in 0.3.0)",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(new)
        self._spec = module.__spec__  # the import system overwrites __spec__; exec_module puts it back
        return module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self._spec


def install() -> None:
    """Add the finder once (idempotent)."""
    if not any(isinstance(f, _MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
