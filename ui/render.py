"""Pure HTML rendering of answers, sources, status and tables for the web UI.

Every piece of text from a question, an article or a model is escaped here, so nothing
from them can become markup or script in the browser.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rag.core.types import CITATION_MARKER, Answer, Citation, Hit, cited_numbers, marker_numbers
from ui.i18n import STRINGS, t

RELATED_SHOWN = 3  # passages offered under a refusal
SOURCES_KEPT = 20  # answers whose sources stay in the panel (older ones drop off)
EXCERPT = 160


def esc(text: object) -> str:
    """HTML-escape any value (None -> empty), quotes included."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL when it is plain http(s); anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def short_date(published: str | None) -> str:
    """``2025-12-09T21:30:00+08:00`` -> ``2025-12-09 21:30``."""
    if not published:
        return ""
    day, _, time = published.partition("T")
    return f"{day} {time[:5]}".strip()


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Spans clamped to ``[0, length]``, empty ones dropped, overlaps merged, sorted."""
    clamped = sorted((max(0, s), min(length, e)) for s, e in spans if min(length, e) > max(0, s))
    merged: list[tuple[int, int]] = []
    for start, end in clamped:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def quote_span(passage: str, citation: Citation) -> tuple[int, int] | None:
    """Where the citation's quote sits in the passage: its offsets when they match the
    quote, else the quote's first occurrence, else None."""
    start, end = citation.quote_start, citation.quote_end
    if 0 <= start < end <= len(passage) and (
        not citation.quote or passage[start:end] == citation.quote
    ):
        return start, end
    if citation.quote:
        found = passage.find(citation.quote)
        if found >= 0:
            return found, found + len(citation.quote)
    return None


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Escaped ``text`` with each span wrapped in <mark>; line breaks kept."""
    out: list[str] = []
    cursor = 0
    for start, end in merge_spans(spans, len(text)):
        out.append(esc(text[cursor:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        cursor = end
    out.append(esc(text[cursor:]))
    return "".join(out).replace("\n", "<br>")


def source_key(turn: int, n: int) -> str:
    return f"{turn}-{n}"


def cite_link(turn: int, n: int) -> str:
    """A clickable [n] that opens source ``n`` of answer ``turn`` in the sources panel."""
    # Chatbot's sanitizer drops data-* attributes, so the page script reads the href.
    return f'<a class="cite" href="#src-{source_key(turn, n)}" title="[{n}]">[{n}]</a>'


def link_markers(text: str, turn: int, n_sources: int) -> str:
    """Escaped answer text whose [n] markers (1..n_sources) become citation links."""
    out: list[str] = []
    cursor = 0
    for match in CITATION_MARKER.finditer(text):
        numbers = marker_numbers(match)
        if not all(1 <= n <= n_sources for n in numbers):
            continue  # not a marker we can resolve: leave it as text
        out.append(esc(text[cursor : match.start()]))
        out.append("".join(cite_link(turn, n) for n in numbers))
        cursor = match.end()
    out.append(esc(text[cursor:]))
    return "".join(out).replace("\n", "<br>")


def flagged_claims(answer: Answer) -> dict[str, Citation]:
    """Answer sentence -> the first citation of it the check could not verify (the LLM
    path records the sentence, the failed check's type and the reason)."""
    out: dict[str, Citation] = {}
    for c in answer.citations:
        if not c.supported and c.claim and c.claim not in out:
            out[c.claim] = c
    return out


def mark_claims(answer: Answer, turn: int, lang: str) -> str:
    """The answer text with linked markers, each sentence its sources do not support
    marked and followed by its reason (what kind of flip, and why)."""
    flagged = flagged_claims(answer)
    n = len(answer.contexts)
    spans: list[tuple[int, int, Citation]] = []
    for claim, cite in flagged.items():
        start = answer.text.find(claim)
        if start >= 0 and not any(s < start + len(claim) and start < e for s, e, _ in spans):
            spans.append((start, start + len(claim), cite))
    out, cursor = [], 0
    for start, end, cite in sorted(spans, key=lambda x: x[0]):
        out.append(link_markers(answer.text[cursor:start], turn, n))
        kind = t(lang, f"kind_{cite.type}") if f"kind_{cite.type}" in _KINDS else cite.type
        why = t(lang, "claim_flag", kind=kind, reason=cite.reason)
        out.append(
            f'<span class="unsupported-claim" title="{esc(why)}">'
            f"{link_markers(answer.text[start:end], turn, n)}</span>"
            f'<span class="claim-flag" role="note">⚠ {esc(why)}</span>'
        )
        cursor = end
    out.append(link_markers(answer.text[cursor:], turn, n))
    return "".join(out)


_KINDS = {key for table in STRINGS.values() for key in table if key.startswith("kind_")}


def excerpt(text: str, limit: int = EXCERPT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_user(question: str) -> str:
    """The user's message, escaped (a pasted <script> is shown, not run)."""
    return f'<div class="user-q">{esc(question).replace(chr(10), "<br>")}</div>'


def render_pending(text: str) -> str:
    """Answer text while it streams: escaped, markers not yet linked."""
    return f'<div class="answer streaming">{esc(text).replace(chr(10), "<br>")}</div>'


def render_error(message: str) -> str:
    return f'<div class="error-box" role="alert">{esc(message)}</div>'


def _copy_button(lang: str) -> str:
    # The page script copies the rendered answer's text, markers included (a data-*
    # attribute holding the text would be dropped by the Chatbot's sanitizer).
    return f'<button type="button" class="copy-answer">{esc(t(lang, "copy"))}</button>'


def _warnings(answer: Answer, lang: str) -> str:
    if not answer.warnings:
        return ""
    items = "".join(f"<li>{esc(w)}</li>" for w in answer.warnings)
    return f'<ul class="warnings" aria-label="{esc(t(lang, "warning"))}">{items}</ul>'


def render_answer(answer: Answer, turn: int, lang: str) -> str:
    """The final answer: linked markers and a copy button; a refusal gets its own box
    and the possibly related passages, each openable as a source."""
    copy = _copy_button(lang)
    if answer.refused:
        related = "".join(
            f"<li>{cite_link(turn, i)} <b>{esc(hit.title)}</b>: {esc(excerpt(hit.text))}</li>"
            for i, hit in enumerate(answer.contexts[:RELATED_SHOWN], start=1)
        )
        related_html = (
            f'<div class="related"><div class="related-title">'
            f"{esc(t(lang, 'possibly_related'))}</div><ul>{related}</ul></div>"
            if related
            else ""
        )
        return (
            f'<div class="refusal" role="note"><div class="refusal-title">'
            f"{esc(t(lang, 'refused'))}</div>"
            f'<div class="refusal-text">{esc(answer.text)}</div>'
            f"{related_html}{_warnings(answer, lang)}{copy}</div>"
        )
    body = mark_claims(answer, turn, lang)
    return f'<div class="answer">{body}{_warnings(answer, lang)}{copy}</div>'


@dataclass(frozen=True)
class Turn:
    """One answered question kept for the sources panel."""

    turn: int
    question: str
    answer: Answer


def shown_sources(answer: Answer) -> list[int]:
    """1-based context numbers to show: the cited ones (in order), or the first few
    passages of a refusal."""
    if answer.refused or not answer.citations:
        return list(range(1, min(RELATED_SHOWN, len(answer.contexts)) + 1))
    cited = sorted({c.n for c in answer.citations if 1 <= c.n <= len(answer.contexts)})
    marked = set(cited_numbers(answer.text))
    extra = sorted(n for n in marked if 1 <= n <= len(answer.contexts) and n not in cited)
    return cited + extra


def render_source_card(
    turn: int, n: int, hit: Hit, citations: Sequence[Citation], lang: str
) -> str:
    """One source: title, outlet, date, link, and the passage with the quotes marked."""
    spans = [s for c in citations if (s := quote_span(hit.text, c)) is not None]
    unverified = any(not c.supported for c in citations)
    meta = [
        f'<span class="outlet">{esc(hit.source or t(lang, "no_outlet"))}</span>',
        f'<span class="date">{esc(short_date(hit.published) or t(lang, "no_date"))}</span>',
    ]
    url = safe_url(hit.url)
    if url:
        meta.append(
            f'<a class="src-link" href="{esc(url)}" target="_blank" '
            f'rel="noopener noreferrer">{esc(t(lang, "open_link"))}</a>'
        )
    if unverified:
        meta.append(f'<span class="unverified">{esc(t(lang, "unverified"))}</span>')
    key = source_key(turn, n)
    return (
        f'<section class="src-card" id="src-{key}" data-src="{key}">'
        f'<div class="src-title"><span class="src-n">[{n}]</span> {esc(hit.title)}</div>'
        f'<div class="src-meta">{" · ".join(meta)}</div>'
        f'<blockquote class="passage">{highlight(hit.text, spans)}</blockquote>'
        "</section>"
    )


def render_sources(turns: Sequence[Turn], lang: str) -> str:
    """The sources panel: every kept answer's sources; the latest answer's are shown
    until a [n] marker picks another (the page script toggles classes)."""
    kept = list(turns)[-SOURCES_KEPT:]
    if not kept:
        return f'<div class="sources empty">{esc(t(lang, "sources_empty"))}</div>'
    groups = []
    for index, item in enumerate(kept):
        answer = item.answer
        by_n: dict[int, list[Citation]] = {}
        for c in answer.citations:
            by_n.setdefault(c.n, []).append(c)
        cards = "".join(
            render_source_card(item.turn, n, answer.contexts[n - 1], by_n.get(n, []), lang)
            for n in shown_sources(answer)
        )
        latest = " latest" if index == len(kept) - 1 else ""
        heading = esc(t(lang, "sources_for", question=excerpt(item.question, 80)))
        groups.append(
            f'<div class="src-turn{latest}" data-turn="{item.turn}">'
            f'<div class="src-question">{heading}</div>{cards}</div>'
        )
    return f'<div class="sources">{"".join(groups)}</div>'


def render_status(
    mode: dict[str, str], documents: int, chunks: int, last_ingest: str | None, lang: str
) -> str:
    """The status line: models in use, store size, last ingest time."""
    llm = mode.get("llm", "")
    if not llm or llm.startswith("extractive"):
        llm = t(lang, "llm_none")
    text = t(
        lang,
        "status",
        embedder=mode.get("embedder", "?"),
        retrieval=mode.get("retrieval", "?"),
        llm=llm,
        documents=documents,
        chunks=chunks,
        last=short_date(last_ingest) or t(lang, "never"),
    )
    return f'<div class="status-line">{esc(text)}</div>'


def corpus_rows(records: Iterable[Any], query: str = "") -> list[list[Any]]:
    """Rows (title, outlet, date, chunks, id) of documents matching ``query`` in title,
    outlet or id; newest first."""
    needle = query.strip().casefold()
    rows = []
    for r in records:
        haystack = f"{r.title} {r.source or ''} {r.doc_id} {r.path}".casefold()
        if needle and needle not in haystack:
            continue
        rows.append([r.title, r.source or "", short_date(r.published), r.n_chunks, r.doc_id])
    rows.sort(key=lambda row: (row[2] or "", row[0]), reverse=True)
    return rows


def inspector_rows(hits: Sequence[Hit]) -> list[list[Any]]:
    """Rows (rank, fused, dense, lexical, title, passage) for the retrieval inspector."""

    def score(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    return [
        [h.rank, score(h.score), score(h.dense_score), score(h.lexical_score), h.title, h.text]
        for h in hits
    ]


def last_ingest(records: Iterable[Any]) -> str | None:
    times = [r.ingested_at for r in records if getattr(r, "ingested_at", "")]
    return max(times) if times else None


JOBS_SHOWN = 5  # a session's latest upload jobs listed in the Articles tab


def render_job(job: Any, lang: str) -> str:
    """One upload job (a ``ui.jobs.Job``): its files, then a progress bar while it waits
    or runs, or its result once it has finished."""
    names = f'<div class="job-names">{esc(", ".join(job.names))}</div>'
    if job.state == "queued":
        note = t(lang, "job_waiting", ahead=job.ahead) if job.ahead else t(lang, "job_starting")
        body = f'<progress class="job-bar"></progress> <span class="job-note">{esc(note)}</span>'
    elif job.state == "running":
        total = max(job.total, 1)
        done = min(job.done, total)
        note = t(lang, "job_running", done=done, total=total)
        body = (
            f'<progress class="job-bar" value="{done}" max="{total}">'
            f"{100 * done // total}%</progress> "
            f'<span class="job-note">{esc(note)}</span>'
        )
    elif job.state == "failed" or job.result is None:
        body = render_error(t(lang, "job_failed", error=job.error or "?"))
    else:
        result = job.result
        lines = []
        if result.outcome is not None:
            key, values = result.outcome
            lines.append(t(lang, key, **values))
        lines.append(
            t(
                lang,
                "ingest_done",
                added=result.added,
                updated=result.updated,
                unchanged=result.unchanged,
                duplicates=result.duplicates,
                failed=len(result.failed),
                documents=result.documents,
                chunks=result.chunks,
            )
        )
        body = "".join(f'<div class="ok-box">{esc(line)}</div>' for line in lines)
        if result.failed:
            items = "".join(
                f"<li>{esc(t(lang, 'file_failed', name=name, error=error))}</li>"
                for name, error in result.failed
            )
            body += f'<div class="error-box" role="alert"><ul>{items}</ul></div>'
    return f'<div class="job job-{esc(job.state)}" data-job="{esc(job.id)}">{names}{body}</div>'


def render_jobs(jobs: Sequence[Any], lang: str) -> str:
    """A session's latest upload jobs, oldest first ("" when it has none)."""
    shown = list(jobs)[-JOBS_SHOWN:]
    if not shown:
        return ""
    return '<div class="jobs">' + "".join(render_job(job, lang) for job in shown) + "</div>"
