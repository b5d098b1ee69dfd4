"""This project vs the LangChain RAG-tutorial pipeline: one table, same sets, same embedder,
same answerer.

Systems:
- ours: the project's ingest (cleaning, chunking, dedup) into a fresh store, then
  ``Assistant.ask`` (hybrid dense + lexical retrieval, top ``settings.top_k``, extractive
  answerer with calibrated refusal).
- LangChain: ``eval.baseline_langchain.ingest_langchain`` (documents as given,
  RecursiveCharacterTextSplitter 1000/200, langchain-chroma), similarity top 4, and the
  same ``answer_extractive(question, hits)`` on those 4 chunks.

Both use the hash embedder (no weights) and are scored by the harness itself
(``eval.cli.run_eval``, lexical judge). Sets:
- pages: ``eval/sets/sample_pages.jsonl`` over ../shared/corpus; LangChain gets each page's
  raw text as a TextLoader would (no cleaner), ours ingests the files;
- rgb: the first ``RGB_LIMIT`` questions of RGB zh_refine, all their passages as corpus;
- distractors: the same questions over their negative passages only (all should refuse).

    python -m eval.compare        # prints the table, writes bench-results/compare.json
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval import data
from eval import metrics as m
from eval.data import ROOT, SHARED
from eval.sets_io import EvalItem

RESULTS = ROOT / "bench-results" / "compare.json"
SAMPLE_SET = ROOT / "eval" / "sets" / "sample_pages.jsonl"
RGB_LIMIT = 100
COMMON_K = 4  # hit@4 is reported for both: the tutorial retriever's k

SYSTEMS = ("ours", "langchain")
NOTES = (
    "Same hash embedder, same extractive answerer and refusal, same lexical judge.",
    "Input: ours cleans the page files (furniture removed) before chunking; LangChain gets",
    "  the raw page text (TextLoader-style). RGB passages are plain text for both.",
    "Chunks: ours = the project's chunker; LangChain = RecursiveCharacterTextSplitter",
    "  1000/200 (an RGB passage, ~200 chars, is one chunk either way).",
    "Retrieval: ours = hybrid dense + lexical, top 5 to the answerer; LangChain = dense",
    "  similarity only, top 4. hit@4 compares both at k=4; hit@k uses each system's own k.",
    "English questions (pages sp24-27): ours searches with glossary translations too;",
    "  LangChain searches the English text as asked (the tutorial has no such step).",
    "Latency: wall time per question of retrieval + answer, in this process, after warm-up.",
)

# (label, key in the per-system metrics, format); None values print as "–".
ROWS: tuple[tuple[str, str, str], ...] = (
    ("questions", "questions", "int"),
    ("passages given to answerer (k)", "k", "int"),
    ("store: documents", "store_docs", "int"),
    ("store: chunks", "store_chunks", "int"),
    ("ingest seconds", "ingest_s", "sec"),
    ("retrieval hit@1", "hit@1", "rate"),
    ("retrieval hit@4", "hit@4", "rate"),
    ("retrieval hit@k (own k)", "hit@k", "rate"),
    ("retrieval MRR", "mrr", "rate"),
    ("answer accuracy (RGB rule)", "accuracy", "rate"),
    ("fact recall", "fact_recall", "rate"),
    ("faithfulness (lexical judge)", "faithfulness", "rate"),
    ("citation recall (ALCE)", "citation_recall", "rate"),
    ("citation precision (ALCE)", "citation_precision", "rate"),
    ("correct refusal (unanswerable)", "correct_refusal_rate", "rate"),
    ("  of which: unanswerable kind", "refusal:unanswerable", "rate"),
    ("  of which: page-furniture kind", "refusal:furniture", "rate"),
    ("false refusal (answerable)", "false_refusal_rate", "rate"),
    ("latency p50 ms / question", "latency_p50_ms", "ms"),
    ("latency p95 ms / question", "latency_p95_ms", "ms"),
)


# --- the LangChain system -------------------------------------------------------------


class LangChainAssistant:
    """The tutorial retriever (similarity top k) + the project's extractive answerer, behind
    the ``ask(question) -> Answer`` the harness calls."""

    def __init__(self, store: Any, k: int = COMMON_K) -> None:
        self.store = store  # a langchain_chroma.Chroma (or anything with similarity_search)
        self.k = k

    @property
    def mode(self) -> dict[str, str]:
        return {
            "embedder": "hash (LangChain Embeddings wrapper)",
            "retrieval": f"langchain-chroma similarity_search k={self.k}",
            "llm": "extractive (no LLM configured)",
        }

    def hits(self, question: str) -> list[Any]:
        """The top-k chunks as ``Hit``s; doc id = the input record's id."""
        from rag.core.types import Hit

        hits = []
        for rank, doc in enumerate(self.store.similarity_search(question, k=self.k), start=1):
            meta = doc.metadata or {}
            doc_id = str(meta.get("id") or meta.get("source") or "")
            text = doc.page_content
            hits.append(
                Hit(
                    chunk_id=str(getattr(doc, "id", None) or f"{doc_id}#{rank}"),
                    doc_id=doc_id,
                    text=text,
                    title=str(meta.get("title") or ""),  # the tutorial extracts no title
                    source=meta.get("source"),
                    end=len(text),
                    rank=rank,
                )
            )
        return hits

    def ask(self, question: str) -> Any:
        from dataclasses import replace

        from rag.answer.extractive import answer_extractive

        answer = answer_extractive(question, self.hits(question))
        mode = {**self.mode, **{k: v for k, v in answer.mode.items() if k != "llm"}}
        return replace(answer, mode=mode)


