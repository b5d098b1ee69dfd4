"""Cleaning: raw page bytes to a CleanedPage (title, verbatim body paragraphs, metadata).

Text dumps, HTML and Markdown are all turned into lines; the body is the densest run of
prose lines with the furniture inside it dropped (see ingest.blocks and ingest.furniture).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.blocks import Line, classify, densest_run, select_body
from ingest.decode import decode_bytes
from ingest.models import CleanedPage
from ingest.pagemeta import byline_near, date_near, source_in, title_before
from rag.core.text.dates import parse_date

_STRIP = " \t\r\n\f\v\u3000\xa0\u200b\ufeff"
_BLANK_LINES = re.compile(r"\n\s*\n")


class CleaningError(ValueError):
    """The page has no article to keep (empty, or only page furniture)."""


def split_paragraphs(text: str) -> tuple[str, ...]:
    """Paragraphs of an already-clean article body: one per non-blank line, stripped."""
    return tuple(s for line in text.splitlines() if (s := line.strip(_STRIP)))


def _to_lines(text: str) -> list[Line]:
    return [Line(s) for s in split_paragraphs(text)]


def _body(
    lines: list[Line],
    title: str,
    supported: Callable[[int], bool | None] | None = None,
    *,
    links_known: bool = False,
) -> tuple[str, tuple[str, ...], tuple[int, int]]:
    """(title, paragraphs, body run) of a page's lines; raises CleaningError if no body."""
    if not lines:
        raise CleaningError("empty page: no text")
    span = densest_run([v.score for v in classify(lines, title, links_known=links_known)])
    if span is None:
        raise CleaningError(f"no article text: {len(lines)} lines, all furniture or headlines")
    if not title:
        # A long headline with commas can read as prose and open the run itself.
        first = lines[span[0]].text
        title = title_before(lines, span[0] + ("。" not in first))
    paragraphs, span = select_body(lines, title, supported, links_known=links_known)
    if not paragraphs or span is None:
        raise CleaningError(f"no article text: {len(lines)} lines, all furniture or headlines")
    return title, tuple(paragraphs), span


def clean_text_dump(text: str) -> CleanedPage:
    """Clean a scraped page's text dump (one block of text per line)."""
    lines = _to_lines(text)
    title, paragraphs, span = _body(lines, "")
    return CleanedPage(
        title=title,
        paragraphs=paragraphs,
        published=date_near(lines, span),
        source=source_in(lines),
        byline=byline_near(lines, span),
    )


MIN_SUPPORT_CHARS = 4  # shorter lines occur inside any text by chance


def _support(html: str, lines: list[Line]) -> Callable[[int], bool | None]:
    """Which of ``lines`` trafilatura's extraction of ``html`` also contains.

    trafilatura keeps tables and lists that carry little prose; our density run uses
    it as a second opinion to grow the body over such parts (never to start one).
    """
    import trafilatura

    extracted = "".join(
        (trafilatura.extract(html, fast=True, include_comments=False) or "").split()
    )

    def supported(i: int) -> bool | None:
        key = "".join(lines[i].text.split())
        return None if len(key) < MIN_SUPPORT_CHARS else key in extracted

    return supported


def clean_html(html: str) -> CleanedPage:
    """Clean an HTML page: DOM text lines, densest prose run, metadata from meta tags."""
    from ingest import html as page

    root, html = page.parse(html)  # html flattened if it nested too deep to parse
    if root is None:
        raise CleaningError("empty page: no HTML to parse")
    lines = page.page_lines(root)
    title, paragraphs, span = _body(
        lines, page.html_title(root), _support(html, lines), links_known=True
    )
    declared = page.html_date(root)
    published = (parse_date(declared) or declared) if declared else date_near(lines, span)
    return CleanedPage(
        title=title,
        paragraphs=paragraphs,
        published=published,
        source=page.html_site(root) or source_in(lines) or page.title_suffix(root),
        url=page.html_url(root),
        byline=page.html_author(root) or byline_near(lines, span),
    )


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_PREFIX = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d+\.\s+)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """YAML-ish ``key: value`` front matter (flat only) and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields, text[match.end() :]


def clean_markdown(text: str) -> CleanedPage:
    """Clean a Markdown page: front matter and the first ``#`` heading give metadata;
    images are dropped, links keep their text, then the text-dump rules apply."""
    fields, text = _front_matter(text)
    heading = re.search(r"^#\s+(.+)$", text, re.M)
    title = fields.get("title") or (heading.group(1).strip() if heading else "")
    lines = []
    for raw in text.splitlines():
        plain = _MD_EMPHASIS.sub(
            "", _MD_PREFIX.sub("", _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", raw)))
        )
        plain = plain.strip(_STRIP)
        if plain:
            lines.append(Line(plain, len(raw) - len(plain) if "](" in raw else 0))
    title, paragraphs, span = _body(lines, title)
    date_field = fields.get("date") or fields.get("published")
    return CleanedPage(
        title=title,
        paragraphs=paragraphs,
        published=(parse_date(date_field) or date_field) if date_field else date_near(lines, span),
        source=fields.get("source") or fields.get("site") or source_in(lines),
        url=fields.get("url") or fields.get("link"),
        byline=fields.get("author") or byline_near(lines, span),
    )


def clean_page(data: bytes, kind: str) -> CleanedPage:
    """Decode and clean one page; ``kind`` is "txt", "html" or "md".

    Raises DecodeError (binary or undecodable bytes) or CleaningError (no article).
    """
    if kind == "html":
        return clean_html(decode_bytes(data, html=True))
    if kind == "md":
        return clean_markdown(decode_bytes(data))
    if kind == "txt":
        return clean_text_dump(decode_bytes(data))
    raise ValueError(f"unknown page kind {kind!r}: expected 'txt', 'html' or 'md'")
