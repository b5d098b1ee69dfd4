"""The Chroma adapter: chunks with their vectors, and one record per document.

Two collections: ``<name>`` holds the chunks (our vectors, cosine space) and
``<name>-docs`` one record per document plus journal records. A write goes: a journal
record naming the (document, new version) pairs of the batch; the chunks, under their
new version ids; the document records, which flip readers to the new versions; the
deletion of older versions; the deletion of the journal record. ``repair()`` finishes or
undoes whatever a killed run left, so readers only ever see complete documents.

Every write runs under ``Store.writing()``: one writer at a time per store
(``ingest/lock.py``). Readers never take that lock, and open a store only if it exists.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlparse

import numpy as np

from rag.core.config import Settings, redact_url
from rag.core.types import Chunk, embedding_input

if TYPE_CHECKING:
    from rag.core.lock import FileLock, LeaseLock, OnWait

MAX_BATCH = 5000  # Chroma 1.5 accepts at most 5,461 records per call
DOCS_PER_GET = 500  # documents named in one "$in" filter when reading chunks by document
DELETE = "-"  # the journal's version for a document being deleted
# HNSW build cost grows with ef_construction: 64 (default 100) wrote 6,000 1024-d chunks
# 5-10% faster in 2,000-record batches; the README's retrieval figures use it.
HNSW = {"space": "cosine", "ef_construction": 64, "ef_search": 100}


# Embedded Chroma shares one client, with its in-memory indexes, per process and path, so
# whether this process is writing a store, and the generation it last wrote, are
# process-wide facts too: keyed by store, guarded by one lock.
_PROCESS_GUARD = threading.Lock()
_WRITING: dict[str, int] = {}  # store path -> writers of this process inside writing()
_WRITTEN: dict[str, str] = {}  # store path + collection -> the generation we last wrote
_WARMING: dict[str, threading.Thread] = {}  # store path + collection -> its warm-up (warm())
_WARM_GUARD = threading.Lock()  # its own: reload() waits for a warm-up under _PROCESS_GUARD


class StoreError(RuntimeError):
    """A store that cannot be opened or used as asked."""


@dataclass(frozen=True)
class DocRecord:
    """What the store knows of one document."""

    doc_id: str
    title: str
    path: str
    content_hash: str
    raw_hash: str
    n_chunks: int
    version: str  # the chunk version readers see
    published: str | None = None
    source: str | None = None
    url: str | None = None
    ingested_at: str = ""
    signature: str = ""  # MinHash of the text, hex: for near-duplicate detection

    def metadata(self) -> dict[str, Any]:
        meta = {k: v for k, v in asdict(self).items() if v is not None and k != "doc_id"}
        return {**meta, "kind": "doc"}

    @classmethod
    def from_metadata(cls, doc_id: str, meta: dict[str, Any]) -> DocRecord:
        known = cls.__dataclass_fields__
        return cls(doc_id=doc_id, **{k: v for k, v in meta.items() if k in known})


def _embedding_function_class():  # type: ignore[no-untyped-def]
    """Chroma needs an embedding function it can rebuild on reopen; ours only carries
    the embedder's config, since we always hand Chroma the vectors ourselves."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import (
        known_embedding_functions,
        register_embedding_function,
    )

    if "newsrag" in known_embedding_functions:
        return known_embedding_functions["newsrag"]

    class NewsRagVectors(EmbeddingFunction[Documents]):
        def __init__(self, config: dict[str, Any] | None = None) -> None:
            self._config = dict(config or {})

        def __call__(self, input: Documents) -> Embeddings:
            raise StoreError("newsrag computes its own vectors; pass embeddings explicitly")

        @staticmethod
        def name() -> str:
            return "newsrag"

        def default_space(self) -> str:  # type: ignore[override]
            return "cosine"

        def get_config(self) -> dict[str, Any]:
            return self._config

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> NewsRagVectors:
            return NewsRagVectors(config)

    register_embedding_function(NewsRagVectors)
    return NewsRagVectors