# --- building the two systems over one input ------------------------------------------


def build_ours(inputs: Sequence[Path], db: Path) -> tuple[Any, dict[str, Any]]:
    """Ingest ``inputs`` with the project's pipeline into a new store at ``db``."""
    from ingest.pipeline import ingest
    from rag.assistant import Assistant
    from rag.core.config import Settings

    settings = Settings.from_env({}, db=db, embedder="hash")
    report = ingest(list(inputs), settings)
    if report.failed:
        raise RuntimeError(f"{len(report.failed)} inputs failed: {report.failed[0].error}")
    return Assistant(settings), {
        "store_docs": report.documents,
        "store_chunks": report.chunks,
        "ingest_s": report.seconds,
        "k": settings.top_k,
    }


def build_langchain(jsonl: Path, db: Path) -> tuple[LangChainAssistant, dict[str, Any]]:
    """The tutorial's store of ``jsonl`` at ``db``, behind ``LangChainAssistant``."""
    from eval.baseline_langchain import TOP_K, ingest_langchain, open_langchain_store

    summary = ingest_langchain(jsonl, db)
    return LangChainAssistant(open_langchain_store(db), TOP_K), {
        "store_docs": summary["docs"],
        "store_chunks": summary["stored"],
        "ingest_s": summary["seconds"],
        "k": TOP_K,
    }


def write_raw_jsonl(files: Sequence[Path], path: Path) -> Path:
    """Each file's raw text as one record (what a LangChain TextLoader would load)."""
    with path.open("w", encoding="utf-8") as fh:
        for f in files:
            text = f.read_text(encoding="utf-8", errors="replace")
            fh.write(json.dumps({"id": f.name, "source": f.name, "text": text}, ensure_ascii=False))
            fh.write("\n")
    return path


# --- scoring ------------------------------------------------------------------------


def evaluate(
    assistant: Any, items: Sequence[EvalItem], name: str, k: int, judge: Any
) -> dict[str, Any]:
    """The harness's run_eval, plus hit@4 and refusal per question kind from its rows."""
    from eval.cli import run_eval

    assistant.ask(items[0].question)  # warm-up (imports, jieba, caches): not timed
    result = run_eval(assistant, items, judge, name=name, k=k)
    rows = result["items"]
    summary = dict(result["summary"])
    # item_json leaves out an empty evidence list, hence .get.
    ranks = [r["evidence_ranks"] for r in rows if r["answerable"] and r.get("evidence")]
    summary["hit@4"] = m.mean(m.hit_at_k(x, COMMON_K) for x in ranks)
    for kind in ("unanswerable", "furniture"):
        picked = [r for r in rows if r.get("kind") == kind]
        if picked:
            rates = m.refusal_rates(
                [r["answerable"] for r in picked], [r["refused"] for r in picked]
            )
            summary[f"refusal:{kind}"] = rates["correct_refusal_rate"]
    return {"summary": summary, "items": rows, "seconds": result["seconds"]}


