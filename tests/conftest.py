"""Shared fixtures: a tiny deterministic embedder for pure logic, the real
bundled model for everything a user would see, and throw-away folders."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import qa

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "iran-orders-strike-on-israel-after-haniyeh-killing.txt"
SEED_QUESTION = (
    "Why is Iran getting triggered by the killing of the Hamas leader, "
    "and does it indicate that Iran supports Hamas?"
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class FakeEmbedder:
    """Hashed bag of words: similar word sets give similar vectors. Counts calls."""

    name = "fake-bow"
    dim = 64
    max_tokens = 40

    def __init__(self):
        self.embedded = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed(self, texts):
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i, 0] += 1e-3  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake():
    return FakeEmbedder()


@pytest.fixture
def folders(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return qa.Settings(corpus_dir=corpus, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def real_embedder():
    from qa.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder):
    """The seed article indexed with the real model, shared read-only by tests."""
    base = tmp_path_factory.mktemp("seed")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    settings = qa.Settings(corpus_dir=corpus, index_dir=base / "index")
    idx = qa.Index.open(settings=settings, embedder=real_embedder)
    idx.sync()
    return idx


def _engine():
    # The contract test's real Milvus engine: started by bench/milvus_engine.py,
    # which bench/milvus_speed.py uses too (loaded by path: bench/ is not a package).
    spec = importlib.util.spec_from_file_location("docqa_milvus_engine", ROOT / "bench" / "milvus_engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory):
    """URI of a real Milvus engine (milvus-lite 2.5's C++ server) on a free local port."""
    engine = _engine()
    binary = engine.engine_binary()
    if binary is None:
        pytest.skip("no real Milvus engine here: run `bash bench/milvus_engine.sh` (installs milvus-lite 2.5.1's server)")
    try:
        with engine.running_engine(binary, tmp_path_factory.mktemp("milvus-server")) as (uri, _):
            yield uri
    except engine.EngineError as exc:
        pytest.fail(str(exc))


MILVUS_STORES = ["milvus-lite", pytest.param("milvus-server", marks=pytest.mark.slow)]


@pytest.fixture(params=["files", *MILVUS_STORES])
def store_settings(request, folders, tmp_path):
    """``folders`` for each store behind the index's seam: the embedded files,
    Milvus Lite in ``tmp_path / "m.db"`` (skipped only without pymilvus), and
    a real Milvus engine (slow; skipped when none is installed)."""
    return _store(request, folders, tmp_path)


@pytest.fixture(params=MILVUS_STORES)
def milvus_settings(request, folders, tmp_path):
    """``store_settings`` for the Milvus stores only."""
    return _store(request, folders, tmp_path)


def _store(request, folders, tmp_path):
    if request.param == "files":
        return folders
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus: pip install 'docqa[milvus]'")
    if request.param == "milvus-lite":
        return folders.replace(store_uri=str(tmp_path / "m.db"))
    return folders.replace(store_uri=empty_milvus_server(request))


def empty_milvus_server(request) -> str:
    """URI of the session's real Milvus engine, with no docqa collections in it."""
    uri = request.getfixturevalue("milvus_server")
    from pymilvus import MilvusClient

    from qa import milvus_store

    # Dedicated: pymilvus 3 shares one connection per URI and health-checks it
    # with GetVersion after 30 s idle; this engine does not implement
    # GetVersion, so a shared connection is torn down and re-made, which once
    # failed in CI. Timeout generous: this machine is shared and busy.
    client = MilvusClient(uri=uri, timeout=60, dedicated=True)
    for name in (milvus_store.HEADER, milvus_store.DOCUMENTS, milvus_store.PASSAGES):
        client.drop_collection(name)  # one server for the session: each test starts empty
    client.close()
    return uri
