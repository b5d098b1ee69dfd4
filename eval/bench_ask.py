"""The product's ask path, measured through the real pipeline: ingest -> Chroma -> Assistant.

Offline hash embedder, no LLM (extractive answerer), fresh stores in a temp dir.

1. RGB zh_refine (300 questions): every distinct passage (positives and negatives of all
   questions) is one jsonl record, ingested into a fresh store; each question goes through
   ``Assistant.ask``. Retrieval recall@k: one of the top-k contexts is a chunk of one of
   the question's positive passages (mapped by doc id). Accuracy: RGB's rule (every answer
   element, any alias, is in the answer text after ``fold``). False refusals.
2. Refusal: a store of the negative passages only (leaving out the few that are some other
   question's positive); the share of questions refused.
3. The LangChain tutorial retriever (langchain-chroma similarity top 4 over the same hash
   embedder, RecursiveCharacterTextSplitter 1000/200; eval/baseline_langchain.py) over the
   same passages: recall@1/@4, and accuracy of the same extractive answerer on its top 4.
4. Speed at ~20k chunks (the CRUD-RAG news, eval/data.py) and, with ``large``, ~100k
   chunks (RGB passages + the news five times, copies marked so their content differs):
   ingest time, ``retriever.search`` p50/p95, ``Assistant.ask`` p50, the LangChain
   retriever's latency on a store of the same passages, and ``rag ask --json`` batch mode
   (one subprocess fed 200 questions on stdin: wall time / 200, start-up included).

    python -m eval.bench_ask            # writes bench-results/ask.json
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import data
from eval.data import RgbPassages, write_jsonl
from eval.metrics import hit_rate, percentile, rgb_correct
from rag.core.config import OFFLINE_ENV, Settings
from rag.core.types import Answer, Hit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results" / "ask.json"
TOP_K = 5  # the product's default (Settings.top_k)
LC_K = 4  # the tutorial retriever's k
BATCH_QUESTIONS = 200
COPIES = 5  # CRUD news copies in the ~100k store
TARGETS = {
    "recall@1": 0.80,
    "recall@5": 0.98,
    "accuracy": 0.90,
    "false_refusal_rate": 0.05,  # an upper bound (strictly below)
    "correct_refusal_rate": 0.50,
    "retrieval_p95_ms_100k": 50.0,  # upper bound
    "batch_ms_per_question": 150.0,  # upper bound
}

Print = Callable[[str], None]


# -------------------------------------------------------------------- data


def passage_key(text: str) -> str:
    """The jsonl id of a passage: a hash of its text, so identical passages share one."""
    return "p" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def doc_id_of(record: dict, jsonl: Path, line: int) -> str:
    """The store doc id ingest gives record ``line`` (1-based) of ``jsonl``."""
    from ingest.models import RawDocument
    from ingest.pipeline import document_identity, page_from_record

    raw = RawDocument(path=str(jsonl), kind="jsonl", raw_hash="", record=record, line=line)
    return document_identity(page_from_record(record), raw)


def passage_records(rgb: RgbPassages, indices: Iterable[int] | None = None) -> Iterable[dict]:
    """jsonl records of the passages (all, or those at ``indices``), keyed by their text."""
    for i in range(len(rgb.texts)) if indices is None else indices:
        yield {"id": passage_key(rgb.texts[i]), "text": rgb.texts[i]}


def positive_keys(rgb: RgbPassages) -> list[set[str]]:
    """Each question's positives as jsonl record ids (the LangChain hits' doc ids)."""
    return [{passage_key(rgb.texts[i]) for i in pos} for pos in rgb.positives]


def copied_records(jsonl: Path, copies: int) -> Iterable[dict]:
    """The records of ``jsonl`` ``copies`` times; copy n > 0 gets a new id and a marker
    line at the end, so its content hash differs and ingest stores it again."""
    lines = [line for line in jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    for n in range(copies):
        for line in lines:
            record = json.loads(line)
            if n:
                record["id"] = f"{record['id']}-copy{n}"
                record["text"] = f"{record['text']}\n（副本{n}）"
            yield record


# -------------------------------------------------------------------- measuring


def build_store(jsonl: Path, db: Path) -> tuple[Settings, dict[str, Any]]:
    """Ingest ``jsonl`` into a fresh store at ``db`` (hash embedder); settings + summary
    (``duplicate_lines``: 1-based jsonl line -> the doc id ingest stored it as)."""
    from ingest.pipeline import ingest

    settings = Settings.from_env({}, db=db, embedder="hash")
    report = ingest([jsonl], settings)
    if report.failed:
        raise RuntimeError(f"ingest of {jsonl} failed for {len(report.failed)} inputs")
    return settings, {
        "documents": report.documents,
        "chunks": report.chunks,
        "duplicates": report.duplicates,
        "duplicate_lines": {int(w.rsplit(":", 1)[1]): d for w, d in report.duplicate_of},
        "ingest_s": round(report.seconds, 2),
        "chunks_per_s": round(report.chunks / report.seconds, 1) if report.seconds else None,
    }


def open_assistant(settings: Settings):  # type: ignore[no-untyped-def]  # -> Assistant
    """An Assistant over the store, its lexical index opened; (assistant, load seconds)."""
    from rag.assistant import Assistant

    assistant = Assistant(settings)
    started = time.perf_counter()
    assistant.retriever.refresh()  # the first search would open it: keep that apart
    return assistant, time.perf_counter() - started


def timed(fn: Callable[[str], Any], questions: Sequence[str]) -> tuple[list[Any], list[float]]:
    """Results of ``fn`` per question and the milliseconds each took."""
    out, times = [], []
    for question in questions:
        started = time.perf_counter()
        out.append(fn(question))
        times.append((time.perf_counter() - started) * 1000)
    return out, times


def warm(fn: Callable[[str], Any], question: str) -> float:
    """One untimed-in-the-figures call (lazy imports, jieba, caches); its milliseconds."""
    started = time.perf_counter()
    fn(question)
    return (time.perf_counter() - started) * 1000


def positive_docs(
    rgb: RgbPassages, jsonl: Path, duplicate_lines: dict[int, str], records: dict
) -> list[set[str]]:
    """Each question's positives as store doc ids; the passages are the first records of
    ``jsonl``, in ``rgb`` order.

    A passage that ingest found identical (title + text) to an earlier one was stored
    under that one's doc id.
    """
    doc_of = [
        duplicate_lines[line] if line in duplicate_lines else doc_id_of(record, jsonl, line)
        for line, record in enumerate(passage_records(rgb), start=1)
    ]
    missing = [doc for doc in doc_of if doc not in records]
    if missing:  # ingest's identity no longer holds here: every recall would be wrong
        raise RuntimeError(f"{len(missing)} RGB passages have no store record under their id")
    return [{doc_of[i] for i in pos} for pos in rgb.positives]


def answer_in(hits: Sequence[Hit], gold: list) -> bool:
    """Whether the hits' texts hold every answer element (the answerer's ceiling)."""
    return rgb_correct(gold, "\n".join(h.text for h in hits), refused=False)


def langchain_hits(store, question: str, k: int = LC_K) -> list[Hit]:  # type: ignore[no-untyped-def]
    """The tutorial retriever's top ``k`` as Hits (doc id = the jsonl record id)."""
    docs = store.similarity_search(question, k=k)
    hits = []
    for rank, doc in enumerate(docs, start=1):
        rid = str(doc.metadata.get("id", ""))
        text = doc.page_content
        hits.append(
            Hit(chunk_id=f"{rid}:{rank}", doc_id=rid, text=text, title="", end=len(text), rank=rank)
        )
    return hits


