"""Where the bundled model, scenarios and sweeps live: a source checkout first, then the installed copy.

A checkout is a folder with igfsim's ``pyproject.toml``, ``models/`` and ``scenarios/``: the one that
holds the working folder (so edits there are what igfsim reads after a plain ``pip install .``), else
the one the package was installed from in editable mode. Without a checkout, the copies installed
with the package (``igfsim/_bundled``) are used. :func:`where` says which one a path is.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent
_INSTALLED = _PKG / "_bundled"


def _is_checkout(folder: Path) -> bool:
    project = folder / "pyproject.toml"
    if not (project.is_file() and (folder / "models").is_dir() and (folder / "scenarios").is_dir()):
        return False
    try:
        return tomllib.loads(project.read_text(encoding="utf-8")).get("project", {}).get("name") == "igfsim"
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


@lru_cache(maxsize=8)
def _checkout_from(cwd: Path) -> Path | None:
    for folder in (cwd, *cwd.parents, _PKG.parents[1]):
        if _is_checkout(folder):
            return folder
    return None


def checkout_root() -> Path | None:
    """The igfsim source checkout holding the working folder (or the editable install's), or None."""
    return _checkout_from(Path.cwd().resolve())


def _bundled(*parts: str) -> Path:
    root = checkout_root()
    if root is not None and (root / Path(*parts)).exists():
        return root / Path(*parts)
    return _INSTALLED / Path(*parts)


def where(path: str | Path) -> str:
    """``path`` in words: which copy of the bundled files it is (for "reading ..." lines)."""
    p = Path(path).resolve()
    root = checkout_root()
    if root is not None and p.is_relative_to(root):
        return f"{p} (checkout {root})"
    if p.is_relative_to(_INSTALLED):
        return f"{p} (installed copy)"
    return str(p)


def bundled_model_path() -> Path:
    """Path of ``models/igf1r.antimony``."""
    return _bundled("models", "igf1r.antimony")


def bundled_scenarios_dir() -> Path:
    """Folder holding the bundled scenario files."""
    return _bundled("scenarios")


def bundled_sweeps_dir() -> Path:
    """Folder holding the bundled sweep files."""
    return _bundled("sweeps")


def bundled_validation_dir() -> Path:
    """Folder holding the validation suite (published observations the model was not tuned to)."""
    return _bundled("validation")


def bundled_bnet_path() -> Path:
    """Path of ``models/igf1r.bnet``, the logical model."""
    return _bundled("models", "igf1r.bnet")


def private_folder(folder: Path) -> str | None:
    """Create ``folder`` (mode 0700) if needed; why it is unsafe to load compiled code from, or None.

    Compiled models (the scipy engine's libraries, AMICI's modules) run inside igfsim, so their folder
    must be a real directory (not a symlink) that belongs to this user and that nobody else may write.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = folder.lstat()
    except OSError as err:
        return f"cannot create it ({err.strerror or err})"
    if not folder.is_dir() or folder.is_symlink():
        return "it is not a directory (a symlink or a file)"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it belongs to another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"others may write to it (mode {oct(st.st_mode & 0o777)})"
    return None
