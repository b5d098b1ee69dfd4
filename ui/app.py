"""The Gradio Blocks app: chat with cited sources, the article list, a retrieval inspector.

Everything per user lives in ``gr.State`` (one dict per browser session); the Assistant
and its indexes are shared by all sessions.
"""

# No ``from __future__ import annotations`` here: Gradio finds gr.Request / gr.LikeData
# parameters by their evaluated annotations, and gradio is imported inside build_app.
import copy
from collections.abc import Iterator
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


def build_app(  # type: ignore[no-untyped-def]
    settings: Settings, assistant: Assistant | None = None, services: Services | None = None
):
    """The Blocks app (not launched). ``assistant`` or ``services`` may be given to share
    them (the caller then closes the services)."""
    import gradio as gr

    services = services or Services(settings, assistant)
    i18n = gradio_i18n(mb=settings.max_file_mb)

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
                        feedback_note = gr.HTML(elem_id="feedback-note")
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

        # Chat -------------------------------------------------------------------------
        def on_ask(text: str, messages: list[dict], state: dict, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            for msgs, new_state, panel in answer_stream(services, text, messages, state, lang):
                yield msgs, "", new_state, gr.skip() if panel is None else panel

        ask_io = dict(
            fn=on_ask,
            inputs=[question, chatbot, session],
            outputs=[chatbot, question, session, sources],
            api_name="ask",
        )
        ask.click(**ask_io)
        question.submit(**{**ask_io, "api_name": False})

        def on_example(data: gr.SelectData) -> str:
            value = data.value
            return value.get("text", "") if isinstance(value, dict) else str(value)

        chatbot.example_select(on_example, None, question, api_name=False).then(
            **{**ask_io, "api_name": False}
        )

        def on_clear(request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            return [], new_session(), render.render_sources([], lang), "", gr.update(visible=False)

        clear_outputs = [chatbot, session, sources, feedback_note, comment_row]
        clear.click(on_clear, None, clear_outputs, api_name="clear")
        chatbot.clear(on_clear, None, clear_outputs, api_name=False)

        def on_like(state: dict, data: gr.LikeData, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            index = data.index if isinstance(data.index, int) else data.index[0]
            records = state["records"]
            record = records[index] if 0 <= index < len(records) else None
            if record is None:
                return t(lang, "feedback_none"), state, gr.update(visible=False), ""
            rating = rating_name(data.liked)
            services.feedback.add(record, rating)
            state["rated"] = (record, rating)
            note = f'<div class="feedback-note">{render.esc(t(lang, "feedback_thanks"))}</div>'
            return note, state, gr.update(visible=True), ""

        chatbot.like(
            on_like, [session], [feedback_note, session, comment_row, comment], api_name=False
        )

        def on_comment(text: str, state: dict, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            if not state.get("rated"):
                return render.render_error(t(lang, "feedback_none")), ""
            record, rating = state["rated"]
            error = save_comment(services, record, rating, text, lang)
            if error:  # the text stays in the box, to be shortened
                return render.render_error(error), gr.skip()
            return f'<div class="feedback-note">{render.esc(t(lang, "feedback_saved"))}</div>', ""

        send.click(on_comment, [comment, session], [feedback_note, comment], api_name=False)

        def rate(index: int, rating: str, text: str, state: dict) -> str:
            index = int(index)  # the API may send 1.0
            """API twin of the thumbs (for scripts and tests): rate message ``index``."""
            records = state["records"]
            if not (0 <= index < len(records)) or records[index] is None:
                return "no answer at that index"
            error = save_comment(services, records[index], rating_name(rating), text, EN)
            return error or "saved"

        gr.Button(visible=False).click(
            rate,
            [gr.Number(visible=False), gr.Textbox(visible=False), comment, session],
            feedback_note,
            api_name="rate",
        )

        # Corpus -----------------------------------------------------------------------
        def corpus_view(  # type: ignore[no-untyped-def]
            text: str, lang: str, records: dict[str, DocRecord] | None = None, keep=False
        ):
            if records is None:
                records = services.store.doc_records()
            rows = render.corpus_rows(records.values(), text or "")
            choices = [(f"{r[0]} ({r[2] or r[4]})", r[4]) for r in rows]
            view = {"headers": table_headers(CORPUS_COLUMNS, lang), "data": rows}
            picked = gr.update(choices=choices) if keep else gr.update(choices=choices, value=None)
            return view, picked

        def on_search(text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            return corpus_view(text, lang_of(request))

        search.change(on_search, [search], [table, pick], api_name="articles")

        def on_delete(doc_id: str | None, text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            message = delete_article(services, doc_id, lang)
            records = services.store.doc_records()
            rows, choices = corpus_view(text, lang, records)
            return message, rows, choices, services.status_html(lang, records)

        delete.click(
            on_delete, [pick, search], [corpus_msg, table, pick, status], api_name="delete"
        )

        def on_upload(paths: list[str] | None, replace: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            owner = request.session_hash or ""
            message = submit_upload(
                services, paths, owner, lang, replace, temp_root=gradio_upload_folder()
            )
            html, active = jobs_view(services, owner, lang)
            return message, html, gr.Timer(active=active), None

        def on_ingest(paths: list[str] | None, request: gr.Request):  # type: ignore[no-untyped-def]
            return on_upload(paths, None, request)

        def on_replace(paths: list[str] | None, doc_id: str | None, request: gr.Request):  # type: ignore[no-untyped-def]
            return on_upload(paths, doc_id or "", request)

        upload_outputs = [corpus_msg, jobs, timer, files]
        ingest_btn.click(on_ingest, [files], upload_outputs, api_name="ingest")
        replace_btn.click(on_replace, [files, pick], upload_outputs, api_name="replace")

        def on_poll(text: str, seen: int, request: gr.Request):  # type: ignore[no-untyped-def]
            """Progress of this page's uploads; the table and status once a job ended."""
            lang = lang_of(request)
            html, active = jobs_view(services, request.session_hash or "", lang)
            finished = services.jobs.finished
            if finished == seen:
                return html, gr.skip(), gr.skip(), gr.skip(), gr.Timer(active=active), seen
            records = services.store.doc_records()
            rows, choices = corpus_view(text, lang, records, keep=True)
            status_line = services.status_html(lang, records)
            return html, rows, choices, status_line, gr.Timer(active=active), finished

        timer.tick(
            on_poll,
            [search, jobs_seen],
            [jobs, table, pick, status, timer, jobs_seen],
            api_name="jobs",
            show_progress="hidden",
        )

        # Inspector --------------------------------------------------------------------
        def on_inspect(text: str, count: float, request: gr.Request):  # type: ignore[no-untyped-def]
            headers = table_headers(INSPECT_COLUMNS, lang_of(request))
            if not (text or "").strip():
                return {"headers": headers, "data": []}
            found = services.assistant.retriever.search(
                text.strip()[:MAX_QUESTION_CHARS], max(1, min(int(count), INSPECT_MAX_K))
            )
            return {"headers": headers, "data": render.inspector_rows(found)}

        run.click(on_inspect, [query, k], hits, api_name="inspect")
        query.submit(on_inspect, [query, k], hits, api_name=False)

        # Page load --------------------------------------------------------------------
        def on_load(request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            records = services.store.doc_records()
            rows, choices = corpus_view("", lang, records)
            status_line = services.status_html(lang, records)
            seen = services.jobs.finished
            return status_line, render.render_sources([], lang), rows, choices, seen

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
    "Services",
    "answer_stream",
    "build_app",
    "delete_article",
    "jobs_view",
    "launch_options",
    "new_session",
    "submit_upload",
]
