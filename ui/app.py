"""The Gradio Blocks app: chat with cited sources, the article list, a retrieval inspector.

Everything per user lives in ``gr.State`` (one dict per browser session); the Assistant
and its indexes are shared by all sessions.
"""

# No ``from __future__ import annotations`` here: Gradio finds gr.Request / gr.LikeData
# parameters by their evaluated annotations, and gradio is imported inside build_app.
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.assistant import MAX_QUESTION_CHARS, Assistant, QuestionError
from rag.core.config import Settings
from rag.core.store import DocRecord
from rag.core.types import Answer
from ui import render
from ui.corpus import stage_uploads
from ui.feedback import FeedbackLog, answer_record, rating_name
from ui.i18n import EN, ZH, gradio_i18n, lang_from_accept, t

STATIC = Path(__file__).parent / "static"
CONCURRENCY = 8  # answers computed at once; more users wait in the queue
INSPECT_MAX_K = 30
USER_ECHO = 300  # characters of an over-long question echoed in the chat

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
    """What the event handlers share: the assistant, a lock, the feedback log."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self.assistant = assistant or Assistant(settings, create=True)
        self.feedback = FeedbackLog(Path(settings.db) / "feedback.jsonl")
        # One ingest or delete at a time: both journal writes to the same store.
        self.write_lock = threading.Lock()

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.assistant.retriever.store

    def refresh(self) -> None:
        """Reload the chunk table if the store changed (the retriever locks the reload).
        Searching does this too; called after a write so the next status is current."""
        _ = self.assistant.retriever.table

    def status_html(self, lang: str, records: dict[str, DocRecord] | None = None) -> str:
        records = self.store.doc_records() if records is None else records
        return render.render_status(
            self.assistant.mode,
            len(records),
            self.store.count_chunks(),
            render.last_ingest(records.values()),
            lang,
        )


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


def build_app(settings: Settings, assistant: Assistant | None = None):  # type: ignore[no-untyped-def]
    """The Blocks app (not launched). ``assistant`` may be given to share one."""
    import gradio as gr

    services = Services(settings, assistant)
    i18n = gradio_i18n(mb=settings.max_file_mb)

    with gr.Blocks(title="News Q&A", analytics_enabled=False) as demo:
        session = gr.State(new_session())  # deep-copied per browser session
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
                    # stage_uploads checks each file and says why one is refused.
                    elem_id="upload",
                )
                ingest_btn = gr.Button(i18n("ingest"), variant="primary", elem_id="ingest")
                corpus_msg = gr.HTML(elem_id="corpus-msg")

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
            services.feedback.add(record, rating, text or "")
            return f'<div class="feedback-note">{render.esc(t(lang, "feedback_saved"))}</div>', ""

        send.click(on_comment, [comment, session], [feedback_note, comment], api_name=False)

        def rate(index: int, rating: str, text: str, state: dict) -> str:
            index = int(index)  # the API may send 1.0
            """API twin of the thumbs (for scripts and tests): rate message ``index``."""
            records = state["records"]
            if not (0 <= index < len(records)) or records[index] is None:
                return "no answer at that index"
            services.feedback.add(records[index], rating_name(rating), text or "")
            return "saved"

        gr.Button(visible=False).click(
            rate,
            [gr.Number(visible=False), gr.Textbox(visible=False), comment, session],
            feedback_note,
            api_name="rate",
        )

        # Corpus -----------------------------------------------------------------------
        def corpus_view(text: str, lang: str, records: dict[str, DocRecord] | None = None):  # type: ignore[no-untyped-def]
            if records is None:
                records = services.store.doc_records()
            rows = render.corpus_rows(records.values(), text or "")
            choices = [(f"{r[0]} ({r[2] or r[4]})", r[4]) for r in rows]
            view = {"headers": table_headers(CORPUS_COLUMNS, lang), "data": rows}
            return view, gr.update(choices=choices, value=None)

        def on_search(text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            return corpus_view(text, lang_of(request))

        search.change(on_search, [search], [table, pick], api_name="articles")

        def on_delete(doc_id: str | None, text: str, request: gr.Request):  # type: ignore[no-untyped-def]
            lang = lang_of(request)
            if not doc_id:
                message = render.render_error(t(lang, "delete_none"))
            else:
                with services.write_lock:
                    record = services.store.doc_records().get(doc_id)
                    if record is None:
                        message = render.render_error(t(lang, "delete_missing"))
                    else:
                        services.store.delete_document(doc_id)
                        note = t(lang, "deleted", title=record.title, n=record.n_chunks)
                        message = f'<div class="ok-box">{render.esc(note)}</div>'
                services.refresh()
            records = services.store.doc_records()
            rows, choices = corpus_view(text, lang, records)
            return message, rows, choices, services.status_html(lang, records)

        delete.click(
            on_delete, [pick, search], [corpus_msg, table, pick, status], api_name="delete"
        )

        def on_ingest(
            paths: list[str] | None,
            text: str,
            request: gr.Request,
            progress=gr.Progress(),  # noqa: B008  (Gradio's documented idiom)
        ):  # type: ignore[no-untyped-def]
            from ingest.pipeline import ingest

            lang = lang_of(request)
            if not paths:
                rows, choices = corpus_view(text, lang)
                return render.render_error(t(lang, "ingest_none")), rows, choices, gr.skip(), None
            staged = stage_uploads(paths, Path(settings.db) / "uploads", settings.max_file_mb, lang)
            lines = list(staged.errors)
            ok = ""
            if staged.paths:
                done = 0

                def step(n: int) -> None:
                    nonlocal done
                    done += n
                    progress((done, None), desc=t(lang, "ingest_progress"), unit="docs")

                with services.write_lock:
                    report = ingest(staged.paths, settings, store=services.store, progress=step)
                services.refresh()
                lines += [
                    t(lang, "file_failed", name=Path(f.path).name, error=f.error)
                    for f in report.failed
                ]
                ok = t(
                    lang,
                    "ingest_done",
                    added=report.added,
                    updated=report.updated,
                    unchanged=report.unchanged,
                    duplicates=report.duplicates,
                    failed=len(report.failed) + len(staged.errors),
                    documents=report.documents,
                    chunks=report.chunks,
                )
            parts = [f'<div class="ok-box">{render.esc(ok)}</div>'] if ok else []
            if lines:
                items = "".join(f"<li>{render.esc(line)}</li>" for line in lines)
                parts.append(f'<div class="error-box" role="alert"><ul>{items}</ul></div>')
            records = services.store.doc_records()
            rows, choices = corpus_view(text, lang, records)
            return "".join(parts), rows, choices, services.status_html(lang, records), None

        ingest_btn.click(
            on_ingest,
            [files, search],
            [corpus_msg, table, pick, status, files],
            api_name="ingest",
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
            return status_line, render.render_sources([], lang), rows, choices

        demo.load(on_load, None, [status, sources, table, pick], api_name="status")

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


__all__ = ["EN", "ZH", "build_app", "launch_options", "new_session", "answer_stream"]
