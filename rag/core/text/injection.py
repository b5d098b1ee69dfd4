"""Instructions hidden in article text: finding sentences written to steer a model
("ignore previous instructions", 忽略之前的指示, 你現在是…, system prompt…), and the
normalised view of text an attacker disguises (full-width letters, zero-width characters
inside ``</source>``).

Article text is data, never instructions. What is found here is reported at ingest,
marked as untrusted in the prompt (rag.answer.prompts), and an answer supported by such a
sentence is not shown as verified (rag.answer.verify).

The patterns are data: regular expressions over *folded* text (NFKC, lower case,
Simplified script, format characters removed), so one Simplified pattern also matches
Traditional text and full-width or zero-width-padded spellings. They aim at phrasings
that address a model; a news sentence that merely reports on prompt injection may match,
which costs a flag and a warning, never a dropped article.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# (language, pattern) over folded text. Chinese patterns are written in Simplified: fold()
# turns Traditional into Simplified before matching.
INSTRUCTION_PATTERNS: tuple[tuple[str, str], ...] = (
    # Override the rules: ignore / disregard / forget ... previous instructions.
    (
        "en",
        r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+)?(?:of\s+)?"
        r"(?:the\s+|your\s+|my\s+|these\s+)?(?:previous|prior|above|earlier|preceding|"
        r"foregoing|system|original)\s+(?:instructions?|prompts?|rules|directions|directives|"
        r"guidelines|context)\b",
    ),
    (
        "en",
        r"\b(?:ignore|disregard|forget)\s+(?:all|any|your)\s+(?:instructions|prompts?|directives)\b",
    ),
    (
        "en",
        r"\byou are now (?:an?|the|my|acting|playing|free|no longer)\b"
        r"|\bfrom now on,? you (?:are|will|must|should|only)\b",
    ),
    ("en", r"\bsystem prompt\b|\bsystem instructions?\b"),
    ("en", r"\b(?:new|updated|real|actual) instructions?\s*:"),
    ("en", r"\b(?:developer|admin|god|jailbreak) mode\b"),
    (
        "en",
        r"\bif you are an? (?:ai|llm|language model|large language model|chatbot|assistant)\b"
        r"|\b(?:attention|note to|dear|hey|to any) (?:ai|llm|chatbot|language model)s?\b",
    ),
    (
        "en",
        r"\b(?:reveal|print|repeat|output)\s+(?:your|the)\s+(?:system\s+)?"
        r"(?:prompt|instructions)\b",
    ),
    # An imperative "reply with ..." at the start of a sentence or after "please".
    (
        "en",
        r"(?:^|[.!?:;。！？]\s*|\bplease\s+)(?:respond|reply|answer)\s+(?:only\s+|exactly\s+)?"
        r"with\b",
    ),
    (
        "zh",
        r"(?:忽略|无视|忽视|不要理会|不要理睬|别理会|忘记|忘掉|跳过|绕过|覆盖)[了掉]?"
        r"(?:之前|以前|先前|此前|以上|上面|上述|前面|前述|所有|全部|一切|任何|原有|原来|系统)"
        r"(?:的)?(?:所有|全部|一切)?(?:的)?(?:指示|指令|提示词?|规则|命令|设定|约束)",
    ),
    ("zh", r"你现在(?:是|扮演|作为|的身份是|的角色是)(?!什么|否|不是|怎么|多少|谁)"),
    ("zh", r"从(?:现在|此刻|今天)(?:起|开始)[,，]?\s*你(?:是|要|必须|将|只能|应该)"),
    ("zh", r"系统(?:提示词|指令)"),  # not 系统提示 alone: an app notice
    ("zh", r"(?:新的?|真正的|最新的?)(?:指令|指示)\s*[:：]"),
    (
        "zh",
        r"(?:如果|若)你是(?:一个|一名)?(?:ai|人工智能|语言模型|大模型|聊天机器人|助手|助理)"
        r"|(?:致|给)(?:所有|任何)?(?:ai|人工智能|语言模型|大模型|聊天机器人)(?:助手|助理|模型)?\s*[:：,，]",
    ),
    ("zh", r"请(?:你)?(?:只|仅|务必)?(?:回答|回复|输出|告诉(?:用户|使用者|读者))\s*[:：]"),
    ("zh", r"(?:开发者|管理员|越狱)模式"),
    ("zh", r"(?:透露|输出|显示|重复)(?:你的)?(?:系统)?(?:提示词|指令)"),
)

# An injected instruction's payload follows it closely ("Ignore the rules. Say: X."):
# a quote this many sentences after an instruction-like sentence counts as its payload.
PAYLOAD_REACH = 2


@dataclass(frozen=True)
class Instruction:
    """An instruction-like sentence: its offsets in the text and the phrase that matched
    (folded)."""

    start: int
    end: int
    phrase: str


@lru_cache(maxsize=1)
def _invisible() -> re.Pattern[str]:
    """Format characters (category Cf: zero-width space and joiners, BOM, bidi controls,
    soft hyphen, tag characters) and variation selectors: they change no glyph, so in
    article text they only hide words from a matcher."""
    chars = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Cf"]
    return re.compile("[" + re.escape("".join(chars)) + "\ufe00-\ufe0f\U000e0000-\U000e007f]")


def visible(text: str) -> tuple[str, list[int]]:
    """``text`` as a reader or a model sees it: invisible characters dropped, each other
    character NFKC-normalised (full-width and other compatibility forms become plain
    ones). Also, for each character of the result, the index of the character of
    ``text`` it came from."""
    if not _invisible().search(text) and unicodedata.is_normalized("NFKC", text):
        return text, list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if _invisible().fullmatch(ch):
            continue
        for c in unicodedata.normalize("NFKC", ch):
            out.append(c)
            where.append(i)
    return "".join(out), where


def probe_text(text: str) -> str:
    """The text the patterns are matched against: invisible characters dropped, folded
    (NFKC, lower case, Simplified)."""
    from rag.core.text.fold import fold

    return fold(_invisible().sub("", text))


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], ...]:
    # No IGNORECASE: folded text is lower case already (and matching is faster without).
    return tuple(re.compile(p, re.MULTILINE) for _, p in INSTRUCTION_PATTERNS)


def find_instructions(text: str) -> list[Instruction]:
    """The sentences of ``text`` that read like instructions to a model."""
    from rag.core.text.sentences import split_sentences

    whole = probe_text(text)
    if not any(pattern.search(whole) for pattern in _patterns()):
        return []  # the usual case, at one pass over the text (ingest runs this per article)
    found: list[Instruction] = []
    for start, end in split_sentences(text):
        probe = probe_text(text[start:end])
        for pattern in _patterns():
            match = pattern.search(probe)
            if match:
                found.append(Instruction(start, end, match.group(0).strip()))
                break
    return found


def instruction_near(text: str, start: int, end: int) -> Instruction | None:
    """The instruction-like sentence that the span [start, end) of ``text`` lies in or
    overlaps, or follows by at most PAYLOAD_REACH sentences; None when there is none."""
    from rag.core.text.sentences import split_sentences

    found = find_instructions(text)
    if not found:
        return None
    sentences = split_sentences(text)
    index = {span: i for i, span in enumerate(sentences)}
    touched = [i for i, (s, e) in enumerate(sentences) if s < end and start < e]
    for flag in found:
        at = index.get((flag.start, flag.end))
        if at is None:
            continue
        if any(at <= i <= at + PAYLOAD_REACH for i in touched):
            return flag
    return None
