"""Judges: the lexical judge catches changed facts and negations; the NLI judge loads a
local 3-label cross-encoder; the LLM judge talks to a fake OpenAI-compatible server."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.judges import (
    JudgeError,
    JudgeUnavailable,
    LexicalJudge,
    LLMJudge,
    NLIJudge,
    answer_sentences,
    judge_answer,
    make_judge,
    parse_claims,
    verdicts_json,
)
from rag.core.config import Settings

pytestmark = pytest.mark.integration

# Synthetic text (not from any real article).
PASSAGE = (
    "星河市网信办7月31日召见蓝湾科技高层，要求说明芯片的安全问题。"
    "蓝湾科技首席执行官陈思远表示，公司产品没有任何后门。"
    "该公司去年营收为42亿元，员工三千人。"
)
OTHER = "北岭县气象局表示，今年夏季降雨量比往年少三成，县里已启动抗旱应急响应。"


@pytest.fixture(scope="module")
def lexical() -> LexicalJudge:
    return LexicalJudge()


def test_lexical_supports_verbatim_and_traditional(lexical: LexicalJudge) -> None:
    assert lexical.check("星河市网信办7月31日召见蓝湾科技高层。", [PASSAGE]).supported
    traditional = "星河市網信辦7月31日召見藍灣科技高層。"
    assert lexical.check(traditional, [PASSAGE]).supported


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("星河市网信办8月31日召见蓝湾科技高层。", "date"),
        ("星河市網信辦7月30日召見藍灣科技高層。", "date"),
        ("该公司去年营收为24亿元。", "number"),
        ("蓝湾科技首席执行官陈思远表示，公司产品有后门。", "negation"),
        ("星河市网信办7月31日没有召见蓝湾科技高层。", "negation"),
        ("蓝湾科技首席执行官王建国表示，公司产品没有任何后门。", "name"),
    ],
)
def test_lexical_catches_changed_facts(lexical: LexicalJudge, claim: str, why: str) -> None:
    verdict = lexical.check(claim, [PASSAGE])
    assert not verdict.supported, (why, verdict.reason)
    assert verdict.score == 0.0


def test_lexical_quantity_and_place(lexical: LexicalJudge) -> None:
    assert not lexical.check("该公司去年营收为42亿元，员工五千人。", [PASSAGE]).supported
    assert not lexical.check("南岭县气象局表示，今年夏季降雨量比往年少三成。", [OTHER]).supported
    assert lexical.check("北岭县气象局表示，今年夏季降雨量比往年少三成。", [OTHER]).supported


def test_lexical_negation_in_another_clause_is_fine(lexical: LexicalJudge) -> None:
    source = "中国选手张明以0比2不敌对手，止步大师赛八强。"
    assert lexical.check("止步大师赛八强。", [source]).supported


def test_answer_sentences_markers_and_lead_in() -> None:
    text = "根据检索到的文章：\n大桥5月20日通车。[1]\n营收增长17.5%[2][3]。没有来源的句子。"
    assert answer_sentences(text) == [
        ("大桥5月20日通车。", (1,)),
        ("营收增长17.5%。", (2, 3)),
        ("没有来源的句子。", ()),
    ]


def test_judge_answer_cited_uncited_and_precision(lexical: LexicalJudge) -> None:
    answer = (
        "星河市网信办7月31日召见蓝湾科技高层。[1][2]\n"  # [2] is not needed
        "北岭县已启动抗旱应急响应。\n"  # no marker: checked against all contexts
        "该公司去年营收为24亿元。[1]\n"  # wrong number
        "员工三千人。[9]"  # marker out of range
    )
    verdicts = judge_answer(answer, [PASSAGE, OTHER], lexical)
    assert [x.supported for x in verdicts] == [True, True, False, False]
    assert [x.citation_ok for x in verdicts] == [True, False, False, False]
    assert verdicts[0].precise == (True, False)
    assert verdicts[3].precise == (False,)
    out = verdicts_json(verdicts)
    assert out["score"] == 0.5 and out["sentences"][2]["supported"] is False


# --- NLI ----------------------------------------------------------------------------


def build_tiny_nli(out_dir: Path) -> Path:
    """A random 3-label BertForSequenceClassification with NLI label names."""
    import torch
    from tiny_models import _bert_config, _tokenizer
    from transformers import BertForSequenceClassification

    tok = _tokenizer(out_dir)
    tok.save_pretrained(out_dir)
    torch.manual_seed(0)
    labels = {0: "contradiction", 1: "entailment", 2: "neutral"}
    config = _bert_config(
        len(tok), num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()}
    )
    BertForSequenceClassification(config).save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="module")
def tiny_nli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_nli(tmp_path_factory.mktemp("tiny-nli") / "model")


def test_nli_judge_loads_local_model_and_scores(tiny_nli: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_NLI_MODEL", str(tiny_nli))
    judge = make_judge("nli")
    assert isinstance(judge, NLIJudge) and str(tiny_nli) in judge.describe()
    assert judge._entail == 1  # found by label name, not position
    verdict = judge.check("大桥5月20日通车。[1]", [PASSAGE, OTHER])
    assert verdict.score == pytest.approx(entailment(tiny_nli, "大桥5月20日通车。"), abs=1e-5)


def entailment(model_dir: Path, claim: str) -> float:
    """The judge's figure computed here with transformers alone: the entailment
    probability (softmax of the logits, label found by name) of the best premise among
    PASSAGE, OTHER and the two joined."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    entail = model.config.label2id["entailment"]
    best = 0.0
    for premise in (PASSAGE, OTHER, f"{PASSAGE}\n{OTHER}"):
        with torch.no_grad():
            logits = model(**tokenizer(premise, claim, return_tensors="pt")).logits[0]
        best = max(best, float(torch.softmax(logits.double(), dim=0)[entail]))
    return best


