"""Growth curve: what a question and an ingest cost as the archive grows.

One store grows through 10k, 50k and 210k chunks of ``../shared/data/crud-rag-80k`` (all
63,668 articles make about 210k chunks); ``--million`` goes on to about 1M chunks with
the same articles replicated under new ids (paragraphs rotated, so every copy is new
content; expect about an hour more on this 2-core machine). At each size:

- ingest docs/s of the articles added (wall and CPU seconds, peak RSS of the process);
- store size on disk (Chroma + lexical index);
- cold ``rag ask "..."``: a fresh process, wall and CPU time, peak RSS (median of 3);
- ``rag ask --json`` over 200 questions in one process: ms per question, start-up
  included;
- ``HybridRetriever.search`` p50 / p95 over 200 questions, in a warm process;
- ``rag serve``: seconds from launch to the first answer through the web API, and the
  server's RSS once idle after it.

The LangChain tutorial retriever (``eval/baseline_langchain.py``: 1000-character chunks,
Chroma similarity search, k=4) indexes the same articles at each size, side by side.
Questions are phrases cut from stored articles (retrieval cost, not quality: the
quality benches are ``bench_ask`` and ``compare``). The machine is shared, so CPU times
and the load average are printed beside wall times.

    python -m eval.bench_scale [--sizes 10000,50000,210000] [--million] [--no-langchain]
    python -m eval.bench_scale --stores DB DB   # stores built already, side by side

Writes bench-results/scale/results.json and docs/scale.svg (the README's plot).
``--stores`` measures existing stores of the crud-rag-80k articles (e.g. one built
before a change and one after) with the same questions, alternating between them for
``SIDE_BY_SIDE_ROUNDS`` rounds, so both see the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eval.data import SHARED, crud_record

SIZES = (10_000, 50_000, 210_000)
MILLION = 1_000_000
QUESTIONS = 200  # the batch size and latency sample
COLD_RUNS = 3  # cold asks per size; the median is reported
SIDE_BY_SIDE_ROUNDS = 2  # --stores: rounds over the stores (the machine drifts)
CHUNKS_PER_ARTICLE = 3.3  # crud-rag-80k at the default chunk size: 209,489 / 63,668
SERVE_TIMEOUT = 600.0  # seconds for `rag serve` to answer its first question
OUT = Path("bench-results/scale")
TIME = "/usr/bin/time"  # GNU time, for each command's own peak RSS (see measured)
PLOT = Path("docs/scale.svg")


# The corpus --------------------------------------------------------------------------
def corpus_dir() -> Path | None:
    path = SHARED / "data" / "crud-rag-80k"
    return path if any(path.glob("documents_dup_part_*.txt")) else None


def articles(copies: int = 1) -> list[dict[str, Any]]:
    """Every crud-rag-80k article as a jsonl record; copy c > 0 of an article gets the id
    suffix ``-r<c>`` and its paragraphs rotated by c (new content, same vocabulary)."""
    root = corpus_dir()
    if root is None:
        raise FileNotFoundError("../shared/data/crud-rag-80k is not on this machine")
    base = []
    for path in sorted(root.glob("documents_dup_part_*.txt")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = crud_record(line.rstrip("\r\n"))
                if record["text"]:
                    base.append(record)
    out = list(base)
    for c in range(1, copies):
        for record in base:
            parts = str(record["text"]).split("。")
            k = c % max(len(parts), 1)
            text = "。".join(parts[k:] + parts[:k])
            out.append({**record, "id": f"{record['id']}-r{c}", "text": f"（{c}）{text}"})
    return out


def questions(records: list[dict[str, Any]], n: int = QUESTIONS) -> list[str]:
    """Phrases of 8-16 characters cut from random stored articles, as questions."""
    rng = random.Random(13)
    out = []
    while len(out) < n:
        text = str(rng.choice(records)["text"])
        sentences = [s for s in text.split("。") if len(s) >= 20]
        if sentences:
            s = rng.choice(sentences)
            start = rng.randrange(0, len(s) - 16)
            out.append(s[start : start + rng.randint(8, 16)] + "？")
    return out


# Measuring a process -----------------------------------------------------------------
def measured(args: list[str], stdin: str | None = None) -> dict[str, Any]:
    """Run a command: wall and CPU seconds and peak RSS (MB) of that process alone
    (``wait4`` on it), and its stdout. Exit 1 (some inputs failed) is not an error."""
    import tempfile

    # A child's ru_maxrss starts at its parent's RSS when it was spawned (Linux keeps the
    # high-water mark across exec), and this process can be large: /usr/bin/time, a
    # small process, forks the command, so its %M is the command's own peak.
    rss_file = Path(tempfile.mkstemp(prefix="bench-rss-")[1])
    if Path(TIME).exists():
        args = [TIME, "-f", "%M", "-o", str(rss_file), *args]
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    import threading

    chunks: dict[str, bytes] = {}

    def pump(name: str, stream) -> None:  # type: ignore[no-untyped-def]
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=pump, args=("out", proc.stdout)),
        threading.Thread(target=pump, args=("err", proc.stderr)),
    ]
    for t in readers:
        t.start()
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    for t in readers:
        t.join()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        err = chunks.get("err", b"").decode(errors="replace")
        raise RuntimeError(f"{args[:4]} failed ({code}): {err[-1500:]}")
    try:
        peak_kb = float(rss_file.read_text().split()[-1])
    except (OSError, ValueError, IndexError):  # no /usr/bin/time: an upper bound
        peak_kb = usage.ru_maxrss
    rss_file.unlink(missing_ok=True)
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": peak_kb / 1024,
        "stdout": chunks.get("out", b"").decode(),
    }


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


PY = [sys.executable]
RAG = [*PY, "-m", "rag.cli"]


# Ours --------------------------------------------------------------------------------
def ours_ingest(jsonl: Path, db: Path) -> dict[str, Any]:
    m = measured([*RAG, "ingest", str(jsonl), "--db", str(db), "--json"])
    report = json.loads(m["stdout"])
    return {
        **m,
        "added": report["added"],
        "unchanged": report["unchanged"],
        "chunks": report["chunks"],
    }


def ours_queries(db: Path, qs: list[str], *, serve: bool = True) -> dict[str, Any]:
    """Cold asks, one batch, warm searches and (``serve``) `rag serve`'s first answer."""
    cold = [measured([*RAG, "ask", "--db", str(db), q]) for q in qs[:COLD_RUNS]]
    batch = measured([*RAG, "ask", "--db", str(db), "--json"], "\n".join(qs) + "\n")
    search = json.loads(
        measured(
            [*PY, "-m", "eval.bench_scale", "--search-worker", "ours", str(db)], "\n".join(qs)
        )["stdout"]
    )
    return {
        "cold_s": statistics.median(c["wall"] for c in cold),
        "cold_cpu_s": statistics.median(c["cpu"] for c in cold),
        "cold_rss_mb": statistics.median(c["rss_mb"] for c in cold),
        "batch_ms_q": 1000 * batch["wall"] / len(qs),
        "batch_cpu_ms_q": 1000 * batch["cpu"] / len(qs),
        "batch_rss_mb": batch["rss_mb"],
        **search,
        **(serve_first_answer(db, qs[0]) if serve else {}),
    }


