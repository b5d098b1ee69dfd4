"""A small OpenAI-compatible server for tests: POST /v1/chat/completions (plain JSON or
SSE with ``stream: true``) and GET /v1/models, on 127.0.0.1 in a background thread.

Replies are scripted: ``server.push(...)`` queues ``Reply`` objects (or functions of the
request body returning one), served in order; when the queue is empty ``server.default``
answers (by default ``echo_first_sentence``). Every request is recorded with its headers
and JSON body, so tests can inspect the prompt the client really sent.

The computed replies (echo a sentence of source 1 with [1]) stand in for an LLM; they
read the prompt, they do not know any answer.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# At module level: FastAPI resolves the handlers' string annotations in this namespace.
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

MODEL = "fake-model"


@dataclass
class Reply:
    """One scripted response.

    text: the assistant message; status: HTTP status (non-200 sends an OpenAI-style
    error body, plus ``body`` when given); delay: seconds before answering (longer than
    the client timeout makes a timeout); raw: a raw body sent as application/json
    (malformed JSON); chunk: characters per SSE chunk; stall_after: in a stream, sleep
    ``delay`` after this many chunks (a stall mid-stream); headers: extra headers.
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    raw: str | None = None
    body: str | None = None
    chunk: int = 4
    stall_after: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


Script = Reply | Callable[[dict[str, Any]], Reply]


def error(status: int, body: str | None = None) -> Reply:
    """An HTTP error reply; retry-after-ms keeps the client's backoff short in tests."""
    return Reply(status=status, body=body, headers={"retry-after-ms": "10"})


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def text(self, role: str) -> str:
        """All content of the messages with ``role``, joined."""
        return "\n".join(str(m.get("content", "")) for m in self.messages() if m["role"] == role)


_SOURCE = re.compile(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)
_SENTENCE = re.compile(r".+?(?:[。！？!?]|\.(?=\s|$)|$)", re.S)


def sources_in(body: dict[str, Any]) -> dict[int, str]:
    """The numbered source texts found in the request's user message."""
    user = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
    return {int(n): text for n, text in _SOURCE.findall(user)}


def first_sentence(text: str) -> str:
    match = _SENTENCE.match(text.strip())
    return match.group(0).strip() if match else text.strip()


def echo_first_sentence(body: dict[str, Any]) -> Reply:
    """The first sentence of source 1, cited [1] (what a grounded model would quote)."""
    sources = sources_in(body)
    return Reply(text=f"{first_sentence(sources.get(1, ''))}[1]")


class FakeOpenAI:
    """The server; use ``running()`` or ``start()``/``stop()``."""

    def __init__(self) -> None:
        self.replies: deque[Script] = deque()
        self.requests: list[Recorded] = []
        self.default: Script = echo_first_sentence
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Script) -> None:
        with self._lock:
            self.replies.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self.replies.clear()
            self.requests.clear()
            self.default = echo_first_sentence

    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            script = self.replies.popleft() if self.replies else self.default
        return script(body) if callable(script) else script

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        with self._lock:
            self.requests.append(Recorded(method, path, headers, body))

    def app(self) -> Any:
        app = FastAPI()

        @app.get("/v1/models")
        async def models(request: Request) -> Any:
            self._record("GET", request.url.path, dict(request.headers), {})
            return {
                "object": "list",
                "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "tests"}],
            }

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Any:
            body = await request.json()
            self._record("POST", request.url.path, dict(request.headers), body)
            reply = self._next(body)
            if reply.delay and reply.stall_after is None:
                if await _wait_or_disconnect(request, reply.delay):
                    return Response(status_code=499)  # nobody is listening any more
            if reply.status != 200:
                content = reply.body or json.dumps(
                    {"error": {"message": f"scripted {reply.status}", "type": "server_error"}}
                )
                return Response(content, reply.status, reply.headers, media_type="application/json")
            if reply.raw is not None:
                return Response(reply.raw, 200, reply.headers, media_type="application/json")
            model = body.get("model", MODEL)
            if body.get("stream"):
                return StreamingResponse(
                    _sse(reply, model), headers=reply.headers, media_type="text/event-stream"
                )
            return JSONResponse(_completion(reply.text, model), headers=reply.headers)

        return app

    def start(self) -> None:
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake OpenAI server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextmanager
    def running(self) -> Iterator[FakeOpenAI]:
        self.start()
        try:
            yield self
        finally:
            self.stop()


async def _wait_or_disconnect(request: Request, seconds: float) -> bool:
    """Sleep ``seconds``; True as soon as the client hangs up (so the task ends cleanly
    instead of being cancelled at shutdown)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(0.02)
    return False


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    data = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _sse(reply: Reply, model: str) -> AsyncIterator[str]:
    yield _chunk(model, {"role": "assistant", "content": ""})
    pieces = [reply.text[i : i + reply.chunk] for i in range(0, len(reply.text), reply.chunk)]
    for i, piece in enumerate(pieces):
        if reply.stall_after is not None and i == reply.stall_after:
            await asyncio.sleep(reply.delay)
        yield _chunk(model, {"content": piece})
    yield _chunk(model, {}, "stop")
    yield "data: [DONE]\n\n"


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
