"""One settings object, read from the environment and overridden by CLI flags."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Offline by default: a model name that is not cached must fail at once, not retry for
# a minute, and nothing calls home. setdefault so a user can still opt in explicitly.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply_offline_env() -> None:
    """Go offline: for entry points only (the CLI, ``rag serve``, ``Assistant``/``ask``,
    eval and bench mains, tests), before any model library is imported."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


# A widely used multilingual XNLI cross-encoder for the `nli` judge; used only if on disk.
DEFAULT_NLI_MODEL = "MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Env names are given beside each field."""

    db: Path = Path(".rag")  # RAG_DB: folder of the embedded Chroma store and indexes
    chroma_url: str | None = None  # RAG_CHROMA_URL: http://host:port of a Chroma server
    collection: str = "news"  # RAG_COLLECTION
    # RAG_EMBEDDER: "auto" (the store's own, else the default model if it is on disk,
    # else the offline hash embedder), "hash", or a sentence-transformers name or path.
    embedder: str = "auto"
    default_model: str = "intfloat/multilingual-e5-small"  # RAG_DEFAULT_MODEL
    chunk_size: int = 300  # RAG_CHUNK_SIZE: characters per chunk (Chinese-sized)
    chunk_overlap: int = 1  # RAG_CHUNK_OVERLAP: whole sentences shared by neighbours
    max_file_mb: float = 20.0  # RAG_MAX_FILE_MB: larger inputs are refused
    # RAG_DOC_BATCH: documents written and committed together. Chroma's cost is largely
    # per call, so big batches are faster (measured: 64 -> 1024 saved a third of ingest
    # CPU); a killed run redoes at most one batch.
    doc_batch: int = 512
    # RAG_LEASE_SECONDS: with a Chroma server, a writer's lease lives this long unless
    # renewed (every third of it). Long against one Chroma call (a holder stops writing
    # once it cannot prove its lease valid, but a call in flight is not cancelled);
    # short enough that a crashed writer's lease is soon taken over.
    lease_seconds: float = 30.0
    reranker: str | None = None  # RAG_RERANKER: a CrossEncoder name or path
    top_k: int = 5  # RAG_TOP_K: passages given to the answerer
    llm_model: str | None = None  # RAG_LLM_MODEL
    llm_base_url: str | None = None  # OPENAI_BASE_URL
    llm_api_key: str | None = None  # OPENAI_API_KEY (never printed)
    llm_timeout: float = 60.0  # RAG_LLM_TIMEOUT: seconds per LLM request
    # RAG_LLM_DEADLINE: seconds for all LLM calls of one question together (rewrite,
    # translation, answer, retries); then the extractive answer. Default: see
    # DEADLINE_PER_TIMEOUT.
    llm_deadline: float | None = None
    # RAG_ALLOWED_HOSTS: comma-separated host names the web UI answers besides the one
    # it is bound to (e.g. the name of a reverse proxy in front of it); any other Host
    # header is refused, which defeats DNS rebinding.
    allowed_hosts: str = ""
    # RAG_AUTH: "user:password" login for the web UI, needed to bind beyond 127.0.0.1
    # (the password is never printed).
    auth: str | None = None
    # RAG_NLI_MODEL: the NLI cross-encoder of the `nli` judge (a local folder or a name
    # in the Hugging Face cache).
    nli_model: str = DEFAULT_NLI_MODEL

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        names = {
            "db": "RAG_DB",
            "chroma_url": "RAG_CHROMA_URL",
            "collection": "RAG_COLLECTION",
            "embedder": "RAG_EMBEDDER",
            "default_model": "RAG_DEFAULT_MODEL",
            "chunk_size": "RAG_CHUNK_SIZE",
            "chunk_overlap": "RAG_CHUNK_OVERLAP",
            "max_file_mb": "RAG_MAX_FILE_MB",
            "doc_batch": "RAG_DOC_BATCH",
            "lease_seconds": "RAG_LEASE_SECONDS",
            "reranker": "RAG_RERANKER",
            "top_k": "RAG_TOP_K",
            "llm_model": "RAG_LLM_MODEL",
            "llm_base_url": "OPENAI_BASE_URL",
            "llm_api_key": "OPENAI_API_KEY",
            "llm_timeout": "RAG_LLM_TIMEOUT",
            "llm_deadline": "RAG_LLM_DEADLINE",
            "allowed_hosts": "RAG_ALLOWED_HOSTS",
            "auth": "RAG_AUTH",
            "nli_model": "RAG_NLI_MODEL",
        }
        types = {f.name: f.type for f in fields(cls)}
        for name, var in names.items():
            raw = env.get(var)
            if raw:
                values[name] = _convert(types[name], raw, var)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "db" in values:
            values["db"] = Path(values["db"])  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        """A copy with the given fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def extra_hosts(self) -> tuple[str, ...]:
        """``allowed_hosts`` as lower-case names, empty entries dropped."""
        names = (name.strip().lower().rstrip(".") for name in self.allowed_hosts.split(","))
        return tuple(name.strip("[]") for name in names if name)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model or self.llm_base_url)

    @property
    def question_deadline(self) -> float:
        """Seconds all LLM calls of one question may take together."""
        return self.llm_deadline or DEADLINE_PER_TIMEOUT * self.llm_timeout

    def __repr__(self) -> str:  # never show the API key, the UI password or URL credentials
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        if shown["llm_api_key"]:
            shown["llm_api_key"] = "***"
        if shown["auth"]:
            shown["auth"] = shown["auth"].partition(":")[0] + ":***"
        for name in ("llm_base_url", "chroma_url"):
            if shown[name]:
                shown[name] = redact_url(shown[name])
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


# One full request at RAG_LLM_TIMEOUT plus half as much again for the small steps
# (rewrite, translation) and a retry: 90 s by default, 4.5 s at RAG_LLM_TIMEOUT=3.
DEADLINE_PER_TIMEOUT = 1.5

_URL_IN_TEXT = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>`]+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` as it may be shown or recorded: scheme, host, port and path only. User
    info (``user:key@``), query (``?api-key=...``) and fragment are dropped, since any of
    them can carry a credential. The one place that decides this (Settings repr, mode
    lines, messages, reports, logs)."""
    text = url.strip()
    try:
        parts = urlsplit(text if "//" in text else "//" + text)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port that is not a number, a broken IPv6 literal
        return "(unparseable URL)"
    if not host:
        return "(unparseable URL)"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    path = parts.path.rstrip("/")
    if "@" in path:  # "user:key@host" read as a path when the scheme is missing
        return "(unparseable URL)"
    return urlunsplit((parts.scheme, netloc, path, "", "")) if parts.scheme else netloc + path


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it passed through ``redact_url`` (for log records)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def _convert(kind: object, raw: str, var: str) -> object:
    """``raw`` as the field's declared type (annotations are strings here)."""
    number = {"int": int, "float": float, "float | None": float}.get(str(kind))
    if number is None:
        return raw
    try:
        return number(raw)
    except ValueError as exc:
        raise ValueError(f"{var}={raw!r} is not a number") from exc
