"""The chat model behind the LLM answering path: the one factory of OpenAI clients
(``openai_client``, ``build_chat_model``: a ``ChatOpenAI``, both from Settings),
``LLMError``, the one exception the rest of the code sees from them, and the retries and
the per-question ``Deadline`` every call runs under.

Any OpenAI-compatible server works (OpenAI, vLLM, Ollama, llama.cpp): ``OPENAI_BASE_URL``
points at it. The API key is handed to the client and nowhere else: errors name the
endpoint (``redact_url``: no user info, no query) and the kind of failure, never the key,
and they do not chain the client's own exception (whose text may quote a response body
that echoes the key). The HTTP client logs every request URL; a filter on its loggers
redacts those URLs too.

Retries are ours, not the client's: the client's own (``max_retries``) would each wait a
full ``RAG_LLM_TIMEOUT`` whatever the question has left, so a hung endpoint held a
question for three timeouts. Here every attempt gets at most the time the question has
left, and no retry starts after its deadline.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from rag.core.config import Settings, redact_url, redact_urls_in

if TYPE_CHECKING:
    import openai
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_RETRIES = 2  # timeouts, 429, 5xx and connection failures, within the deadline
PLACEHOLDER_KEY = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) want no key
OPENAI_URL = "https://api.openai.com/v1"
# Backoff between retries, as the openai client's own: 0.5 s doubling up to 8 s, less up
# to a quarter at random so that clients do not retry in step.
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_RETRY_AFTER = 60.0  # a server asking for a longer pause is not retried
# Less time than this left cannot hold a request to a real model: call it expired.
MIN_ATTEMPT_SECONDS = 0.1
RETRYABLE = frozenset({"timeout", "rate_limited", "server_error", "unreachable"})

# kind -> how the message words it
KINDS = {
    "timeout": "timed out",
    "deadline": "did not answer within the time limit for a question",
    "rate_limited": "rate limited the request",
    "server_error": "returned a server error",
    "client_error": "rejected the request",
    "unreachable": "is unreachable",
    "bad_response": "sent a malformed response",
}


class LLMError(RuntimeError):
    """A failed LLM call: ``kind`` (a key of KINDS), the ``endpoint`` and an HTTP
    ``status`` when there was one. The message never holds the API key."""

    def __init__(
        self,
        kind: str,
        endpoint: str,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ):
        self.kind = kind
        self.endpoint = endpoint
        self.status = status
        self.detail = detail
        self.retry_after = retry_after  # seconds the server asked to wait (429, 503)
        text = f"LLM endpoint {endpoint} {KINDS.get(kind, kind)}"
        super().__init__(f"{text} ({detail})" if detail else text)

    def __repr__(self) -> str:
        return f"LLMError(kind={self.kind!r}, endpoint={self.endpoint!r}, status={self.status!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes
        args = (self.kind, self.endpoint, self.detail, self.status, self.retry_after)
        return (type(self), args)


def endpoint_label(settings: Settings) -> str:
    """The endpoint URL as shown anywhere (``redact_url``: no user info, query or
    fragment)."""
    return redact_url(settings.llm_base_url or OPENAI_URL)


def endpoint_host(settings: Settings) -> str:
    """host[:port] of the endpoint, for Answer.mode (from the redacted URL)."""
    return urlsplit(endpoint_label(settings)).netloc or endpoint_label(settings)


def client_url(settings: Settings) -> tuple[str | None, dict[str, str] | None]:
    """(base URL, query parameters) for the OpenAI client. A query in OPENAI_BASE_URL
    (``?api-key=...``) is sent with every request as ``default_query``: the client would
    glue the path after it."""
    url = settings.llm_base_url
    if not url or "?" not in url:
        return url, None
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((*parts[:3], "", "")), query or None


def client_options(settings: Settings) -> dict[str, Any]:
    """How to reach the endpoint of ``settings``: base URL, query, key and timeout, as
    keyword arguments of ``openai.OpenAI`` (and of ``ChatOpenAI``, which takes the same).
    The one place an OpenAI client's connection is decided."""
    base_url, query = client_url(settings)
    return {
        "base_url": base_url,
        "default_query": query,
        "api_key": settings.llm_api_key or PLACEHOLDER_KEY,
        "timeout": settings.llm_timeout,
    }


def openai_client(settings: Settings, *, max_retries: int = 0) -> openai.OpenAI:
    """An ``openai.OpenAI`` client for the endpoint of ``settings`` (model lookup, the
    LLM judge). It does not retry unless ``max_retries`` says so (see the module doc)."""
    import openai

    return openai.OpenAI(**client_options(settings), max_retries=max_retries)


