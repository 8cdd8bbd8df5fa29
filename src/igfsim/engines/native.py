"""Small C libraries the engines build with the system compiler, kept in the private engine cache.

:func:`compile_into` compiles a translation unit and stores the library with its digest
(:func:`igfsim.cache.write_verified`); :func:`verified_copy` hands out a private copy of a stored
library whose bytes match its digest, for ``ctypes`` to load (so the file checked is the file
loaded). The scipy engine's models and the Boolean engine's update kernel are built this way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from igfsim.cache import CACHE_ENV, read_verified, write_verified
from igfsim.errors import EngineUnavailableError

CFLAGS = ("-O2", "-shared", "-fPIC")
T = TypeVar("T")


def find_compiler() -> str | None:
    """``$CC``, else the first of cc, gcc, clang on the PATH."""
    cands = [os.environ["CC"]] if os.environ.get("CC") else ["cc", "gcc", "clang"]
    return next((shutil.which(c) for c in cands if shutil.which(c)), None)


@contextmanager
def verified_copy(lib: Path) -> Iterator[Path | None]:
    """A private copy of ``lib`` to load while the block runs, or None when ``lib`` is missing or its
    bytes do not match its digest (planted, damaged, half-written: never loaded)."""
    data = read_verified(lib)
    if data is None:
        yield None
        return
    fd, copy = tempfile.mkstemp(prefix=".load-", suffix=".so", dir=lib.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield Path(copy)
    finally:
        Path(copy).unlink(missing_ok=True)


def compile_into(lib: Path, source: str, cc: str, engine: str, args: tuple[str, ...] = ()) -> None:
    """Compile ``source`` with ``cc`` (and ``args``: include and library options) and store the library
    at ``lib`` (with its digest)."""
    try:
        with tempfile.TemporaryDirectory(dir=lib.parent) as tmp:
            src, out = Path(tmp) / "unit.c", Path(tmp) / "unit.so"
            src.write_text(source, encoding="utf-8")
            command = [cc, *CFLAGS, "-o", str(out), str(src), *args, "-lm"]
            run = subprocess.run(command, capture_output=True, text=True)
            if run.returncode != 0:
                raise EngineUnavailableError(
                    f"the {engine} engine could not compile its C code with {cc}: "
                    f"{(run.stderr or run.stdout).strip()[:2000]}"
                )
            write_verified(lib, out.read_bytes())
    except OSError as err:
        raise EngineUnavailableError(
            f"the {engine} engine cannot build its library in {lib.parent} ({err}); "
            f"set {CACHE_ENV} to a writable folder"
        ) from None


def load_or_build(lib: Path, load: Callable[[Path], T | None], build: Callable[[], None], engine: str) -> T:
    """``load(lib)`` of the stored library; when there is none, or it does not verify, ``build()`` stores
    it (:func:`compile_into`) and it is loaded again. ``load`` returns None for a missing or unverified
    library (read it through :func:`verified_copy`)."""
    found = load(lib) if lib.exists() else None
    if found is None:
        build()
        found = load(lib)
        if found is None:
            raise EngineUnavailableError(f"the {engine} engine's library {lib} changed while it was being built")
    return found
