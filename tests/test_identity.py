"""Identity rules: within one run an identity belongs to the first input that has it; a
later one with other content is a reported conflict (never a crash, never a silent
replace), and the rest of the batch is stored. Across runs, new content is an update."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from rag.core.config import Settings
from rag.core.store import Store
from tests.synth import article_text, write_jsonl
from tests.test_ingest import _consistent

pytestmark = pytest.mark.integration

RAG = [sys.executable, "-m", "rag.cli"]
BATCHES = [512, 1]  # the default, and one document per batch (RAG_DOC_BATCH=1)


def _settings(tmp_path: Path, batch: int) -> Settings:
    return Settings.from_env({}, db=tmp_path / "db", embedder="hash", doc_batch=batch)


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _texts_by_doc(store: Store) -> dict[str, str]:
    """Each document's chunk texts, in order (neighbours overlap by a sentence)."""
    texts: dict[str, list[tuple[int, str]]] = {}
    for _, text, meta in store.iter_chunks():
        texts.setdefault(meta["doc_id"], []).append((meta["index"], text))
    return {d: "".join(t for _, t in sorted(parts)) for d, parts in texts.items()}


def _html(url: str, seed: int) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in article_text(seed, sentences=16).split("\n"))
    return (
        f'<html><head><title>報導第{seed}號</title><link rel="canonical" href="{url}">'
        f"</head><body><article><h1>報導第{seed}號</h1>{paragraphs}</article></body></html>"
    )


def _check_conflict(tmp_path: Path, batch: int, first: str, second: str, identity: str) -> None:
    """Runs the corpus; exactly one conflict (first kept), everything else stored."""
    settings = _settings(tmp_path, batch)
    report = ingest([tmp_path / "corpus"], settings)
    assert len(report.conflicts) == 1, report.conflicts
    conflict = report.conflicts[0]
    assert (conflict.first, conflict.second) == (first, second)
    assert conflict.identity == identity
    assert report.exit_code == 1 and not report.failed
    assert report.as_json()["conflicts"][0]["second"] == second
    store = Store.open(settings)
    _consistent(store)
    records = store.doc_records()
    assert report.documents == len(records) == report.added
    assert records[conflict.doc_id].path == first  # the first input kept
    again = ingest([tmp_path / "corpus"], settings)  # stable: the same conflict, no change
    assert (again.added, again.updated, len(again.conflicts)) == (0, 0, 1)


