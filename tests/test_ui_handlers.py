"""The UI's event handlers called directly (no browser, no server): real Services over a
small real store of made-up articles, the hash embedder, no LLM."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from rag.assistant import MAX_QUESTION_CHARS
from rag.core.config import Settings
from tests.synth import write_jsonl
from ui.app import (
    EXAMPLES,
    INSPECT_MAX_K,
    USER_ECHO,
    Services,
    answer_stream,
    clear_chat,
    comment_on_rating,
    corpus_view,
    delete_from_corpus,
    example_question,
    inspect_retrieval,
    lang_of,
    like_message,
    load_page,
    new_session,
    poll_jobs,
    rate_message,
    upload_files,
)
from ui.feedback import MAX_COMMENT_CHARS
from ui.i18n import EN, ZH

pytestmark = pytest.mark.integration

# Made-up articles (no real text).
FARM = (
    "# 月球農場首度收成\n\n"
    "2031年3月4日，虛構的月球農場宣布首批萵苣收成，共三百顆。\n\n"
    "研究團隊表示，下一步將嘗試種植番茄。\n"
)
BALLOON = (
    "# 金星氣球完成試飛\n\n"
    "2031年5月6日，虛構的金星氣球在雲層上方飛行了三小時。\n\n"
    "工程師指出，氣球外殼能耐受酸性雲霧。\n"
)
ASKED = "研究團隊下一步將嘗試種植什麼？"  # answered from FARM: 番茄
FILLER = 6  # synthetic articles beside the two above, so term statistics mean something
JOB_DEADLINE = 300.0  # seconds an upload job may take on a loaded machine: not a speed check


def make_store(root: Path) -> Settings:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "farm.md").write_text(FARM, encoding="utf-8")
    (corpus / "balloon.md").write_text(BALLOON, encoding="utf-8")
    write_jsonl(corpus / "filler.jsonl", range(FILLER))
    settings = Settings(db=root / "db", embedder="hash", max_file_mb=1.0)
    report = ingest([corpus], settings)
    assert report.added == FILLER + 2, report.failed
    return settings


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Shared by the tests that do not change the store."""
    shared = Services(make_store(tmp_path_factory.mktemp("ui-handlers")))
    yield shared
    shared.close()


@pytest.fixture
def own_services(tmp_path: Path) -> Iterator[Services]:
    """A store of its own, for a test that deletes or uploads."""
    own = Services(make_store(tmp_path))
    yield own
    own.close()


def request(accept_language: str | None, session_hash: str = "page-1"):  # type: ignore[no-untyped-def]
    """A gr.Request as Gradio's queue builds it: around the page's HTTP request."""
    import gradio as gr
    from starlette.requests import Request

    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    return gr.Request(request=Request(scope), session_hash=session_hash)


# --- chat ---------------------------------------------------------------------------


def test_ask_streams_an_answer_with_its_sources_and_remembers_the_turn(
    services: Services,
) -> None:
    session = new_session()
    steps = list(answer_stream(services, ASKED, [], session, EN))
    messages, final_session, sources = steps[-1]
    assert final_session is session
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert ASKED in messages[0]["content"]
    answer = messages[1]["content"]
    assert answer.startswith('<div class="answer"') and "番茄" in answer
    assert 'href="#src-1-1"' in answer
    assert sources is not None and 'id="src-1-1"' in sources and "<mark>" in sources
    assert all(panel is None for _, _, panel in steps[:-1])  # only the end shows sources
    assert session["history"] == [(ASKED, session["turns"][0].answer.text)]
    assert session["records"][0] is None and session["records"][1]["question"] == ASKED
    assert session["next_turn"] == 2

    # The next question is turn 2 of the same conversation; the panel keeps turn 1.
    follow = "金星氣球飛行了多久？"
    messages, session, sources = list(answer_stream(services, follow, messages, session, EN))[-1]
    assert len(messages) == 4 and len(session["history"]) == 2
    assert 'data-turn="2"' in sources and 'data-turn="1"' in sources
    assert 'href="#src-2-1"' in messages[3]["content"]


def test_an_llm_answer_is_shown_as_it_streams_then_verified(services: Services) -> None:
    """With an LLM (the fake OpenAI server), each delta updates the pending message;
    the verified answer and its sources come last."""
    from fake_openai import FakeOpenAI, Reply

    sentence = "研究團隊表示，下一步將嘗試種植番茄。"
    with FakeOpenAI().running() as fake:
        fake.push(Reply(text=f"{sentence}[1]", chunk=4))
        settings = services.settings.with_(
            llm_base_url=fake.url, llm_model="fake-model", llm_api_key="k"
        )
        with_llm = Services(settings)
        try:
            # Snapshots: the handler updates one message list in place between steps.
            steps = [
                (copy.deepcopy(messages), panel)
                for messages, _, panel in answer_stream(with_llm, ASKED, [], new_session(), EN)
            ]
        finally:
            with_llm.close()
    pending = [messages[-1]["content"] for messages, _ in steps[:-1]]
    assert len(pending) >= 3, pending  # the reply came in 4-character chunks
    assert all('class="answer streaming"' in html for html in pending)
    assert all(panel is None for _, panel in steps[:-1])
    texts = [html.split(">", 1)[1] for html in pending]
    assert all(len(a) < len(b) for a, b in zip(texts, texts[1:], strict=False))  # growing
    final, sources = steps[-1]
    assert final[-1]["content"].startswith('<div class="answer">')
    assert sentence in final[-1]["content"] and 'href="#src-1-1"' in final[-1]["content"]
    assert sources is not None and 'id="src-1-1"' in sources


