"""The lexical side of hybrid search: BM25 over stemmed, stopword-free terms.

Scoring is bm25s's Lucene variant (the same formula, checked against bm25s
in the tests), but computed at question time from stored term frequencies
rather than from precomputed per-term scores. That is what lets an index be
made of segments: a new document goes into a small new segment, and the
collection-wide statistics (document count, average length, document
frequency) are summed over the segments when a question is asked, so adding
one document never rebuilds the BM25 index of the others. Removed passages
are masked out; like Lucene's deleted documents, they still count in the
statistics until their segment is merged.

One departure from Lucene: a term's document frequency counts the k passages
of one document that hold it as k ** df_damping, not k (qa.settings has why).
Each segment saves the parameters it was counted with (``params.json``: k1,
b, df_damping, the analyzer) and is read only with the same ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

from ...analysis import terms
from ...errors import IndexMismatchError
from .. import REBUILD_HINT, Bm25Params

# A term in more than this share of the passages is "common": scored only
# where it can change the ranking (bench/RESULTS.md, run 5).
COMMON_DF = 0.02
PARAMS_FORMAT, PARAMS_VERSION = "docqa-bm25", 1


def documents_of(doc_ids) -> np.ndarray:
    """Each row's document number, for rows in document order (a document's
    passages consecutive): a new number at each change of document.
    Non-decreasing, from 0."""
    ids = list(doc_ids)
    change = np.fromiter((a != b for a, b in zip(ids[1:], ids[:-1])), bool, max(len(ids) - 1, 0))
    return np.concatenate([[0], np.cumsum(change)]).astype(np.int32) if ids else np.zeros(0, np.int32)


def _damped_df(tf: sparse.csc_matrix, docs: np.ndarray, damping: float) -> np.ndarray:
    """Per term, the sum over documents of (passages holding it) ** ``damping``.
    ``docs`` is non-decreasing over rows and a column's rows are sorted, so a
    column's passages of one document are one run of equal document numbers."""
    tf.sort_indices()
    d = docs[tf.indices]
    new = np.ones(len(d), bool)
    new[1:] = d[1:] != d[:-1]
    new[tf.indptr[:-1][np.diff(tf.indptr) > 0]] = True  # each column's first row opens a run
    run_of = np.cumsum(new) - 1  # run number of each stored entry
    lengths = np.bincount(run_of)  # passages in each run
    column = np.repeat(np.arange(tf.shape[1]), np.diff(tf.indptr))
    return np.bincount(column[new], weights=lengths ** damping, minlength=tf.shape[1]).astype(np.float32)


