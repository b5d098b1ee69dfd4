"""The web UI's API driven by gradio_client against a live app over the sample corpus."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shared_data import need

# Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]
CORPUS = need("corpus")

ANSWERABLE = [
    "川普透過哪個平台宣佈允許H200出口？",
    "網信辦聲稱輝達晶片具備哪些功能？",
    "美国参议院新法案要求在多少个月内禁止向中国出口先进AI芯片？",
]
REFUSED = "輝達2026年第一季營收是多少？"


class Recorder:
    """Wraps Assistant.stream to record the history each call received."""

    def __init__(self, assistant: Any) -> None:
        self.calls: list[tuple[str, list]] = []
        self._lock = threading.Lock()
        inner = assistant.stream

        def stream(question: str, **kwargs: Any) -> Iterator[Any]:
            with self._lock:
                self.calls.append((question, list(kwargs.get("history") or [])))
            return inner(question, **kwargs)

        assistant.stream = stream


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from ingest.pipeline import ingest
    from rag.assistant import Assistant
    from rag.core.config import Settings
    from ui.serve import start

    db = tmp_path_factory.mktemp("ui-client") / "db"
    settings = Settings(db=db, max_file_mb=1.0)
    report = ingest([CORPUS], settings)
    assert report.documents >= 2
    assistant = Assistant(settings)
    recorder = Recorder(assistant)
    running = start(settings, assistant=assistant)
    try:
        yield {
            "url": running.url,
            "settings": settings,
            "recorder": recorder,
            "assistant": assistant,
        }
    finally:
        running.close()


def client(url: str):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(url, verbose=False)


def text_of(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def wait_for_jobs(c) -> tuple:  # type: ignore[no-untyped-def]
    """Poll /jobs until this client's upload jobs have ended; its last reply."""
    deadline = time.monotonic() + 120
    while True:
        reply = c.predict("", 0, api_name="/jobs")
        if "job-queued" not in reply[0] and "job-running" not in reply[0]:
            return reply
        assert time.monotonic() < deadline, "upload job did not finish in time"
        time.sleep(0.5)


def ask(c, question: str, messages: list | None = None) -> tuple[list, str]:  # type: ignore[no-untyped-def]
    messages, box, sources = c.predict(question, messages or [], api_name="/ask")
    assert box == ""  # the input box is cleared
    return messages, sources


def test_answer_has_citation_links_and_highlighted_source(app: dict) -> None:
    c = client(app["url"])
    messages, sources = ask(c, ANSWERABLE[0])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    answer = text_of(messages[1])
    assert '<div class="answer">' in answer and 'href="#src-1-1"' in answer
    assert "Truth Social" in answer
    assert 'id="src-1-1"' in sources and "<mark>" in sources
    assert "Truth Social" in sources.split("<mark>", 1)[1]


def test_refusal_is_styled_and_offers_related_passages(app: dict) -> None:
    c = client(app["url"])
    messages, sources = ask(c, REFUSED)
    answer = text_of(messages[-1])
    assert answer.startswith('<div class="refusal"') and "Possibly related" in answer
    assert 'href="#src-1-1"' in answer and 'id="src-1-1"' in sources


def test_follow_up_gets_the_conversation(app: dict) -> None:
    c = client(app["url"])
    messages, _ = ask(c, ANSWERABLE[0])
    messages, sources = ask(c, "那H20呢？", messages)
    assert len(messages) == 4
    calls = [h for q, h in app["recorder"].calls if q == "那H20呢？"]
    assert calls and calls[-1][0][0] == ANSWERABLE[0]
    assert 'data-turn="2"' in sources and 'data-turn="1"' in sources
    cleared = c.predict(api_name="/clear")
    assert cleared[0] == [] and "empty" in cleared[1]


def test_bad_questions_get_clear_messages_and_the_app_keeps_working(app: dict) -> None:
    c = client(app["url"])
    messages, _ = ask(c, "   ")
    assert len(messages) == 1 and "error-box" in text_of(messages[0])
    assert "empty" in text_of(messages[0])
    messages, _ = ask(c, "問" * 10_000)
    error = text_of(messages[-1])
    assert "error-box" in error and "10,000" in error and "2,000" in error
    assert len(text_of(messages[-2])) < 1_000  # the echo of the question is cut short
    messages, _ = ask(c, ANSWERABLE[1], messages)
    assert 'class="answer"' in text_of(messages[-1])