def build_langchain(jsonl: Path, db: Path):  # type: ignore[no-untyped-def]
    """The tutorial's store of ``jsonl`` at ``db``: (store, ingest summary)."""
    from eval.baseline_langchain import ingest_langchain, open_langchain_store

    summary = ingest_langchain(jsonl, db)
    return open_langchain_store(db), {
        "chunks": summary["stored"],
        "ingest_s": summary["seconds"],
    }


def child_env() -> dict[str, str]:
    """This environment without RAG_* settings (the store decides), offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(OFFLINE_ENV)
    return env


def batch_ask(db: Path, questions: Sequence[str]) -> dict[str, Any]:
    """Wall time of one ``rag ask --db DB --json`` fed ``questions`` on stdin."""
    script = Path(sys.executable).with_name("rag")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]
    stdin = "".join(q.replace("\n", " ") + "\n" for q in questions)
    started = time.perf_counter()
    proc = subprocess.run(
        [*head, "ask", "--db", str(db), "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        check=False,
    )
    seconds = time.perf_counter() - started
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or len(lines) != len(questions):
        raise RuntimeError(
            f"rag ask exited {proc.returncode} with {len(lines)}/{len(questions)} answers:\n"
            f"{proc.stderr[-2000:]}"
        )
    return {
        "questions": len(questions),
        "wall_s": round(seconds, 2),
        "ms_per_question": round(1000 * seconds / len(questions), 1),
        "refused": sum(bool(line.get("refused")) for line in lines),
    }


# -------------------------------------------------------------------- sections


@dataclass(frozen=True)
class RgbFiles:
    """The RGB passages as ingest jsonl: all of them, and the distractors only."""

    rgb: RgbPassages
    distractors: list[int]  # negatives that are no question's positive
    full: Path
    negatives: Path

    def summary(self) -> dict[str, Any]:
        return {
            "questions": len(self.rgb.questions),
            "passages": len(self.rgb.texts),
            "distractor_passages": len(self.distractors),
            "distractors_left_out": len(self.rgb.negatives) - len(self.distractors),
        }


def write_rgb_files(rows: Sequence[dict], work: Path) -> RgbFiles:
    rgb = RgbPassages.from_rows(rows)
    files = RgbFiles(rgb, rgb.distractors(), work / "rgb-full.jsonl", work / "rgb-neg.jsonl")
    write_jsonl(files.full, passage_records(rgb))
    write_jsonl(files.negatives, passage_records(rgb, files.distractors))
    return files


@dataclass(frozen=True)
class Scored:
    """One system's answers to the RGB questions, scored against the gold answers."""

    answers: list[Answer]
    ranked: list[list[str]]  # doc ids of the passages each answer was given, in order
    correct: list[bool]  # RGB's rule
    in_top: list[bool]  # those passages' text holds the gold answer (the answerer's ceiling)

    @classmethod
    def of(cls, answers: list[Answer], hits: Sequence[Sequence[Hit]], gold: list[list]) -> Scored:
        return cls(
            answers=answers,
            ranked=[[h.doc_id for h in hs] for hs in hits],
            correct=[rgb_correct(g, a.text, a.refused) for a, g in zip(answers, gold, strict=True)],
            in_top=[answer_in(hs, g) for hs, g in zip(hits, gold, strict=True)],
        )

    def share(self, flags: Sequence[bool]) -> float:
        return sum(flags) / len(self.answers)

    @property
    def refused(self) -> list[bool]:
        return [a.refused for a in self.answers]


