"""Bytes to text: declared charset, strict UTF-8 first, then detection; reject binary input."""

from __future__ import annotations

import codecs
import re

# Declared names mapped to the widest codec of their family: GB2312/GBK pages often use
# characters outside the declared set, and Big5 pages often use the cp950 extensions.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "big5": "cp950",
    "big-5": "cp950",
    "x-x-big5": "cp950",
    "iso-8859-1": "cp1252",  # browsers treat latin-1 as windows-1252
    "latin-1": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.I)
# XML declarations, and wrapper tags some crawlers add (<text ... encoding="gb2312">).
_XML_ENCODING = re.compile(rb"""<[?a-z][^>]+\bencoding\s*=\s*["']([A-Za-z0-9_.\-]+)""", re.I)
# Bytes that never occur in text: C0 controls other than tab, LF, FF, CR and ESC (which
# ISO-2022 encodings use).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_CHARSET_SNIFF = 8192  # how far to look for a meta tag or an XML declaration
# How far to look for binary bytes, and the share of control bytes above which the input
# is not text: the stricter of the two rules ingest and the upload check once had (a
# text file has next to none; images, archives and PDFs have NUL bytes early anyway).
SNIFF_BYTES = 65536
_MAX_CONTROL_RATIO = 0.05
_MAX_REPLACED_RATIO = 0.01  # a lenient decode may replace at most this share of chars


class DecodeError(ValueError):
    """The bytes are not text in any charset we accept."""


def declared_charset(data: bytes) -> str | None:
    """The charset named by an HTML meta tag or XML declaration near the start, or None."""
    head = data[:_CHARSET_SNIFF]
    match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
    return match.group(1).decode("ascii").lower() if match else None


def _codec(name: str | None) -> str | None:
    """The Python codec to use for a declared charset name, or None if unknown."""
    if not name:
        return None
    name = _SUPERSETS.get(name.lower(), name.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(data: bytes, codec: str | None) -> str | None:
    """``data`` decoded by ``codec`` without any error, else None."""
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def binary_reason(data: bytes) -> str | None:
    """Why ``data`` (or its first SNIFF_BYTES) is not text: NUL bytes, or many control
    bytes; None when it may be text. A byte-order mark says text (UTF-16 and UTF-32 are
    full of NUL bytes). The one sniffing rule: ingest and the upload check use it."""
    if data.startswith(tuple(bom for bom, _ in _BOMS)):
        return None
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        return "binary input: contains NUL bytes"
    controls = sum(head.count(bytes([b])) for b in _CONTROL)
    if head and controls / len(head) > _MAX_CONTROL_RATIO:
        return f"binary input: {controls} control bytes in the first {len(head)}"
    return None


def _detect(data: bytes) -> str | None:
    """Decode by the Chinese legacy charsets, using charset-normalizer when both fit."""
    candidates = {c: t for c in ("gb18030", "cp950") if (t := _strict(data, c)) is not None}
    if len(candidates) == 1:
        return next(iter(candidates.values()))
    if not candidates:
        return None
    from charset_normalizer import from_bytes

    # Both fit (Big5 bytes are mostly valid GBK): let charset-normalizer choose, but only
    # between these two, since unrestricted it can pick exotic codecs for CJK input.
    best = from_bytes(data, cp_isolation=list(candidates)).best()
    if best is not None and best.encoding in candidates:
        return candidates[best.encoding]
    return candidates["gb18030"]


def _lenient(data: bytes, codecs_to_try: list[str]) -> str | None:
    """The lenient decode with the fewest replacement characters, if they stay rare."""
    best: str | None = None
    best_bad = 0
    for codec in codecs_to_try:
        text = data.decode(codec, errors="replace")
        bad = text.count("\ufffd")
        if text and bad / len(text) <= _MAX_REPLACED_RATIO and (best is None or bad < best_bad):
            best, best_bad = text, bad
    return best


def _normalizer(data: bytes) -> str | None:
    """charset-normalizer's unrestricted guess: the last resort."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else None


def decode_bytes(data: bytes, *, html: bool = False) -> str:
    """Decode ``data`` to text.

    Order: byte-order mark; strict UTF-8 (a declared charset can lie, and valid UTF-8 is
    almost never an accident for CJK text); the declared charset (HTML meta or XML
    declaration, looked for when ``html`` is true); detection among GB18030 and Big5
    (cp950) with charset-normalizer; a lenient decode if only a few bytes are bad; finally
    charset-normalizer unrestricted.
    Raises DecodeError for binary or undecodable input.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"invalid {codec} after a byte-order mark: {exc}") from exc
    reason = binary_reason(data)
    if reason:
        raise DecodeError(reason)
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    declared = _codec(declared_charset(data)) if html else None
    text = _strict(data, declared)
    if text is not None:
        return text
    text = _detect(data)
    if text is not None:
        return text
    text = _lenient(data, [c for c in (declared, "utf-8", "gb18030", "cp950") if c])
    if text is not None:
        return text
    text = _normalizer(data)
    if text is not None and text.strip():
        return text
    raise DecodeError("undecodable input: not UTF-8, GB18030 or Big5 text")
