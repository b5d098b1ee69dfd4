"""The chat model behind the LLM answering path: a ``ChatOpenAI`` built from Settings, and
``LLMError``, the one exception the rest of the code sees from it.

Any OpenAI-compatible server works (OpenAI, vLLM, Ollama, llama.cpp): ``OPENAI_BASE_URL``
points at it. The API key is handed to the client and nowhere else: errors name the
endpoint and the kind of failure, never the key, and they do not chain the client's own
exception (whose text may quote a response body that echoes the key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from rag.config import Settings

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_RETRIES = 2  # the openai client retries timeouts, 429 and 5xx with backoff
PLACEHOLDER_KEY = "not-needed"  # local servers (vLLM, Ollama, llama.cpp) want no key
OPENAI_URL = "https://api.openai.com/v1"

# kind -> how the message words it
KINDS = {
    "timeout": "timed out",
    "rate_limited": "rate limited the request",
    "server_error": "returned a server error",
    "client_error": "rejected the request",
    "unreachable": "is unreachable",
    "bad_response": "sent a malformed response",
}


class LLMError(RuntimeError):
    """A failed LLM call: ``kind`` (a key of KINDS), the ``endpoint`` and an HTTP
    ``status`` when there was one. The message never holds the API key."""

    def __init__(self, kind: str, endpoint: str, detail: str = "", status: int | None = None):
        self.kind = kind
        self.endpoint = endpoint
        self.status = status
        self.detail = detail
        text = f"LLM endpoint {endpoint} {KINDS.get(kind, kind)}"
        super().__init__(f"{text} ({detail})" if detail else text)

    def __repr__(self) -> str:
        return f"LLMError(kind={self.kind!r}, endpoint={self.endpoint!r}, status={self.status!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes
        return (type(self), (self.kind, self.endpoint, self.detail, self.status))


def endpoint_host(settings: Settings) -> str:
    """host[:port] of the endpoint, for Answer.mode (never user:password@)."""
    parts = urlsplit(settings.llm_base_url or OPENAI_URL)
    host = parts.hostname or "(unknown)"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{host}:{parts.port}" if parts.port else host


def endpoint_label(settings: Settings) -> str:
    """The endpoint URL for messages: without user:password@, query or fragment."""
    parts = urlsplit(settings.llm_base_url or OPENAI_URL)
    return urlunsplit((parts.scheme, endpoint_host(settings), parts.path.rstrip("/"), "", ""))


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
        return LLMError("rate_limited", endpoint, "HTTP 429", 429)
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        if code >= 500:
            return LLMError("server_error", endpoint, f"HTTP {code}", code)
        return LLMError("client_error", endpoint, f"HTTP {code}", code)
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return LLMError("bad_response", endpoint, "not valid JSON of a chat completion")
    # Anything else while parsing the reply (KeyError, TypeError...): name the type only,
    # since the message may quote the response.
    return LLMError("bad_response", endpoint, type(exc).__name__)


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


def guarded_iter(endpoint: str, items: Iterable[T]) -> Iterator[T]:
    """The items of ``items`` (e.g. a stream), with every failure turned into an LLMError."""
    iterator = guarded_call(endpoint, lambda: iter(items))
    while True:
        item = guarded_call(endpoint, lambda: next(iterator, _END))
        if item is _END:
            return
        yield item  # type: ignore[misc]


def build_chat_model(
    settings: Settings,
    *,
    model: str | None = None,
    streaming: bool = False,
    max_retries: int = DEFAULT_MAX_RETRIES,
    temperature: float | None = 0.0,
    max_tokens: int | None = 1024,
) -> ChatOpenAI:
    """A ChatOpenAI for ``settings`` (model, base URL, key, timeout), retrying timeouts,
    429 and 5xx at most ``max_retries`` times. ``model`` overrides RAG_LLM_MODEL; with
    neither, use ``resolve_model`` first."""
    from langchain_openai import ChatOpenAI

    name = model or settings.llm_model
    if not name:
        raise ValueError("no LLM model: set RAG_LLM_MODEL or call resolve_model()")
    return ChatOpenAI(
        model=name,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or PLACEHOLDER_KEY,
        timeout=settings.llm_timeout,
        max_retries=max_retries,
        streaming=streaming,
        temperature=temperature,
        max_tokens=max_tokens,
        # Chat Completions only: local servers do not speak the Responses API, and
        # most do not send usage in streams.
        use_responses_api=False,
        stream_usage=False,
    )


def resolve_model(settings: Settings, *, max_retries: int = DEFAULT_MAX_RETRIES) -> str:
    """RAG_LLM_MODEL, or else the first model the endpoint lists at GET /models (a local
    server usually serves exactly one)."""
    if settings.llm_model:
        return settings.llm_model
    import openai

    endpoint = endpoint_label(settings)
    client = openai.OpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or PLACEHOLDER_KEY,
        timeout=settings.llm_timeout,
        max_retries=max_retries,
    )
    try:
        models = guarded_call(endpoint, lambda: [m.id for m in client.models.list()])
    finally:
        client.close()
    if not models:
        raise LLMError("bad_response", endpoint, "it lists no models; set RAG_LLM_MODEL")
    return models[0]
