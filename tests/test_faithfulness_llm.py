"""The LLM path verifies its answer with the judge's typed checks (issue 12): an answer
that flips a source's meaning, given by the fake LLM, comes back through ``Assistant``
with that citation unverified, the flip's type and reason, and the UI marks the
sentence. Synthetic article (invented text)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply

from ingest.pipeline import ingest
from rag.core.config import Settings

pytestmark = pytest.mark.integration

ARTICLE = {
    "id": "harbor",
    "title": "星海港務公司說明營運",
    "text": "星海港務公司董事會昨天表示，公司並未裁員，第三季營收小幅成長。"
    "公司正考慮在南港興建新碼頭。",
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faithful")
    corpus = root / "articles.jsonl"
    corpus.write_text(json.dumps(ARTICLE, ensure_ascii=False) + "\n", encoding="utf-8")
    assert ingest([corpus], Settings.from_env({}, db=root / "db", embedder="hash")).added == 1
    return root / "db"


def ask(fake: FakeOpenAI, db: Path, reply: str):  # type: ignore[no-untyped-def]
    from rag import Assistant

    settings = Settings.from_env(
        {}, db=db, llm_model="fake-model", llm_base_url=fake.url, llm_api_key="k", llm_timeout=5.0
    )
    fake.push(Reply(text=reply))
    return Assistant(settings).ask("星海港務公司有裁員嗎？")


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("星海港務公司已裁員。[1]", "negation"),
        ("星海港務公司第三季營收大幅成長。[1]", "degree"),
        ("星海港務公司已決定在南港興建新碼頭。[1]", "modality"),
    ],
)
def test_flipped_llm_sentence_is_unverified_with_its_type(
    fake: FakeOpenAI, db: Path, reply: str, kind: str
) -> None:
    from ui.i18n import EN, t
    from ui.render import render_answer

    answer = ask(fake, db, reply)
    assert not answer.refused and "[1]" in answer.text  # kept, marked unverified
    flagged = [c for c in answer.citations if not c.supported]
    assert flagged and flagged[0].type == kind and flagged[0].reason
    assert flagged[0].claim == reply.replace("[1]", "")
    assert any(kind in w for w in answer.warnings)
    html = render_answer(answer, 1, EN)
    assert 'class="unsupported-claim"' in html and t(EN, f"kind_{kind}") in html


def test_faithful_llm_sentence_stays_verified(fake: FakeOpenAI, db: Path) -> None:
    answer = ask(fake, db, "星海港務公司並沒有裁員。[1]")
    assert answer.citations and all(c.supported for c in answer.citations)
    assert not any(c.type for c in answer.citations)
