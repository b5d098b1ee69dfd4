"""File helpers shared by the upload jobs and the training data's provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20  # read a megabyte at a time: memory stays flat for any file size


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for block in iter(lambda: src.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
