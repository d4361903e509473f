"""Token vectors -> text vectors: the mean pooling of sentence-transformers,
and the same pooling over one sentence's tokens inside a passage.

Pooling a sentence out of its passage's forward pass ("late pooling") gives
every sentence a vector at no extra model cost at index time, so the evidence
step at question time needs no model call at all.
"""

from __future__ import annotations

import numpy as np


def mean_pool(hidden: np.ndarray) -> np.ndarray:
    """Unit vector of the mean of ``hidden`` [tokens, dim] (special tokens included, as the model was trained)."""
    v = hidden.mean(axis=0)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def pool_spans(
    hidden: np.ndarray, offsets, spans: list[tuple[int, int]], fallback: np.ndarray
) -> np.ndarray:
    """One unit vector per character span [a, b): the mean of the tokens that
    start inside it. A span with no token (cut off by truncation) gets
    ``fallback``, the passage's own vector."""
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[: len(hidden)]
    real = off[:, 1] > off[:, 0]  # special tokens have empty offsets
    out = np.empty((len(spans), hidden.shape[1]), np.float32)
    for i, (a, b) in enumerate(spans):
        mask = real & (off[:, 0] >= a) & (off[:, 0] < b)
        out[i] = mean_pool(hidden[mask]) if mask.any() else fallback
    return out
