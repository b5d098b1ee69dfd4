"""`make train`: fit the learned extractive answerer and write rag/answer/data/answerer.json.gz.

    python -m eval.train_answerer [--rebuild] [--out PATH]

Labelled rows come from eval/answerer_data.py (DRCD, CMRC 2018 and RGB zh_refine,
retrieved through the product; cached under bench-results/answerer/, rebuilt with
--rebuild, about 20 minutes on this 2-core machine). Fitting uses the rows of the
"train" split, every threshold and ratio is chosen on "val", and the "test" rows are
only measured. The artifact records its feature lists, the data files with their
sha256, the row counts and the figures. Same rows, same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eval.answerer_data import CACHE, SETS, inputs
from eval.answerer_fit import data_record, dumps, fit, prepare_all
from rag.answer.model import ARTIFACT, write_artifact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_answerer", description=__doc__)
    parser.add_argument("--rebuild", action="store_true", help="retrieve every row again")
    parser.add_argument("--out", type=Path, default=ARTIFACT)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    from eval.data import skipped

    if skipped("train_answerer", print, *(p for name in SETS for p in inputs(name))):
        return 2
    print("labelled rows:")
    items = prepare_all(SETS, args.cache, args.rebuild)
    print("fitting:")
    result = fit(items, data_record(items, SETS, args.cache))
    write_artifact(args.out, dumps(result))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")
    for split, by_set in result["metrics"].items():
        for name, f in by_set.items():
            print(
                f"  {split:4} {name:4}  accuracy {f['accuracy']:.3f}  false refusals "
                f"{f['false_refusals']:.3f}  correct refusals {f['correct_refusals']:.3f}"
            )
    return 0


if __name__ == "__main__":
    from rag.core.config import apply_offline_env

    apply_offline_env()
    sys.exit(main())
