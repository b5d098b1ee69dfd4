"""The Gradio Blocks app: chat with cited sources, the article list, a retrieval inspector.

Everything per user lives in ``gr.State`` (one dict per browser session); the Assistant
and its indexes are shared by all sessions.
"""

# No ``from __future__ import annotations`` here: Gradio finds gr.Request / gr.LikeData
# parameters by their evaluated annotations, and gradio is imported inside build_app.
import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.assistant import MAX_QUESTION_CHARS, Assistant, QuestionError
from rag.core.config import Settings
from rag.core.store import DocRecord
from rag.core.types import Answer
from ui import render
from ui.corpus import accept_uploads
from ui.feedback import (
    MAX_COMMENT_CHARS,
    CommentTooLong,
    FeedbackLog,
    answer_record,
    rating_name,
)
from ui.i18n import EN, ZH, gradio_i18n, lang_from_accept, t
from ui.jobs import (
    MAX_WAITING_JOBS,
    Job,
    JobRunner,
    ReaderStore,
    Upload,
    count_units,
    new_job_id,
    prune_uploads,
)

STATIC = Path(__file__).parent / "static"
CONCURRENCY = 8  # answers computed at once; more users wait in the queue
INSPECT_MAX_K = 30
USER_ECHO = 300  # characters of an over-long question echoed in the chat
POLL_SECONDS = 1.0  # how often a page with uploads in progress asks for their progress
# Gradio's copies of uploads are deleted once a job takes them; files uploaded but never
# submitted are swept this often (seconds), once they are this old (seconds).
SWEEP_EVERY, SWEEP_AGE = 900, 3600

EXAMPLES = [
    "川普透過哪個平台宣佈允許H200出口？",  # zh-Hant
    "美国参议院新法案要求在多少个月内禁止向中国出口先进AI芯片？",  # zh-Hans
    "What features does the Cyberspace Administration claim Nvidia's chips have?",  # English
]


CORPUS_COLUMNS = ("col_title", "col_outlet", "col_date", "col_chunks", "col_id")
INSPECT_COLUMNS = ("col_rank", "col_score", "col_dense", "col_lexical", "col_title", "col_passage")


def table_headers(keys: tuple[str, ...], lang: str) -> list[str]:
    return [t(lang, key) for key in keys]


def lang_of(request: Any) -> str:
    """Interface language for a request (English when there is no request)."""
    headers = getattr(request, "headers", None) or {}
    return lang_from_accept(headers.get("accept-language"))


def new_session() -> dict[str, Any]:
    """Per-session state: conversation turns for follow-ups, rendered turns for the
    sources panel, and one feedback record per chat message (None for questions)."""
    return {"history": [], "turns": [], "records": [], "next_turn": 1, "rated": None}


class Services:
    """What the event handlers share: the assistant, the upload jobs, the feedback log."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings, create=True)
        retriever = self.assistant.retriever
        retriever.store = ReaderStore.of(retriever.store)
        self.feedback = FeedbackLog(Path(settings.db) / "feedback.jsonl")
        self.uploads = Path(settings.db) / "uploads"
        # One write at a time: upload jobs run in order, and a delete takes the same lock.
        self.jobs = JobRunner(settings, self.uploads, before=self.hold_reads, after=self.reopen)

    @property
    def store(self) -> ReaderStore:
        return self.assistant.retriever.store  # type: ignore[return-value]

    def refresh(self) -> None:
        """Open the new lexical snapshot if the store changed (the retriever locks it).
        Searching does this too; called after a write so the next status is current."""
        self.assistant.retriever.refresh()

    def hold_reads(self) -> None:
        """Keep answering from the open snapshot while a job in another process writes:
        following each committed batch would reload embedded Chroma's vector index."""
        self.store.held = self.store.generation()

    def reopen(self) -> list[DocRecord]:
        """After a job: a retriever whose view is opened here, then swapped in; the
        stored records. Questions meanwhile use the old one: none waits for the reload
        (a 9.7 s stall after a 19 MB upload when the table was reloaded in place; the
        lexical side is now a cheap snapshot open, the vector index reload is not)."""
        old = self.assistant.retriever
        try:
            # A shallow copy shares what does not depend on the store's contents (the
            # settings, a loaded reranker). Its store holds nothing, so it sees the
            # job's generation: refreshing follows the other process's writes
            # (Store.follow reloads embedded Chroma's vector index) and opens the
            # lexical snapshot the job published.
            fresh = copy.copy(old)
            fresh.store = ReaderStore.over(old.store)
            fresh.refresh()
            self.assistant.retriever = fresh
        finally:
            self.store.held = None  # never left answering from a snapshot for good
        return list(self.store.doc_records().values())

    def close(self) -> None:
        self.jobs.stop()

    def status_html(self, lang: str, records: dict[str, DocRecord] | None = None) -> str:
        records = self.store.doc_records() if records is None else records
        return render.render_status(
            self.assistant.mode,
            len(records),
            self.store.count_chunks(),
            render.last_ingest(records.values()),
            lang,
        )


