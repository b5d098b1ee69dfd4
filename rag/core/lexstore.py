"""The lexical (BM25) index on disk: immutable segments opened with mmap, updated per
committed batch, the current set named by a manifest that is swapped atomically.

Layout of ``<db>/lexical/<collection>/`` (a cache derived from the store: delete it and
the next reader rebuilds it from Chroma):

- ``manifest.json``: the segments in row order, the deleted rows of each, the live
  count and mean length, and the store generation the index reflects. Replaced by
  write, fsync, rename: a reader sees the old manifest or the new one, never half.
- ``segments/<name>/``: one segment's arrays (.npy): token keys, postings (rows and
  term frequencies), and per row the chunk id, document, length, day and outlet.
  Written in full before any manifest names it, never changed after.
- ``segments/del-<name>.npy``: deleted rows of one segment; a new file per change.
- ``update.lock``: ``flock`` held by whoever changes the manifest.

Scores are the ones ``LexicalIndex.build`` gives over the live chunks in the same
order, bit for bit: IDF and the mean length come from live rows only, and the BM25
weight of a posting is computed at query time from its term frequency and row length
(``bm25_weights`` is element-wise). Rows stay in commit order (the order Chroma lists
chunks), so ties break as before.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.core.lexical import (
    K1,
    B,
    average_length,
    bm25_idf,
    bm25_weights,
    postings,
    query_keys,
    tokenizer_id,
)

if TYPE_CHECKING:
    from rag.core.config import Settings
    from rag.core.store import Store

log = logging.getLogger(__name__)

FORMAT = "newsrag-lexseg-v1"
FIRST_TOKENIZER = "bigram-v1"  # the tokens of every index written before manifests named them
MANIFEST = "manifest.json"
LOCK = "update.lock"
# Tiered merging: a segment's tier is log4(live rows / TIER_BASE); the trailing run of
# MERGE_FACTOR segments of one tier becomes one segment of the next. Each row is then
# rewritten about log4(N / TIER_BASE) times (5 at 1M rows), and a store has a few
# segments per tier (about 15 at 1M rows), each searched with one binary search a term.
TIER_BASE = 1024
MERGE_FACTOR = 4
# No merge makes a segment above this: merging holds the postings of its inputs in
# memory (about 150 per chunk, 16 bytes each in flight: ~300 MB at 2^17 rows).
MAX_MERGED_ROWS = 1 << 17
# Rows per segment when catching up from the store (memory as for a merge).
SYNC_ROWS = 1 << 17
# Unreferenced segment files are deleted only after this long: a reader that read the
# previous manifest opens its files within milliseconds (and an open mmap survives
# unlinking); a writer killed mid-segment leaves a folder that goes the same way.
GRACE_SECONDS = 60.0
NO_SOURCE = -1


def lexical_text(text: str, meta: dict[str, Any]) -> str:
    """What BM25 sees of a chunk: the article title too, unless the text starts with it."""
    title = str(meta.get("title") or "")
    if not title or text.startswith(title.rstrip("…")):
        return text
    return f"{title}\n{text}"


def _hash64(values: Iterable[str]) -> np.ndarray:
    """A stable 64-bit hash of each string (chunk ids, document ids)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "little")
            for v in values
        ],
        dtype=np.uint64,
    )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:  # an empty array cannot be mapped
        return np.load(path, allow_pickle=False)


_ARRAYS = (
    *("vocab", "indptr", "docs", "tf"),  # postings
    *("doc_len", "day", "source", "ids", "doc"),  # per row
    *("idhash", "idrow"),  # chunk id -> row
)


