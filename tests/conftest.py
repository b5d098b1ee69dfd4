"""Shared pytest fixtures."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI

from rag.core.config import apply_offline_env

apply_offline_env()  # tests never reach a model hub


@pytest.fixture(scope="session")
def tiny_st_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a tiny random sentence-transformers model (32-d)."""
    # tests/ is on sys.path under pytest's default (prepend) import mode.
    from tiny_models import build_tiny_sentence_transformer

    return build_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny-st") / "model")


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of a tiny random CrossEncoder (one label)."""
    from tiny_models import build_tiny_cross_encoder

    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce") / "model")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """URL of a real `chroma run` server on a free local port, stopped afterwards."""
    from rag.core.net import free_port

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip(f"the chroma CLI is not installed beside {sys.executable}")
    port = free_port()
    server = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("chroma run did not start listening within 30 s")
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


KINDS = ("unit", "integration", "e2e")  # the markers registered in pyproject.toml


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test that does not say what it is: exactly one of KINDS, set by its
    module's ``pytestmark`` (so ``-m unit`` never misses or wrongly picks a test)."""
    wrong = sorted(
        {
            f"{item.path.name}: {', '.join(kinds) or 'no kind'}"
            for item in items
            if len(kinds := [k for k in KINDS if item.get_closest_marker(k)]) != 1
        }
    )
    if wrong:
        raise pytest.UsageError(
            "every test module needs exactly one of the markers "
            f"{', '.join(KINDS)} (pytestmark = pytest.mark.<kind>): " + "; ".join(wrong)
        )


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    """A local OpenAI-compatible server (tests/fake_openai.py), one per test module."""
    with FakeOpenAI().running() as srv:
        yield srv


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    """The module's fake server, its scripted replies and recorded requests cleared."""
    server.reset()
    return server
