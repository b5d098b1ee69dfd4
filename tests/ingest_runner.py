"""Run an ingest with the hash embedder and say when it has read a given number of
inputs, for the kill -9 tests: they kill it on that event, not on a guess.

    python tests/ingest_runner.py --db DIR --mark-at N --mark FILE PATH...

Writes its pid to FILE as the ingest reports its Nth input read (the pipeline's own
progress callback), then goes on; batches follow RAG_DOC_BATCH as in `rag ingest`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.pipeline import ingest  # noqa: E402
from rag.core.config import Settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--db", required=True)
    parser.add_argument("--mark-at", type=int, required=True)
    parser.add_argument("--mark", required=True)
    args = parser.parse_args()
    settings = Settings.from_env(db=args.db, embedder="hash")
    read = 0

    def progress(n: int) -> None:
        nonlocal read
        read += n
        if read == args.mark_at:
            Path(args.mark).write_text(str(os.getpid()), encoding="utf-8")

    report = ingest(args.paths, settings, progress=progress)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
