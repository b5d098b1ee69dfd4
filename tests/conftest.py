"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.config import apply_offline_env

apply_offline_env()  # tests never reach a model hub


@pytest.fixture(scope="session")
def tiny_st_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a tiny random sentence-transformers model (32-d)."""
    # tests/ is on sys.path under pytest's default (prepend) import mode.
    from tiny_models import build_tiny_sentence_transformer

    return build_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-st") / "model")


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a tiny random CrossEncoder (one label)."""
    from tiny_models import build_tiny_cross_encoder

    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce") / "model")
