"""One time limit per question across all LLM calls (model lookup, rewrite, translation,
answer, retries), then the extractive answer, marked. The endpoint is the fake OpenAI
server, made to hang.

The elapsed-time bounds here are deliberately loose (about ten times the limit) and
still far below the old behaviour, where every step waited a full RAG_LLM_TIMEOUT per
attempt and retried twice: the per-call timeouts are set long (10-30 s) so the two
cannot be confused on a loaded 2-core machine. They do not measure speed."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply
from fixed_passages import chain_stream

from rag.core.config import Settings
from rag.core.types import Answer, Delta, Hit

pytestmark = pytest.mark.integration

S1 = "台積電今天公布第三季財報，營收達到新台幣7596億元，較去年同期成長36%。"
HITS = [Hit("c1", "d1", S1, "台積電第三季財報", "2024-10-17", "中央社")]
HISTORY = [("台積電第三季財報何時公布？", "台積電今天公布第三季財報。[1]")]
HANG = Reply(delay=60)  # far past any timeout here: the endpoint is hung


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Load the answerer's word segmenter and tagger (about 2 s cold) before any timing:
    the fallback answer runs after the limit, and the bounds are about the endpoint."""
    from rag.answer.chain import extractive_answer

    extractive_answer("台積電第三季營收是多少？", HITS)


def settings_for(url: str, **changes: object) -> Settings:
    base = Settings(llm_model="fake-model", llm_base_url=url, llm_api_key="k", llm_timeout=1.0)
    return dataclasses.replace(base, **changes)


def test_deadline_setting() -> None:
    assert Settings(llm_timeout=3.0).question_deadline == 4.5  # default: 1.5 x timeout
    settings = Settings.from_env({"RAG_LLM_DEADLINE": "12", "RAG_LLM_TIMEOUT": "3"})
    assert settings.question_deadline == 12.0
    with pytest.raises(ValueError, match="RAG_LLM_DEADLINE"):
        Settings.from_env({"RAG_LLM_DEADLINE": "soon"})


def test_hung_endpoint_follow_up_is_bounded_by_the_deadline(fake: FakeOpenAI, tmp_path: Path):
    """A follow-up makes two calls (rewrite, answer); with the endpoint hung both share
    one 1.5 s limit, then the extractive answer is shown, marked."""
    from ingest.pipeline import ingest
    from rag import Assistant

    corpus = tmp_path / "articles.jsonl"
    record = {"id": "a1", "title": "台積電第三季財報", "published": "2024-10-17", "text": S1}
    corpus.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    # Each call may wait 10 s; the question only 1.5 s.
    settings = settings_for(
        fake.url, db=tmp_path / "db", embedder="hash", llm_timeout=10.0, llm_deadline=1.5
    )
    ingest([corpus], settings)
    assistant = Assistant(settings)
    assistant.retriever.search("暖身", 1)  # load the indexes before timing
    fake.default = HANG
    start = time.monotonic()
    answer = assistant.ask("它的營收是多少？", history=HISTORY)
    elapsed = time.monotonic() - start
    assert elapsed < 15.0, elapsed  # about 1.5 s; without the limit 60 s (2 x 3 x 10 s)
    assert "time limit of 1.5 s reached" in answer.mode["llm"], answer.mode
    assert answer.mode["llm"].startswith("extractive fallback")
    assert any("time limit" in w for w in answer.warnings)
    assert len(fake.chat_requests()) <= 3
    # The fallback still answers: the follow-up was searched with the previous topic.
    assert not answer.refused and "7596億元" in answer.text


def test_stall_mid_stream_ends_at_the_deadline(fake: FakeOpenAI) -> None:
    """A stream that stalls is cut at the question's limit (1 s), not after the read
    timeout (30 s)."""
    fake.push(Reply(text=S1 + "[1]", stall_after=2, delay=60))
    settings = settings_for(fake.url, llm_timeout=30.0, llm_deadline=1.0)
    start = time.monotonic()
    *deltas, answer = chain_stream("台積電第三季營收是多少？", HITS, settings)
    elapsed = time.monotonic() - start
    assert elapsed < 10.0, elapsed  # about 1 s; the read timeout alone is 30 s
    assert len(deltas) == 2 and all(isinstance(d, Delta) for d in deltas)
    assert isinstance(answer, Answer) and "time limit of 1 s" in answer.mode["llm"]


def test_no_retry_starts_after_the_deadline(fake: FakeOpenAI) -> None:
    """Server errors are retried only while the question has time left."""
    from fake_openai import error

    fake.default = lambda body: Reply(status=503, delay=0.6, headers={"retry-after-ms": "10"})
    settings = settings_for(fake.url, llm_timeout=5.0, llm_deadline=1.0)
    *_, answer = chain_stream("台積電第三季營收是多少？", HITS, settings, max_retries=5)
    assert isinstance(answer, Answer) and answer.mode["llm"].startswith("extractive fallback")
    assert len(fake.chat_requests()) <= 2  # 0.6 s each: a third would end past 1 s
    fake.reset()
    fake.push(error(503))
    answer_ok = chain_stream("台積電第三季營收是多少？", HITS, settings)[-1]
    assert isinstance(answer_ok, Answer) and answer_ok.text == S1 + "[1]"  # one retry, in time
