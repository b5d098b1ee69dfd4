"""Ingest: raw inputs -> cleaned Articles -> Chunks -> vectors -> the store.

Idempotent and incremental: a raw input already stored is skipped before cleaning; an
article whose cleaned content is unchanged is not re-embedded; a changed one replaces
its old chunks; the same article under another path or URL is stored once.

Identity rules: within one run an identity (canonical URL, else jsonl ``id``, else
path) belongs to the first input that has it; a later input with that identity and
other content is a reported conflict, not stored. Across runs, new content under a
stored identity is an update (that is how corrected articles arrive).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingest.chunk import chunk_article
from ingest.models import Article, CleanedPage, RawDocument
from ingest.readers import Failure, read_raw_documents
from rag.core.config import Settings
from rag.core.lexstore import LexicalStore
from rag.core.lock import OnWait
from rag.core.store import DocRecord, Store, StoreError, chunk_metadata
from rag.core.types import Chunk


@dataclass(frozen=True)
class Conflict:
    """Two inputs of one run with the same identity and different content."""

    identity: str  # what made them the same: "url:...", "id:..." or "path:..."
    doc_id: str
    first: str  # the input kept (path, with :line for jsonl)
    second: str  # the input not stored


@dataclass
class IngestReport:
    """The outcome of one ingest run; ``as_json`` is the CLI's --json contract."""

    documents: int = 0  # documents in the store after the run
    chunks: int = 0  # chunks in the store after the run
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failed: list[Failure] = field(default_factory=list)
    near_duplicates: list[tuple[str, str, float]] = field(default_factory=list)
    duplicate_of: list[tuple[str, str]] = field(default_factory=list)  # (input, doc_id)
    conflicts: list[Conflict] = field(default_factory=list)
    embedder: str = ""
    repaired: int = 0
    seconds: float = 0.0
    # (input, phrase): stored articles holding instruction-like text (rag.core.text.injection)
    instruction_like: list[tuple[str, str]] = field(default_factory=list)

    @property
    def read_any(self) -> bool:
        return (self.added + self.updated + self.unchanged + self.duplicates) > 0

    @property
    def exit_code(self) -> int:
        """0: all inputs fine; 1: some failed or conflicted; 2: nothing could be read."""
        if not self.failed and not self.conflicts:
            return 0
        return 1 if self.read_any else 2

    def as_json(self) -> dict:
        return {
            "documents": self.documents,
            "chunks": self.chunks,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "conflicts": [
                {"identity": c.identity, "doc_id": c.doc_id, "first": c.first, "second": c.second}
                for c in self.conflicts
            ],
            "near_duplicates": [
                {"doc_id": a, "similar_to": b, "similarity": s} for a, b, s in self.near_duplicates
            ],
            "embedder": self.embedder,
            "repaired": self.repaired,
            "seconds": round(self.seconds, 3),
            "instruction_like": [{"path": p, "phrase": f} for p, f in self.instruction_like],
        }


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no tracking parameters, no trailing /."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(("utm_", "fbclid", "gclid", "from", "ref"))
    ]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(
        (parts.scheme.lower() or "https", parts.netloc.lower(), path, urlencode(query), "")
    )


def identity_key(page: CleanedPage, raw: RawDocument) -> str:
    """What makes two inputs the same document: canonical URL, else the jsonl id (5 and
    "5" alike), else the file path (and line)."""
    if page.url:
        return "url:" + canonical_url(page.url)
    if raw.record is not None and raw.record.get("id") not in (None, ""):
        return "id:" + str(raw.record["id"])
    return "path:" + raw.where


def document_identity(page: CleanedPage, raw: RawDocument) -> str:
    """Stable id: a hash of ``identity_key``."""
    return hashlib.sha256(identity_key(page, raw).encode()).hexdigest()[:20]


def clean_raw(raw: RawDocument) -> CleanedPage:
    """Clean one input unit (raises ValueError subclasses with a reason)."""
    from ingest.clean import clean_page

    if raw.record is not None:
        return page_from_record(raw.record)
    return clean_page(raw.data, raw.kind)


