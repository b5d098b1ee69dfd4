"""Messages for the unlucky user: every skipped input named with its reason, no silent
successes, true reasons, and file names printed so they cannot mangle a terminal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from ingest.readers import Failure, read_raw_documents
from tests.synth import article_text, write_jsonl

pytestmark = pytest.mark.integration

RAG = [sys.executable, "-m", "rag.cli"]


def _rag(*args: str | Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, *RAG, *map(str, args)], capture_output=True, text=True, timeout=300
    )


def _ingest_json(corpus: Path, db: Path, prefix: tuple[str, ...] = ()) -> tuple[int, dict]:
    done = _rag("ingest", corpus, "--json", "--db", db, "--embedder", "hash", prefix=prefix)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def _failed(summary: dict) -> dict[str, str]:
    return {Path(f["path"]).name: f["error"] for f in summary["failed"]}


# --- item 12: a huge jsonl line is refused without holding it in memory ----------------


def test_an_overlong_jsonl_line_is_refused_in_bounded_memory(tmp_path):
    limit = 1_000_000
    big = 40_000_000  # 40x the limit: reading it whole would show in the peak
    path = tmp_path / "big.jsonl"
    good = [json.dumps({"id": i, "text": article_text(i)}, ensure_ascii=False) for i in (1, 3)]
    with path.open("w", encoding="utf-8") as out:
        out.write(good[0] + "\n")
        out.write('{"id": 2, "text": "')
        piece = "x" * 1_000_000
        for _ in range(big // len(piece)):
            out.write(piece)
        out.write('"}\n')
        out.write(good[1] + "\n")

    tracemalloc.start()
    try:
        units = list(read_raw_documents([path], max_bytes=limit))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Generous: the limit plus read pieces and bookkeeping, far below the 40 MB line.
    assert peak < 8 * limit, f"peak {peak / 1e6:.1f} MB while refusing a 40 MB line"
    failures = [u for u in units if isinstance(u, Failure)]
    stored = [u.line for u in units if not isinstance(u, Failure)]
    assert stored == [1, 3], "the lines after the long one must still be read"
    assert len(failures) == 1
    assert failures[0].path == f"{path.resolve()}:2"
    assert "40.0 MB" in failures[0].error and "1 MB limit" in failures[0].error


def test_a_line_at_the_limit_is_read_and_one_over_is_refused(tmp_path):
    record = json.dumps({"text": article_text(5)}, ensure_ascii=False).encode()
    path = tmp_path / "edge.jsonl"
    path.write_bytes(record + b"\r\n" + record + b" \n" + record)  # last line: no newline
    units = list(read_raw_documents([path], max_bytes=len(record)))
    assert [u.line for u in units if not isinstance(u, Failure)] == [1, 3]
    assert [f.path.rsplit(":", 1)[1] for f in units if isinstance(f, Failure)] == ["2"]


# --- item 13: silent skips are named -------------------------------------------------


def _without_root_read_override() -> tuple[str, ...]:
    """A prefix that makes permission bits apply to this user (root ignores them)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder unreadable")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


