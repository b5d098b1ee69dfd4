"""Synthetic news articles for tests: deterministic, varied, written here (no real text)."""

from __future__ import annotations

import json
import random
from pathlib import Path

SUBJECTS = ["監管機構", "晶片業者", "分析師", "科技公司", "商務部", "投資人", "供應商", "研究機構"]
VERBS = ["表示", "指出", "認為", "透露", "強調", "預估", "坦言", "宣布"]
OBJECTS = [
    "出口管制將持續收緊",
    "訂單量明顯下滑",
    "新產品將於下季推出",
    "價格可能上漲兩成",
    "市場需求仍然強勁",
    "審查流程需要三個月",
    "產能將擴大一倍",
    "合作計畫暫時停止",
]
PLACES = ["台北", "北京", "華府", "東京", "首爾", "新竹", "上海", "柏林"]


def _noise(rng: random.Random, n: int) -> str:
    # Random common CJK characters keep synthetic articles from looking syndicated.
    return "".join(chr(rng.randint(0x4E00, 0x6FFF)) for _ in range(n))


def article_text(seed: int, sentences: int = 12) -> str:
    """A few paragraphs of made-up Traditional Chinese news prose."""
    rng = random.Random(seed)
    paragraphs = []
    for _ in range(max(1, sentences // 4)):
        parts = []
        for _ in range(4):
            parts.append(
                f"{rng.choice(PLACES)}的{rng.choice(SUBJECTS)}在第{rng.randint(1, 99)}次會議上"
                f"{rng.choice(VERBS)}，{rng.choice(OBJECTS)}，{_noise(rng, 8)}，"
                f"編號{seed}-{rng.randint(100, 999)}。"
            )
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs)


def write_jsonl(path: Path, seeds: range, **extra: str) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for seed in seeds:
            record = {
                "id": f"doc-{seed}",
                "title": f"測試新聞第{seed}號",
                "text": article_text(seed),
            }
            record.update(extra)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def text_dump(seed: int) -> str:
    """A scraped-page-like text dump: title, date, menu furniture, body, footer."""
    body = article_text(seed).replace("\n", "\n\n")
    return (
        f"首頁\n新聞\n財經\n國際\n\n測試頁面標題第{seed}號\n\n"
        f"2025-08-{10 + seed % 20:02d} 09:30\n\n"
        f"{body}\n\n分享給朋友：\n\n※本文版權所有，非經授權，不得轉載。\n"
    )
