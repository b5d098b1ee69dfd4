"""Eval reports: report.json, report.md and a self-contained report.html (inline CSS and
SVG plots, no scripts, nothing fetched), plus the comparison with a baseline run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

# The summary metrics, in the order tables show them.
SUMMARY_ORDER = (
    "questions",
    "accuracy",
    "fact_recall",
    "hit@1",
    "hit@k",
    "recall@k",
    "mrr",
    "faithfulness",
    "citation_recall",
    "citation_precision",
    "correct_refusal_rate",
    "false_refusal_rate",
    "refusal_accuracy",
    "counterfactual_flag_rate",
    "counterfactual_fake_rate",
    "conflict_in_contexts_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)
TOLERANCE = 0.02  # a rate that drops by more than this (absolute) is a regression
LATENCY_FACTOR = 1.5  # latency regresses when it grows by this factor ...
LATENCY_SLACK_MS = 20.0  # ... and by more than this many milliseconds
LOWER_IS_BETTER = {
    "false_refusal_rate",
    "counterfactual_fake_rate",
    "latency_p50_ms",
    "latency_p95_ms",
}


def compare(
    result: dict[str, Any], baseline: dict[str, Any], tolerance: float = TOLERANCE
) -> list[dict[str, Any]]:
    """Metric-by-metric comparison with a previous report.json (or its summary)."""
    before_all = baseline.get("summary", baseline)
    out = []
    for key in SUMMARY_ORDER:
        before, after = before_all.get(key), result["summary"].get(key)
        if key == "questions" or before is None or after is None:
            continue
        delta = after - before
        if key.endswith("_ms"):
            regressed = after > before * LATENCY_FACTOR and delta > LATENCY_SLACK_MS
        elif key in LOWER_IS_BETTER:
            regressed = delta > tolerance
        else:
            regressed = -delta > tolerance
        out.append(
            {
                "metric": key,
                "before": before,
                "after": after,
                "delta": delta,
                "regressed": regressed,
            }
        )
    return out


def format_comparison(comparison: Sequence[dict[str, Any]]) -> str:
    lines = ["compared with the baseline:"]
    for c in comparison:
        flag = "  REGRESSION" if c["regressed"] else ""
        lines.append(
            f"  {c['metric']:28s} {_fmt(c['metric'], c['before']):>9s} -> "
            f"{_fmt(c['metric'], c['after']):>9s} ({c['delta']:+.3f}){flag}"
        )
    return "\n".join(lines)


def _fmt(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}" if key.endswith("_ms") else f"{value:.3f}"
    return str(value)


def summary_rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        (k, result["summary"][k]) for k in SUMMARY_ORDER if result["summary"].get(k) is not None
    ]


# --- Markdown -----------------------------------------------------------------------


def _md_cell(text: Any, limit: int = 160) -> str:
    value = str(text).replace("\n", " ").replace("|", "\\|")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def to_markdown(result: dict[str, Any]) -> str:
    out = [
        f"# Eval: {result['set']}",
        "",
        f"Judge: {result['judge']}; k = {result['k']}; "
        f"{result['summary']['questions']} questions in {result['seconds']} s.",
        "",
    ]
    if result.get("mode"):
        out += ["Mode: " + "; ".join(f"{k}: {v}" for k, v in result["mode"].items()), ""]
    out += ["| metric | value |", "|---|---|"]
    out += [f"| {k} | {_fmt(k, v)} |" for k, v in summary_rows(result)]
    if result.get("comparison"):
        out += [
            "",
            "## Compared with the baseline",
            "",
            "| metric | before | after | delta | |",
            "|---|---|---|---|---|",
        ]
        for c in result["comparison"]:
            flag = "**REGRESSION**" if c["regressed"] else ""
            out.append(
                f"| {c['metric']} | {_fmt(c['metric'], c['before'])} | "
                f"{_fmt(c['metric'], c['after'])} | {c['delta']:+.3f} | {flag} |"
            )
    out += [
        "",
        "## Questions",
        "",
        "| id | question | answer | correct | faithful | cites ok |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["items"]:
        answer = "(refused) " + r["answer"] if r["refused"] else r["answer"]
        out.append(
            f"| {_md_cell(r['id'])} | {_md_cell(r['question'])} | {_md_cell(answer)} | "
            f"{_fmt('', r.get('correct'))} | {_fmt('', r['faithfulness'])} | "
            f"{_fmt('', r['citation_recall'])} |"
        )
    return "\n".join(out) + "\n"


# --- SVG plots ----------------------------------------------------------------------

W, H, PAD = 360, 200, 32


def svg_histogram(
    values: Sequence[float],
    title: str,
    bins: int = 10,
    lo: float | None = None,
    hi: float | None = None,
) -> str:
    """An inline SVG bar chart of ``values`` in ``bins`` equal bins."""
    values = [float(v) for v in values if v is not None]
    lo = min(values, default=0.0) if lo is None else lo
    hi = max(values, default=1.0) if hi is None else hi
    if hi <= lo:
        hi = lo + 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / (hi - lo) * bins), bins - 1)] += 1
    top = max(counts, default=0) or 1
    bar_w = (W - 2 * PAD) / bins
    parts = [_svg_open(title)]
    for i, c in enumerate(counts):
        h = (H - 2 * PAD) * c / top
        x, y = PAD + i * bar_w, H - PAD - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
            f'fill="#4a7bd0"><title>{lo + i * (hi - lo) / bins:.3g}–'
            f"{lo + (i + 1) * (hi - lo) / bins:.3g}: {c}</title></rect>"
        )
    parts += _axes(f"{lo:.3g}", f"{hi:.3g}", str(top))
    parts.append(f'<text x="{W / 2}" y="{H - 4}" text-anchor="middle">n = {len(values)}</text>')
    return "".join(parts) + "</svg>"


def svg_line(points: Sequence[tuple[float, float]], title: str) -> str:
    """An inline SVG line chart of (x, y) points, y in [0, 1]."""
    parts = [_svg_open(title)]
    if points:
        xs = [p[0] for p in points]
        x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

        def at(x: float, y: float) -> tuple[float, float]:
            return (PAD + (x - x0) / (x1 - x0) * (W - 2 * PAD), H - PAD - y * (H - 2 * PAD))

        coords = [at(x, y) for x, y in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#d0644a" stroke-width="2"/>')
        for (x, y), (px, py) in zip(points, coords, strict=True):
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#d0644a">'
                f"<title>k={x:g}: {y:.3f}</title></circle>"
            )
        parts += _axes(f"{x0:g}", f"{x1:g}", "1.0")
    return "".join(parts) + "</svg>"


SERIES_COLOURS = ("#d0644a", "#3b7dd8", "#4a9d5b", "#8e5bb5", "#c99a2e")


def svg_lines(
    series: dict[str, Sequence[tuple[float, float]]], title: str, x_label: str, y_label: str
) -> str:
    """An SVG chart of several (x, y) lines, both axes 0..1, with a legend: one trade-off
    curve per set."""
    parts = [_svg_open(title)]

    def at(x: float, y: float) -> tuple[float, float]:
        return (PAD + x * (W - 2 * PAD), H - PAD - y * (H - 2 * PAD))

    for k, (name, points) in enumerate(series.items()):
        colour = SERIES_COLOURS[k % len(SERIES_COLOURS)]
        path = " ".join("{:.1f},{:.1f}".format(*at(x, y)) for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(
            f'<text x="{W - PAD - 4}" y="{PAD + 14 + 14 * k}" text-anchor="end" '
            f'fill="{colour}">{escape(name)}</text>'
        )
    parts += _axes("0", "1", "1")
    parts.append(f'<text x="{W / 2}" y="{H - 4}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text x="10" y="{H / 2}" text-anchor="middle" '
        f'transform="rotate(-90 10 {H / 2})">{escape(y_label)}</text>'
    )
    return "".join(parts) + "</svg>"


def _svg_open(title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}">'
        f'<text x="{W / 2}" y="16" text-anchor="middle" font-weight="bold">{escape(title)}</text>'
    )


def _axes(x_lo: str, x_hi: str, y_top: str) -> list[str]:
    return [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#333"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>',
        f'<text x="{PAD}" y="{H - PAD + 14}" text-anchor="middle">{escape(x_lo)}</text>',
        f'<text x="{W - PAD}" y="{H - PAD + 14}" text-anchor="middle">{escape(x_hi)}</text>',
        f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end">{escape(y_top)}</text>',
    ]


# --- HTML ---------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Noto Sans CJK TC",sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f2f2f2}.num{text-align:right}
.bad{background:#fde2e1}.good{background:#e3f5e1}.regressed{background:#f8b4b0;font-weight:bold}
.plots svg{margin:0 1em 1em 0;border:1px solid #eee;font-size:11px}
.sent{margin:2px 0}.muted{color:#777;font-size:90%}
.flaw{background:#f8b4b0;border-radius:3px;padding:0 4px;font-size:85%}
.span{margin-left:1.5em;color:#555;font-size:90%}
"""


