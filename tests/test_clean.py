"""Cleaning: furniture out, body paragraphs kept verbatim and in order, metadata found.

The synthetic pages below are made up. Real pages are read from ../shared at run time
and checked with short key phrases, counts and thresholds only.
"""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape

import pytest

from ingest.clean import (
    CleaningError,
    clean_html,
    clean_markdown,
    clean_page,
    clean_text_dump,
    split_paragraphs,
)
from ingest.furniture import cut_glued_related, furniture_reason, is_prose, source_from_line
from tests.shared_data import need

pytestmark = pytest.mark.unit

BODY = (
    "小鎮圖書館昨日宣布延長開放時間，週末將開放到晚上九點，方便上班族借閱書籍。",
    "館長表示，過去一年到館人數成長三成，其中以親子閱讀區最受歡迎，因此決定增加人力。",
    "根據館方統計，延長時段的試辦期間，每晚平均有八十位讀者入館，多數是附近的學生。",
    "館方也計畫在明年春天整修二樓自修室，並增設插座與無線網路，預算約三百萬元。",
)
TITLE = "小鎮圖書館延長開放　週末開到晚上九點"
HEADLINES = (
    "颱風明天登陸！各地停班停課一次看",
    "新店開幕排隊人潮「繞三圈」　老闆嚇到",
    "夜市美食大評比　網友票選第一名竟是它",
    "球隊逆轉勝奪冠！教練賽後感動落淚",
)


def _dump() -> str:
    """A made-up text dump with the usual furniture around the body."""
    lines = [
        " date 2024-03-05 　",
        "  • 首頁",
        "  • |",
        "  • 生活",
        "地方 生活 旅遊 美食 | 影音",
        "",
        TITLE,
        "",
        "▲ 圖書館外觀。（圖／讀者提供）",
        "",
        "記者王小明／台北報導",
        "",
        BODY[0],
        "",
        "館長在閱讀區為孩子說故事。(王小明攝)",
        "館長在閱讀區為孩子說故事。(王小明攝)",
        "",
        BODY[1],
        "",
        BODY[2] + " (相關報導: 全台圖書館借閱排行出爐！這本書連三年奪冠 更多文章",
        "",
        BODY[3],
        "",
        "分享給朋友：",
        "追蹤我們：",
        "每日新聞精選　免費訂閱電子報",
        "更多新聞",
        *HEADLINES,
        TITLE,
        "熱門新聞",
        *HEADLINES,
        "※本文版權所有，非經授權，不得轉載。",
        "範例媒體股份有限公司範例新聞網 版權所有",
        "© example.net All Rights Reserved.",
        "回到最上面",
    ]
    return "\n".join(lines)


def test_text_dump_keeps_the_body_verbatim_and_in_order() -> None:
    page = clean_text_dump(_dump())
    assert page.paragraphs == BODY
    assert page.title == TITLE
    assert page.published == "2024-03-05"
    assert page.byline == "記者王小明／台北報導"
    assert page.source == "範例新聞網"


def test_text_dump_drops_every_kind_of_furniture() -> None:
    text = clean_text_dump(_dump()).text
    for junk in (
        "攝)",
        "圖／",
        "相關報導",
        "更多",
        "分享",
        "追蹤",
        "電子報",
        "版權",
        "颱風",
        "首頁",
    ):
        assert junk not in text


def test_title_on_the_first_line_and_date_below_it() -> None:
    page = clean_text_dump("\n".join([TITLE, "", "2024-03-05 09:15", *BODY]))
    assert page.title == TITLE
    assert page.published == "2024-03-05T09:15"
    assert page.paragraphs == BODY


def test_clean_page_decodes_big5_text() -> None:
    page = clean_page(_dump().replace("©", "(c)").encode("cp950"), "txt")
    assert page.paragraphs == BODY