def gradio_upload_folder() -> Path:
    """Where Gradio keeps uploaded files (GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def ok_box(text: str) -> str:
    return f'<div class="ok-box">{render.esc(text)}</div>'


def error_list(lines: list[str]) -> str:
    items = "".join(f"<li>{render.esc(line)}</li>" for line in lines)
    return f'<div class="error-box" role="alert"><ul>{items}</ul></div>'


def submit_upload(
    services: Services,
    paths: list[str] | None,
    owner: str,
    lang: str,
    replace: str | None = None,
    temp_root: Path | None = None,
) -> str:
    """Check uploaded files and queue the acceptable ones as one job; the message (HTML).

    ``replace``: the doc_id the upload is to replace (the "replace" button), which needs
    exactly one file holding one article. ``temp_root``: Gradio's upload folder, whose
    copies are moved or deleted here.
    """
    if not paths:
        return render.render_error(t(lang, "ingest_none"))
    job_id = new_job_id()
    incoming = services.jobs.incoming(job_id)
    accepted = accept_uploads(paths, incoming, services.settings.max_file_mb, lang, temp_root)
    errors = list(accepted.errors)
    if replace is not None and (
        not replace
        or len(paths) != 1
        or not accepted.files
        or count_units(accepted.files[0][1]) != 1
    ):
        services.jobs.discard(job_id)  # nothing of a refused replace is kept
        if not replace:
            return render.render_error(t(lang, "replace_none"))
        if accepted.files:
            errors.append(t(lang, "replace_one"))
        return error_list(errors)
    parts = []
    if accepted.files:
        job = Job(owner, [Upload(n, p) for n, p in accepted.files], replace=replace, id=job_id)
        names = ", ".join(n for n, _ in accepted.files)
        if services.jobs.submit(job):
            parts.append(ok_box(t(lang, "queued", names=names)))
        else:
            errors.append(t(lang, "queue_full", limit=MAX_WAITING_JOBS))
    if errors:
        parts.append(error_list(errors))
    return "".join(parts)


def jobs_view(services: Services, owner: str, lang: str) -> tuple[str, bool]:
    """The owner's upload jobs (HTML), and whether any still waits or runs."""
    jobs = services.jobs.jobs_of(owner)
    return render.render_jobs(jobs, lang), any(job.active for job in jobs)


def delete_article(services: Services, doc_id: str | None, lang: str) -> str:
    """Delete one article (not while an upload job waits or runs); the message (HTML)."""
    if not doc_id:
        return render.render_error(t(lang, "delete_none"))
    lock = services.jobs.write_lock
    if services.jobs.busy() or not lock.acquire(blocking=False):
        return render.render_error(t(lang, "busy"))
    try:
        record = services.store.doc_records().get(doc_id)
        if record is None:
            return render.render_error(t(lang, "delete_missing"))
        services.store.delete_document(doc_id)
        prune_uploads(services.uploads, services.store.doc_records().values())
    finally:
        lock.release()
        services.refresh()
    return ok_box(t(lang, "deleted", title=record.title, n=record.n_chunks))


