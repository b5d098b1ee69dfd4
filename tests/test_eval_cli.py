"""``rag eval`` on a synthetic store (reports, baseline comparison) and ``rag judge``'s
stdin/stdout contract."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from eval.cli import run_eval_command
from eval.report import compare, svg_histogram, svg_line
from rag.core.config import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
# Synthetic articles (invented text).
ARTICLES = [
    {
        "id": "a1",
        "title": "滨江大桥通车",
        "text": "星河市政府3月12日宣布，新建的滨江大桥将在5月20日正式通车。"
        "大桥全长1850米，总投资约42亿元。市长林晓东表示，大桥不收取通行费。",
    },
    {
        "id": "a2",
        "title": "藍灣科技財報",
        "text": "藍灣科技公司在4月8日發布第一季度財報，營收同比增長17.5%。"
        "公司首席執行官陳思遠說，新工廠預計明年投產。",
    },
    {
        "id": "a3",
        "title": "北岭县抗旱",
        "text": "北岭县气象局表示，今年夏季降雨量比往年少三成，县里已启动二级抗旱应急响应。",
    },
]
QUESTIONS = [
    {
        "id": "q1",
        "question": "滨江大桥哪天正式通车？",
        "facts": [["5月20日"]],
        "evidence": ["滨江大桥"],
        "lang": "zh-Hans",
    },
    {
        "id": "q2",
        "question": "藍灣科技第一季度營收增長多少？",
        "facts": [["17.5%"]],
        "evidence": ["營收同比增長"],
        "lang": "zh-Hant",
    },
    {"id": "q3", "question": "星河市地铁的票价是多少钱？", "answerable": False, "lang": "zh-Hans"},
]


def write_articles(path: Path, articles: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(db folder, eval set path) of a small hash-embedded store."""
    from ingest.pipeline import ingest

    root = tmp_path_factory.mktemp("eval-store")
    corpus = write_articles(root / "articles.jsonl", ARTICLES)
    report = ingest([corpus], Settings.from_env({}, db=root / "db", embedder="hash"))
    assert report.added == 3
    qset = root / "set.jsonl"
    qset.write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8"
    )
    return root / "db", qset


def args(qset: Path, db: Path, **extra) -> argparse.Namespace:
    values = dict(
        set=str(qset),
        db=str(db),
        chroma_url=None,
        judge="lexical",
        json=False,
        report=None,
        baseline=None,
        limit=None,
    )
    values.update(extra)
    return argparse.Namespace(**values)


def settings(db: Path) -> Settings:
    return Settings.from_env({}, db=db, embedder="hash")


def test_eval_writes_three_reports(store, tmp_path: Path, capsys) -> None:
    db, qset = store
    out = tmp_path / "report"
    assert run_eval_command(args(qset, db, report=str(out)), settings(db)) == 0
    assert "questions" in capsys.readouterr().out
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    summary = data["summary"]
    assert summary["questions"] == 3
    assert [r["id"] for r in data["items"]] == ["q1", "q2", "q3"]
    assert data["items"][2]["answerable"] is False
    assert summary["hit@k"] == 1.0  # q1's and q2's evidence are both retrieved
    # The latency summary is computed from the rows, and each row fits in the run's time.
    latencies = [r["latency_ms"] for r in data["items"]]
    assert min(latencies) <= summary["latency_p50_ms"] <= max(latencies)
    assert sum(latencies) <= data["seconds"] * 1000 + 1  # +1: rows round to 0.1 ms, the run to 1
    assert summary["false_refusal_rate"] == 0.0
    # q1 is answered by a verbatim quote of a1: correct, faithful, cited.
    assert data["items"][0]["correct"] is True and data["items"][0]["faithfulness"] == 1.0
    for row in data["items"]:
        if not row["refused"]:
            assert row["sentences"] and row["citations"]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric | value |" in md and "滨江大桥哪天正式通车" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<table id='summary'>" in html and "<table id='questions'>" in html
    assert html.count("<svg") == 4
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")


