"""An on-disk cache of what reading a model text produces (its SBML and the ids it declares).

Translating Antimony and reading SBML with libsbml cost about 0.9 s CPU per process on the bundled
model (importing libsbml alone 0.35 s); the result depends only on the text and the versions of the
two libraries, so it is kept in the engine cache folder (:mod:`igfsim.cache`: private, each file
checked against its digest), as JSON. Texts whose meaning depends on other files (Antimony
``import``, hierarchical SBML with external definitions) are never cached.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import suppress
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from igfsim.cache import private_cache, read_verified, write_verified
from igfsim.errors import IgfsimError

#: bump when what is stored changes
FORMAT = "1"
_DEPENDS_ON_FILES = re.compile(r'^\s*import\s+"|xmlns:comp=', re.MULTILINE)


@dataclass(frozen=True)
class ModelText:
    """What a model text declares, as :func:`igfsim.model.sbml.load_model` reads it."""

    sbml: str
    species: dict[str, str]
    parameters: dict[str, float]
    assigned: list[str]
    compartments: dict[str, float]


def _path(text: str) -> Path | None:
    if _DEPENDS_ON_FILES.search(text):
        return None
    try:
        versions = [metadata.version(p) for p in ("antimony", "python-libsbml")]
        folder = private_cache("model reader")
    except (metadata.PackageNotFoundError, IgfsimError):
        return None
    key = hashlib.sha256("\0".join(["model-text", FORMAT, *versions, text]).encode()).hexdigest()
    return folder / f"model-{key[:40]}.json"


def cached(text: str) -> ModelText | None:
    """The stored reading of ``text``, if there is one."""
    path = _path(text)
    data = read_verified(path) if path is not None else None
    if data is None:
        return None
    try:
        return ModelText(**json.loads(data))
    except (ValueError, TypeError):
        return None


def store(text: str, read: ModelText) -> None:
    """Keep ``read`` for the next process (silently skipped when the folder cannot be written)."""
    path = _path(text)
    if path is not None:
        with suppress(OSError):
            write_verified(path, json.dumps(asdict(read)).encode())
