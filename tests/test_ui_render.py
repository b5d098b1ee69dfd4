"""Pure parts of the web UI: escaping, highlights, citation links, refusals, checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.core.types import Answer, Citation, Hit
from ui import render
from ui.corpus import accept_uploads, check_upload, safe_name
from ui.feedback import FeedbackLog, answer_record, rating_name
from ui.i18n import EN, STRINGS, ZH, lang_from_accept, t
from ui.serve import ServeError, check_bind, is_loopback, parse_auth, serve

pytestmark = pytest.mark.unit

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PASSAGE = "第一句說明背景。第二句是答案：平台叫做<b>真相</b>。第三句無關。"


def hit(n: int = 1, text: str = PASSAGE, **extra: object) -> Hit:
    fields = {"title": f"標題{n}", "source": "測試報", "published": "2025-01-02T03:04:05"}
    fields.update(extra)
    return Hit(chunk_id=f"d{n}:v:0", doc_id=f"d{n}", text=text, **fields)  # type: ignore[arg-type]


def cite(n: int, passage: str, quote: str, **extra: object) -> Citation:
    start = passage.find(quote)
    values = {"quote_start": start, "quote_end": start + len(quote), **extra}
    return Citation(
        n=n,
        doc_id=f"d{n}",
        chunk_id=f"d{n}:v:0",
        title=f"標題{n}",
        source="測試報",
        published="2025-01-02",
        url=None,
        quote=quote,
        **values,  # type: ignore[arg-type]
    )


def test_escape_everything_from_users_and_articles() -> None:
    html = render.render_user(SCRIPT)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    card = render.render_source_card(1, 1, hit(title=SCRIPT, source=SCRIPT, text=SCRIPT), [], EN)
    assert "<script" not in card and "<img" not in card
    assert render.esc(None) == ""
    assert render.esc('"q"') == "&quot;q&quot;"


def test_highlight_merges_clamps_and_escapes() -> None:
    assert render.highlight("abcdef", [(1, 3), (2, 4)]) == "a<mark>bcd</mark>ef"
    assert render.highlight("abc", [(-5, 1), (2, 99)]) == "<mark>a</mark>b<mark>c</mark>"
    assert render.highlight("abc", [(2, 2), (3, 1)]) == "abc"  # empty/reversed spans
    assert render.highlight("<a>", [(0, 3)]) == "<mark>&lt;a&gt;</mark>"
    assert render.highlight("x\ny", []) == "x<br>y"


def test_quote_span_uses_offsets_else_finds_the_quote() -> None:
    quote = "第二句是答案：平台叫做<b>真相</b>。"
    good = cite(1, PASSAGE, quote)
    assert PASSAGE[slice(*render.quote_span(PASSAGE, good))] == quote
    shifted = cite(1, PASSAGE, quote, quote_start=0, quote_end=len(quote))
    assert render.quote_span(PASSAGE, shifted) == render.quote_span(PASSAGE, good)
    missing = cite(1, PASSAGE, "不存在的句子", quote_start=-1, quote_end=-1)
    assert render.quote_span(PASSAGE, missing) is None


def test_source_card_marks_the_quote_escaped() -> None:
    quote = "第二句是答案：平台叫做<b>真相</b>。"
    card = render.render_source_card(3, 1, hit(), [cite(1, PASSAGE, quote)], ZH)
    assert "<mark>第二句是答案：平台叫做&lt;b&gt;真相&lt;/b&gt;。</mark>" in card
    assert 'id="src-3-1"' in card
    assert "測試報" in card and "2025-01-02 03:04" in card
    unverified = render.render_source_card(
        3, 1, hit(), [cite(1, PASSAGE, quote, supported=False)], EN
    )
    assert t(EN, "unverified") in unverified


def test_links_only_to_safe_urls() -> None:
    assert render.safe_url("https://example.com/a?b=1") == "https://example.com/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil", "", None):
        assert render.safe_url(bad) is None
    card = render.render_source_card(1, 1, hit(url="javascript:alert(1)"), [], EN)
    assert "javascript:" not in card
    card = render.render_source_card(1, 1, hit(url="https://example.com/x"), [], EN)
    assert 'href="https://example.com/x"' in card and 'rel="noopener noreferrer"' in card


def test_citation_markers_become_links() -> None:
    html = render.link_markers("甲[1]乙[1，2]丙[2、1]丁[7]<i>[x]</i>", turn=4, n_sources=2)
    assert html.count('class="cite"') == 5
    assert 'href="#src-4-1"' in html and 'href="#src-4-2"' in html
    assert "[7]" in html and "#src-4-7" not in html  # out of range: plain text
    assert "&lt;i&gt;" in html


def test_unsupported_llm_sentence_is_marked_with_its_reason() -> None:
    """An LLM answer's sentence the check could not verify is marked in the answer,
    with the kind of flip and the reason; the supported one is not; all escaped."""
    passage = "星海公司表示，公司並未裁員。"
    flagged = cite(
        1,
        passage,
        passage,
        supported=False,
        claim="星海公司已裁員<b>。",
        type="negation",
        reason="the claim drops the source's negation (并未)",
    )
    answer = Answer(
        text="星海公司已裁員<b>。[1] 公司維持營運。[1]",
        refused=False,
        citations=[flagged, cite(1, passage, passage)],
        contexts=[hit(1, passage)],
    )
    html = render.render_answer(answer, 3, ZH)
    assert html.count('class="unsupported-claim"') == 1
    marked = html.split('class="unsupported-claim"')[1].split("</span>")[0]
    assert "星海公司已裁員&lt;b&gt;。" in marked and "公司維持營運" not in marked
    assert t(ZH, "kind_negation") in html and "并未" in html
    assert 'href="#src-3-1"' in html  # the markers are still links
    assert "<b>" not in html
    plain = render.render_answer(Answer("公司維持營運。[1]", False, [cite(1, passage, passage)],
                                        [hit(1, passage)]), 3, EN)  # fmt: skip
    assert "unsupported-claim" not in plain and "claim-flag" not in plain


def test_answer_and_refusal_look_different() -> None:
    quote = "第二句是答案：平台叫做<b>真相</b>。"
    answer = Answer(
        text=f"{quote}[1]", refused=False, citations=[cite(1, PASSAGE, quote)], contexts=[hit()]
    )
    html = render.render_answer(answer, 1, EN)
    assert html.startswith('<div class="answer">') and "refusal" not in html
    assert 'href="#src-1-1"' in html and "copy-answer" in html
    refusal = Answer(text=STRINGS[ZH]["refused"], refused=True, contexts=[hit(1), hit(2)])
    html = render.render_answer(refusal, 2, ZH)
    assert html.startswith('<div class="refusal"')
    assert t(ZH, "possibly_related") in html
    assert 'href="#src-2-1"' in html and 'href="#src-2-2"' in html
    # Both related passages are in the sources panel so their links open something.
    panel = render.render_sources([render.Turn(2, "問題", refusal)], ZH)
    assert 'id="src-2-1"' in panel and 'id="src-2-2"' in panel


def test_sources_panel_keeps_turns_and_marks_latest() -> None:
    quote = "第三句無關。"
    answer = Answer(
        text=f"{quote}[1]", refused=False, citations=[cite(1, PASSAGE, quote)], contexts=[hit()]
    )
    panel = render.render_sources([render.Turn(1, "q1", answer), render.Turn(2, "q2", answer)], EN)
    assert panel.count('class="src-turn') == 2
    assert '<div class="src-turn latest" data-turn="2">' in panel
    assert "<mark>第三句無關。</mark>" in panel
    assert "empty" in render.render_sources([], EN)


def test_status_line_names_the_mode() -> None:
    mode = {"embedder": "hash", "retrieval": "hybrid", "llm": "extractive (no LLM configured)"}
    html = render.render_status(mode, 2, 10, "2026-01-02T03:04:05+00:00", EN)
    assert "extractive: no LLM configured" in html and "2 documents, 10 chunks" in html
    assert "2026-01-02 03:04" in html
    assert t(ZH, "never") in render.render_status(mode, 0, 0, None, ZH)


def test_interface_language_follows_accept_language() -> None:
    assert lang_from_accept("zh-TW,zh;q=0.9,en;q=0.8") == ZH
    assert lang_from_accept("zh-CN") == ZH
    assert lang_from_accept("en-US,en;q=0.9,zh-TW;q=0.8") == EN
    assert lang_from_accept("fr-FR,zh-HK;q=0.5") == ZH
    assert lang_from_accept("") == EN and lang_from_accept(None) == EN
    assert STRINGS[EN].keys() == STRINGS[ZH].keys()


def test_corpus_rows_filter_and_sort() -> None:
    class Rec:
        def __init__(self, doc_id: str, title: str, source: str | None, published: str | None):
            self.doc_id, self.title, self.source, self.published = doc_id, title, source, published
            self.n_chunks, self.path = 3, f"/x/{doc_id}.txt"

    records = [Rec("a", "輝達新聞", "甲報", "2025-01-01"), Rec("b", "Other", None, "2025-02-01")]
    assert [r[4] for r in render.corpus_rows(records)] == ["b", "a"]
    assert [r[4] for r in render.corpus_rows(records, "甲報")] == ["a"]
    assert render.corpus_rows(records, "nothing") == []


def test_upload_checks(tmp_path: Path) -> None:
    good = tmp_path / "新聞.md"
    good.write_text("# 標題\n\n內容。", encoding="utf-8")
    assert check_upload(good, good.name, 1, EN) is None
    binary = tmp_path / "fake.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 10)
    assert "binary" in check_upload(binary, binary.name, 1, EN)
    big = tmp_path / "big.txt"
    big.write_text("字" * 400_000, encoding="utf-8")  # 1.2 MB
    assert "MB limit" in check_upload(big, big.name, 1, EN)
    pdf = tmp_path / "x.pdf"
    pdf.write_text("x")
    assert "not accepted" in check_upload(pdf, pdf.name, 1, EN)
    empty = tmp_path / "e.txt"
    empty.write_text("")
    assert "empty" in check_upload(empty, empty.name, 1, EN)
    # Files outside Gradio's upload folder are copied, never moved or deleted.
    accepted = accept_uploads([good, binary, pdf], tmp_path / "job", 1, ZH, temp_root=None)
    assert [name for name, _ in accepted.files] == ["新聞.md"] and len(accepted.errors) == 2
    assert good.exists() and binary.exists() and pdf.exists()
    # Gradio's copies (under its folder): accepted ones moved, refused ones deleted.
    temp = tmp_path / "gradio"
    copies = []
    for i, path in enumerate((good, binary)):
        (temp / str(i)).mkdir(parents=True)
        copies.append(temp / str(i) / path.name)
        copies[-1].write_bytes(path.read_bytes())
    gone = temp / "9" / "gone.txt"
    accepted = accept_uploads([*copies, gone], tmp_path / "job2", 1, EN, temp_root=temp)
    assert [p.read_bytes() for _, p in accepted.files] == [good.read_bytes()]
    assert "binary" in accepted.errors[0] and "gone" in accepted.errors[1]
    assert not any(temp.rglob("*"))  # files and their per-upload folders
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("a b<c>.md") == "a_b_c_.md"


def test_feedback_is_appended_as_jsonl(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "db" / "feedback.jsonl")
    quote = "第三句無關。"
    answer = Answer(
        text=f"{quote}[1]", refused=False, citations=[cite(1, PASSAGE, quote)], contexts=[hit()]
    )
    record = answer_record("問題？", answer)
    log.add(record, "up")
    log.add(record, rating_name(False), "  不準確  ")
    lines = [json.loads(x) for x in (tmp_path / "db" / "feedback.jsonl").read_text().splitlines()]
    assert [x["rating"] for x in lines] == ["up", "down"]
    assert lines[1]["comment"] == "不準確" and lines[1]["id"] == lines[0]["id"]
    assert lines[0]["question"] == "問題？" and lines[0]["citations"][0]["quote"] == quote
    assert {"timestamp", "answer", "citations", "rating", "comment"} <= lines[0].keys()
    assert rating_name(True) == "up" and rating_name("Dislike") == "down"


def test_serve_refuses_open_bind_without_auth(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RAG_AUTH", raising=False)
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ServeError, match="--auth"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", ("u", "p"))
    check_bind("127.0.0.1", None)
    assert parse_auth("alice:s3:cret") == ("alice", "s3:cret")
    with pytest.raises(ServeError):
        parse_auth("alice")
    from rag.core.config import Settings

    settings = Settings.from_env({"RAG_AUTH": "bob:pw"})
    assert parse_auth(settings.auth) == ("bob", "pw") and "pw" not in repr(settings)
    assert serve(Settings(), host="0.0.0.0", port=1) == 2
    assert "refusing to serve on 0.0.0.0" in capsys.readouterr().err
    assert serve(Settings(auth="bob"), host="0.0.0.0", port=1) == 2  # the login is read
    assert "must look like user:password" in capsys.readouterr().err


def test_upload_jobs_render_progress_and_results_escaped() -> None:
    from ui.jobs import Job, JobResult, Upload

    job = Job("s", [Upload("<script>x</script>.txt", Path("p"))], total=400)
    assert "<progress" in render.render_jobs([job], EN) and "starting" in render.render_job(job, EN)
    job.ahead = 2
    assert "2 upload(s) ahead" in render.render_job(job, EN)
    job.state, job.done = "running", 100
    html = render.render_job(job, ZH)
    assert 'value="100" max="400"' in html and "100／400" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    job.state = "done"
    job.result = JobResult(
        added=1,
        failed=[("a.jsonl:2", "invalid <JSON>")],
        outcome=("replaced", {"old": "甲", "new": "乙"}),
    )
    html = render.render_job(job, EN)
    assert "Replaced “甲” with “乙”" in html and "1 added" in html
    assert "a.jsonl:2: invalid &lt;JSON&gt;" in html and "<progress" not in html
    job.state, job.error = "failed", "MemoryError"
    assert "error-box" in render.render_job(job, EN) and "MemoryError" in render.render_job(job, EN)
    jobs = [Job("s", [Upload(f"f{i}.txt", Path("p"))]) for i in range(9)]
    assert render.render_jobs(jobs, EN).count('class="job ') == render.JOBS_SHOWN
    assert render.render_jobs([], EN) == ""


def test_feedback_comment_cap(tmp_path: Path) -> None:
    from ui.feedback import MAX_COMMENT_CHARS, CommentTooLong

    log = FeedbackLog(tmp_path / "feedback.jsonl")
    record = {"id": "x", "question": "q"}
    with pytest.raises(CommentTooLong) as caught:
        log.add(record, "down", "字" * (MAX_COMMENT_CHARS + 1))
    assert caught.value.length == MAX_COMMENT_CHARS + 1 and log.read() == []
    log.add(record, "down", f"  {'字' * MAX_COMMENT_CHARS}  ")  # spaces do not count
    assert len(log.read()[0]["comment"]) == MAX_COMMENT_CHARS


def test_upload_check_and_ingest_agree_on_binary(tmp_path: Path) -> None:
    """One sniffing rule: what `rag ingest` reads as text the upload check accepts, and
    what the upload check refuses as binary ingest refuses too."""
    import codecs

    import pytest

    from ingest.decode import DecodeError, decode_bytes

    utf16 = tmp_path / "utf16.txt"  # UTF-16 is full of NUL bytes; its byte-order mark says text
    utf16.write_bytes(codecs.BOM_UTF16_LE + "新聞內容。".encode("utf-16-le"))
    assert decode_bytes(utf16.read_bytes()) == "新聞內容。"
    assert check_upload(utf16, utf16.name, 1, EN) is None
    noisy = tmp_path / "noisy.txt"  # 7.7% control bytes
    noisy.write_bytes(("新聞內容".encode() + b"\x01") * 10)
    assert "binary" in check_upload(noisy, noisy.name, 1, EN)
    with pytest.raises(DecodeError, match="control bytes"):
        decode_bytes(noisy.read_bytes())