def test_eval_json_and_baseline_regression(store, tmp_path: Path, capsys) -> None:
    """A real baseline run, then the same set on a store that lost the bridge article."""
    db, qset = store
    assert run_eval_command(args(qset, db, json=True), settings(db)) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["summary"]["questions"] == 3
    # Latency depends on the machine's load: a unit test compares quality only.
    quality = {k: v for k, v in result["summary"].items() if not k.endswith("_ms")}
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"summary": quality}), encoding="utf-8")
    # The same store against its own figures: nothing regressed, exit 0.
    assert run_eval_command(args(qset, db, baseline=str(base)), settings(db)) == 0
    assert "REGRESSION" not in capsys.readouterr().out
    weaker = tmp_path / "weaker"
    from ingest.pipeline import ingest

    ingest([write_articles(tmp_path / "two.jsonl", ARTICLES[1:])], settings(weaker))
    out = tmp_path / "r2"
    code = run_eval_command(
        args(qset, weaker, baseline=str(base), report=str(out), json=True), settings(weaker)
    )
    assert code == 1
    comparison = {c["metric"]: c for c in json.loads(capsys.readouterr().out)["comparison"]}
    # q1 lost its article: refused, so accuracy and false refusals regress; q2 and q3 hold.
    assert comparison["accuracy"]["before"] == 1.0 and comparison["accuracy"]["after"] == 0.5
    assert comparison["accuracy"]["regressed"] and comparison["false_refusal_rate"]["regressed"]
    assert not comparison["correct_refusal_rate"]["regressed"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "class='regressed'" in html and "<table id='comparison'>" in html


def test_html_report_shows_each_verdict_type_and_source_span() -> None:
    """An unsupported sentence shows the type of the failed check, the reason and the
    source span it was judged against; a supported one shows neither; all escaped."""
    from eval.report import to_html

    span = {"context": 2, "start": 0, "end": 9, "text": "公司並未裁員<i>。"}
    sentences = [
        {"text": "公司已裁員。", "supported": False, "type": "negation", "cited": [2],
         "reason": "the claim drops the source's negation (并未)", "span": span,
         "citation_ok": False, "precise": [False]},
        {"text": "營收成長。", "supported": True, "type": "", "cited": [1], "reason": "supported",
         "span": {"context": 1, "start": 0, "end": 5, "text": "營收成長。"},
         "citation_ok": True, "precise": [True]},
    ]  # fmt: skip
    row = {"id": "q1", "question": "裁員了嗎？", "answer": "公司已裁員。[2] 營收成長。[1]",
           "refused": False, "citations": [], "sentences": sentences, "faithfulness": 0.5,
           "latency_ms": 1.0}  # fmt: skip
    result = {"set": "s", "judge": "lexical", "k": 5, "seconds": 0.1, "mode": {},
              "summary": {"questions": 1}, "recall_curve": {}, "items": [row]}  # fmt: skip
    html = to_html(result)
    assert "<span class='flaw'>negation</span>" in html
    assert "source [2] “公司並未裁員&lt;i&gt;。”" in html
    assert html.count("class='flaw'") == 1 and html.count("class='span'") == 1


def test_compare_directions() -> None:
    now = {"summary": {"accuracy": 0.80, "false_refusal_rate": 0.10, "latency_p95_ms": 400.0}}
    before = {"accuracy": 0.85, "false_refusal_rate": 0.05, "latency_p95_ms": 100.0}
    flags = {c["metric"]: c["regressed"] for c in compare(now, before)}
    assert flags == {"accuracy": True, "false_refusal_rate": True, "latency_p95_ms": True}
    same = {c["metric"]: c["regressed"] for c in compare(now, now["summary"])}
    assert not any(same.values())


def test_eval_bad_inputs(store, tmp_path: Path, capsys) -> None:
    db, _ = store
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"facts": ["x"]}\n', encoding="utf-8")
    assert run_eval_command(args(bad, db), settings(db)) == 2
    assert run_eval_command(args(tmp_path / "none.jsonl", db), settings(db)) == 2
    assert run_eval_command(args("rgb:nope", db), settings(db)) == 2
    assert "unknown RGB set" in capsys.readouterr().err
    assert run_eval_command(args(bad, db, judge="llm"), settings(db)) == 2