class TermFrequencies:
    """Term frequencies of one segment's passages: the raw material of BM25."""

    def __init__(self, params: Bm25Params, ids=None, vocab: dict[str, int] | None = None, tf=None, lengths=None,
                 doc_numbers=None, damped_df=None):
        self.params = params
        self.ids = np.asarray(ids if ids is not None else [], dtype=np.int64)
        self.vocab = vocab or {}
        self.tf = tf if tf is not None else sparse.csc_matrix((len(self.ids), 0), dtype=np.float32)
        self.lengths = np.asarray(lengths if lengths is not None else [], dtype=np.float32)
        # Each row's document number (documents_of). Without them (a bare list
        # of texts) every passage is its own document: plain Lucene BM25.
        # int32 and, once saved, memory-mapped: read whole only for the count
        # below and by merges.
        if doc_numbers is None:
            doc_numbers = np.arange(len(self.ids), dtype=np.int32)
        elif not isinstance(doc_numbers, np.memmap):
            doc_numbers = np.asarray(doc_numbers, dtype=np.int32)
        self.doc_numbers = doc_numbers
        damping = params.df_damping
        self.damped_df = (_damped_df(self.tf, doc_numbers, damping) if damped_df is None
                          else np.asarray(damped_df, np.float32))
        counts = np.bincount(doc_numbers) if len(doc_numbers) else np.zeros(0)
        self.damped_n = float((counts[counts > 0] ** damping).sum())  # the collection's size, so counted

    @classmethod
    def build(cls, ids, texts: list[str], params: Bm25Params, doc_numbers=None) -> "TermFrequencies":
        """``doc_numbers``: each row's document (:func:`documents_of`); one per row when None."""
        ids = np.asarray(list(ids), dtype=np.int64)
        vocab: dict[str, int] = {}
        rows, cols = [], []
        lengths = np.zeros(len(ids), np.float32)
        for r, text in enumerate(texts):
            ts = terms(text)
            lengths[r] = len(ts)
            for t in ts:
                cols.append(vocab.setdefault(t, len(vocab)))
            rows.extend([r] * len(ts))
        # Duplicate (row, col) pairs are summed: that is the term frequency.
        tf = sparse.csc_matrix(
            (np.ones(len(rows), np.float32), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))),
            shape=(len(ids), len(vocab)),
        )
        tf.sum_duplicates()
        return cls(params, ids, vocab, tf, lengths, doc_numbers)

    @classmethod
    def merge(cls, parts: list["TermFrequencies"], keep: list[np.ndarray]) -> "TermFrequencies":
        """One index of the rows ``keep[i]`` (boolean masks) of each part, without re-tokenising."""
        vocab: dict[str, int] = {}
        blocks = []
        for part, mask in zip(parts, keep):
            remap = np.asarray([vocab.setdefault(t, len(vocab)) for t in part.vocab], dtype=np.int64)
            coo = part.tf.tocsr()[np.flatnonzero(mask)].tocoo()
            blocks.append((coo.row, remap[coo.col] if len(remap) else coo.col, coo.data, int(mask.sum())))
        offset, rows, cols, data = 0, [], [], []
        for r, c, d, n in blocks:
            rows.append(r + offset)
            cols.append(c)
            data.append(d)
            offset += n
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
        tf = sparse.csc_matrix(
            (cat(data, np.float32), (cat(rows, np.int64), cat(cols, np.int64))), shape=(offset, len(vocab))
        )
        ids = cat([p.ids[m] for p, m in zip(parts, keep)], np.int64)
        lengths = cat([p.lengths[m] for p, m in zip(parts, keep)], np.float32)
        # Each part's documents after the previous part's, renumbered from 0 without gaps.
        shifted, base = [], 0
        for p, m in zip(parts, keep):
            shifted.append(np.asarray(p.doc_numbers[m], np.int64) + base)
            base += int(p.doc_numbers[-1]) + 1 if len(p.doc_numbers) else 0
        row_docs = np.unique(cat(shifted, np.int64), return_inverse=True)[1]
        return cls(parts[0].params, ids, vocab, tf, lengths, row_docs)

    def __len__(self) -> int:
        return len(self.ids)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self.ids, allow_pickle=False)
        np.save(folder / "lengths.npy", self.lengths, allow_pickle=False)
        sparse.save_npz(folder / "tf.npz", self.tf.tocsc(), compressed=False)
        np.save(folder / "docs.npy", np.asarray(self.doc_numbers, np.int32), allow_pickle=False)
        np.save(folder / "damped_df.npy", self.damped_df, allow_pickle=False)
        vocab = sorted(self.vocab, key=self.vocab.get)
        (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        params = {"format": PARAMS_FORMAT, "version": PARAMS_VERSION, **self.params.as_dict()}
        (folder / "params.json").write_text(json.dumps(params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, params: Bm25Params) -> "TermFrequencies":
        """The segment's term frequencies, refused (IndexMismatchError) when they
        were counted with other parameters than ``params``."""
        saved = json.loads((folder / "params.json").read_text(encoding="utf-8"))
        if saved.get("format") != PARAMS_FORMAT or saved.get("version") != PARAMS_VERSION:
            raise ValueError(f"{folder / 'params.json'} is not docqa's BM25 parameters, version {PARAMS_VERSION}")
        if Bm25Params.from_dict(saved) != params:
            raise IndexMismatchError(
                f"the BM25 terms in {folder} were counted with {Bm25Params.from_dict(saved).as_dict()}, "
                f"the index says {params.as_dict()}; {REBUILD_HINT}"
            )
        ids = np.load(folder / "ids.npy", allow_pickle=False)
        lengths = np.load(folder / "lengths.npy", allow_pickle=False)
        tf = sparse.load_npz(folder / "tf.npz").tocsc()
        vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        docs = np.load(folder / "docs.npy", mmap_mode="r", allow_pickle=False)
        damped = np.load(folder / "damped_df.npy", allow_pickle=False)
        if (tf.shape != (len(ids), len(vocab)) or len(lengths) != len(ids) or len(docs) != len(ids)
                or len(damped) != len(vocab)):
            raise ValueError(f"lexical index in {folder} is inconsistent")
        return cls(params, ids, {t: i for i, t in enumerate(vocab)}, tf, lengths, docs, damped)


class Bm25:
    """BM25 over several segments' passages, dead ones masked out."""

    def __init__(self, parts: list[TermFrequencies], params: Bm25Params, dead: np.ndarray | None = None):
        self.params = params
        self.parts = [p for p in parts if len(p)]
        self.ids = np.concatenate([p.ids for p in self.parts]) if self.parts else np.zeros(0, np.int64)
        # Segments hold increasing, disjoint id ranges, so the concatenation is sorted.
        self._dead = np.isin(self.ids, dead) if dead is not None and len(dead) else None
        self._n = len(self.ids)
        self._damped_n = sum(p.damped_n for p in self.parts)  # what idf counts: see Bm25Params.df_damping
        self._avgdl = float(sum(p.lengths.sum() for p in self.parts)) / max(self._n, 1)
        self._extremes: dict[tuple[int, int], tuple[float, float]] = {}  # (segment, term) -> (max tf, min length)

    def __len__(self) -> int:
        return self._n

    def scores(self, query: str) -> "QueryScores | None":
        """BM25 scores of ``query`` over the live passages; None when no term is known.

        Only the postings of the query's terms are read. At scale, terms held
        by many passages ("which" is in 16% of a million SQuAD-like passages)
        cost most of that and decide little: they are scored only where a
        rarer term is too, and for the passages asked about (see QueryScores).
        """
        q = [t for t in terms(query) if any(t in p.vocab for p in self.parts)]
        if not q:
            return None
        df = {t: sum(int(p.tf.indptr[p.vocab[t] + 1] - p.tf.indptr[p.vocab[t]]) for p in self.parts if t in p.vocab)
              for t in set(q)}
        damped = {t: sum(float(p.damped_df[p.vocab[t]]) for p in self.parts if t in p.vocab) for t in df}
        idf = {t: float(np.log(1 + (self._damped_n - damped[t] + 0.5) / (damped[t] + 0.5))) for t in df}
        common = [t for t in q if df[t] > COMMON_DF * self._n]
        if len(common) == len(q):
            common = []  # nothing rarer to find the candidates with
        rare = [t for t in q if t not in common]
        where, vals = self._accumulate(rare, idf)
        bound = sum(idf[t] * self._max_weight(t) for t in common)
        return QueryScores(self, q, common, idf, where, vals + self._partial(common, idf, where), bound)

    def _max_weight(self, t: str) -> float:
        """The most one passage's occurrences of ``t`` can weigh (times its idf):
        its largest term frequency in its shortest passage, over all segments."""
        best = 0.0
        for p in self.parts:
            c = p.vocab.get(t)
            if c is None:
                continue
            key = (id(p), c)
            if key not in self._extremes:  # once per term: a scan of its postings
                lo, hi = p.tf.indptr[c], p.tf.indptr[c + 1]
                self._extremes[key] = (float(p.tf.data[lo:hi].max()), float(p.lengths[p.tf.indices[lo:hi]].min()))
            tf, length = self._extremes[key]
            k1, b = self.params.k1, self.params.b
            best = max(best, tf / (tf + k1 * ((1 - b) + b * length / self._avgdl)))
        return best

    def _accumulate(self, q: list[str], idf: dict[str, float]):
        """(positions, scores) of the live passages holding a term of ``q``, positions ascending."""
        # Accumulate into one array (each term's postings hold distinct rows, so
        # fancy-index += is exact), then keep only the touched entries.
        out = np.zeros(self._n, np.float32)
        touched, offset = [], 0
        for p in self.parts:
            for t in q:  # a term repeated in the query counts again, as in bm25s
                c = p.vocab.get(t)
                if c is None:
                    continue
                lo, hi = p.tf.indptr[c], p.tf.indptr[c + 1]
                rows, tf = p.tf.indices[lo:hi], p.tf.data[lo:hi]
                out[offset + rows] += self._term_score(p, rows, tf, idf[t])
                touched.append(offset + rows)
            offset += len(p)
        total = sum(len(r) for r in touched)
        if total * 8 < self._n:
            # Few postings: sorting them beats scanning the whole accumulator.
            where = np.sort(np.concatenate(touched)) if touched else np.zeros(0, np.int64)
            where = where[np.flatnonzero(np.diff(where, prepend=-1))]
            where = where[out[where] != 0]
        else:
            where = np.flatnonzero(out)
        if self._dead is not None:
            where = where[~self._dead[where]]
        return where, out[where]

    def _partial(self, q: list[str], idf: dict[str, float], positions: np.ndarray) -> np.ndarray:
        """Scores of the terms ``q`` at ``positions`` (ascending) only, read from
        the sorted postings by binary search instead of scanning them."""
        out = np.zeros(len(positions), np.float32)
        if not q or not len(positions):
            return out
        offset = 0
        for p in self.parts:
            lo_pos, hi_pos = np.searchsorted(positions, [offset, offset + len(p)])
            rows_here = positions[lo_pos:hi_pos] - offset
            rows_here = rows_here.astype(p.tf.indices.dtype)  # searchsorted would otherwise copy every posting list
            for t in q:
                c = p.vocab.get(t)
                if c is None or not len(rows_here):
                    continue
                lo, hi = p.tf.indptr[c], p.tf.indptr[c + 1]
                postings = p.tf.indices[lo:hi]
                at = np.clip(np.searchsorted(postings, rows_here), 0, max(len(postings) - 1, 0))
                has = postings[at] == rows_here if len(postings) else np.zeros(len(rows_here), bool)
                rows, tf = rows_here[has], p.tf.data[lo:hi][at[has]]
                out[lo_pos:hi_pos][has] += self._term_score(p, rows, tf, idf[t])
            offset += len(p)
        return out

    def _term_score(self, p: TermFrequencies, rows: np.ndarray, tf: np.ndarray, idf: float) -> np.ndarray:
        k1, b = self.params.k1, self.params.b
        norm = k1 * ((1 - b) + b * p.lengths[rows] / self._avgdl)
        return (idf * tf / (norm + tf)).astype(np.float32)

    def as_array(self, scores: "QueryScores | None") -> np.ndarray:
        """``scores`` as one array in ``ids`` order (0 where a passage has no query term)."""
        out = np.zeros(self._n, np.float32)
        if scores is not None:
            where, vals = scores.exhaustive()
            out[where] = vals
        return out

    def top(self, scores: "QueryScores | None", k: int, within=None) -> np.ndarray:
        """Ids of the (up to) ``k`` best-scoring passages with a score above 0, best first
        (``within``: a qa.storage.Scope, of its passages only)."""
        if scores is None:
            return np.zeros(0, np.int64)
        if within is not None:
            ids = np.asarray(within.passage_ids, np.int64)
            vals = self.lookup(scores, ids)
            k = min(k, len(vals))
            if not k:
                return np.zeros(0, np.int64)
            top = np.argpartition(-vals, k - 1)[:k]
            top = top[np.argsort(-vals[top], kind="stable")]
            return ids[top[vals[top] > 0]]
        where, vals = scores.enough_for(k)
        if not len(vals):
            return np.zeros(0, np.int64)
        k = min(k, len(vals))
        top = np.argpartition(-vals, k - 1)[:k]
        top = top[np.argsort(-vals[top], kind="stable")]
        top = top[vals[top] > 0]
        return self.ids[where[top]]

    def lookup(self, scores: "QueryScores | None", ids: np.ndarray) -> np.ndarray:
        """The scores of passage ``ids`` (0 for ids without a query term or unknown)."""
        out = np.zeros(len(ids), dtype=np.float32)
        if scores is None or not len(ids):
            return out
        pos = np.clip(np.searchsorted(self.ids, ids), 0, max(len(self.ids) - 1, 0))
        known = self.ids[pos] == ids
        if self._dead is not None:
            known &= ~self._dead[pos]
        where, vals = scores.where, scores.vals
        at = np.clip(np.searchsorted(where, pos), 0, max(len(where) - 1, 0))
        found = known & (where[at] == pos) if len(where) else np.zeros(len(ids), bool)
        out[found] = vals[at[found]]
        # Passages without a rare term: only the common terms can score there.
        rest = np.flatnonzero(known & ~found)
        if len(rest) and scores.common:
            order = np.argsort(pos[rest])
            out[rest[order]] = self._partial(scores.common, scores.idf, pos[rest][order])
        return out

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of up to ``k`` passages sharing a term with ``query``, best first."""
        scores = self.scores(query)
        ids = self.top(scores, k)
        return self.lookup(scores, ids), ids

class QueryScores:
    """BM25 scores of one query, exact wherever they are read.

    ``where``/``vals`` hold the exact scores of every passage with a rare
    query term. A passage with only common terms scores at most ``bound``; when
    the ``k``-th best score in hand beats that, no such passage can reach the
    top ``k`` and their scores are never computed. Otherwise (or for a full
    ranking) they are, once, and kept.
    """

    def __init__(self, bm25: Bm25, terms: list[str], common: list[str], idf: dict[str, float], where, vals, bound: float):
        self._bm25, self._terms = bm25, terms
        self.common, self.idf = common, idf
        self.where, self.vals = where, vals
        self._bound = bound

    def enough_for(self, k: int):
        """(positions, scores) that surely hold the best ``k``."""
        if self.common and (len(self.vals) < k or np.partition(self.vals, len(self.vals) - k)[-k] <= self._bound):
            return self.exhaustive()
        return self.where, self.vals

    def exhaustive(self):
        """(positions, scores) of every live passage with any query term."""
        if self.common:
            self.where, self.vals = self._bm25._accumulate(self._terms, self.idf)
            self.common = []
        return self.where, self.vals
