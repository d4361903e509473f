"""Sentence vectors as int8: unit vectors scaled by 127 (cosine error below
0.01, a quarter of float32's size). Both stores keep them so."""

from __future__ import annotations

import numpy as np

SCALE = 127.0


def quantise(vectors: np.ndarray) -> np.ndarray:
    """float32 unit vectors -> int8."""
    return np.clip(np.rint(np.asarray(vectors, np.float32) * SCALE), -127, 127).astype(np.int8)


def dequantise(vectors: np.ndarray) -> np.ndarray:
    """int8 -> float32 (unit length up to rounding)."""
    return np.asarray(vectors).astype(np.float32) / SCALE
