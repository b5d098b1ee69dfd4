"""Checking uploaded files before they reach the ingest pipeline."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ui.i18n import t

ALLOWED = (".txt", ".html", ".htm", ".md", ".jsonl")
SNIFF_BYTES = 65536
# Control bytes other than tab, newline, form feed and carriage return.
_CONTROL = set(range(0, 9)) | {11} | set(range(14, 32))
_UNSAFE_NAME = re.compile(r"[^\w.\-\u3400-\u9fff]+")


@dataclass
class Staged:
    """Uploads accepted into the uploads folder, and messages for the refused ones."""

    paths: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def looks_binary(head: bytes) -> bool:
    """True for data with NUL bytes or many control bytes (images, archives, PDFs)."""
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b in _CONTROL)
    return controls / len(head) > 0.05


def check_upload(path: Path, name: str, max_mb: float, lang: str) -> str | None:
    """A message saying why the file is refused, or None when it may be ingested."""
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED:
        return t(lang, "file_type", name=name, allowed=" ".join(ALLOWED))
    size = path.stat().st_size
    if size > max_mb * 1e6:
        return t(lang, "file_size", name=name, mb=size / 1e6, limit=max_mb)
    if size == 0:
        return t(lang, "file_empty", name=name)
    with path.open("rb") as src:
        if looks_binary(src.read(SNIFF_BYTES)):
            return t(lang, "file_binary", name=name)
    return None


def safe_name(name: str) -> str:
    """A file name without folders or odd characters (Chinese kept)."""
    stem = _UNSAFE_NAME.sub("_", Path(name).name).strip("._") or "upload"
    return stem[:120]


def stage_uploads(files: list[str | Path], uploads: Path, max_mb: float, lang: str) -> Staged:
    """Copy acceptable uploads into ``uploads`` under their own names, so the store keeps
    a stable path and re-uploading the same file is recognised as unchanged."""
    staged = Staged()
    for item in files:
        path = Path(item)
        name = path.name
        error = check_upload(path, name, max_mb, lang)
        if error:
            staged.errors.append(error)
            continue
        uploads.mkdir(parents=True, exist_ok=True)
        target = uploads / safe_name(name)
        shutil.copyfile(path, target)
        staged.paths.append(target)
    return staged
