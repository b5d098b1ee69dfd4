"""Find input files and read them into RawDocuments. No cleaning here."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ingest.models import RawDocument

# The accepted input types (file suffix -> reader), for ingest and the UI's upload check.
KINDS = {".txt": "txt", ".html": "html", ".htm": "html", ".md": "md", ".jsonl": "jsonl"}


@dataclass(frozen=True)
class Failure:
    """An input that could not be stored, and why."""

    path: str
    error: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Characters that would mangle a terminal or forge output lines when a path is printed:
# C0/C1 controls and DEL (newlines, ANSI escapes), line and paragraph separators,
# bidirectional overrides (a name that reads backwards), and lone surrogates (bytes of a
# file name that are not UTF-8, which cannot even be encoded for printing).
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` (a path, or a message naming one) safe to show a human: control
    characters, line breaks and bidi overrides escaped as ``\\n``, ``\\x1b``, ``\\u202e``.
    JSON output needs none of this: JSON escapes them itself."""
    return _UNPRINTABLE.sub(
        lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text
    )


_DIR, _FILE = "dir", "file"


def _kind(path: Path) -> str:
    """``_DIR``, ``_FILE``, or the reason ``path`` cannot be an input."""
    try:
        mode = path.stat().st_mode  # follows symbolic links
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: the link leads back to itself"
        if exc.errno == errno.ENOENT and path.is_symlink():
            return "broken symbolic link: its target does not exist"
        if exc.errno == errno.ENOENT:
            return "no such file or directory"
        return f"cannot read: {exc.strerror or exc}"
    if stat.S_ISDIR(mode):
        return _DIR
    if stat.S_ISREG(mode):
        return _FILE
    return "not a regular file"


def find_files(
    paths: Iterable[str | Path], *, skip: Path | None = None
) -> Iterator[Path | Failure]:
    """Files named directly, and files under folders (recursive, sorted; hidden files
    and anything under ``skip``, the store's own folder, left out). Links to folders are
    followed; every path that cannot be read (an unreadable folder, a link loop, a broken
    link, a device) is a Failure with the reason, and so is a folder with no files at all.
    Each file is given once, however many names lead to it."""
    skip = skip.resolve() if skip else None
    given: set[Path] = set()
    for name in paths:
        path = Path(name)
        kind = _kind(path)
        if kind == _FILE:
            found: Iterable[Path | Failure] = [path.resolve()]
        elif kind == _DIR:
            found = list(_walk(path, skip, (path.resolve(),), set()))
            if not found:
                yield Failure(
                    str(path), "no input files in this folder (names starting with '.' are skipped)"
                )
        else:
            found = [Failure(str(path), kind)]
        for item in found:
            if isinstance(item, Path):
                if item in given:
                    continue
                given.add(item)
            yield item


def _walk(
    folder: Path,
    skip: Path | None,
    ancestors: tuple[Path, ...],
    visited: set[Path],
) -> Iterator[Path | Failure]:
    """Depth-first, in name order (what sorting full paths gives). ``ancestors`` are the
    resolved folders above and including ``folder``: a link to one of them is a loop."""
    visited.add(ancestors[-1])
    try:
        with os.scandir(folder) as entries:
            children = sorted(entries, key=lambda e: e.name)
    except OSError as exc:
        yield Failure(str(folder), f"cannot read folder: {exc.strerror or exc}")
        return
    for entry in children:
        if entry.name.startswith("."):
            continue
        child = Path(entry.path)
        kind = _kind(child)
        if kind not in (_DIR, _FILE):
            yield Failure(str(child), kind)
            continue
        real = child.resolve()
        if skip and real.is_relative_to(skip):
            continue
        if kind == _DIR:
            if real in ancestors:
                yield Failure(
                    str(child), "symbolic link loop: the link leads back to a folder above it"
                )
            elif real not in visited:  # else read already, through another link
                yield from _walk(child, skip, (*ancestors, real), visited)
        else:
            yield real


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
                yield Failure(str(item), _over_limit("file", size, max_bytes))
                continue
            data = item.read_bytes()
        except OSError as exc:
            yield Failure(str(item), f"cannot read: {exc.strerror or exc}")
            continue
        if not data.strip():
            yield Failure(str(item), "empty file")
            continue
        yield RawDocument(path=str(item), kind=kind, raw_hash=sha256(data), data=data)


# A jsonl line is read in pieces of this many bytes, and they are dropped as soon as
# the line is over the limit: memory stays near the limit whatever the line's length.
READ_PIECE = 1 << 20
# Optional jsonl fields; each must be a string when given (null means absent).
STRING_FIELDS = ("title", "published", "source", "url")


def _over_limit(what: str, size: int, max_bytes: int) -> str:
    return f"{what} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (RAG_MAX_FILE_MB)"


def _lines(handle: BinaryIO, max_bytes: int) -> Iterator[tuple[int, bytes | int]]:
    """(number, line without its line ending) for each line of ``handle``, or (number,
    length in bytes) for a line longer than ``max_bytes``, which is never held whole."""
    number = 0
    while last := handle.readline(READ_PIECE):
        number += 1
        pieces, size = [last], len(last)
        while not last.endswith(b"\n") and (last := handle.readline(READ_PIECE)):
            size += len(last)
            if size <= max_bytes + 2:  # room for "\r\n"
                pieces.append(last)
            else:
                pieces.clear()
        length = size - (2 if last.endswith(b"\r\n") else last.endswith(b"\n"))
        yield number, length if length > max_bytes else b"".join(pieces)[:length]


def _json_type(value: object) -> str:
    """How a JSON user would name the type of ``value``."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else "a string"


def record_problem(record: object) -> str | None:
    """Why a parsed jsonl line is not a usable article record, or None if it is."""
    if not isinstance(record, dict):
        return f"expected a JSON object with a 'text' field, not {_json_type(record)}"
    text = record.get("text")
    if text is None:
        return "missing 'text' field"
    if not isinstance(text, str):
        return f"'text' must be a string, not {_json_type(text)}"
    if not text.strip():
        return "empty 'text' field"
    for key in STRING_FIELDS:
        value = record.get(key)
        if value is not None and not isinstance(value, str):
            return f"'{key}' must be a string, not {_json_type(value)}"
    ident = record.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, str | int)):
        return f"'id' must be a string or an integer, not {_json_type(ident)}"
    return None


def _read_jsonl(path: Path, max_bytes: int) -> Iterator[RawDocument | Failure]:
    any_line = False
    with path.open("rb") as handle:
        for number, line in _lines(handle, max_bytes):
            where = f"{path}:{number}"
            if isinstance(line, int):
                any_line = True
                yield Failure(where, _over_limit("line", line, max_bytes))
                continue
            if not line.strip():
                continue
            any_line = True
            try:
                record = json.loads(line.decode("utf-8-sig"))
            except UnicodeDecodeError:
                yield Failure(where, "line is not UTF-8 text")
                continue
            except json.JSONDecodeError as exc:
                # Some messages end in "at" already ("Invalid control character at").
                message = exc.msg.removesuffix(" at")
                yield Failure(where, f"invalid JSON: {message} at column {exc.colno}")
                continue
            problem = record_problem(record)
            if problem:
                yield Failure(where, problem)
                continue
            yield RawDocument(
                path=str(path),
                kind="jsonl",
                raw_hash=sha256(line.strip()),
                record=record,
                line=number,
            )
    if not any_line:
        yield Failure(str(path), "empty file")
