"""Sentence splitting and chunking: offsets exact, sentences whole, overlap in sentences."""

import pytest

from ingest.chunk import chunk_article, chunk_spans
from ingest.models import Article
from rag.core.text.sentences import split_sentences

pytestmark = pytest.mark.unit


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_chinese_sentences_keep_closing_quotes():
    text = "他說：「我們不賣。」市場震動！為何如此？分析師認為；影響有限……後續再看"
    assert _sentences(text) == [
        "他說：「我們不賣。」",
        "市場震動！",
        "為何如此？",
        "分析師認為；",
        "影響有限……",
        "後續再看",
    ]


def test_english_sentences_and_abbreviations():
    text = "Nvidia said no. The U.S. rule covers 3.5 percent of sales! Is it final?"
    assert _sentences(text) == [
        "Nvidia said no.",
        "The U.S. rule covers 3.5 percent of sales!",
        "Is it final?",
    ]


def test_newline_ends_a_sentence_and_whitespace_is_trimmed():
    text = "  第一段沒有句號\n\n第二段。 "
    assert _sentences(text) == ["第一段沒有句號", "第二段。"]


def test_chunks_are_whole_sentences_within_size():
    sentences = [f"第{i}句話說明了一件事情。" for i in range(40)]
    text = "".join(sentences)
    spans = chunk_spans(text, size=60, overlap=1)
    assert len(spans) > 5
    for start, end in spans:
        assert end - start <= 60
        piece = text[start:end]
        assert piece.endswith("。") and piece.startswith("第")
    # Overlap: each chunk starts with the previous chunk's last sentence.
    for (s1, e1), (s2, _) in zip(spans, spans[1:], strict=False):
        last = _sentences(text[s1:e1])[-1]
        assert text[s2:].startswith(last)


def test_long_sentence_is_split_at_commas_only_when_needed():
    long = "，".join(["很長的子句"] * 30) + "。"
    text = "短句。" + long + "結尾。"
    spans = chunk_spans(text, size=50, overlap=0)
    assert all(e - s <= 50 for s, e in spans)
    assert "".join(text[s:e] for s, e in spans) == text
    assert text[spans[0][0] : spans[0][1]].startswith("短句。")


def test_chunk_article_offsets_and_versioned_ids():
    text = "第一句。第二句。\n第三句。"
    article = Article(
        doc_id="d1",
        title="標題",
        text=text,
        published="2025-08-22",
        source="某報",
        url=None,
        path="x.txt",
        content_hash="abcdef0123456789",
        raw_hash="r",
    )
    chunks = chunk_article(article, size=20, overlap=0)
    assert [c.chunk_id for c in chunks] == ["d1:abcdef012345:0"]
    assert text[chunks[0].start : chunks[0].end] == chunks[0].text
    assert chunks[0].title == "標題" and chunks[0].published == "2025-08-22"


def test_cut_long_chunk_rule_soft_breaks_else_hard():
    from rag.core.text.sentences import cut_long

    text = "甲" * 30 + "，" + "乙" * 30 + "丙" * 50
    # The last comma in reach leaves at least half the size: cut after it.
    assert cut_long(text, 0, len(text), 40) == [(0, 31), (31, 71), (71, 111)]
    # Pieces cover the sentence exactly and none is longer than the size.
    pieces = cut_long(text, 0, len(text), 25)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(e - s <= 25 for s, e in pieces)
    assert cut_long("短句", 0, 2, 40) == [(0, 2)]


def test_cut_long_quote_rule_keeps_numbers_whole_and_skips_spaces():
    from rag.core.text.sentences import QUOTE_BREAKS, cut_long

    text = "公告" * 9 + "2022-03-15以后" + "内" * 20
    # The chunk rule cuts hard at 20 characters, inside the date (20|22-03-15).
    assert cut_long(text, 0, len(text), 20)[0] == (0, 20)
    quote = cut_long(text, 0, len(text), 20, breaks=QUOTE_BREAKS, whole_tokens=True)
    assert quote[0] == (0, 18)  # moved back out of the date
    assert text[quote[1][0] : quote[1][1]].startswith("2022-03-15")
    # After a cut, the next piece starts past the whitespace.
    text = "公告" * 5 + "，  " + "内" * 30
    assert cut_long(text, 0, len(text), 20, breaks=QUOTE_BREAKS, shortest=6)[1][0] == 11
    skipped = cut_long(text, 0, len(text), 20, breaks=QUOTE_BREAKS, shortest=6, skip_space=True)
    assert skipped[:2] == [(0, 11), (13, 33)]
