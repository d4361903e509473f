"""Shared fixtures: a tiny deterministic embedder for pure logic, the real
bundled model for everything a user would see, and throw-away folders."""

from __future__ import annotations

import hashlib
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


STORES = ["files", "milvus-lite"]


@pytest.fixture(params=STORES)
def store_settings(request, folders, tmp_path):
    """``folders`` for each store behind the index's seam: the embedded files,
    and Milvus Lite in ``tmp_path / "m.db"`` (skipped only without pymilvus)."""
    if request.param == "files":
        return folders
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus: pip install 'docqa[milvus]'")
    return folders.replace(store_uri=str(tmp_path / "m.db"))