@dataclass
class Segment:
    """One segment's arrays (mapped from disk, or in memory before it is written)."""

    name: str
    vocab: np.ndarray  # int64 sorted token keys
    indptr: np.ndarray  # int64: postings of vocab[i] are [indptr[i], indptr[i+1])
    docs: np.ndarray  # int32 local row of each posting (ascending within a term)
    tf: np.ndarray  # uint16 term frequency of each posting
    doc_len: np.ndarray  # float32 tokens per row
    day: np.ndarray  # int32 YYYYMMDD per row, 0 when unknown
    source: np.ndarray  # int32 index into sources, NO_SOURCE when unknown
    ids: np.ndarray  # bytes: chunk id per row
    doc: np.ndarray  # uint64 hash of the row's document id
    idhash: np.ndarray  # uint64 sorted hashes of the chunk ids ...
    idrow: np.ndarray  # int32 ... and the row of each
    sources: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.doc_len)

    @classmethod
    def build(cls, chunks: Sequence[tuple[str, str, dict[str, Any]]]) -> Segment:
        """A segment of (chunk_id, text, metadata) rows, in that order."""
        vocab, indptr, docs, tf, doc_len = postings([lexical_text(t, m) for _, t, m in chunks])
        sources: dict[str, int] = {}
        source = np.array(
            [
                sources.setdefault(str(m["source"]), len(sources)) if m.get("source") else NO_SOURCE
                for _, _, m in chunks
            ],
            dtype=np.int32,
        )
        ids = [cid for cid, _, _ in chunks]
        idhash = _hash64(ids)
        order = np.argsort(idhash, kind="stable")
        return cls(
            name=uuid.uuid4().hex,
            vocab=vocab,
            indptr=indptr,
            docs=docs,
            tf=tf.astype(np.uint16),
            doc_len=doc_len,
            day=np.array([int(m.get("published_day") or 0) for _, _, m in chunks], dtype=np.int32),
            source=source,
            ids=np.array([cid.encode() for cid in ids], dtype=bytes),
            doc=_hash64(str(m.get("doc_id", "")) for _, _, m in chunks),
            idhash=idhash[order],
            idrow=order.astype(np.int32),
            sources=list(sources),
        )

    def write(self, folder: Path) -> None:
        """Write to ``folder/<name>`` through a temporary folder renamed at the end."""
        tmp = folder / f".tmp-{self.name}"
        tmp.mkdir(parents=True)
        for name in _ARRAYS:
            _save(tmp / f"{name}.npy", getattr(self, name))
        (tmp / "sources.json").write_text(json.dumps(self.sources, ensure_ascii=False))
        _fsync_dir(tmp)
        tmp.rename(folder / self.name)
        _fsync_dir(folder)

    @classmethod
    def open(cls, folder: Path, name: str) -> Segment:
        path = folder / name
        arrays = {a: _load(path / f"{a}.npy") for a in _ARRAYS}
        sources = json.loads((path / "sources.json").read_text())
        return cls(name=name, sources=sources, **arrays)


def _merge(parts: Sequence[tuple[Segment, np.ndarray]]) -> Segment:
    """One segment of the live rows of ``parts`` ((segment, dead mask)), in order."""
    terms, rows, tfs, keep_rows, sources = [], [], [], [], []
    names: dict[str, int] = {}
    base = 0
    for seg, dead in parts:
        live = ~dead
        new_row = (np.cumsum(live, dtype=np.int64) - 1 + base).astype(np.int32)
        docs = np.asarray(seg.docs)
        keep = live[docs]
        terms.append(np.repeat(seg.vocab, np.diff(seg.indptr))[keep])
        rows.append(new_row[docs[keep]])
        tfs.append(np.asarray(seg.tf)[keep])
        keep_rows.append(np.flatnonzero(live))
        remap = np.array([names.setdefault(s, len(names)) for s in seg.sources] + [NO_SOURCE])
        sources.append(remap[np.asarray(seg.source)[live]])  # NO_SOURCE (-1) maps to itself
        base += int(live.sum())
    term = np.concatenate(terms)
    del terms  # a merge holds every posting of its inputs: free what is done with
    # Each part's postings are term-sorted with rows ascending, and parts come in row
    # order: a stable sort (runs merged) keeps rows ascending within each term.
    order = np.argsort(term, kind="stable")
    term = term[order]
    row = np.concatenate(rows)[order]
    del rows
    tf = np.concatenate(tfs)[order]
    del tfs, order
    new_term = np.ones(len(term), dtype=bool)
    new_term[1:] = term[1:] != term[:-1]
    starts = np.flatnonzero(new_term)

    def column(name: str) -> np.ndarray:
        return np.concatenate(
            [np.asarray(getattr(s, name))[k] for (s, _), k in zip(parts, keep_rows, strict=True)]
        )

    ids = column("ids")
    idhash = _hash64(bytes(i).decode() for i in ids)
    by_hash = np.argsort(idhash, kind="stable")
    return Segment(
        name=uuid.uuid4().hex,
        vocab=term[starts],
        indptr=np.append(starts, len(term)).astype(np.int64),
        docs=row,
        tf=tf.astype(np.uint16),
        doc_len=column("doc_len"),
        day=column("day"),
        source=np.concatenate(sources).astype(np.int32),
        ids=ids,
        doc=column("doc"),
        idhash=idhash[by_hash],
        idrow=by_hash.astype(np.int32),
        sources=list(names),
    )


