"""How well each judge catches unsupported sentences, on a labelled set built from RGB zh.

Supported sentences: sentences taken verbatim from RGB positive passages, a clause of
one, the same sentence in Traditional script, and zh_fact's true sentences. Unsupported
ones: the same sentences perturbed (a number, a date, a year or a Chinese quantity
changed to a value the passage does not hold; a person, place or organization swapped
for another name of the corpus; a negation added or removed) and zh_fact's
counterfactual sentences (positive_wrong) judged against the true passage. Each
sentence is judged against the one passage it came from.

Precision and recall are for the "unsupported" class: recall = share of unsupported
sentences caught, precision = share of flagged sentences that were unsupported.

The second set is the labelled faithfulness set (eval.faithfulness_set): paraphrases
and meaning flips of real sentences of the sample pages, CRUD news and RGB, split by
article into a tuning half and a held-out half. The HELD-OUT half is what is reported;
the judge's lexicons were tuned on the tuning half only. Both sets are judged by
today's lexical judge and by the judge as it was before issue 12
(eval.judge_before_i12), side by side, and ``rag judge`` is timed as a fresh process.

Run: ``python -m eval.judge_quality`` (skips, exit 0, when ../shared is absent).
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from eval import data
from eval.judges import Judge

SEED = 7
MAX_ROWS = 300
# Sentences `rag judge` is timed on: enough that start-up is a small part of the time.
THROUGHPUT_SENTENCES = 2000
# Timed runs; the fastest counts (as timeit does: slower runs measure what else the host
# was doing). One run read 175-195 per CPU second on a busy host where the next read 348.
THROUGHPUT_RUNS = 3
_DATE = re.compile(r"(?<!\d)(1[0-2]|[1-9])月(3[01]|[12]\d|[1-9])日")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?=年)")
# Not inside [n] (wiki reference marks, which judges strip as citation markers).
_NUMBER = re.compile(r"(?<![\d.年月\[])(\d+(?:\.\d+)?)(?![\d.\]]|年|月|日)")
_CN_QTY = re.compile(r"([一二两三四五六七八九十])(?=[人名个家位次项届天])")
_NEG_ADD = re.compile(r"(是|有|将|已经|已|会|能|可以)")
_NEG_REMOVE = [("没有", "有"), ("并未", "已"), ("尚未", "已"), ("不是", "是"), ("不会", "会"),
               ("不能", "能"), ("未", "已")]  # fmt: skip
_CN = "一二三四五六七八九"


@dataclass(frozen=True)
class Example:
    sentence: str
    passage: str
    supported: bool
    kind: str  # how it was made: verbatim, clause, traditional, number, date, ...


def _sentences(passage: str) -> list[str]:
    from rag.core.text.sentences import split_sentences

    out = []
    for s, e in split_sentences(passage):
        text = passage[s:e].strip()
        # Search-snippet date lines and fragments are not claims.
        if 15 <= len(text) <= 150 and not re.match(r"^[A-Z][a-z]{2} \d", text):
            out.append(text)
    return out


def _replace_once(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _perturb_date(s: str, passage: str, rng: random.Random) -> str | None:
    for m in _DATE.finditer(s):
        month, day = int(m.group(1)), int(m.group(2))
        options = [(month % 12 + 1, day), (month, day % 28 + 1), (month, (day + 9) % 28 + 1)]
        rng.shuffle(options)
        for mo, d in options:
            new = f"{mo}月{d}日"
            if new not in passage:
                return _replace_once(s, m.start(), m.end(), new)
    return None


def _perturb_year(s: str, passage: str, rng: random.Random) -> str | None:
    for m in _YEAR.finditer(s):
        for delta in rng.sample([-2, -1, 1, 2], 4):
            new = str(int(m.group(1)) + delta)
            if new not in passage:
                return _replace_once(s, m.start(1), m.end(1), new)
    return None


def _perturb_number(s: str, passage: str, rng: random.Random) -> str | None:
    for m in _NUMBER.finditer(s):
        raw = m.group(1)
        if len(raw) == 4 and raw.startswith(("19", "20")):
            continue  # a year: handled by _perturb_year
        value = float(raw)
        for factor in rng.sample([2, 3, 0.5, 1.1], 4):
            changed = value * factor if value else factor
            new = f"{changed:.{len(raw.split('.')[1])}f}" if "." in raw else str(round(changed))
            if new != raw and new not in passage:
                return _replace_once(s, m.start(1), m.end(1), new)
    return None


def _perturb_quantity(s: str, passage: str, rng: random.Random) -> str | None:
    for m in _CN_QTY.finditer(s):
        for new in rng.sample(_CN, len(_CN)):
            if new != m.group(1) and new + s[m.end()] not in passage:
                return _replace_once(s, m.start(), m.end(), new)
    return None


def _perturb_negation(s: str, passage: str, rng: random.Random) -> tuple[str, str] | None:
    from eval.judge_before_i12 import negated_before_i12 as negated
    from rag.core.text.fold import fold

    # The rule of the commit this set was first built with, so the set stays the same.
    if negated(fold(s)):
        for old, new in _NEG_REMOVE:
            i = s.find(old)
            if i >= 0:
                changed = _replace_once(s, i, i + len(old), new)
                if not negated(fold(changed)):
                    return changed, "negation_removed"
        return None
    m = _NEG_ADD.search(s)
    if m is None:
        return None
    negation = {"是": "不是", "有": "没有", "将": "不会", "已经": "尚未", "已": "未", "会": "不会",
                "能": "不能", "可以": "不可以"}[m.group(1)]  # fmt: skip
    return _replace_once(s, m.start(), m.end(), negation), "negation_added"


def _tagged_names(text: str) -> list[tuple[str, str]]:
    from rag.analysis.query import tagged_names

    kinds = {"nr": "person", "ns": "place", "nt": "org"}
    return [(w, kinds[tag[:2]]) for w, tag in tagged_names(text) if tag[:2] in kinds and w.strip()]


def _perturb_name(
    s: str, passage: str, pools: dict[str, list[str]], rng: random.Random
) -> tuple[str, str] | None:
    names = _tagged_names(s)
    rng.shuffle(names)
    for name, kind in names:
        candidates = [n for n in pools[kind] if n not in passage and n != name]
        if candidates:
            return s.replace(name, rng.choice(candidates), 1), f"{kind}_swap"
    return None


def _move_number(s: str, passage: str, rng: random.Random) -> str | None:
    """A number of the sentence replaced by another number of the same passage (a
    misattribution: the value is in the source, about something else)."""
    here = [
        m
        for m in _NUMBER.finditer(s)
        if not (len(m.group(1)) == 4 and m.group(1)[:2] in ("19", "20"))
    ]
    others = sorted({m.group(1) for m in _NUMBER.finditer(passage)} - {m.group(1) for m in here})
    if not here or not others:
        return None
    m = rng.choice(here)
    return _replace_once(s, m.start(1), m.end(1), rng.choice(others))


def _move_name(s: str, passage: str, rng: random.Random) -> str | None:
    """A name of the sentence replaced by another name of the same kind in the passage."""
    names = _tagged_names(s)
    in_passage = _tagged_names(passage)
    rng.shuffle(names)
    for name, kind in names:
        others = sorted({n for n, k in in_passage if k == kind and n not in s and name not in n})
        if others:
            return s.replace(name, rng.choice(others), 1)
    return None


def build_examples(rows: list[dict], fact_rows: list[dict], seed: int = SEED) -> list[Example]:
    """The labelled set (deterministic for a seed)."""
    from rag.core.text.fold import converter, fold

    s2t = converter("s2t")
    rng = random.Random(seed)
    picked: list[tuple[str, str]] = []  # (sentence, passage)
    for row in rows[:MAX_ROWS]:
        passages = [p for p in row["positive"] if _sentences(p)]
        if not passages:
            continue
        passage = rng.choice(passages)
        picked.append((rng.choice(_sentences(passage)), passage))
    pools: dict[str, set[str]] = defaultdict(set)
    for _, passage in picked:
        for name, kind in _tagged_names(passage):
            pools[kind].add(name)
    sorted_pools = {k: sorted(v) for k, v in pools.items()}
    for kind in ("person", "place", "org"):
        sorted_pools.setdefault(kind, [])

    out: list[Example] = []
    for i, (s, passage) in enumerate(picked):
        out.append(Example(s, passage, True, "verbatim"))
        clauses = [c for c in re.split(r"[，,；;]", s) if len(c) >= 10]
        if len(clauses) > 1:
            out.append(Example(rng.choice(clauses), passage, True, "clause"))
        if i % 3 == 0:
            out.append(Example(s2t.convert(s), passage, True, "traditional"))
        made: list[tuple[str, str]] = []
        for kind, fn in (
            ("date", _perturb_date),
            ("year", _perturb_year),
            ("number", _perturb_number),
            ("quantity", _perturb_quantity),
        ):
            changed = fn(s, passage, rng)
            if changed and changed != s:
                made.append((changed, kind))
        negation = _perturb_negation(s, passage, rng)
        if negation:
            made.append(negation)
        name = _perturb_name(s, passage, sorted_pools, rng)
        if name:
            made.append(name)
        for kind, fn in (("number_moved", _move_number), ("name_moved", _move_name)):
            changed = fn(s, passage, rng)
            if changed and changed != s:
                made.append((changed, kind))
        for j, (changed, kind) in enumerate(made):
            if (i + j) % 4 == 0:  # some perturbed sentences in Traditional script too
                changed = s2t.convert(changed)
            out.append(Example(changed, passage, False, kind))

    for row in fact_rows:
        fakes = _answers(row.get("fakeanswer"))
        trues = _answers(row.get("answer"))
        for right, wrong in zip(row["positive"], row["positive_wrong"], strict=False):
            if right == wrong:
                continue
            true_s = [s for s in _sentences(right) if any(fold(t) in fold(s) for t in trues)]
            wrong_s = [
                s
                for s in _sentences(wrong)
                if any(fold(f) in fold(s) for f in fakes) and s not in right
            ]
            if true_s and wrong_s:
                out.append(Example(true_s[0], right, True, "fact_true"))
                out.append(Example(wrong_s[0], right, False, "counterfactual"))
                break
    return out


def _answers(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(a) for v in value for a in (v if isinstance(v, list) else [v])]
    return [str(value)] if value else []


def score(examples: list[Example], flagged: list[bool]) -> dict:
    """Precision/recall of flagging unsupported sentences, overall and per kind."""
    tp = sum(f and not e.supported for e, f in zip(examples, flagged, strict=True))
    fp = sum(f and e.supported for e, f in zip(examples, flagged, strict=True))
    fn = sum(not f and not e.supported for e, f in zip(examples, flagged, strict=True))
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for e, f in zip(examples, flagged, strict=True):
        by_kind[e.kind]["n"] += 1
        by_kind[e.kind]["flagged"] += int(f)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "unsupported": tp + fn,
        "supported": len(examples) - tp - fn,
        "flag_rate_by_kind": {k: c["flagged"] / c["n"] for k, c in sorted(by_kind.items())},
        "n_by_kind": {k: c["n"] for k, c in sorted(by_kind.items())},
    }


def evaluate_judge(judge: Judge, examples: list[Example]) -> tuple[dict, list[bool], list[str]]:
    """Scores of ``judge`` on ``examples`` (all kinds, and "core" without HARD_KINDS)."""
    verdicts, ms = judge_items(judge, examples)
    flagged = [not v.supported for v in verdicts]
    result = score(examples, flagged)
    core = [(e, f) for e, f in zip(examples, flagged, strict=True) if e.kind not in HARD_KINDS]
    core_score = score([e for e, _ in core], [f for _, f in core])
    result["core"] = {k: core_score[k] for k in ("precision", "recall", "f1")}
    result["ms_per_sentence"] = ms
    return result, flagged, [v.reason for v in verdicts]


# --- the labelled faithfulness set (eval.faithfulness_set) ----------------------------------


def score_items(items: list, verdicts: list) -> dict:
    """Per-type recall (share of each unsupported type flagged), overall precision and
    false-flag rate on the supported paraphrases, and how often a caught sentence's
    reported type is the type it was made as."""
    from eval.faithfulness_set import UNSUPPORTED_TYPES

    recall: dict[str, float] = {}
    counts: dict[str, int] = {}
    for kind in UNSUPPORTED_TYPES:
        flags = [not v.supported for it, v in zip(items, verdicts, strict=True) if it.type == kind]
        counts[kind] = len(flags)
        recall[kind] = sum(flags) / len(flags) if flags else 0.0
    tp = sum(not v.supported and not it.supported for it, v in zip(items, verdicts, strict=True))
    fp = sum(not v.supported and it.supported for it, v in zip(items, verdicts, strict=True))
    caught = [
        (it, v)
        for it, v in zip(items, verdicts, strict=True)
        if not it.supported and not v.supported
    ]
    paraphrases = sum(it.supported for it in items)
    return {
        "recall": recall,
        "n": counts,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "paraphrases": paraphrases,
        "false_flags": fp,
        "type_agreement": (sum(v.type == it.type for it, v in caught) / len(caught))
        if caught
        else 0.0,
    }


def judge_items(judge: Judge, items: list) -> tuple[list, float]:
    """The verdicts of ``judge`` on items (each a ``sentence`` citing its ``passage``),
    and ms per sentence."""
    start = time.perf_counter()
    verdicts = [judge.check(it.sentence, [it.passage]) for it in items]
    return verdicts, 1000 * (time.perf_counter() - start) / max(len(items), 1)


def throughput(items: list, limit: int = THROUGHPUT_SENTENCES, runs: int = THROUGHPUT_RUNS) -> dict:
    """``rag judge --json`` run as a fresh process (start-up included) on ``limit``
    sentences of the set, each an answer citing its passage as [1]: sentences per
    wall-clock second, and per CPU second of the child (what the CI gate checks: unlike
    wall-clock time it does not fall when other jobs share the runner's cores). The
    fastest of ``runs`` runs, with ``runs`` recorded."""
    timed = [_judge_once(items[:limit]) for _ in range(runs)]
    return {**max(timed, key=lambda t: t["per_cpu_second"]), "runs": runs}


def _judge_once(items: list) -> dict:
    import json
    import resource
    import subprocess

    from eval.data import ROOT

    lines = [
        json.dumps({"answer": it.sentence + "[1]", "contexts": [it.passage]}, ensure_ascii=False)
        for it in items
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "judge", "--json"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:  # a crash must not read as a slow judge
        raise RuntimeError(f"rag judge exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    judged = sum(len(json.loads(line).get("sentences", [])) for line in done.stdout.splitlines())
    return {
        "sentences": judged,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "per_second": judged / seconds if seconds else 0.0,
        "per_cpu_second": judged / cpu if cpu else 0.0,
    }


def run_faithfulness(print_fn: Callable[..., None] = print, *, full: bool = True) -> dict:
    """The labelled faithfulness set: per-type recall and overall precision of today's
    judge and of the judge before issue 12 on the HELD-OUT half (reported), today's on
    the tuning half (the one the lexicons were tuned on, shown for reference), and
    ``rag judge`` throughput. ``full`` False: today's judge on the held-out half only
    (the CI gate)."""
    from eval.faithfulness_set import HELDOUT, TUNING, UNSUPPORTED_TYPES, build, inputs
    from eval.judge_before_i12 import LexicalJudgeBeforeI12
    from eval.judges import LexicalJudge

    if data.skipped("faithfulness set", print_fn, *inputs()):
        return {"skipped": True}
    started = time.perf_counter()
    items = build()
    halves = {
        half: [it for it in items if it.half == half]
        for half in ((HELDOUT, TUNING) if full else (HELDOUT,))
    }
    print_fn(
        f"Faithfulness set: {len(items)} sentences from ../shared built in "
        f"{time.perf_counter() - started:.0f} s; held out {len(halves[HELDOUT])}, "
        f"tuning {len(items) - len(halves[HELDOUT])} (split by article; the lexicons were "
        "tuned on the tuning half only)"
    )
    out: dict = {"sentences": len(items)}
    now, before_i12 = LexicalJudge(), LexicalJudgeBeforeI12()
    for half, part in halves.items():
        # The judge before issue 12 only beside today's on the reported half.
        runs = [("before", before_i12)] if full and half == HELDOUT else []
        out[half] = {}
        for name, judge in [*runs, ("now", now)]:
            verdicts, ms = judge_items(judge, part)
            out[half][name] = {**score_items(part, verdicts), "ms_per_sentence": ms}
    held = out[HELDOUT]
    before = held.get("before")
    print_fn(f"{'held-out half':22s} {'before issue 12':>16s} {'now':>10s} {'n':>6s}")
    for kind in UNSUPPORTED_TYPES:
        was = f"{before['recall'][kind]:16.3f}" if before else f"{'–':>16s}"
        print_fn(
            f"  recall {kind:14s} {was} {held['now']['recall'][kind]:10.3f} "
            f"{held['now']['n'][kind]:6d}"
        )
    for key, label in (("precision", "precision (all)"), ("type_agreement", "type named right")):
        # The judge before issue 12 named no types.
        was = f"{before[key]:16.3f}" if before and key == "precision" else f"{'–':>16s}"
        print_fn(f"  {label:21s} {was} {held['now'][key]:10.3f}")
    print_fn(
        f"  false flags on {held['now']['paraphrases']} paraphrases: "
        f"before {before['false_flags'] if before else '–'}, now {held['now']['false_flags']}"
    )
    if TUNING in out:
        tuned = out[TUNING]["now"]
        print_fn(
            "tuning half, now (for reference, not a result): precision "
            f"{tuned['precision']:.3f}, recall "
            + ", ".join(f"{k} {tuned['recall'][k]:.3f}" for k in UNSUPPORTED_TYPES)
        )
    speed = throughput(halves[HELDOUT])
    out["throughput"] = speed
    print_fn(
        f"rag judge --json, fresh process, fastest of {speed['runs']} runs: "
        f"{speed['sentences']} sentences in "
        f"{speed['seconds']:.1f} s = {speed['per_second']:.0f} sentences/s (start-up "
        f"included) [target >= 200]; {speed['per_cpu_second']:.0f} per CPU second; in "
        f"process {held['now']['ms_per_sentence']:.2f} ms/sentence"
    )
    return out


def gate_summary(print_fn: Callable[..., None] = print) -> dict[str, float | None]:
    """The figures the CI gate guards (eval/gate.json, run "judges"): today's lexical
    judge on the RGB set (core precision and recall, zh_fact counterfactuals caught) and
    on the held-out half of the faithfulness set (recall per type, precision), and
    ``rag judge`` sentences per second. None where ../shared is absent."""
    from eval.faithfulness_set import HELDOUT, UNSUPPORTED_TYPES

    rgb = run_rgb(print_fn, ("lexical",), before=False)
    faith = run_faithfulness(print_fn, full=False)
    lexical = rgb.get("judges", {}).get("lexical", {})
    held = faith.get(HELDOUT, {}).get("now", {})
    out: dict[str, float | None] = {
        "rgb_precision": lexical.get("core", {}).get("precision"),
        "rgb_recall": lexical.get("core", {}).get("recall"),
        "counterfactual_recall": lexical.get("flag_rate_by_kind", {}).get("counterfactual"),
        "heldout_precision": held.get("precision"),
        "judge_sentences_per_s": faith.get("throughput", {}).get("per_second"),
        "judge_sentences_per_cpu_s": faith.get("throughput", {}).get("per_cpu_second"),
    }
    for kind in UNSUPPORTED_TYPES:
        out[f"heldout_recall_{kind}"] = held.get("recall", {}).get(kind)
    return out


def run(
    print_fn: Callable[..., None] = print, judges: tuple[str, ...] = ("lexical", "nli", "llm")
) -> dict:
    """Both labelled sets: the RGB set (every judge that can run here, and the judge
    before issue 12 beside the lexical one) and the faithfulness set (held-out half)."""
    results = run_rgb(print_fn, judges)
    print_fn("")
    results["faithfulness"] = run_faithfulness(print_fn)
    return results


def run_rgb(
    print_fn: Callable[..., None] = print,
    judges: tuple[str, ...] = ("lexical", "nli", "llm"),
    *,
    before: bool = True,
) -> dict:
    """Build the RGB set, judge it with every judge that can run here, print a table."""
    from eval.judge_before_i12 import LexicalJudgeBeforeI12
    from eval.judges import JudgeUnavailable, make_judge

    refine, fact = data.rgb_path("zh_refine"), data.rgb_path("zh_fact")
    if data.skipped("judge_quality", print_fn, refine, fact):
        return {"skipped": True}
    examples = build_examples(data.load_rgb(refine), data.load_rgb(fact))
    n_unsup = sum(not e.supported for e in examples)
    print_fn(
        f"Judge quality on {len(examples)} RGB-derived sentences "
        f"({len(examples) - n_unsup} supported, {n_unsup} unsupported)"
    )
    results: dict = {"examples": len(examples), "judges": {}}
    for name in (("before_i12",) if before else ()) + judges:
        try:
            judge = LexicalJudgeBeforeI12() if name == "before_i12" else make_judge(name)
        except JudgeUnavailable as exc:
            print_fn(f"{name:10s} skipped: {exc}")
            results["judges"][name] = {"skipped": str(exc)}
            continue
        result, flagged, reasons = evaluate_judge(judge, examples)
        results["judges"][name] = result
        core = result["core"]
        print_fn(
            f"{name:10s} core: precision {core['precision']:.3f}  recall {core['recall']:.3f}  "
            f"| with misattributions: precision {result['precision']:.3f}  "
            f"recall {result['recall']:.3f}  ({result['ms_per_sentence']:.1f} ms/sentence)"
        )
        if name == "before_i12":
            continue  # its per-kind rates are in the side-by-side table below
        for kind, rate in result["flag_rate_by_kind"].items():
            label = "false flags" if kind in SUPPORTED_KINDS else "caught"
            old = results["judges"].get("before_i12", {}).get("flag_rate_by_kind", {}).get(kind)
            was = f"  (before issue 12: {old:.3f})" if name == "lexical" and old is not None else ""
            print_fn(f"  {kind:18s} n={result['n_by_kind'][kind]:4d}  {label} {rate:.3f}{was}")
        misses = Counter(
            e.kind for e, f in zip(examples, flagged, strict=True) if (not f) != e.supported
        )
        result["errors_by_kind"] = dict(misses)
        result["error_samples"] = [
            {"kind": e.kind, "sentence": e.sentence, "reason": r}
            for e, f, r in zip(examples, flagged, reasons, strict=True)
            if (not f) != e.supported
        ][:40]
    lexical = results["judges"].get("lexical", {})
    if "flag_rate_by_kind" in lexical:
        rate = lexical["flag_rate_by_kind"].get("counterfactual", 0.0)
        old = results["judges"].get("before_i12", {}).get("flag_rate_by_kind", {})
        n = lexical["n_by_kind"].get("counterfactual", 0)
        was = f" (before issue 12: {old['counterfactual']:.3f})" if "counterfactual" in old else ""
        print_fn(
            f"zh_fact counterfactuals (a set no generator made): {rate:.3f} of {n} caught{was}"
        )
    return results


SUPPORTED_KINDS = {"verbatim", "clause", "traditional", "fact_true"}
# Values moved within the passage: the value is in the source, about something else.
# A lexical judge cannot see these; reported apart from the core figures.
HARD_KINDS = {"number_moved", "name_moved"}


if __name__ == "__main__":
    from rag.core.config import apply_offline_env

    apply_offline_env()  # an entry point: offline before any model loads
    run()
    sys.exit(0)
