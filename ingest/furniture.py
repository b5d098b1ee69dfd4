"""Classify one line of a page: prose, or page furniture (menus, captions, share bars...).

Only general signals are used (length, punctuation, generic words every news site uses
for its furniture), never names of particular outlets, so the rules carry to new layouts.
Words are listed in both Traditional and Simplified forms.
"""

from __future__ import annotations

import re

from rag.core.text.dates import find_date

# Punctuation that marks running prose (Chinese and ASCII sentence punctuation).
PROSE_PUNCT = frozenset("。，、；：！？「」『』“”,;:!?")
# Characters a sentence or paragraph can end with.
SENTENCE_END = frozenset('。！？!?；;…」』”"）)')
_WS = re.compile(r"\s+")
_SYMBOLS_ONLY = re.compile(r"^[\W_]*$")
_MENU_SPLIT = re.compile(r"[\s|｜•·／/>»›]+")

# Headers of lists of other articles ("more", "related", "hot", "recommended").
_LIST_HEADER = re.compile(
    r"更多|延伸閱讀|延伸阅读|相關|相关|熱門|热门|推薦|推荐|最新|快訊|快讯|猜你喜|排行|精選|精选"
    r"|影音|人氣|人气|焦點|焦点|讀者迴響|看更多|熱搜|热搜|點閱|点击排行|往期|專題|专题"
)
_SHARE = re.compile(
    r"分享|追蹤|追踪|關注|关注|訂閱|订阅|收藏|按讚|点赞|轉發|转发|列印|打印|字級|字号|字體|字体"
    r"|複製連結|复制链接|facebook|twitter|line|微信|微博|qq空间|大\s*中\s*小|回到頂|回到最上|返回頂"
    r"|返回顶|回到顶|上一篇|下一篇|上一頁|下一頁|上一页|下一页|首頁|首页|登入|登录|註冊|注册",
    re.I,
)
_APP = re.compile(
    r"電子報|电子报|下載|下载|\bapp\b|掃描|扫描|掃碼|扫码|二維碼|二维码|公眾號|公众号|官方帳號|官方账号"
    r"|newsletter|subscribe",
    re.I,
)
_AD = re.compile(r"廣告|广告|贊助|赞助|業配|推廣|推广|sponsored|\bad\b", re.I)
_LEGAL = re.compile(
    r"版權所有|版权所有|著作權|著作权|all rights reserved|copyright|©|不得轉載|不得转载|禁止轉載"
    r"|禁止转载|未經授權|未经授权|非經授權|非经授权|隱私權|隐私|服務條款|服务条款|免責聲明|免责声明"
    r"|icp备|icp證|icp证|公网安备|不良信息|举报电话|舉報電話",
    re.I,
)
_CONTACT = re.compile(r"^(電話|电话|傳真|传真|地址|e-?mail|信箱|客服|聯絡|联系)\s*[:：]", re.I)
# Image captions: a leading triangle, or a trailing credit such as (圖／X) or (X攝).
_CAPTION = re.compile(
    r"^[▲▼△▽►◆■]|[（(][^（）()]{0,30}(圖|图|攝|摄|照片|photo|翻攝|截圖|截图|資料照|资料照)[^（）()]{0,30}[）)]$",
    re.I,
)
# A link to another article glued onto the end of a paragraph: "(相關報導: <headline> 更多文章".
_GLUED = re.compile(
    r"\s*[（(【\[]?\s*(相關報導|相关报道|延伸閱讀|延伸阅读|相關新聞|相关新闻|推薦閱讀|推荐阅读"
    r"|相關閱讀|相关阅读|相關文章|相关文章|看更多|更多報導|更多报道)\s*[:：]"
)
_BYLINE = re.compile(
    r"^(?:[【\[（(]\s*)?(?:(?:實習|实习|特派|駐\S{1,4}|驻\S{1,4})?(?:記者|记者|特派員|特派员|通訊員|通讯员)"
    r"|撰文|作者|文\s*[／/|｜:：]|編輯|编辑|責任編輯|责任编辑|責編|责编|編譯|编译|By\s+[A-Z])"
)
_BYLINE_TAIL = re.compile(r"[／/]\s*\S{0,10}(?:報導|报道|報道|报导)\s*[】\]）)]?$")
_SOURCE_LINE = re.compile(r"^(?:來源|来源|出處|出处|稿源)\s*[:：]\s*([^\s|｜,，。]{2,20})")
_COMPANY = re.compile(r"^.*(?:公司|集团|集團)")
# "Copyright © 1998 - 2016 Name. All Rights Reserved": the marks and years in any order.
_COPYRIGHT = re.compile(
    r"(?i)(?:©|copyright|\(c\))(?:\s|©|copyright|\d{4}(?:\s*[-–]\s*\d{4})?)*"
    r"([^\W\d][\w.\- ]{1,40}?)\s*(?:all rights|inc\b|版|\.\s|\.$|$|[,，|])"
)


