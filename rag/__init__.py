"""Grounded, cited question answering over news articles.

``from rag import ask, Assistant`` — imported lazily so ``import rag`` (and ``rag --help``)
stays instant.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Assistant", "ask"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from rag import assistant

        return getattr(assistant, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
