"""Shared fixtures: a tiny deterministic embedder for pure logic, the real
bundled model for everything a user would see, and throw-away folders."""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest

import qa
from helpers import CHROMIUM, CHROMIUM_ARGS, ROOT, SEED, FakeEmbedder, empty_milvus_server

os.environ.setdefault("HF_HUB_OFFLINE", "1")


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


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, one per test module (browser tests only)."""
    from playwright import sync_api as playwright_api

    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
