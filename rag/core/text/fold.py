"""Text normalization for matching: Traditional -> Simplified, width and case folding.

Only used to compare text (embedding, lexical search, citation checks). Stored and
displayed text is never converted.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


def to_simplified(text: str) -> str:
    """Traditional -> Simplified (OpenCC t2s). Keeps the length in practice."""
    return converter("t2s").convert(text) if text else text


def fold(text: str) -> str:
    """Text for matching: NFKC (full-width -> ASCII), lower case, Simplified script."""
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=4096)
def fold_regional(text: str) -> str:
    """``fold(text)`` with mainland and Taiwan wording made one: OpenCC's s2twp then
    tw2sp turn either region's word into the mainland one (伺服器 and 服务器 -> 服务器,
    影片 -> 视频, 晶片 -> 芯片, 高階 and 高端 -> 高级). For comparing a claim with its
    source (rag.answer.verify), where either may use either region's words; cached,
    since an answer's claims are compared with the same passages.

    The phrase tables match across word boundaries now and then (以色列舉辦 ->
    以色枚举办: 列舉 is a Taiwan phrase), the same way on both sides; names are
    therefore taken from the plain ``fold`` of a claim. The length may change, so
    offsets are never taken from the result."""
    if not text:
        return text
    nfkc = unicodedata.normalize("NFKC", text).lower()
    return to_simplified(converter("tw2sp").convert(converter("s2twp").convert(nfkc)))


@lru_cache(maxsize=8)
def converter(config: str):  # type: ignore[no-untyped-def]
    """The OpenCC converter for ``config`` (t2s, s2t, s2twp, tw2sp...), built once."""
    import opencc

    return opencc.OpenCC(config)


# Names transliterated differently across the strait that OpenCC's tables leave alone
# (folded, Simplified script): mainland form, Taiwan form.
REGIONAL_NAMES = (
    ("特朗普", "川普"),
    ("普京", "普丁"),
    ("奥巴马", "欧巴马"),
    ("内塔尼亚胡", "纳坦雅胡"),
    ("泽连斯基", "泽伦斯基"),
    ("悉尼", "雪梨"),
    ("新西兰", "纽西兰"),
    ("意大利", "义大利"),
    ("沙特", "沙乌地"),
)


@lru_cache(maxsize=8192)
def variants(text: str) -> tuple[str, ...]:
    """``fold(text)`` plus its other regional wordings, folded: mainland and Taiwan
    vocabulary differ beyond script (芯片/晶片, 英伟达/輝達, 内存/記憶體), which
    character-level t2s cannot bridge. OpenCC's phrase tables (s2twp, tw2sp) can;
    REGIONAL_NAMES covers the names they miss."""
    taiwan = converter("s2twp").convert(text)
    forms = [fold(text), fold(taiwan), fold(converter("tw2sp").convert(taiwan))]
    for mainland, local in REGIONAL_NAMES:
        for form in list(forms):
            if mainland in form:
                forms.append(form.replace(mainland, local))
            elif local in form:
                forms.append(form.replace(local, mainland))
    return tuple(dict.fromkeys(forms))