@dataclass(frozen=True)
class Deadline:
    """When all LLM calls of one question must have ended (monotonic clock)."""

    seconds: float  # the budget, for messages
    end: float

    @classmethod
    def start(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    @classmethod
    def for_question(cls, settings: Settings) -> Deadline:
        """The deadline of a question starting now. The client library is imported
        first: its one-time import (seconds on a cold start) is not the endpoint's time."""
        import langchain_openai  # noqa: F401

        return cls.start(settings.question_deadline)

    def extended(self, seconds: float) -> Deadline:
        """This deadline moved ``seconds`` later (for work between LLM calls that is not
        theirs, such as retrieval)."""
        return Deadline(self.seconds, self.end + seconds)

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() < MIN_ATTEMPT_SECONDS

    def error(self, endpoint: str) -> LLMError:
        return LLMError("deadline", endpoint, f"{self.seconds:g} s; RAG_LLM_DEADLINE")


class _RedactURLs(logging.Filter):
    """Passes records with every URL in their message redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "://" in message:
            record.msg, record.args = redact_urls_in(message), None
        return True


# The HTTP clients under openai/langchain log each request's full URL at INFO
# ("HTTP Request: POST http://user:key@host/v1/...?api-key=..."). A filter on their
# loggers is the one place such a line can be cleaned before any handler sees it.
_HTTP_LOGGERS = ("httpx", "httpx2")


def redact_http_logs() -> None:
    """Install the URL-redacting filter on the HTTP client loggers (idempotent)."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactURLs) for f in logger.filters):
            logger.addFilter(_RedactURLs())


redact_http_logs()  # at import: anything that talks to an endpoint imports this module


def _transport_errors(name: str) -> tuple[type[BaseException], ...]:
    """The class ``name`` from httpx and from httpx2 (openai 3.x uses httpx2; langchain
    or a custom client may use httpx)."""
    import importlib

    found: list[type[BaseException]] = []
    for module in ("httpx", "httpx2"):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def as_llm_error(exc: BaseException, endpoint: str) -> LLMError:
    """Classify an exception raised while talking to the endpoint."""
    import openai

    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, (openai.APITimeoutError, *_transport_errors("TimeoutException"))):
        return LLMError("timeout", endpoint, "no reply within the timeout")
    broken = _transport_errors("ProtocolError") + _transport_errors("DecodingError")
    if isinstance(exc, broken):
        return LLMError("bad_response", endpoint, "the reply broke off or could not be decoded")
    if isinstance(exc, (openai.APIConnectionError, *_transport_errors("TransportError"))):
        return LLMError("unreachable", endpoint, "connection failed")
    if isinstance(exc, openai.RateLimitError):
        return LLMError("rate_limited", endpoint, "HTTP 429", 429, _retry_after(exc))
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        if code >= 500:
            return LLMError("server_error", endpoint, f"HTTP {code}", code, _retry_after(exc))
        return LLMError("client_error", endpoint, f"HTTP {code}", code)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return LLMError("bad_response", endpoint, "not valid JSON of a chat completion")
    # Anything else while parsing the reply (KeyError, TypeError...): name the type only,
    # since the message may quote the response.
    return LLMError("bad_response", endpoint, type(exc).__name__)