@pytest.mark.parametrize("lang", [EN, ZH])
def test_bad_questions_get_a_clear_message_in_the_page_language(
    services: Services, lang: str
) -> None:
    session = new_session()
    messages, session, sources = list(answer_stream(services, "   ", [], session, lang))[-1]
    assert len(messages) == 1 and "error-box" in messages[0]["content"]
    assert ("is empty" if lang == EN else "問題是空的") in messages[0]["content"]
    assert sources is None and session["history"] == [] and session["records"] == [None]

    long = "問" * (MAX_QUESTION_CHARS + 5)
    messages, session, _ = list(answer_stream(services, long, messages, session, lang))[-1]
    echo, error = messages[-2]["content"], messages[-1]["content"]
    assert echo.count("問") == USER_ECHO and "…" in echo  # the echo is cut short
    assert "error-box" in error and f"{MAX_QUESTION_CHARS + 5:,}" in error
    assert f"{MAX_QUESTION_CHARS:,}" in error
    assert session["history"] == []


def test_clear_starts_a_new_conversation(services: Services) -> None:
    messages, session, sources = clear_chat(EN)
    assert messages == [] and session == new_session()
    assert "empty" in sources
    assert clear_chat(ZH)[2] != sources  # the empty panel speaks the page's language


def test_examples_fill_the_question_box() -> None:
    assert example_question({"text": EXAMPLES[0]}) == EXAMPLES[0]
    assert example_question({"files": []}) == ""
    assert example_question("plain") == "plain"


# --- feedback -------------------------------------------------------------------------


def test_thumbs_then_comment_are_stored(services: Services) -> None:
    session = new_session()
    messages, session, _ = list(answer_stream(services, ASKED, [], session, EN))[-1]
    log = services.feedback.path

    note, offer = like_message(services, session, 0, True, EN)  # the question itself
    assert not offer and "answer" in note and session["rated"] is None
    before = log.read_text(encoding="utf-8").count("\n") if log.exists() else 0

    note, offer = like_message(services, session, [1, 0], False, EN)  # Gradio's [row, col]
    assert offer and "feedback-note" in note
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == before + 1
    rated = json.loads(lines[-1])
    assert rated["question"] == ASKED and rated["rating"] == "down" and rated["citations"]

    long = "字" * (MAX_COMMENT_CHARS + 1)
    note, box = comment_on_rating(services, long, session, EN)
    assert "error-box" in note and f"{MAX_COMMENT_CHARS:,}" in note
    assert box is None  # the comment stays in the box, to be shortened
    assert len(log.read_text(encoding="utf-8").splitlines()) == before + 1

    note, box = comment_on_rating(services, "  引用不完整  ", session, EN)
    assert "feedback-note" in note and box == ""
    comment = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert comment["id"] == rated["id"] and comment["comment"] == "引用不完整"
    assert comment["rating"] == "down"


def test_a_comment_without_a_rating_is_refused(services: Services) -> None:
    note, box = comment_on_rating(services, "好", new_session(), ZH)
    assert "error-box" in note and box == ""


def test_rate_by_index_for_scripts(services: Services) -> None:
    session = new_session()
    _, session, _ = list(answer_stream(services, ASKED, [], session, EN))[-1]
    assert rate_message(services, 1.0, "up", "", session) == "saved"
    assert rate_message(services, 0, "up", "", session) == "no answer at that index"
    assert rate_message(services, 7, "up", "", session) == "no answer at that index"
    too_long = rate_message(services, 1, "down", "x" * (MAX_COMMENT_CHARS + 1), session)
    assert f"{MAX_COMMENT_CHARS:,}" in too_long
    line = json.loads(services.feedback.path.read_text(encoding="utf-8").splitlines()[-1])
    assert line["rating"] == "up" and line["question"] == ASKED


# --- corpus ---------------------------------------------------------------------------


def test_corpus_search_filters_and_labels_the_picker(services: Services) -> None:
    everything = corpus_view(services, "", EN)
    assert len(everything.table["data"]) == FILLER + 2
    assert everything.table["headers"][0] == "Title"
    found = corpus_view(services, "月球", ZH)
    assert [row[0] for row in found.table["data"]] == ["月球農場首度收成"]
    assert found.table["headers"][0] != "Title"  # the page's language
    label, doc_id = found.choices[0]
    assert label.startswith("月球農場首度收成 (") and doc_id == found.table["data"][0][4]
    assert corpus_view(services, "no such article anywhere", EN).table["data"] == []


