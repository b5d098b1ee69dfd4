"""Word lists as data: stopwords, month names, Chinese numerals and measure words.

One named list per purpose. Where two purposes use different lists, both are here and
each says what it is for: widening one to the other changes what its user matches.
All lists are in folded form (lower case, Simplified script).
"""

from __future__ import annotations

# --- English ----------------------------------------------------------------------------

# Words that only shape an English question ("what", "the", "how many ... ago"): never
# key terms, never names (rag.analysis.query).
EN_QUESTION_STOP = frozenset(
    "a an the of in on at to for from by with about as is are was were be been being do does "
    "did has have had will would can could should may might what which who whom whose when "
    "where why how that this these those it its and or but not no than then there their they "
    "he she his her we you i me my our your if into over under after before during since "
    "much many long ago year years many".split()
)
# Function words (and the reporting verbs said/says) that do not count when comparing a
# claim's wording with its source's (rag.core.text.grams.wording_overlap). Shorter than
# EN_QUESTION_STOP on purpose: "not", "no", "when" and the like carry a claim's meaning.
EN_CLAIM_STOP = frozenset(
    "the a an of in on at to for from by with and or is are was were be been has have had "
    "it its this that as which who will would said says".split()
)
# Words that open an English question with a capital letter without being names
# (rag.analysis.glossary: "What ..." is not a company called What).
EN_CAPITALIZED_NOT_NAMES = frozenset({"i", "what", "which", "who", "when", "where", "why", "how"})

# Month names and their abbreviations (sept too), lower case, to month numbers.
MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
# The three-letter forms, January first, as a regex alternation.
MONTH_ABBREVIATIONS = "|".join(sorted((name for name in MONTHS if len(name) == 3), key=MONTHS.get))

# --- Chinese ----------------------------------------------------------------------------

# Words that only shape a Chinese question (particles, question words, 报道/文章 ...):
# they say nothing a passage must contain (rag.analysis.query).
ZH_QUESTION_STOP = frozenset(
    """的 了 是 在 和 与 及 跟 或 有 于 为 被 把 对 从 到 将 就 都 也 还 又 呢 吗 吧 啊 么 呀 之 其
    这 那 这个 那个 哪 哪个 哪些 哪位 哪里 哪儿 哪家 哪一 哪一年 哪年 哪天 什么 什么样 多少 几
    谁 何 何时 何地 何处 为何 为什么 怎么 怎样 如何 是否 是不是 有没有 请问 请 问 一下 关于
    时候 时间 日期 地点 原因 结果 情况 多久 多长 多大 多高 目前 现在 最新 新 当时 个 次 上 下 中
    一 年 月 日 号 人 谈 说 知道 告诉 介绍 一个 所 以 而 但 并 等 该 此 各 啥 吗 么 给 让 会 能
    可以 已经 曾 过 着 得 地 举办 举行
    报道 报导 文章 新闻 消息 提到 提及 指出 两篇 篇 分别 各自 哪两个 哪三个 哪几个""".split()
)

# Characters of Chinese numerals, 一 to 亿; with the zeros, all of them. The ranking cue
# and the unit check (rag.analysis.evidence) start a number at a non-zero numeral.
CN_NONZERO_NUMERALS = "一二两三四五六七八九十百千万亿"
CN_NUMERALS = "零〇" + CN_NONZERO_NUMERALS

# Measure words after a Chinese numeral that make it a stated number (三名, 两次, 八强,
# 十六岁): a numeral before anything else (一起, 统一) is not one (rag.analysis.query).
MEASURE_WORDS = "人次个名家年天月日倍强届位座架艘辆只场项条元块万亿%岁周期轮组号"
# The lexical judge's Chinese quantities (eval.judges: each must occur in the source).
# Narrower than MEASURE_WORDS: without 万 亿 % a numeral run is taken whole or not at all
# (三万多 gives no quantity, where MEASURE_WORDS would take its 三), and 强 期 are not
# counted.
MEASURE_WORDS_JUDGE = "人次个名家年天月日倍届位座架艘辆只场项条元块岁周轮组号"
# Amounts, for the ranking cue "the passage holds a number" (rag.retrieval.passage_rank):
# no 年 月 日 天 (a date is not an amount) and only the common counters.
MEASURE_WORDS_AMOUNT = "人次个名家倍届位座架艘辆场项条元万亿%"
