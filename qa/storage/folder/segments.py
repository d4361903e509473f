"""An index made of immutable segments, so a change costs what it changes.

A segment holds some passages with their vectors, term frequencies and
sentence vectors, and is never modified once written. A commit adds one new
segment for the new documents and records removed passage ids as "dead"; the
search views below skip dead passages. Segments are merged (dead passages
dropped) by a size-tiered rule: the newest segments merge while the newest is
at least half the size of the one before it, like a binary counter, so each
passage is merged O(log n) times over its life and adding one small document
to a large index touches only small segments. When dead passages pass a
quarter of the stored ones, everything is compacted.

Passage ids only ever grow, and merges join neighbours, so segments hold
disjoint, increasing id ranges: an id finds its segment by binary search.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np

from ...types import Passage
from .. import Bm25Params
from .bm25 import Bm25, TermFrequencies, documents_of
from .passages import PassageTable
from .sentvectors import SentenceVectors
from .vectors import VectorIndex

MERGE_RATIO = 2  # merge the newest two while newest * MERGE_RATIO >= the one before
COMPACT_DEAD = 0.25  # compact everything when this share of stored passages is dead


@dataclass
class Segment:
    name: str
    vectors: VectorIndex
    lexical: TermFrequencies
    passages: PassageTable
    sentences: SentenceVectors
    saved: bool = False  # on disk already (segments are immutable once written)
    stamp: tuple | None = None  # its files' identity when read, for the store's cache

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def first(self) -> int:
        return int(self.passages.ids[0]) if len(self.passages) else -1

    @classmethod
    def build(cls, name: str, dim: int, passages: dict[int, Passage], vectors: np.ndarray,
              sentences: dict[int, np.ndarray], texts: list[str], params: Bm25Params) -> "Segment":
        """A new segment; ``vectors`` and ``texts`` (what BM25 indexes) follow sorted passage ids."""
        ids = np.asarray(sorted(passages), np.int64)
        vi = VectorIndex(dim)
        vi.add(ids, vectors)
        # Passage ids are given out per document in text order, so a document's rows are consecutive.
        docs = documents_of([passages[int(i)].doc_id for i in ids])
        return cls(name, vi, TermFrequencies.build(ids, texts, params, docs), PassageTable(passages),
                   SentenceVectors(dim).changed([], sentences))

    @classmethod
    def merge(cls, name: str, parts: list["Segment"], dead: set[int]) -> "Segment":
        """One segment of the live passages of ``parts`` (neighbours, in id order)."""
        dead_arr = np.fromiter(dead, np.int64, len(dead))
        keep = [~np.isin(p.passages.ids, dead_arr) for p in parts]  # lexical rows follow passage ids
        passages = {int(pid): p.passages[int(pid)] for p, k in zip(parts, keep) for pid in p.passages.ids[k]}
        ids = np.asarray(sorted(passages), np.int64)
        # Grow the largest part's vector index (an approximate one is not retrained).
        b = max(range(len(parts)), key=lambda i: len(parts[i]))
        vi = parts[b].vectors.copy()
        vi.remove(parts[b].passages.ids[~keep[b]])
        for i, (p, k) in enumerate(zip(parts, keep)):
            if i != b:
                alive = p.passages.ids[k]
                vi.add(alive, p.vectors.reconstruct(alive))
        sentences = SentenceVectors.concat([p.sentences for p in parts], dead)
        lexical = TermFrequencies.merge([p.lexical for p in parts], keep)
        assert len(vi) == len(ids) == len(lexical) == len(sentences)
        return cls(name, vi, lexical, PassageTable(passages), sentences)


def plan_merges(sizes: list[int], dead_in: list[int]) -> list[tuple[int, int]]:
    """Which neighbouring segments to merge, as [start, end) ranges over the list.

    ``sizes`` are stored passages per segment (oldest first), ``dead_in`` the
    dead ones among them. Pure, so the policy is tested on its own.
    """
    stored, dead = sum(sizes), sum(dead_in)
    if stored and dead / stored >= COMPACT_DEAD:
        return [(0, len(sizes))]
    alive = [s - d for s, d in zip(sizes, dead_in)]
    start = len(alive) - 1
    merged = alive[-1] if alive else 0
    while start > 0 and merged * MERGE_RATIO >= alive[start - 1]:
        start -= 1
        merged += alive[start]
    return [(start, len(sizes))] if start < len(sizes) - 1 else []


def dead_array(dead) -> np.ndarray:
    return np.fromiter(dead, np.int64, len(dead))


def dead_counts(segments: list[Segment], dead) -> list[int]:
    """How many of each segment's stored passages are dead (``dead``: ids, a set or an array)."""
    arr = dead if isinstance(dead, np.ndarray) else dead_array(dead)
    return [int(np.isin(s.passages.ids, arr).sum()) if len(arr) else 0 for s in segments]


