"""The labelled faithfulness set built from ../shared (eval.faithfulness_set): the same
set every time, split by article, every type present, no verbatim copies labelled
supported. Skipped with a message where ../shared is absent."""

from __future__ import annotations

import pytest

from eval import data
from eval import faithfulness_set as fs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def small_set() -> list[fs.Item]:
    why = data.absent(*fs.inputs())
    if why:
        pytest.skip(why)
    return fs.build(scale=0.05)


def test_the_set_is_deterministic(small_set: list[fs.Item]) -> None:
    assert fs.build(scale=0.05) == small_set


def test_the_set_is_split_by_article_and_has_every_type(small_set: list[fs.Item]) -> None:
    halves: dict[tuple[str, str], set[str]] = {}
    for item in small_set:
        halves.setdefault((item.corpus, item.article), set()).add(item.half)
    assert all(len(h) == 1 for h in halves.values())  # never by sentence
    assert {item.half for item in small_set} == {fs.TUNING, fs.HELDOUT}
    assert {item.corpus for item in small_set} == {"pages", "crud", "rgb"}
    assert set(fs.UNSUPPORTED_TYPES) <= {item.type for item in small_set}
    pages = {item.article: item.half for item in small_set if item.corpus == "pages"}
    assert sorted(pages.values()) == [fs.HELDOUT, fs.TUNING]  # one sample page in each


def test_no_supported_sentence_is_a_verbatim_copy(small_set: list[fs.Item]) -> None:
    for item in small_set:
        if item.supported:
            assert item.sentence not in item.passage, item
            assert item.type == "paraphrase"
