"""The on-disk lexical index: same scores as a full build, incremental updates per
committed batch, catch-up after writes it did not see, shared by readers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import ingest
from rag.core.config import Settings
from rag.core.lexical import LexicalIndex
from rag.core.lexstore import MERGE_FACTOR, LexicalStore, Segment, lexical_text
from rag.core.store import Store
from rag.retrieval.hybrid import Filters, HybridRetriever
from tests.synth import article_text, write_jsonl

pytestmark = pytest.mark.integration

WHALE = "藍鯨科技宣布擴建工廠。"  # a phrase no synthetic article has
QUERIES = ["監管機構表示出口管制", "晶片業者 新產品", "台北的分析師", "價格可能上漲兩成", "編號7"]


def _chunks(seeds: range, version: str = "v1") -> list[tuple[str, str, dict]]:
    out = []
    for seed in seeds:
        text = article_text(seed)
        for i, part in enumerate(text.split("\n")):
            meta = {
                "doc_id": f"d{seed}",
                "title": f"新聞{seed}",
                "published_day": 20250101 + seed % 28,
                "source": ["中央社", "新華社"][seed % 2],
            }
            out.append((f"d{seed}:{version}:{i}", part, meta))
    return out


def _assert_same_as_full_build(lexical: LexicalStore, live: list[tuple[str, str, dict]]) -> None:
    """Every score of the snapshot equals LexicalIndex.build over the live chunks."""
    snap = lexical.open()
    full = LexicalIndex.build([c for c, _, _ in live], [lexical_text(t, m) for _, t, m in live])
    assert snap.ids_of(np.flatnonzero(~snap.dead)) == full.ids
    for q in QUERIES:
        assert np.array_equal(snap.scores(q)[~snap.dead], full.scores(q)), q
        tokens = ["監管", "晶片", "台北", "zzz"]
        assert snap.term_idf(tokens) == full.term_idf(tokens)


def test_segments_with_deletions_and_merges_score_exactly_as_a_full_build(tmp_path):
    lexical = LexicalStore(tmp_path / "lex")
    live: list[tuple[str, str, dict]] = []
    generation = ""
    # Enough same-size batches for merges, with updates of earlier documents between.
    for batch in range(MERGE_FACTOR * 2 + 1):
        seeds = range(batch * 6, batch * 6 + 6)
        added = _chunks(seeds)
        removed = [f"d{batch * 6 - 6}"] if batch else []  # an earlier document, replaced
        if removed:
            added += _chunks(range(batch * 6 - 6, batch * 6 - 5), version=f"v{batch}")
        segment = lexical.prepare(added)
        with lexical.locked():
            lexical.publish([segment], removed, f"g{batch}", expect=generation, store=None)  # type: ignore[arg-type]
        generation = f"g{batch}"
        live = [c for c in live if c[2]["doc_id"] not in removed] + added
    manifest = lexical.manifest()
    assert len(manifest["segments"]) < MERGE_FACTOR * 2 + 1, "no merge happened"
    assert manifest["live"] == len(live)
    _assert_same_as_full_build(lexical, live)


def test_filters_come_from_the_index_columns(tmp_path):
    lexical = LexicalStore(tmp_path / "lex")
    chunks = _chunks(range(10))
    with lexical.locked():
        lexical.publish([lexical.prepare(chunks)], [], "g", expect="", store=None)  # type: ignore[arg-type]
    snap = lexical.open()
    mask = snap.column_mask(20250103, 20250105, ("新華社",))
    expected = [
        m["source"] == "新華社" and 20250103 <= m["published_day"] <= 20250105 for _, _, m in chunks
    ]
    assert mask.tolist() == expected and any(expected)


def test_a_segment_round_trips_through_disk(tmp_path):
    segment = Segment.build(_chunks(range(3)))
    segment.write(tmp_path)
    again = Segment.open(tmp_path, segment.name)
    for name in ("vocab", "indptr", "docs", "tf", "doc_len", "ids", "idhash"):
        assert np.array_equal(getattr(segment, name), getattr(again, name)), name
    assert isinstance(again.vocab, np.memmap), "segments are mapped, not read"


def _settings(db: Path) -> Settings:
    return Settings.from_env({}, db=db, embedder="hash")


def _ingested(tmp_path: Path, articles: int) -> tuple[Path, Settings]:
    """(corpus folder, settings) of a store holding ``articles`` synthetic articles."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(articles))
    settings = _settings(tmp_path / "db")
    ingest([corpus], settings)
    return corpus, settings