# ---------------------------------------------------------------- read views
class Passages(Mapping):
    """Live passages of all segments, by id."""

    def __init__(self, segments: list[Segment], dead: frozenset[int]):
        self._segments = segments
        self._firsts = [s.first for s in segments]
        self._dead = dead
        self._len = sum(len(s) for s in segments) - len(dead)

    def segment_of(self, pid: int) -> Segment | None:
        i = bisect.bisect_right(self._firsts, pid) - 1
        return self._segments[i] if i >= 0 else None

    @property
    def segments(self) -> list[Segment]:
        return self._segments

    def by_segment(self, ids: np.ndarray):
        """(segment, positions in ``ids`` of the ids it holds), for each segment holding
        some of ``ids`` (ids ascend across segments)."""
        which = np.searchsorted(self._firsts, ids, side="right") - 1
        for n in np.unique(which):
            yield self._segments[n], np.flatnonzero(which == n)

    def __getitem__(self, pid: int) -> Passage:
        seg = self.segment_of(pid)
        if seg is None or pid in self._dead:
            raise KeyError(pid)
        return seg.passages[pid]  # raises KeyError itself for an id it does not hold

    def __iter__(self) -> Iterator[int]:
        for s in self._segments:
            for pid in s.passages:
                if pid not in self._dead:
                    yield pid

    def __len__(self) -> int:
        return self._len


class Vectors:
    """Dense search over all segments; dead passages never come back."""

    def __init__(self, segments: list[Segment], dead: np.ndarray, passages: Passages):
        self._segments = [s for s in segments if len(s)]
        self._dead = dead  # converted once per snapshot, not once per question
        self._passages = passages
        self.dim = segments[0].vectors.dim if segments else 0
        self._dead_in = dead_counts(self._segments, dead)

    def __len__(self) -> int:
        return len(self._passages)

    @property
    def kind(self) -> str:
        return max(self._segments, key=len).vectors.kind if self._segments else "flat"

    def search(self, queries: np.ndarray, k: int, within=None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(queries)
        only = None if within is None else within.passage_ids
        n = len(queries)
        if not self._segments:
            return np.zeros((n, 1), np.float32), np.full((n, 1), -1, np.int64)
        scores, ids = [], []
        for s, nd in zip(self._segments, self._dead_in):
            sc, ix = s.vectors.search(queries, k + nd, only)  # room for dead ones to be dropped
            scores.append(sc)
            ids.append(ix)
        sc, ix = np.concatenate(scores, axis=1), np.concatenate(ids, axis=1)
        if len(self._dead):
            gone = np.isin(ix, self._dead)
            sc = np.where(gone, -np.inf, sc)
            ix = np.where(gone, -1, ix)
        sc = np.where(ix < 0, -np.inf, sc)
        order = np.argsort(-sc, axis=1, kind="stable")[:, :k]
        sc, ix = np.take_along_axis(sc, order, 1), np.take_along_axis(ix, order, 1)
        return np.where(np.isfinite(sc), sc, 0).astype(np.float32), ix

    def reconstruct(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), self.dim), np.float32)
        for seg, rows in self._passages.by_segment(ids):
            out[rows] = seg.vectors.reconstruct(ids[rows])
        return out

    def exact(self) -> VectorIndex:
        """One exact index over the live vectors (to measure an approximate one's recall)."""
        ids = np.asarray(sorted(self._passages), np.int64)
        vi = VectorIndex(self.dim)
        vi._index.add_with_ids(self.reconstruct(ids), ids)  # stays exact whatever its size
        return vi


class Sentences:
    def __init__(self, passages: Passages):
        self._passages = passages

    def get(self, pid: int) -> np.ndarray:
        return self._passages.segment_of(pid).sentences.get(pid)

    def best(self, ids, query: np.ndarray) -> np.ndarray:
        """Per id, the best cosine of ``query`` with one of its sentences (NaN: none)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(len(ids), np.nan, np.float32)
        for seg, rows in self._passages.by_segment(ids):
            out[rows] = seg.sentences.best(ids[rows], query)
        return out


@dataclass
class Views:
    passages: Passages
    vectors: Vectors
    lexical: Bm25
    sentences: Sentences


def views(segments: list[Segment], dead: frozenset[int], params: Bm25Params) -> Views:
    passages = Passages(segments, dead)
    dead_arr = dead_array(dead)
    return Views(passages, Vectors(segments, dead_arr, passages), Bm25([s.lexical for s in segments], params, dead_arr),
                 Sentences(passages))
