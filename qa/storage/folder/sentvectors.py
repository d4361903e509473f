"""Each passage's sentence vectors, made at index time, read at question time.

They let the evidence step (which sentence of a hit answers best) run without
a model call. Stored as int8 (qa/storage/int8.py) in one array,
memory-mapped on load, so a large index costs only the rows questions
actually touch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..int8 import SCALE, quantise

class SentenceVectors:
    """passage id -> int8 [sentences, dim]; immutable, changed by :meth:`changed`."""

    def __init__(self, dim: int, pids=None, starts=None, data=None):
        self.dim = dim
        self._pids = np.zeros(0, np.int64) if pids is None else np.asarray(pids, np.int64)
        self._starts = np.zeros(1, np.int64) if starts is None else np.asarray(starts, np.int64)
        self._data = np.zeros((0, dim), np.int8) if data is None else data

    def __len__(self) -> int:
        return len(self._pids)

    def get(self, pid: int) -> np.ndarray:
        """float32 [sentences, dim] of passage ``pid`` (unit length up to rounding)."""
        i = int(np.searchsorted(self._pids, pid))
        if i >= len(self._pids) or self._pids[i] != pid:
            raise KeyError(pid)
        return self._data[self._starts[i] : self._starts[i + 1]].astype(np.float32) / SCALE

    def best(self, pids, query: np.ndarray) -> np.ndarray:
        """Per passage id, the highest cosine of ``query`` with one of its sentences
        (NaN for a passage with none). One gather and one product for all ids: this
        runs for every candidate of every question."""
        pids = np.asarray(pids, np.int64)
        rows = np.searchsorted(self._pids, pids)
        known = rows < len(self._pids)
        known[known] = self._pids[rows[known]] == pids[known]
        if not known.all():
            raise KeyError(int(pids[~known][0]))
        first, counts = self._starts[rows], np.diff(self._starts)[rows]
        out = np.full(len(pids), np.nan, np.float32)
        have = counts > 0
        if not have.any():
            return out
        first, counts = first[have], counts[have]
        before = np.cumsum(counts) - counts  # where each passage's sentences begin in the gather
        flat = np.repeat(first - before, counts) + np.arange(int(counts.sum()))
        sims = (self._data[flat].astype(np.float32) @ np.asarray(query, np.float32)) / SCALE
        out[have] = np.maximum.reduceat(sims, before)
        return out

    def changed(self, removed, added: dict[int, np.ndarray]) -> "SentenceVectors":
        """A copy without ``removed`` passage ids and with ``added`` (pid -> float or int8 rows)."""
        gone = np.asarray(sorted(removed), np.int64)
        keep = ~np.isin(self._pids, gone) if len(gone) else np.ones(len(self._pids), bool)
        counts = np.diff(self._starts)
        rows = np.repeat(keep, counts)
        parts = [np.asarray(self._data[rows])]
        pids = [self._pids[keep]]
        lens = [counts[keep]]
        for pid in sorted(added):
            v = added[pid]
            parts.append(v if v.dtype == np.int8 else quantise(v))
            pids.append(np.asarray([pid], np.int64))
            lens.append(np.asarray([len(v)], np.int64))
        pid_arr = np.concatenate(pids)
        order = np.argsort(pid_arr, kind="stable")
        len_arr = np.concatenate(lens)
        data = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.int8)
        if not np.all(order == np.arange(len(order))):
            # New ids are always larger than old ones, so this is rare: re-sort rows.
            starts = np.concatenate([[0], np.cumsum(len_arr)])
            data = np.concatenate([data[starts[i] : starts[i + 1]] for i in order]) if len(order) else data
            pid_arr, len_arr = pid_arr[order], len_arr[order]
        return SentenceVectors(self.dim, pid_arr, np.concatenate([[0], np.cumsum(len_arr)]), data.reshape(-1, self.dim))

    @classmethod
    def concat(cls, parts: list["SentenceVectors"], dead) -> "SentenceVectors":
        """The rows of ``parts`` (in id order, disjoint) without the ``dead`` passage ids."""
        dead_arr = np.asarray(sorted(dead), np.int64)
        pids, lens, datas = [], [], []
        for p in parts:
            keep = ~np.isin(p._pids, dead_arr)
            counts = np.diff(p._starts)
            datas.append(np.asarray(p._data[np.repeat(keep, counts)]))
            pids.append(p._pids[keep])
            lens.append(counts[keep])
        lens_arr = np.concatenate(lens) if lens else np.zeros(0, np.int64)
        data = np.concatenate(datas) if datas else np.zeros((0, parts[0].dim), np.int8)
        return cls(parts[0].dim, np.concatenate(pids), np.concatenate([[0], np.cumsum(lens_arr)]), data)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "pids.npy", self._pids)
        np.save(folder / "starts.npy", self._starts)
        np.save(folder / "vectors.npy", np.ascontiguousarray(self._data))

    @classmethod
    def load(cls, folder: Path, dim: int) -> "SentenceVectors":
        data = np.load(folder / "vectors.npy", mmap_mode="r")
        if data.ndim != 2 or data.shape[1] != dim:
            raise ValueError(f"sentence vectors have shape {data.shape}, expected [n, {dim}]")
        pids = np.load(folder / "pids.npy")
        starts = np.load(folder / "starts.npy")
        if len(starts) != len(pids) + 1 or starts[-1] != len(data):
            raise ValueError("sentence vector offsets do not match the vectors")
        return cls(dim, pids, starts, data)
