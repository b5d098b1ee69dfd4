"""Ingest throughput on the CRUD-RAG news subset (5,406 articles), beside LangChain's tutorial.

Offline hash embedder, embedded Chroma in a temp dir. Measured:
1. clean + chunk alone (read, clean, chunk; no embedding, no store), in this process;
2. a first ``rag ingest FILE --db DIR --embedder hash --json`` into a fresh store, in a
   fresh subprocess: wall time around it (start-up and imports included) and its peak RSS;
3. the unchanged re-ingest of the same file, the same way, and its ratio to (2);
4. the LangChain tutorial pipeline (eval/baseline_langchain.py) on the same input, also in
   a subprocess, and the ratios ours/LangChain.

Targets: >= 100 docs/s end to end; unchanged re-ingest <= 10% of the first ingest.
Tuning variables (RAG_CHUNK_SIZE, RAG_CHUNK_OVERLAP, RAG_DOC_BATCH) pass through from the
environment; every other RAG_* variable is dropped so the run is the documented setup.

    python -m eval.bench_ingest        # writes bench-results/ingest.json
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval import data
from eval.data import CRUD_FILES, write_crud_jsonl
from rag.core.config import OFFLINE_ENV, Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results" / "ingest.json"
TARGET_DOCS_PER_S = 100.0
TARGET_REINGEST_RATIO = 0.10
TUNING_VARS = ("RAG_CHUNK_SIZE", "RAG_CHUNK_OVERLAP", "RAG_DOC_BATCH")
WARMUP_DOCS = 20


@dataclass(frozen=True)
class ChildRun:
    """One measured subprocess: wall and CPU seconds, peak RSS, exit code, JSON stdout."""

    seconds: float
    cpu_seconds: float  # user + system: less sensitive than wall time to other load
    peak_rss_mb: float
    returncode: int
    output: dict[str, Any]
    stderr: str


def child_env() -> dict[str, str]:
    """This environment minus RAG_* settings other than the tuning ones, plus offline."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k in TUNING_VARS}
    env.update(OFFLINE_ENV)
    return env


def run_child(cmd: list[str], workdir: Path) -> ChildRun:
    """Run ``cmd`` to completion; wall time from spawn to exit, and its own ru_maxrss.

    ``os.wait4`` gives the resource usage of exactly this child (RUSAGE_CHILDREN would
    mix in every earlier child), without polling gaps.
    """
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=child_env(), cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    text = out_path.read_text(encoding="utf-8", errors="replace").strip()
    try:
        output = json.loads(text.splitlines()[-1]) if text else {}
    except json.JSONDecodeError:
        output = {}
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(seconds, cpu, rss_bytes / 2**20, proc.returncode, output, stderr)


def rag_ingest_cmd(jsonl: Path, db: Path) -> list[str]:
    """The installed ``rag`` script when present (what a user runs), else ``-m rag.cli``."""
    script = Path(sys.executable).with_name("rag")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "rag.cli"]
    return [*head, "ingest", str(jsonl), "--db", str(db), "--embedder", "hash", "--json"]


def langchain_cmd(jsonl: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "eval.baseline_langchain", str(jsonl), str(db)]


def clean_and_chunk(jsonl: Path, settings: Settings) -> dict[str, Any]:
    """Read + clean + chunk every record, as ingest does, without embedding or storing."""
    from ingest.chunk import chunk_article
    from ingest.pipeline import clean_raw, to_article
    from ingest.readers import Failure, read_raw_documents

    docs = chunks = 0
    failed: list[str] = []
    started = time.perf_counter()
    for raw in read_raw_documents([jsonl], max_bytes=int(settings.max_file_mb * 1e6)):
        if isinstance(raw, Failure):
            failed.append(f"{raw.path}: {raw.error}")
            continue
        try:
            article = to_article(clean_raw(raw), raw)
        except ValueError as exc:
            failed.append(f"{raw.where}: {exc}")
            continue
        docs += 1
        chunks += len(chunk_article(article, settings.chunk_size, settings.chunk_overlap))
    seconds = time.perf_counter() - started
    return {
        "docs": docs,
        "chunks": chunks,
        "failed": failed,
        "seconds": round(seconds, 3),
        "docs_per_s": round(docs / seconds, 1),
    }


def _check(run: ChildRun, what: str) -> None:
    if run.returncode not in (0, 1) or not run.output:  # 1: some inputs failed, reported
        raise RuntimeError(f"{what} failed (exit {run.returncode}):\n{run.stderr[-2000:]}")


def _ingest_summary(run: ChildRun, docs: int) -> dict[str, Any]:
    out = run.output
    return {
        "seconds": round(run.seconds, 3),
        "cpu_seconds": round(run.cpu_seconds, 3),
        "in_process_seconds": out.get("seconds"),
        "docs_per_s": round(docs / run.seconds, 1),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "exit_code": run.returncode,
        "store_documents": out.get("documents"),
        "store_chunks": out.get("chunks"),
        "added": out.get("added"),
        "updated": out.get("updated"),
        "unchanged": out.get("unchanged"),
        "duplicates": out.get("duplicates"),
        "failed": out.get("failed", []),
        "near_duplicate_pairs": len(out.get("near_duplicates", [])),
    }


