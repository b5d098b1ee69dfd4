"""Uploads as background jobs, driven by gradio_client against a live app: identity of
uploaded files, deliberate replace, clean-up of refused and failed uploads, questions
answered while a large upload ingests, and the feedback comment cap."""

from __future__ import annotations

import json
import os
import statistics
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

JOB_DEADLINE = 300  # seconds a test waits for its upload jobs before failing
# Answers on this store take ~0.05-0.1 s when idle. With the ingest inside the server
# (before), questions during this same 3 MB upload had p95 4.3 s (10 answered in 9 s,
# measured by hand on the old code), and answers took 40 s during a 19 MB upload in the
# hostile test; with the ingest in a child process p95 was 0.63-0.65 s on a loaded
# 2-core machine (70-80 answered). 3 s leaves ~4.5x headroom over that, yet stays
# below what the old code did here.
P95_BOUND = 3.0
LARGE_ARTICLES = 2000  # ~3 MB of synthetic jsonl: about 20 s of ingest here
ASKED = ["川普透過哪個平台宣佈允許H200出口？", "網信辦聲稱輝達晶片具備哪些功能？"]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from ingest.pipeline import ingest
    from rag.core.config import Settings
    from ui.serve import start

    temp = tmp_path_factory.mktemp("gradio-temp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(temp))  # to see what stays in it
        settings = Settings(db=tmp_path_factory.mktemp("ui-jobs") / "db", max_file_mb=4.0)
        ingest([CORPUS], settings)
        running = start(settings)
        try:
            yield {"url": running.url, "settings": settings, "temp": temp, "running": running}
        finally:
            running.close()


def client(url: str):  # type: ignore[no-untyped-def]
    from gradio_client import Client

    return Client(url, verbose=False)


def files_of(*paths: Path) -> list[Any]:
    from gradio_client import handle_file

    return [handle_file(str(p)) for p in paths]


def wait_for_jobs(c: Any, seen: list[str] | None = None) -> tuple:
    """Poll /jobs until this client's jobs have all ended; the last reply. ``seen``
    collects every jobs panel shown on the way."""
    deadline = time.monotonic() + JOB_DEADLINE
    while True:
        reply = c.predict("", 0, api_name="/jobs")
        if seen is not None:
            seen.append(reply[0])
        if "job-queued" not in reply[0] and "job-running" not in reply[0]:
            return reply
        assert time.monotonic() < deadline, "upload jobs did not finish in time"
        time.sleep(0.5)


def upload(c: Any, *paths: Path, replace: str | None = None) -> tuple[str, str]:
    """Submit files (to add, or to replace article ``replace``); (submit message, the
    finished job's panel)."""
    if replace is None:
        message, *_ = c.predict(files_of(*paths), api_name="/ingest")
    else:
        message, *_ = c.predict(files_of(*paths), replace, api_name="/replace")
    jobs = wait_for_jobs(c)[0]
    last = jobs.rsplit('<div class="job ', 1)[-1] if jobs else ""
    return message, last


def article(path: Path, title: str, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n2031年3月4日，{body}\n", encoding="utf-8")
    return path


def titles(c: Any, query: str = "") -> dict[str, str]:
    rows, _ = c.predict(query, api_name="/articles")
    return {row[0]: row[4] for row in rows["data"]}


def test_same_file_name_is_a_new_article_and_replace_is_deliberate(
    app: dict, tmp_path: Path
) -> None:
    from rag.core.files import file_sha256
    from ui.jobs import stored_name

    c = client(app["url"])
    first = article(
        tmp_path / "a" / "news.txt", "火星溫室首度收成", "虛構的火星溫室收成番茄八十顆。"
    )
    second = article(
        tmp_path / "b" / "news.txt", "金星氣球完成試飛", "虛構的金星氣球飛行了三小時。"
    )
    message, done = upload(c, first)
    assert "Queued: news.txt" in message and "1 added" in done
    message, done = upload(c, second)
    assert "1 added, 0 updated" in done  # not an update of the first
    found = titles(c)
    assert {"火星溫室首度收成", "金星氣球完成試飛"} <= set(found)
    # The same bytes under the same name again: recognised, nothing stored twice.
    _, done = upload(c, first)
    assert "0 added, 0 updated, 1 unchanged" in done

    # Replace: only through its own button, with the article picked.
    message, *_ = c.predict(files_of(first), "", api_name="/replace")
    assert "Pick the article to replace first" in message
    message, *_ = c.predict(files_of(first, second), found["火星溫室首度收成"], api_name="/replace")
    assert "exactly one file" in message
    third = article(
        tmp_path / "c" / "other.txt", "火星溫室二度收成", "虛構的火星溫室又收成了九十顆番茄。"
    )
    _, done = upload(c, third, replace=found["火星溫室首度收成"])
    assert "Replaced “火星溫室首度收成” with “火星溫室二度收成”" in done
    after = titles(c)
    assert "火星溫室首度收成" not in after
    assert {"火星溫室二度收成", "金星氣球完成試飛"} <= set(after)
    # Replacing with a copy of another stored article replaces nothing.
    _, done = upload(c, second, replace=after["火星溫室二度收成"])
    assert "Nothing replaced" in done and "火星溫室二度收成" in titles(c)
    # The replaced article's stored upload is gone with it; the others stay.
    uploads = Path(app["settings"].db) / "uploads"
    assert not (uploads / stored_name(file_sha256(first), "news.txt")).exists()
    assert (uploads / stored_name(file_sha256(second), "news.txt")).exists()
    assert (uploads / stored_name(file_sha256(third), "other.txt")).exists()


def test_refused_and_failed_uploads_leave_no_files(app: dict, tmp_path: Path) -> None:
    c = client(app["url"])
    good = article(tmp_path / "kept.txt", "土星環清潔計畫", "虛構的清潔船回收冰塊五百噸。")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    wrong = tmp_path / "notes.pdf"
    wrong.write_bytes(b"%PDF-1.4 fake")
    empty_page = tmp_path / "empty.html"  # read, then fails cleaning: no text
    empty_page.write_text("<html><head><title>x</title></head><body></body></html>")
    bad_lines = tmp_path / "bad.jsonl"
    bad_lines.write_text('{"title": "no text"}\nnot json\n', encoding="utf-8")
    message, done = upload(c, good, binary, wrong, empty_page, bad_lines)
    assert "binary" in message and "not accepted" in message
    assert "1 added" in done and "3 failed" in done
    assert "empty.html" in done and "bad.jsonl:1" in done and "bad.jsonl:2" in done
    uploads = Path(app["settings"].db) / "uploads"
    names = [p.name for p in uploads.iterdir() if p.is_file()]
    assert any(n.endswith("kept.txt") for n in names)
    for gone in ("image.txt", "notes.pdf", "empty.html", "bad.jsonl"):
        assert not any(n.endswith(gone) for n in names), names
    assert not any((uploads / "incoming").rglob("*.*"))
    # Gradio's own copies of every upload are gone too (refused, failed and accepted).
    left = [p.name for p in Path(app["temp"]).rglob("*") if p.is_file()]
    for name in ("kept.txt", "image.txt", "notes.pdf", "empty.html", "bad.jsonl"):
        assert name not in left, left


def test_questions_stay_answered_while_a_large_upload_ingests(app: dict, tmp_path: Path) -> None:
    from synth import write_jsonl

    big = write_jsonl(tmp_path / "big.jsonl", range(5000, 5000 + LARGE_ARTICLES))
    uploader, asker = client(app["url"]), client(app["url"])
    message, jobs, *_ = uploader.predict(files_of(big), api_name="/ingest")
    # The upload call returns at once: the job is queued or running, not done.
    assert "Queued: big.jsonl" in message and "job-done" not in jobs
    # A delete must wait for the job (one writer at a time).
    some_id = next(iter(titles(asker).values()))
    blocked, *_ = asker.predict(some_id, "", api_name="/delete")
    assert "being added" in blocked
    panels: list[str] = []
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def poll() -> None:
        try:
            outcome["reply"] = wait_for_jobs(uploader, panels)
        except BaseException as exc:  # reported below
            outcome["error"] = exc
        finally:
            done.set()

    poller = threading.Thread(target=poll)
    poller.start()
    latencies = []
    while not done.is_set():
        started = time.perf_counter()
        messages, _, _ = asker.predict(ASKED[len(latencies) % 2], [], api_name="/ask")
        latencies.append(time.perf_counter() - started)
        assert 'class="answer"' in str(messages[-1]["content"])
    poller.join()
    assert "error" not in outcome, outcome.get("error")
    final = outcome["reply"][0]
    assert f"{LARGE_ARTICLES} added" in final
    running = [p for p in panels if "job-running" in p and "<progress" in p]
    assert running and f"of {LARGE_ARTICLES:,} read" in running[-1]
    assert len(latencies) >= 5, f"only {len(latencies)} questions answered during the upload"
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[-1]
    print(f"questions during the upload: {len(latencies)}, p95 {p95:.2f} s")
    assert p95 < P95_BOUND, sorted(latencies)
    # Once the job ended, its articles are found (dense and lexical both see them).
    rows = asker.predict("測試新聞第5005號", 3, api_name="/inspect")["data"]
    assert rows and rows[0][4] == "測試新聞第5005號"
    assert rows[0][2] != "" and float(rows[0][2]) > 0  # a dense score: the new vectors
    # The finished job refreshed the status line and the table of the page.
    status, table = outcome["reply"][3], outcome["reply"][1]
    assert f"{len(titles(asker))} documents" in status
    assert any(row[0] == "測試新聞第5005號" for row in table["data"])


def test_a_killed_job_fails_clearly_and_the_next_upload_finishes_it(
    app: dict, tmp_path: Path
) -> None:
    import multiprocessing
    import signal

    from synth import write_jsonl

    big = write_jsonl(tmp_path / "killed.jsonl", range(9000, 9000 + LARGE_ARTICLES // 2))
    c = client(app["url"])
    c.predict(files_of(big), api_name="/ingest")
    deadline = time.monotonic() + JOB_DEADLINE
    while "job-running" not in (panel := c.predict("", 0, api_name="/jobs")[0]) or (
        "read" not in panel or " 0 of " in panel
    ):
        assert time.monotonic() < deadline and "job-done" not in panel, panel
        time.sleep(0.2)
    children = [p for p in multiprocessing.active_children() if p.name.startswith("upload-job")]
    assert len(children) == 1
    os.kill(children[0].pid, signal.SIGKILL)
    panel = wait_for_jobs(c)[0]
    assert "job-failed" in panel and "exit code -9" in panel and "upload the file again" in panel
    # The server still answers, and uploading the same file again finishes the job.
    messages, _, _ = c.predict(ASKED[0], [], api_name="/ask")
    assert 'class="answer"' in str(messages[-1]["content"])
    _, done = upload(c, big)
    assert "0 failed" in done
    assert len([t for t in titles(c) if t.startswith("測試新聞第9")]) == LARGE_ARTICLES // 2


def test_feedback_comments_are_capped(app: dict) -> None:
    from ui.feedback import MAX_COMMENT_CHARS

    c = client(app["url"])
    c.predict(ASKED[0], [], api_name="/ask")
    path = Path(app["settings"].db) / "feedback.jsonl"
    before = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
    reply = c.predict(1, "down", "長" * (MAX_COMMENT_CHARS + 1), api_name="/rate")
    assert "limit is 2,000" in reply
    after = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
    assert after == before  # nothing written
    assert c.predict(1, "down", "長" * MAX_COMMENT_CHARS, api_name="/rate") == "saved"
    line = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert len(line["comment"]) == MAX_COMMENT_CHARS


def test_stored_upload_names_and_pruning(tmp_path: Path) -> None:
    from rag.core.store import DocRecord
    from ui.jobs import prune_uploads, stored_name

    assert stored_name("ab" * 32, "../新聞 1.txt") == "abababababababab-新聞_1.txt"
    assert stored_name("cd" * 32, "news.txt") != stored_name("ab" * 32, "news.txt")
    uploads = tmp_path / "uploads"
    (uploads / "incoming" / "job").mkdir(parents=True)
    (uploads / "incoming" / "job" / "0-waiting.txt").write_text("x")
    keep = uploads / "k-page.txt"
    lines = uploads / "k-lines.jsonl"
    drop = uploads / "d-gone.txt"
    for path in (keep, lines, drop):
        path.write_text("x")

    def record(path: str) -> DocRecord:
        return DocRecord(path, "t", path, "c", "r", 1, "v")

    removed = prune_uploads(uploads, [record(str(keep.resolve())), record(f"{lines.resolve()}:3")])
    assert removed == [drop]
    assert keep.exists() and lines.exists()
    assert (uploads / "incoming" / "job" / "0-waiting.txt").exists()
    assert os.listdir(uploads / "incoming") == ["job"]