@dataclass(frozen=True)
class FullStore:
    """Our store of every RGB passage, an Assistant over it, and the questions' positives."""

    settings: Settings
    assistant: Any  # rag.assistant.Assistant
    positives: list[set[str]]  # each question's positive passages as store doc ids
    summary: dict[str, Any]  # ingest summary, chunks per passage, chunk table load time


def open_full_store(files: RgbFiles, work: Path) -> FullStore:
    settings, summary = build_store(files.full, work / "rgb-full")
    assistant, load_s = open_assistant(settings)
    records = assistant.retriever.store.doc_records()
    positives = positive_docs(files.rgb, files.full, summary.pop("duplicate_lines"), records)
    chunks_per_doc = [r.n_chunks for r in records.values()]
    summary["multi_chunk_passages"] = sum(c > 1 for c in chunks_per_doc)
    summary["max_chunks_per_passage"] = max(chunks_per_doc, default=0)
    summary["table_load_s"] = round(load_s, 3)
    return FullStore(settings, assistant, positives, summary)


def bench_ours(files: RgbFiles, work: Path) -> dict[str, Any]:
    """Section 1: every question through ``Assistant.ask`` on the full store."""
    store = open_full_store(files, work)
    questions = files.rgb.questions
    first_ask_ms = warm(store.assistant.ask, questions[0])
    answers, ask_ms = timed(store.assistant.ask, questions)
    # Where a positive passage was cut into several chunks, the retrieved chunk may not be
    # the one holding the answer: "answer in top 5" is the stricter, text-level figure.
    ours = Scored.of(answers, [a.contexts for a in answers], files.rgb.answers)
    _, search_ms = timed(lambda q: store.assistant.retriever.search(q, TOP_K), questions)
    figures = {
        "recall@1": hit_rate(ours.ranked, store.positives, 1),
        "recall@4": hit_rate(ours.ranked, store.positives, 4),
        "recall@5": hit_rate(ours.ranked, store.positives, TOP_K),
        "answer_in_top5": ours.share(ours.in_top),
        "accuracy": ours.share(ours.correct),
        "false_refusal_rate": ours.share(ours.refused),
        "false_refusal_halves": halves(ours.refused),
        "accuracy_when_answer_in_top5": (
            sum(c for c, i in zip(ours.correct, ours.in_top, strict=True) if i)
            / max(sum(ours.in_top), 1)
        ),
        "ask_p50_ms": percentile(ask_ms, 50),
        "ask_p95_ms": percentile(ask_ms, 95),
        "search_p50_ms": percentile(search_ms, 50),
        "search_p95_ms": percentile(search_ms, 95),
        "first_ask_ms": round(first_ask_ms, 1),
        "parts_p50_ms": stage_latency(store.assistant, questions),
    }
    return {
        "store": store.summary,
        "ours": figures,
        "failures": failures(questions, ours, store.positives),
        "batch": batch_ask(store.settings.db, questions[:BATCH_QUESTIONS]),
    }


