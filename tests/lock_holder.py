"""Hold a store's writer lock in a separate process, for the concurrency tests.

    python tests/lock_holder.py (--db DIR | --chroma-url URL) --ready FILE [--journal]

Takes the lock, optionally starts a write (a journal plus the chunks of one new
document, not yet committed), writes its pid to FILE, then holds until stdin closes;
then commits the write, if any, and exits. Killing it with -9 leaves the write open.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.chunk import chunk_article  # noqa: E402
from ingest.models import Article  # noqa: E402
from rag.core.config import Settings  # noqa: E402
from rag.core.store import DocRecord, Store  # noqa: E402
from tests.synth import article_text  # noqa: E402

HELD_DOC = "held-by-the-lock-holder"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--chroma-url")
    parser.add_argument("--ready", required=True)
    parser.add_argument("--journal", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env(db=args.db, chroma_url=args.chroma_url, embedder="hash")
    store = Store.open(settings)
    with store.writing():
        record = journal = None
        if args.journal:
            text = article_text(4242)
            article = Article(
                doc_id=HELD_DOC,
                title="held",
                text=text,
                published=None,
                source=None,
                url=None,
                path="held.txt",
                content_hash="f" * 64,
                raw_hash="e" * 64,
            )
            chunks = chunk_article(article, settings.chunk_size, settings.chunk_overlap)
            record = DocRecord(
                doc_id=HELD_DOC,
                title="held",
                path="held.txt",
                content_hash="f" * 64,
                raw_hash="e" * 64,
                n_chunks=len(chunks),
                version="f" * 12,
            )
            journal = store.begin([(HELD_DOC, record.version)])
            store.write_chunks(chunks, store.embedder.embed_documents([c.text for c in chunks]))
        Path(args.ready).write_text(str(os.getpid()), encoding="utf-8")
        sys.stdin.read()  # hold until the test closes our stdin
        if journal is not None and record is not None:
            store.commit(journal, [record], [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
