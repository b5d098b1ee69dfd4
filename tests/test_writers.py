"""One writer at a time per store: real `rag` subprocesses against embedded Chroma and a
`chroma run` server. Sequenced by files and messages, never by sleeps; every wait has a
generous deadline so a loaded machine slows the tests down instead of failing them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rag.core.config import Settings
from rag.core.lock import FileLock, LeaseLock, WriterBusy, WriterLost
from rag.core.store import Store, StoreError, _record_vector
from tests.lock_holder import HELD_DOC
from tests.synth import write_jsonl
from tests.test_ingest import _consistent

pytestmark = pytest.mark.integration

RAG = [sys.executable, "-m", "rag.cli"]
HOLDER = [sys.executable, str(Path(__file__).with_name("lock_holder.py"))]
DEADLINE = 180.0  # seconds: a bound for a loaded 2-core machine, not a speed check


def _hold(tmp_path: Path, *store_args: str, journal: bool = False, env=None):  # type: ignore[no-untyped-def]
    """A lock_holder process that holds the writer lock; returns (process, pid)."""
    ready = tmp_path / f"ready-{time.monotonic_ns()}"
    proc = subprocess.Popen(
        [*HOLDER, *store_args, "--ready", str(ready), *(["--journal"] if journal else [])],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + DEADLINE
    while not ready.exists():
        if proc.poll() is not None:
            pytest.fail(f"the lock holder exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the lock holder did not take the lock in time")
        time.sleep(0.05)
    return proc, int(ready.read_text())


def _release(proc: subprocess.Popen) -> None:
    proc.stdin.close()  # type: ignore[union-attr]
    assert proc.wait(timeout=DEADLINE) == 0


class Run:
    """A `rag` subprocess with its stdout and stderr in files."""

    def __init__(self, tmp_path: Path, args: list[str], env=None) -> None:  # type: ignore[no-untyped-def]
        stamp = time.monotonic_ns()
        self.out = tmp_path / f"out-{stamp}"
        self.err = tmp_path / f"err-{stamp}"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen([*RAG, *args], stdout=out, stderr=err, env=env)

    def wait_for_stderr(self, text: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while text not in self.err.read_text(encoding="utf-8", errors="replace"):
            if self.proc.poll() is not None:
                pytest.fail(f"exited before saying {text!r}: {self.err.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"no {text!r} on stderr in time")
            time.sleep(0.05)

    def finish(self) -> tuple[int, str, str]:
        code = self.proc.wait(timeout=DEADLINE)
        return code, self.out.read_text(encoding="utf-8"), self.err.read_text(encoding="utf-8")


def _ingest_args(*paths: Path, db: Path | None = None, url: str | None = None) -> list[str]:
    store = ["--db", str(db)] if db else ["--chroma-url", str(url)]
    return ["ingest", *map(str, paths), "--json", "--embedder", "hash", *store]


def _snapshot(settings: Settings) -> tuple[dict, dict]:
    store = Store.open(settings.with_(embedder="auto"), create=False)
    _consistent(store)
    records = {
        d: (r.version, r.n_chunks, r.content_hash, r.raw_hash, r.path)
        for d, r in store.doc_records().items()
    }
    chunks = {cid: text for cid, text, _ in store.iter_chunks()}
    return records, chunks


def _halves(tmp_path: Path, n: int = 40) -> tuple[Path, Path]:
    a = write_jsonl(tmp_path / "a.jsonl", range(0, n // 2))
    b = write_jsonl(tmp_path / "b.jsonl", range(n // 2, n))
    return a, b


# --- embedded store: a file lock -------------------------------------------------------


def test_concurrent_ingests_of_two_halves_equal_one_ingest_of_the_whole(tmp_path):
    a, b = _halves(tmp_path)
    whole, shared = tmp_path / "whole", tmp_path / "shared"
    done = Run(tmp_path, _ingest_args(a, b, db=whole)).finish()
    assert done[0] == 0, done[2]

    holder, pid = _hold(tmp_path, "--db", str(shared))  # both writers start while it holds
    runs = [Run(tmp_path, _ingest_args(half, db=shared)) for half in (a, b)]
    for run in runs:
        run.wait_for_stderr(f"waiting for the writer lock held by pid {pid}")
    _release(holder)
    results = [run.finish() for run in runs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert sorted(json.loads(out)["added"] for _, out, _ in results) == [20, 20]

    expected = _snapshot(Settings.from_env({}, db=whole))
    got = _snapshot(Settings.from_env({}, db=shared))
    assert got[0] == expected[0]  # same documents, versions, chunk counts, inputs
    assert got[1] == expected[1]  # same chunk ids and texts


def test_concurrent_ingests_of_the_same_input_store_it_once(tmp_path):
    a, _ = _halves(tmp_path)
    db = tmp_path / "db"
    holder, pid = _hold(tmp_path, "--db", str(db))
    runs = [Run(tmp_path, _ingest_args(a, db=db)) for _ in range(2)]
    for run in runs:
        run.wait_for_stderr(f"held by pid {pid}")
    _release(holder)
    reports = [json.loads(run.finish()[1]) for run in runs]
    assert sorted((r["added"], r["unchanged"]) for r in reports) == [(0, 20), (20, 0)]
    assert {r["documents"] for r in reports} == {20}


def test_no_wait_fails_fast_while_another_writer_holds_the_store(tmp_path):
    a, _ = _halves(tmp_path)
    db = tmp_path / "db"
    holder, pid = _hold(tmp_path, "--db", str(db))
    try:
        code, out, err = Run(tmp_path, [*_ingest_args(a, db=db), "--no-wait"]).finish()
        assert code == 2
        assert f"being written by pid {pid}" in err and "Traceback" not in err
        assert out == ""
    finally:
        _release(holder)
    code, out, _ = Run(tmp_path, [*_ingest_args(a, db=db), "--no-wait"]).finish()
    assert code == 0 and json.loads(out)["added"] == 20


def test_kill_9_of_the_holder_leaves_the_next_writer_free_to_repair(tmp_path):
    a, _ = _halves(tmp_path)
    db = tmp_path / "db"
    assert Run(tmp_path, _ingest_args(a, db=db)).finish()[0] == 0
    holder, _ = _hold(tmp_path, "--db", str(db), journal=True)  # mid-write: journal open
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=DEADLINE)
    # --no-wait: a stale lock would fail here instead of waiting, so this is the check
    # that the next writer proceeds at once.
    code, out, err = Run(tmp_path, [*_ingest_args(a, db=db), "--no-wait"]).finish()
    assert code == 0, err
    report = json.loads(out)
    assert (report["repaired"], report["unchanged"], report["documents"]) == (1, 20, 20)
    store = Store.open(Settings.from_env({}, db=db, embedder="auto"), create=False)
    assert HELD_DOC not in store.doc_records()
    assert sum(_consistent(store).values()) == report["chunks"]


def test_a_running_write_is_not_repaired_by_a_second_writer_and_readers_do_not_wait(tmp_path):
    a, _ = _halves(tmp_path)
    db = tmp_path / "db"
    first = json.loads(Run(tmp_path, _ingest_args(a, db=db)).finish()[1])
    holder, pid = _hold(tmp_path, "--db", str(db), journal=True)  # alive, journal open
    try:
        # Readers never take the lock: they run while it is held, and count only
        # committed chunks (the holder's are written but not committed).
        code, out, err = Run(tmp_path, ["info", "--json", "--db", str(db)]).finish()
        assert code == 0, err
        info = json.loads(out)
        assert (info["documents"], info["chunks"]) == (20, first["chunks"])
        code, out, err = Run(tmp_path, ["ask", "監管機構表示了什麼？", "--db", str(db)]).finish()
        assert code == 0 and out.startswith("Q: "), err

        waiting = Run(tmp_path, _ingest_args(a, db=db))
        waiting.wait_for_stderr(f"held by pid {pid}")
    finally:
        _release(holder)  # the holder commits its document
    code, out, err = waiting.finish()
    assert code == 0, err
    report = json.loads(out)
    assert report["repaired"] == 0 and report["documents"] == 21
    store = Store.open(Settings.from_env({}, db=db, embedder="auto"), create=False)
    counts = _consistent(store)
    assert counts[HELD_DOC] == store.doc_records()[HELD_DOC].n_chunks > 0


def test_writes_and_repair_need_the_writer_lock(tmp_path):
    store = Store.open(Settings.from_env({}, db=tmp_path / "db", embedder="hash"))
    with pytest.raises(StoreError, match="outside Store.writing"):
        store.repair()
    with pytest.raises(StoreError, match="outside Store.writing"):
        store.begin([("x", "v")])
    with store.writing(), store.writing():  # re-entrant in the holding thread
        assert store.repair() == 0


def test_the_file_lock_excludes_a_second_holder_in_the_same_process(tmp_path):
    first, second = FileLock(tmp_path), FileLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(WriterBusy, match=f"pid {os.getpid()}"):
            second.acquire(wait=False)
        seen: list[object] = []
        waiter = threading.Thread(target=lambda: second.acquire(on_wait=seen.append))
        waiter.start()
        deadline = time.monotonic() + DEADLINE
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen and waiter.is_alive()  # told who it waits for, and still waiting
    finally:
        first.release()
    waiter.join(timeout=DEADLINE)
    assert not waiter.is_alive()
    second.release()


def test_delete_document_takes_the_writer_lock(tmp_path):
    a, _ = _halves(tmp_path)
    db = tmp_path / "db"
    assert Run(tmp_path, _ingest_args(a, db=db)).finish()[0] == 0
    store = Store.open(Settings.from_env({}, db=db, embedder="auto"))
    doc_id = next(iter(store.doc_records()))
    holder, pid = _hold(tmp_path, "--db", str(db))
    try:
        with pytest.raises(WriterBusy, match=f"pid {pid}"):
            store.delete_document(doc_id, wait=False)
    finally:
        _release(holder)
    store.delete_document(doc_id, wait=False)
    assert doc_id not in store.doc_records()
    _consistent(store)


def test_a_long_lived_writer_after_another_process_wrote_keeps_every_vector(tmp_path):
    # The UI keeps one store open for hours; a CLI ingest may write in between. Writing
    # through the stale in-memory index overwrote the other process's vectors (measured:
    # 1,200 of 2,400 chunks left in the dense index). Sizes: past Chroma's 1,000-vector
    # index flush on both sides, which is what exposed it.
    (tmp_path / "c1").mkdir()
    (tmp_path / "c2").mkdir()
    (tmp_path / "c3").mkdir()
    write_jsonl(tmp_path / "c1" / "a.jsonl", range(0, 50))
    write_jsonl(tmp_path / "c2" / "b.jsonl", range(1000, 1400))
    write_jsonl(tmp_path / "c3" / "c.jsonl", range(5000, 5350))
    from ingest.pipeline import ingest

    settings = Settings.from_env({}, db=tmp_path / "db", embedder="hash")
    store = Store.open(settings)
    assert ingest([tmp_path / "c1"], settings, store=store).added == 50
    store.dense_search(store.embedder.embed_query("監管"), k=5)  # its index is in memory
    code, _, err = Run(tmp_path, _ingest_args(tmp_path / "c2", db=tmp_path / "db")).finish()
    assert code == 0, err
    assert ingest([tmp_path / "c3"], settings, store=store).added == 350

    probe = (
        "from rag.core.store import Store; from rag.core.config import Settings; "
        f"s = Store.open(Settings.from_env({{}}, db={str(tmp_path / 'db')!r}), create=False); "
        "n = s.count_chunks(); "
        "print(n, len(s.dense_search(s.embedder.embed_query('監管'), k=n)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=DEADLINE
    )
    assert done.returncode == 0, done.stderr[-2000:]
    committed, found = map(int, done.stdout.split())
    # HNSW search is approximate: allow 1% of the chunks to be missed at k = everything.
    assert found >= committed * 0.99, (committed, found)


def test_a_long_lived_reader_sees_another_process_s_new_vectors(tmp_path):
    from rag.retrieval.hybrid import HybridRetriever

    a, b = _halves(tmp_path, n=800)
    db = tmp_path / "db"
    assert Run(tmp_path, _ingest_args(a, db=db)).finish()[0] == 0
    settings = Settings.from_env({}, db=db)
    retriever = HybridRetriever.open(settings)
    store = retriever.store
    retriever.refresh()
    before = store.count_chunks()
    assert len(store.dense_search(store.embedder.embed_query("監管"), k=before)) >= before * 0.99
    assert Run(tmp_path, _ingest_args(b, db=db)).finish()[0] == 0
    retriever.refresh()  # notices the new generation
    after = store.count_chunks()
    assert after > before * 1.5
    found = len(store.dense_search(store.embedder.embed_query("監管"), k=after))
    assert found >= after * 0.99, (before, after, found)


# --- readers never create a store -------------------------------------------------------


@pytest.mark.parametrize("command", [["ask", "什麼？"], ["info"]])
def test_a_reader_never_creates_a_store(tmp_path, command):
    typo = tmp_path / "typo"
    code, out, err = Run(tmp_path, [*command, "--db", str(typo)]).finish()
    assert code == 2 and out == ""
    assert str(typo) in err and "rag ingest" in err and "Traceback" not in err
    assert not typo.exists()


def test_the_python_api_reader_never_creates_a_store(tmp_path):
    from rag.assistant import Assistant

    with pytest.raises(StoreError, match="no store at"):
        Assistant(db=tmp_path / "typo")
    assert not (tmp_path / "typo").exists()
    # The UI may create one, since uploads can fill it.
    assert Assistant(db=tmp_path / "new", create=True).retriever.store.count_documents() == 0


# --- Chroma server: a lease --------------------------------------------------------------


def test_the_lease_blocks_a_second_writer_and_is_taken_over_after_expiry(tmp_path, chroma_server):
    a, _ = _halves(tmp_path)
    env = {**os.environ, "RAG_LEASE_SECONDS": "4"}
    holder, pid = _hold(tmp_path, "--chroma-url", chroma_server, env=env)
    code, _, err = Run(tmp_path, [*_ingest_args(a, url=chroma_server), "--no-wait"], env).finish()
    assert code == 2 and f"being written by pid {pid}" in err, err

    waiting = Run(tmp_path, _ingest_args(a, url=chroma_server), env)
    waiting.wait_for_stderr(f"held by pid {pid}")
    holder.send_signal(signal.SIGKILL)  # no release: the lease must expire
    holder.wait(timeout=DEADLINE)
    code, out, err = waiting.finish()
    assert code == 0, err
    assert json.loads(out)["added"] == 20


def test_lease_contenders_never_both_hold_it(chroma_server):
    store = Store.open(Settings.from_env({}, chroma_url=chroma_server, embedder="hash"))

    def lease() -> LeaseLock:
        clock = lambda: store.client.heartbeat() / 1e9  # noqa: E731
        return LeaseLock(store.docs, clock, _record_vector, where="test", ttl=20)

    for _ in range(3):
        won, busy = _race([lease() for _ in range(4)])
        assert len(won) == 1 and len(busy) == 3
        won[0].check()
        won[0].release()  # a released lease is free at once, without waiting for expiry


def _race(contenders: list[LeaseLock]) -> tuple[list[LeaseLock], list[LeaseLock]]:
    """All contenders try at once (wait=False): (those that got it, those told busy)."""
    start = threading.Barrier(len(contenders))
    won: list[LeaseLock] = []
    busy: list[LeaseLock] = []

    def contend(lock: LeaseLock) -> None:
        start.wait()
        try:
            lock.acquire(wait=False)
            won.append(lock)
        except WriterBusy:
            busy.append(lock)

    threads = [threading.Thread(target=contend, args=(c,)) for c in contenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE)
    return won, busy


def test_a_lease_not_renewed_in_time_is_lost_and_taken_over(chroma_server):
    store = Store.open(Settings.from_env({}, chroma_url=chroma_server, embedder="hash"))
    clock = lambda: store.client.heartbeat() / 1e9  # noqa: E731
    first = LeaseLock(store.docs, clock, _record_vector, where="test", ttl=2)
    first.acquire()
    first._stop.set()  # a paused holder: no more renewals
    first._renewer.join()  # type: ignore[union-attr]
    second = LeaseLock(store.docs, clock, _record_vector, where="test", ttl=20)
    second.acquire()  # waits for the expiry, then takes over
    with pytest.raises(WriterLost):
        first.check()
    second.check()
    second.release()
    first.release()  # a lost lease is left alone


def test_a_reader_never_creates_a_collection_on_a_server(tmp_path, chroma_server):
    args = ["info", "--chroma-url", chroma_server, "--collection", "nosuch"]
    code, _, err = Run(tmp_path, args).finish()
    assert code == 2 and "no store at" in err and "nosuch" in err
    client = Store.open(Settings.from_env({}, chroma_url=chroma_server, embedder="hash")).client
    assert "nosuch" not in {c.name for c in client.list_collections()}