def save_comment(services: Services, record: dict, rating: str, text: str, lang: str) -> str | None:
    """Store a comment on a rated answer; None when saved, else the error message."""
    try:
        services.feedback.add(record, rating, text or "")
    except CommentTooLong as exc:
        return t(lang, "comment_long", n=exc.length, limit=MAX_COMMENT_CHARS)
    return None


def question_error(question: str, exc: QuestionError, lang: str) -> str:
    text = (question or "").strip()
    if not text:
        reason = t(lang, "err_empty")
    elif len(text) > MAX_QUESTION_CHARS:
        reason = t(lang, "err_long", n=len(text), limit=MAX_QUESTION_CHARS)
    else:
        reason = str(exc)
    return t(lang, "error", error=reason)


# Event handlers ------------------------------------------------------------------------
# Each takes the services and the event's inputs (with the page's language and, for
# uploads, the session as owner) and returns plain values; None means "leave that output
# as it is". build_app's wiring turns a request into language and owner and None into
# gr.skip(), so tests call these without a browser or a server.


def answer_stream(
    services: Services, question: str, messages: list[dict], session: dict, lang: str
) -> Iterator[tuple[list[dict], dict, str | None]]:
    """(messages, session, sources html or None when unchanged) after each step."""
    messages = list(messages or [])
    records = session["records"]
    text = (question or "").strip()
    if text:
        shown = text if len(text) <= USER_ECHO else text[:USER_ECHO] + "…"
        messages.append({"role": "user", "content": render.render_user(shown)})
        records.append(None)
    messages.append({"role": "assistant", "content": render.render_pending("…")})
    records.append(None)
    try:
        streamed = ""
        for item in services.assistant.stream(question, history=session["history"]):
            if isinstance(item, Answer):
                turn = session["next_turn"]
                session["next_turn"] = turn + 1
                messages[-1] = {
                    "role": "assistant",
                    "content": render.render_answer(item, turn, lang),
                }
                records[-1] = answer_record(text, item)
                session["history"].append((text, item.text))
                session["turns"].append(render.Turn(turn, text, item))
                yield messages, session, render.render_sources(session["turns"], lang)
                return
            streamed += item.text
            messages[-1] = {"role": "assistant", "content": render.render_pending(streamed)}
            yield messages, session, None
    except QuestionError as exc:
        messages[-1] = {
            "role": "assistant",
            "content": render.render_error(question_error(question, exc, lang)),
        }
        yield messages, session, None
    except Exception as exc:  # keep the app usable whatever the answerer hit
        messages[-1] = {
            "role": "assistant",
            "content": render.render_error(t(lang, "err_failed", error=type(exc).__name__)),
        }
        yield messages, session, None


def example_question(value: Any) -> str:
    """The question of a clicked example (Gradio sends the example's dict)."""
    return value.get("text", "") if isinstance(value, dict) else str(value)


def clear_chat(lang: str) -> tuple[list[dict], dict[str, Any], str]:
    """A new conversation: no messages, a fresh session, an empty sources panel."""
    return [], new_session(), render.render_sources([], lang)


def feedback_note(text: str) -> str:
    return f'<div class="feedback-note">{render.esc(text)}</div>'


def like_message(
    services: Services, session: dict, index: int | Sequence[int], liked: object, lang: str
) -> tuple[str, bool]:
    """Thumbs on chat message ``index`` (Gradio may send [row, column]): the rating is
    stored and remembered for a comment. (note, whether to offer the comment box)."""
    index = index if isinstance(index, int) else index[0]
    records = session["records"]
    record = records[index] if 0 <= index < len(records) else None
    if record is None:
        return t(lang, "feedback_none"), False
    rating = rating_name(liked)
    services.feedback.add(record, rating)
    session["rated"] = (record, rating)
    return feedback_note(t(lang, "feedback_thanks")), True