def failures(questions: list[str], scored: Scored, positives: list[set[str]]) -> list[dict]:
    """The first 50 questions answered wrongly, and whether their top hit was a positive."""
    return [
        {"question": q, "refused": a.refused, "top1_positive": bool(pos & set(keys[:1]))}
        for q, a, ok, pos, keys in zip(
            questions, scored.answers, scored.correct, positives, scored.ranked, strict=True
        )
        if not ok
    ][:50]


def bench_distractors(files: RgbFiles, work: Path) -> dict[str, Any]:
    """Section 2: a store of the distractors only, where every question should be refused."""
    settings, summary = build_store(files.negatives, work / "rgb-neg")
    summary.pop("duplicate_lines")
    assistant, _ = open_assistant(settings)
    answers, _ = timed(assistant.ask, files.rgb.questions)
    scored = Scored.of(answers, [a.contexts for a in answers], files.rgb.answers)
    refused = scored.refused
    return {
        "store": summary,
        "correct_refusal_rate": scored.share(refused),
        "correct_refusal_halves": halves(refused),
        # An answer found in the distractors is not always wrong: RGB negatives can hold it.
        "answer_in_contexts_when_not_refused": sum(
            i for i, r in zip(scored.in_top, refused, strict=True) if not r
        ),
        "answered_examples": [
            {"question": q, "answer": a.text[:200]}
            for q, a in zip(files.rgb.questions, answers, strict=True)
            if not a.refused
        ][:10],
    }