def _retry_after(exc: Any) -> float | None:
    """The pause (seconds) a response asked for in retry-after-ms or retry-after."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(headers.get(name)) / divisor
        except (TypeError, ValueError):
            continue
        return value if 0 <= value <= MAX_RETRY_AFTER else None
    return None


_END = object()


def guarded_call(endpoint: str, fn: Callable[[], T]) -> T:
    """``fn()``, with every failure turned into an LLMError."""
    try:
        return fn()
    except LLMError:
        raise
    except Exception as exc:  # an untrusted endpoint can fail in any way
        error = as_llm_error(exc, endpoint)
    # Raised outside the except block, so the LLMError keeps no reference to the client's
    # exception (not even as __context__): its text may quote a response body, and a
    # server may echo the key there.
    log.warning("%s", error)
    raise error


def _backoff(retry: int, error: LLMError) -> float:
    if error.retry_after is not None:
        return error.retry_after
    return min(INITIAL_BACKOFF * 2**retry, MAX_BACKOFF) * (1 - 0.25 * random.random())


def call_with_retries(
    endpoint: str,
    attempt: Callable[[float], T],
    deadline: Deadline,
    *,
    timeout: float,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> T:
    """``attempt(seconds)``, one request that gives up after ``seconds``, retried on
    timeouts, 429, 5xx and connection failures at most ``max_retries`` times. No attempt
    outlives ``deadline``. LLMError on failure: kind "deadline" when the time ran out,
    else the last failure."""
    for retry in range(max_retries + 1):
        if deadline.expired:
            raise deadline.error(endpoint)
        try:
            return guarded_call(endpoint, lambda: attempt(min(timeout, deadline.remaining())))
        except LLMError as exc:
            if exc.kind == "timeout" and deadline.expired:
                failure = deadline.error(endpoint)
            elif exc.kind not in RETRYABLE or retry == max_retries:
                raise
            else:
                pause = _backoff(retry, exc)
                if pause + MIN_ATTEMPT_SECONDS > deadline.remaining():
                    raise  # no time for another try: the failure is the reason
                time.sleep(pause)
                continue
        raise failure  # outside the except block: no chained context
    raise AssertionError("unreachable")  # pragma: no cover


def stream_with_retries(
    endpoint: str,
    open_stream: Callable[[float], Iterable[T]],
    deadline: Deadline,
    *,
    timeout: float,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> Iterator[T]:
    """The items of ``open_stream(seconds)`` (a stream whose reads give up after
    ``seconds``). Until the first item arrives it is retried like ``call_with_retries``;
    after that a failure, or the deadline passing between items, ends it with LLMError.
    A read that stalls ends at most the time the question had left when the stream
    opened after the stall began (the read timeout cannot change mid-stream)."""

    def first(seconds: float) -> tuple[Iterator[T], object]:
        iterator = iter(open_stream(seconds))
        return iterator, next(iterator, _END)

    iterator, item = call_with_retries(
        endpoint, first, deadline, timeout=timeout, max_retries=max_retries
    )
    try:
        while item is not _END:
            yield item  # type: ignore[misc]
            if deadline.expired:
                raise deadline.error(endpoint)
            try:
                item = guarded_call(endpoint, lambda: next(iterator, _END))
            except LLMError as exc:
                if exc.kind != "timeout" or not deadline.expired:
                    raise
                failure = deadline.error(endpoint)
            else:
                continue
            raise failure
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def build_chat_model(
    settings: Settings,
    *,
    model: str | None = None,
    streaming: bool = False,
    max_retries: int = 0,
    temperature: float | None = 0.0,
    max_tokens: int | None = 1024,
) -> ChatOpenAI:
    """A ChatOpenAI for ``settings`` (model, base URL, key, timeout). ``model`` overrides
    RAG_LLM_MODEL; with neither, use ``resolve_model`` first. The client itself does not
    retry unless ``max_retries`` says so: the answering path retries through
    ``call_with_retries`` under the question's deadline, and passes each attempt's
    timeout as ``timeout=`` when invoking (a different timeout per ChatOpenAI would
    build, and cache, an HTTP client each)."""
    from langchain_openai import ChatOpenAI

    name = model or settings.llm_model
    if not name:
        raise ValueError("no LLM model: set RAG_LLM_MODEL or call resolve_model()")
    return ChatOpenAI(
        model=name,
        **client_options(settings),
        max_retries=max_retries,
        streaming=streaming,
        temperature=temperature,
        max_tokens=max_tokens,
        # Chat Completions only: local servers do not speak the Responses API, and
        # most do not send usage in streams.
        use_responses_api=False,
        stream_usage=False,
    )


def resolve_model(
    settings: Settings,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    deadline: Deadline | None = None,
) -> str:
    """RAG_LLM_MODEL, or else the first model the endpoint lists at GET /models (a local
    server usually serves exactly one)."""
    if settings.llm_model:
        return settings.llm_model
    endpoint = endpoint_label(settings)
    client = openai_client(settings)
    try:
        models = call_with_retries(
            endpoint,
            lambda seconds: [m.id for m in client.models.list(timeout=seconds)],
            deadline or Deadline.for_question(settings),
            timeout=settings.llm_timeout,
            max_retries=max_retries,
        )
    finally:
        client.close()
    if not models:
        raise LLMError("bad_response", endpoint, "it lists no models; set RAG_LLM_MODEL")
    return models[0]


@dataclass(frozen=True)
class Target:
    """Which model at which endpoint answers, for mode and messages (no key)."""

    model: str
    endpoint: str  # endpoint_label: the redacted URL
    host: str  # endpoint_host

    @property
    def label(self) -> str:
        return f"{self.model} @ {self.host}"


def resolve_target(
    settings: Settings,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    deadline: Deadline | None = None,
) -> Target:
    """The model (``resolve_model``) and endpoint of ``settings``; LLMError when the
    endpoint cannot say which model it serves."""
    return Target(
        resolve_model(settings, max_retries=max_retries, deadline=deadline),
        endpoint_label(settings),
        endpoint_host(settings),
    )
