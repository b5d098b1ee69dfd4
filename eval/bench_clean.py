"""Score the HTML cleaner on the hand-labelled Chinese extraction set, beside trafilatura.

Metric (fixed by the issue): character-bag F1 of the extracted main text against the
label. Characters are compared as multisets with whitespace removed; precision and recall
are computed per page and averaged over pages; F1 is taken from the averaged P and R.
The mean of per-page F1 is printed too.

Run: ``python -m eval.bench_clean``. Exits 0 with a message when ../shared is absent.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from eval.data import HANDCRAFTED, skipped
from ingest.decode import decode_bytes


def char_bag(text: str) -> Counter[str]:
    """The multiset of non-whitespace characters of ``text``."""
    return Counter(ch for ch in text if not ch.isspace())


def bag_prf(extracted: str, label: str) -> tuple[float, float, float]:
    """Character-bag precision, recall and F1 of one extraction against its label."""
    got, want = char_bag(extracted), char_bag(label)
    common = sum((got & want).values())
    p = common / sum(got.values()) if got else 0.0
    r = common / sum(want.values()) if want else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def load_handcrafted(root: Path = HANDCRAFTED) -> list[tuple[str, str, str]]:
    """(page id, decoded HTML, label text) for every labelled page, sorted by id."""
    pages = []
    for html_path in sorted((root / "original").glob("*.html")):
        label = root / "cleaned" / f"{html_path.stem}.txt"
        if label.exists():
            html = decode_bytes(html_path.read_bytes(), html=True)
            pages.append((html_path.stem, html, label.read_text(encoding="utf-8")))
    return pages


def score_pages(
    extract_fn: Callable[[str], str], pages: list[tuple[str, str, str]]
) -> dict[str, object]:
    """Scores of ``extract_fn`` (decoded HTML -> main text) over ``pages``.

    A page whose extraction raises counts as empty (P = R = 0).
    """
    per_page: dict[str, tuple[float, float, float]] = {}
    start = time.perf_counter()
    for page_id, html, label in pages:
        try:
            text = extract_fn(html) or ""
        except Exception:  # a failed page scores zero rather than stopping the bench
            text = ""
        per_page[page_id] = bag_prf(text, label)
    seconds = time.perf_counter() - start
    n = len(per_page) or 1
    p = sum(v[0] for v in per_page.values()) / n
    r = sum(v[1] for v in per_page.values()) / n
    return {
        "pages": len(per_page),
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "mean_page_f1": sum(v[2] for v in per_page.values()) / n,
        "ms_per_page": 1000 * seconds / n,
        "per_page": per_page,
    }


def score_handcrafted(extract_fn: Callable[[str], str]) -> dict[str, object]:
    """Scores of ``extract_fn`` (decoded HTML -> main text) on the handcrafted set."""
    return score_pages(extract_fn, load_handcrafted())


def ours(html: str) -> str:
    """Our cleaner's body text for a decoded HTML page."""
    from ingest.clean import clean_html

    return clean_html(html).text


def trafilatura_default(html: str) -> str:
    """trafilatura's default extraction, the baseline."""
    import trafilatura

    return trafilatura.extract(html) or ""


def _row(name: str, s: dict[str, object]) -> str:
    return (
        f"{name:<22} P={s['precision']:.3f}  R={s['recall']:.3f}  F1={s['f1']:.3f}  "
        f"mean page F1={s['mean_page_f1']:.3f}  {s['ms_per_page']:.0f} ms/page"
    )


def main(argv: list[str] | None = None) -> int:
    """Print both scores; with ``-v`` also the pages where we score worst."""
    argv = sys.argv[1:] if argv is None else argv
    if skipped("bench_clean", print, HANDCRAFTED / "original"):
        return 0
    pages = load_handcrafted()
    print(f"zh-web-extraction-handcrafted: {len(pages)} pages, character-bag P/R/F1")
    mine = score_pages(ours, pages)
    base = score_pages(trafilatura_default, pages)
    print(_row("ingest.clean_html", mine))
    print(_row("trafilatura.extract", base))
    if "-v" in argv:
        worst = sorted(mine["per_page"].items(), key=lambda kv: kv[1][2])[:15]  # type: ignore[union-attr]
        for page_id, (p, r, f) in worst:
            b = base["per_page"][page_id]  # type: ignore[index]
            print(f"  {page_id}  P={p:.2f} R={r:.2f} F1={f:.2f}   trafilatura F1={b[2]:.2f}")
    return 0


if __name__ == "__main__":
    from rag.core.config import apply_offline_env

    apply_offline_env()  # an entry point: offline before any model loads
    raise SystemExit(main())