def bench_langchain_rgb(files: RgbFiles, work: Path) -> dict[str, Any]:
    """Section 3: the LangChain tutorial retriever over the same passages, our answerer."""
    from rag.answer.extractive import answer_extractive

    questions = files.rgb.questions
    store, summary = build_langchain(files.full, work / "rgb-langchain")
    warm(lambda q: langchain_hits(store, q), questions[0])
    hits, search_ms = timed(lambda q: langchain_hits(store, q), questions)
    answers = [answer_extractive(q, h) for q, h in zip(questions, hits, strict=True)]
    lc = Scored.of(answers, hits, files.rgb.answers)
    positives = positive_keys(files.rgb)  # its doc ids are the jsonl record ids
    return {
        "store": summary,
        "recall@1": hit_rate(lc.ranked, positives, 1),
        "recall@4": hit_rate(lc.ranked, positives, LC_K),
        "answer_in_top4": lc.share(lc.in_top),
        "accuracy": lc.share(lc.correct),
        "false_refusal_rate": lc.share(lc.refused),
        "search_p50_ms": percentile(search_ms, 50),
        "search_p95_ms": percentile(search_ms, 95),
    }


def bench_rgb(rows: Sequence[dict], work: Path, print_fn: Print = print) -> dict[str, Any]:
    """Sections 1-3: quality on RGB through the real pipeline, and the LangChain baseline."""
    files = write_rgb_files(rows, work)
    out = {**files.summary(), **bench_ours(files, work)}
    out["distractors"] = bench_distractors(files, work)
    out["langchain"] = bench_langchain_rgb(files, work)
    print_rgb(out, print_fn)
    return out


def bench_scale(
    name: str,
    jsonl: Path,
    work: Path,
    questions: Sequence[str],
    print_fn: Print = print,
    rgb: RgbPassages | None = None,
) -> dict[str, Any]:
    """Ingest ``jsonl`` into a fresh store, then latency of ours and of the tutorial's
    retriever over the same passages; recall too when ``rgb`` is in the store."""
    print_fn(f"[{name}] ingesting {jsonl.name} ...")
    settings, store = build_store(jsonl, work / f"{name}-ours")
    duplicate_lines = store.pop("duplicate_lines")
    assistant, load_s = open_assistant(settings)
    store["table_load_s"] = round(load_s, 2)
    first_search_ms = warm(lambda q: assistant.retriever.search(q, TOP_K), questions[0])
    hits, search_ms = timed(lambda q: assistant.retriever.search(q, TOP_K), questions)
    first_ask_ms = warm(assistant.ask, questions[-1])
    _, ask_ms = timed(assistant.ask, questions)
    out: dict[str, Any] = {
        "store": store,
        "questions": len(questions),
        "search_p50_ms": percentile(search_ms, 50),
        "search_p95_ms": percentile(search_ms, 95),
        "search_max_ms": max(search_ms),
        "first_search_ms": round(first_search_ms, 1),
        "ask_p50_ms": percentile(ask_ms, 50),
        "ask_p95_ms": percentile(ask_ms, 95),
        "first_ask_ms": round(first_ask_ms, 1),
    }
    out["parts_p50_ms"] = stage_latency(assistant, questions)
    if rgb is not None:
        records = assistant.retriever.store.doc_records()
        positives = positive_docs(rgb, jsonl, duplicate_lines, records)
        ranked = [[h.doc_id for h in hs] for hs in hits]
        out["recall@1"] = hit_rate(ranked, positives, 1)
        out["recall@5"] = hit_rate(ranked, positives, TOP_K)
    out["batch"] = batch_ask(settings.db, questions[:BATCH_QUESTIONS])
    print_fn(f"[{name}] LangChain tutorial store of the same records ...")
    lc_store, lc_summary = build_langchain(jsonl, work / f"{name}-langchain")
    warm(lambda q: langchain_hits(lc_store, q), questions[0])
    _, lc_ms = timed(lambda q: langchain_hits(lc_store, q), questions)
    out["langchain"] = {
        "store": lc_summary,
        "search_p50_ms": percentile(lc_ms, 50),
        "search_p95_ms": percentile(lc_ms, 95),
    }
    print_scale(name, out, print_fn)
    return out


