"""Upload ingests as background jobs: a queue, one job at a time per store, each job in a
child process.

Why a child process: an ingest in the server process held the GIL and made every
question reload the chunk table after each committed batch (a 19 MB upload stalled
everyone for two minutes and left the server at 1.26 GB). In a child, questions keep
their own interpreter, the child's memory goes back to the system when it exits, and a
crash in it (or kill -9) leaves the server running; the store's journal undoes half a
batch. While a job runs the server keeps answering from the snapshot it has loaded; the
upload's articles become searchable when the job ends and the server reopens the store.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rag.core.config import Settings
from rag.core.files import file_sha256
from rag.core.store import DocRecord, Store
from ui.corpus import safe_name

log = logging.getLogger(__name__)

MAX_WAITING_JOBS = 8  # queued uploads; each holds its files on disk until it runs
JOBS_KEPT = 50  # finished jobs remembered for their pages; older ones are dropped
# The child reports progress at most this often: a 19 MB jsonl has ~13,000 units, and a
# message per unit would cost more than the page can show (it polls once a second).
PROGRESS_EVERY = 0.25
CHILD_JOIN = 10.0  # seconds to wait for a child to exit after it sent its result
HASH_CHARS = 16  # hex digits of the content hash in a stored upload's name (64 bits)
INCOMING = "incoming"  # uploads/<INCOMING>/<job>/: accepted files waiting for their job

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class ReaderStore(Store):
    """The server's store. Its generation can be held while a job in another process
    writes, so the retriever keeps the table it has instead of reloading it after every
    committed batch (that reload, not the GIL, was most of the wait: p95 of a question
    during a 19 MB upload fell from 12 s to under 1 s in a hand measurement)."""

    held: str | None = None

    def generation(self) -> str:
        return self.held if self.held is not None else super().generation()

    @classmethod
    def of(cls, store: Store) -> ReaderStore:
        """``store`` as a ReaderStore (same client, collections, embedder, index)."""
        if isinstance(store, cls):
            return store
        return cls.over(store)


@dataclass(frozen=True)
class Upload:
    """One accepted file of a job: the name the user gave it, where it waits."""

    name: str
    path: Path


@dataclass
class JobResult:
    """What a finished job did. ``failed`` holds (file name shown to the user, reason);
    ``outcome`` is an i18n key and its values (replace jobs only)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    outcome: tuple[str, dict[str, Any]] | None = None


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass
class Job:
    """An upload waiting, running or finished. ``replace``: the doc_id the upload is to
    replace (a deliberate user action), else None."""

    owner: str  # the browser session that submitted it
    uploads: list[Upload]
    replace: str | None = None
    id: str = field(default_factory=new_job_id)
    state: str = QUEUED
    done: int = 0  # input units read so far (a file, or a .jsonl line)
    total: int = 0  # units expected
    ahead: int = 0  # jobs ahead in the queue (queued jobs only)
    result: JobResult | None = None
    error: str | None = None  # why the job stopped, when it failed as a whole

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.uploads]

    @property
    def active(self) -> bool:
        return self.state in (QUEUED, RUNNING)


def count_units(path: Path) -> int:
    """Input units in a file: non-blank lines of a .jsonl, else 1 (for the progress bar)."""
    if path.suffix.lower() != ".jsonl":
        return 1
    with path.open("rb") as src:
        return max(1, sum(1 for line in src if line.strip()))


def stored_name(digest: str, name: str) -> str:
    """The name an upload is kept under: its content hash, then its own name. Two
    different files with the same name get different names (so different identities
    when the article has no URL or id); the same bytes under the same name get the same
    one (so a re-upload is recognised as unchanged)."""
    return f"{digest[:HASH_CHARS]}-{safe_name(name)}"


def referenced_files(records: Iterable[DocRecord]) -> set[str]:
    """Resolved paths of the files stored documents came from (a .jsonl document's path
    carries ``:line``)."""
    paths: set[str] = set()
    for record in records:
        paths.add(record.path)
        head, sep, tail = record.path.rpartition(":")
        if sep and tail.isdigit():
            paths.add(head)
    return paths