def _html() -> str:
    nav = "".join(f'<li><a href="/c{i}">{h}</a></li>' for i, h in enumerate(HEADLINES))
    body = "".join(f"<p>{p}</p>" for p in BODY[:3])
    return f"""<html><head><title>{TITLE}_生活_範例新聞網</title>
<meta property="og:site_name" content="範例新聞網">
<meta property="article:published_time" content="2024-03-05T09:15:00+08:00">
<meta name="author" content="王小明">
<link rel="canonical" href="https://news.example/a/1">
<script>var x = "不應出現的腳本文字，很長很長的一段。";</script></head>
<body><nav><a href="/">首頁</a> <a href="/life">生活</a></nav>
<div class="header"><ul>{nav}</ul></div>
<h1>{TITLE}</h1><div class="meta">2024-03-05 09:15 | 記者王小明／台北報導</div>
<div class="share">分享到 Facebook</div>
<article>{body}
<figure><img src="a.jpg">
<figcaption>館長在閱讀區為孩子說故事。（圖／讀者提供）</figcaption></figure>
<p>{BODY[3]}</p>
<p style="display:none">隱藏的段落不應出現在內文之中，這是一段很長的測試文字。</p></article>
<div class="related"><h3>延伸閱讀</h3><ul>{nav}</ul></div>
<footer>範例新聞網 版權所有 © 2024</footer></body></html>"""


def test_html_body_and_metadata() -> None:
    page = clean_html(_html())
    assert page.paragraphs == BODY
    assert page.title == TITLE
    assert page.published == "2024-03-05T09:15:00"
    assert page.source == "範例新聞網"
    assert page.url == "https://news.example/a/1"
    assert page.byline == "王小明"


def test_markdown() -> None:
    md = "\n".join(
        [
            "---",
            f"title: {TITLE}",
            "date: 2024-03-05",
            "---",
            "[首頁](/) | [生活](/life) | [旅遊](/t) | [美食](/f)",
            f"# {TITLE}",
            "![館長](a.jpg)",
            *[f"{p}\n" for p in BODY],
            "## 延伸閱讀",
            *[f"- [{h}](/x)" for h in HEADLINES],
        ]
    )
    page = clean_markdown(md)
    assert page.paragraphs == BODY
    assert page.title == TITLE
    assert page.published == "2024-03-05"


@pytest.mark.parametrize(
    "text", ["", "   \n\n", "\n".join(["首頁", "生活", "分享給朋友：", *HEADLINES, "回到最上面"])]
)
def test_no_article_raises(text: str) -> None:
    with pytest.raises(CleaningError, match="no article|empty"):
        clean_text_dump(text)


def test_unknown_kind_and_empty_html() -> None:
    with pytest.raises(ValueError, match="unknown page kind"):
        clean_page(b"x", "pdf")
    with pytest.raises(CleaningError):
        clean_page(b"", "html")


def test_split_paragraphs() -> None:
    assert split_paragraphs("  一段。\n\n\u3000\u3000二段。 \n") == ("一段。", "二段。")


def test_line_rules() -> None:
    assert cut_glued_related("正文結束。 (相關報導: 某標題 更多文章") == "正文結束。"
    assert (
        cut_glued_related("他說相關報導：很多。後面還有句子。")
        == "他說相關報導：很多。後面還有句子。"
    )
    assert furniture_reason("追蹤我們：") == "share"
    assert furniture_reason("國際 焦點 北美 日韓 東南亞 政經") == "menu"
    assert furniture_reason(BODY[0]) is None
    assert is_prose(BODY[1]) and not is_prose(HEADLINES[0])
    assert source_from_line("Copyright © 1998 - 2016 Example. All Rights Reserved") == "Example"


# --- Real pages from ../shared: key phrases, counts and thresholds only. ---


