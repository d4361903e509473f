"""A thin adapter over FAISS: ids and unit vectors in, inner-product top-k out.

Vectors are L2-normalised, so inner product is cosine similarity. Ids are the
passage ids of the store (int64).

The kind of index follows the size: exact search (``IndexFlatIP`` under
``IndexIDMap2``) up to ``ANN_MIN`` vectors, where it still answers in a few
milliseconds on two cores; past that, an inverted-file index with 8-bit scalar
codes (IVF-SQ8: a quarter of the memory, and only ``nprobe`` of its lists
scanned per question). Both remove ids exactly, so a removed document is never
returned, and both give back stored vectors for the fusion's dense scores.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import faiss
import numpy as np


# Exact search up to this many vectors; an approximate index above it (a
# flat scan of 100k vectors took about 20 ms a question on this 2-core CPU).
ANN_MIN = 50_000


def _nprobe(nlist: int) -> int:
    # Lists scanned per question: about 1/16 of them (bench/speed.py measures
    # the resulting Recall@10 against exact search).
    return max(32, nlist // 16)


def _lists(n: int) -> int:
    # The usual rule of thumb: about 4 * sqrt(n) lists.
    return int(4 * np.sqrt(n))


class VectorIndex:
    """Inner-product search over a set of (id, vector) pairs."""

    def __init__(self, dim: int, index: "faiss.Index | None" = None):
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = _nprobe(self._index.nlist)

    @property
    def kind(self) -> str:
        return "ivf-sq8" if isinstance(self._index, faiss.IndexIVF) else "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected vectors of shape [n, {self.dim}], got {vectors.shape}")
        if len(vectors):
            self._index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
        if self.kind == "flat" and len(self) >= ANN_MIN:
            self._to_ivf()

    def _to_ivf(self) -> None:
        """Move the vectors into an IVF-SQ8 index trained on them (once, when the index outgrows exact search)."""
        flat = faiss.downcast_index(self._index.index)
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        vectors = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self.dim).reshape(-1, self.dim).copy()
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, _lists(len(ids)), faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(0)
        # 32 points a list and 10 k-means rounds: enough for the coarse lists
        # (recall is then set by nprobe), and minutes less on two cores at 1M.
        sample = vectors[rng.choice(len(vectors), min(len(vectors), 32 * ivf.nlist), replace=False)]
        ivf.cp.niter = 10
        ivf.train(sample)
        # A hash table from id to list position: exact removal and reconstruction by id.
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.add_with_ids(vectors, ids)
        ivf.nprobe = _nprobe(ivf.nlist)
        self._index = ivf

    def remove(self, ids) -> int:
        ids = np.asarray(list(ids), dtype=np.int64)
        if not len(ids):
            return 0
        return int(self._index.remove_ids(ids))

    def search(self, queries: np.ndarray, k: int, within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids, [n_queries, k] each, best first; missing slots have id -1.
        ``within``: ids the results are taken from (FAISS's ID selector: exact among them; an
        IVF index then probes all its lists, as they may lie in any)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, len(self))) if len(self) else 1
        if not len(self):
            n = len(queries)
            return np.zeros((n, k), np.float32), np.full((n, k), -1, np.int64)
        if within is None:
            return self._index.search(queries, k)
        sel = faiss.IDSelectorBatch(np.ascontiguousarray(within, dtype=np.int64))
        if isinstance(self._index, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=sel, nprobe=self._index.nlist)
        else:
            params = faiss.SearchParameters(sel=sel)
        return self._index.search(queries, k, params=params)

    def reconstruct(self, ids) -> np.ndarray:
        """The stored vectors of ``ids``, [len(ids), dim]."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dim), np.float32)
        return self._index.reconstruct_batch(ids)

    def exact(self) -> "VectorIndex":
        """An exact index over the same vectors (for measuring an approximate one's recall)."""
        if self.kind == "flat":
            return self
        ids = np.asarray(sorted(self.ids()), np.int64)
        out = VectorIndex(self.dim, faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim)))
        out._index.add_with_ids(self.reconstruct(ids), ids)
        return out

    def ids(self) -> np.ndarray:
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        inv = self._index.invlists
        return np.concatenate(
            [faiss.rev_swig_ptr(inv.get_ids(i), inv.list_size(i)).copy() for i in range(self._index.nlist)]
        )

    def copy(self) -> "VectorIndex":
        return VectorIndex(self.dim, faiss.clone_index(self._index))

    def save(self, path: Path) -> None:
        try:
            faiss.write_index(self._index, str(path))
        except RuntimeError as exc:  # FAISS reports a failed write (a full disk) as RuntimeError
            code = errno.ENOSPC if "No space left" in str(exc) else errno.EIO
            raise OSError(code, os.strerror(code), str(path)) from exc

    @classmethod
    def load(cls, path: Path, dim: int) -> "VectorIndex":
        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"vector file has dimension {index.d}, manifest says {dim}")
        return cls(dim, index)