def connect(settings: Settings, *, create: bool = True):  # type: ignore[no-untyped-def]
    """A Chroma client: embedded (PersistentClient at settings.db) or a server.

    With ``create=False`` an embedded store that does not exist is an error, not a new
    empty folder. Telemetry is off in the client's own settings."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(
            settings.chroma_url if "//" in settings.chroma_url else f"http://{settings.chroma_url}"
        )
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError
            raise StoreError(f"cannot reach the Chroma server at {where(settings)}: {exc}") from exc
    if not create and not (settings.db / "chroma" / "chroma.sqlite3").is_file():
        raise missing_store(settings)
    settings.db.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.db / "chroma"), settings=chroma_settings)


def _collection_exists(client, name: str) -> bool:  # type: ignore[no-untyped-def]
    return name in {c if isinstance(c, str) else c.name for c in client.list_collections()}


class Store:
    """Chunks and document records in Chroma, written so a crash never leaves half a
    document visible. Open it with ``Store.open``; write only inside ``writing()``."""

    def __init__(self, client, chunks, docs, embedder, settings: Settings, index_dim: int) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.chunks = chunks
        self.docs = docs
        self.embedder = embedder
        self.index_dim = index_dim  # vectors are folded to this in Chroma (embed.fold)
        self.settings = settings
        self._writer: FileLock | LeaseLock | None = None  # held by _writer_thread
        self._writer_thread: int | None = None
        self._session: str | None = None  # our last writer session (embedded)

    @classmethod
    def over(cls, store: Store) -> Self:
        """A new store object of this class over what ``store`` opened (client,
        collections, embedder, index dimension), without its writer state."""
        return cls(
            store.client, store.chunks, store.docs, store.embedder, store.settings, store.index_dim
        )

    @classmethod
    def open(cls, settings: Settings, *, create: bool = True) -> Store:
        """Open the store; the embedder is the one recorded with it.

        ``create=False`` (readers) makes a missing store an error naming where it was
        looked for, instead of creating an empty one. Asking for a different embedder
        than the one the store was built with is an error: vectors of two embedders
        must never be mixed.
        """
        if create and not settings.chroma_url:
            from rag.core.lock import creating

            with creating(Path(settings.db)):  # two first ingests never create at once
                return cls._open(settings, create=True)
        return cls._open(settings, create=create)

    @classmethod
    def _open(cls, settings: Settings, *, create: bool) -> Store:
        from rag.core.embed import embedder_from_config, index_dim, load_embedder

        client = connect(settings, create=create)
        ef_class = _embedding_function_class()
        name = settings.collection
        stored = None
        meta: dict[str, Any] = {}
        exists = _collection_exists(client, name)
        if not create and not (exists and _collection_exists(client, f"{name}-docs")):
            raise missing_store(settings)
        if exists:
            meta = client.get_collection(name, embedding_function=ef_class()).metadata or {}
            stored = json.loads(meta["embedder"]) if "embedder" in meta else None
        if stored is not None:
            if settings.embedder == "auto":
                embedder = embedder_from_config(stored)
            else:
                embedder = load_embedder(settings.embedder, default_model=settings.default_model)
                if _identity(embedder.config()) != _identity(stored):
                    raise StoreError(
                        f"the store at {where(settings)} was built with embedder "
                        f"{stored.get('name')!r} ({stored.get('dim')}-d), not "
                        f"{embedder.name!r} ({embedder.dim}-d); use RAG_EMBEDDER=auto, "
                        f"or another --db, or re-ingest into a new store"
                    )
        else:
            embedder = load_embedder(settings.embedder, default_model=settings.default_model)
        config = embedder.config()
        # A store records the dimension it indexes at; stores from before folding have
        # no record and index at the embedder's full dimension.
        dim = int(meta.get("index_dim", embedder.dim if exists else index_dim(embedder)))
        if create:
            chunks = client.get_or_create_collection(
                name,
                embedding_function=ef_class(config),
                metadata={"embedder": json.dumps(config, sort_keys=True), "index_dim": dim},
                configuration={"hnsw": HNSW},
            )
            docs = client.get_or_create_collection(f"{name}-docs", embedding_function=ef_class())
        else:
            chunks = client.get_collection(name, embedding_function=ef_class(config))
            docs = client.get_collection(f"{name}-docs", embedding_function=ef_class())
        return cls(client, chunks, docs, embedder, settings, dim)

    # The writer lock -----------------------------------------------------------------
    @contextmanager
    def writing(self, *, wait: bool = True, on_wait: OnWait | None = None) -> Iterator[None]:
        """Hold the store's writer lock: one writer at a time per store, across threads,
        processes and (with a Chroma server) machines. Re-entrant in the holding thread.

        ``wait=False`` raises ``WriterBusy`` at once when another writer holds it;
        otherwise ``on_wait(holder)`` is called once and the call blocks until it is free.
        """
        from rag.core.lock import FileLock, LeaseLock

        if self._writer_thread == threading.get_ident():
            yield
            return
        lock: FileLock | LeaseLock
        if self.settings.chroma_url:
            lock = LeaseLock(
                self.docs,
                clock=lambda: self.client.heartbeat() / 1e9,
                vector=_record_vector,
                where=f"{where(self.settings)} (collection {self.settings.collection!r})",
                ttl=self.settings.lease_seconds,
            )
        else:
            lock = FileLock(Path(self.settings.db))
        self._settled()  # a write must not race the index's first load
        previous = lock.acquire(wait=wait, on_wait=on_wait)
        key = where(self.settings)  # one in-memory index set per path, all collections
        try:
            with _PROCESS_GUARD:
                _WRITING[key] = _WRITING.get(key, 0) + 1
                if not self.settings.chroma_url and previous != self._session:
                    # Someone else wrote since our last turn: this process's in-memory
                    # index is stale, and writing through it would corrupt the store.
                    self.reload()
            self._session = lock.session
            self._writer, self._writer_thread = lock, threading.get_ident()
            yield
        finally:
            self._writer, self._writer_thread = None, None
            with _PROCESS_GUARD:
                _WRITING[key] -= 1
            lock.release()

    def _require_writer(self) -> None:
        if self._writer is None or self._writer_thread != threading.get_ident():
            raise StoreError("internal error: a store write outside Store.writing()")
        self._writer.check()

    def warm(self) -> None:
        """Start loading embedded Chroma's vector index in a background thread.

        Embedded Chroma reads a collection's whole HNSW index on its first query (0.9 s
        at 210k chunks, 1024-d). Chroma's Rust query releases the GIL, so a reader that
        warms at open overlaps that load with its own Python start-up (tokenizer and
        tagger dictionaries, ~0.9 s): measured 1.55 s -> 0.94 s for the two. The thread
        is not a daemon, so the process never exits in the middle of the load, and
        every use of the index in this process waits for it (``_settled``: searches,
        writes, reloads, through any Store over the same collection, since they share
        the client and its index): two first queries at once could load it twice.
        """
        if self.settings.chroma_url:
            return  # a server has its index loaded
        probe = np.zeros(self.index_dim, dtype=np.float32)
        probe[0] = 1.0  # any unit vector: the answer is thrown away

        def load() -> None:
            try:
                self.chunks.query(query_embeddings=[probe.tolist()], n_results=1, include=[])
            except Exception:  # noqa: BLE001 - a failing store fails the real query, named
                pass

        with _WARM_GUARD:
            if self._generation_key() in _WARMING:
                return  # once per collection and process
            thread = _WARMING[self._generation_key()] = threading.Thread(
                target=load, name="chroma-warm"
            )
            thread.start()

    def _settled(self) -> None:
        """Wait for a warm-up of this collection still loading the index."""
        with _WARM_GUARD:
            warming = _WARMING.get(self._generation_key())
        if warming is not None and warming is not threading.current_thread():
            warming.join()

    def reload(self) -> None:
        """Drop embedded Chroma's in-memory state (HNSW indexes) and read the files again.

        The embedded client caches each collection's index in memory and never notices
        another process's writes: searches miss the new vectors, and a write through
        the stale index overwrites the other process's (a later open crashes). One
        client per process and path is shared, so this refreshes every Store of the
        process; calls in flight finish on the old bindings.
        """
        from chromadb.api.rust import RustBindingsAPI

        self._settled()
        server = getattr(self.client, "_server", None)
        if isinstance(server, RustBindingsAPI):
            server.start()  # new bindings over the same files, swapped in at once

    def follow(self, generation: str) -> None:
        """A reader saw the generation change: make another process's writes visible to
        dense search (embedded only; a server has one view for every client). Never
        while this process writes the store: its view is current, and a reload under a
        running write could read half-written index files."""
        if self.settings.chroma_url:
            return
        with _PROCESS_GUARD:
            writing = _WRITING.get(where(self.settings))
            if not writing and _WRITTEN.get(self._generation_key()) != generation:
                self.reload()

    def _generation_key(self) -> str:
        return f"{where(self.settings)}\0{self.settings.collection}"

    # Reading -------------------------------------------------------------------------
    def doc_records(self) -> dict[str, DocRecord]:
        records: dict[str, DocRecord] = {}
        for ids, page in self._pages(self.docs, include=["metadatas"], where={"kind": "doc"}):
            for doc_id, meta in zip(ids, page["metadatas"], strict=True):
                records[doc_id] = DocRecord.from_metadata(doc_id, meta or {})
        return records

    def committed_versions(self) -> dict[str, str]:
        """doc_id -> the chunk version readers may see."""
        return {d: r.version for d, r in self.doc_records().items() if r.version}

    def iter_chunks(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(chunk_id, text, metadata) of every committed chunk, in pages."""
        yield from self._committed(self.committed_versions(), [None])

    def chunks_of(self, versions: dict[str, str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(chunk_id, text, metadata) of the given (doc_id -> version) chunks, in the
        order Chroma lists them."""
        docs = list(versions)
        wheres = [
            {"doc_id": {"$in": docs[start : start + DOCS_PER_GET]}}
            for start in range(0, len(docs), DOCS_PER_GET)
        ]
        yield from self._committed(versions, wheres)

    def _committed(
        self, versions: dict[str, str], wheres: Sequence[dict[str, Any] | None]
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """The chunks each ``where`` selects (None: all) whose document version is the
        one in ``versions``: a running or superseded write's chunks are never read."""
        for where in wheres:
            for ids, page in self._pages(self.chunks, ["documents", "metadatas"], where):
                for cid, text, meta in zip(ids, page["documents"], page["metadatas"], strict=True):
                    if meta and versions.get(meta.get("doc_id")) == meta.get("version"):
                        yield cid, text, meta

    def get_chunks(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """chunk_id -> (text, metadata) for those of ``ids`` that exist: one call."""
        if not ids:
            return {}
        got = self.chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            cid: (text, meta or {})
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def count_chunks(self) -> int:
        """Chunks readers may see: committed ones only, never a running (or killed)
        write's. One count when no write is open; else the sum over document records."""
        before = self.generation()
        if not self._journal_open():
            total = self.chunks.count()
            if not self._journal_open() and self.generation() == before:
                return total
        return sum(r.n_chunks for r in self.doc_records().values() if r.version)

    def count_documents(self) -> int:
        """Committed documents (a document record is the commit marker)."""
        return len(self.docs.get(where={"kind": "doc"}, include=[])["ids"])

    def _journal_open(self) -> bool:
        return bool(self.docs.get(where={"kind": "journal"}, include=[], limit=1)["ids"])

    def dense_search(
        self,
        vector: np.ndarray,
        k: int,
        where: dict[str, Any] | None = None,
        also: Sequence[str] = (),
    ) -> list[tuple[str, float, str, dict[str, Any]]]:
        """The ``k`` best (chunk_id, cosine similarity, text, metadata), best first.

        The similarity is at the embedder's full dimension: where the index holds folded
        vectors, the chunks it finds, and the chunks of ``also`` (say, the lexical side's
        hits, already filtered), are embedded again and ranked by it. ``also`` recovers a
        close match the folded index missed; over a full-dimension index it is not needed.
        """
        from rag.core.embed import fold

        # No count() guard: it costs ~7 ms at 100k chunks, and Chroma 1.5 answers an
        # empty collection with empty lists.
        self._settled()
        result = self.chunks.query(
            query_embeddings=[fold(vector, self.index_dim).tolist()],
            n_results=k,
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        found = {
            cid: (text, meta or {})
            for cid, text, meta in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0], strict=True
            )
        }
        if self.index_dim == self.embedder.dim:
            scores = [1.0 - float(dist) for dist in result["distances"][0]]
        else:
            found.update(self.get_chunks([cid for cid in also if cid not in found]))
            inputs = [embedding_input(meta.get("title", ""), text) for text, meta in found.values()]
            scores = (self.embedder.embed_documents(inputs) @ vector.astype(np.float32)).tolist()
        rows = [(cid, score, *found[cid]) for cid, score in zip(found, scores, strict=True)]
        return sorted(rows, key=lambda row: -row[1])[:k]

    def generation(self) -> str:
        """Changes on every write that readers can see; one cheap call."""
        ef = _embedding_function_class()()
        docs = self.client.get_collection(self.docs.name, embedding_function=ef)
        return str((docs.metadata or {}).get("generation", ""))

    def _touch(self) -> None:
        generation = uuid.uuid4().hex
        with _PROCESS_GUARD:  # before the write: a reader of this process must not
            _WRITTEN[self._generation_key()] = generation  # take our write for another's
        self.docs.modify(metadata={"generation": generation})

    # Writing -------------------------------------------------------------------------
    def begin(self, entries: Sequence[tuple[str, str]]) -> str:
        """Journal the (doc_id, version) pairs about to be written; returns the journal id.

        The version ``DELETE`` marks a document about to be deleted.
        """
        self._require_writer()
        journal_id = f"journal:{uuid.uuid4().hex}"
        self.docs.add(
            ids=[journal_id],
            embeddings=[_record_vector(journal_id)],
            metadatas=[{"kind": "journal", "entries": json.dumps(list(entries))}],
        )
        return journal_id

    def write_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Store ``chunks`` with their embedder vectors (folded to ``index_dim`` here)."""
        from rag.core.embed import fold

        self._require_writer()
        for start in range(0, len(chunks), MAX_BATCH):
            batch = chunks[start : start + MAX_BATCH]
            self.chunks.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=fold(vectors[start : start + MAX_BATCH], self.index_dim),
                documents=[c.text for c in batch],
                metadatas=[chunk_metadata(c) for c in batch],
            )

    def commit(
        self, journal_id: str, records: Sequence[DocRecord], replaced: Sequence[str]
    ) -> None:
        """Flip records to their new versions, drop the older versions of ``replaced``
        documents, and close the journal."""
        self._require_writer()
        self.update_records(records)
        by_id = {r.doc_id: r for r in records}
        for doc_id in replaced:
            self._drop_other_versions(doc_id, by_id[doc_id].version)
        self.docs.delete(ids=[journal_id])
        self._touch()

    def update_records(self, records: Sequence[DocRecord]) -> None:
        """Write document records (metadata only; chunks untouched)."""
        self._require_writer()
        for start in range(0, len(records), MAX_BATCH):
            batch = records[start : start + MAX_BATCH]
            self.docs.upsert(
                ids=[r.doc_id for r in batch],
                embeddings=[_record_vector(r.doc_id) for r in batch],
                metadatas=[r.metadata() for r in batch],
            )

    def delete_document(
        self, doc_id: str, *, wait: bool = True, on_wait: OnWait | None = None
    ) -> None:
        """Delete one document and its chunks, under the writer lock (see ``writing``)."""
        from rag.core.lexstore import LexicalStore

        with self.writing(wait=wait, on_wait=on_wait):
            lexical = LexicalStore.of(self.settings)
            before = self.generation()
            with lexical.locked():  # as an ingest batch: the index follows the commit
                journal_id = self.begin([(doc_id, DELETE)])
                self.docs.delete(ids=[doc_id])
                self.chunks.delete(where={"doc_id": doc_id})
                self.docs.delete(ids=[journal_id])
                self._touch()
                lexical.follow_commit([], [doc_id], self, before)

    def repair(self) -> int:
        """Finish or undo what an interrupted run left. Returns documents repaired.

        Only under the writer lock: an open journal is a crashed run's only when no
        other writer can be running."""
        self._require_writer()
        journals = self.docs.get(where={"kind": "journal"}, include=["metadatas"])
        if not journals["ids"]:
            return 0
        versions = self.committed_versions()
        repaired = 0
        for journal_id, meta in zip(journals["ids"], journals["metadatas"], strict=True):
            for doc_id, version in json.loads(meta["entries"]):
                committed = versions.get(doc_id)
                if version == DELETE or committed is None:
                    self.docs.delete(ids=[doc_id])
                    self.chunks.delete(where={"doc_id": doc_id})
                else:  # keep exactly the committed version, whichever it is
                    self._drop_other_versions(doc_id, committed)
                repaired += 1
            self.docs.delete(ids=[journal_id])
        self._touch()
        return repaired

    # Internals -----------------------------------------------------------------------
    def _drop_other_versions(self, doc_id: str, version: str) -> None:
        self.chunks.delete(where={"$and": [{"doc_id": doc_id}, {"version": {"$ne": version}}]})

    @staticmethod
    def _pages(  # type: ignore[no-untyped-def]
        collection, include: list[str], where: dict[str, Any] | None = None
    ) -> Iterator[tuple[list[str], dict[str, Any]]]:
        offset = 0
        while True:
            page = collection.get(include=include, where=where, limit=MAX_BATCH, offset=offset)
            if not page["ids"]:
                return
            yield page["ids"], page
            offset += len(page["ids"])


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "doc_id": chunk.doc_id,
        "version": chunk.chunk_id.split(":")[1],
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "title": chunk.title,
    }
    for key in ("published", "source", "url"):
        value = getattr(chunk, key)
        if value:
            meta[key] = value
    day = published_day(chunk.published)
    if day is not None:
        meta["published_day"] = day
    return meta


def published_day(published: str | None) -> int | None:
    """YYYYMMDD as an int, for date-range filters, when the date is ISO."""
    if not published or len(published) < 10 or published[4] != "-" or published[7] != "-":
        return None
    try:
        return int(published[:4] + published[5:7] + published[8:10])
    except ValueError:
        return None


def where(settings: Settings) -> str:
    """The store as it may be shown: the server's URL without credentials, else the
    folder."""
    return (
        redact_url(settings.chroma_url) if settings.chroma_url else str(Path(settings.db).resolve())
    )


def missing_store(settings: Settings) -> StoreError:
    """The error a reader gets for a store that does not exist (it never creates one)."""
    target = f"--chroma-url {settings.chroma_url}" if settings.chroma_url else f"--db {settings.db}"
    return StoreError(
        f"no store at {where(settings)} (collection {settings.collection!r}); "
        f"build one first: rag ingest PATH {target}"
    )


def _identity(config: dict[str, Any]) -> tuple[Any, ...]:
    return (config.get("kind"), config.get("name"), config.get("dim"))


def _record_vector(doc_id: str) -> list[float]:
    # Records are looked up by id, never by vector; a spread-out 2-d vector keeps the
    # HNSW index of the records collection well-formed.
    digest = hashlib.sha256(doc_id.encode()).digest()
    return [digest[0] / 255.0 + 0.01, digest[1] / 255.0 + 0.01]
