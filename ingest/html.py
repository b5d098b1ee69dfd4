"""HTML to lines and metadata: the DOM walk that feeds the shared body selection."""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

from ingest.blocks import Line
from ingest.furniture import visible_len

# Elements that start a new line when rendered.
BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form frameset h1 h2 h3 h4 h5 h6 header hr html li main menu "
    "nav noframes ol p pre section summary table tbody thead tfoot td th tr ul br caption".split()
)
# Elements whose text is never article text. nav/footer/aside/header are semantic furniture.
DROP_TAGS = frozenset(
    "script style noscript template svg iframe select option button input textarea head "
    "object embed canvas map video audio math nav footer aside header".split()
)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_STRIP = " \t\r\n\f\v\u3000\xa0\u200b\ufeff"
_TITLE_SEP = re.compile(r"\s*(?:[_|｜–—]|\s-\s|--|::)\s*")


# libxml2 stops parsing at 256 open elements (XML_PARSE_HUGE only moves that wall to
# 2048), dropping the rest of the page. Pages nested deeper are parsed again with the
# nesting past this depth flattened: below the wall, with room for the elements the
# parser adds itself, and keeping _walk's recursion well inside Python's limit.
MAX_DEPTH = 200
# Elements that never have content, so never nest.
VOID_TAGS = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()
)
_TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z0-9:-]*)(?:"[^"]*"|'[^']*'|[^'">])*>""")


def parse(html: str) -> tuple[lxml_html.HtmlElement | None, str]:
    """The parsed document (None when there is nothing to parse), and the HTML it was
    parsed from: ``html``, or ``html`` flattened when it nests too deep to parse whole."""
    if not html.strip():
        return None, html
    # lxml refuses str input that carries an XML encoding declaration.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    parser = lxml_html.HTMLParser()
    try:
        root = lxml_html.document_fromstring(html, parser=parser)
        if any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in parser.error_log):
            html = flatten(html, MAX_DEPTH)
            root = lxml_html.document_fromstring(html)
    except (ValueError, etree.ParserError):
        return None, html
    return root, html


def flatten(html: str, max_depth: int) -> str:
    """``html`` with the tags nested deeper than ``max_depth`` removed, their text kept:
    a block element's tag becomes a <br> so its text still starts a line. Depth is
    counted from the tags as written (unclosed tags count as open), which only errs
    towards flattening more."""
    depth = 0

    def cut(match: re.Match[str]) -> str:
        nonlocal depth
        closing, name = match.group(1), match.group(2).lower()
        if name in VOID_TAGS or match.group().endswith("/>"):
            return match.group()
        if closing:
            depth = max(depth - 1, 0)
            deep = depth >= max_depth
        else:
            depth += 1
            deep = depth > max_depth
        if not deep:
            return match.group()
        return "<br>" if name in BLOCK_TAGS else ""

    return _TAG.sub(cut, html)


def _hidden(el: lxml_html.HtmlElement) -> bool:
    """True for elements the page hides (style display:none, the hidden attribute)."""
    style = el.get("style")
    return el.get("hidden") is not None or bool(style and _HIDDEN.search(style))


class _Lines:
    """Accumulates text pieces and cuts them into Lines at block boundaries."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._pieces: list[tuple[str, bool]] = []

    def add(self, text: str | None, in_link: bool) -> None:
        if text:
            self._pieces.append((text, in_link))

    def flush(self) -> None:
        if not self._pieces:
            return
        text = _SPACES.sub(" ", "".join(t for t, _ in self._pieces)).strip(_STRIP)
        if text:
            links = sum(visible_len(t) for t, in_link in self._pieces if in_link)
            self.lines.append(Line(text, links))
        self._pieces = []


def _walk(el: lxml_html.HtmlElement, out: _Lines, in_link: bool, in_pre: bool) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if not tag or tag.lower() in DROP_TAGS or _hidden(el):
        return  # comments, processing instructions, furniture elements
    tag = tag.lower()
    block = tag in BLOCK_TAGS
    in_link = in_link or tag == "a"
    in_pre = in_pre or tag in ("pre", "textarea")
    if block:
        out.flush()
    _add_text(el.text, out, in_link, in_pre)
    for child in el:
        _walk(child, out, in_link, in_pre)
        _add_text(child.tail, out, in_link, in_pre)
    if block:
        out.flush()