def test_nli_verdict_is_the_models_entailment_against_the_threshold(tiny_nli: Path) -> None:
    expected = entailment(tiny_nli, "大桥5月20日通车。")  # the marker is not part of the claim
    verdict = NLIJudge(str(tiny_nli)).check("大桥5月20日通车。[1]", [PASSAGE, OTHER])
    assert verdict.score == pytest.approx(expected, abs=1e-5)
    # Just above and just below the model's figure: the verdict flips there.
    above = NLIJudge(str(tiny_nli), threshold=expected + 1e-4).check(
        "大桥5月20日通车。", [PASSAGE, OTHER]
    )
    below = NLIJudge(str(tiny_nli), threshold=expected - 1e-4).check(
        "大桥5月20日通车。", [PASSAGE, OTHER]
    )
    assert not above.supported and f"entailment {expected:.2f} <" in above.reason
    assert "contradiction" in above.reason
    assert below.supported and below.reason == f"entailment {expected:.2f}"
    assert not NLIJudge(str(tiny_nli)).check("x", []).supported  # nothing to check against


def test_nli_judges_the_aligned_sentence_not_the_passage_bag(tiny_nli: Path) -> None:
    """The premise is the source sentence the claim aligns to (issue 12): the verdict's
    score is the model's entailment for that sentence alone, and its span names it."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    claim = "蓝湾科技首席执行官陈思远表示，公司产品没有任何后门。"
    aligned = "蓝湾科技首席执行官陈思远表示，公司产品没有任何后门。"
    tokenizer = AutoTokenizer.from_pretrained(tiny_nli)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_nli).eval()
    with torch.no_grad():
        logits = model(**tokenizer(aligned, claim, return_tensors="pt")).logits[0]
    expected = float(torch.softmax(logits.double(), dim=0)[model.config.label2id["entailment"]])
    verdict = NLIJudge(str(tiny_nli)).check(claim, [OTHER, PASSAGE])
    assert verdict.score == pytest.approx(expected, abs=1e-5)
    assert verdict.span is not None and verdict.span["passage"] == 1
    assert PASSAGE[verdict.span["start"] : verdict.span["end"]] == aligned


def test_nli_reports_the_lexical_type_when_it_rejects(tiny_nli: Path, tmp_path: Path) -> None:
    never = constant_nli(tiny_nli, tmp_path / "never", NAMED, [4.0, 0.0, 0.0])
    verdict = NLIJudge(str(never)).check(
        "蓝湾科技首席执行官陈思远表示，公司产品有后门。", [PASSAGE]
    )
    assert not verdict.supported and verdict.type == "negation"
    assert "没有任何后门" in verdict.span["text"]
    other = NLIJudge(str(never)).check("星河市网信办7月31日召见蓝湾科技高层。", [PASSAGE])
    assert not other.supported and other.type == "unsupported wording"  # the model's call


def constant_nli(base: Path, out_dir: Path, labels: dict[int, str], logits: list[float]) -> Path:
    """``base`` with its classifier made constant: whatever the input, the logits are
    ``logits``, under label names ``labels`` (so the expected verdict is known)."""
    import shutil

    import torch
    from transformers import BertForSequenceClassification

    shutil.copytree(base, out_dir)
    model = BertForSequenceClassification.from_pretrained(base)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(logits))
    model.config.id2label = labels
    model.config.label2id = {v: k for k, v in labels.items()}
    model.save_pretrained(out_dir)
    return out_dir


def softmax(logits: list[float], index: int) -> float:
    exps = [math.exp(x) for x in logits]
    return exps[index] / sum(exps)


NAMED = {0: "contradiction", 1: "entailment", 2: "neutral"}
REORDERED = {0: "neutral", 1: "contradiction", 2: "entailment"}
UNNAMED = {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}


@pytest.mark.parametrize(
    ("labels", "logits", "entail", "supported"),
    [
        (NAMED, [0.0, 4.0, 0.0], 1, True),  # entailment wins
        (NAMED, [4.0, 0.0, 0.0], 1, False),  # contradiction wins
        (REORDERED, [0.0, 0.0, 4.0], 2, True),  # found by name, not by position
        (REORDERED, [0.0, 4.0, 0.0], 2, False),
        (UNNAMED, [4.0, 0.0, 0.0], 0, True),  # unnamed: entailment first (mDeBERTa XNLI)
    ],
)
def test_nli_verdict_follows_the_entailment_label(
    tiny_nli: Path, tmp_path: Path, labels: dict, logits: list, entail: int, supported: bool
) -> None:
    model = constant_nli(tiny_nli, tmp_path / "nli", labels, logits)
    verdict = NLIJudge(str(model)).check("大桥5月20日通车。", [PASSAGE, OTHER])
    assert verdict.supported is supported, verdict.reason
    assert verdict.score == pytest.approx(softmax(logits, entail), abs=1e-6)
    if not supported and "contradiction" in labels.values():
        named = {v: k for k, v in labels.items()}["contradiction"]
        assert f"contradiction {softmax(logits, named):.2f}" in verdict.reason


def test_nli_model_comes_from_settings(tiny_nli: Path, monkeypatch) -> None:
    monkeypatch.delenv("RAG_NLI_MODEL", raising=False)
    settings = Settings.from_env({"RAG_NLI_MODEL": str(tiny_nli)})
    assert settings.nli_model == str(tiny_nli)
    assert str(tiny_nli) in make_judge("nli", settings).describe()


def test_nli_judge_fails_fast_without_model(tmp_path: Path) -> None:
    with pytest.raises(JudgeUnavailable, match="RAG_NLI_MODEL"):
        make_judge("nli", model=str(tmp_path / "no-such-model"))


# --- LLM ----------------------------------------------------------------------------


def test_llm_judge_needs_llm() -> None:
    with pytest.raises(JudgeUnavailable, match="OPENAI_BASE_URL"):
        make_judge("llm", Settings.from_env({}))


def test_parse_claims_tolerates_fences() -> None:
    text = '```json\n{"claims": [{"claim": "a", "supported": "true"}]}\n```'
    assert parse_claims(text) == [{"claim": "a", "supported": True, "reason": "", "type": ""}]
    with pytest.raises(JudgeError):
        parse_claims("I think it is supported.")


def test_llm_judge_against_fake_server() -> None:
    from fake_openai import FakeOpenAI, Reply, error

    server = FakeOpenAI()
    with server.running():
        settings = Settings.from_env(
            {}, llm_base_url=server.url, llm_model="fake-model", llm_api_key="sk-secret"
        )
        judge = make_judge("llm", settings)
        assert isinstance(judge, LLMJudge) and "fake-model" in judge.describe()
        ok = {"claims": [{"claim": "召见在7月31日", "supported": True, "reason": "句1"}]}
        bad = {
            "claims": [
                {"claim": "召见在8月31日", "supported": False, "reason": "日期不符"},
                {"claim": "对象是蓝湾科技", "supported": True, "reason": ""},
            ]
        }
        server.push(Reply(text=json.dumps(ok, ensure_ascii=False)))
        server.push(Reply(text=json.dumps(bad, ensure_ascii=False)))
        assert judge.check("网信办7月31日召见蓝湾科技高层。[1]", [PASSAGE]).supported
        verdict = judge.check("网信办8月31日召见蓝湾科技高层。", [PASSAGE])
        assert not verdict.supported and verdict.score == 0.5 and "日期不符" in verdict.reason
        sent = server.chat_requests()[-1]
        assert "8月31日" in sent.text("user") and "PASSAGE 1" in sent.text("user")
        assert sent.body["model"] == "fake-model"
        # The judge reads the aligned source text and names the type of the flip: its
        # own when it gives a known one, else the lexical check's.
        typed = {"claims": [{"claim": "产品有后门", "supported": False, "type": "antonym",
                             "reason": "原文说没有"}]}  # fmt: skip
        untyped = {"claims": [{"claim": "产品有后门", "supported": False, "reason": "?"}]}
        server.push(Reply(text=json.dumps(typed, ensure_ascii=False)))
        server.push(Reply(text=json.dumps(untyped, ensure_ascii=False)))
        flip = "蓝湾科技首席执行官陈思远表示，公司产品有后门。"
        first = judge.check(flip, [PASSAGE])
        assert not first.supported and first.type == "antonym" and first.span  # the model's
        assert "ALIGNED SOURCE TEXT:\n蓝湾科技首席执行官陈思远表示" in server.chat_requests()[
            -1
        ].text("user")
        second = judge.check(flip, [PASSAGE])
        assert second.type == "negation"  # from the lexical check
        server.push(Reply(text="not json at all"))
        with pytest.raises(JudgeError, match="JSON"):
            judge.check("x", [PASSAGE])
        server.push(error(500), error(500))
        with pytest.raises(JudgeError) as info:
            judge.check("x", [PASSAGE])
        assert "sk-secret" not in str(info.value)
