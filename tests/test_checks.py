"""The faithfulness checks (issue 12): each typed check flags a meaning flip and lets the
true paraphrase through, reports its type and the source span; alignment, the lexicons
as data, and numbers written differently. Synthetic sentences (no article text)."""

from __future__ import annotations

import pytest

from rag.answer.verify import TYPES, check_claim
from rag.core.text.align import align, claim_clauses, clause_spans
from rag.core.text.fold import fold, fold_regional
from rag.core.text.lexicon import lexicon, rows

pytestmark = pytest.mark.unit


def verdict(claim: str, source: str):  # type: ignore[no-untyped-def]
    return check_claim(claim, [source])


# (claim, source, type): each must be flagged with that type.
FLIPS = [
    # negation, both directions, several forms
    ("星海公司已裁員兩百人。", "星海公司並未裁員兩百人。", "negation"),
    ("星海公司裁員兩百人。", "星海公司沒有裁員兩百人。", "negation"),
    ("星海公司尚未啟用新碼頭。", "星海公司已啟用新碼頭。", "negation"),
    ("市府不再補助老舊公寓改建。", "市府繼續補助老舊公寓改建。", "negation"),
    ("这并不是北岭县首次举办马拉松。", "这是北岭县首次举办马拉松。", "negation"),
    # denial turned into admission: an antonym before it is a negation
    ("官員證實了此事。", "官員否認了此事。", "antonym"),
    ("官員否認了此事。", "官員承認了此事。", "antonym"),
    # modality: certainty raised (replaced or dropped) and lowered
    ("當局已宣布加稅。", "當局正考慮加稅。", "modality"),
    ("北岭当局将限制进口新型芯片。", "北岭当局正研议限制进口新型芯片。", "modality"),
    ("星海市政府禁止外送平台夜間營業。", "星海市政府可能禁止外送平台夜間營業。", "modality"),
    ("星海公司計劃明年在南港設廠。", "星海公司已經在南港設廠。", "modality"),
    # degree and quantifier
    ("第三季銷量大幅成長。", "第三季銷量小幅成長。", "degree"),
    ("第三季銷量小幅成長。", "第三季銷量大幅成長。", "degree"),
    ("新制將在全國實施。", "新制將在部分城市試行。", "degree"),
    ("第三季銷量大幅成長。", "第三季銷量成長。", "degree"),  # an intensifier added
    # antonym predicates
    ("北岭县今年降雨量比往年增加三成。", "北岭县今年降雨量比往年减少三成。", "antonym"),
    ("委員會支持這項提案。", "委員會反對這項提案。", "antonym"),
    ("監管機構允許企業採購這款晶片。", "監管機構禁止企業採購這款晶片。", "antonym"),
    ("星海銀行上季買入大量公債。", "星海銀行上季賣出大量公債。", "antonym"),
    # entity substitution: a name the source never names where one of its kind sits
    ("川普在微博上宣布這項決定。", "川普在臉書上宣布這項決定。", "entity"),
    ("行政院昨天三讀通過這項法案。", "立法院昨天三讀通過這項法案。", "entity"),
    ("星海集团向拜伦集团出售了两座仓库。", "星海集团向黑石集团出售了两座仓库。", "entity"),
    # numbers and dates, in place
    ("星海公司今年營收為3千萬元。", "星海公司今年營收為3萬萬元。", "number"),
    ("大桥全长13公里，总投资42亿元。", "大桥全长12公里，总投资42亿元。", "number"),
    ("北岭县去年降雨量比往年少三成。", "北岭县今年降雨量比往年少三成。", "date"),
    ("跨海大桥将于8月31日正式通车。", "跨海大桥将于7月31日正式通车。", "date"),
]


@pytest.mark.parametrize(("claim", "source", "kind"), FLIPS)
def test_flip_is_flagged_with_its_type(claim: str, source: str, kind: str) -> None:
    result = verdict(claim, source)
    assert not result.supported, result
    assert result.type == kind, result
    assert result.type in TYPES
    # The span is the source text the claim was judged against, as the passage has it.
    assert result.passage == 0 and source[result.start : result.end] == result.quote
    assert result.quote


# True paraphrases of the same sources: none may be flagged.
PARAPHRASES = [
    ("星海公司沒有裁員兩百人。", "星海公司並未裁員兩百人。"),  # another negation word
    ("星海公司未裁員兩百人。", "星海公司並未裁員兩百人。"),
    ("官員否認了這件事。", "官員否認了此事。"),
    ("當局正研議加稅。", "當局正考慮加稅。"),  # another hedge
    ("第三季銷量略微成長。", "第三季銷量小幅成長。"),  # another low degree
    ("北岭县今年降雨量比往年减少三成。", "北岭县今年降雨量比往年下降三成。"),  # same pole
    ("川普在Facebook上宣布這項決定。", "川普在臉書上宣布這項決定。"),  # an alias
    ("新码头已于3月完工。", "新码头已于3月完工，但尚未启用。"),  # a clause dropped
    ("但尚未启用，新码头已于3月完工。", "新码头已于3月完工，但尚未启用。"),  # reordered
    ("新碼頭已於3月完工，但尚未啟用。", "新码头已于3月完工，但尚未启用。"),  # script
    ("公司的伺服器出貨量大增。", "公司的服务器出货量大增。"),  # Taiwan wording
    # 不惜, 不斷, 無論 hold a 不/無 and negate nothing
    ("公司擴建工廠後，產能將翻倍。", "公司不惜成本擴建工廠，產能將翻倍。"),
    ("星海市持續擴大投資。", "星海市不斷擴大投資。"),
    ("無論晴雨，馬拉松都將照常舉行。", "不論晴雨，馬拉松都將照常舉行。"),
]


