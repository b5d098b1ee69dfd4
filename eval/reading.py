"""Reading-comprehension adapters for `rag eval` and the CI gate: ``drcd:test`` (zh-Hant)
and ``cmrc:test`` (zh-Hans), the held-out articles of the learned answerer's split.

The store holds every paragraph of the set (as articles, title = the Wikipedia article)
except the articles of one removal fold; the items are the questions of the ``test``
split's articles: answerable when their article is in the store, unanswerable (same-topic
passages remain) when it was removed. Splits and folds are eval/answerer_data.py's, so
these questions are ones the answerer was never fitted or calibrated on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from eval import data
from eval.answerer_data import FOLDS, bucket, inputs, split_of
from eval.sets_io import EvalItem

if TYPE_CHECKING:
    from rag.core.config import Settings

SETS = ("drcd:test", "cmrc:test")
REMOVED_FOLD = 0  # the articles left out of the store (about a quarter)


def items_and_records(name: str, limit: int | None) -> tuple[list[EvalItem], list[dict]]:
    """The eval items of ``name`` ("drcd:test"...) and the records of its store. With
    ``limit``, every n-th question, so answerable and unanswerable keep their shares."""
    if name not in SETS:
        raise ValueError(f"unknown reading set {name!r}; choose from {', '.join(SETS)}")
    source, split = name.split(":")
    articles = data.load_squad(inputs(source))
    removed = {a.aid for a in articles if bucket(a.aid, "fold", FOLDS) == REMOVED_FOLD}
    records = [
        {"id": p.pid, "title": a.title, "text": p.text}
        for a in articles
        if a.aid not in removed
        for p in a.paragraphs
    ]
    lang = "zh-Hant" if source == "drcd" else "zh-Hans"
    items = []
    for article in articles:
        if split_of(article.aid) != split:
            continue
        for paragraph in article.paragraphs:
            for qa in paragraph.questions:
                item = EvalItem(
                    qa.question,
                    f"{source}-{qa.qid}",
                    facts=[list(qa.answers)],
                    answerable=article.aid not in removed,
                )
                item.extra = {"lang": lang, "kind": name}
                items.append(item)
    if limit and len(items) > limit:
        step = len(items) / limit
        items = [items[int(k * step)] for k in range(limit)]
    return items, records


def ingest_records(
    records: list[dict], settings: Settings, workdir: Path, log: Callable[[str], None]
) -> None:
    from ingest.pipeline import ingest

    path = workdir / "reading.jsonl"
    data.write_jsonl(path, records)
    log(f"ingesting {len(records)} paragraphs into {settings.db} ...")
    report = ingest([path], settings)
    if report.failed or report.conflicts:
        log(f"{len(report.failed)} failed, {len(report.conflicts)} conflicts")
