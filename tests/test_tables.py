"""The start-up table cache (rag/core/tables.py): one key per build, in every process."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rag.core import tables

pytestmark = pytest.mark.integration  # subprocesses

KEY_OF_FOLD_TABLE = (
    "from rag.core.tables import cache_key; from rag.core.lexical import _build_fold_table; "
    "print(cache_key(_build_fold_table))"
)


def test_a_builder_has_the_same_key_in_every_process() -> None:
    """_build_fold_table holds a list comprehension: keyed by its code object's repr, each
    process got another key (a memory address) and rebuilt the table on every cold start."""
    keys = {
        subprocess.run(
            [sys.executable, "-c", KEY_OF_FOLD_TABLE], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(keys) == 1 and len(keys.pop()) == 16


def _squares() -> tuple[np.ndarray]:
    return (np.arange(5) ** 2,)


def _word_count() -> dict[str, int]:
    return {"晶片": 2, "chip": 1}


def test_cached_values_round_trip_and_extra_inputs_change_the_key(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tables.cached("squares", _squares)[0].tolist() == [0, 1, 4, 9, 16]
    assert tables.cached("squares", _squares)[0].tolist() == [0, 1, 4, 9, 16]  # from disk
    assert tables.cached_value("words", _word_count, 1) == {"晶片": 2, "chip": 1}
    assert tables.cached_value("words", _word_count, 1) == {"晶片": 2, "chip": 1}
    first = {p.name for p in (tmp_path / "newsrag").iterdir()}
    tables.cached_value("words", _word_count, 2)  # another input file size: another key
    now = {p.name for p in (tmp_path / "newsrag").iterdir()}
    assert sorted(n.split("-")[0] for n in now) == ["squares", "words"]  # replaced, not kept
    assert len(now - first) == 1 and len(first - now) == 1
    assert tables.cache_key(_word_count, 1) != tables.cache_key(_word_count, 2)
    assert tables.cache_key(_squares) != tables.cache_key(_word_count)


def test_replacing_an_entry_keeps_tables_whose_names_extend_its_name(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tables.cached("squares-more", _squares)
    tables.cached("squares", _squares, 1)
    tables.cached("squares", _squares, 2)  # replaces "squares" only
    names = sorted(p.name.rsplit("-", 1)[0] for p in (tmp_path / "newsrag").iterdir())
    assert names == ["squares", "squares-more"]
