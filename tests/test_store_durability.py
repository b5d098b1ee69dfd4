"""The store survives kill -9 mid-ingest, and works the same against a Chroma server.

The kill is sequenced by an event the ingest emits (its progress callback, through
tests/ingest_runner.py), never by sleeps or file sizes."""

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
from rag.core.net import free_port
from rag.core.store import Store
from tests.synth import write_jsonl
from tests.test_ingest import _consistent

pytestmark = pytest.mark.integration

RAG = [sys.executable, "-m", "rag.cli"]
RUNNER = [sys.executable, str(Path(__file__).with_name("ingest_runner.py"))]
DEADLINE = 180.0  # seconds: a bound for a loaded 2-core machine, not a speed check
BATCH = 64  # documents per commit (RAG_DOC_BATCH), so a run has many commits


def _ingest_cmd(corpus: Path, *store_args: str) -> list[str]:
    return [*RAG, "ingest", str(corpus), "--json", "--embedder", "hash", *store_args]


@pytest.mark.parametrize("kill_after", [200, 1000])  # inputs read: early and late in the run
def test_kill_9_mid_ingest_then_rerun_leaves_a_complete_store(tmp_path, kill_after):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    total = 1500
    write_jsonl(corpus / "a.jsonl", range(total))
    db = tmp_path / "db"
    mark, err = tmp_path / "read", tmp_path / "stderr"
    env = {**os.environ, "RAG_DOC_BATCH": str(BATCH)}
    args = ["--db", str(db), "--mark-at", str(kill_after), "--mark", str(mark), str(corpus)]
    with err.open("wb") as stderr:
        proc = subprocess.Popen([*RUNNER, *args], stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    # Killed as soon as it reports input `kill_after` read: by then the batches before
    # it are committed, and the run goes on (reading, embedding, writing the next batch).
    deadline = time.monotonic() + DEADLINE
    while not mark.exists():
        if proc.poll() is not None:
            pytest.fail(f"the ingest ended before input {kill_after}: {err.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the ingest did not read {kill_after} inputs in time")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"

    done = subprocess.run(
        _ingest_cmd(corpus, "--db", str(db)), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["added"] + report["unchanged"] == total
    # Every batch committed before the mark survived; the rest was added by the rerun.
    committed = (kill_after - 1) // BATCH * BATCH
    assert committed <= report["unchanged"] < total and report["added"] > 0
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