def prune_uploads(uploads: Path, records: Iterable[DocRecord]) -> list[Path]:
    """Delete stored uploads no document comes from (refused, failed, duplicate or
    deleted ones). Only files directly in ``uploads``; jobs' incoming folders are left."""
    if not uploads.is_dir():
        return []
    keep = referenced_files(records)
    removed = []
    for path in uploads.iterdir():
        if path.is_file() and str(path.resolve()) not in keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _docs_from(records: dict[str, DocRecord], staged: Path) -> list[DocRecord]:
    where = str(staged)
    return [r for r in records.values() if r.path == where or r.path.startswith(where + ":")]


def replace_outcome(
    store: Store, report: Any, staged: Path, old_id: str
) -> tuple[str, dict[str, Any]]:
    """After ingesting the one file of a replace job: delete the article it replaces
    when the upload was stored as a different article, and say what happened."""
    records = store.doc_records()
    old = records.get(old_id)
    if report.failed:
        title = old.title if old else old_id
        return "replace_kept", {"title": title, "reason": report.failed[0].error}
    if old is None:
        return "replace_gone", {}
    if report.duplicate_of:
        twin = report.duplicate_of[0][1]
        if twin == old_id:
            return "replace_same", {"title": old.title}
        other = records.get(twin)
        return "replace_twin", {"title": old.title, "other": other.title if other else twin}
    mine = _docs_from(records, staged)
    if len(mine) != 1:
        return "replace_many", {"title": old.title, "n": len(mine)}
    new = mine[0]
    if new.doc_id == old_id:  # the same article (its URL or id): updated in place
        key = "replace_same" if report.unchanged else "replaced"
        return key, {"title": old.title, "old": old.title, "new": new.title}
    if report.unchanged:  # the file is already stored, as another article
        return "replace_twin", {"title": old.title, "other": new.title}
    store.delete_document(old_id)
    return "replaced", {"old": old.title, "new": new.title}


def run_child(settings: Settings, paths: list[str], replace_id: str | None, conn: Any) -> None:
    """The job's process: ingest ``paths`` (taking the store's writer lock inside
    ``ingest``), report progress and the result over ``conn``."""
    try:
        from ingest.pipeline import ingest

        store = Store.open(settings)
        count = 0
        last = 0.0

        def progress(n: int) -> None:
            nonlocal count, last
            count += n
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY:
                conn.send(("progress", count))
                last = now

        report = ingest(paths, settings, store=store, progress=progress)
        conn.send(("progress", count))
        outcome = None
        if replace_id is not None:
            outcome = replace_outcome(store, report, Path(paths[0]), replace_id)
        result = JobResult(
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            duplicates=report.duplicates,
            failed=[(f.path, f.error) for f in report.failed],
            documents=store.count_documents(),
            chunks=store.count_chunks(),
            outcome=outcome,
        )
        conn.send(("done", result))
    except BaseException as exc:  # reported to the page; details stay in the server log
        log.exception("upload job failed")
        conn.send(("error", type(exc).__name__))
    finally:
        conn.close()


