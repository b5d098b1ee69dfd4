"""Asking end to end: the Python API and `rag ask`, over real stores built by ingest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.pipeline import ingest
from rag.core.config import Settings
from tests.shared_data import need

pytestmark = pytest.mark.integration

RAG = [sys.executable, "-m", "rag.cli"]

ARTICLES = [
    {
        "id": "policy",
        "title": "晶片出口新規上路",
        "published": "2025-03-02",
        "source": "甲報",
        "url": "https://news.example.com/a/1",
        "text": "商務部於3月1日宣布新的晶片出口規定。新規要求企業在出貨前30天提交申請。"
        "官員表示，此舉是為了保護國家安全。\n業者認為審查流程將拖慢交貨速度。",
    },
    {
        "id": "market",
        "title": "记忆体价格上涨",
        "published": "2025-06-10",
        "source": "乙报",
        "text": "研究机构指出，第二季记忆体合约价上涨百分之十五。分析师预估涨势将持续到年底。\n"
        "多家厂商表示库存已降至正常水准。",
    },
    {
        "id": "weather",
        "title": "颱風逼近",
        "published": "2024-09-01",
        "source": "甲報",
        "text": "氣象署發布海上颱風警報，預計週三最接近陸地。民眾應做好防颱準備。",
    },
]


@pytest.fixture(scope="module")
def store_db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ask")
    corpus = root / "articles.jsonl"
    corpus.write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in ARTICLES) + "\n", encoding="utf-8"
    )
    report = ingest([corpus], Settings.from_env({}, db=root / "db", embedder="hash"))
    assert report.added == 3
    return root / "db"


@pytest.fixture(scope="module")
def assistant(store_db):
    from rag import Assistant

    return Assistant(Settings.from_env({}, db=store_db))


def test_answer_cites_verbatim_quotes(assistant):
    answer = assistant.ask("企業要在出貨前幾天提交申請？")
    assert not answer.refused
    assert "30天" in answer.text
    assert answer.citations
    for c in answer.citations:
        context = answer.contexts[c.n - 1]
        assert context.text[c.quote_start : c.quote_end] == c.quote
        assert f"[{c.n}]" in answer.text
        assert c.title == context.title and c.doc_id == context.doc_id
    cited = answer.citations[0]
    assert (cited.source, cited.published, cited.url) == (
        "甲報",
        "2025-03-02",
        "https://news.example.com/a/1",
    )
    assert answer.mode["llm"].startswith("extractive")
    assert "hash" in answer.mode["embedder"]


def test_simplified_question_finds_traditional_article_and_keeps_its_script(assistant):
    answer = assistant.ask("商务部在几月几日宣布新的芯片出口规定？")
    assert not answer.refused
    assert "3月1日" in answer.text
    assert "商務部" in answer.text  # quoted as written, not converted


def test_question_the_articles_cannot_answer_is_refused(assistant):
    for question in (
        "商務部在2023年宣布了什麼規定？",
        "颱風造成多少人受傷？",
        "誰贏得了足球比賽？",
    ):
        answer = assistant.ask(question)
        assert answer.refused, (question, answer.text)
        assert not answer.citations


def test_filters_restrict_dates_and_outlets(assistant):
    hits = assistant.retriever.search("价格 申請 颱風", k=5)
    assert {h.doc_id for h in hits} and len({h.doc_id for h in hits}) == 3
    from rag.retrieval.hybrid import Filters

    only_2025 = assistant.retriever.search(
        "价格 申請 颱風", k=5, filters=Filters(since="2025-01-01")
    )
    assert only_2025 and all(h.published >= "2025-01-01" for h in only_2025)
    only_jia = assistant.retriever.search("价格 申請 颱風", k=5, filters=Filters(sources=("甲報",)))
    assert only_jia and all(h.source == "甲報" for h in only_jia)


def test_follow_up_uses_the_previous_question(assistant):
    first = "记忆体合约价上涨多少？"
    answer = assistant.ask("那库存呢？", history=[(first, "")])
    assert not answer.refused
    assert "库存已降至正常水准" in answer.text


def test_bad_questions_are_clear_errors(assistant):
    from rag.assistant import QuestionError

    with pytest.raises(QuestionError, match="empty"):
        assistant.ask("   ")
    with pytest.raises(QuestionError, match="10,000 characters"):
        assistant.ask("問" * 10_000)


def test_module_level_ask(store_db):
    from rag import ask

    answer = ask("颱風預計哪一天最接近陸地？", db=store_db)
    assert not answer.refused and "週三" in answer.text


def test_rag_ask_batch_json_contract(store_db):
    questions = "企業要在出貨前幾天提交申請？\n商務部在2023年宣布了什麼規定？\n\n"
    done = subprocess.run(
        [*RAG, "ask", "--db", str(store_db), "--json"],
        input=questions,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["refused"] for r in rows] == [False, True]
    first = rows[0]
    assert set(first) >= {"question", "answer", "refused", "citations", "contexts", "mode"}
    assert set(first["mode"]) == {"embedder", "retrieval", "llm"}
    cite = first["citations"][0]
    assert set(cite) >= {"n", "doc_id", "title", "source", "published", "url", "quote"}
    assert cite["quote"] in first["contexts"][cite["n"] - 1]["text"]
    assert set(first["contexts"][0]) >= {"rank", "doc_id", "chunk_id", "title", "text", "score"}


def test_sample_pages_answers_and_furniture_refusals(tmp_path):
    from rag import Assistant

    db = tmp_path / "db"
    ingest([need("corpus")], Settings.from_env({}, db=db, embedder="hash"))
    assistant = Assistant(Settings.from_env({}, db=db))
    answered = assistant.ask("川普透過哪個平台宣佈允許H200出口？")
    assert "Truth Social" in answered.text and answered.citations
    # Only the page furniture (headline lists, widgets) mentions these.
    for question in ("比洗衣精更好用的神器是什麼？", "165打詐儀錶板顯示的損失金額是多少？"):
        assert assistant.ask(question).refused


def test_english_question_over_chinese_articles_offline(assistant):
    answer = assistant.ask("When did the Commerce Department announce the new chip export rules?")
    assert not answer.refused, answer.mode
    assert "3月1日" in answer.text
    assert answer.text.startswith("From the retrieved articles")
    refused = assistant.ask("How many people were injured by the typhoon?")
    assert refused.refused and refused.text.startswith("The articles do not contain")


def test_glossary_translation_keeps_names_and_codes():
    from rag.analysis.glossary import translate_question

    t = translate_question("Why did Beijing restrict H20 exports, according to CNBC?")
    assert t is not None
    assert t.analysis.split() == ["为什么", "北京", "限制", "H20", "出口", "CNBC"]
    assert translate_question("Lorem ipsum dolor") is None


def test_regional_variants_bridge_vocabulary_and_names():
    from rag.core.text.fold import variants

    assert "晶片" in variants("芯片")
    assert "芯片" in variants("晶片")
    assert any("川普" in v for v in variants("特朗普政府"))
    assert variants("芯片")[0] == "芯片"


def test_assistant_sees_articles_ingested_after_it_started(tmp_path):
    from rag import Assistant

    settings = Settings.from_env({}, db=tmp_path / "db", embedder="hash")
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps(ARTICLES[0], ensure_ascii=False) + "\n", encoding="utf-8")
    ingest([first], settings)
    assistant = Assistant(settings)
    assert assistant.ask("颱風預計哪一天最接近陸地？").refused
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps(ARTICLES[2], ensure_ascii=False) + "\n", encoding="utf-8")
    ingest([later], settings)
    assert "週三" in assistant.ask("颱風預計哪一天最接近陸地？").text


def test_langchain_retriever_adapter_returns_documents_with_hit_fields(assistant):
    from rag.retrieval.hybrid import as_langchain_retriever

    retriever = as_langchain_retriever(assistant.retriever, k=2)
    docs = retriever.invoke("企業要在出貨前幾天提交申請？")
    assert 1 <= len(docs) <= 2
    assert "30天" in docs[0].page_content
    assert docs[0].metadata["title"] == "晶片出口新規上路" and docs[0].metadata["rank"] == 1


def test_cross_encoder_reranker_runs_in_retrieval(store_db, tiny_cross_encoder):
    from rag import Assistant

    settings = Settings.from_env({}, db=store_db, reranker=str(tiny_cross_encoder))
    retriever = Assistant(settings).retriever
    assert "cross-encoder" in retriever.describe()
    hits = retriever.search("記憶體價格", k=3)
    assert hits and [h.rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    expected = retriever._reranker.score("記憶體價格", [h.text for h in hits])
    # Each hit carries its own cross-encoder score (hit order, not merely the same set).
    assert [round(float(s), 5) for s in expected] == [round(s, 5) for s in scores]


def test_bad_k_and_bad_dates_are_clear_errors(assistant, store_db):
    from rag.assistant import QuestionError
    from rag.retrieval.hybrid import Filters

    for k in (0, -3):
        with pytest.raises(QuestionError, match="k must be at least 1"):
            assistant.ask("企業要在出貨前幾天提交申請？", k=k)
    with pytest.raises(ValueError, match="not a valid ISO date"):
        assistant.retriever.search("申請", k=3, filters=Filters(since="2025-13-45"))
    done = subprocess.run(
        [*RAG, "ask", "--db", str(store_db), "--since", "2025-02-30", "申請"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "not a valid ISO date" in done.stderr


def test_settings_repr_hides_secrets():
    settings = Settings.from_env(
        {"OPENAI_API_KEY": "sk-live-123", "OPENAI_BASE_URL": "http://bob:hunter2@llm.local/v1"}
    )
    shown = repr(settings)
    assert "sk-live-123" not in shown and "hunter2" not in shown and "llm.local" in shown


def test_rag_ask_with_an_empty_question_is_an_error_not_a_read_of_stdin(store_db):
    for given in ("", "   "):
        done = subprocess.run(
            [*RAG, "ask", "--db", str(store_db), given],
            input="企業要在出貨前幾天提交申請？\n",
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stdout
        assert done.stdout == ""
        assert "empty question" in done.stderr and "stdin" in done.stderr


def _small_store(root: Path) -> Settings:
    corpus = root / "articles.jsonl"
    corpus.write_text(
        "\n".join(json.dumps(a, ensure_ascii=False) for a in ARTICLES) + "\n", encoding="utf-8"
    )
    settings = Settings.from_env({}, db=root / "db", embedder="hash")
    ingest([corpus], settings)
    return settings


def test_opening_a_retriever_starts_the_warm_up(tmp_path):
    from rag.core import store as store_module
    from rag.retrieval.hybrid import HybridRetriever

    settings = _small_store(tmp_path)
    retriever = HybridRetriever.open(settings)
    warming = store_module._WARMING[retriever.store._generation_key()]
    assert warming.name == "chroma-warm"
    retriever.store.warm()  # once per collection and process
    assert store_module._WARMING[retriever.store._generation_key()] is warming
    assert retriever.search("晶片出口規定", k=1)[0].title == "晶片出口新規上路"


def test_every_store_over_the_collection_waits_for_the_warm_up(tmp_path):
    """The warm-up's query is held back here: a search through another Store over the
    same collection (as the UI's ReaderStore makes) must wait for it, not race it into
    a second load of the index, and then answer as a cold store does."""
    import threading

    from rag.core.store import Store

    settings = _small_store(tmp_path)
    cold = Store.open(settings, create=False)
    vector = cold.embedder.embed_query("晶片出口規定")
    expected = cold.dense_search(vector, 3)
    assert expected and expected[0][2].startswith("商務部於3月1日宣布新的晶片出口規定")

    gate = threading.Event()
    warming = Store.open(settings, create=False)
    chunks = warming.chunks

    class Held:  # the warm-up's query (include=[]) waits for the gate
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(chunks, name)

        def query(self, **kwargs):  # type: ignore[no-untyped-def]
            if kwargs.get("include") == []:
                gate.wait(30)
            return chunks.query(**kwargs)

    warming.chunks = Held()
    warming.warm()
    other = Store.open(settings, create=False)
    found: list = []
    search = threading.Thread(target=lambda: found.append(other.dense_search(vector, 3)))
    search.start()
    search.join(0.5)
    assert search.is_alive() and not found  # waiting for the warm-up
    gate.set()
    search.join(30)
    assert found == [expected]
