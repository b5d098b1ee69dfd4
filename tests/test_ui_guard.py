"""Host, Origin and login checks of the web UI, through raw HTTP against a launched app
(the checks sit in front of Gradio's own middleware, so only a real server shows them)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eval.data import SHARED
from rag.core.config import Settings
from ui.guard import (
    FREE_LOGIN_FAILURES,
    LOGIN_BACKOFF_FIRST,
    LOGIN_BACKOFF_MAX,
    LOGIN_FORGET_AFTER,
    LoginThrottle,
    allowed_hosts,
    host_name,
)

CORPUS = SHARED / "corpus"
# Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::Warning:gradio.queueing"),
]
PROXY_NAME = "news.example"  # a configured extra name (RAG_ALLOWED_HOSTS)
EVIL = "evil.example"
PASSWORD = "correct-horse-battery"  # the real one
GUESS = "guess-0000-secret"  # a wrong one, which must never reach the log


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def launch(tmp: Path, **kwargs: Any) -> Any:
    from ingest.pipeline import ingest
    from ui.serve import start

    settings = Settings(db=tmp / "db", allowed_hosts=f"{PROXY_NAME}, ")
    if CORPUS.is_dir():
        ingest([CORPUS], settings)
    return start(settings, **kwargs)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    running = launch(tmp_path_factory.mktemp("ui-guard"))
    try:
        yield running
    finally:
        running.close()


def port_of(running: Any) -> int:
    return int(running.url.rstrip("/").rsplit(":", 1)[1])


def requests_of(url: str, port: int) -> dict[str, Any]:
    """Every kind of request the check must cover: (method, path, keyword arguments)."""
    return {
        "page": ("GET", "/", {}),
        "config": ("GET", "/config", {}),
        "ask": ("POST", "/gradio_api/call/ask", {"json": {"data": ["輝達？", []]}}),
        "delete": ("POST", "/gradio_api/call/delete", {"json": {"data": ["no-such-id", ""]}}),
        "upload": (
            "POST",
            "/gradio_api/upload",
            {"files": {"files": ("news.txt", "標題\n\n內文。".encode(), "text/plain")}},
        ),
        "preflight": (
            "OPTIONS",
            "/gradio_api/queue/join",
            {
                "headers": {
                    "origin": f"http://{EVIL}:{port}",
                    "access-control-request-method": "POST",
                    "access-control-request-headers": "content-type",
                }
            },
        ),
    }


def send(url: str, method: str, path: str, host: str | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    headers = dict(kwargs.pop("headers", {}))
    if host is not None:
        headers["host"] = host
    with httpx.Client(base_url=url, timeout=30) as client:
        return client.request(method, path, headers=headers, **kwargs)


def test_a_foreign_host_is_refused_on_every_kind_of_request(app: Any) -> None:
    port = port_of(app)
    for name, (method, path, kwargs) in requests_of(app.url, port).items():
        response = send(app.url, method, path, host=f"{EVIL}:{port}", **kwargs)
        assert response.status_code == 400, (name, response.status_code)
        assert "not allowed" in response.text
        assert "access-control-allow-origin" not in response.headers, name
    # A request with no usable Host at all is refused too.
    assert send(app.url, "GET", "/", host="").status_code == 400


def test_the_bound_and_configured_names_are_answered(app: Any) -> None:
    port = port_of(app)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", PROXY_NAME):
        assert send(app.url, "GET", "/", host=host).status_code == 200, host
    response = send(app.url, "POST", "/gradio_api/call/ask", json={"data": ["輝達？", []]})
    assert response.status_code == 200 and "event_id" in response.json()


def test_cross_origin_calls_are_refused_and_same_origin_ones_pass(app: Any) -> None:
    port = port_of(app)
    for name, (method, path, kwargs) in requests_of(app.url, port).items():
        headers = {**kwargs.pop("headers", {}), "origin": f"http://{EVIL}:{port}"}
        response = send(app.url, method, path, headers=headers, **kwargs)
        assert response.status_code == 403, (name, response.status_code)
        assert "access-control-allow-origin" not in response.headers, name
    # A page of another local app (same host, other port) is another origin too.
    other = {"origin": f"http://127.0.0.1:{port + 1}"}
    response = send(
        app.url, "POST", "/gradio_api/call/ask", headers=other, json={"data": ["x", []]}
    )
    assert response.status_code == 403
    assert send(app.url, "GET", "/", headers={"origin": "null"}).status_code == 403
    # The page itself (same origin), and the configured proxy name as Origin, pass.
    same = {"origin": f"http://127.0.0.1:{port}"}
    response = send(app.url, "POST", "/gradio_api/call/ask", headers=same, json={"data": ["x", []]})
    assert response.status_code == 200
    proxied = {"origin": f"https://{PROXY_NAME}"}
    response = send(
        app.url, "POST", "/gradio_api/call/ask", headers=proxied, json={"data": ["x", []]}
    )
    assert response.status_code == 200
    upload = requests_of(app.url, port)["upload"][2]
    assert send(app.url, "POST", "/gradio_api/upload", headers=same, **upload).status_code == 200


def test_failed_logins_back_off_per_client_and_never_log_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    running = launch(tmp_path, auth=("editor", PASSWORD))
    clock = Clock()
    throttle = getattr(running.demo.server_app, "login_throttle", None)
    if throttle is not None:  # absent, every attempt would be checked at once
        throttle.clock = clock
    other = httpx.HTTPTransport(local_address="127.0.0.2")  # a second client address

    def login(password: str, transport: Any = None) -> httpx.Response:
        with httpx.Client(base_url=running.url, timeout=30, transport=transport) as client:
            return client.post("/login", data={"username": "editor", "password": password})

    try:
        caplog.set_level(logging.WARNING, logger="ui.guard")
        # The free attempts are checked as usual, then the client must wait, doubling.
        codes = [login(GUESS).status_code for _ in range(FREE_LOGIN_FAILURES + 1)]
        assert codes == [400] * (FREE_LOGIN_FAILURES + 1)
        locked = login(GUESS)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) == LOGIN_BACKOFF_FIRST
        # While locked, even the right password is not looked at (no guessing).
        assert login(PASSWORD).status_code == 429
        assert all(login(GUESS).status_code == 429 for _ in range(50))
        # Another client is not locked out by this one.
        assert login(GUESS, other).status_code == 400
        # After the wait: one more failure doubles the wait.
        clock.now += LOGIN_BACKOFF_FIRST
        assert login(GUESS).status_code == 400
        assert int(login(GUESS).headers["retry-after"]) == 2 * LOGIN_BACKOFF_FIRST
        # The right password after the wait logs in and clears the record.
        clock.now += 2 * LOGIN_BACKOFF_FIRST
        assert login(PASSWORD).status_code == 200
        assert login(GUESS).status_code == 400
    finally:
        running.close()
    failures = [r.getMessage() for r in caplog.records if r.name == "ui.guard"]
    assert failures and all("failed login from 127.0.0." in m for m in failures)
    assert any("next attempt allowed in 1 s" in m for m in failures)
    logged = caplog.text
    assert GUESS not in logged and PASSWORD not in logged and "editor" not in logged


def test_throttle_waits_cap_and_forget() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(FREE_LOGIN_FAILURES):
        assert throttle.wait("a") == 0
        throttle.started("a")
        throttle.finished("a", ok=False)
    assert throttle.wait("a") == 0
    waits = []
    for _ in range(12):
        throttle.started("a")
        throttle.finished("a", ok=False)
        waits.append(throttle.wait("a"))
        clock.now += waits[-1]
    assert waits[:3] == [1.0, 2.0, 4.0] and max(waits) == LOGIN_BACKOFF_MAX
    # An attempt still being checked makes parallel ones wait.
    throttle.started("b")
    assert throttle.wait("b") > 0
    throttle.finished("b", ok=True)
    assert throttle.wait("b") == 0
    clock.now += LOGIN_FORGET_AFTER + 1
    assert throttle.wait("a") == 0


def test_host_names_and_allowed_sets() -> None:
    assert host_name("127.0.0.1:7860") == "127.0.0.1"
    assert host_name("[::1]:7860") == "::1"
    assert host_name("Evil.Example.:80") == "evil.example"
    assert host_name("") is None and host_name(None) is None
    assert host_name("a b:c") is None or host_name("a b:c") != "127.0.0.1"
    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts("192.168.1.5", ["news.example"]) == {"192.168.1.5", "news.example"}
    wildcard = allowed_hosts("0.0.0.0")
    assert {"127.0.0.1", "localhost"} <= wildcard and EVIL not in wildcard
    assert Settings.from_env({"RAG_ALLOWED_HOSTS": " A.example., [fe80::1] ,"}).extra_hosts == (
        "a.example",
        "fe80::1",
    )