def to_html(result: dict[str, Any]) -> str:
    """The self-contained HTML report."""
    s = result["summary"]
    e = escape
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Eval: {e(result['set'])}</title><style>{CSS}</style></head><body>",
        f"<h1>Eval: {e(result['set'])}</h1>",
        f"<p>Judge: {e(result['judge'])}; k = {result['k']}; {s['questions']} questions in "
        f"{result['seconds']} s.</p>",
    ]
    if result.get("mode"):
        out.append(
            "<p class='muted'>"
            + "; ".join(f"{e(k)}: {e(str(v))}" for k, v in result["mode"].items())
            + "</p>"
        )
    regressed = {c["metric"] for c in result.get("comparison") or [] if c["regressed"]}
    out.append("<h2>Summary</h2><table id='summary'><tr><th>metric</th><th>value</th></tr>")
    for k, v in summary_rows(result):
        cls = " class='regressed'" if k in regressed else ""
        out.append(f"<tr{cls}><td>{e(k)}</td><td class='num'>{e(_fmt(k, v))}</td></tr>")
    out.append("</table>")
    if result.get("comparison"):
        out.append(
            "<h2>Compared with the baseline</h2><table id='comparison'><tr><th>metric"
            "</th><th>before</th><th>after</th><th>delta</th><th></th></tr>"
        )
        for c in result["comparison"]:
            cls = " class='regressed'" if c["regressed"] else ""
            out.append(
                f"<tr{cls}><td>{e(c['metric'])}</td><td class='num'>"
                f"{_fmt(c['metric'], c['before'])}</td><td class='num'>"
                f"{_fmt(c['metric'], c['after'])}</td><td class='num'>{c['delta']:+.3f}</td>"
                f"<td>{'regression' if c['regressed'] else ''}</td></tr>"
            )
        out.append("</table>")
    items = result["items"]
    curve = [(float(k), v) for k, v in result.get("recall_curve", {}).items() if v is not None]
    out.append("<h2>Plots</h2><div class='plots'>")
    out.append(
        svg_histogram(
            [r["faithfulness"] for r in items if r["faithfulness"] is not None],
            "faithfulness per answer",
            lo=0.0,
            hi=1.0,
        )
    )
    out.append(
        svg_histogram(
            [r["fact_recall"] for r in items if "fact_recall" in r],
            "fact recall per answer",
            lo=0.0,
            hi=1.0,
        )
    )
    out.append(svg_line(sorted(curve), "recall@k"))
    out.append(svg_histogram([r["latency_ms"] for r in items], "latency (ms)", lo=0.0))
    out.append("</div>")
    out.append(
        "<h2>Questions</h2><table id='questions'><tr><th>id</th><th>question</th>"
        "<th>answer</th><th>citations</th><th>verdicts</th><th>scores</th></tr>"
    )
    for r in items:
        ok = r.get("correct")
        cls = "" if ok is None else (" class='good'" if ok else " class='bad'")
        answer = ("<b>refused</b>: " if r["refused"] else "") + e(r["answer"]).replace("\n", "<br>")
        cites = "<br>".join(f"[{c['n']}] {e(c['title'][:60])}" for c in r["citations"])
        verdicts = "".join(_verdict_html(v) for v in r["sentences"])
        scores = "<br>".join(
            f"{k}: {_fmt(k, r.get(k))}"
            for k in (
                "correct",
                "fact_recall",
                "faithfulness",
                "citation_recall",
                "citation_precision",
                "counterfactual",
                "latency_ms",
            )
            if r.get(k) is not None
        )
        out.append(
            f"<tr{cls}><td>{e(str(r['id']))}</td><td>{e(r['question'])}</td><td>{answer}</td>"
            f"<td>{cites}</td><td>{verdicts}</td><td class='muted'>{scores}</td></tr>"
        )
    out.append("</table></body></html>")
    return "\n".join(out)


def _verdict_html(v: dict[str, Any]) -> str:
    """One judged sentence: ✓/✗, the text, and for an unsupported one the type of the
    failed check (negation, modality, ...), the reason and the source span it was
    judged against."""
    e = escape
    mark = "✓" if v["supported"] else "✗"
    kind = v.get("type") or ""
    badge = f"<span class='flaw'>{e(kind)}</span> " if kind and not v["supported"] else ""
    out = (
        f"<div class='sent'>{mark} {badge}{e(v['text'][:120])} "
        f"<span class='muted'>({e(v['reason'])})</span>"
    )
    span = v.get("span")
    if span and not v["supported"]:
        where = f"[{span['context']}] " if span.get("context") else ""
        out += f"<div class='span'>source {e(where)}“{e(str(span.get('text', ''))[:200])}”</div>"
    return out + "</div>"


def write_reports(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write report.json, report.md and report.html into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "report.json", out_dir / "report.md", out_dir / "report.html"]
    paths[0].write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    paths[1].write_text(to_markdown(result), encoding="utf-8")
    paths[2].write_text(to_html(result), encoding="utf-8")
    return paths
