"""Checking uploaded files before they reach the ingest pipeline."""

from __future__ import annotations

import contextlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ingest.decode import SNIFF_BYTES, binary_reason
from ingest.readers import KINDS
from ui.i18n import t

_UNSAFE_NAME = re.compile(r"[^\w.\-\u3400-\u9fff]+")


@dataclass
class Accepted:
    """Uploads accepted for a job (original name, where the file now waits), and
    messages for the refused ones."""

    files: list[tuple[str, Path]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def check_upload(path: Path, name: str, max_mb: float, lang: str) -> str | None:
    """A message saying why the file is refused, or None when it may be ingested."""
    suffix = Path(name).suffix.lower()
    if suffix not in KINDS:
        return t(lang, "file_type", name=name, allowed=" ".join(KINDS))
    size = path.stat().st_size
    if size > max_mb * 1e6:
        return t(lang, "file_size", name=name, mb=size / 1e6, limit=max_mb)
    if size == 0:
        return t(lang, "file_empty", name=name)
    with path.open("rb") as src:
        if binary_reason(src.read(SNIFF_BYTES)):
            return t(lang, "file_binary", name=name)
    return None


def safe_name(name: str) -> str:
    """A file name without folders or odd characters (Chinese kept)."""
    stem = _UNSAFE_NAME.sub("_", Path(name).name).strip("._") or "upload"
    return stem[:120]


def accept_uploads(
    files: list[str | Path], incoming: Path, max_mb: float, lang: str, temp_root: Path | None
) -> Accepted:
    """Check each upload; move the acceptable ones into ``incoming`` (a job's folder) and
    delete the refused ones. Files are moved or deleted only when they lie under
    ``temp_root`` (Gradio's upload folder), so nothing else on disk is ever touched;
    other paths are copied."""
    accepted = Accepted()
    for index, item in enumerate(files):
        path = Path(item)
        name = path.name
        if not path.is_file():
            accepted.errors.append(t(lang, "file_gone", name=name))
            continue
        owned = temp_root is not None and path.resolve().is_relative_to(temp_root.resolve())
        error = check_upload(path, name, max_mb, lang)
        if error:
            accepted.errors.append(error)
            if owned:
                discard_temp(path, temp_root)  # type: ignore[arg-type]
            continue
        incoming.mkdir(parents=True, exist_ok=True)
        target = incoming / f"{index}-{safe_name(name)}"
        if owned:
            shutil.move(path, target)
            discard_temp(path, temp_root)  # type: ignore[arg-type]
        else:
            shutil.copyfile(path, target)
        accepted.files.append((name, target))
    return accepted


def discard_temp(path: Path, temp_root: Path) -> None:
    """Delete Gradio's copy of an upload and the per-upload folder it sat in."""
    path.unlink(missing_ok=True)
    folder = path.parent
    if folder.resolve() != temp_root.resolve():
        with contextlib.suppress(OSError):  # only when empty: another upload may share it
            folder.rmdir()
