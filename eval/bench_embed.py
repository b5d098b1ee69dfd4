"""Dense-retrieval quality and speed of an embedder on RGB zh (../shared/data/rgb-zh).

Every distinct passage (positive and negative, all 300 questions) goes into one pool;
each query ranks the whole pool by cosine. recall@k: some positive is in the top k.

    python -m eval.bench_embed [--embedder hash] [--dim 1024]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from eval import data
from eval.metrics import hit_rate


def evaluate(embedder, path: Path | None = None) -> dict:
    """Embed the pool and the queries; return recall@1/@5 and timings."""
    rgb = data.RgbPassages.from_rows(data.load_rgb(path))
    passages, queries, positives = rgb.texts, rgb.questions, rgb.positives
    t0 = time.perf_counter()
    docs = embedder.embed_documents(passages)
    t_docs = time.perf_counter() - t0
    t0 = time.perf_counter()
    qs = np.stack([embedder.embed_query(q) for q in queries])
    t_queries = time.perf_counter() - t0
    top = np.argsort(-(qs @ docs.T), axis=1)[:, :5].tolist()
    r1, r5 = hit_rate(top, positives, 1), hit_rate(top, positives, 5)
    chars = sum(map(len, passages))
    return {
        "embedder": embedder.config(),
        "passages": len(passages),
        "chars": chars,
        "queries": len(queries),
        "recall@1": round(float(r1), 4),
        "recall@5": round(float(r5), 4),
        "embed_docs_s": round(t_docs, 3),
        "embed_query_ms": round(1000 * t_queries / len(queries), 3),
    }


def bench_speed(embedder, n: int = 20_000, size: int = 300) -> float:
    """Seconds to embed n chunks of `size` characters cut from the RGB passages."""
    text = "".join(data.RgbPassages.from_rows(data.load_rgb()).texts)
    chunks = [text[(i * size) % (len(text) - size) :][:size] for i in range(n)]
    t0 = time.perf_counter()
    embedder.embed_documents(chunks)
    return time.perf_counter() - t0


def run(embedder_spec: str = "hash", dim: int | None = None, speed: bool = True) -> dict | None:
    """Entry point for `make bench`; prints the result, or a skip message without ../shared."""
    if data.skipped("bench_embed", print, data.RGB_REFINE):
        return None
    from rag.core.config import Settings
    from rag.core.embed import HashEmbedder, load_embedder

    if embedder_spec == "hash" and dim is not None:
        embedder = HashEmbedder(dim=dim)
    else:
        embedder = load_embedder(embedder_spec, default_model=Settings().default_model)
    result = evaluate(embedder)
    if speed:
        result["embed_20k_x_300_chars_s"] = round(bench_speed(embedder), 3)
    print(json.dumps(result, ensure_ascii=False))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", default="hash", help='"hash", "auto", or a model path')
    parser.add_argument("--dim", type=int, default=None, help="hash embedder dimension")
    parser.add_argument("--no-speed", action="store_true", help="skip the 20k-chunk timing")
    args = parser.parse_args(argv)
    run(args.embedder, args.dim, speed=not args.no_speed)


if __name__ == "__main__":
    from rag.core.config import apply_offline_env

    apply_offline_env()  # an entry point: offline before any model loads
    main()
