"""The CI gate: a small eval whose metrics must stay above the thresholds in gate.json.

Runs (hash embedder, lexical judge, extractive answerer, so the figures are the same on
every machine): the sample_pages set on a store built from ../shared/corpus, slices
of RGB zh_refine (noise) and of its distractor-only variant (refusal), the DRCD/CMRC
held-out articles, RGB zh_fact as news never fitted on (answered, refused); and the judge
itself (a run of kind "judge_quality": eval.judge_quality.gate_summary, the lexical
judge on the RGB set and on the held-out half of the faithfulness set, recall per
type, precision, ``rag judge`` sentences per second). Prints a table;
exits 1 when a metric is below its ``min`` or above its ``max``, 0 otherwise, and 0 with
a message when ../shared is absent.

    python -m eval.gate [--config eval/gate.json] [--only NAME] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.data import ROOT, SHARED, skipped

CONFIG = Path(__file__).with_name("gate.json")


def check(summary: dict[str, Any], limits: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per threshold: metric, value, bound, ok (a missing value fails)."""
    rows = []
    for kind in ("min", "max"):
        for metric, bound in sorted(limits.get(kind, {}).items()):
            value = summary.get(metric)
            if value is None:
                ok = False
            else:
                ok = value >= bound if kind == "min" else value <= bound
            rows.append({"metric": metric, "value": value, kind: bound, "ok": ok})
    return rows


def run_one(name: str, spec: dict[str, Any], shared: Path, log: Callable[[str], None]) -> dict:
    """Build the store for one gate run, evaluate it, return the eval result (for a
    "judge_quality" run: the judge's figures as its summary)."""
    if spec.get("kind") == "judge_quality":
        from eval.judge_quality import gate_summary

        return {"summary": gate_summary(log)}
    from eval.cli import prepare, run_eval
    from eval.judges import make_judge
    from ingest.pipeline import ingest
    from rag.assistant import Assistant
    from rag.core.config import Settings

    with tempfile.TemporaryDirectory(prefix=f"rag-gate-{name}-") as tmp:
        settings = Settings.from_env({}, db=Path(tmp) / "db", embedder=spec.get("embedder", "hash"))
        set_name = spec["set"]
        if spec.get("corpus"):
            corpus = Path(spec["corpus"])
            corpus = corpus if corpus.is_absolute() else shared / corpus
            report = ingest([corpus], settings)
            if report.failed:
                log(f"{name}: {len(report.failed)} corpus files failed to ingest")
        if ":" not in set_name and not Path(set_name).is_absolute():  # not an adapter
            set_name = str(ROOT / set_name)
        items, settings = prepare(
            set_name, settings, Path(tmp), own_store=False, limit=spec.get("limit"), log=log
        )
        assistant = Assistant(settings)
        judge = make_judge(spec.get("judge", "lexical"), settings)
        return run_eval(assistant, items, judge, name=name, k=settings.top_k)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [f"{'run':20s} {'metric':26s} {'value':>9s} {'threshold':>12s}  result"]
    for r in rows:
        bound = f">= {r['min']}" if "min" in r else f"<= {r['max']}"
        value = "–" if r["value"] is None else f"{r['value']:.3f}"
        lines.append(
            f"{r['run']:20s} {r['metric']:26s} {value:>9s} {bound:>12s}  "
            f"{'ok' if r['ok'] else 'FAIL'}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, shared: Path = SHARED) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.gate", description=__doc__)
    parser.add_argument("--config", default=str(CONFIG), help="thresholds file (gate.json)")
    parser.add_argument("--only", action="append", help="run only this gate run (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    from rag.core.config import apply_offline_env

    apply_offline_env()
    if skipped("eval gate", print, shared):
        return 0
    config = json.loads(Path(args.config).read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    for name, spec in config["runs"].items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        result = run_one(name, spec, shared, log)
        done = result["summary"].get("questions")
        what = f"{done} questions" if done is not None else "done"
        log(f"{name}: {what} in {time.perf_counter() - t0:.1f} s")
        rows += [{"run": name, **r} for r in check(result["summary"], spec)]
    failed = [r for r in rows if not r["ok"]]
    if args.json:
        print(json.dumps({"ok": not failed, "rows": rows}, ensure_ascii=False))
    else:
        print(format_table(rows))
        verdict = "FAILED" if failed else "passed"
        print(
            f"eval gate {verdict}: {len(rows) - len(failed)}/{len(rows)} thresholds met "
            f"in {time.perf_counter() - started:.0f} s"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