@pytest.mark.parametrize("batch", BATCHES)
def test_jsonl_lines_with_the_same_id_and_other_text(tmp_path, batch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [
        {"id": "a", "title": "甲", "text": article_text(1)},
        {"id": "dup", "title": "第一版", "text": article_text(2)},
        {"id": "b", "title": "乙", "text": article_text(3)},
        {"id": "dup", "title": "第二版", "text": article_text(4)},
        {"id": "c", "title": "丙", "text": article_text(5)},
    ]
    path = _jsonl(corpus / "a.jsonl", rows)
    _check_conflict(tmp_path, batch, f"{path}:2", f"{path}:4", "id:dup")
    store = Store.open(_settings(tmp_path, batch))
    titles = {r.title for r in store.doc_records().values()}
    assert titles == {"甲", "第一版", "乙", "丙"}  # the first kept, never replaced
    texts = "".join(_texts_by_doc(store).values())
    assert "編號2-" in texts and "編號4-" not in texts  # article_text(n) marks its lines


@pytest.mark.parametrize("batch", BATCHES)
def test_ids_5_and_quoted_5_are_one_identity(tmp_path, batch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [
        {"id": 5, "title": "數字", "text": article_text(6)},
        {"id": "5", "title": "字串", "text": article_text(7)},
        {"id": 6, "title": "其他", "text": article_text(8)},
    ]
    path = _jsonl(corpus / "a.jsonl", rows)
    _check_conflict(tmp_path, batch, f"{path}:1", f"{path}:2", "id:5")


@pytest.mark.parametrize("batch", BATCHES)
def test_two_html_pages_with_the_same_canonical_url(tmp_path, batch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    url = "https://news.example.com/2025/08/story"
    (corpus / "a.html").write_text(_html(url, 10), encoding="utf-8")
    (corpus / "b.html").write_text(_html(url + "/", 11), encoding="utf-8")
    (corpus / "c.html").write_text(_html("https://news.example.com/other", 12), "utf-8")
    _check_conflict(
        tmp_path,
        batch,
        str((corpus / "a.html").resolve()),
        str((corpus / "b.html").resolve()),
        "url:" + url,
    )


@pytest.mark.parametrize("batch", BATCHES)
def test_urls_differing_only_by_tracking_parameters_or_host_case(tmp_path, batch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [
        {"url": "https://news.example.com/a/1", "title": "原文", "text": article_text(20)},
        {
            "url": "https://News.Example.COM/a/1?utm_source=feed",
            "title": "追蹤",
            "text": article_text(21),
        },
        {"url": "https://news.example.com/a/2", "title": "另一篇", "text": article_text(22)},
    ]
    path = _jsonl(corpus / "a.jsonl", rows)
    _check_conflict(tmp_path, batch, f"{path}:1", f"{path}:2", "url:https://news.example.com/a/1")


@pytest.mark.parametrize("batch", BATCHES)
def test_identical_content_repeated_is_a_duplicate_not_a_conflict(tmp_path, batch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    row = {"id": "same", "title": "同一篇", "text": article_text(30)}
    reordered = {"text": row["text"], "title": row["title"], "id": row["id"]}  # other bytes
    _jsonl(corpus / "a.jsonl", [row, reordered, {"id": "x", "text": article_text(31)}])
    report = ingest([corpus], _settings(tmp_path, batch))
    assert (report.added, report.duplicates, report.conflicts) == (2, 1, [])
    assert report.exit_code == 0


@pytest.mark.parametrize("batch", BATCHES)
def test_across_runs_new_content_under_an_identity_is_an_update(tmp_path, batch):
    settings = _settings(tmp_path, batch)
    first = _jsonl(
        tmp_path / "first.jsonl", [{"id": "n1", "title": "初稿", "text": article_text(40)}]
    )
    assert ingest([first], settings).added == 1
    fixed = _jsonl(
        tmp_path / "fixed.jsonl", [{"id": "n1", "title": "更正", "text": article_text(41)}]
    )
    report = ingest([fixed], settings)
    assert (report.updated, report.conflicts) == (1, [])
    assert {r.title for r in Store.open(settings).doc_records().values()} == {"更正"}


def test_the_stored_version_given_again_beside_a_correction_is_a_conflict(tmp_path):
    settings = _settings(tmp_path, 512)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    old = _jsonl(corpus / "b_old.jsonl", [{"id": "n1", "title": "初稿", "text": article_text(50)}])
    assert ingest([corpus], settings).added == 1
    new = _jsonl(corpus / "a_new.jsonl", [{"id": "n1", "title": "更正", "text": article_text(51)}])
    report = ingest([corpus], settings)  # a_new first (sorted), then the old bytes
    assert report.updated == 1 and report.unchanged == 0
    assert [(c.first, c.second) for c in report.conflicts] == [(f"{new}:1", f"{old}:1")]
    assert {r.title for r in Store.open(settings).doc_records().values()} == {"更正"}


def test_conflicts_in_the_cli_summary_and_exit_code(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [{"id": "k", "text": article_text(60)}, {"id": "k", "text": article_text(61)}]
    path = _jsonl(corpus / "a.jsonl", rows)
    args = [*RAG, "ingest", str(corpus), "--db", str(tmp_path / "db"), "--embedder", "hash"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "1 conflicts" in done.stdout
    assert f"conflict:   {path}:2: same identity (id:k) as {path}:1" in done.stdout
    as_json = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=300)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["conflicts"][0]["identity"] == "id:k"


def test_a_failed_batch_write_is_rolled_back_and_reported_and_the_rest_stored(
    tmp_path, monkeypatch
):
    from chromadb.errors import DuplicateIDError

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    path = write_jsonl(corpus / "a.jsonl", range(8))
    settings = _settings(tmp_path, 4)
    assert ingest([corpus], settings).added == 8
    before = _texts_by_doc(Store.open(settings))

    updates = [{"id": f"doc-{i}", "text": article_text(100 + i)} for i in range(8)]
    _jsonl(path, updates)  # the same 8 ids, new texts: 8 updates
    write_jsonl(corpus / "b.jsonl", range(200, 204))  # 4 new documents
    store = Store.open(settings)
    real = store.write_chunks
    calls = {"n": 0}

    def failing_second_batch(chunks, vectors):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            real(chunks[: len(chunks) // 2], vectors[: len(chunks) // 2])  # half written
            raise DuplicateIDError("Expected IDs to be unique")
        return real(chunks, vectors)

    monkeypatch.setattr(store, "write_chunks", failing_second_batch)
    report = ingest([corpus], settings, store=store)
    assert len(report.failed) == 4 and all("not stored" in f.error for f in report.failed)
    assert all("DuplicateIDError" in f.error for f in report.failed)
    assert (report.updated, report.added) == (4, 4)
    assert report.exit_code == 1 and report.documents == 12
    counts = _consistent(store)
    assert sum(counts.values()) == report.chunks
    after = _texts_by_doc(store)
    failed_ids = {d for d in before if after[d] == before[d]}
    assert len(failed_ids) == 4  # the failed batch kept its committed versions

    monkeypatch.undo()
    fixed = ingest([corpus], settings)
    assert (fixed.updated, fixed.failed, fixed.repaired) == (4, [], 0)
    _consistent(Store.open(settings))