def test_delete_removes_the_article_everywhere(own_services: Services) -> None:
    doc_id = corpus_view(own_services, "月球", EN).choices[0][1]
    message, view, status = delete_from_corpus(own_services, doc_id, "", EN)
    assert "Deleted" in message and "月球農場首度收成" in message
    assert all(row[4] != doc_id for row in view.table["data"])
    assert f"{FILLER + 1} documents" in status
    assert doc_id not in own_services.store.doc_records()
    # The retriever no longer finds it, and a second delete says so.
    rows = inspect_retrieval(own_services, "月球農場", 10, EN)["data"]
    assert all("月球" not in row[4] for row in rows)
    message, _, _ = delete_from_corpus(own_services, doc_id, "", EN)
    assert "no longer" in message
    message, view, _ = delete_from_corpus(own_services, None, "金星", EN)
    assert "error-box" in message and len(view.table["data"]) == 1


def test_upload_queues_a_job_that_ends_in_the_table(own_services: Services, tmp_path: Path):
    good = tmp_path / "upload" / "comet.md"
    good.parent.mkdir()
    good.write_text(
        "# 彗星觀測站落成\n\n2031年7月8日，虛構的彗星觀測站在高原落成。\n\n"
        "站長表示，觀測站每晚可追蹤四十顆彗星。\n",
        encoding="utf-8",
    )
    wrong = tmp_path / "upload" / "notes.pdf"
    wrong.write_bytes(b"%PDF-1.4 fake")
    page = load_page(own_services, EN)
    assert f"{FILLER + 2} documents" in page.status and page.seen == 0

    message, jobs, active = upload_files(own_services, [str(good), str(wrong)], "page-1", EN)
    assert "Queued: comet.md" in message and "not accepted" in message
    assert "comet.md" in jobs and active
    assert good.exists() and wrong.exists()  # not Gradio's copies: never moved or deleted
    # Another page sees none of this page's jobs.
    assert poll_jobs(own_services, "", page.seen, "page-2", EN).jobs == ""

    deadline = time.monotonic() + JOB_DEADLINE
    poll = poll_jobs(own_services, "", page.seen, "page-1", EN)
    while poll.active:
        assert time.monotonic() < deadline, "the upload job did not finish in time"
        time.sleep(0.2)
        poll = poll_jobs(own_services, "", page.seen, "page-1", EN)
    assert "1 added" in poll.jobs and poll.seen == 1
    assert poll.view is not None and poll.status is not None
    assert any(row[0] == "彗星觀測站落成" for row in poll.view.table["data"])
    assert f"{FILLER + 3} documents" in poll.status
    # Once seen, a poll leaves the table alone.
    again = poll_jobs(own_services, "", poll.seen, "page-1", EN)
    assert again.view is None and again.status is None and not again.active
    # The new article is searched and answered from.
    messages, _, _ = list(
        answer_stream(own_services, "彗星觀測站每晚可追蹤多少顆彗星？", [], new_session(), EN)
    )[-1]
    assert "四十" in messages[-1]["content"]


def test_upload_without_files_or_replace_target_is_refused(services: Services, tmp_path: Path):
    message, jobs, active = upload_files(services, [], "page-1", EN)
    assert "error-box" in message and jobs == "" and not active
    one = tmp_path / "one.txt"
    one.write_text("標題\n\n一段內容。\n", encoding="utf-8")
    message, _, active = upload_files(services, [str(one)], "page-1", EN, replace="")
    assert "error-box" in message and not active
    assert not services.jobs.busy()


# --- inspector, page load, language ---------------------------------------------------


def test_inspector_shows_ranked_passages_with_three_scores(services: Services) -> None:
    table = inspect_retrieval(services, "月球農場", 3, EN)
    rows = table["data"]
    assert [row[0] for row in rows] == [1, 2, 3] and rows[0][4] == "月球農場首度收成"
    assert table["headers"][1] == "Fused"
    for row in rows:
        assert float(row[1]) != 0 and row[2] != "" and row[3] != ""
    assert len(inspect_retrieval(services, "月球", 0, EN)["data"]) == 1  # at least one
    many = inspect_retrieval(services, "測試新聞", 1000, EN)["data"]
    assert len(many) <= INSPECT_MAX_K
    assert inspect_retrieval(services, "  ", 5, ZH)["data"] == []


def test_page_load_shows_status_sources_and_articles(services: Services) -> None:
    page = load_page(services, EN)
    assert f"{FILLER + 2} documents" in page.status and "extractive" in page.status
    assert "empty" in page.sources
    assert len(page.view.table["data"]) == FILLER + 2 and len(page.view.choices) == FILLER + 2
    assert page.seen == services.jobs.finished


def test_the_page_language_follows_the_browser(services: Services) -> None:
    assert lang_of(request("zh-TW,zh;q=0.9,en;q=0.8")) == ZH
    assert lang_of(request("zh-CN")) == ZH
    assert lang_of(request("en-US,en;q=0.9,zh-TW;q=0.5")) == EN
    assert lang_of(request(None)) == EN
    assert lang_of(None) == EN
    english, chinese = load_page(services, EN), load_page(services, lang_of(request("zh-TW")))
    assert english.view.table["headers"] != chinese.view.table["headers"]
    assert english.status != chinese.status and english.sources != chinese.sources
