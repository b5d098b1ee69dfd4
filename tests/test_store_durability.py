"""The store survives kill -9 mid-ingest, and works the same against a Chroma server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.core.config import Settings
from rag.core.store import Store
from tests.synth import write_jsonl
from tests.test_ingest import _consistent
from ui.serve import free_port

RAG = [sys.executable, "-m", "rag.cli"]


def _ingest_cmd(corpus: Path, *store_args: str) -> list[str]:
    return [*RAG, "ingest", str(corpus), "--json", "--embedder", "hash", *store_args]


@pytest.mark.parametrize("kill_at_mb", [3.5, 10.0])  # the finished store is ~17 MB
def test_kill_9_mid_ingest_then_rerun_leaves_a_complete_store(tmp_path, kill_at_mb):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    total = 1500
    write_jsonl(corpus / "a.jsonl", range(total))
    db = tmp_path / "db"
    sqlite = db / "chroma" / "chroma.sqlite3"
    # Small document batches, so the kill lands between commits.
    env = {**os.environ, "RAG_DOC_BATCH": "64"}
    proc = subprocess.Popen(
        _ingest_cmd(corpus, "--db", str(db)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if sqlite.exists() and sqlite.stat().st_size > kill_at_mb * 1e6:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"

    done = subprocess.run(
        _ingest_cmd(corpus, "--db", str(db)), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["added"] + report["unchanged"] == total
    assert report["added"] > 0 and report["unchanged"] > 0, "the kill did not land mid-run"
    assert report["documents"] == total
    counts = _consistent(Store.open(Settings.from_env({}, db=db, embedder="auto")))
    assert sum(counts.values()) == report["chunks"]

    again = subprocess.run(
        _ingest_cmd(corpus, "--db", str(db)), capture_output=True, text=True, timeout=300
    )
    assert json.loads(again.stdout)["unchanged"] == total


def test_ingest_into_a_chroma_server(tmp_path, chroma_server):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", range(30))
    local = tmp_path / "local"  # --db: with a server, only the lexical index is local
    args = _ingest_cmd(corpus, "--chroma-url", chroma_server, "--db", str(local))
    first = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["added"], report["documents"]) == (30, 30)
    assert [p.name for p in local.iterdir()] == ["lexical"]

    again = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=300).stdout)
    assert (again["added"], again["unchanged"], again["chunks"]) == (0, 30, report["chunks"])

    store = Store.open(Settings.from_env({}, chroma_url=chroma_server, embedder="auto"))
    assert store.embedder.config()["kind"] == "hash"
    counts = _consistent(store)
    assert sum(counts.values()) == report["chunks"]
    hits = store.dense_search(store.embedder.embed_query("監管機構表示"), k=5)
    assert len(hits) == 5


def test_unreachable_chroma_server_is_a_clear_error(tmp_path):
    port = free_port()
    done = subprocess.run(
        _ingest_cmd(tmp_path, "--chroma-url", f"http://127.0.0.1:{port}"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
