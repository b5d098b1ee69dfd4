"""`make bench`: every benchmark in one run, each section printing its own table.

Sections run in order; one that fails is reported and the rest still run (exit 1 at the
end). Results land in bench-results/ (git-ignored) where a section writes them.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Callable

# (title, module, how to call it). Each module also runs alone: python -m eval.<module>.
SECTIONS: list[tuple[str, str, Callable[[object], object]]] = [
    ("Cleaning: handcrafted Chinese pages", "eval.bench_clean", lambda m: m.main([])),
    ("Embedder: weights-free hash embedder on RGB", "eval.bench_embed", lambda m: m.main([])),
    ("Ingest: CRUD news, ours vs LangChain tutorial", "eval.bench_ingest", lambda m: m.run()),
    ("Retrieval core on RGB (in memory)", "eval.bench_retrieval",
     lambda m: m.run(large=False)),
    ("Ask: RGB, refusal, latency through the product", "eval.bench_ask", lambda m: m.run()),
    ("Judges: precision/recall at catching unsupported sentences", "eval.judge_quality",
     lambda m: m.run()),
    ("Eval: this project vs the LangChain tutorial pipeline", "eval.compare", lambda m: m.run()),
    ("Scale: growth curve at 10k/50k/210k chunks (1M: RAG_BENCH_MILLION=1), vs LangChain",
     "eval.bench_scale", lambda m: m.run()),
]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from rag.core.config import apply_offline_env

    apply_offline_env()
    only = set(argv if argv is not None else sys.argv[1:])
    failed = []
    for title, module_name, call in SECTIONS:
        if only and module_name.split(".")[-1] not in only:
            continue
        print(f"\n=== {title} ({module_name}) ===", flush=True)
        started = time.perf_counter()
        try:
            call(importlib.import_module(module_name))
        except Exception:  # a broken section must not hide the others' figures
            traceback.print_exc()
            failed.append(module_name)
        print(f"--- {time.perf_counter() - started:.1f} s", flush=True)
    if failed:
        print(f"\nsections that failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