def comment_on_rating(
    services: Services, text: str, session: dict, lang: str
) -> tuple[str, str | None]:
    """Store a comment on the session's last rating: (note, the comment box's new text,
    None to keep it: a comment over the limit stays there to be shortened)."""
    if not session.get("rated"):
        return render.render_error(t(lang, "feedback_none")), ""
    record, rating = session["rated"]
    error = save_comment(services, record, rating, text, lang)
    if error:
        return render.render_error(error), None
    return feedback_note(t(lang, "feedback_saved")), ""


def rate_message(services: Services, index: float, rating: str, text: str, session: dict) -> str:
    """API twin of the thumbs (for scripts and tests): rate message ``index``."""
    index = int(index)  # the API may send 1.0
    records = session["records"]
    if not (0 <= index < len(records)) or records[index] is None:
        return "no answer at that index"
    error = save_comment(services, records[index], rating_name(rating), text, EN)
    return error or "saved"


@dataclass(frozen=True)
class CorpusView:
    """The article table (headers in the page's language, rows) and the choices of the
    delete picker: (label, doc_id)."""

    table: dict[str, Any]
    choices: list[tuple[str, str]]


def corpus_view(
    services: Services, text: str, lang: str, records: dict[str, DocRecord] | None = None
) -> CorpusView:
    """The stored articles matching ``text`` (all when empty)."""
    if records is None:
        records = services.store.doc_records()
    rows = render.corpus_rows(records.values(), text or "")
    choices = [(f"{r[0]} ({r[2] or r[4]})", r[4]) for r in rows]
    return CorpusView({"headers": table_headers(CORPUS_COLUMNS, lang), "data": rows}, choices)


def delete_from_corpus(
    services: Services, doc_id: str | None, text: str, lang: str
) -> tuple[str, CorpusView, str]:
    """Delete an article: (message, the table after it, the status line)."""
    message = delete_article(services, doc_id, lang)
    records = services.store.doc_records()
    return message, corpus_view(services, text, lang, records), services.status_html(lang, records)


def upload_files(
    services: Services,
    paths: list[str] | None,
    owner: str,
    lang: str,
    replace: str | None = None,
    temp_root: Path | None = None,
) -> tuple[str, str, bool]:
    """Queue uploaded files (``replace``: see submit_upload): (message, the owner's jobs
    html, whether any still waits or runs, so the page keeps polling)."""
    message = submit_upload(services, paths, owner, lang, replace, temp_root)
    html, active = jobs_view(services, owner, lang)
    return message, html, active


@dataclass(frozen=True)
class JobsPoll:
    """What a page polling its uploads shows: the jobs, whether to poll on, the finished
    job count it has seen; the table and status only when a job ended since (else None)."""

    jobs: str
    active: bool
    seen: int
    view: CorpusView | None = None
    status: str | None = None


def poll_jobs(services: Services, text: str, seen: int, owner: str, lang: str) -> JobsPoll:
    """Progress of ``owner``'s uploads; the table and status once a job ended."""
    html, active = jobs_view(services, owner, lang)
    finished = services.jobs.finished
    if finished == seen:
        return JobsPoll(html, active, seen)
    records = services.store.doc_records()
    view = corpus_view(services, text, lang, records)
    return JobsPoll(html, active, finished, view, services.status_html(lang, records))


def inspect_retrieval(services: Services, text: str, count: float, lang: str) -> dict[str, Any]:
    """The retriever's top ``count`` passages for ``text`` with their scores (a table)."""
    headers = table_headers(INSPECT_COLUMNS, lang)
    if not (text or "").strip():
        return {"headers": headers, "data": []}
    found = services.assistant.retriever.search(
        text.strip()[:MAX_QUESTION_CHARS], max(1, min(int(count), INSPECT_MAX_K))
    )
    return {"headers": headers, "data": render.inspector_rows(found)}


