"""Start-up tables derived from the Unicode database and OpenCC, cached on disk.

Building the per-code-point folding tables loops over all 65,536 BMP characters in
Python (7-45 ms each on a quiet machine, several times that under load) and parsing
jieba's IDF file takes ~0.16 s; loading them back takes 5-70 ms. A cached table is
keyed by what it is computed from (``cache_key``): its builder's source, Python's
Unicode version, the installed OpenCC and whatever else the caller names (an input
file's size and mtime), so a change to any of them builds it anew; the entry it
replaces is deleted.
"""

from __future__ import annotations

import hashlib
import inspect
import marshal
import os
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

KEY_LENGTH = 16  # hex digits of a cache key (64 bits of sha256)


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/newsrag, else ~/.cache/newsrag."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsrag"


@lru_cache(maxsize=1)
def inputs() -> str:
    """Python's Unicode version and OpenCC's version: what folding depends on beside our
    code. Versions, not install paths or file times: two virtualenvs with the same
    OpenCC share the cache and an on-disk index instead of rebuilding each other's."""
    try:
        import opencc
    except ImportError:
        return f"{unicodedata.unidata_version}|no-opencc"
    return f"{unicodedata.unidata_version}|opencc-{getattr(opencc, '__version__', '?')}"


def cache_key(build: Callable[[], object], *extra: object) -> str:
    """What ``build()`` computes from: its name and source, Unicode and OpenCC
    (``inputs``) and ``extra`` (what else it reads: a helper's inputs, a file's stat).
    Not the code object: the repr of a nested comprehension's code carries its memory
    address, which made every process miss the cache."""
    identity = (build.__module__, build.__qualname__, inspect.getsource(build), inputs(), extra)
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:KEY_LENGTH]


def _save(path: Path, write: Callable[[object], None]) -> None:
    """Write a cache file whole or not at all, and delete the entries of the same name
    it replaces (other keys: an older build); a read-only home builds again next time."""
    name = path.name.rsplit("-", 1)[0]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            write(handle)
        os.replace(tmp, path)
        # Exactly "<name>-<key><suffix>": a table named "<name>-more" is another table.
        for old in path.parent.glob(f"{name}-{'[0-9a-f]' * KEY_LENGTH}{path.suffix}"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def cached(
    name: str, build: Callable[[], tuple[np.ndarray, ...]], *extra: object
) -> tuple[np.ndarray, ...]:
    """``build()``'s arrays, from the cache when an identical build was saved before;
    ``extra`` joins the key."""
    path = cache_dir() / f"{name}-{cache_key(build, *extra)}.npz"
    try:
        with np.load(path, allow_pickle=False) as saved:
            return tuple(saved[f"a{i}"] for i in range(len(saved.files)))
    except (OSError, ValueError, KeyError):
        pass
    arrays = build()
    _save(path, lambda handle: np.savez(handle, **{f"a{i}": a for i, a in enumerate(arrays)}))
    return arrays


def cached_value(name: str, build: Callable[[], Any], *extra: object) -> Any:
    """``build()``'s value (built-in types only: it is stored with marshal), from the
    cache when an identical build was saved before; ``extra`` joins the key."""
    path = cache_dir() / f"{name}-{cache_key(build, *extra)}.marshal"
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        pass
    value = build()
    _save(path, lambda handle: handle.write(marshal.dumps(value)))
    return value