class JobRunner:
    """Runs upload jobs one at a time (one writer per store), in the order submitted.

    ``before`` runs as a job starts and ``after`` once it ended (the server holds and
    then reopens its store there); both run on the runner's thread, under
    ``write_lock``, which in-process writes (deleting an article) take too.
    """

    def __init__(
        self,
        settings: Settings,
        uploads: Path,
        before: Callable[[], None] = lambda: None,
        after: Callable[[], list[DocRecord]] = lambda: [],
    ) -> None:
        self.settings = settings
        self.uploads = uploads
        self.before = before
        self.after = after  # returns the stored records, to prune uploads against
        self.write_lock = threading.Lock()
        self.finished = 0  # jobs finished so far: pages compare it to notice a change
        self._cond = threading.Condition()
        self._queue: deque[Job] = deque()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._process: Any = None
        self._stopping = False
        self._clear_incoming()

    # Submitting and looking -----------------------------------------------------------
    def incoming(self, job_id: str) -> Path:
        """The folder where a job's accepted files wait."""
        return self.uploads / INCOMING / job_id

    def discard(self, job_id: str) -> None:
        """Delete the files of a job that will not be submitted."""
        shutil.rmtree(self.incoming(job_id), ignore_errors=True)

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False when the queue is full (its files are then deleted)."""
        job.total = sum(count_units(u.path) for u in job.uploads)
        with self._cond:
            if self._stopping or len(self._queue) >= MAX_WAITING_JOBS:
                self.discard(job.id)
                return False
            self._queue.append(job)
            self._jobs[job.id] = job
            self._forget_old()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="upload-jobs", daemon=True)
                self._thread.start()
            self._cond.notify()
        return True

    def jobs_of(self, owner: str) -> list[Job]:
        """Copies of ``owner``'s jobs, oldest first, queued ones with their place."""
        with self._cond:
            waiting = {job.id: place for place, job in enumerate(self._queue)}
            running = any(job.state == RUNNING for job in self._jobs.values())
            return [
                replace(job, ahead=waiting.get(job.id, 0) + int(running))
                for job in self._jobs.values()
                if job.owner == owner
            ]

    def busy(self) -> bool:
        """True while a job runs or waits."""
        with self._cond:
            return bool(self._queue) or any(j.state == RUNNING for j in self._jobs.values())

    def stop(self) -> None:
        """Stop the running child (the store's journal undoes its open batch) and drop
        the queue; used when the server closes."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            process = self._process
            self._cond.notify_all()
        if process is not None and process.is_alive():
            process.terminate()
            process.join(CHILD_JOIN)

    # Running --------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job = self._queue.popleft()
                job.state = RUNNING
            try:
                with self.write_lock:
                    result, error = self._run(job)
            except Exception as exc:  # the runner must survive whatever a job hit
                log.exception("upload job %s failed", job.id)
                result, error = None, type(exc).__name__
            shutil.rmtree(self.incoming(job.id), ignore_errors=True)
            with self._cond:  # state and counter together: a page polling in between
                job.result, job.error = result, error  # must not see one without the other
                job.state = DONE if result is not None else FAILED
                self.finished += 1

    def _run(self, job: Job) -> tuple[JobResult | None, str | None]:
        """Stage, ingest in a child, reopen and prune; (result, None) or (None, why)."""
        staged, names = self._stage(job)
        self.before()
        try:
            message = self._in_child(job, staged)
        finally:
            records = self.after()
            prune_uploads(self.uploads, records)
        if message[0] != "done":
            return None, message[1]
        result: JobResult = message[1]
        result.failed = [(_shown(path, names), error) for path, error in result.failed]
        return result, None

    def _stage(self, job: Job) -> tuple[list[Path], dict[str, str]]:
        """Move the job's files into the uploads folder under their stored names."""
        staged: list[Path] = []
        names: dict[str, str] = {}
        for upload in job.uploads:
            target = (self.uploads / stored_name(file_sha256(upload.path), upload.name)).resolve()
            if target.exists():  # the same bytes under the same name: already kept
                upload.path.unlink(missing_ok=True)
            else:
                os.replace(upload.path, target)
            if target not in staged:
                staged.append(target)
            names[str(target)] = upload.name
        return staged, names

    def _in_child(self, job: Job, staged: list[Path]) -> tuple[str, Any]:
        """Run the ingest in a spawned process; ("done", JobResult) or ("error", why)."""
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, no locks
        receive, send = context.Pipe(duplex=False)
        process = context.Process(
            target=run_child,
            args=(self.settings, [str(p) for p in staged], job.replace, send),
            name=f"upload-job-{job.id}",
            daemon=True,
        )
        with self._cond:
            if self._stopping:
                return "error", "stopped"
            process.start()
            self._process = process
        send.close()  # the child holds the only writing end: EOF once it exits
        outcome: tuple[str, Any] | None = None
        try:
            while outcome is None:
                try:
                    message = receive.recv()
                except EOFError:
                    break
                if message[0] == "progress":
                    job.done = min(int(message[1]), job.total) if job.total else message[1]
                else:
                    outcome = message
        finally:
            receive.close()
            process.join(CHILD_JOIN)
            with self._cond:
                self._process = None
        if outcome is None:
            return "error", f"ingest process ended with exit code {process.exitcode}"
        return outcome

    # Housekeeping ---------------------------------------------------------------------
    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if not j.active]
        for job_id in finished[: max(0, len(self._jobs) - JOBS_KEPT)]:
            del self._jobs[job_id]

    def _clear_incoming(self) -> None:
        """Files of jobs that never ran (the server stopped first)."""
        shutil.rmtree(self.uploads / INCOMING, ignore_errors=True)


def _shown(where: str, names: dict[str, str]) -> str:
    """A failure's path as the user knows it: the uploaded name, plus a .jsonl line."""
    if where in names:
        return names[where]
    head, sep, tail = where.rpartition(":")
    if sep and head in names:
        return f"{names[head]}:{tail}"
    return Path(where).name
