"""Embedders and the reranker: the offline hash embedder, and real loading of tiny models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.core.config import OFFLINE_ENV
from rag.core.embed import (
    Embedder,
    EmbedderUnavailable,
    HashEmbedder,
    SentenceTransformerEmbedder,
    default_prefixes,
    describe,
    embedder_from_config,
    fold,
    index_dim,
    load_embedder,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
MISSING = "no-such-org/no-such-model-for-tests"

TRAD = "輝達執行長黃仁勳表示，美國政府對晶片出口的管制將影響臺灣的半導體產業。"
SIMP = "辉达执行长黄仁勋表示，美国政府对芯片出口的管制将影响台湾的半导体产业。"
OTHER = "今天下午天气晴朗，市民纷纷到公园散步、野餐和放风筝。"


def _run(code: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


# ------------------------------------------------------------------------ hash


def test_hash_shapes_dtypes_and_norms() -> None:
    emb = HashEmbedder()
    docs = emb.embed_documents([TRAD, SIMP, OTHER, "Nvidia H20 chips, 2025"])
    assert docs.shape == (4, emb.dim) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-5)
    query = emb.embed_query("黃仁勳")
    assert query.shape == (emb.dim,) and query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert emb.embed_documents([]).shape == (0, emb.dim)
    # Nothing to hash (no letters or digits): a zero vector rather than NaNs.
    assert not emb.embed_query("，。！ ").any()
    # Broken input (a lone surrogate) and characters beyond the BMP do not fail.
    odd = emb.embed_documents(["a\ud800b", "𠀀𠀁 😀"])
    np.testing.assert_allclose(np.linalg.norm(odd, axis=1), 1.0, rtol=1e-5)


def test_hash_query_matches_document_embedding() -> None:
    emb = HashEmbedder()
    np.testing.assert_allclose(emb.embed_query(OTHER), emb.embed_documents([OTHER])[0])
    # Batching does not change a document's vector.
    small = HashEmbedder(batch_size=2)
    np.testing.assert_allclose(
        small.embed_documents([TRAD, SIMP, OTHER]), emb.embed_documents([TRAD, SIMP, OTHER])
    )


def test_hash_traditional_and_simplified_match() -> None:
    emb = HashEmbedder()
    trad, simp, other = emb.embed_documents([TRAD, SIMP, OTHER])
    assert float(trad @ simp) > 0.95
    assert float(trad @ other) < 0.3
    # NFKC + lowercase: full-width and case variants of Latin text embed alike.
    a, b = emb.embed_documents(["Nvidia H20", "ＮＶＩＤＩＡ Ｈ２０"])
    assert float(a @ b) > 0.99


def test_hash_is_deterministic_across_processes() -> None:
    code = (
        "import json; from rag.core.embed import HashEmbedder; "
        f"v = HashEmbedder().embed_query({TRAD!r}); "
        "print(json.dumps([round(float(x), 6) for x in v]))"
    )
    runs = []
    for seed in ("1", "2"):  # different str hash seeds must not matter
        env = dict(os.environ, PYTHONHASHSEED=seed)
        runs.append(json.loads(_run(code, env)))
    assert runs[0] == runs[1]
    here = [round(float(x), 6) for x in HashEmbedder().embed_query(TRAD)]
    assert here == runs[0]


# Vectors of the hash embedder as it stood when stores were built (sparse: index -> value,
# 7 significant digits). A store's vectors must never change: a changed embedder under
# the same name would mix two vector spaces in one collection.
FROZEN = {
    # Traditional, full-width Latin and digits, a code: t2s, NFKC and case folding.
    "輝達H20晶片，臺灣ＴＳＭＣ２０２５": {
        34: 0.1943026, 53: 0.0971513, 81: -0.3289829, 88: -0.1943026, 104: -0.1943026,
        110: 0.1943026, 126: -0.0971513, 150: -0.0971513, 151: -0.0971513, 152: 0.1943026,
        165: 0.0971513, 191: -0.0971513, 211: 0.0971513, 308: -0.0971513, 334: 0.4077658,
        367: 0.1943026, 369: -0.1943026, 442: -0.1943026, 477: -0.0971513, 503: -0.0971513,
        517: 0.0971513, 529: -0.0971513, 548: -0.1943026, 551: -0.0971513, 553: 0.0971513,
        664: -0.1943026, 670: 0.0971513, 727: -0.1943026, 735: -0.0971513, 781: 0.0971513,
        805: 0.1943026, 874: -0.0971513, 877: -0.0971513, 908: -0.0971513, 933: -0.0971513,
        939: 0.0971513, 961: -0.0971513, 968: 0.0971513, 1015: -0.0971513, 1019: 0.1644915,
        1020: 0.0971513,
    },
    # A lone surrogate (a broken "\\ud800" escape in a jsonl record) is dropped.
    "臺灣\ud800晶片": {
        104: -0.4364358, 110: 0.4364358, 369: -0.4364358, 544: -0.2182179, 548: -0.4364358,
        551: -0.2182179, 587: -0.2182179, 839: -0.2182179, 1020: 0.2182179,
    },
}  # fmt: skip


@pytest.mark.parametrize("text", list(FROZEN))
def test_hash_vectors_are_frozen(text: str) -> None:
    emb = HashEmbedder()
    for vector in (emb.embed_documents([text])[0], emb.embed_query(text)):
        nonzero = np.flatnonzero(vector)
        assert [int(i) for i in nonzero] == list(FROZEN[text])
        np.testing.assert_allclose(vector[nonzero], list(FROZEN[text].values()), rtol=1e-6)


def test_hash_config_round_trip() -> None:
    emb = HashEmbedder(dim=256, ngrams=(1, 2))
    config = json.loads(json.dumps(emb.config()))
    assert config["kind"] == "hash" and config["name"] == "hash-ngram-v1" and config["dim"] == 256
    again = embedder_from_config(config)
    assert isinstance(again, HashEmbedder) and again.config() == emb.config()
    np.testing.assert_array_equal(again.embed_query(TRAD), emb.embed_query(TRAD))
    assert isinstance(emb, Embedder)
    assert describe(emb) == "hash-ngram-v1 (offline, weights-free, 256-d)"


def test_fold_keeps_hash_similarities_close_and_rows_unit_length() -> None:
    emb = HashEmbedder()
    texts = [TRAD, SIMP, OTHER, "美國商務部限制輝達H20晶片出口到中國。"]
    full = emb.embed_documents(texts)
    folded = fold(full, 512)
    assert folded.shape == (4, 512) and folded.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(folded, axis=1), 1.0, rtol=1e-5)
    # Folding is hashing into fewer buckets: similarities move by collisions only.
    np.testing.assert_allclose(folded @ folded.T, full @ full.T, rtol=0, atol=0.07)
    assert (folded @ folded.T)[0].argsort().tolist() == (full @ full.T)[0].argsort().tolist()
    np.testing.assert_allclose(fold(full[0], 512), folded[0], rtol=1e-6)  # one row alike
    assert np.array_equal(fold(full, 1024), full)
    with pytest.raises(ValueError, match="1024-d vectors to 300-d"):
        fold(full, 300)
    assert np.array_equal(fold(np.zeros((1, 1024)), 512), np.zeros((1, 512)))


def test_only_the_hash_embedder_is_indexed_folded(tiny_st_model: Path) -> None:
    assert index_dim(HashEmbedder()) == 512
    assert index_dim(HashEmbedder(dim=256)) == 256  # already small: kept
    assert index_dim(HashEmbedder(dim=1000)) == 1000  # not a multiple: kept
    # Re-scoring would embed every candidate again: too slow for a model.
    model = SentenceTransformerEmbedder(str(tiny_st_model))
    assert index_dim(model) == model.dim


def test_load_embedder_hash() -> None:
    assert isinstance(load_embedder("hash", default_model=MISSING), HashEmbedder)


def test_import_is_light() -> None:
    code = (
        "import sys, rag.core.embed, rag.retrieval.rerank; "
        "print([m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules])"
    )
    assert _run(code).strip() == "[]"


# ------------------------------------------------------- sentence-transformers


def test_sentence_transformer_loads_and_encodes(tiny_st_model: Path) -> None:
    emb = SentenceTransformerEmbedder(str(tiny_st_model))
    assert emb.dim == 32 and isinstance(emb, Embedder)
    docs = emb.embed_documents([TRAD, OTHER, "Nvidia H20"])
    assert docs.shape == (3, 32) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, rtol=1e-4)
    query = emb.embed_query(SIMP)
    assert query.shape == (32,) and query.dtype == np.float32
    assert emb.embed_documents([]).shape == (0, 32)
    config = emb.config()
    assert config["kind"] == "sentence-transformers" and config["dim"] == 32
    assert config["query_prefix"] == "" and config["passage_prefix"] == ""
    assert describe(emb) == f"sentence-transformers: {config['name']} (32-d)"
    again = embedder_from_config(json.loads(json.dumps(config)))
    np.testing.assert_allclose(again.embed_query(SIMP), query, rtol=1e-5, atol=1e-6)


def test_e5_prefixes(tiny_st_model: Path, tmp_path: Path) -> None:
    assert default_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert default_prefixes("/models/e5/bge-m3") == ("", "")  # folders do not count
    e5_dir = tmp_path / "tiny-multilingual-e5"
    shutil.copytree(tiny_st_model, e5_dir)
    e5 = SentenceTransformerEmbedder(str(e5_dir))
    assert (e5.config()["query_prefix"], e5.config()["passage_prefix"]) == ("query: ", "passage: ")
    plain = SentenceTransformerEmbedder(str(tiny_st_model))
    np.testing.assert_allclose(
        e5.embed_query(SIMP), plain.embed_documents(["query: " + SIMP])[0], atol=1e-5
    )
    np.testing.assert_allclose(
        e5.embed_documents([OTHER])[0], plain.embed_documents(["passage: " + OTHER])[0], atol=1e-5
    )
    custom = SentenceTransformerEmbedder(str(e5_dir), query_prefix="q: ", passage_prefix="")
    assert embedder_from_config(custom.config()).config()["query_prefix"] == "q: "


def test_missing_model_fails_fast_and_clearly() -> None:
    start = time.perf_counter()
    with pytest.raises(EmbedderUnavailable) as info:
        SentenceTransformerEmbedder(MISSING)
    assert time.perf_counter() - start < 10  # guards the ~70 s hub retry loop
    message = str(info.value)
    assert MISSING in message and "hash" in message and "path" in message
    with pytest.raises(EmbedderUnavailable):
        load_embedder(MISSING, default_model=MISSING)
    with pytest.raises(EmbedderUnavailable):
        load_embedder("/no/such/model/dir", default_model=MISSING)


# Prepended to subprocess code: every name lookup beyond this machine is recorded and
# refused, so a test sees what a model load asked of the network.
NO_NETWORK = """
import socket
asked = []
_lookup = socket.getaddrinfo
def _refuse(host, *args, **kwargs):
    if host in ("127.0.0.1", "localhost", "::1"):
        return _lookup(host, *args, **kwargs)
    asked.append(host)
    raise OSError("no network in this test")
