"""Start-up tables derived from the Unicode database and OpenCC, cached on disk.

Building the per-code-point folding tables loops over all 65,536 BMP characters in
Python (about 0.5 s each, on every cold start); loading them back is a millisecond.
A cached table is keyed by what it is computed from: its builder's code, Python's
Unicode version and the installed OpenCC, so a change to any of them builds it anew.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/newsrag, else ~/.cache/newsrag."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsrag"


@lru_cache(maxsize=1)
def _inputs() -> str:
    """Python's Unicode version and the installed OpenCC (its module file's size and
    mtime: importlib.metadata scans every installed package, ~0.3 s)."""
    spec = importlib.util.find_spec("opencc")
    if spec is None or spec.origin is None:
        return f"{unicodedata.unidata_version}|no-opencc"
    stat = Path(spec.origin).stat()
    return f"{unicodedata.unidata_version}|{spec.origin}|{stat.st_size}|{stat.st_mtime_ns}"


def cached(name: str, build: Callable[[], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """``build()``'s arrays, from the cache when an identical build was saved before."""
    code = build.__code__
    key = hashlib.sha256(
        repr((code.co_code, code.co_consts, code.co_names, _inputs())).encode()
    ).hexdigest()[:16]
    path = cache_dir() / f"{name}-{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as saved:
            return tuple(saved[f"a{i}"] for i in range(len(saved.files)))
    except (OSError, ValueError, KeyError):
        pass
    arrays = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            np.savez(handle, **{f"a{i}": a for i, a in enumerate(arrays)})
        os.replace(tmp, path)
    except OSError:  # a read-only home: build again next time
        pass
    return arrays