def page_from_record(record: dict) -> CleanedPage:
    """A jsonl record is an article body already: split paragraphs, parse the date.

    A date that cannot be parsed is kept as given; a missing title becomes the start
    of the text so every citation still has something to show.
    """
    from ingest.clean import split_paragraphs
    from rag.core.text.dates import parse_date

    paragraphs = split_paragraphs(str(record["text"]))
    title = _field(record, "title") or _title_from(paragraphs)
    published = _field(record, "published")
    return CleanedPage(
        title=title,
        paragraphs=paragraphs,
        published=(parse_date(published) or published) if published else None,
        source=_field(record, "source"),
        url=_field(record, "url"),
    )


def _field(record: dict, key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    return str(value).strip() or None


def _title_from(paragraphs: tuple[str, ...]) -> str:
    first = paragraphs[0] if paragraphs else ""
    return first if len(first) <= 40 else first[:40] + "…"


def content_hash(page: CleanedPage) -> str:
    """What decides re-embedding: the text and everything a citation shows with it
    (a corrected date or outlet must reach the stored chunks)."""
    shown = [page.title, page.published or "", page.source or "", page.url or "", page.text]
    return hashlib.sha256("\n".join(shown).encode()).hexdigest()


def to_article(page: CleanedPage, raw: RawDocument) -> Article:
    text = page.text
    return Article(
        doc_id=document_identity(page, raw),
        title=page.title,
        text=text,
        published=page.published,
        source=page.source,
        url=page.url,
        path=raw.where,
        content_hash=content_hash(page),
        raw_hash=raw.raw_hash,
    )


def ingest(
    paths: Iterable[str | Path],
    settings: Settings,
    *,
    store: Store | None = None,
    progress: Callable[[int], None] | None = None,
    wait: bool = True,
    on_wait: OnWait | None = None,
) -> IngestReport:
    """Ingest files and folders into the store; never raises for a bad input.

    Runs under the store's writer lock (``Store.writing``): with another writer at work
    it waits (calling ``on_wait(holder)`` once), or raises ``rag.core.lock.WriterBusy``
    when ``wait`` is False.
    """
    store = store or Store.open(settings)
    with store.writing(wait=wait, on_wait=on_wait):
        return _ingest_locked(paths, settings, store, progress)


def _ingest_locked(
    paths: Iterable[str | Path],
    settings: Settings,
    store: Store,
    progress: Callable[[int], None] | None,
) -> IngestReport:
    """Repair, then decide and record each input, writing in batches of
    ``settings.doc_batch`` documents; the report."""
    from rag.core.embed import describe

    started = time.perf_counter()
    report = IngestReport(embedder=describe(store.embedder))
    report.repaired = store.repair()
    books = Books.of(store.doc_records())
    now = datetime.now(UTC).isoformat(timespec="seconds")
    limit = int(settings.max_file_mb * 1e6)
    for raw in read_raw_documents(paths, max_bytes=limit, skip=Path(settings.db)):
        if progress:
            progress(1)
        if isinstance(raw, Failure):
            report.failed.append(raw)
            continue
        outcome = decide(raw, books)
        book(outcome, books, report)
        if outcome.kind == STORE and books.waiting >= settings.doc_batch:
            flush_batch(books, report, store, settings, now)
    flush_batch(books, report, store, settings, now)
    _finish(report, books, store)
    report.seconds = time.perf_counter() - started
    return report


# What one input comes to (Outcome.kind).
FAILED = "failed"  # could not be cleaned: reported with the reason
UNCHANGED = "unchanged"  # stored already, same input
DUPLICATE = "duplicate"  # the same article as a stored one, under another input
CONFLICT = "conflict"  # an identity this run met with other content: not stored
TOUCH = "touch"  # same article, new raw bytes: only its record is rewritten
STORE = "store"  # new or changed: chunked, embedded and written


@dataclass(frozen=True)
class Outcome:
    """What to do with one input (``decide``); ``book`` enters it in the run's books."""

    kind: str
    where: str  # the input: path, with :line for jsonl
    doc_id: str = ""  # the document of its identity (all but FAILED)
    same_as: str = ""  # DUPLICATE: the document it repeats
    reason: str = ""  # FAILED: why
    conflict: Conflict | None = None  # CONFLICT
    article: Article | None = None  # TOUCH, STORE
    old: DocRecord | None = None  # TOUCH, STORE: its stored record, None when new


@dataclass
class Books:
    """What one run knows: the stored records as this run changed them, indexes by raw
    and content hash, which input first had each identity, and what waits to be
    written."""

    records: dict[str, DocRecord]
    by_raw: dict[str, DocRecord]
    by_content: dict[str, str]  # content hash -> doc_id
    seen: dict[str, str] = field(default_factory=dict)  # doc_id -> this run's first input
    signatures: dict[str, object] = field(default_factory=dict)  # MinHash of new content
    pending: list[tuple[Article, DocRecord | None, str]] = field(default_factory=list)
    touched: list[DocRecord] = field(default_factory=list)  # records to rewrite

    @classmethod
    def of(cls, records: dict[str, DocRecord]) -> Books:
        return cls(
            records,
            {r.raw_hash: r for r in records.values()},
            {r.content_hash: r.doc_id for r in records.values()},
        )

    @property
    def waiting(self) -> int:
        """Documents waiting for the next write."""
        return len(self.pending) + len(self.touched)


def decide(raw: RawDocument, books: Books) -> Outcome:
    """What one input comes to, given what the run knows (``books`` is not changed)."""
    known = books.by_raw.get(raw.raw_hash)
    if known is not None:  # byte-identical input: no cleaning at all
        first = books.seen.get(known.doc_id, raw.where)
        current = books.records.get(known.doc_id)
        if current is not None and current.content_hash != known.content_hash:
            # The stored version of a document this run already changed.
            conflict = Conflict(_key_of(raw), known.doc_id, first, raw.where)
            return Outcome(CONFLICT, raw.where, known.doc_id, conflict=conflict)
        if known.path == raw.where:
            return Outcome(UNCHANGED, raw.where, known.doc_id)
        return Outcome(DUPLICATE, raw.where, known.doc_id, same_as=known.doc_id)
    try:
        page = clean_raw(raw)
        article = to_article(page, raw)
    except ValueError as exc:
        return Outcome(FAILED, raw.where, reason=str(exc))
    old = books.records.get(article.doc_id)
    first = books.seen.get(article.doc_id)
    if first is not None:  # this run met the identity already
        if old is not None and old.content_hash == article.content_hash:
            return Outcome(DUPLICATE, raw.where, article.doc_id, same_as=article.doc_id)
        conflict = Conflict(identity_key(page, raw), article.doc_id, first, raw.where)
        return Outcome(CONFLICT, raw.where, article.doc_id, conflict=conflict)
    if old is not None and old.content_hash == article.content_hash:
        # Same article, new raw bytes (say, a changed ad): metadata only.
        return Outcome(TOUCH, raw.where, article.doc_id, article=article, old=old)
    same_content = books.by_content.get(article.content_hash)
    if same_content is not None and same_content != article.doc_id:
        return Outcome(DUPLICATE, raw.where, article.doc_id, same_as=same_content)
    return Outcome(STORE, raw.where, article.doc_id, article=article, old=old)


def book(outcome: Outcome, books: Books, report: IngestReport) -> None:
    """Book one input's outcome in the run's books and the report."""
    if outcome.kind == FAILED:
        report.failed.append(Failure(outcome.where, outcome.reason))
        return
    books.seen.setdefault(outcome.doc_id, outcome.where)
    if outcome.kind == UNCHANGED:
        report.unchanged += 1
    elif outcome.kind == DUPLICATE:
        report.duplicates += 1
        report.duplicate_of.append((outcome.where, outcome.same_as))
    elif outcome.kind == CONFLICT:
        report.conflicts.append(outcome.conflict)  # type: ignore[arg-type]
    elif outcome.kind == TOUCH:
        article, old = outcome.article, outcome.old
        assert article is not None and old is not None
        fresh = replace(old, raw_hash=article.raw_hash, path=article.path)
        books.touched.append(fresh)
        books.records[old.doc_id] = books.by_raw[article.raw_hash] = fresh
        report.unchanged += 1
    else:
        assert outcome.article is not None
        _stage(outcome.article, outcome.old, books, report)


def _stage(article: Article, old: DocRecord | None, books: Books, report: IngestReport) -> None:
    """Queue a new or changed article for the next batch, under a placeholder record."""
    from ingest.dedup import signature, to_hex
    from rag.core.text.injection import find_instructions

    if flags := find_instructions(article.text):
        report.instruction_like.append((article.path, flags[0].phrase))
    sig = signature(article.text)
    books.signatures[article.doc_id] = sig
    placeholder = DocRecord(
        doc_id=article.doc_id,
        title=article.title,
        path=article.path,
        content_hash=article.content_hash,
        raw_hash=article.raw_hash,
        n_chunks=0,
        version=old.version if old else "",
        signature=to_hex(sig),
    )
    books.records[article.doc_id] = books.by_raw[article.raw_hash] = placeholder
    books.by_content[article.content_hash] = article.doc_id
    if old is None:
        report.added += 1
    else:
        report.updated += 1
    books.pending.append((article, old, placeholder.signature))


def flush_batch(
    books: Books, report: IngestReport, store: Store, settings: Settings, now: str
) -> None:
    """Write the waiting articles as one batch (``_store_batch``), then the rewritten
    records. A batch that Chroma or the embedder failed on is undone and its inputs
    reported failed; the run goes on."""
    if books.pending:
        try:
            _store_batch(books.pending, store, settings, now)
        except StoreError:  # ours: a lost lease or a bug, never an input's fault
            raise
        except Exception as exc:  # noqa: BLE001  (Chroma or the embedder failed)
            # Undo the batch (we hold the lock, so the open journal is ours), name
            # its inputs, and go on: the committed store is untouched.
            store.repair()
            _unbook(books, report, f"not stored: {type(exc).__name__}: {exc}")
        books.pending.clear()
    if books.touched:
        store.update_records(books.touched)
        books.touched.clear()


def _unbook(books: Books, report: IngestReport, reason: str) -> None:
    """Take the pending batch out of the books and the counts; report its inputs."""
    for article, old, _ in books.pending:
        if old is None:
            report.added -= 1
            books.records.pop(article.doc_id, None)
        else:
            report.updated -= 1
            books.records[article.doc_id] = old
        books.by_raw.pop(article.raw_hash, None)
        if books.by_content.get(article.content_hash) == article.doc_id:
            del books.by_content[article.content_hash]
        books.signatures.pop(article.doc_id, None)
        report.failed.append(Failure(article.path, reason))


def _finish(report: IngestReport, books: Books, store: Store) -> None:
    """Near-duplicates of the new content among the other documents; store totals."""
    from ingest.dedup import from_hex, near_duplicates

    old_signatures = {
        d: from_hex(r.signature)
        for d, r in books.records.items()
        if r.signature and d not in books.signatures
    }
    report.near_duplicates = near_duplicates(books.signatures, old_signatures)  # type: ignore[arg-type]
    report.documents = store.count_documents()
    report.chunks = store.count_chunks()


def _key_of(raw: RawDocument) -> str:
    """The identity key of an input, for a conflict message (cleans it once more)."""
    try:
        return identity_key(clean_raw(raw), raw)
    except ValueError:
        return "path:" + raw.where


def _store_batch(
    batch: list[tuple[Article, DocRecord | None, str]], store: Store, settings: Settings, now: str
) -> None:
    """Write a batch of articles: mark, chunk+embed+write, commit, drop old versions."""
    chunks_by_doc: list[list[Chunk]] = [
        chunk_article(article, settings.chunk_size, settings.chunk_overlap)
        for article, _, _ in batch
    ]
    records = [
        DocRecord(
            doc_id=article.doc_id,
            title=article.title,
            path=article.path,
            content_hash=article.content_hash,
            raw_hash=article.raw_hash,
            n_chunks=len(chunks),
            version=article.content_hash[:12],
            published=article.published,
            source=article.source,
            url=article.url,
            ingested_at=now,
            signature=sig,
        )
        for (article, _, sig), chunks in zip(batch, chunks_by_doc, strict=True)
    ]
    before = store.generation()
    journal = store.begin([(r.doc_id, r.version) for r in records])
    flat = [c for chunks in chunks_by_doc for c in chunks]
    vectors = store.embedder.embed_documents([c.embedding_input for c in flat])
    store.write_chunks(flat, vectors)
    replaced = [article.doc_id for article, old, _ in batch if old is not None]
    # The batch's lexical segment is written before the commit but named by no manifest
    # until after it: a killed run leaves the index at the last commit. The update lock
    # spans commit and manifest, so a reader seeing the new generation waits for it.
    lexical = LexicalStore.of(settings)
    segment = lexical.prepare([(c.chunk_id, c.text, chunk_metadata(c)) for c in flat])
    with lexical.locked():
        try:
            store.commit(journal, records, replaced)
        except BaseException:
            lexical.discard(segment)
            raise
        lexical.follow_commit([segment], replaced, store, before)