def visible_len(text: str) -> int:
    """Number of non-whitespace characters."""
    return len(_WS.sub("", text))


def punct_count(text: str) -> int:
    """Number of sentence punctuation marks in ``text``."""
    return sum(1 for ch in text if ch in PROSE_PUNCT)


def is_prose(text: str) -> bool:
    """True for a line that reads like running text rather than a headline or a label.

    Headlines often carry ！ or 「」 but rarely 。 and rarely end like a sentence; so we
    ask for a full stop, or a sentence ending on a longer line, or plain length.
    """
    n = visible_len(text)
    stripped = text.rstrip()
    if n >= 15 and ("。" in text or ". " in text):
        return True
    if n >= 25 and stripped[-1:] in SENTENCE_END and punct_count(text) >= 2:
        return True
    return n >= 80 and punct_count(text) >= 3


def is_menu(text: str) -> bool:
    """A row of short labels (navigation or a tag cloud): many tokens, all short."""
    if punct_count(text.replace("：", "").replace(":", "")) > 1 and "。" in text:
        return False
    tokens = [t for t in _MENU_SPLIT.split(text) if t]
    if len(tokens) < 4:
        return False
    return sum(len(t) for t in tokens) / len(tokens) <= 5 and "。" not in text


def is_date_line(text: str) -> bool:
    """A short line that is mostly a date (with maybe a label, source or time)."""
    found = find_date(text)
    if not found:
        return False
    start, end = found[1]
    rest = text[:start] + text[end:]
    return visible_len(rest) <= 30 and "。" not in rest


def is_byline(text: str) -> bool:
    """A reporter/author line such as "記者X／綜合外電報導" or "作者：X"."""
    if visible_len(text) > 40 or "。" in text:
        return False
    return bool(_BYLINE.match(text.strip()) or _BYLINE_TAIL.search(text))


def is_caption(text: str) -> bool:
    """An image caption: a leading triangle marker or a trailing photo credit."""
    return visible_len(text) <= 200 and bool(_CAPTION.search(text.strip()))


def is_list_header(text: str) -> bool:
    """A short header that introduces a list of other articles ("更多新聞", "熱門")."""
    return visible_len(text) <= 12 and bool(_LIST_HEADER.search(text)) and "。" not in text


def furniture_reason(text: str) -> str | None:
    """Why ``text`` is page furniture ("menu", "share", "legal"...), or None if it may be body."""
    n = visible_len(text)
    if n == 0 or _SYMBOLS_ONLY.match(text):
        return "empty"
    if _LEGAL.search(text) and (n <= 60 or len(_LEGAL.findall(text)) >= 2 and n <= 200):
        return "legal"
    if is_caption(text):
        return "caption"
    if is_byline(text):
        return "byline"
    if is_date_line(text) and n <= 40:
        return "date"
    short = n <= 30 and "。" not in text
    if short and _SHARE.search(text):
        return "share"
    if n <= 40 and "。" not in text and _APP.search(text):
        return "app"
    if n <= 20 and "。" not in text and _AD.search(text):
        return "ad"
    if n <= 60 and _CONTACT.match(text.strip()):
        return "contact"
    if is_menu(text):
        return "menu"
    if is_list_header(text):
        return "list header"
    return None


def cut_glued_related(text: str) -> str:
    """``text`` without a related-article link glued onto its end.

    The tail is cut only when it reads as a headline (no full stop after the marker),
    so a sentence that merely mentions related reports stays whole.
    """
    for match in _GLUED.finditer(text):
        if match.start() > 0 and "。" not in text[match.end() :]:
            return text[: match.start()].rstrip()
    return text


def byline_of(text: str) -> str | None:
    """The byline in ``text`` (stripped), or None."""
    return text.strip() if is_byline(text) else None


def source_from_line(text: str) -> str | None:
    """An outlet name from a copyright or "來源：" line, or None.

    "XX公司XX新聞網 版權所有" -> "XX新聞網" (a site name is preferred over the company);
    "© XX.net All Rights Reserved." -> "XX.net"; "來源：XX" -> "XX".
    """
    text = text.strip()
    match = _SOURCE_LINE.match(text)
    if match:
        return match.group(1)
    for marker in ("版權所有", "版权所有"):
        if marker in text:
            name = text[: text.index(marker)]
            name = re.sub(r"(?i)copyright|©|\(c\)|\d{4}(\s*[-–]\s*\d{4})?", " ", name)
            name = name.strip(" \u3000※*,，:：|｜-")
            site = _COMPANY.sub("", name).strip()
            name = site or name
            if 2 <= len(name) <= 30 and not name.startswith(("本", "此")):
                return name
    match = _COPYRIGHT.search(text)
    if match:
        name = match.group(1).strip(" .-")
        if len(name) >= 2:
            return name
    return None
