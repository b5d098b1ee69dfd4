"""Find input files and read them into RawDocuments. No cleaning here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest.models import RawDocument

KINDS = {".txt": "txt", ".html": "html", ".htm": "html", ".md": "md", ".jsonl": "jsonl"}


@dataclass(frozen=True)
class Failure:
    """An input that could not be stored, and why."""

    path: str
    error: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_files(
    paths: Iterable[str | Path], *, skip: Path | None = None
) -> Iterator[Path | Failure]:
    """Files named directly, and files under folders (recursive, sorted; hidden files
    and anything under ``skip``, the store's own folder, left out)."""
    skip = skip.resolve() if skip else None
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path).parts
                if not child.is_file() or any(part.startswith(".") for part in rel):
                    continue
                if skip and child.resolve().is_relative_to(skip):
                    continue
                yield child.resolve()
        elif path.is_file():
            yield path.resolve()
        elif path.exists():
            yield Failure(str(path), "not a regular file")
        else:
            yield Failure(str(path), "no such file or directory")


def read_raw_documents(
    paths: Iterable[str | Path], *, max_bytes: int, skip: Path | None = None
) -> Iterator[RawDocument | Failure]:
    """RawDocuments for every readable input unit; a Failure for every bad one.

    A .jsonl file yields one unit per non-blank line, and ``max_bytes`` applies per line;
    other files are one unit each and ``max_bytes`` applies to the file.
    """
    for item in find_files(paths, skip=skip):
        if isinstance(item, Failure):
            yield item
            continue
        kind = KINDS.get(item.suffix.lower())
        if kind is None:
            supported = " ".join(sorted(KINDS))
            yield Failure(
                str(item),
                f"unsupported file type {item.suffix or '(none)'!r} (supported: {supported})",
            )
            continue
        try:
            size = item.stat().st_size
            if kind == "jsonl":
                yield from _read_jsonl(item, max_bytes)
                continue
            if size > max_bytes:
                yield Failure(
                    str(item),
                    f"file is {size / 1e6:.1f} MB, over the "
                    f"{max_bytes / 1e6:.0f} MB limit (RAG_MAX_FILE_MB)",
                )
                continue
            data = item.read_bytes()
        except OSError as exc:
            yield Failure(str(item), f"cannot read: {exc.strerror or exc}")
            continue
        if not data.strip():
            yield Failure(str(item), "empty file")
            continue
        yield RawDocument(path=str(item), kind=kind, raw_hash=sha256(data), data=data)


def _read_jsonl(path: Path, max_bytes: int) -> Iterator[RawDocument | Failure]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not line.strip():
                continue
            if len(line) > max_bytes:
                yield Failure(where, f"line is {len(line) / 1e6:.1f} MB, over the limit")
                continue
            try:
                record = json.loads(line.decode("utf-8-sig"))
            except UnicodeDecodeError:
                yield Failure(where, "line is not UTF-8 text")
                continue
            except json.JSONDecodeError as exc:
                yield Failure(where, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(record, dict):
                yield Failure(where, "expected a JSON object with a 'text' field")
                continue
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                yield Failure(where, "missing or empty 'text' field")
                continue
            yield RawDocument(
                path=str(path),
                kind="jsonl",
                raw_hash=sha256(line.strip()),
                record=record,
                line=number,
            )