def test_unreadable_folders_and_symlink_loops_are_named(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_jsonl(corpus / "good.jsonl", range(2))
    locked = corpus / "locked"
    locked.mkdir()
    write_jsonl(locked / "inside.jsonl", range(2, 4))
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)  # points to its parent
    (corpus / "x.txt").symlink_to(corpus / "y.txt")
    (corpus / "y.txt").symlink_to(corpus / "x.txt")
    (corpus / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_jsonl(elsewhere / "linked.jsonl", range(4, 5))
    (corpus / "linked").symlink_to(elsewhere, target_is_directory=True)
    locked.chmod(0)
    try:
        code, summary = _ingest_json(corpus, tmp_path / "db", _without_root_read_override())
    finally:
        locked.chmod(0o755)
    failed = _failed(summary)
    assert "permission denied" in failed["locked"].lower()
    assert "folder" in failed["locked"]
    assert "symbolic link loop" in failed["loop"]
    assert "symbolic link loop" in failed["x.txt"] and "symbolic link loop" in failed["y.txt"]
    assert "broken symbolic link" in failed["gone.txt"]
    # A link to a folder elsewhere is followed; the rest of the batch is stored.
    assert summary["added"] == 3 and code == 1


def test_an_empty_folder_is_an_error_not_a_silent_success(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    hidden_only = tmp_path / "hidden_only"
    (hidden_only / ".git").mkdir(parents=True)
    (hidden_only / ".notes.txt").write_text("x", encoding="utf-8")
    for folder in (empty, hidden_only):
        done = _rag("ingest", folder, "--db", tmp_path / "db", "--embedder", "hash")
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"{folder}: no input files" in done.stdout, done.stdout
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n\n", encoding="utf-8")
    code, summary = _ingest_json(blank, tmp_path / "db")
    assert code == 2 and "empty" in _failed(summary)["blank.jsonl"]
    done = _rag("clean", empty)
    assert done.returncode == 2 and "no input files" in done.stderr


# --- jsonl records: the true reason for a bad field ------------------------------------


def test_jsonl_field_of_the_wrong_type_says_so(tmp_path):
    text = article_text(1)
    rows = [
        {"text": 12345},
        {"title": "x"},
        {"text": "   "},
        {"text": text, "title": ["a", "b"]},
        {"text": text, "published": {"y": 2025}},
        {"text": text, "source": 7},
        {"text": text, "url": False},
        {"text": text, "id": {"a": 1}},
        {"text": text, "id": 17, "title": None},  # fine: ids may be numbers, null = absent
    ]
    path = tmp_path / "types.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    units = list(read_raw_documents([path], max_bytes=10**6))
    errors = {int(u.path.rsplit(":", 1)[1]): u.error for u in units if isinstance(u, Failure)}
    assert errors == {
        1: "'text' must be a string, not a number",
        2: "missing 'text' field",
        3: "empty 'text' field",
        4: "'title' must be a string, not a list",
        5: "'published' must be a string, not an object",
        6: "'source' must be a string, not a number",
        7: "'url' must be a string, not a boolean",
        8: "'id' must be a string or an integer, not an object",
    }
    assert [u.line for u in units if not isinstance(u, Failure)] == [9]


def test_json_syntax_errors_read_naturally(tmp_path):
    path = tmp_path / "syntax.jsonl"
    path.write_bytes(b'{"text": "a\x01b"}\n{"text": "abc\n{"text": 1,}\n')
    errors = [u.error for u in read_raw_documents([path], max_bytes=10**6)]
    assert errors == [
        "invalid JSON: Invalid control character at column 12",
        "invalid JSON: Unterminated string starting at column 10",
        "invalid JSON: Expecting property name enclosed in double quotes at column 12",
    ]


# --- file names are printed escaped; JSON keeps them exact -----------------------------


def test_printable_escapes_controls_and_keeps_ordinary_text():
    from ingest.readers import printable

    assert printable("/新聞/a b.txt") == "/新聞/a b.txt"
    assert printable("a\nb\x1b[31mc\td\x7f\u202e.txt") == "a\\nb\\x1b[31mc\\td\\x7f\\u202e.txt"


def test_file_names_with_newlines_and_escapes_are_printed_escaped(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    name = "evil\nfailed:     fake\x1b[2J.pdf"
    (corpus / name).write_bytes(b"%PDF-1.4")
    write_jsonl(corpus / "ok\x1b[31m.jsonl", range(1))
    db = tmp_path / "db"
    human = _rag("ingest", corpus, "--db", db, "--embedder", "hash")
    assert human.returncode == 1, human.stderr
    assert "\x1b" not in human.stdout + human.stderr
    failed = [line for line in human.stdout.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1 and "evil\\nfailed:     fake\\x1b[2J.pdf" in failed[0]

    code, summary = _ingest_json(corpus, db)
    assert [Path(f["path"]).name for f in summary["failed"]] == [name]  # exact in JSON

    cleaned = _rag("clean", corpus / name, corpus / "ok\x1b[31m.jsonl")
    assert "\x1b" not in cleaned.stdout + cleaned.stderr
    assert "evil\\nfailed:" in cleaned.stderr and "ok\\x1b[31m.jsonl:1" in cleaned.stdout