def test_svg_plots() -> None:
    svg = svg_histogram([0.1, 0.5, 0.5, 1.0], "scores", lo=0.0, hi=1.0)
    assert svg.startswith("<svg") and svg.count("<rect") == 10 and "n = 4" in svg
    line = svg_line([(1.0, 0.5), (2.0, 0.9)], "recall@k")
    assert line.count("<circle") == 2 and "<polyline" in line


def run_judge(lines: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", "judge", *extra],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_rag_judge_round_trip() -> None:
    contexts = [ARTICLES[0]["text"], ARTICLES[2]["text"]]
    lines = [
        json.dumps(
            {"answer": "滨江大桥将在5月20日正式通车。[1]", "contexts": contexts}, ensure_ascii=False
        ),
        json.dumps(
            {
                "answer": "滨江大桥将在6月20日正式通车。[1] 县里已启动二级抗旱应急响应。",
                "contexts": [{"text": c} for c in contexts],
            },
            ensure_ascii=False,
        ),
        "not json",
    ]
    proc = run_judge(lines, "--json")
    assert proc.returncode == 1, proc.stderr  # the bad line makes the exit status 1
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["score"] == 1.0 and out[0]["sentences"][0]["supported"] is True
    assert out[1]["score"] == 0.5
    assert [s["supported"] for s in out[1]["sentences"]] == [False, True]
    assert "6" in out[1]["sentences"][0]["reason"]
    assert out[2]["error"].startswith("line 3")


def test_rag_judge_json_names_the_type_and_the_source_span() -> None:
    """Each sentence: supported, type (of the failed check) and the source span it was
    judged against, with its context number (issue 12)."""
    source = "星海公司董事會昨天表示，公司並未裁員，並將在南港擴建工廠。"
    answer = "星海公司已裁員。[2] 星海公司將在南港擴建工廠。[2]"
    line = json.dumps({"answer": answer, "contexts": ["無關的段落。", source]}, ensure_ascii=False)
    proc = run_judge([line], "--json")
    assert proc.returncode == 0, proc.stderr
    flipped, kept = json.loads(proc.stdout)["sentences"]
    assert flipped["supported"] is False and flipped["type"] == "negation"
    span = flipped["span"]
    assert span["context"] == 2 and source[span["start"] : span["end"]] == span["text"]
    assert "並未裁員" in span["text"]
    assert kept["supported"] is True and kept["type"] == "" and kept["span"]["context"] == 2
    plain = run_judge([line])  # the text output names the type and quotes the source
    assert "negation:" in plain.stdout and "source [2]:" in plain.stdout


def test_eval_set_without_evidence_field(store, tmp_path: Path, capsys) -> None:
    db, _ = store
    qset = tmp_path / "no_evidence.jsonl"
    qset.write_text(
        json.dumps({"question": "滨江大桥哪天正式通车？", "facts": ["通车"]}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    assert run_eval_command(args(qset, db, json=True), settings(db)) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["questions"] == 1 and summary["hit@k"] is None


def test_rgb_fact_as_news_tasks_store_true_passages_or_negatives_only() -> None:
    """``rgb:zh_fact:true`` stores the true positives and the negatives (never the edited
    passages) and expects an answer; ``rgb:zh_fact:distractors`` stores only negatives
    and expects a refusal."""
    from eval import rgb

    row = {"id": 7, "query": "2019年军运会在哪个城市举办", "answer": "武汉", "fakeanswer": "成都",
           "positive": ["军运会在武汉举办。"], "positive_wrong": ["军运会在成都举办。"],
           "negative": ["军运会吉祥物公布。"]}  # fmt: skip
    true = rgb.build("zh_fact:true", [row])
    assert set(true.passages.values()) == {"军运会在武汉举办。", "军运会吉祥物公布。"}
    (item,) = true.items
    assert item.answerable and item.facts == [["武汉"]] and item.evidence == [["rgb-0"]]
    distractors = rgb.build("zh_fact:distractors", [row])
    assert set(distractors.passages.values()) == {"军运会吉祥物公布。"}
    assert not distractors.items[0].answerable