@pytest.mark.parametrize(("claim", "source"), PARAPHRASES)
def test_true_paraphrase_is_supported(claim: str, source: str) -> None:
    result = verdict(claim, source)
    assert result.supported, result
    assert result.type == ""


def test_bu_xi_is_no_negation_the_issue_case() -> None:
    """The false positive of the issue: 不惜 read as a negation. The claim says what the
    source says without the compound; before issue 12 it was flagged as "drops a
    negation" because 不惜's 不 sat inside the matched region."""
    source = "星海公司不惜重金延攬研發人才，新晶片預計明年量產。"
    assert verdict("星海公司延攬研發人才，新晶片預計明年量產。", source).supported
    assert not lexicon("negation").find(fold("不惜"))


@pytest.mark.parametrize(
    "claim", ["星海公司營收3萬元。", "星海公司營收30,000元。", "星海公司營收三萬元。"]
)
@pytest.mark.parametrize(
    "source", ["星海公司營收3萬元。", "星海公司營收30,000元。", "星海公司營收三萬元。"]
)
def test_numbers_written_differently_are_one_number(claim: str, source: str) -> None:
    assert verdict(claim, source).supported, (claim, source)


def test_numbers_of_another_scale_are_not_the_same() -> None:
    result = verdict("星海公司營收3千元。", "星海公司營收3萬元。")
    assert not result.supported and result.type == "number"


def test_negation_in_a_dropped_clause_negates_nothing_the_claim_says() -> None:
    source = "中国选手张明以0比2不敌对手，止步大师赛八强。"
    assert verdict("止步大师赛八强。", source).supported


def test_negation_is_judged_against_the_aligned_clause_not_the_passage() -> None:
    # The passage negates another company's layoffs; the claim's clause aligns to the
    # clause about its own company.
    source = "甲公司並未裁員。乙公司上月裁員三百人，並關閉一座工廠。"
    assert verdict("乙公司上月裁員三百人。", source).supported
    flipped = verdict("乙公司上月沒有裁員三百人。", source)
    assert not flipped.supported and flipped.type == "negation"
    assert flipped.quote.startswith("乙公司")


def test_a_value_moved_from_elsewhere_in_the_passage_is_caught() -> None:
    source = "甲廠去年產量為120萬台。乙廠去年產量為80萬台。"
    result = verdict("乙廠去年產量為120萬台。", source)
    assert not result.supported and result.type == "number"


def test_english_claim_antonym_over_chinese_source() -> None:
    source = "多個監管機構聯手禁止國內科技企業採購輝達的H20晶片。"
    assert check_claim(
        "Regulators banned tech firms from buying Nvidia H20 chips.", [source]
    ).supported
    flipped = check_claim("Regulators allowed tech firms to buy Nvidia H20 chips.", [source])
    assert not flipped.supported and flipped.type == "antonym"


# --- alignment ------------------------------------------------------------------------


def test_clause_spans_keep_numbers_whole() -> None:
    text = "營收30,000元，時間16:40；地點台北"
    assert [text[s:e] for s, e in clause_spans(text)] == ["營收30,000元", "時間16:40", "地點台北"]


def test_short_clause_joins_the_next() -> None:
    assert claim_clauses("此外,公司表示将扩产") == ["此外,公司表示将扩产"]


def test_each_clause_aligns_to_its_own_source_clause() -> None:
    passages = ["天氣晴朗。甲公司並未裁員，乙公司裁員三百人。", "與此無關的段落。"]
    pairs = align(fold("乙公司裁員三百人，甲公司並未裁員"), passages)
    assert [p.region.text for p in pairs] == ["乙公司裁员三百人", "甲公司并未裁员"]
    assert all(p.region.passage == 0 for p in pairs)


# --- the lexicons are data --------------------------------------------------------------


def test_lexicons_hold_both_scripts_and_english() -> None:
    negation = {f for row in rows("negation") for f in row.zh + row.en}
    assert {"并未", "没有", "not"} <= negation  # zh-Hant 並未 and 沒有 fold to these
    antonyms = lexicon("antonyms", 3)
    assert antonyms.find(fold("減少"))[0].labels[:2] == ("change", "down")
    assert antonyms.find("prices fell")[0].labels[:2] == ("change", "down")


def test_compound_wins_where_it_starts_first_and_a_cue_where_it_does() -> None:
    negation = lexicon("negation")
    assert [m.form for m in negation.find(fold("配色靈感並未來源於古畫"))] == ["并未"]
    assert negation.find(fold("他不斷努力，無論成敗")) == []


def test_fold_regional_makes_taiwan_and_mainland_words_one() -> None:
    assert fold_regional("伺服器") == fold_regional("服务器")
    assert fold_regional("影片") == fold_regional("视频")