def _tier(rows: int) -> int:
    return int(np.log(max(rows, 1) / TIER_BASE) / np.log(MERGE_FACTOR)) if rows > TIER_BASE else 0


class LexicalSnapshot:
    """The index as one manifest names it: what a reader searches. Read-only."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.generation: str | None = manifest.get("generation")
        self.k1, self.b = float(manifest.get("k1", K1)), float(manifest.get("b", B))
        self.avg_len = float(manifest.get("avg_len", 1.0))
        self.segments = [Segment.open(folder, s["name"]) for s in manifest.get("segments", [])]
        sizes = [s.rows for s in self.segments]
        self.offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        self.total = int(self.offsets[-1])
        self.dead = np.zeros(self.total, dtype=bool)  # one byte a row: 1 MB at 1M chunks
        entries = manifest.get("segments", [])
        for entry, start in zip(entries, self.offsets[:-1], strict=True):
            if entry.get("deleted"):
                gone = np.load(folder / entry["deleted"], allow_pickle=False)
                self.dead[start + gone] = True
        self.live = self.total - int(self.dead.sum())
        self.has_dead = [bool(e.get("deleted")) for e in entries]

    def __len__(self) -> int:
        return self.live

    def dead_of(self, i: int) -> np.ndarray:
        return self.dead[self.offsets[i] : self.offsets[i + 1]]

    # Scoring ---------------------------------------------------------------------------
    def _ranges(self, key: int) -> Iterator[tuple[int, int, int]]:
        """(segment number, lo, hi): where the postings of ``key`` are, per segment."""
        for n, seg in enumerate(self.segments):
            i = int(np.searchsorted(seg.vocab, key))
            if i < len(seg.vocab) and seg.vocab[i] == key:
                yield n, int(seg.indptr[i]), int(seg.indptr[i + 1])

    def _postings(self, key: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Live postings of one token key: global rows, term frequencies, row lengths."""
        rows, tfs, lens = [], [], []
        for n, lo, hi in self._ranges(key):
            seg = self.segments[n]
            local = np.asarray(seg.docs[lo:hi])
            tf = np.asarray(seg.tf[lo:hi])
            if self.has_dead[n]:
                keep = ~self.dead_of(n)[local]
                local, tf = local[keep], tf[keep]
            rows.append(local.astype(np.int64) + self.offsets[n])
            tfs.append(tf)
            lens.append(np.asarray(seg.doc_len)[local])
        if not rows:
            empty = np.zeros(0, np.float32)
            return np.zeros(0, np.int64), empty, empty
        return np.concatenate(rows), np.concatenate(tfs).astype(np.float32), np.concatenate(lens)

    def _df(self, key: int) -> int:
        """Live documents holding ``key`` (no postings read where nothing is deleted)."""
        df = 0
        for n, lo, hi in self._ranges(key):
            if self.has_dead[n]:
                df += int(np.count_nonzero(~self.dead_of(n)[self.segments[n].docs[lo:hi]]))
            else:
                df += hi - lo
        return df

    def _idf(self, df: int) -> np.float32:
        return bm25_idf(self.live, np.array([df], dtype=np.float32))[0]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row (float32; deleted rows 0); repeated terms count once."""
        out = np.zeros(self.total, dtype=np.float32)
        for key in query_keys(query):
            rows, tf, lens = self._postings(int(key))
            if len(rows):
                idf = self._idf(len(rows))
                out[rows] += bm25_weights(idf, tf, lens, self.avg_len, self.k1, self.b)
        return out

    def term_idf(self, tokens: list[str]) -> dict[str, float]:
        """IDF of each string token (from ``tokenize``); 0 for tokens not in the index."""
        out: dict[str, float] = {}
        for token in tokens:
            keys = query_keys(token)
            df = self._df(int(keys[0])) if len(keys) == 1 else 0
            out[token] = float(self._idf(df)) if df else 0.0
        return out

    # Rows, ids and columns -------------------------------------------------------------
    def ids_of(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64)
        seg = np.searchsorted(self.offsets, rows, side="right") - 1
        return [
            bytes(self.segments[s].ids[r - self.offsets[s]]).decode()
            for s, r in zip(seg.tolist(), rows.tolist(), strict=True)
        ]

    def rows_of(self, ids: Sequence[str]) -> dict[str, int]:
        """Global row of each live chunk id among ``ids`` (committed chunks only)."""
        hashes = _hash64(ids)
        found: dict[str, int] = {}
        for n, seg in enumerate(self.segments):
            start, dead = self.offsets[n], self.dead_of(n)
            at = np.searchsorted(seg.idhash, hashes)
            for cid, h, i in zip(ids, hashes.tolist(), at.tolist(), strict=True):
                if i < len(seg.idhash) and int(seg.idhash[i]) == h:
                    row = int(seg.idrow[i])
                    if not dead[row] and bytes(seg.ids[row]).decode() == cid:
                        found[cid] = int(start) + row
        return found

    def column_mask(
        self, since: int | None = None, until: int | None = None, sources: Sequence[str] = ()
    ) -> np.ndarray:
        """Rows whose day is within [since, until] (YYYYMMDD) and outlet among ``sources``
        (an unset bound or empty list accepts all; an unknown day fails a set bound)."""
        parts = []
        for seg in self.segments:
            keep = np.ones(seg.rows, dtype=bool)
            day = np.asarray(seg.day)
            if since is not None:
                keep &= (day != 0) & (day >= since)
            if until is not None:
                keep &= (day != 0) & (day <= until)
            if sources:
                codes = [i for i, s in enumerate(seg.sources) if s in sources]
                keep &= np.isin(np.asarray(seg.source), codes)
            parts.append(keep)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)

    def doc_versions(self) -> dict[str, str]:
        """doc_id -> version of the live rows (from chunk ids ``doc:version:index``)."""
        out: dict[str, str] = {}
        for n, seg in enumerate(self.segments):
            for raw in np.asarray(seg.ids)[~self.dead_of(n)]:
                doc_id, version, _ = raw.decode().rsplit(":", 2)
                out[doc_id] = version
        return out


class LexicalStore:
    """The on-disk index folder: open a snapshot, write segments, publish changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.segment_dir = self.folder / "segments"

    @classmethod
    def of(cls, settings: Settings) -> LexicalStore:
        return cls(Path(settings.db) / "lexical" / settings.collection)

    # Reading ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"format": FORMAT, "generation": "", "segments": []}
        # Manifests from before the field hold bigram-v1 tokens (OpenCC assumed unchanged).
        tokens = data.get("tokenizer", tokenizer_id(version=FIRST_TOKENIZER))
        if data.get("format") != FORMAT or tokens != tokenizer_id():
            # Another format or other tokens: as good as no index; a reader rebuilds it.
            return {"format": FORMAT, "generation": "", "segments": []}
        return data

    def open(self) -> LexicalSnapshot:
        """The current snapshot (retried if a manifest swap removed a file meanwhile)."""
        for attempt in range(3):
            try:
                return LexicalSnapshot(self.segment_dir, self.manifest())
            except FileNotFoundError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def current(self, store: Store) -> LexicalSnapshot:
        """The snapshot matching the store's generation, caught up first if needed.

        A writer holds the update lock from its commit until its manifest is out, so a
        reader that sees a new generation waits for that manifest instead of catching
        up on its own; only an index left behind (a killed writer, a deletion, a
        writer on another machine, an older store) is brought up to date here."""
        snapshot = self.open()
        if snapshot.generation == store.generation():
            return snapshot
        with self.locked():
            snapshot = self.open()
            if snapshot.generation == store.generation():
                return snapshot
            return self._catch_up(store, snapshot)

    # Writing ---------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def prepare(self, chunks: Sequence[tuple[str, str, dict[str, Any]]]) -> Segment | None:
        """Write a segment of ``chunks`` that no manifest names yet (None if empty)."""
        if not chunks:
            return None
        segment = Segment.build(chunks)
        self.segment_dir.mkdir(parents=True, exist_ok=True)
        segment.write(self.segment_dir)
        return segment

    def discard(self, segment: Segment | None) -> None:
        if segment is not None:
            shutil.rmtree(self.segment_dir / segment.name, ignore_errors=True)

    def follow_commit(
        self,
        added: Sequence[Segment | None],
        removed_docs: Iterable[str],
        store: Store,
        before: str,
    ) -> None:
        """Under ``locked()``, right after a commit: ``publish`` it. A failure here is
        logged, not raised: the commit stands, and the index is a cache that readers
        bring up to date from the store."""
        try:
            self.publish(added, removed_docs, store.generation(), expect=before, store=store)
        except Exception as exc:  # noqa: BLE001
            log.warning("lexical index not updated (%s); readers will catch up", exc)

    def publish(
        self,
        added: Sequence[Segment | None],
        removed_docs: Iterable[str],
        generation: str,
        *,
        expect: str | None,
        store: Store,
    ) -> None:
        """Under ``locked()``: delete the rows of ``removed_docs``, append ``added``, and
        swap in a manifest for ``generation``. When the index was not at ``expect`` (the
        generation before this commit), the prepared segments are dropped and the
        index catches up from the store instead."""
        manifest = self.manifest()
        if manifest.get("generation") != expect:
            for segment in added:
                self.discard(segment)
            self._catch_up(store, self.open())
            return
        self._apply(manifest, [s for s in added if s is not None], list(removed_docs), generation)

    def _apply(
        self,
        manifest: dict[str, Any],
        added: list[Segment],
        removed_docs: list[str],
        generation: str,
        counter: str | None = None,
    ) -> None:
        snapshot = LexicalSnapshot(self.segment_dir, manifest)
        entries = [dict(e) for e in manifest.get("segments", [])]
        parts: list[tuple[Segment, np.ndarray]] = []
        gone = _hash64(removed_docs) if removed_docs else None
        for n, (seg, entry) in enumerate(zip(snapshot.segments, entries, strict=True)):
            dead = snapshot.dead_of(n).copy()
            if gone is not None:
                hit = np.isin(np.asarray(seg.doc), gone) & ~dead
                if hit.any():
                    dead |= hit
                    name = f"del-{uuid.uuid4().hex}.npy"
                    _save(self.segment_dir / name, np.flatnonzero(dead).astype(np.int32))
                    entry["deleted"], entry["dead"] = name, int(dead.sum())
            parts.append((seg, dead))
        for seg in added:
            parts.append((seg, np.zeros(seg.rows, dtype=bool)))
            entries.append({"name": seg.name, "rows": seg.rows, "dead": 0, "deleted": None})
        parts, entries = self._merge_tail(parts, entries)
        lens = [np.asarray(s.doc_len)[~d] for s, d in parts]
        new = {
            "format": FORMAT,
            "tokenizer": tokenizer_id(),
            "generation": generation,
            "k1": K1,
            "b": B,
            "segments": entries,
            "live": int(sum(len(x) for x in lens)),
            "avg_len": average_length(np.concatenate(lens) if lens else np.zeros(0, np.float32)),
            "full_builds": manifest.get("full_builds", 0),
            "catch_ups": manifest.get("catch_ups", 0),
        }
        if counter:
            new[counter] += 1
        self._write_manifest(new)
        self._collect(new)

    def _merge_tail(
        self, parts: list[tuple[Segment, np.ndarray]], entries: list[dict[str, Any]]
    ) -> tuple[list[tuple[Segment, np.ndarray]], list[dict[str, Any]]]:
        """Merge trailing runs of MERGE_FACTOR same-tier segments (adjacent only, so row
        order, and with it ties and the mean length, never changes)."""
        while len(parts) >= MERGE_FACTOR:
            live = [int((~d).sum()) for _, d in parts[-MERGE_FACTOR:]]
            tiers = {_tier(n) for n in live}
            if len(tiers) != 1 or sum(live) > MAX_MERGED_ROWS:
                break
            merged = _merge(parts[-MERGE_FACTOR:])
            merged.write(self.segment_dir)
            parts = [*parts[:-MERGE_FACTOR], (merged, np.zeros(merged.rows, dtype=bool))]
            entries = [
                *entries[:-MERGE_FACTOR],
                {"name": merged.name, "rows": merged.rows, "dead": 0, "deleted": None},
            ]
        return parts, entries

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.folder / f".{MANIFEST}.{uuid.uuid4().hex}"
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(manifest, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.folder / MANIFEST)
        _fsync_dir(self.folder)

    def _collect(self, manifest: dict[str, Any]) -> None:
        """Delete segment files no manifest names, once older than GRACE_SECONDS."""
        keep = set()
        for entry in manifest["segments"]:
            keep.add(entry["name"])
            if entry.get("deleted"):
                keep.add(entry["deleted"])
        cutoff = time.time() - GRACE_SECONDS
        for path in self.segment_dir.iterdir():
            try:
                if path.name not in keep and path.stat().st_mtime < cutoff:
                    if path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        path.unlink(missing_ok=True)
            except FileNotFoundError:
                continue

    def _catch_up(self, store: Store, snapshot: LexicalSnapshot) -> LexicalSnapshot:
        """Under ``locked()``: bring the index to the store's committed chunks. An empty
        index is built from every chunk (the one full read); otherwise only documents
        whose committed version differs are read."""
        generation = store.generation()  # before reading: a later write shows as stale
        versions = store.committed_versions()
        have = snapshot.doc_versions()
        removed = [d for d, v in have.items() if versions.get(d) != v]
        manifest = self.manifest()
        if not have:
            chunks: Iterable[tuple[str, str, dict[str, Any]]] = store.iter_chunks()
            counter = "full_builds"
            manifest = {**manifest, "generation": None, "segments": []}
            for old in self.folder.iterdir():  # the cache format before segments
                if (old / "bm25.json").exists():
                    shutil.rmtree(old, ignore_errors=True)
        else:
            missing = {d: v for d, v in versions.items() if have.get(d) != v}
            chunks = store.chunks_of(missing)
            counter = "catch_ups"
        added: list[Segment] = []
        batch: list[tuple[str, str, dict[str, Any]]] = []
        self.segment_dir.mkdir(parents=True, exist_ok=True)
        for item in chunks:
            batch.append(item)
            if len(batch) >= SYNC_ROWS:
                added.append(self.prepare(batch))  # type: ignore[arg-type]
                batch = []
        if batch:
            added.append(self.prepare(batch))  # type: ignore[arg-type]
        self._apply(manifest, added, removed, generation, counter)
        return self.open()
