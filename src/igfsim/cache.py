"""The folder where engines keep compiled models between processes, and verified reads and writes.

A compiled model is code that runs inside igfsim (a shared library, a libRoadRunner state with its
machine code), so the folder must be private (:func:`igfsim.resources.private_folder`) and every
file is written beside a SHA-256 digest of its bytes; a file is used only when the bytes read match
that digest, and those very bytes are what is loaded (nothing is read twice).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from igfsim.errors import EngineUnavailableError
from igfsim.resources import private_folder

#: environment variable naming the folder of compiled models (default: a per-user temp folder)
CACHE_ENV = "IGFSIM_CACHE_DIR"


def cache_dir() -> Path:
    """Folder of compiled models: ``$IGFSIM_CACHE_DIR`` or ``<tmp>/igfsim-<uid>``."""
    env = os.environ.get(CACHE_ENV)
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"igfsim-{user}"


def private_cache(engine: str) -> Path:
    """:func:`cache_dir`, created 0700 and checked: mine, a real directory, writable by me only."""
    folder = cache_dir()
    if problem := private_folder(folder):
        raise EngineUnavailableError(
            f"the {engine} engine will not load compiled models from {folder}: {problem}; "
            f"set {CACHE_ENV} to a folder of your own"
        )
    return folder


def digest_file(path: Path) -> Path:
    """Where the digest of ``path`` is kept."""
    return path.with_name(path.name + ".sha256")


def read_verified(path: Path) -> bytes | None:
    """The bytes of ``path`` if they match the digest written with them; None otherwise (missing,
    planted, damaged or half-written: the caller builds the model again)."""
    try:
        data = path.read_bytes()
        expected = digest_file(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return data if hashlib.sha256(data).hexdigest() == expected else None


def write_verified(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and its digest beside it, each through a temporary file and a rename,
    the digest first (a reader that sees the new file sees its digest). Raises OSError."""
    for target, content in ((digest_file(path), hashlib.sha256(data).hexdigest().encode("ascii")), (path, data)):
        fd, tmp = tempfile.mkstemp(prefix=".write-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
