"""RGB zh adapters: an RGB file -> a passage corpus (ingested as jsonl with ids) and eval
items whose ``evidence`` names the positive passages.

- ``rgb:zh_refine``: noise robustness; positives and negatives of the questions form one
  corpus.
- ``rgb:zh_refine:distractors``: negative rejection; negatives only, every question
  should be refused.
- ``rgb:zh_int``: information integration; one evidence entry per fact group, so
  recall@k is the share of the needed groups retrieved.
- ``rgb:zh_fact``: counterfactual robustness; ``positive_wrong`` passages (holding the
  fake fact) plus the true positives; ``fake_facts`` lets the metrics count answers that
  flag the conflict.
- ``rgb:zh_fact:true`` and ``rgb:zh_fact:distractors``: zh_fact's questions as plain news
  questions (none shared with zh_refine, and never fitted on by the learned answerer):
  true positives and negatives (answer), and negatives only (refuse). The edited
  passages are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from eval import data
from eval.sets_io import EvalItem, as_alternatives

if TYPE_CHECKING:
    from rag.core.config import Settings

TASKS = (
    "zh_refine",
    "zh_refine:distractors",
    "zh_int",
    "zh_fact",
    "zh_fact:true",
    "zh_fact:distractors",
)


@dataclass
class RgbCorpus:
    """Passages to ingest (id -> text) and the items that refer to them by id."""

    task: str
    pool: data.PassagePool = field(default_factory=data.PassagePool)
    items: list[EvalItem] = field(default_factory=list)

    def add(self, text: str) -> str:
        """Id of ``text`` in the corpus (identical passages are stored once)."""
        return f"rgb-{self.pool.add(text)}"

    @property
    def passages(self) -> dict[str, str]:
        """Passage id -> text, in the order the passages were first added."""
        return {f"rgb-{i}": text for i, text in enumerate(self.pool.texts)}


def build(task: str, rows: list[dict]) -> RgbCorpus:
    """The corpus and items of an RGB task over ``rows`` (already limited)."""
    if task not in TASKS:
        raise ValueError(f"unknown RGB task {task!r}; choose from {', '.join(TASKS)}")
    corpus = RgbCorpus(task)
    for row in rows:
        base = {"id": f"{task.split(':')[0]}-{row['id']}", "lang": "zh-Hans", "kind": task}
        facts = as_alternatives(row["answer"])
        if task in ("zh_refine", "zh_fact:true"):
            pos = [corpus.add(p) for p in row["positive"]]
            for p in row["negative"]:
                corpus.add(p)
            item = EvalItem(row["query"], base["id"], facts=facts, evidence=[[i] for i in pos])
        elif task in ("zh_refine:distractors", "zh_fact:distractors"):
            for p in row["negative"]:
                corpus.add(p)
            item = EvalItem(row["query"], base["id"], facts=facts, answerable=False)
        elif task == "zh_int":
            groups = [g if isinstance(g, list) else [g] for g in row["positive"]]
            evidence = [[corpus.add(p) for p in g] for g in groups if g]
            for p in row["negative"]:
                corpus.add(p)
            item = EvalItem(row["query"], base["id"], facts=facts, evidence=evidence)
        else:  # zh_fact
            for p in row["positive_wrong"]:
                corpus.add(p)
            pos = [corpus.add(p) for p in row["positive"]]
            item = EvalItem(
                row["query"],
                base["id"],
                facts=facts,
                evidence=[[i] for i in pos],
                fake_facts=as_alternatives(row["fakeanswer"]),
            )
        item.extra = {"lang": base["lang"], "kind": base["kind"]}
        corpus.items.append(item)
    return corpus


def write_jsonl(corpus: RgbCorpus, path: Path) -> dict[int, str]:
    """Write the passages as ingest jsonl; return line number -> passage id."""
    passages = corpus.passages
    data.write_jsonl(path, ({"id": pid, "text": text} for pid, text in passages.items()))
    return dict(enumerate(passages, start=1))


def ingest_corpus(
    corpus: RgbCorpus,
    settings: Settings,
    workdir: Path,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, str]:
    """Ingest the passages into ``settings``' store; return passage id -> store doc_id,
    and rewrite the items' evidence to doc ids (so a hit's doc_id identifies positives)."""
    from ingest.pipeline import ingest
    from rag.core.store import Store

    path = (workdir / f"rgb-{corpus.task.replace(':', '-')}.jsonl").resolve()
    lines = write_jsonl(corpus, path)
    log(f"ingesting {len(lines)} RGB passages ({corpus.task}) into {settings.db} ...")
    report = ingest([path], settings)
    if report.failed:
        log(f"{len(report.failed)} passages failed to ingest: {report.failed[0].error}")
    doc_of: dict[str, str] = {}
    prefix = f"{path}:"
    for record in Store.open(settings).doc_records().values():
        if record.path.startswith(prefix):
            doc_of[lines[int(record.path[len(prefix) :])]] = record.doc_id
    for where, doc_id in report.duplicate_of:  # same content as an earlier passage
        if where.startswith(prefix):
            doc_of[lines[int(where[len(prefix) :])]] = doc_id
    for item in corpus.items:
        item.evidence = [[doc_of.get(a, a) for a in aliases] for aliases in item.evidence]
    return doc_of
