"""Loading local models (sentence-transformers embedders and cross-encoders) on CPU,
from a folder or the local Hugging Face cache only: nothing is ever downloaded.

The embedder, the reranker and the NLI judge all load through ``load_model``, so a
missing or broken model fails the same way everywhere: at once, with a message naming
the model and what to do. sentence-transformers (and torch) are imported only here and
only when a model is loaded, so ``rag --help`` stays instant.

Going offline (``HF_HUB_OFFLINE`` and the rest of ``config.OFFLINE_ENV``) is the entry
point's job, before huggingface_hub is imported: the hub reads it once, at import, and
even with ``local_files_only`` it otherwise calls home (measured: huggingface_hub asks
huggingface.co for its agent registry while loading a local folder).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

Kind = Literal["sentence-transformer", "cross-encoder"]


class ModelUnavailable(RuntimeError):
    """A requested model is not on this machine, or is not a usable model."""


def is_local_path(spec: str) -> bool:
    """True when spec names a filesystem path rather than a Hugging Face model id."""
    return spec.startswith((".", "/", "~")) or os.path.isdir(os.path.expanduser(spec))


def model_available(name_or_path: str) -> bool:
    """True when the model is a local directory or already in the local HF cache."""
    if is_local_path(name_or_path):
        return Path(name_or_path).expanduser().is_dir()
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(name_or_path, local_files_only=True)
    except Exception:  # not cached, malformed name, partial download: all "not here"
        return False
    return True


def unavailable_message(what: str, name: str, hint: str = "") -> str:
    """What to say about a model that is not on this machine, and what to do instead."""
    return (
        f"{what} {name!r} is not available locally, and models are never downloaded "
        "implicitly. Give the path of a local model directory, or put the model in the "
        f"Hugging Face cache beforehand (while online){hint}."
    )


def load_model(
    kind: Kind,
    name: str,
    *,
    what: str,
    hint: str = "",
    error: type[Exception] = ModelUnavailable,
    **options: Any,
) -> tuple[Any, str]:
    """(model, name) for the local model ``name`` of ``kind``, on CPU; a local folder's
    name comes back absolute, so a recorded config rebuilds it from any directory.

    ``error`` (built from one message) is raised when the model is not on this machine
    or cannot be loaded; ``what`` names the model in it ("Embedding model") and ``hint``
    ends it with what to do instead. ``options`` go to the model class (``max_length``).
    """
    if not model_available(name):
        raise error(unavailable_message(what, name, hint))
    if is_local_path(name):
        name = str(Path(name).expanduser().resolve())
    if kind == "sentence-transformer":
        from sentence_transformers import SentenceTransformer as model_class
    else:
        from sentence_transformers import CrossEncoder as model_class
    try:
        model = model_class(name, device="cpu", local_files_only=True, **options)
    except Exception as exc:  # a cache entry or directory that is not a usable model
        raise error(f"{what} {name!r} could not be loaded: {exc}") from exc
    return model, name
