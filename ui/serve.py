"""``rag serve``: ingest the corpus if given, then serve the web UI (local, offline)."""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.core.config import Settings, apply_offline_env
from rag.core.net import free_port

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class ServeError(ValueError):
    """A serve request that must not go ahead (e.g. open to the network without auth)."""


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str | None) -> tuple[str, str] | None:
    """``user:pass`` (--auth, else ``Settings.auth``: RAG_AUTH) -> (user, pass); None
    when unset."""
    if not auth:
        return None
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ServeError("--auth / RAG_AUTH must look like user:password (both non-empty)")
    return user, password


def check_bind(host: str, auth: tuple[str, str] | None) -> None:
    """Refuse to listen beyond this machine without a login."""
    if not is_loopback(host) and auth is None:
        raise ServeError(
            f"refusing to serve on {host} without a login: anyone on the network could "
            "use it. Pass --auth user:password (or set RAG_AUTH), or bind 127.0.0.1."
        )


@dataclass
class Running:
    """A launched app: its Blocks, the local URL, the Assistant and services behind it."""

    demo: Any
    url: str
    assistant: Any
    services: Any = None
    hosts: frozenset[str] = frozenset()  # Host names it answers

    def close(self) -> None:
        if self.services is not None:
            self.services.close()  # stops a running upload job first
        self.demo.close()


def start(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    block: bool = False,
    quiet: bool = True,
    assistant: Any = None,
) -> Running:
    """Build and launch the app; returns at once unless ``block``. ``assistant`` may be
    given (tests pass one to observe it)."""
    apply_offline_env()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from rag.assistant import Assistant
    from ui.app import Services, build_app, launch_options
    from ui.guard import allowed_hosts, guarded_app

    check_bind(host, auth)
    assistant = assistant or Assistant(settings, create=True)  # uploads can fill it
    # Load the indexes and tokenizers now, not on the first user's question.
    assistant.retriever.search("warm up", 1)
    services = Services(settings, assistant)
    demo = build_app(settings, services=services)
    port = port or free_port(host)
    hosts = allowed_hosts(host, settings.extra_hosts)
    running = Running(demo, f"http://{_url_host(host)}:{port}/", assistant, services, hosts)
    demo.launch(
        # Our app class: it puts the Host/Origin/login checks in front of Gradio's own
        # middleware (see ui.guard.guarded_app).
        _app=guarded_app(hosts, frozenset(settings.extra_hosts), auth is not None),
        server_name=host,
        server_port=port,
        share=False,
        ssr_mode=False,
        auth=auth,
        prevent_thread_lock=True,
        quiet=quiet,
        show_error=False,
        inbrowser=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=["api", "settings"],
        **launch_options(settings),
    )
    if block:  # the banner only once the port is really ours
        _print_banner(running, settings, assistant, host)
        try:
            demo.block_thread()
        finally:
            running.close()
    return running


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: str | None = None,
    corpus: str | Path | None = None,
) -> int:
    """Ingest ``corpus`` (changed files only), print the URL and mode, serve until ^C."""
    try:
        login = parse_auth(auth or settings.auth)
        check_bind(host, login)
    except ServeError as exc:
        print(f"rag serve: error: {exc}", file=sys.stderr)
        return 2
    if corpus:
        from ingest.pipeline import ingest
        from ingest.readers import printable

        report = ingest([corpus], settings)
        print(
            f"ingested {printable(corpus)}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.failed)} failed; "
            f"store: {report.documents} documents, {report.chunks} chunks"
        )
        for failure in report.failed[:10]:
            print(f"  ! {printable(f'{failure.path}: {failure.error}')}", file=sys.stderr)
    start(settings, host=host, port=port, auth=login, block=True, quiet=True)
    return 0


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _print_banner(running: Running, settings: Settings, assistant: Any, host: str) -> None:
    from rag.core.store import where

    mode = assistant.mode
    store = assistant.retriever.store
    print(f"serving {running.url}" + (f"  (bound to {host})" if host != "127.0.0.1" else ""))
    if not is_loopback(host):
        names = ", ".join(sorted(running.hosts))
        print(f"  answers to: {names} (add names with RAG_ALLOWED_HOSTS)")
    print(f"  store:     {where(settings)}")
    print(f"  articles:  {store.count_documents()} documents, {store.count_chunks()} chunks")
    print(f"  embedder:  {mode['embedder']}")
    print(f"  retrieval: {mode['retrieval']}")
    print(f"  llm:       {mode['llm']}")
    print("  press Ctrl+C to stop", flush=True)