def test_sample_000() -> None:
    page = clean_page(need("corpus", "000_463c0cc5509e6f6f.txt").read_bytes(), "txt")
    assert page.title.startswith("輝達挑戰還沒完")
    assert page.published == "2025-12-09T21:30"
    assert len(page.paragraphs) == 9
    assert page.paragraphs[0].startswith("輝達(Nvidia)")
    assert page.paragraphs[7].endswith("競爭。")  # the glued related link is cut off
    text = page.text
    for junk in ("攝)", "(AP)", "相關報導", "更多文章", "比洗衣精"):
        assert junk not in text


def test_sample_004() -> None:
    page = clean_page(need("corpus", "004_033cb7a46781a2ac.txt").read_bytes(), "txt")
    assert page.title.startswith("中國勸退企業買H20")
    assert page.published == "2025-08-22"
    assert page.byline is not None and page.byline.startswith("記者")
    assert page.source is not None and "ETtoday" in page.source
    assert len(page.paragraphs) == 11
    assert page.paragraphs[0].startswith("英媒《金融時報》")
    assert page.paragraphs[-1].startswith("輝達則回應強調")
    text = page.text
    for junk in ("ET快訊", "更多新聞", "165", "版權", "分享", "圖／", "推薦閱讀", "熱門"):
        assert junk not in text


# sha256 of the cleaned body text (first 16 hex digits) as reviewed by hand.
SAMPLE_HASHES = {"000": "42fae364eea21376", "004": "497cd84d8f63c409"}


def test_samples_are_verbatim_and_stable() -> None:
    for name in ("000_463c0cc5509e6f6f.txt", "004_033cb7a46781a2ac.txt"):
        raw = need("corpus", name).read_text(encoding="utf-8")
        page = clean_text_dump(raw)
        assert all(p in raw for p in page.paragraphs)  # verbatim: each paragraph is in the page
        digest = hashlib.sha256(page.text.encode("utf-8")).hexdigest()[:16]
        assert digest == SAMPLE_HASHES[name[:3]], f"{name}: cleaned body changed; review it"


def test_handcrafted_benchmark_reaches_the_target() -> None:
    need("data", "zh-web-extraction-handcrafted", "original")
    from eval.bench_clean import ours, score_handcrafted

    scores = score_handcrafted(ours)
    assert scores["pages"] == 69
    assert scores["f1"] >= 0.90


def test_readability_pages_regression() -> None:
    root = need("data", "readability-zh-pages")
    from eval.bench_clean import bag_prf

    for folder in ("gmw", "qq", "youth", "pixnet"):
        page = clean_page((root / folder / "source.html").read_bytes(), "html")
        expected = unescape(re.sub(r"<[^>]+>", "", (root / folder / "expected.html").read_text()))
        assert bag_prf(page.text, expected)[2] >= 0.8, folder


def test_gne_pages_regression() -> None:
    root = need("data", "gne-news-html")
    from eval.bench_clean import bag_prf

    scores = []
    for line in (root / "gne_reference_output.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        page = clean_page((root / record["html_file"]).read_bytes(), "html")
        scores.append(bag_prf(page.text, record["content"])[2])
        assert page.title, record["html_file"]
    assert sum(scores) / len(scores) >= 0.9
    assert min(scores) >= 0.6


def test_short_closing_sentence_is_kept():
    from ingest.clean import clean_markdown

    page = clean_markdown(
        "# 港口擴建計畫\n\n市政府今天公布港口擴建計畫，預計投入三十億元，工期四年，"
        "完工後吞吐量將提高一倍。\n\n居民反應大致正面。\n"
    )
    assert page.paragraphs[-1] == "居民反應大致正面。"


def test_deeply_nested_html_keeps_its_text():
    body = "".join(f"<p>{p}</p>" for p in BODY)
    for depth, tag in ((400, "div"), (3000, "div"), (3000, "span")):
        page = (
            "<html><head><title>深層巢狀的頁面</title></head><body>"
            + f"<{tag}>" * depth
            + body
            + f"</{tag}>" * depth
            + "</body></html>"
        )
        cleaned = clean_page(page.encode(), "html")
        assert cleaned.paragraphs == BODY, (depth, tag)
