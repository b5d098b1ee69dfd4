"""Ingest end to end on real files and an embedded Chroma store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest import pipeline
from ingest.pipeline import canonical_url, ingest
from rag.core.config import Settings
from rag.core.store import Store, StoreError
from tests.synth import article_text, write_jsonl

pytestmark = pytest.mark.integration

RAG = [sys.executable, "-m", "rag.cli"]


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings.from_env({}, db=tmp_path / "db", embedder="hash", **kw)


def _consistent(store: Store) -> dict[str, int]:
    """Every document complete and alone: its chunks are one version, n_chunks of them."""
    records = store.doc_records()
    per_doc: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for _, page in store._pages(store.chunks, include=["metadatas"]):
        for meta in page["metadatas"]:
            per_doc.setdefault(meta["doc_id"], set()).add(meta["version"])
            counts[meta["doc_id"]] = counts.get(meta["doc_id"], 0) + 1
    assert set(per_doc) == set(records), "chunks without a document record, or the reverse"
    assert not store.docs.get(where={"kind": "journal"})["ids"], "an open journal remains"
    for doc_id, record in records.items():
        assert per_doc[doc_id] == {record.version}
        assert counts[doc_id] == record.n_chunks
    return counts


def test_ingest_then_unchanged_reingest_does_no_work(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(20))
    settings = _settings(tmp_path)
    first = ingest([corpus], settings)
    assert (first.added, first.failed, first.documents) == (20, [], 20)
    assert first.chunks >= 20
    counts = _consistent(Store.open(settings))
    assert sum(counts.values()) == first.chunks

    calls = {"clean": 0}
    real = pipeline.clean_raw

    def counting(raw):  # type: ignore[no-untyped-def]
        calls["clean"] += 1
        return real(raw)

    monkeypatch.setattr(pipeline, "clean_raw", counting)
    again = ingest([corpus], settings)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 20)
    assert calls["clean"] == 0
    assert again.chunks == first.chunks


def test_changed_document_replaces_its_chunks(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = write_jsonl(corpus / "a.jsonl", range(5))
    settings = _settings(tmp_path)
    ingest([corpus], settings)
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[2])
    record["text"] = article_text(999, sentences=24)  # longer: more chunks than before
    lines[2] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest([corpus], settings)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    store = Store.open(settings)
    _consistent(store)
    texts = [text for _, text, meta in store.iter_chunks() if meta["doc_id"]]
    assert any("999-" in t for t in texts)
    assert not any("編號2-" in t for t in texts), "stale chunks of the old version remain"


def test_same_article_under_two_paths_is_stored_once(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    write_jsonl(corpus / "a.jsonl", range(3))
    write_jsonl(corpus / "sub" / "copy.jsonl", range(3))
    report = ingest([corpus], _settings(tmp_path))
    assert (report.added, report.duplicates, report.documents) == (3, 3, 3)


def test_same_content_different_identity_is_a_duplicate(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = article_text(7)
    rows = [
        {"id": "one", "title": "標題", "text": text},
        {"id": "two", "title": "標題", "text": text},
    ]
    (corpus / "a.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    report = ingest([corpus], _settings(tmp_path))
    assert (report.added, report.duplicates) == (1, 1)


def test_near_duplicates_are_reported_and_kept(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = article_text(11, sentences=20)
    syndicated = text.replace("台北", "臺北", 1) + "\n（轉載自另一家媒體）"
    rows = [
        {"id": "outlet-a", "title": "報導A", "text": text, "source": "甲報"},
        {"id": "outlet-b", "title": "報導B", "text": syndicated, "source": "乙報"},
        {"id": "other", "title": "無關", "text": article_text(12)},
    ]
    (corpus / "a.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    report = ingest([corpus], _settings(tmp_path))
    assert report.added == 3
    assert len(report.near_duplicates) == 1
    assert report.near_duplicates[0][2] >= 0.8  # the reporting threshold


def test_canonical_url_drops_tracking_and_fragment():
    a = canonical_url("HTTPS://News.Example.com/a/1/?utm_source=x&id=3#top")
    b = canonical_url("https://news.example.com/a/1?id=3")
    assert a == b == "https://news.example.com/a/1?id=3"


def test_bad_inputs_are_reported_and_the_rest_is_stored(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "good.jsonl", range(3))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.html").write_bytes(bytes(range(256)) * 64)
    (corpus / "undecodable.txt").write_bytes(b"\xff\xfe\xfa" * 500 + b"\x00\x81" * 300)
    (corpus / "menu_only.txt").write_text("首頁\n新聞\n財經\n登入\n", encoding="utf-8")
    with (corpus / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (corpus / "slides.pdf").write_bytes(b"%PDF-1.4")
    (corpus / "broken.jsonl").write_text('{"text": "ok"\nnot json\n{"title": "x"}\n')
    args = [
        *RAG,
        "ingest",
        str(corpus),
        str(tmp_path / "missing.txt"),
        "--json",
        "--db",
        str(tmp_path / "db"),
        "--embedder",
        "hash",
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] == 3 and summary["documents"] == 3
    failed = {Path(f["path"].split(":")[0]).name: f["error"] for f in summary["failed"]}
    expected = {
        "empty.txt",
        "binary.html",
        "undecodable.txt",
        "menu_only.txt",
        "huge.txt",
        "slides.pdf",
        "broken.jsonl",
        "missing.txt",
    }
    assert expected <= set(failed), failed
    assert "empty" in failed["empty.txt"]
    assert "limit" in failed["huge.txt"]
    assert "unsupported" in failed["slides.pdf"]
    assert "no such file" in failed["missing.txt"]
    assert sum(1 for f in summary["failed"] if "broken.jsonl" in f["path"]) == 3

    nothing = subprocess.run(
        [*RAG, "ingest", str(corpus / "empty.txt"), "--json", "--db", str(tmp_path / "db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert nothing.returncode == 2


def test_other_embedder_on_existing_store_is_an_error(tmp_path, tiny_st_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(2))
    ingest([corpus], _settings(tmp_path))
    with pytest.raises(StoreError, match="built with embedder"):
        Store.open(Settings.from_env({}, db=tmp_path / "db", embedder=str(tiny_st_model)))
    # "auto" follows the store's own embedder.
    store = Store.open(Settings.from_env({}, db=tmp_path / "db", embedder="auto"))
    assert store.embedder.config()["kind"] == "hash"


def test_sentence_transformers_embedder_end_to_end(tmp_path, tiny_st_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(4))
    settings = Settings.from_env({}, db=tmp_path / "db", embedder=str(tiny_st_model))
    report = ingest([corpus], settings)
    assert report.added == 4 and "sentence-transformers" in report.embedder
    done = subprocess.run(
        [*RAG, "info", "--json", "--db", str(tmp_path / "db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    info = json.loads(done.stdout)
    assert info["documents"] == 4 and "sentence-transformers" in info["embedder"]
    store = Store.open(settings)
    hits = store.dense_search(store.embedder.embed_query("監管機構"), k=3)
    assert len(hits) == 3 and all(-1.01 <= h[1] <= 1.01 for h in hits)


def test_hash_store_indexes_folded_vectors_and_ranks_at_full_dimension(tmp_path):
    from rag.core.types import embedding_input

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(12))
    settings = _settings(tmp_path)
    ingest([corpus], settings)
    store = Store.open(settings)
    assert (store.embedder.dim, store.index_dim) == (1024, 512)
    stored = store.chunks.get(limit=3, include=["embeddings"])["embeddings"]
    assert len(stored[0]) == 512  # what HNSW holds in memory
    query = store.embedder.embed_query(article_text(4)[:60])
    hits = store.dense_search(query, k=8)
    # Scores are the full 1024-d cosines of the chunks as ingest embedded them, best first.
    inputs = [embedding_input(meta["title"], text) for _, _, text, meta in hits]
    exact = store.embedder.embed_documents(inputs) @ query
    np.testing.assert_allclose([h[1] for h in hits], exact, rtol=1e-5, atol=1e-6)
    assert [h[1] for h in hits] == sorted((h[1] for h in hits), reverse=True)
    assert hits[0][3]["title"] == "測試新聞第4號"
    # A chunk the index did not return (here: filtered out of Chroma's query) but given in
    # ``also`` (as the lexical side's hits are) is scored exactly and ranked among the hits.
    others = {"title": {"$ne": "測試新聞第4號"}}
    missed = store.dense_search(query, k=8, where=others)
    assert all(h[3]["title"] != "測試新聞第4號" for h in missed)
    recovered = store.dense_search(query, k=8, where=others, also=[hits[0][0]])
    assert recovered[0] == hits[0] and recovered[1:] == missed[:7]
    done = subprocess.run(
        [*RAG, "info", "--json", "--db", str(tmp_path / "db")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stdout)["vectors"] == "512-d index, re-scored at 1024-d"


def test_store_from_before_folding_keeps_its_full_dimension(tmp_path):
    import chromadb

    from rag.core.embed import HashEmbedder
    from rag.core.store import HNSW, _embedding_function_class

    # A store as earlier versions made it: no "index_dim" in the collection metadata.
    config = HashEmbedder().config()
    client = chromadb.PersistentClient(path=str(tmp_path / "db" / "chroma"))
    ef = _embedding_function_class()
    client.create_collection(
        "news",
        embedding_function=ef(config),
        metadata={"embedder": json.dumps(config, sort_keys=True)},
        configuration={"hnsw": HNSW},
    )
    client.create_collection("news-docs", embedding_function=ef())
    del client
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(6))
    settings = _settings(tmp_path)
    assert ingest([corpus], settings).added == 6
    store = Store.open(settings)
    assert store.index_dim == 1024
    assert len(store.chunks.get(limit=1, include=["embeddings"])["embeddings"][0]) == 1024
    hits = store.dense_search(store.embedder.embed_query(article_text(2)[:60]), k=3)
    assert hits[0][3]["title"] == "測試新聞第2號"


def test_minhash_separates_unrelated_texts_and_finds_edited_copies():
    import random

    from ingest.dedup import near_duplicates, signature, similarity

    rng = random.Random(3)

    def prose(n: int) -> str:
        return "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))

    texts = [prose(600) for _ in range(30)]
    sigs = {str(i): signature(t) for i, t in enumerate(texts)}
    assert max(similarity(sigs["0"], sigs[str(i)]) for i in range(1, 30)) < 0.2
    edited = texts[5][:280] + "（本報訊）" + texts[5][280:590]
    assert similarity(signature(edited), sigs["5"]) > 0.8
    pairs = near_duplicates({"copy": signature(edited)}, sigs)
    assert [(a, b) for a, b, _ in pairs] == [("copy", "5")]


def test_a_store_inside_the_corpus_folder_is_not_ingested(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(2))
    settings = Settings.from_env({}, db=corpus / "db", embedder="hash")
    ingest([corpus], settings)
    again = ingest([corpus], settings)
    assert again.failed == [] and again.unchanged == 2


def test_changed_furniture_is_unchanged_but_a_corrected_date_is_updated(tmp_path, monkeypatch):
    from tests.synth import text_dump

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = corpus / "page.txt"
    page.write_text(text_dump(5), encoding="utf-8")
    records = tmp_path / "r.jsonl"
    row = {"id": "r1", "title": "測試", "published": "2025-03-01", "text": article_text(8)}
    records.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    settings = _settings(tmp_path)
    assert ingest([corpus, records], settings).added == 2

    embedded = {"n": 0}
    store = Store.open(settings)
    real = store.embedder.embed_documents

    def counting(texts):  # type: ignore[no-untyped-def]
        embedded["n"] += len(texts)
        return real(texts)

    monkeypatch.setattr(store.embedder, "embed_documents", counting)
    # New bytes, same article: only the page furniture (share bar) changed.
    page.write_text(text_dump(5).replace("分享給朋友：", "分享到社群："), encoding="utf-8")
    report = ingest([corpus, records], settings, store=store)
    assert (report.unchanged, report.updated, embedded["n"]) == (2, 0, 0)
    again = ingest([corpus, records], settings, store=store)
    assert again.unchanged == 2  # the new raw hash was recorded

    row["published"] = "2025-03-02"
    records.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    fixed = ingest([corpus, records], settings, store=store)
    assert (fixed.updated, fixed.unchanged) == (1, 1) and embedded["n"] > 0
    dates = {m.get("published") for _, _, m in store.iter_chunks() if "測試" == m["title"]}
    assert dates == {"2025-03-02"}
    _consistent(store)