# The figures `--stores` prints for each store and round.
SIDE_BY_SIDE = ("cold_s", "cold_rss_mb", "batch_ms_q", "search_p50_ms", "search_p95_ms")


def side_by_side(dbs: list[Path]) -> list[dict[str, Any]]:
    """``ours_queries`` without ``rag serve``, on each store in turn, for a few rounds."""
    qs = questions(articles())
    rows = []
    for round_ in range(SIDE_BY_SIDE_ROUNDS):
        for db in dbs:
            figures = ours_queries(db, qs, serve=False)
            row = {"round": round_, "store": str(db), **{k: figures[k] for k in SIDE_BY_SIDE}}
            print(
                json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
            )
            rows.append(row)
    return rows


def serve_first_answer(db: Path, question: str) -> dict[str, Any]:
    """Seconds from launching `rag serve` to its first answer, and its idle RSS after."""
    import psutil
    from gradio_client import Client

    from rag.core.net import free_port

    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*RAG, "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = None
        while client is None:
            if time.perf_counter() - started > SERVE_TIMEOUT or proc.poll() is not None:
                raise RuntimeError("rag serve did not come up")
            try:
                client = Client(f"http://127.0.0.1:{port}", verbose=False)
            except Exception:  # noqa: BLE001  (not listening yet)
                time.sleep(0.2)
        client.predict(question, [], api_name="/ask")
        first = time.perf_counter() - started
        time.sleep(2.0)  # let the answer's garbage go before reading idle memory
        rss = psutil.Process(proc.pid).memory_info().rss / 1e6
        return {"serve_first_s": first, "serve_idle_rss_mb": rss}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def search_worker(kind: str, db: Path) -> None:
    """Warm process: open the index, then time one search per stdin line."""
    qs = [q for q in sys.stdin.read().splitlines() if q.strip()]
    started = time.perf_counter()
    if kind == "ours":
        from rag.core.config import Settings
        from rag.retrieval.hybrid import HybridRetriever

        retriever = HybridRetriever.open(Settings.from_env({}, db=db))

        def search(q: str) -> object:
            return retriever.search(q, k=5)
    else:
        from eval.baseline_langchain import TOP_K, open_langchain_store

        lc = open_langchain_store(db).as_retriever(search_kwargs={"k": TOP_K})

        def search(q: str) -> object:
            return lc.invoke(q)

    search(qs[0])
    first = time.perf_counter() - started
    times = []
    for q in qs:
        t = time.perf_counter()
        search(q)
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    total = time.perf_counter() - started
    print(
        json.dumps(
            {
                "open_first_s": first,
                "search_p50_ms": times[len(times) // 2],
                "search_p95_ms": times[int(len(times) * 0.95) - 1],
                "worker_ms_q": 1000 * total / len(qs),
                **resident(),
            }
        )
    )


# LangChain tutorial --------------------------------------------------------------------
def langchain_ingest(jsonl: Path, db: Path) -> dict[str, Any]:
    m = measured([*PY, "-m", "eval.baseline_langchain", str(jsonl), str(db)])
    return {**m, **json.loads(m["stdout"])}


COLD_LC = (
    "import sys; from eval.baseline_langchain import TOP_K, open_langchain_store; "
    "open_langchain_store(sys.argv[1]).as_retriever(search_kwargs={'k': TOP_K}).invoke(sys.argv[2])"
)


def langchain_queries(db: Path, qs: list[str]) -> dict[str, Any]:
    cold = [measured([*PY, "-c", COLD_LC, str(db), q]) for q in qs[:COLD_RUNS]]
    worker = measured(
        [*PY, "-m", "eval.bench_scale", "--search-worker", "langchain", str(db)], "\n".join(qs)
    )
    search = json.loads(worker["stdout"])
    return {
        "cold_s": statistics.median(c["wall"] for c in cold),
        "cold_cpu_s": statistics.median(c["cpu"] for c in cold),
        "cold_rss_mb": statistics.median(c["rss_mb"] for c in cold),
        "batch_ms_q": search["worker_ms_q"],
        "batch_rss_mb": worker["rss_mb"],
        **search,
    }


# The lexical index alone at 1M chunks (minutes, not the hour of a full 1M ingest) ---------
LEXICAL_BATCH = 1700  # rows per appended segment: one 512-article ingest batch
SLICES_PER_COPY = 170_000  # 300-character slices of one copy of the corpus (measured)


def lexical_alone(n_chunks: int, work: Path) -> dict[str, Any]:
    """Build the on-disk BM25 index from ``n_chunks`` 300-character slices of the
    replicated corpus in ingest-sized batches (appends and merges as an ingest does);
    then, in a fresh process, open it and score 200 questions: the lexical part of a
    question at that size, without Chroma."""
    from rag.core.lexstore import LexicalStore

    copies = max(1, -(-n_chunks // SLICES_PER_COPY))
    records = articles(copies)
    lexical = LexicalStore(work / "lexical-alone")
    shutil.rmtree(lexical.folder, ignore_errors=True)
    started, cpu = time.perf_counter(), time.process_time()
    batch: list[tuple[str, str, dict[str, Any]]] = []
    made = 0
    generation = ""
    for record in records:
        text = str(record["text"])
        for i in range(0, len(text), 300):
            batch.append((f"{record['id']}:v:{i}", text[i : i + 300], {"doc_id": record["id"]}))
            made += 1
        if len(batch) >= LEXICAL_BATCH or made >= n_chunks:
            segment = lexical.prepare(batch)
            with lexical.locked():
                lexical.publish([segment], [], str(made), expect=generation, store=None)  # type: ignore[arg-type]
            generation, batch = str(made), []
        if made >= n_chunks:
            break
    build = {
        "build_wall_s": time.perf_counter() - started,
        "build_cpu_s": time.process_time() - cpu,
    }
    qs = questions(records[: len(records) // copies])
    probe = measured(
        [*PY, "-m", "eval.bench_scale", "--lexical-worker", str(lexical.folder)], "\n".join(qs)
    )
    manifest = lexical.manifest()
    live = sum(du_mb(lexical.segment_dir / e["name"]) for e in manifest["segments"])
    return {
        "chunks": made,
        "segments": len(manifest["segments"]),
        "disk_mb": live,
        **build,
        **json.loads(probe["stdout"]),
        "process_rss_mb": probe["rss_mb"],
    }


def lexical_worker(folder: Path) -> None:
    """Open the index and time BM25 over every row (plus top 100) per stdin line."""
    import numpy as np

    from rag.core.lexical import top_k
    from rag.core.lexstore import LexicalStore

    qs = [q for q in sys.stdin.read().splitlines() if q.strip()]
    started = time.perf_counter()
    snapshot = LexicalStore(folder).open()
    opened = time.perf_counter() - started
    times = []
    for q in qs:
        t = time.perf_counter()
        scores = snapshot.scores(q)
        snapshot.ids_of([int(i) for i in top_k(scores, 100) if scores[i] > 0])
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    print(
        json.dumps(
            {
                "open_ms": 1000 * opened,
                "bm25_p50_ms": float(np.percentile(times, 50)),
                "bm25_p95_ms": float(np.percentile(times, 95)),
                **resident(),
            }
        )
    )


def resident() -> dict[str, float]:
    """This process's resident memory split (MB): anonymous (its own heap: what grows
    if something is read into memory) and file-backed (mapped index pages, shared with
    the page cache and other readers, dropped under memory pressure)."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(("RssAnon:", "RssFile:", "VmHWM:")):
                name, kb = line.split()[:2]
                out[f"{name[:-1].lower()}_mb"] = int(kb) / 1024
    return out


# The run -------------------------------------------------------------------------------
def grow(
    records: list[dict[str, Any]], sizes: list[int], work: Path, langchain: bool
) -> list[dict[str, Any]]:
    """Ingest increments until each size is reached; measure after each."""
    db, lc_db = work / "ours", work / "langchain"
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    used, chunks, ratio = 0, 0, CHUNKS_PER_ARTICLE
    for step, target in enumerate(sizes):
        remaining = len(records) - used
        want = int((target - chunks) / ratio)
        if want >= 0.95 * remaining:  # "all of it" (the 210k size is the whole corpus)
            want = remaining
        want = max(1, min(want, remaining))
        part = corpus / f"part-{step:02d}.jsonl"
        with part.open("w", encoding="utf-8") as handle:
            for record in records[used : used + want]:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        load = os.getloadavg()[0]
        ours = ours_ingest(part, db)
        used += want
        chunks = ours["chunks"]
        ratio = chunks / used
        qs = questions(records[:used])
        row: dict[str, Any] = {
            "target": target,
            "chunks": chunks,
            "articles": used,
            "load_before": round(load, 2),
            "ours": {
                "ingest_docs_s": ours["added"] / ours["wall"],
                "ingest_cpu_s": ours["cpu"],
                "ingest_wall_s": ours["wall"],
                "ingest_rss_mb": ours["rss_mb"],
                "store_mb": du_mb(db),
                **ours_queries(db, qs),
            },
        }
        if langchain:
            lc = langchain_ingest(part, lc_db)
            row["langchain"] = {
                "ingest_docs_s": lc["docs"] / lc["wall"],
                "ingest_cpu_s": lc["cpu"],
                "ingest_wall_s": lc["wall"],
                "ingest_rss_mb": lc["rss_mb"],
                "chunks": lc["stored"],
                "store_mb": du_mb(lc_db),
                **langchain_queries(lc_db, qs),
            }
        row["load_after"] = round(os.getloadavg()[0], 2)
        rows.append(row)
        print_table(rows)
    # Unchanged re-ingest of everything ingested so far, against the first ingests.
    again = measured([*RAG, "ingest", str(corpus), "--db", str(db), "--json"])
    first = sum(r["ours"]["ingest_wall_s"] for r in rows)
    rows[-1]["ours"]["reingest_s"] = again["wall"]
    rows[-1]["ours"]["reingest_ratio"] = again["wall"] / first
    return rows


COLUMNS = [
    ("ingest docs/s", "ingest_docs_s", "{:.0f}"),
    ("ingest CPU s", "ingest_cpu_s", "{:.0f}"),
    ("store MB", "store_mb", "{:.0f}"),
    ("cold ask s", "cold_s", "{:.2f}"),
    ("cold CPU s", "cold_cpu_s", "{:.2f}"),
    ("cold RSS MB", "cold_rss_mb", "{:.0f}"),
    ("batch ms/q", "batch_ms_q", "{:.0f}"),
    ("search p50 ms", "search_p50_ms", "{:.1f}"),
    ("search p95 ms", "search_p95_ms", "{:.1f}"),
    ("serve 1st answer s", "serve_first_s", "{:.1f}"),
    ("serve idle RSS MB", "serve_idle_rss_mb", "{:.0f}"),
]


def print_table(rows: list[dict[str, Any]]) -> None:
    head = ["chunks", "system", *(c[0] for c in COLUMNS)]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        for system in ("ours", "langchain"):
            if system not in row:
                continue
            data = row[system]
            cells = [f"{row['chunks']:,}", system]
            for _, key, fmt in COLUMNS:
                cells.append(fmt.format(data[key]) if key in data else "-")
            print("| " + " | ".join(cells) + " |")
    last = rows[-1]["ours"]
    if "reingest_s" in last:
        print(
            f"unchanged re-ingest of all {rows[-1]['articles']:,} articles: "
            f"{last['reingest_s']:.1f} s = {100 * last['reingest_ratio']:.1f}% of the first ingests"
        )
    loads = ", ".join(f"{r['load_before']}->{r['load_after']}" for r in rows if "load_after" in r)
    print(f"load average (1 min) before->after each size: {loads} (2 cores)", flush=True)


# The plot (hand-written SVG: matplotlib is not a dependency) ---------------------------
def plot(rows: list[dict[str, Any]], out: Path) -> None:
    import math

    series = [  # CPU where the shared machine's load would blur wall time
        ("cold rag ask, CPU s", "cold_cpu_s", "time"),
        ("cold rag ask, wall s", "cold_s", "time"),
        ("batch, CPU s per question", "batch_cpu_ms_q", "time"),
        ("search p95, wall s", "search_p95_ms", "time"),
        ("cold ask peak RSS GB", "cold_rss_mb", "memory"),
        ("serve idle RSS GB", "serve_idle_rss_mb", "memory"),
    ]
    colors = ["#1f77b4", "#17becf", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd"]
    width, height, pad = 460, 300, 60
    legend_rows = 2 * max(sum(1 for *_, k in series if k == kind) for kind in ("time", "memory"))
    xs = [r["chunks"] for r in rows]
    x_lo, x_hi = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" '
        f'height="{height + 20 + 14 * legend_rows}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for panel, kind in enumerate(("time", "memory")):
        ox = panel * width
        values = []
        for _, key, k in series:
            if k != kind:
                continue
            for r in rows:
                for system in ("ours", "langchain"):
                    v = r.get(system, {}).get(key)
                    if v:
                        values.append(_unit(key, v))
        if not values:
            continue
        y_lo, y_hi = math.log10(min(values)) - 0.2, math.log10(max(values)) + 0.2

        def px(x: float, ox: int = ox) -> float:
            return ox + pad + (math.log10(x) - x_lo) / (x_hi - x_lo) * (width - 1.5 * pad)

        def py(y: float, y_lo: float = y_lo, y_hi: float = y_hi) -> float:
            return height - pad + 20 - (math.log10(y) - y_lo) / (y_hi - y_lo) * (height - pad)

        title = (
            "time (s, log) vs chunks (log)"
            if kind == "time"
            else "memory (GB, log) vs chunks (log)"
        )
        parts.append(f'<text x="{ox + pad}" y="14" font-weight="bold">{title}</text>')
        parts.append(
            f'<line x1="{ox + pad}" y1="{height - 40}" x2="{ox + width - pad / 2}" '
            f'y2="{height - 40}" stroke="black"/>'
            f'<line x1="{ox + pad}" y1="20" x2="{ox + pad}" y2="{height - 40}" stroke="black"/>'
        )
        for x in xs:
            parts.append(
                f'<text x="{px(x):.0f}" y="{height - 25}" text-anchor="middle">'
                f"{x / 1000:.0f}k</text>"
            )
        for e in range(math.floor(y_lo), math.ceil(y_hi) + 1):
            for m in (1, 2, 5):
                y = m * 10**e
                if y_lo <= math.log10(y) <= y_hi:
                    parts.append(
                        f'<text x="{ox + pad - 4}" y="{py(y) + 4:.0f}" '
                        f'text-anchor="end">{y:g}</text>'
                        f'<line x1="{ox + pad}" y1="{py(y):.0f}" x2="{ox + width - pad / 2}" '
                        f'y2="{py(y):.0f}" stroke="#eee"/>'
                    )
        legend_y = height + 4
        for (label, key, k), color in zip(series, colors, strict=True):
            if k != kind:
                continue
            for system, dash in (("ours", ""), ("langchain", ' stroke-dasharray="5,3"')):
                pts = [
                    (px(r["chunks"]), py(_unit(key, r[system][key])))
                    for r in rows
                    if r.get(system, {}).get(key)
                ]
                if not pts:
                    continue
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                parts.append(
                    f'<polyline points="{path}" fill="none" stroke="{color}" '
                    f'stroke-width="2"{dash}/>'
                )
                name = "LangChain tutorial" if system == "langchain" else "newsrag"
                parts.append(
                    f'<text x="{ox + pad + 8}" y="{legend_y}" fill="{color}">'
                    f"{label} — {name}{' (dashed)' if dash else ''}</text>"
                )
                legend_y += 13
    parts.append("</svg>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts), encoding="utf-8")


def _unit(key: str, value: float) -> float:
    if key.endswith(("_ms", "_ms_q")):
        return value / 1000
    if key.endswith("_mb"):
        return value / 1000
    return value


def run_bench(sizes: list[int], *, million: bool, langchain: bool, keep: bool = False) -> list:
    from rag.core.config import apply_offline_env

    apply_offline_env()
    if corpus_dir() is None:
        print("skipped: ../shared/data/crud-rag-80k is not on this machine")
        return []
    if million:
        sizes = [*sizes, MILLION]
    copies = max(1, round(max(sizes) / 210_000))
    records = articles(copies)
    work = OUT / "work"
    shutil.rmtree(work, ignore_errors=True)
    started = time.perf_counter()
    rows = grow(records, sizes, work, langchain)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(rows, indent=1))
    plot(rows, PLOT)
    print(f"wrote {OUT / 'results.json'} and {PLOT} ({time.perf_counter() - started:.0f} s)")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def run() -> list:
    """`make bench`'s section: 10k, 50k, 210k chunks; 1M when RAG_BENCH_MILLION=1."""
    return run_bench(
        list(SIZES), million=os.environ.get("RAG_BENCH_MILLION") == "1", langchain=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--million", action="store_true", help="also ~1M chunks (about +1 h)")
    parser.add_argument("--no-langchain", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the stores in bench-results")
    parser.add_argument("--search-worker", nargs=2, metavar=("KIND", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--plot-only", action="store_true", help="redraw the plot from results")
    parser.add_argument(
        "--lexical-alone", type=int, metavar="N", help="only the BM25 index at N chunks"
    )
    parser.add_argument("--lexical-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stores", type=Path, nargs="+", help="measure built stores side by side")
    args = parser.parse_args(argv)
    if args.stores:
        if corpus_dir() is None:
            print("skipped: ../shared/data/crud-rag-80k is not on this machine")
            return 0
        side_by_side(args.stores)
        return 0
    if args.search_worker:
        search_worker(args.search_worker[0], Path(args.search_worker[1]))
        return 0
    if args.lexical_worker:
        lexical_worker(args.lexical_worker)
        return 0
    if args.lexical_alone:
        result = lexical_alone(args.lexical_alone, OUT / "work")
        rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}
        print(json.dumps(rounded))
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"lexical-{args.lexical_alone}.json").write_text(json.dumps(result, indent=1))
        return 0
    if args.plot_only:
        rows = json.loads((OUT / "results.json").read_text())
        print_table(rows)
        plot(rows, PLOT)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    run_bench(sizes, million=args.million, langchain=not args.no_langchain, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
