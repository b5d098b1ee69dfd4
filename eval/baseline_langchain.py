"""The LangChain RAG-tutorial indexing pipeline, as a baseline for ours.

Load the jsonl records as Documents, ``RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)``, then ``Chroma(...).add_documents(...)`` into an embedded store, with
the project's hash embedder wrapped as LangChain ``Embeddings`` so that only the pipeline
differs. One change from the tutorial: documents are added in batches under Chroma's
per-call limit (5,461 records), which a single ``add_documents`` call of the whole corpus
exceeds.

    python -m eval.baseline_langchain FILE.jsonl DB_DIR   # prints a JSON summary
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from rag.core.config import apply_offline_env

COLLECTION = "langchain"
CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4  # the tutorial retriever: similarity search, k=4


class HashEmbeddings(Embeddings):
    """The project's HashEmbedder behind LangChain's Embeddings interface."""

    def __init__(self, **kwargs: Any) -> None:
        from rag.core.embed import HashEmbedder

        self._embedder = HashEmbedder(**kwargs)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._embedder.embed_query(text).tolist()


def load_documents(jsonl: Path) -> list[Document]:
    """One Document per jsonl record; metadata keeps the non-empty fields but text."""
    documents = []
    with jsonl.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            record = json.loads(line)
            meta = {k: v for k, v in record.items() if k != "text" and v not in (None, "")}
            documents.append(Document(page_content=record["text"], metadata=meta))
    return documents


def open_langchain_store(db: Path):  # type: ignore[no-untyped-def]  # -> langchain_chroma.Chroma
    """The tutorial's vector store at ``db`` (created when missing), same embedder."""
    apply_offline_env()
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=COLLECTION,
        embedding_function=HashEmbeddings(),
        persist_directory=str(db),
        client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
    )


def ingest_langchain(jsonl: Path, db: Path) -> dict[str, Any]:
    """Load, split and index ``jsonl`` into a new store at ``db``: docs, chunks, seconds."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    started = time.perf_counter()
    documents = load_documents(jsonl)
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    splits = splitter.split_documents(documents)
    store = open_langchain_store(db)
    batch = store._client.get_max_batch_size()
    for start in range(0, len(splits), batch):
        store.add_documents(splits[start : start + batch])
    return {
        "docs": len(documents),
        "chunks": len(splits),
        "stored": store._collection.count(),
        "seconds": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jsonl", type=Path)
    parser.add_argument("db", type=Path)
    args = parser.parse_args(argv)
    print(json.dumps(ingest_langchain(args.jsonl, args.db)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
