"""Credentials in OPENAI_BASE_URL (user info and query string) never show: not in
``rag ask --json``, ``Assistant.mode``, the serve banner, the UI status line, eval
reports, error messages or logs. The endpoint is the fake OpenAI server."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from fake_openai import FakeOpenAI, Reply, closed_port, error

from ingest.pipeline import ingest
from rag.core.config import Settings

pytestmark = pytest.mark.integration

USER_SECRET = "sk-userinfo-SECRET-7c1e"  # in user:password@
QUERY_SECRET = "qs-SECRET-5d0a"  # in ?api-key=
KEY = "sk-key-SECRET-19ab"  # OPENAI_API_KEY
SECRETS = (USER_SECRET, QUERY_SECRET, KEY)
ROOT = Path(__file__).resolve().parents[1]
RAG = [sys.executable, "-m", "rag.cli"]
ARTICLES = [
    {
        "id": "bridge",
        "title": "濱江大橋通車",
        "text": "星河市政府3月12日宣布，新建的濱江大橋將在5月20日正式通車。大橋全長1850米。",
    },
]
QUESTIONS = [
    {"id": "q1", "question": "濱江大橋哪天正式通車？", "facts": [["5月20日"]], "lang": "zh-Hant"},
]


def secret_url(port: int) -> str:
    return f"http://alice:{USER_SECRET}@127.0.0.1:{port}/v1?api-key={QUERY_SECRET}&v=2"


def assert_clean(*outputs: object) -> None:
    for output in outputs:
        text = output if isinstance(output, str) else repr(output)
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked in: {text[:500]}"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("redact")
    corpus = root / "articles.jsonl"
    corpus.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8"
    )
    assert ingest([corpus], Settings.from_env({}, db=root / "db", embedder="hash")).added == 1
    return root / "db"


def env_for(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env.update(OPENAI_BASE_URL=url, OPENAI_API_KEY=KEY, RAG_LLM_MODEL="fake-model")
    env["RAG_LLM_TIMEOUT"] = "5"
    return env


def settings_for(url: str, db: Path) -> Settings:
    return Settings.from_env(env_for(url), db=db)


def test_redact_url_keeps_only_scheme_host_port_path() -> None:
    from rag.core.config import redact_url

    assert redact_url(secret_url(8000)) == "http://127.0.0.1:8000/v1"
    assert redact_url(f"https://u:{USER_SECRET}@[::1]:9/v1/#frag") == "https://[::1]:9/v1"
    assert redact_url(f"u:{USER_SECRET}@llm.local/v1") == "llm.local/v1"  # no scheme
    assert redact_url(f"http://u:{USER_SECRET}@host:port/v1") == "(unparseable URL)"


def test_the_query_is_sent_as_query_parameters(fake: FakeOpenAI, db: Path) -> None:
    """The client receives the query as parameters (it used to glue the path after it)."""
    from rag import Assistant

    answer = Assistant(settings_for(secret_url(fake.port), db)).ask("濱江大橋哪天正式通車？")
    assert not answer.refused and "5月20日" in answer.text
    assert answer.mode["llm"].startswith("fake-model @ 127.0.0.1:")  # the LLM answered
    (request,) = fake.chat_requests()
    assert request.path == "/v1/chat/completions"


def test_mode_banner_and_status_line_hide_the_credentials(
    fake: FakeOpenAI, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag import Assistant
    from ui.render import render_status
    from ui.serve import _print_banner

    settings = settings_for(secret_url(fake.port), db)
    assistant = Assistant(settings)
    assert assistant.mode["llm"] == f"fake-model via http://127.0.0.1:{fake.port}/v1"
    _print_banner(SimpleNamespace(url="http://127.0.0.1:7860/"), settings, assistant, "127.0.0.1")
    banner = capsys.readouterr().out
    assert f"127.0.0.1:{fake.port}/v1" in banner  # the endpoint is still named
    status = render_status(assistant.mode, 1, 1, None, "en")
    assert f"127.0.0.1:{fake.port}" in status
    assert_clean(assistant.mode, banner, status, repr(settings))


def test_rag_ask_json_hides_the_credentials(fake: FakeOpenAI, db: Path) -> None:
    done = subprocess.run(
        [*RAG, "ask", "--db", str(db), "--json", "濱江大橋哪天正式通車？"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_for(secret_url(fake.port)),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)
    assert row["mode"]["llm"].startswith("fake-model")
    assert_clean(done.stdout, done.stderr)


def test_eval_reports_hide_the_credentials(fake: FakeOpenAI, db: Path, tmp_path: Path) -> None:
    qset = tmp_path / "set.jsonl"
    qset.write_text(
        "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in QUESTIONS), encoding="utf-8"
    )
    out = tmp_path / "report"
    done = subprocess.run(
        [*RAG, "eval", str(qset), "--db", str(db), "--report", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env_for(secret_url(fake.port)),
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    written = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()}
    assert {"report.md", "report.json", "report.html"} <= set(written)
    assert f"127.0.0.1:{fake.port}" in written["report.json"]  # the mode is recorded
    assert_clean(done.stdout, done.stderr, *written.values())


def test_llm_judge_reaches_a_base_url_with_a_query(fake: FakeOpenAI, db: Path) -> None:
    """The judge builds its client as the answering path does: the query goes as query
    parameters and the user info is not glued into the path."""
    from eval.judges import make_judge

    ok = {"claims": [{"claim": "5月20日通車", "supported": True, "reason": ""}]}
    fake.push(Reply(text=json.dumps(ok, ensure_ascii=False)))
    judge = make_judge("llm", settings_for(secret_url(fake.port), db))
    assert judge.check("濱江大橋5月20日通車。", [ARTICLES[0]["text"]]).supported
    (request,) = fake.chat_requests()
    assert request.path == "/v1/chat/completions"
    assert_clean(judge.describe())


@pytest.mark.parametrize("failure", ["server_error", "unreachable"])
def test_failing_endpoint_messages_and_logs_hide_the_credentials(
    fake: FakeOpenAI, db: Path, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    from rag import Assistant
    from rag.answer.llm import LLMError, build_chat_model, endpoint_label, guarded_call

    port = fake.port if failure == "server_error" else closed_port()
    settings = dataclasses.replace(settings_for(secret_url(port), db), llm_timeout=2.0)
    caplog.set_level(logging.DEBUG)
    fake.default = lambda body: error(500, json.dumps({"error": {"message": QUERY_SECRET}}))
    answer = Assistant(settings).ask("濱江大橋哪天正式通車？")
    assert answer.mode["llm"].startswith("extractive fallback")
    assert any(f"127.0.0.1:{port}/v1" in w for w in answer.warnings)
    model = build_chat_model(settings)
    with pytest.raises(LLMError) as info:
        guarded_call(endpoint_label(settings), lambda: model.invoke("hi"))
    # The HTTP client logs each request URL: it is logged, but redacted.
    assert (
        any("HTTP Request" in r.getMessage() for r in caplog.records) or failure != "server_error"
    )
    assert_clean(
        answer,
        answer.warnings,
        answer.mode,
        str(info.value),
        repr(info.value),
        caplog.text,
        *[r.getMessage() for r in caplog.records],
    )


def test_chroma_url_credentials_never_show(tmp_path: Path) -> None:
    """RAG_CHROMA_URL with user info and a query: `rag info` and `rag ingest` against an
    unreachable server name the server without them."""
    port = closed_port()
    url = f"http://admin:{USER_SECRET}@127.0.0.1:{port}/?token={QUERY_SECRET}"
    env = {**os.environ, "RAG_CHROMA_URL": url}
    page = tmp_path / "a.txt"
    page.write_text("標題\n\n內文一句話。", encoding="utf-8")
    for args in (["info"], ["ingest", str(page)]):
        done = subprocess.run(
            [*RAG, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
        )
        shown = done.stdout + done.stderr
        assert done.returncode == 2, shown
        assert f"127.0.0.1:{port}" in shown  # the server is named...
        assert not any(s in shown for s in SECRETS), shown  # ...without its credentials
