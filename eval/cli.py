"""``rag eval`` and ``rag judge``: run an eval set through the Assistant and score it;
judge answers given on stdin.

Exit codes of ``rag eval``: 0 done; 1 a --baseline comparison found regressions;
2 bad input (unknown set, malformed set file, judge unavailable).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.judges import Judge, JudgeError, JudgeUnavailable, judge_answer, make_judge
from eval.report import SUMMARY_ORDER, compare, format_comparison, write_reports
from eval.sets_io import EvalItem, SetFormatError, item_json, load_set
from rag.core.config import Settings


def evaluate_item(assistant: Any, item: EvalItem, judge: Judge) -> dict[str, Any]:
    """Ask one question and score the answer (one per-question report row)."""
    start = time.perf_counter()
    answer = assistant.ask(item.question)
    latency_ms = 1000 * (time.perf_counter() - start)
    contexts = [h.text for h in answer.contexts]
    ranks = m.evidence_ranks(item.evidence, answer.contexts) if item.evidence else []
    verdicts = [] if answer.refused else judge_answer(answer.text, contexts, judge)
    row: dict[str, Any] = {
        **item_json(item),
        "answer": answer.text,
        "refused": answer.refused,
        "latency_ms": round(latency_ms, 1),
        "citations": [c.to_json(provenance=False) for c in answer.citations],
        "retrieved": [h.doc_id for h in answer.contexts],
        "evidence_ranks": ranks,
        "sentences": [
            {
                "text": v.text,
                "cited": list(v.cited),
                "supported": v.supported,
                "citation_ok": v.citation_ok,
                "precise": list(v.precise),
                "type": v.type,
                "reason": v.reason,
                "span": v.span,
            }
            for v in verdicts
        ],
        "faithfulness": m.faithfulness(verdicts),
        "citation_recall": m.citation_recall(verdicts),
        "citation_precision": m.citation_precision(verdicts),
        "warnings": list(answer.warnings),
    }
    if item.facts:
        row["fact_recall"] = 0.0 if answer.refused else m.fact_recall(item.facts, answer.text)
        row["correct"] = m.answer_correct(item.facts, answer.text, answer.refused)
    if item.fake_facts:
        # Warnings are shown with the answer (CLI, UI), so a conflict warning counts.
        shown = "\n".join([answer.text, *answer.warnings])
        row["counterfactual"] = m.counterfactual_outcome(
            shown, answer.refused, item.facts, item.fake_facts
        )
        row["conflict_in_contexts"] = m.conflict_in_contexts(contexts, item.facts, item.fake_facts)
    return row


def summarize(rows: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """The summary metrics over per-question rows (None where nothing applies)."""
    answerable = [r for r in rows if r["answerable"]]
    with_facts = [r for r in answerable if "correct" in r]
    with_evidence = [r for r in answerable if r.get("evidence")]
    ranks = [r["evidence_ranks"] for r in with_evidence]
    sentences = [s for r in rows for s in r["sentences"]]
    cited = [p for s in sentences for p in s["precise"]]
    fact_rows = [r for r in rows if "counterfactual" in r]
    latencies = [r["latency_ms"] for r in rows]
    summary: dict[str, Any] = {
        "questions": len(rows),
        "accuracy": m.mean(r["correct"] for r in with_facts),
        "fact_recall": m.mean(r["fact_recall"] for r in with_facts),
        "hit@1": m.mean(m.hit_at_k(x, 1) for x in ranks),
        "hit@k": m.mean(m.hit_at_k(x, k) for x in ranks),
        "recall@k": m.mean(m.recall_at_k(x, k) for x in ranks),
        "mrr": m.mean(m.reciprocal_rank(x) for x in ranks),
        # Micro averages over all judged sentences / citations (ALCE).
        "faithfulness": m.mean(s["supported"] for s in sentences),
        "citation_recall": m.mean(s["citation_ok"] for s in sentences),
        "citation_precision": m.mean(cited),
        **m.refusal_rates([r["answerable"] for r in rows], [r["refused"] for r in rows]),
        "counterfactual_flag_rate": m.mean(r["counterfactual"] == "flagged" for r in fact_rows),
        "counterfactual_fake_rate": m.mean(r["counterfactual"] == "fake" for r in fact_rows),
        "conflict_in_contexts_rate": m.mean(r["conflict_in_contexts"] for r in fact_rows),
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
    }
    return summary


def recall_curve(rows: Sequence[dict[str, Any]], k: int) -> dict[int, float | None]:
    ranks = [r["evidence_ranks"] for r in rows if r["answerable"] and r.get("evidence")]
    return {i: m.mean(m.recall_at_k(x, i) for x in ranks) for i in range(1, k + 1)}


def run_eval(
    assistant: Any,
    items: Sequence[EvalItem],
    judge: Judge,
    *,
    name: str,
    k: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Evaluate every item; the result is what report.json holds."""
    start = time.perf_counter()
    rows = []
    for i, item in enumerate(items, start=1):
        rows.append(evaluate_item(assistant, item, judge))
        if progress:
            progress(i, len(items))
    mode = getattr(assistant, "mode", {})
    return {
        "set": name,
        "judge": judge.describe(),
        "mode": dict(mode) if isinstance(mode, dict) else {},
        "k": k,
        "summary": summarize(rows, k),
        "recall_curve": recall_curve(rows, k),
        "seconds": round(time.perf_counter() - start, 3),
        "items": rows,
    }