def compare_set(
    name: str,
    items: dict[str, list[EvalItem]],
    builders: dict[str, Callable[[], tuple[Any, dict[str, Any]]]],
    judge: Any,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Build and evaluate each system on its own copy of the items."""
    out: dict[str, Any] = {}
    for system in SYSTEMS:
        t0 = time.perf_counter()
        assistant, store_info = builders[system]()
        result = evaluate(assistant, items[system], f"{name}/{system}", store_info["k"], judge)
        result["summary"].update(store_info)
        out[system] = result
        log(f"{name}/{system}: {len(items[system])} questions in {time.perf_counter() - t0:.1f} s")
    return out


def run_pages(
    shared: Path, sample_set: Path, work: Path, judge: Any, log: Callable[[str], None]
) -> dict[str, Any]:
    """sample_pages: ours ingests the page files, LangChain their raw text."""
    from eval.sets_io import load_set

    files = sorted(p for p in (shared / "corpus").iterdir() if p.is_file())
    raw = write_raw_jsonl(files, work / "pages-raw.jsonl")
    return compare_set(
        "pages",
        {s: load_set(sample_set) for s in SYSTEMS},
        {
            "ours": lambda: build_ours([shared / "corpus"], work / "pages-ours"),
            "langchain": lambda: build_langchain(raw, work / "pages-lc"),
        },
        judge,
        log,
    )


def run_rgb(
    task: str, name: str, rows: list[dict], work: Path, judge: Any, log: Callable[[str], None]
) -> dict[str, Any]:
    """An RGB task over ``rows``: the same passage jsonl for both systems."""
    from eval import rgb

    ours_corpus, lc_corpus = rgb.build(task, rows), rgb.build(task, rows)
    jsonl = work / f"{name}-lc.jsonl"
    rgb.write_jsonl(lc_corpus, jsonl)  # record ids = passage ids = LangChain hits' doc ids

    def ours() -> tuple[Any, dict[str, Any]]:
        from rag.assistant import Assistant
        from rag.core.config import Settings
        from rag.core.store import Store

        settings = Settings.from_env({}, db=work / f"{name}-ours", embedder="hash")
        t0 = time.perf_counter()
        (work / name).mkdir(exist_ok=True)
        # Rewrites ours_corpus' evidence from passage ids to the store's doc ids.
        rgb.ingest_corpus(ours_corpus, settings, work / name, log)
        seconds = round(time.perf_counter() - t0, 3)
        store = Store.open(settings)
        return Assistant(settings), {
            "store_docs": store.count_documents(),
            "store_chunks": store.count_chunks(),
            "ingest_s": seconds,
            "k": settings.top_k,
        }

    return compare_set(
        name,
        {"ours": ours_corpus.items, "langchain": lc_corpus.items},
        {"ours": ours, "langchain": lambda: build_langchain(jsonl, work / f"{name}-lc")},
        judge,
        log,
    )


# --- output ---------------------------------------------------------------------------


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "–"
    if fmt == "int":
        return str(int(value))
    if fmt == "sec":
        return f"{value:.1f}"
    if fmt == "ms":
        return f"{value:.1f}"
    return f"{value:.3f}"


def format_table(sets: dict[str, dict[str, Any]]) -> str:
    """Rows = metrics, columns = set x system; rows where nothing applies are dropped."""
    columns = [(s, sys_) for s in sets for sys_ in SYSTEMS if sys_ in sets[s]]
    short = {"ours": "ours", "langchain": "LC"}
    heads = [f"{s}/{short[sys_]}" for s, sys_ in columns]
    width = max(11, *(len(h) + 1 for h in heads))
    label_w = max(len(label) for label, _, _ in ROWS) + 1
    lines = [f"{'metric':{label_w}s}" + "".join(f"{h:>{width}s}" for h in heads)]
    for label, key, fmt in ROWS:
        values = [sets[s][sys_]["summary"].get(key) for s, sys_ in columns]
        if all(v is None for v in values):
            continue
        lines.append(f"{label:{label_w}s}" + "".join(f"{_cell(v, fmt):>{width}s}" for v in values))
    return "\n".join(lines)


def run(
    print_fn: Callable[[str], None] = print,
    *,
    shared: Path = SHARED,
    sample_set: Path = SAMPLE_SET,
    rgb_limit: int = RGB_LIMIT,
    results: Path = RESULTS,
) -> dict[str, Any]:
    """Run the comparison, print the table, write ``results``; {} when ../shared is absent."""
    if data.skipped("compare", print_fn, shared):
        return {}
    from eval.judges import make_judge
    from rag.core.config import Settings, apply_offline_env

    apply_offline_env()
    judge = make_judge("lexical", Settings.from_env({}))
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    sets: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="rag-compare-") as tmp:
        work = Path(tmp)
        if (shared / "corpus").is_dir():
            sets["pages"] = run_pages(shared, sample_set, work, judge, log)
        rgb_file = data.rgb_path("zh_refine", shared)
        if rgb_file.exists():
            rows = data.load_rgb(rgb_file)[:rgb_limit]
            sets["rgb"] = run_rgb("zh_refine", "rgb", rows, work, judge, log)
            sets["distractors"] = run_rgb(
                "zh_refine:distractors", "distractors", rows, work, judge, log
            )
    seconds = round(time.perf_counter() - started, 1)
    table = format_table(sets)
    print_fn(
        f"pages = {sample_set.name} over ../shared/corpus; rgb = RGB zh_refine, "
        f"first {rgb_limit} questions; distractors = same questions, negatives only"
    )
    print_fn(table)
    print_fn("Notes:\n" + "\n".join(f"  {n}" for n in NOTES))
    print_fn(f"({seconds:.0f} s)")
    out = {
        "rgb_limit": rgb_limit,
        "judge": judge.describe(),
        "notes": list(NOTES),
        "seconds": seconds,
        "summary": {s: {sys_: r["summary"] for sys_, r in v.items()} for s, v in sets.items()},
        "sets": sets,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print_fn(f"wrote {results}")
    return out


def main() -> int:
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
