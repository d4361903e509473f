"""The lexical side of hybrid search: BM25 (bm25s) over stemmed, stopword-free terms.

bm25s has no incremental add, so the index is rebuilt from all passages when
the corpus changes; that takes well under a second per ten thousand passages.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def terms(text: str) -> list[str]:
    """Lower-cased, stemmed terms of ``text`` without English stopwords."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _stopwords()]
    return _stemmer().stemWords(words) if words else []


class LexicalIndex:
    """BM25 over passages, addressed by passage id."""

    def __init__(self, ids: np.ndarray | None = None, model: "bm25s.BM25 | None" = None):
        self.ids = np.asarray(ids if ids is not None else [], dtype=np.int64)
        self._model = model

    @classmethod
    def build(cls, ids, texts: list[str]) -> "LexicalIndex":
        ids = np.asarray(list(ids), dtype=np.int64)
        if not len(ids):
            return cls()
        model = bm25s.BM25()
        model.index([terms(t) for t in texts], show_progress=False)
        return cls(ids, model)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and ids of up to ``k`` passages sharing a term with ``query``, best first."""
        q = terms(query)
        if not len(self.ids) or not q:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        known = [t for t in q if t in self._model.vocab_dict]
        if not known:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores = self._model.get_scores(known)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top].astype(np.float32), self.ids[top]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "ids.npy", self.ids, allow_pickle=False)
        if self._model is not None:
            self._model.save(str(folder / "bm25"))

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        ids = np.load(folder / "ids.npy", allow_pickle=False)
        if not len(ids):
            return cls()
        model = bm25s.BM25.load(str(folder / "bm25"))
        return cls(ids, model)


# Words that carry no subject. BM25 keeps them (its stopword list is Lucene's
# short one, which the baselines use too), but "she" or "did" shared by a
# question and a sentence says nothing about whether the sentence answers.
_FUNCTION_WORDS = frozenset(
    "i me my we our us you your he him his she her hers its they them what which who whom whose "
    "when where why how do does did done doing have has had having can could would should may "
    "might must shall been being were am about from than so very also up out more most some any "
    "all each other only own same too just here".split()
)


def matched_terms(query: str, text: str) -> tuple[str, ...]:
    """Content words of the query whose stem occurs in ``text``, in query order, once each."""
    present = set(terms(text))
    out, seen = [], set()
    for word in _TOKEN.findall(query.lower()):
        if word in _stopwords() or word in _FUNCTION_WORDS or word in seen:
            continue
        seen.add(word)
        stem = _stemmer().stemWord(word)
        if stem in present:
            out.append(word)
    return tuple(out)




def scores_for(index: LexicalIndex, query: str, ids: np.ndarray) -> np.ndarray:
    """BM25 scores of ``query`` for the given passage ids (0 for ids it lacks)."""
    out = np.zeros(len(ids), dtype=np.float32)
    q = terms(query)
    if not len(index.ids) or not q:
        return out
    known = [t for t in q if t in index._model.vocab_dict]
    if not known:
        return out
    all_scores = index._model.get_scores(known)
    # Ids are stored ascending (the store writes passages in id order).
    pos = np.searchsorted(index.ids, ids)
    pos = np.clip(pos, 0, len(index.ids) - 1)
    found = index.ids[pos] == ids
    out[found] = all_scores[pos[found]]
    return out
