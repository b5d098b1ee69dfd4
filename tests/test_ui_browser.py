"""The web UI in a real browser (Debian chromium driven by Python playwright).

Screenshots go to test-artifacts/; with RAG_UI_SCREENSHOT=PATH the answer screenshot is
also written there (how docs/screenshot.png is made).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shared_data import need

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]
CORPUS = need("corpus")
if not CHROMIUM.exists():
    pytest.skip(
        "chromium not installed at /usr/bin/chromium: run scripts/install_browser.sh "
        "(make test does)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.sync_api")

QUESTION = "川普透過哪個平台宣佈允許H200出口？"
REFUSED = "輝達2026年第一季營收是多少？"
TIMEOUT = 30_000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from ingest.pipeline import ingest
    from rag.core.config import Settings
    from ui.serve import start

    settings = Settings(db=tmp_path_factory.mktemp("ui-browser") / "db")
    ingest([CORPUS], settings)
    running = start(settings)
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def app_url(app: Any) -> str:
    return app.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def outside_requests() -> Iterator[list[str]]:
    """Requests that left localhost, from every page of this module: checked once all
    its tests have run, whatever their order or selection."""
    outside: list[str] = []
    yield outside
    assert outside == [], f"pages fetched from the internet: {outside}"


def open_page(browser: Any, url: str, outside: list[str], locale: str = "zh-TW") -> Any:
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    local = url.rstrip("/")

    def watch(request: Any) -> None:
        if not request.url.startswith((local, "data:", "blob:")):
            outside.append(request.url)

    page.on("request", watch)
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#question textarea")
    page.wait_for_selector("#status .status-line")
    return page


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def ask(page: Any, question: str) -> None:
    count = page.locator("#chat .answer, #chat .refusal, #chat .error-box").count()
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .answer:not(.streaming), #chat .refusal,"
        " #chat .error-box').length > n",
        arg=count,
    )


def test_ask_click_citation_see_highlighted_source(
    browser: Any, app_url: str, outside_requests: list[str]
) -> None:
    page = open_page(browser, app_url, outside_requests)
    assert page.inner_text("#ask").strip() == "提問"  # zh-TW browser: Traditional interface
    assert "語言模型" in page.inner_text("#status")
    ask(page, QUESTION)
    answer = page.locator("#chat .answer").last
    assert "Truth Social" in answer.inner_text()
    marker = answer.locator("a.cite").first
    assert marker.inner_text() == "[1]"
    marker.click()
    card = page.locator("#sources .src-card.active")
    card.wait_for(state="visible")
    assert "Truth Social" in card.locator("mark").all_inner_texts()[-1] or any(
        "Truth Social" in text for text in card.locator("mark").all_inner_texts()
    )
    assert card.locator(".src-title").inner_text().startswith("[1]")
    path = shot(page, "ui-answer-source.png")
    target = os.environ.get("RAG_UI_SCREENSHOT")
    if target:
        shutil.copyfile(path, ROOT / target)
    # Copy answer: the plain text with its markers lands on the clipboard.
    answer.locator(".copy-answer").click()
    page.wait_for_function("() => document.querySelector('#chat .copy-answer.done') !== null")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "Truth Social" in copied and "[1]" in copied and "<a" not in copied
    page.context.close()


def test_thumbs_and_comment_are_saved(browser: Any, app: Any, outside_requests: list[str]) -> None:
    # English interface: Gradio's own thumbs carry translated aria-labels.
    page = open_page(browser, app.url, outside_requests, locale="en-US")
    ask(page, QUESTION)
    page.locator('#chat button[aria-label="Dislike"]').last.click()
    page.locator("#feedback-note .feedback-note").wait_for(state="visible")
    page.fill("#comment textarea", "第二句與問題無關")
    page.click("#send-comment")
    page.wait_for_function(
        "() => document.querySelector('#feedback-note').innerText.includes('Comment saved')"
    )
    path = Path(app.assistant.settings.db) / "feedback.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [x["rating"] for x in lines[-2:]] == ["down", "down"]
    assert lines[-1]["comment"] == "第二句與問題無關" and lines[-1]["question"] == QUESTION
    assert lines[-1]["id"] == lines[-2]["id"] and lines[-1]["citations"]
    page.context.close()


def test_refusal_box_and_related_passages(
    browser: Any, app_url: str, outside_requests: list[str]
) -> None:
    page = open_page(browser, app_url, outside_requests)
    ask(page, REFUSED)
    refusal = page.locator("#chat .refusal").last
    assert refusal.is_visible() and "文章中找不到答案" in refusal.inner_text()
    color = refusal.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert color == "rgb(245, 158, 11)"  # the amber refusal box, unlike an answer
    refusal.locator("a.cite").first.click()
    page.locator("#sources .src-card.active").wait_for(state="visible")
    shot(page, "ui-refusal.png")
    page.context.close()


def test_html_and_script_are_shown_not_run(
    browser: Any, app_url: str, outside_requests: list[str], tmp_path: Path
) -> None:
    page = open_page(browser, app_url, outside_requests)
    evil = "<img src=x onerror=\"window.__xss='img'\"><script>window.__xss='q'</script>輝達？"
    ask(page, evil)
    user = page.locator("#chat .user-q").last
    assert "<script>window.__xss='q'</script>" in user.inner_text()
    ask(page, "   ")
    assert page.locator("#chat .error-box").last.is_visible()

    # An article whose title and text carry markup, uploaded through the Articles tab.
    article = tmp_path / "markup_article.md"
    article.write_text(
        "# 標記<script>window.__xss='title'</script>測試報導\n\n"
        "虛構的海底城市於2030年5月6日開放參觀，首日共有1200名遊客。\n\n"
        "現場看板寫著<img src=x onerror=\"window.__xss='body'\">這段標記。\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="文章").click()
    # Adding and replacing are separate controls, explained in the interface language.
    assert page.inner_text("#replace").strip() == "以上傳的檔案取代所選文章"
    assert "一律新增為新文章" in page.inner_text(".upload-hint")
    page.locator("#upload input[type=file]").set_input_files(str(article))
    page.wait_for_function(
        "() => document.querySelector('#upload') && "
        "document.querySelector('#upload').innerText.includes('markup_article')"
    )
    page.click("#ingest")
    page.locator("#corpus-msg .ok-box").wait_for(state="visible")
    assert "markup_article.md" in page.inner_text("#corpus-msg")  # queued
    # The job's progress, then its result, show in the tab; the table refreshes itself.
    page.locator("#jobs .job-done .ok-box").wait_for(state="visible")
    assert "新增 1" in page.inner_text("#jobs")
    page.wait_for_function(
        "() => document.querySelector('#corpus-table').innerText.includes('測試報導')"
    )
    page.fill("#corpus-search textarea, #corpus-search input", "海底")
    # Read the table in the same check that waits for it: Gradio re-renders the table
    # when the search settles, and a separate read could land mid-render (empty).
    page.wait_for_function(
        "() => document.querySelector('#corpus-table').innerText"
        ".includes(\"標記<script>window.__xss='title'</script>測試報導\")"
    )
    shot(page, "ui-corpus.png")

    page.get_by_role("tab", name="對話").click()
    ask(page, "海底城市首日有多少名遊客？")
    answer = page.locator("#chat .answer").last
    assert "1200" in answer.inner_text()
    answer.locator("a.cite").first.click()
    card = page.locator("#sources .src-card.active")
    card.wait_for(state="visible")
    assert "<script>" in card.inner_text() or "<img" in card.inner_text()
    assert page.evaluate("() => window.__xss") is None
    page.context.close()


def test_english_interface_and_example_questions(
    browser: Any, app_url: str, outside_requests: list[str]
) -> None:
    page = open_page(browser, app_url, outside_requests, locale="en-US")
    assert page.inner_text("#ask").strip() == "Ask"
    assert "extractive: no LLM configured" in page.inner_text("#status")
    page.get_by_role("tab", name="Articles").click()
    assert page.inner_text("#replace").strip() == "Replace the selected article with the upload"
    assert "always added as new articles" in page.inner_text(".upload-hint")
    page.get_by_role("tab", name="Chat").click()
    example = page.get_by_text("美国参议院新法案要求在多少个月内禁止向中国出口先进AI芯片？").first
    example.click()
    page.wait_for_function("() => document.querySelectorAll('#chat .answer a.cite').length > 0")
    assert "30" in page.locator("#chat .answer").last.inner_text()
    page.click("#clear")
    page.wait_for_function("() => document.querySelectorAll('#chat .answer').length === 0")
    page.context.close()
