"""Which language/script a question is in, and the refusal phrase to answer it with."""

from __future__ import annotations

import re

from rag.core.text.fold import converter
from rag.core.types import REFUSAL_EN, REFUSAL_ZH_HANS, REFUSAL_ZH_HANT

LANGS = ("zh-Hant", "zh-Hans", "en")
# Han characters: CJK unified ideographs, extension A, and the compatibility block.
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_HIRAGANA = re.compile(r"[\u3041-\u309f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
# Quoted titles and names (《君の名は》, 「ユニクロ」) say nothing about the question's own
# language.
_QUOTED = re.compile(r"《[^》]*》|「[^」]*」|『[^』]*』|“[^”]*”|\"[^\"]*\"")
# Japanese sentences carry hiragana particles and endings (の, は, を, です, か), almost
# always two or more; a Chinese question may hold one の used as 的, or a brand in
# katakana, and no hiragana beyond that.
MIN_HIRAGANA = 2
MIN_HANGUL = 2  # a Korean question is mostly hangul; a stray syllable is a name
UNSUPPORTED_MESSAGE = (
    "Questions in {language} are not supported. Please ask in Chinese (Traditional or "
    "Simplified) or English."
)


def _changed_chars(text: str, config: str) -> int:
    """How many characters OpenCC ``config`` changes (t2s/s2t keep the length)."""
    out = converter(config).convert(text)
    if len(out) != len(text):
        return 1 if out != text else 0
    return sum(a != b for a, b in zip(text, out, strict=True))


def detect_lang(text: str, default_zh: str = "zh-Hans") -> str:
    """Language of a question: "zh-Hant", "zh-Hans" or "en".

    English when Latin letters outnumber CJK characters three to one (so "H20" or
    "Nvidia" inside a Chinese question does not make it English). Script by OpenCC
    round trip: characters that t2s changes are Traditional, that s2t changes are
    Simplified; a tie (all characters shared by both scripts) gives ``default_zh``.
    """
    cjk = CJK.findall(text)
    if not cjk:
        return "en"
    if len(_LATIN.findall(text)) > 3 * len(cjk):
        return "en"
    han = "".join(cjk)
    traditional = _changed_chars(han, "t2s")
    simplified = _changed_chars(han, "s2t")
    if traditional > simplified:
        return "zh-Hant"
    if simplified > traditional:
        return "zh-Hans"
    return default_zh


def unsupported_language(text: str) -> str | None:
    """The name of the language ("Japanese", "Korean") when ``text`` is written in one
    of them (hiragana or hangul outside quotes), else None. Kanji alone never count:
    Chinese shares them."""
    own = _QUOTED.sub(" ", text)
    hangul = len(_HANGUL.findall(own))
    if hangul >= MIN_HANGUL and hangul >= len(CJK.findall(own)):
        return "Korean"
    if len(_HIRAGANA.findall(own)) >= MIN_HIRAGANA:
        return "Japanese"
    return None


def unsupported_message(language: str) -> str:
    """What to answer a question in an unsupported language (in English: the asker may
    read no Chinese)."""
    return UNSUPPORTED_MESSAGE.format(language=language)


def refusal_phrase(lang: str) -> str:
    """The fixed refusal sentence for ``lang`` (unknown languages get English)."""
    return {"zh-Hant": REFUSAL_ZH_HANT, "zh-Hans": REFUSAL_ZH_HANS}.get(lang, REFUSAL_EN)


def lead_in(lang: str) -> str:
    """The line that introduces quoted sentences in an extractive answer."""
    return {
        "zh-Hant": "根據檢索到的文章：",
        "zh-Hans": "根据检索到的文章：",
    }.get(lang, "From the retrieved articles (quoted in their original language):")