def test_script_in_a_question_is_escaped(app: dict) -> None:
    c = client(app["url"])
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)> 輝達'
    messages, sources = ask(c, evil)
    for message in messages:
        html = text_of(message)
        assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in text_of(messages[0])
    assert "<script" not in sources


def test_retrieval_inspector_shows_three_scores(app: dict) -> None:
    c = client(app["url"])
    table = c.predict(ANSWERABLE[0], 5, api_name="/inspect")
    rows = table["data"]
    assert 1 <= len(rows) <= 5 and [r[0] for r in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert float(row[1]) != 0 and row[2] != "" and row[3] != ""


def test_upload_ingest_list_and_delete(app: dict, tmp_path: Path) -> None:
    from gradio_client import handle_file

    c = client(app["url"])
    good = tmp_path / "synthetic_news.md"
    good.write_text(
        "# 測試<script>x</script>：月球農場首度收成\n\n"
        "2031年3月4日，虛構的月球農場宣布首批萵苣收成，共三百顆。\n\n"
        "研究團隊表示，下一步將嘗試種植番茄。\n",
        encoding="utf-8",
    )
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    big = tmp_path / "big.txt"
    big.write_text("字" * 400_000, encoding="utf-8")  # 1.2 MB > the 1 MB test limit
    wrong = tmp_path / "notes.pdf"
    wrong.write_bytes(b"%PDF-1.4 fake")
    files = [handle_file(str(p)) for p in (good, binary, big, wrong)]
    message, jobs, _, _ = c.predict(files, api_name="/ingest")
    assert "Queued: synthetic_news.md" in message and "synthetic_news.md" in jobs
    assert "binary" in message and "MB limit" in message and "not accepted" in message
    assert "<script" not in message
    jobs, rows, _, status, _ = wait_for_jobs(c)
    assert "1 added" in jobs and "<script" not in jobs
    titles = [r[0] for r in rows["data"]]
    assert any("月球農場" in title for title in titles)
    assert "3 documents" in status
    rows, _ = c.predict("月球", api_name="/articles")
    assert len(rows["data"]) == 1
    doc_id = rows["data"][0][4]
    messages, _ = ask(c, "月球農場首批收成了多少顆萵苣？")
    assert "三百" in text_of(messages[-1])
    message, rows, _, status = c.predict(doc_id, "", api_name="/delete")
    assert "Deleted" in message and "2 documents" in status
    assert all("月球農場" not in r[0] for r in rows["data"])
    message, *_ = c.predict(doc_id, "", api_name="/delete")
    assert "no longer" in message


def test_feedback_is_stored_as_jsonl(app: dict) -> None:
    c = client(app["url"])
    ask(c, ANSWERABLE[2])
    assert c.predict(1, "down", "引用不完整", api_name="/rate") == "saved"
    assert c.predict(0, "up", "", api_name="/rate") == "no answer at that index"
    path = Path(app["settings"].db) / "feedback.jsonl"
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert line["question"] == ANSWERABLE[2] and line["rating"] == "down"
    assert line["comment"] == "引用不完整" and line["citations"] and line["timestamp"]


def test_eight_users_at_once_each_get_their_own_answers(app: dict) -> None:
    from rag.core.types import Answer
    from ui import render
    from ui.i18n import EN

    questions = [*ANSWERABLE, REFUSED] * 2
    expected: dict[str, Answer] = {q: app["assistant"].ask(q) for q in set(questions)}
    results: dict[int, Any] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(questions))

    def user(i: int) -> None:
        try:
            c = client(app["url"])
            start.wait(timeout=30)
            first, _ = ask(c, questions[i])
            second, sources = ask(c, questions[(i + 1) % len(questions)], first)
            results[i] = (first, second, sources)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    for i, (first, second, sources) in results.items():
        question = questions[i]
        assert render.esc(question) in text_of(first[0])
        assert text_of(first[1]) == render.render_answer(expected[question], 1, EN)
        assert len(second) == 4  # only this session's turns
        assert 'data-turn="1"' in sources and 'data-turn="2"' in sources
    assert len(results) == len(questions)