def _add_text(text: str | None, out: _Lines, in_link: bool, in_pre: bool) -> None:
    """Add text; inside <pre> every newline ends a line."""
    if not text:
        return
    if not in_pre:
        out.add(text, in_link)
        return
    parts = text.split("\n")
    for i, part in enumerate(parts):
        if i:
            out.flush()
        out.add(part, in_link)


def page_lines(root: lxml_html.HtmlElement) -> list[Line]:
    """The visible text of ``root`` as lines, in document order."""
    out = _Lines()
    body = root.find("body")
    _walk(body if body is not None else root, out, False, False)
    out.flush()
    return out.lines


def _meta(root: lxml_html.HtmlElement, *names: str) -> str | None:
    """The first non-empty content of <meta name|property|itemprop=...> among ``names``."""
    wanted = {n.lower() for n in names}
    found: dict[str, str] = {}
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
        content = (el.get("content") or "").strip()
        if key in wanted and content and key not in found:
            found[key] = content
    for name in names:
        if name.lower() in found:
            return found[name.lower()]
    return None


def _text(el: lxml_html.HtmlElement) -> str:
    return _SPACES.sub(" ", el.text_content()).strip(_STRIP)


def html_title(root: lxml_html.HtmlElement) -> str:
    """The article title: og:title, else an <h1> that the <title> contains, else <title>.

    The <title> usually adds section and site names after a separator; the longest part
    is kept.
    """
    title_el = root.find(".//title")
    page_title = _text(title_el) if title_el is not None else ""
    og = _meta(root, "og:title", "twitter:title")
    if og:
        return og
    key = "".join(page_title.split())
    heads = [_text(h) for h in root.iter("h1", "h2")]
    inside = [h for h in heads if len(h) >= 4 and "".join(h.split()) in key]
    if inside:
        return max(inside, key=len)
    if page_title:
        return max(_TITLE_SEP.split(page_title), key=len).strip()
    h1 = [h for h in heads if h]
    return h1[0] if h1 else ""


def title_suffix(root: lxml_html.HtmlElement) -> str | None:
    """The last separator-delimited part of <title> when it is short: usually the site."""
    title_el = root.find(".//title")
    parts = [p for p in _TITLE_SEP.split(_text(title_el)) if p] if title_el is not None else []
    if len(parts) >= 2 and 2 <= len(parts[-1]) <= 15:
        return parts[-1]
    return None


def html_date(root: lxml_html.HtmlElement) -> str | None:
    """The publish date declared in meta tags or a <time datetime>, as written."""
    declared = _meta(
        root,
        "article:published_time",
        "og:published_time",
        "datePublished",
        "pubdate",
        "publishdate",
        "publish_date",
        "publish-date",
        "article.published",
        "sailthru.date",
        "dc.date.issued",
        "dc.date",
        "date",
        "og:release_date",
    )
    if declared:
        return declared
    for el in root.iter("time"):
        if el.get("datetime"):
            return el.get("datetime")
    return None


def html_site(root: lxml_html.HtmlElement) -> str | None:
    """The site name declared in meta tags."""
    return _meta(root, "og:site_name", "application-name", "twitter:site")


def html_url(root: lxml_html.HtmlElement) -> str | None:
    """The canonical URL: <link rel=canonical>, else og:url."""
    for el in root.iter("link"):
        if (el.get("rel") or "").lower() == "canonical" and el.get("href"):
            return el.get("href").strip()
    return _meta(root, "og:url")


def html_author(root: lxml_html.HtmlElement) -> str | None:
    """The author declared in meta tags (not a URL)."""
    author = _meta(root, "author", "article:author", "byl", "dc.creator")
    return author if author and "://" not in author and "@" not in author else None
