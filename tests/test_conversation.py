"""Conversations and languages: a follow-up is merged with the previous topic only when
it is one (not by length), an LLM rewrite that loses the question's key terms is not
used, the answer's language is the user's question's, and Japanese or Korean questions
are told, in English, that their language is not supported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply

from ingest.pipeline import ingest
from rag.core.config import Settings
from rag.core.types import REFUSAL_ZH_HANS, REFUSAL_ZH_HANT

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
RAG = [sys.executable, "-m", "rag.cli"]
# Invented articles, one Simplified, one Traditional.
ARTICLES = [
    {
        "id": "market",
        "title": "记忆体价格上涨",
        "text": "研究机构指出，第二季记忆体合约价上涨百分之十五。分析师预估涨势将持续到年底。\n"
        "多家厂商表示库存已降至正常水准。",
    },
    {
        "id": "weather",
        "title": "颱風逼近",
        "text": "氣象署發布海上颱風警報，預計週三最接近陸地。民眾應做好防颱準備。",
    },
]
MEMORY = [("记忆体合约价上涨多少？", "研究机构指出，第二季记忆体合约价上涨百分之十五。[1]")]
JAPANESE = "台湾の半導体輸出はどうなりましたか？"
KOREAN = "대만의 반도체 수출은 어떻게 되었나요?"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("conversation")
    corpus = root / "articles.jsonl"
    corpus.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8"
    )
    assert ingest([corpus], Settings.from_env({}, db=root / "db", embedder="hash")).added == 2
    return root / "db"


@pytest.fixture(scope="module")
def assistant(db: Path):  # type: ignore[no-untyped-def]
    from rag import Assistant

    return Assistant(Settings.from_env({}, db=db))


# --- offline: merge only real follow-ups --------------------------------------------------


@pytest.mark.parametrize("question", ["颱風何時最接近陸地？", "民眾應做什麼準備？"])
def test_short_new_question_is_not_merged_with_the_previous_topic(assistant, question: str):
    """Short (12 characters or fewer) but about something else: it stands alone, the
    typhoon article ranks first, and the answer is in the question's Traditional script."""
    answer = assistant.ask(question, history=MEMORY)
    assert not answer.refused, answer.text
    assert answer.contexts[0].title == "颱風逼近"
    assert answer.text.startswith("根據檢索到的文章")


def test_refusal_follows_the_question_script_not_the_merged_text(assistant) -> None:
    answer = assistant.ask("它造成多少人受傷？", history=[("颱風預計哪天最接近陸地？", "")])
    assert answer.refused and answer.text == REFUSAL_ZH_HANT
    answer = assistant.ask("它造成多少人受伤？", history=[("颱風預計哪天最接近陸地？", "")])
    assert answer.refused and answer.text == REFUSAL_ZH_HANS


def test_real_follow_ups_are_still_merged(assistant) -> None:
    answer = assistant.ask("那库存呢？", history=MEMORY)
    assert not answer.refused and "库存已降至正常水准" in answer.text
    answer = assistant.ask("民眾應做什麼？", history=[("颱風預計哪天最接近陸地？", "")])
    assert not answer.refused and "防颱準備" in answer.text


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [
        ("它的營收是多少？", True),  # pronoun, nothing named
        ("那库存呢？", True),  # opens with 那
        ("營收呢？", True),  # X呢？
        ("為什麼？", True),  # no subject at all
        ("什麼時候發生的？", True),  # a bare predicate
        ("What about Nvidia?", True),
        ("When did it happen?", True),
        ("Why?", True),
        ("颱風何時最接近陸地？", False),
        ("民眾應做什麼準備？", False),
        ("誰贏得了足球比賽？", False),
        ("How many people were injured by the typhoon?", False),
        ("Nvidia said its revenue grew by how much?", False),  # names its own subject
    ],
)
def test_is_follow_up(question: str, follow_up: bool) -> None:
    from rag.analysis.followup import is_follow_up

    assert is_follow_up(question) is follow_up


# --- with an LLM: the rewrite must keep the question ---------------------------------------


def llm_settings(url: str, db: Path) -> Settings:
    return Settings.from_env(
        {}, db=db, llm_model="fake-model", llm_base_url=url, llm_api_key="k", llm_timeout=5.0
    )


def test_rewrite_that_drops_the_key_terms_is_not_used(fake: FakeOpenAI, db: Path) -> None:
    from rag import Assistant

    question = "颱風預計哪一天最接近陸地？"
    fake.push(Reply(text="记忆体合约价第三季上涨多少？"))  # the rewrite: another question
    answer = Assistant(llm_settings(fake.url, db)).ask(question, history=MEMORY)
    rewrite, final = fake.chat_requests()
    assert "standalone question" in rewrite.text("system")
    assert f"<question>{question}</question>" in final.text("user")
    assert "The question is in Traditional Chinese" in final.text("user")
    assert not answer.refused and "週三" in answer.text


def test_rewrite_that_keeps_the_key_terms_is_used(fake: FakeOpenAI) -> None:
    from rag.answer.rewrite import rewrite_question

    settings = llm_settings(fake.url, Path("unused"))
    fake.push(Reply(text="记忆体的库存呢？"))
    assert rewrite_question("那库存呢？", MEMORY, settings) == "记忆体的库存呢？"
    fake.push(Reply(text="好的，我明白了。"))
    assert rewrite_question("那库存呢？", MEMORY, settings) == "那库存呢？"
    fake.push(Reply(text="颱風在2023年何時登陸？"))  # a year the question did not ask
    assert rewrite_question("颱風在2024年何時登陸？", MEMORY, settings) == "颱風在2024年何時登陸？"


# --- Japanese and Korean -----------------------------------------------------------------


@pytest.mark.parametrize(("question", "language"), [(JAPANESE, "Japanese"), (KOREAN, "Korean")])
def test_unsupported_language_is_said_in_english(assistant, question: str, language: str):
    answer = assistant.ask(question)
    assert answer.refused and not answer.citations and not answer.contexts
    assert answer.text.startswith(f"Questions in {language} are not supported.")
    assert "Chinese" in answer.text and "English" in answer.text
    assert set(answer.mode) >= {"embedder", "retrieval", "llm"}


@pytest.mark.parametrize(
    "question",
    [
        "東京証券取引所的成交額是多少？",  # kanji shared with Japanese, no kana
        "《君の名は》的導演是誰？",  # a Japanese title in quotes
        "ユニクロ在台灣有幾家店？",  # a brand in katakana
        "小確幸の生活是什麼意思？",  # one の used as 的
    ],
)
def test_chinese_with_japanese_characters_is_still_chinese(question: str) -> None:
    from rag.core.text.lang import unsupported_language

    assert unsupported_language(question) is None


def test_unsupported_language_calls_no_llm_and_reaches_the_cli(fake: FakeOpenAI, db: Path):
    from rag import Assistant

    answer = Assistant(llm_settings(fake.url, db)).ask(JAPANESE)
    assert answer.text.startswith("Questions in Japanese are not supported.")
    assert not fake.requests
    done = subprocess.run(
        [*RAG, "ask", "--db", str(db), "--json"],
        input=f"{KOREAN}\n",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["refused"] and row["answer"].startswith("Questions in Korean are not supported.")