def test_changing_one_article_updates_the_index_without_a_rebuild(tmp_path):
    corpus, settings = _ingested(tmp_path, 40)
    lexical = LexicalStore.of(settings)
    first = lexical.manifest()
    first_files = {
        e["name"]: os.stat(lexical.segment_dir / e["name"] / "vocab.npy").st_mtime_ns
        for e in first["segments"]
    }

    lines = (corpus / "a.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[7])
    record["text"] = "更正：藍鯨科技宣布撤回收購案，董事會一致通過。\n" + record["text"]
    lines[7] = json.dumps(record, ensure_ascii=False)
    (corpus / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest([corpus], settings)
    assert (report.updated, report.unchanged) == (1, 39)

    after = lexical.manifest()
    # No rebuild and no catch-up: the update appended one segment and marked the old
    # version's rows deleted; the untouched segment files are the same files.
    assert after["full_builds"] == first["full_builds"] == 0
    assert after["catch_ups"] == 0
    for name, mtime in first_files.items():
        assert name in {e["name"] for e in after["segments"]}
        assert os.stat(lexical.segment_dir / name / "vocab.npy").st_mtime_ns == mtime
    assert sum(e["dead"] for e in after["segments"]) > 0
    retriever = HybridRetriever.open(settings)
    hits = retriever.search("藍鯨科技撤回收購案", k=3)
    assert "藍鯨科技" in hits[0].text
    store = Store.open(settings, create=False)
    live = [(c, t, m) for c, t, m in store.iter_chunks()]
    _assert_same_as_full_build(lexical, live)


def test_a_write_the_index_did_not_see_is_caught_up_by_the_next_reader(tmp_path):
    _, settings = _ingested(tmp_path, 12)
    store = Store.open(settings, create=False)
    victim = next(iter(store.committed_versions()))
    store.delete_document(victim)  # keeps the index in step: no catch-up needed
    retriever = HybridRetriever.open(settings)
    assert victim not in retriever.refresh().doc_versions()
    assert LexicalStore.of(settings).manifest()["catch_ups"] == 0
    # A write through the store alone (as by a writer on another machine, or an older
    # newsrag): the next reader indexes just what it missed.
    other = next(iter(store.committed_versions()))
    with store.writing():
        journal = store.begin([])
        store.docs.delete(ids=[other])
        store.chunks.delete(where={"doc_id": other})
        store.commit(journal, [], [])
    index = retriever.refresh()
    assert LexicalStore.of(settings).manifest()["catch_ups"] == 1
    assert other not in index.doc_versions()
    assert set(index.doc_versions()) == set(store.committed_versions())


def test_an_index_deleted_from_disk_is_rebuilt_from_the_store(tmp_path):
    _, settings = _ingested(tmp_path, 8)
    before = HybridRetriever.open(settings).search("監管機構表示", k=5, filters=Filters())
    import shutil

    shutil.rmtree(LexicalStore.of(settings).folder)
    after = HybridRetriever.open(settings).search("監管機構表示", k=5)
    assert [h.chunk_id for h in after] == [h.chunk_id for h in before]
    assert LexicalStore.of(settings).manifest()["full_builds"] == 1


def test_an_index_built_with_other_tokens_is_rebuilt_not_served(tmp_path, monkeypatch):
    """A tokenizer change (TOKENIZER_VERSION, OpenCC, Unicode) makes the on-disk token keys
    stale: the manifest records tokenizer_id() and a reader rebuilds on a mismatch."""
    from rag.core import lexical

    _, settings = _ingested(tmp_path, 8)
    store = LexicalStore.of(settings)
    built = store.manifest()
    assert built["tokenizer"] == lexical.tokenizer_id() and built["full_builds"] == 0
    before = [h.chunk_id for h in HybridRetriever.open(settings).search("監管機構表示", k=5)]
    assert store.manifest()["full_builds"] == 0  # same tokens: served as built
    path = store.folder / "manifest.json"
    older = {k: v for k, v in json.loads(path.read_text()).items() if k != "tokenizer"}
    path.write_text(json.dumps(older))
    assert store.manifest()["segments"]  # written before the field: bigram-v1 tokens

    monkeypatch.setattr(lexical, "TOKENIZER_VERSION", "bigram-v2")
    assert store.manifest()["segments"] == []  # stale tokens count as no index
    after = [h.chunk_id for h in HybridRetriever.open(settings).search("監管機構表示", k=5)]
    rebuilt = store.manifest()
    assert rebuilt["full_builds"] == 1 and rebuilt["tokenizer"].startswith("bigram-v2|")
    assert after == before


def test_a_killed_ingest_leaves_no_index_entry_for_an_uncommitted_document(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(1200))
    db = tmp_path / "db"
    manifest = db / "lexical" / "news" / "manifest.json"
    env = {**os.environ, "RAG_DOC_BATCH": "64"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--embedder", "hash"]
        + ["--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 120
    published = 0
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            published = len(json.loads(manifest.read_text())["segments"])
        except (OSError, ValueError):
            published = 0
        if published >= 3:  # a few batches committed: kill mid-run
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"

    settings = _settings(db)
    store = Store.open(settings, create=False)
    committed = store.committed_versions()
    indexed = LexicalStore.of(settings).open().doc_versions()
    assert indexed, "nothing was indexed before the kill"
    for doc_id, version in indexed.items():
        assert committed.get(doc_id) == version, f"{doc_id} indexed but not committed"
    assert len(committed) < 1200
    # A reader then sees exactly the committed documents.
    assert HybridRetriever.open(settings).refresh().doc_versions() == committed


REPLICA = r"""
import json, sys, time
from rag.core.config import Settings
from rag.retrieval.hybrid import HybridRetriever
settings = Settings.from_env({}, db=sys.argv[1], chroma_url=sys.argv[2], embedder="auto")
retriever = HybridRetriever.open(settings)
print("ready", flush=True)
deadline = time.monotonic() + 90
for line in sys.stdin:
    query = line.strip()
    if not query or time.monotonic() > deadline:
        break
    while True:  # bounded by the deadline: wait for the writer's article
        hits = retriever.search(query, k=5)
        if any("藍鯨" in h.text for h in hits) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(json.dumps([h.text[:20] for h in hits], ensure_ascii=False), flush=True)
"""


def test_two_replicas_over_one_chroma_server_share_one_index(tmp_path, chroma_server):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(30))
    db = tmp_path / "shared-db"
    args = [sys.executable, "-m", "rag.cli", "ingest", "--embedder", "hash"]
    store_args = ["--db", str(db), "--chroma-url", chroma_server]
    done = subprocess.run([*args, str(corpus), *store_args], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lexical = LexicalStore(db / "lexical" / "news")
    before = lexical.manifest()

    replicas = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, str(db), chroma_server],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for r in replicas:
            assert r.stdout.readline().strip() == "ready", r.stderr.read()
        # A writer adds an article while both replicas are up.
        extra = tmp_path / "extra"
        extra.mkdir()
        (extra / "b.jsonl").write_text(
            json.dumps({"id": "whale", "title": "藍鯨科技", "text": WHALE + article_text(99)})
            + "\n",
            encoding="utf-8",
        )
        done = subprocess.run([*args, str(extra), *store_args], capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
        for r in replicas:
            r.stdin.write("藍鯨科技擴建工廠\n")
            r.stdin.flush()
        for r in replicas:
            line = r.stdout.readline()
            assert "藍鯨" in line, (line, r.stderr.read() if r.poll() is not None else "")
    finally:
        for r in replicas:
            r.stdin.close()
            r.wait(timeout=60)
    after = lexical.manifest()
    # The readers neither rebuilt nor caught up: the writer's manifest was enough.
    assert after["full_builds"] == before["full_builds"]
    assert after["catch_ups"] == before["catch_ups"] == 0
    assert len(after["segments"]) == len(before["segments"]) + 1