def measure(tmp: Path, print_fn: Callable[[str], None]) -> dict[str, Any]:
    """All four measurements in ``tmp``; returns the result dict."""
    load_before = round(os.getloadavg()[0], 2)
    tuning = {k: os.environ[k] for k in TUNING_VARS if os.environ.get(k)}
    settings = Settings.from_env(tuning, db=tmp / "unused", embedder="hash")
    jsonl = tmp / "crud.jsonl"
    started = time.perf_counter()
    docs = write_crud_jsonl(jsonl)
    convert_s = time.perf_counter() - started
    print_fn(f"converted {docs:,} articles to jsonl in {convert_s:.1f} s")

    cc = clean_and_chunk(jsonl, settings)
    print_fn(f"clean+chunk alone: {cc['docs_per_s']:,.0f} docs/s")

    # Warm-up on a few articles, so neither pipeline pays for a cold page cache of its
    # imports; start-up and imports are still inside every measured run.
    warm = tmp / "warm.jsonl"
    write_crud_jsonl(warm, limit=WARMUP_DOCS)
    (tmp / "w1").mkdir()
    (tmp / "w2").mkdir()
    _check(run_child(rag_ingest_cmd(warm, tmp / "warm-db"), tmp / "w1"), "warm-up rag ingest")
    _check(run_child(langchain_cmd(warm, tmp / "warm-lc"), tmp / "w2"), "warm-up LangChain")

    runs = tmp / "runs"
    runs.mkdir()
    db = tmp / "db"
    print_fn("first ingest (subprocess) ...")
    first = run_child(rag_ingest_cmd(jsonl, db), runs)
    _check(first, "rag ingest")
    print_fn("unchanged re-ingest (subprocess) ...")
    again = run_child(rag_ingest_cmd(jsonl, db), runs)
    _check(again, "rag ingest (again)")
    print_fn("LangChain tutorial pipeline (subprocess) ...")
    lc = run_child(langchain_cmd(jsonl, tmp / "lc"), runs)
    if lc.returncode != 0 or not lc.output:
        raise RuntimeError(f"LangChain baseline failed (exit {lc.returncode}):\n{lc.stderr}")

    ours = _ingest_summary(first, docs)
    ours["chunks_per_s"] = round((ours["store_chunks"] or 0) / first.seconds, 1)
    reingest = _ingest_summary(again, docs)
    reingest["ratio_to_first"] = round(again.seconds / first.seconds, 4)
    langchain = {
        "seconds": round(lc.seconds, 3),
        "cpu_seconds": round(lc.cpu_seconds, 3),
        "in_process_seconds": lc.output.get("seconds"),
        "docs_per_s": round(docs / lc.seconds, 1),
        "peak_rss_mb": round(lc.peak_rss_mb, 1),
        "docs": lc.output.get("docs"),
        "chunks": lc.output.get("chunks"),
        "stored": lc.output.get("stored"),
        "chunk_size": 1000,
        "chunk_overlap": 200,
    }
    langchain["chunks_per_s"] = round((langchain["chunks"] or 0) / lc.seconds, 1)
    return {
        "corpus": {
            "name": "CRUD-RAG news subset (../shared/data/crud-rag-news)",
            "files": list(CRUD_FILES),
            "docs": docs,
            "jsonl_mb": round(jsonl.stat().st_size / 1e6, 2),
        },
        "settings": {
            "embedder": "hash (1024-d)",
            "chunk_size": settings.chunk_size,
            "chunk_overlap_sentences": settings.chunk_overlap,
            "doc_batch": settings.doc_batch,
            "env": tuning,
        },
        "clean_chunk": cc,
        "ingest_first": ours,
        "reingest_unchanged": reingest,
        "langchain": langchain,
        "ratios": {
            "docs_per_s_ours_over_langchain": round(
                ours["docs_per_s"] / langchain["docs_per_s"], 3
            ),
            "seconds_ours_over_langchain": round(first.seconds / lc.seconds, 3),
            "peak_rss_ours_over_langchain": round(first.peak_rss_mb / lc.peak_rss_mb, 3),
        },
        "targets": {
            "end_to_end_docs_per_s": TARGET_DOCS_PER_S,
            "end_to_end_met": ours["docs_per_s"] >= TARGET_DOCS_PER_S,
            "reingest_ratio_max": TARGET_REINGEST_RATIO,
            "reingest_met": reingest["ratio_to_first"] <= TARGET_REINGEST_RATIO,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_before": load_before,
            "load_average_1m_after": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "method": (
            "wall time around a fresh subprocess (start-up and imports included), after a "
            f"{WARMUP_DOCS}-article warm-up run of each pipeline; peak RSS = that "
            "subprocess's ru_maxrss from os.wait4"
        ),
    }


def format_table(result: dict[str, Any]) -> list[str]:
    """The human-readable report: figures and ratios side by side, and the targets."""
    c, s = result["corpus"], result["settings"]
    cc, ours = result["clean_chunk"], result["ingest_first"]
    again, lc, ratios = result["reingest_unchanged"], result["langchain"], result["ratios"]
    t, m = result["targets"], result["machine"]

    def row(label: str, a: str, b: str = "-", r: str = "") -> str:
        return f"  {label:<34}{a:>16}{b:>20}{r:>16}"

    verdict = {True: "met", False: "NOT met"}
    lines = [
        f"Ingest benchmark: {c['docs']:,} CRUD-RAG news articles ({c['jsonl_mb']} MB jsonl), "
        f"hash embedder, embedded Chroma, {result['machine']['cpus']} CPUs",
        f"  ours: chunk {s['chunk_size']} chars / overlap {s['chunk_overlap_sentences']} "
        f"sentence(s), {s['doc_batch']} documents per write batch; "
        f"LangChain: RecursiveCharacterTextSplitter "
        f"{lc['chunk_size']}/{lc['chunk_overlap']}",
        row("", "ours", "LangChain tutorial", "ours/LC"),
        row("clean+chunk only (in-process)", f"{cc['docs_per_s']:,.0f} docs/s"),
        row(
            "first ingest, wall (subprocess)",
            f"{ours['seconds']:.1f} s",
            f"{lc['seconds']:.1f} s",
            f"{ratios['seconds_ours_over_langchain']:.2f}x time",
        ),
        row(
            "  of which in-process",
            f"{ours['in_process_seconds']:.1f} s",
            f"{lc['in_process_seconds']:.1f} s",
        ),
        row(
            "  end-to-end docs/s",
            f"{ours['docs_per_s']:,.1f}",
            f"{lc['docs_per_s']:,.1f}",
            f"{ratios['docs_per_s_ours_over_langchain']:.2f}x",
        ),
        row(
            "  CPU time (user+sys)",
            f"{ours['cpu_seconds']:.1f} s",
            f"{lc['cpu_seconds']:.1f} s",
            f"{ours['cpu_seconds'] / lc['cpu_seconds']:.2f}x",
        ),
        row("  chunks", f"{ours['store_chunks']:,}", f"{lc['chunks']:,}"),
        row("  chunks/s", f"{ours['chunks_per_s']:,.0f}", f"{lc['chunks_per_s']:,.0f}"),
        row(
            "  peak RSS",
            f"{ours['peak_rss_mb']:,.0f} MB",
            f"{lc['peak_rss_mb']:,.0f} MB",
            f"{ratios['peak_rss_ours_over_langchain']:.2f}x",
        ),
        row(
            "unchanged re-ingest, wall",
            f"{again['seconds']:.2f} s",
            "(no dedup: n/a)",
            f"{again['ratio_to_first']:.1%} of 1st",
        ),
        row("  CPU time (user+sys)", f"{again['cpu_seconds']:.2f} s"),
        row("  peak RSS", f"{again['peak_rss_mb']:,.0f} MB"),
        f"  store after first ingest: {ours['store_documents']:,} documents, "
        f"{ours['store_chunks']:,} chunks; {ours['added']:,} added, {ours['duplicates']} "
        f"exact duplicates, {ours['near_duplicate_pairs']} near-duplicate pairs, "
        f"{len(ours['failed'])} failed",
        f"  re-ingest: {again['unchanged']:,} unchanged, {again['duplicates']} duplicates, "
        f"{again['added']} added, {len(again['failed'])} failed; "
        f"LangChain store: {lc['stored']:,} chunks",
        f"  target end-to-end >= {t['end_to_end_docs_per_s']:.0f} docs/s: "
        f"{verdict[t['end_to_end_met']]} ({ours['docs_per_s']:.1f})",
        f"  target re-ingest <= {t['reingest_ratio_max']:.0%} of first: "
        f"{verdict[t['reingest_met']]} ({again['ratio_to_first']:.1%})",
        f"  1-min load average before/after: {m['load_average_1m_before']} / "
        f"{m['load_average_1m_after']} (other work on these {m['cpus']} CPUs inflates wall "
        "times; CPU times are steadier)",
    ]
    for failure in ours["failed"][:10]:
        lines.append(f"  failed: {failure['path']}: {failure['error']}")
    for failure in cc["failed"][:10]:
        lines.append(f"  clean+chunk failed: {failure}")
    return lines


def run(print_fn: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark, print the table, write bench-results/ingest.json; {} without data."""
    if data.skipped("bench_ingest", print_fn, *data.crud_files()):
        return {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        result = measure(tmp, print_fn)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for line in format_table(result):
        print_fn(line)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_fn(f"  written: {RESULTS.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    from rag.core.config import apply_offline_env

    apply_offline_env()  # an entry point: offline before any model loads
    run()
