"""The CRUD-RAG news subset (../shared/data/crud-rag-news) as the project's jsonl input.

Each source line is ``<publish time>，正文：<body>``. A record keeps the time part as given
(the ingest pipeline parses it, and keeps what it cannot parse), the body as ``text``, no
title (the pipeline derives one) and no source; its ``id`` is a hash of the whole line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

SEPARATOR = "，正文："
FILES = (
    "documents_dup_part_1_part_1.txt",
    "documents_dup_part_1_part_2.txt",
    "semiconductor_subset.txt",
)


def shared_dir() -> Path | None:
    """The ../shared folder beside the repository, or None when it is absent."""
    path = Path(__file__).resolve().parents[2] / "shared"
    return path if path.is_dir() else None


def crud_dir() -> Path | None:
    """The CRUD-RAG news folder, or None when ../shared (or the data) is absent."""
    shared = shared_dir()
    if shared is None:
        return None
    path = shared / "data" / "crud-rag-news"
    return path if all((path / name).is_file() for name in FILES) else None


def crud_lines() -> Iterator[str]:
    """Every article line of the three files, in file order, without its newline."""
    root = crud_dir()
    if root is None:
        raise FileNotFoundError("../shared/data/crud-rag-news is not on this machine")
    for name in FILES:
        with (root / name).open(encoding="utf-8") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line


def line_id(line: str) -> str:
    """Stable id: the first 20 hex digits of the line's SHA-256."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()[:20]


def to_record(line: str) -> dict[str, str | None]:
    """One line as a jsonl record; a line without the separator is all body."""
    head, sep, body = line.partition(SEPARATOR)
    if not sep:
        head, body = "", line
    published = head.strip() or None
    return {"id": line_id(line), "published": published, "source": None, "text": body.strip()}


def write_crud_jsonl(out: Path, limit: int | None = None) -> int:
    """Write the first ``limit`` articles (all when None) to ``out``; returns the count.

    Lines whose body is empty are skipped (the reader would reject them anyway).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8") as handle:
        for line in crud_lines():
            if limit is not None and written >= limit:
                break
            record = to_record(line)
            if not record["text"]:
                continue
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    return written