def format_summary(result: dict[str, Any]) -> str:
    """A plain-text table of the summary metrics that apply."""
    lines = [f"{result['set']}  (judge: {result['judge']}, k={result['k']})"]
    for key in SUMMARY_ORDER:
        value = result["summary"].get(key)
        if value is None:
            continue
        shown = (
            f"{value:.1f}"
            if key.endswith("_ms")
            else (str(value) if isinstance(value, int) else f"{value:.3f}")
        )
        lines.append(f"  {key:28s} {shown:>9s}")
    return "\n".join(lines)


def prepare(
    set_name: str,
    settings: Settings,
    workdir: Path,
    *,
    own_store: bool,
    limit: int | None,
    log: Callable[[str], None],
) -> tuple[list[EvalItem], Settings]:
    """The items of ``set_name`` and the settings of the store to ask (RGB sets get their
    corpus ingested first: into a temp store unless ``own_store`` is False)."""
    if set_name.startswith("rgb:"):
        from eval import data, rgb

        task = set_name[4:]
        if task not in rgb.TASKS:
            raise SetFormatError(
                f"unknown RGB set {set_name!r}; use one of "
                + ", ".join("rgb:" + t for t in rgb.TASKS)
            )
        source = data.rgb_path(task.split(":")[0])
        if why := data.absent(source):
            raise FileNotFoundError(why)
        rows = data.load_rgb(source)[:limit] if limit else data.load_rgb(source)
        corpus = rgb.build(task, rows)
        if own_store:  # replace(), not with_(): with_ ignores None, and env may set a URL
            settings = replace(settings, db=workdir / "db", chroma_url=None)
        rgb.ingest_corpus(corpus, settings, workdir, log)
        return corpus.items, settings
    if set_name in ("drcd:test", "cmrc:test"):
        from eval import data, reading

        if why := data.absent(*data_inputs(set_name)):
            raise FileNotFoundError(why)
        items, records = reading.items_and_records(set_name, limit)
        if own_store:
            settings = replace(settings, db=workdir / "db", chroma_url=None)
        reading.ingest_records(records, settings, workdir, log)
        return items, settings
    path = Path(set_name)
    if not path.is_file():
        raise FileNotFoundError(f"no eval set at {path}")
    return load_set(path, limit), settings


def data_inputs(set_name: str) -> tuple[Path, ...]:
    """The ../shared files a reading-comprehension set is read from."""
    from eval.answerer_data import inputs

    return inputs(set_name.split(":")[0])


def run_eval_command(args: argparse.Namespace, settings: Settings) -> int:
    """``rag eval SET [--judge] [--json] [--report DIR] [--baseline FILE] [--limit N]``."""

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        judge = make_judge(args.judge or "lexical", settings)
    except JudgeUnavailable as exc:
        log(f"error: {exc}")
        return 2
    baseline = None
    if getattr(args, "baseline", None):
        try:
            baseline = json.loads(Path(args.baseline).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log(f"error: cannot read the baseline {args.baseline}: {exc}")
            return 2
    own_store = not (getattr(args, "db", None) or getattr(args, "chroma_url", None))
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        try:
            items, settings = prepare(
                args.set, settings, Path(tmp), own_store=own_store, limit=args.limit, log=log
            )
        except (SetFormatError, FileNotFoundError) as exc:
            log(f"error: {exc}")
            return 2
        if not items:
            log("error: the eval set has no questions")
            return 2
        from rag.assistant import Assistant

        assistant = Assistant(settings)
        if assistant.retriever.store.count_documents() == 0:
            log(f"warning: the store at {settings.db} is empty; every answer will be a refusal")

        def progress(i: int, n: int) -> None:
            if not args.json and (i % 25 == 0 or i == n):
                log(f"  {i}/{n} questions")

        try:
            result = run_eval(
                assistant, items, judge, name=args.set, k=settings.top_k, progress=progress
            )
        except JudgeError as exc:
            log(f"error: {exc}")
            return 2
    comparison = compare(result, baseline) if baseline else None
    if comparison is not None:
        result["comparison"] = comparison
    if args.report:
        for path in write_reports(result, Path(args.report)):
            log(f"wrote {path}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_summary(result))
        if comparison is not None:
            print(format_comparison(comparison))
    regressed = comparison is not None and any(c["regressed"] for c in comparison)
    return 1 if regressed else 0


def _contexts(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("'contexts' must be a list")
    out = []
    for c in value:
        if isinstance(c, dict):
            c = c.get("text", "")
        if not isinstance(c, str):
            raise ValueError("each context must be a string or an object with 'text'")
        out.append(c)
    return out


def run_judge_command(args: argparse.Namespace, settings: Settings) -> int:
    """``rag judge``: JSON lines {"answer", "contexts"} on stdin -> one verdict per line."""
    from eval.judges import verdicts_json

    try:
        judge = make_judge(getattr(args, "judge", None) or "lexical", settings)
    except JudgeUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or not isinstance(record.get("answer"), str):
                raise ValueError("expected a JSON object with an 'answer' string")
            verdicts = judge_answer(record["answer"], _contexts(record.get("contexts", [])), judge)
            out = verdicts_json(verdicts)
        except (ValueError, JudgeError) as exc:  # JSONDecodeError is a ValueError
            status = 1
            out = {"error": f"line {number}: {exc}"}
        if args.json:
            print(json.dumps(out, ensure_ascii=False), flush=True)
        elif "error" in out:
            print(out["error"], file=sys.stderr)
        else:
            score = "n/a" if out["score"] is None else f"{out['score']:.2f}"
            print(f"score {score}")
            for s in out["sentences"]:
                why = f"{s['type']}: {s['reason']}" if s["type"] else s["reason"]
                print(f"  {'✓' if s['supported'] else '✗'} {s['text']}  ({why})")
                if not s["supported"] and s["span"]:
                    print(f"      source [{s['span']['context']}]: {s['span']['text']}")
    return status