def stage_latency(assistant, questions: Sequence[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """p50 ms of the parts of one search, alone: where a search's time goes."""
    from rag.core.embed import fold
    from rag.retrieval.hybrid import FIRST_STAGE, lexical_ranking

    retriever = assistant.retriever
    store = retriever.store
    lexical = retriever.refresh()
    vectors = [fold(store.embedder.embed_query(q), store.index_dim).tolist() for q in questions]
    # What a search has dense search score as well: the same query's lexical ranking.
    lexical_hits = {q: lexical_ranking(lexical, q, None, {})[0] for q in questions}
    parts: dict[str, Callable[[Any], Any]] = {
        "table_check": lambda _: retriever.refresh(),  # the store-changed check, every search
        "embed_query": store.embedder.embed_query,
        "chroma_count": lambda _: store.chunks.count(),  # what a count guard would cost
        "chroma_query": lambda v: store.chunks.query(
            query_embeddings=[v], n_results=FIRST_STAGE, include=["documents", "metadatas"]
        ),
        # The query, plus re-scoring its hits and the lexical ones at the full dimension
        # where the index is folded.
        "dense_search": lambda q: store.dense_search(
            store.embedder.embed_query(q), FIRST_STAGE, also=lexical_hits[q]
        ),
        "bm25_scores": lexical.scores,
    }
    out = {}
    for name, fn in parts.items():
        args = vectors if name == "chroma_query" else questions
        out[name] = percentile(timed(fn, args)[1], 50)  # type: ignore[arg-type]
    return out


# -------------------------------------------------------------------- printing


def _f(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return "-" if value is None else str(value)


def print_rgb(out: dict[str, Any], print_fn: Print = print) -> None:
    ours, lc, store = out["ours"], out["langchain"], out["store"]
    print_fn(
        f"\nRGB zh_refine through ingest -> Chroma -> Assistant: {out['questions']} questions, "
        f"{out['passages']} passages -> {store['documents']} docs, {store['chunks']} chunks "
        f"({store['multi_chunk_passages']} passages cut into 2-{store['max_chunks_per_passage']}"
        f" chunks); ingest {store['ingest_s']} s"
    )
    print_fn(f"{'':28} {'ours (top 5)':>14} {'LangChain (top 4)':>18}")
    rows = [
        ("recall@1", ours["recall@1"], lc["recall@1"]),
        ("recall@4", ours["recall@4"], lc["recall@4"]),
        ("recall@5", ours["recall@5"], None),
        ("answer text in top k", ours["answer_in_top5"], lc["answer_in_top4"]),
        ("accuracy (RGB rule)", ours["accuracy"], lc["accuracy"]),
        ("false refusal rate", ours["false_refusal_rate"], lc["false_refusal_rate"]),
        ("search p50 ms", ours["search_p50_ms"], lc["search_p50_ms"]),
        ("search p95 ms", ours["search_p95_ms"], lc["search_p95_ms"]),
        ("ask p50 ms (search+answer)", ours["ask_p50_ms"], None),
    ]
    for label, a, b in rows:
        print_fn(f"{label:28} {_f(a):>14} {_f(b):>18}")
    dist = out["distractors"]
    print_fn(
        f"distractor-only store ({out['distractor_passages']} passages; "
        f"{out['distractors_left_out']} negatives that are another question's positive left "
        f"out): correct refusals {dist['correct_refusal_rate']:.3f}; of the answered, "
        f"{dist['answer_in_contexts_when_not_refused']} had the gold answer in their contexts"
    )
    fr, cr = ours["false_refusal_halves"], dist["correct_refusal_halves"]
    print_fn(
        "the answerer was fitted and calibrated on the odd-numbered questions (with DRCD "
        "and CMRC): false refusals "
        f"{fr['odd']:.3f} odd / {fr['even']:.3f} even (held out); distractor refusals "
        f"{cr['odd']:.3f} odd / {cr['even']:.3f} even (held out)"
    )
    parts = ", ".join(f"{k} {v:.1f}" for k, v in ours["parts_p50_ms"].items())
    print_fn(f"parts of one search alone, p50 ms: {parts}")
    batch = out["batch"]
    print_fn(
        f"rag ask --json batch, {batch['questions']} questions over this store: "
        f"{batch['wall_s']} s wall = {batch['ms_per_question']} ms/question (start-up included)"
    )


def print_scale(name: str, out: dict[str, Any], print_fn: Print = print) -> None:
    store, lc = out["store"], out["langchain"]
    print_fn(
        f"[{name}] ours: {store['documents']} docs, {store['chunks']} chunks, ingest "
        f"{store['ingest_s']} s ({store['chunks_per_s']} chunks/s), index open "
        f"{store['table_load_s']} s; LangChain: {lc['store']['chunks']} chunks, ingest "
        f"{lc['store']['ingest_s']} s"
    )
    print_fn(
        f"[{name}] search p50/p95 {out['search_p50_ms']:.1f}/{out['search_p95_ms']:.1f} ms "
        f"(first search {out['first_search_ms']} ms), ask p50 "
        f"{out['ask_p50_ms']:.1f} ms; LangChain top-4 p50/p95 {lc['search_p50_ms']:.1f}/"
        f"{lc['search_p95_ms']:.1f} ms; rag ask batch {out['batch']['ms_per_question']} ms/q"
        + (
            f"; RGB recall@1 {out['recall@1']:.3f}, recall@5 {out['recall@5']:.3f}"
            if "recall@1" in out
            else ""
        )
    )
    parts = ", ".join(f"{k} {v:.1f}" for k, v in out["parts_p50_ms"].items())
    print_fn(f"[{name}] parts of a search alone, p50 ms: {parts}")


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(metric, ours, target, pass/fail, LangChain) rows of the summary table."""
    rows: list[tuple[str, str, str, str, str]] = []

    def add(metric: str, value: Any, target: str, ok: bool | None, baseline: Any = None) -> None:
        verdict = "-" if ok is None else ("PASS" if ok else "FAIL")
        digits = 1 if " ms" in metric or metric.startswith("ingest") else 3
        rows.append((metric, _f(value, digits), target, verdict, _f(baseline, digits)))

    rgb = results.get("rgb")
    if rgb:
        ours, lc = rgb["ours"], rgb["langchain"]
        add("RGB recall@1", ours["recall@1"], ">= 0.80", ours["recall@1"] >= 0.80, lc["recall@1"])
        add("RGB recall@5 (LC: @4)", ours["recall@5"], ">= 0.98", ours["recall@5"] >= 0.98,
            lc["recall@4"])  # fmt: skip
        add("RGB accuracy", ours["accuracy"], ">= 0.90", ours["accuracy"] >= 0.90, lc["accuracy"])
        add("RGB false refusals", ours["false_refusal_rate"], "< 0.05",
            ours["false_refusal_rate"] < 0.05, lc["false_refusal_rate"])  # fmt: skip
        rate = rgb["distractors"]["correct_refusal_rate"]
        add("RGB correct refusals (distractors)", rate, ">= 0.50", rate >= 0.50)
        batch = rgb["batch"]["ms_per_question"]
        add(f"rag ask batch ms/q ({rgb['store']['chunks']} chunks)", batch, "<= 150",
            batch <= 150)  # fmt: skip
    for name, scale in results.get("scale", {}).items():
        chunks = scale["store"]["chunks"]
        lc = scale["langchain"]
        add(f"search p50 ms, {name} ({chunks} chunks)", scale["search_p50_ms"], "-", None,
            lc["search_p50_ms"])  # fmt: skip
        big = chunks >= 90_000
        add(f"search p95 ms, {name}", scale["search_p95_ms"], "<= 50" if big else "-",
            scale["search_p95_ms"] <= 50 if big else None, lc["search_p95_ms"])  # fmt: skip
        add(f"ask p50 ms, {name}", scale["ask_p50_ms"], "-", None)
        batch = scale["batch"]["ms_per_question"]
        add(f"rag ask batch ms/q, {name}", batch, "<= 150", batch <= 150)
        add(f"ingest s, {name}", scale["store"]["ingest_s"], "-", None, lc["store"]["ingest_s"])
    return rows


def print_summary(results: dict[str, Any], print_fn: Print = print) -> None:
    rows = summary_rows(results)
    print_fn("\nSummary (hash embedder, extractive answerer, embedded Chroma)")
    print_fn(f"{'metric':44} {'ours':>9} {'target':>9} {'':>5} {'LangChain':>10}")
    for metric, value, target, verdict, baseline in rows:
        print_fn(f"{metric:44} {value:>9} {target:>9} {verdict:>5} {baseline:>10}")


# -------------------------------------------------------------------- run


def code_version() -> dict[str, Any]:
    """The commit measured, and whether rag/ or ingest/ had uncommitted changes."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
            )
        except OSError:
            return ""
        return done.stdout.strip("\n")

    dirty = git("status", "--porcelain", "--", "rag", "ingest")
    return {"commit": git("rev-parse", "HEAD"), "dirty": dirty.splitlines() if dirty else []}


def halves(flags: list[bool]) -> dict[str, float]:
    """Share of true flags among the odd- and even-numbered questions (0-based)."""
    odd, even = flags[1::2], flags[0::2]
    return {"odd": sum(odd) / max(len(odd), 1), "even": sum(even) / max(len(even), 1)}


def run(print_fn: Print = print, large: bool = True) -> dict:
    """Run the benchmark, print tables, write bench-results/ask.json ({} without ../shared)."""
    if data.skipped("bench_ask", print_fn, data.RGB_REFINE):
        return {}
    from rag.core.config import apply_offline_env

    apply_offline_env()
    started = time.perf_counter()
    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    rows = data.load_rgb()
    rgb = RgbPassages.from_rows(rows)
    results: dict[str, Any] = {"scale": {}}
    with tempfile.TemporaryDirectory(prefix="bench-ask-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        results["rgb"] = bench_rgb(rows, work, print_fn)
        timings["rgb_s"] = time.perf_counter() - t0
        if data.crud_dir() is None:
            print_fn("bench_ask: CRUD-RAG news not found; speed at 20k/100k chunks skipped.")
        else:
            crud_jsonl = work / "crud.jsonl"
            data.write_crud_jsonl(crud_jsonl)
            t0 = time.perf_counter()
            results["scale"]["news-20k"] = bench_scale(
                "news-20k", crud_jsonl, work, rgb.questions, print_fn
            )
            timings["news_20k_s"] = time.perf_counter() - t0
            if large:
                big_jsonl = work / "news-100k.jsonl"
                write_jsonl(
                    big_jsonl,
                    [*passage_records(rgb), *copied_records(crud_jsonl, COPIES)],
                )
                t0 = time.perf_counter()
                results["scale"]["rgb+news-100k"] = bench_scale(
                    "rgb+news-100k", big_jsonl, work, rgb.questions, print_fn, rgb
                )
                timings["news_100k_s"] = time.perf_counter() - t0
    timings["total_s"] = time.perf_counter() - started
    results["bench_seconds"] = {k: round(v, 1) for k, v in timings.items()}
    results["targets"] = TARGETS
    results["summary"] = [
        dict(zip(("metric", "ours", "target", "verdict", "langchain"), row, strict=True))
        for row in summary_rows(results)
    ]
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other processes on the 2 cores inflate every latency: the load says how much.
        "loadavg_1_5_15_before": [round(x, 2) for x in load_before],
        "loadavg_1_5_15_after": [round(x, 2) for x in os.getloadavg()],
    }
    results["code"] = code_version()
    results["method"] = (
        "fresh stores per run (hash embedder, embedded Chroma, temp dir); latencies are "
        "per question after one warm-up call; batch = wall time of one `rag ask --json` "
        f"subprocess fed {BATCH_QUESTIONS} RGB questions on stdin, divided by their number"
    )
    print_summary(results, print_fn)
    print_fn(
        f"\nbench_ask took {timings['total_s']:.0f} s; load average before/after "
        f"{load_before[0]:.1f}/{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
        f"results in {RESULTS}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-large", action="store_true", help="skip the ~100k-chunk store")
    args = parser.parse_args(argv)
    run(large=not args.no_large)
    return 0


if __name__ == "__main__":
    sys.exit(main())