socket.getaddrinfo = _refuse
"""


def _env_without_offline_vars() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OFFLINE_ENV}


def _hub_cache(root: Path, model: Path) -> tuple[Path, str]:
    """(cache folder, model id): ``model`` laid out as the Hugging Face cache holds a
    downloaded model, so it loads by name as a cached hub model does."""
    name, commit = "tiny-org/tiny-st", "0123456789abcdef0123456789abcdef01234567"
    repo = root / "hub" / "models--tiny-org--tiny-st"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    shutil.copytree(model, repo / "snapshots" / commit)
    return root / "hub", name


def test_entry_points_go_offline_before_models_load(tiny_st_model: Path, tmp_path: Path) -> None:
    """The CLI and the Python API set the offline environment themselves: started from
    an environment without it, they load a cached hub model without asking the network
    (huggingface_hub otherwise calls home, even with ``local_files_only``) and fail
    fast on a missing one."""
    cache, name = _hub_cache(tmp_path, tiny_st_model)
    env = _env_without_offline_vars()
    env["HF_HUB_CACHE"] = str(cache)
    corpus = tmp_path / "a.jsonl"
    corpus.write_text(json.dumps({"id": "a", "title": "t", "text": SIMP}) + "\n", "utf-8")
    db, other = tmp_path / "db", tmp_path / "other"
    code = NO_NETWORK + (
        "import json, time\n"
        "from rag.cli import main\n"
        f"ok = main(['ingest', {str(corpus)!r}, '--db', {str(db)!r}, '--embedder', {name!r}])\n"
        "t = time.perf_counter()\n"
        f"missing = main(['ingest', {str(corpus)!r}, '--db', {str(other)!r},"
        f" '--embedder', {MISSING!r}])\n"
        "print(json.dumps([ok, missing, time.perf_counter() - t, asked]))\n"
    )
    ok, missing, seconds, asked = json.loads(_run(code, env).splitlines()[-1])
    assert (ok, missing, asked) == (0, 2, [])
    assert seconds < 10  # guards the ~70 s hub retry loop
    code = NO_NETWORK + (
        "from rag import ask\n"
        f"answer = ask({SIMP!r}, db={str(db)!r})\n"
        "print(asked, answer.mode['embedder'])\n"
    )
    out = _run(code, env).splitlines()[-1]
    assert out == f"[] sentence-transformers: {name} (32-d)", out


def test_library_code_leaves_the_environment_alone(tiny_st_model: Path, tmp_path: Path) -> None:
    """Opening a store and loading a model do not change ``os.environ``: going offline
    is the entry point's choice (a library must not rewrite its host's environment)."""
    env = _env_without_offline_vars()
    env["HF_HUB_OFFLINE"] = "1"  # this process is no entry point: keep it off the network
    code = (
        "import os\n"
        "from pathlib import Path\n"
        "from rag.core.config import OFFLINE_ENV, Settings\n"
        "from rag.core.embed import SentenceTransformerEmbedder\n"
        "from rag.core.store import Store\n"
        f"settings = Settings(db=Path({str(tmp_path / 'db')!r}), embedder={str(tiny_st_model)!r})\n"
        "Store.open(settings, create=True)\n"
        f"SentenceTransformerEmbedder({str(tiny_st_model)!r})\n"
        "print(sorted(k for k in OFFLINE_ENV if k in os.environ))\n"
    )
    assert _run(code, env).splitlines()[-1] == "['HF_HUB_OFFLINE']"


def test_directory_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(EmbedderUnavailable):
        SentenceTransformerEmbedder(str(tmp_path))


def test_auto_falls_back_to_hash_and_uses_local_model(tiny_st_model: Path, tmp_path: Path) -> None:
    assert isinstance(load_embedder("auto", default_model=MISSING), HashEmbedder)
    with pytest.warns(UserWarning, match="hash"):  # a default model on disk but broken
        assert isinstance(load_embedder("auto", default_model=str(tmp_path)), HashEmbedder)
    local = load_embedder("auto", default_model=str(tiny_st_model))
    assert isinstance(local, SentenceTransformerEmbedder) and local.dim == 32
    assert isinstance(
        load_embedder(str(tiny_st_model), default_model=MISSING), SentenceTransformerEmbedder
    )


# ----------------------------------------------------------------------- rerank


def test_cross_encoder_reranker_scores(tiny_cross_encoder: Path) -> None:
    from rag.retrieval.rerank import CrossEncoderReranker

    reranker = CrossEncoderReranker(str(tiny_cross_encoder))
    scores = reranker.score(SIMP, [TRAD, OTHER, "Nvidia H20"])
    assert scores.shape == (3,) and scores.dtype == np.float32
    assert np.isfinite(scores).all()
    np.testing.assert_allclose(reranker.score(SIMP, [OTHER])[0], scores[1], rtol=1e-4)
    assert reranker.score(SIMP, []).shape == (0,)


def test_missing_reranker_fails_fast() -> None:
    from rag.retrieval.rerank import CrossEncoderReranker

    start = time.perf_counter()
    with pytest.raises(EmbedderUnavailable, match="no-such-model"):
        CrossEncoderReranker(MISSING)
    assert time.perf_counter() - start < 10