@dataclass(frozen=True)
class PageLoad:
    """A page's first view: status line, empty sources panel, article table, and the
    finished job count (so its first poll does not reload the table)."""

    status: str
    sources: str
    view: CorpusView
    seen: int


def load_page(services: Services, lang: str) -> PageLoad:
    records = services.store.doc_records()
    return PageLoad(
        services.status_html(lang, records),
        render.render_sources([], lang),
        corpus_view(services, "", lang, records),
        services.jobs.finished,
    )


def build_app(  # type: ignore[no-untyped-def]
    settings: Settings, assistant: Assistant | None = None, services: Services | None = None
):
    """The Blocks app (not launched): the layout, and each event wired to its handler
    above. ``assistant`` or ``services`` may be given to share them (the caller then
    closes the services)."""
    import gradio as gr

    services = services or Services(settings, assistant)
    i18n = gradio_i18n(mb=settings.max_file_mb)

    def shown(value: Any) -> Any:
        """A handler's None means "unchanged"."""
        return gr.skip() if value is None else value

    def picker(view: CorpusView, keep: bool = False) -> Any:
        """The delete picker's choices; its value is cleared unless ``keep``."""
        return (
            gr.update(choices=view.choices) if keep else gr.update(choices=view.choices, value=None)
        )

    with gr.Blocks(
        title="News Q&A", analytics_enabled=False, delete_cache=(SWEEP_EVERY, SWEEP_AGE)
    ) as demo:
        session = gr.State(new_session())  # deep-copied per browser session
        jobs_seen = gr.State(0)  # JobRunner.finished when this page last refreshed
        gr.Markdown(f"## {i18n('title')}", elem_id="app-title")
        status = gr.HTML(elem_id="status")

        with gr.Tabs():
            with gr.Tab(i18n("tab_chat"), id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(
                            label=i18n("chat_label"),
                            elem_id="chat",
                            height=520,
                            render_markdown=False,
                            sanitize_html=True,
                            buttons=[],  # its copy button would copy our HTML source
                            placeholder=i18n("chat_empty"),
                            examples=[{"text": q} for q in EXAMPLES],
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                label=i18n("question"),
                                placeholder=i18n("placeholder"),
                                elem_id="question",
                                scale=5,
                                lines=1,
                                max_lines=6,
                            )
                            ask = gr.Button(i18n("ask"), variant="primary", elem_id="ask", scale=1)
                        clear = gr.Button(i18n("clear"), elem_id="clear", size="sm")
                        note = gr.HTML(elem_id="feedback-note")
                        with gr.Row(visible=False) as comment_row:
                            comment = gr.Textbox(
                                label=i18n("feedback_comment"), elem_id="comment", scale=5
                            )
                            send = gr.Button(i18n("feedback_send"), elem_id="send-comment", scale=1)
                    with gr.Column(scale=2):
                        gr.Markdown(f"### {i18n('sources')}")
                        sources = gr.HTML(elem_id="sources")

            with gr.Tab(i18n("tab_corpus"), id="corpus"):
                search = gr.Textbox(label=i18n("search_articles"), elem_id="corpus-search")
                table = gr.Dataframe(
                    # Dataframe headers are not translated by gr.I18n: handlers send them
                    # in the request's language with the rows.
                    headers=table_headers(CORPUS_COLUMNS, EN),
                    datatype=["str", "str", "str", "number", "str"],
                    label=i18n("articles"),
                    interactive=False,
                    wrap=True,
                    elem_id="corpus-table",
                )
                with gr.Row():
                    pick = gr.Dropdown(
                        label=i18n("delete_pick"),
                        choices=[],
                        elem_id="delete-pick",
                        scale=4,
                        allow_custom_value=True,  # the handler checks the id itself
                    )
                    delete = gr.Button(i18n("delete"), variant="stop", elem_id="delete", scale=1)
                files = gr.File(
                    label=i18n("upload"),
                    file_count="multiple",
                    # No file_types: Gradio would refuse the whole batch for one bad file;
                    # accept_uploads checks each file and says why one is refused.
                    elem_id="upload",
                )
                gr.Markdown(i18n("upload_hint"), elem_classes=["upload-hint"])
                with gr.Row():
                    ingest_btn = gr.Button(i18n("ingest"), variant="primary", elem_id="ingest")
                    replace_btn = gr.Button(i18n("replace"), elem_id="replace")
                corpus_msg = gr.HTML(elem_id="corpus-msg")
                jobs = gr.HTML(elem_id="jobs")
                timer = gr.Timer(POLL_SECONDS, active=False)

            with gr.Tab(i18n("tab_inspect"), id="inspect"):
                gr.Markdown(i18n("inspect_hint"))
                with gr.Row():
                    query = gr.Textbox(
                        label=i18n("inspect_query"), elem_id="inspect-query", scale=5
                    )
                    k = gr.Slider(1, INSPECT_MAX_K, value=10, step=1, label=i18n("inspect_k"))
                run = gr.Button(i18n("inspect_run"), elem_id="inspect-run")
                hits = gr.Dataframe(
                    headers=table_headers(INSPECT_COLUMNS, EN),
                    column_widths=["6%", "8%", "8%", "8%", "22%", "48%"],
                    interactive=False,
                    wrap=True,
                    elem_id="inspect-table",
                )

        # Wiring: each adapter takes what Gradio passes (the request gives the language
        # and the session), calls its handler and maps the result onto the components.

        # Chat -------------------------------------------------------------------------
        def on_ask(text: str, messages: list[dict], state: dict, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            for msgs, new_state, panel in answer_stream(services, text, messages, state, lang):
                yield msgs, "", new_state, shown(panel)

        ask_io = dict(
            fn=on_ask,
            inputs=[question, chatbot, session],
            outputs=[chatbot, question, session, sources],
            api_name="ask",
        )
        ask.click(**ask_io)
        question.submit(**{**ask_io, "api_name": False})

        def on_example(data: gr.SelectData) -> str:
            return example_question(data.value)

        chatbot.example_select(on_example, None, question, api_name=False).then(
            **{**ask_io, "api_name": False}
        )

        def on_clear(request: gr.Request):  # type: ignore[no-untyped-def]
            return *clear_chat(lang_of(request)), "", gr.update(visible=False)

        clear_outputs = [chatbot, session, sources, note, comment_row]
        clear.click(on_clear, None, clear_outputs, api_name="clear")
        chatbot.clear(on_clear, None, clear_outputs, api_name=False)

        def on_like(state: dict, data: gr.LikeData, request: gr.Request):  # type: ignore[no-untyped-def]
            text, offer = like_message(services, state, data.index, data.liked, lang_of(request))
            return text, state, gr.update(visible=offer), ""

        chatbot.like(on_like, [session], [note, session, comment_row, comment], api_name=False)

        def on_comment(text: str, state: dict, request: gr.Request):  # type: ignore[no-untyped-def]
            message, box = comment_on_rating(services, text, state, lang_of(request))
            return message, shown(box)

        send.click(on_comment, [comment, session], [note, comment], api_name=False)

        def on_rate(index: float, rating: str, text: str, state: dict) -> str:
            return rate_message(services, index, rating, text, state)

        gr.Button(visible=False).click(
            on_rate,
            [gr.Number(visible=False), gr.Textbox(visible=False), comment, session],
            note,
            api_name="rate",
        )

        # Corpus -----------------------------------------------------------------------
        def on_search(text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            view = corpus_view(services, text, lang_of(request))
            return view.table, picker(view)

        search.change(on_search, [search], [table, pick], api_name="articles")

        def on_delete(doc_id: str | None, text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            message, view, status_line = delete_from_corpus(
                services, doc_id, text, lang_of(request)
            )
            return message, view.table, picker(view), status_line

        delete.click(
            on_delete, [pick, search], [corpus_msg, table, pick, status], api_name="delete"
        )

        def on_upload(paths: list[str] | None, replace: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
            message, html, active = upload_files(
                services,
                paths,
                request.session_hash or "",
                lang_of(request),
                replace,
                temp_root=gradio_upload_folder(),
            )
            return message, html, gr.Timer(active=active), None  # empties the file input

        def on_ingest(paths: list[str] | None, request: gr.Request):  # type: ignore[no-untyped-def]
            return on_upload(paths, None, request)

        def on_replace(paths: list[str] | None, doc_id: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
            return on_upload(paths, doc_id or "", request)

        upload_outputs = [corpus_msg, jobs, timer, files]
        ingest_btn.click(on_ingest, [files], upload_outputs, api_name="ingest")
        replace_btn.click(on_replace, [files, pick], upload_outputs, api_name="replace")

        def on_poll(text: str, seen: int, request: gr.Request):  # type: ignore[no-untyped-def]
            poll = poll_jobs(services, text, seen, request.session_hash or "", lang_of(request))
            timer_state = gr.Timer(active=poll.active)
            if poll.view is None:  # no job ended since this page last looked
                return poll.jobs, gr.skip(), gr.skip(), gr.skip(), timer_state, poll.seen
            rows, choices = poll.view.table, picker(poll.view, keep=True)
            return poll.jobs, rows, choices, poll.status, timer_state, poll.seen

        timer.tick(
            on_poll,
            [search, jobs_seen],
            [jobs, table, pick, status, timer, jobs_seen],
            api_name="jobs",
            show_progress="hidden",
        )

        # Inspector --------------------------------------------------------------------
        def on_inspect(text: str, count: float, request: gr.Request):  # type: ignore[no-untyped-def]
            return inspect_retrieval(services, text, count, lang_of(request))

        run.click(on_inspect, [query, k], hits, api_name="inspect")
        query.submit(on_inspect, [query, k], hits, api_name=False)

        # Page load --------------------------------------------------------------------
        def on_load(request: gr.Request):  # type: ignore[no-untyped-def]
            page = load_page(services, lang_of(request))
            return page.status, page.sources, page.view.table, picker(page.view), page.seen

        demo.load(on_load, None, [status, sources, table, pick, jobs_seen], api_name="status")

    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def launch_options(settings: Settings) -> dict[str, Any]:
    """Theme, CSS, page script and i18n for ``launch()`` (Gradio 6 takes them there).
    System fonts only: nothing is fetched from the internet."""
    import gradio as gr

    theme = gr.themes.Default(
        font=[
            "system-ui",
            "Noto Sans CJK TC",
            "Noto Sans TC",
            "PingFang TC",
            "Microsoft JhengHei",
            "sans-serif",
        ],
        font_mono=["ui-monospace", "Noto Sans Mono CJK TC", "monospace"],
    )
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    return {
        "theme": theme,
        "css": (STATIC / "app.css").read_text(encoding="utf-8"),
        "head": f"<script>{script}</script>",
        "i18n": gradio_i18n(mb=settings.max_file_mb),
        # Gradio's own cap sits above ours so our clearer message usually answers first.
        "max_file_size": f"{int(settings.max_file_mb * 2) + 1}mb",
    }


__all__ = [
    "EN",
    "ZH",
    "CorpusView",
    "JobsPoll",
    "PageLoad",
    "Services",
    "answer_stream",
    "build_app",
    "clear_chat",
    "comment_on_rating",
    "corpus_view",
    "delete_article",
    "delete_from_corpus",
    "example_question",
    "inspect_retrieval",
    "jobs_view",
    "launch_options",
    "like_message",
    "load_page",
    "new_session",
    "poll_jobs",
    "rate_message",
    "submit_upload",
    "upload_files",
]
