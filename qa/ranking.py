"""Pure ranking logic: fusing dense and lexical scores, collapsing overlaps, picking evidence.

No model and no index here, only numbers and spans, so each rule is tested
on exact inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scored:
    """A candidate passage with its scores and the fused one."""

    passage_id: int
    dense: float  # cosine of the question and the whole passage
    lexical: float  # BM25
    fused: float
    sentence: float = 0.0  # cosine of the question and the passage's best-matching sentence


def fuse(
    ids: np.ndarray,
    dense: np.ndarray,
    lexical: np.ndarray,
    dense_weight: float,
    sentence: np.ndarray | None = None,
    sentence_weight: float = 0.0,
) -> list[Scored]:
    """Convex combination of the dense side and max-normalised BM25, best first.

    The dense side is the passage's cosine, blended with its best sentence's
    cosine by ``sentence_weight``: a question usually asks about one sentence,
    whose match a whole-passage vector dilutes. Cosines are already on a fixed
    scale; BM25 is not (it grows with query length and corpus statistics), so it
    is divided by the query's best BM25 score. Ties break on passage id, so
    equal input gives equal output.
    """
    sentence = dense if sentence is None else sentence
    meaning = (1.0 - sentence_weight) * dense + sentence_weight * sentence
    lex_max = float(lexical.max()) if len(lexical) and lexical.max() > 0 else 1.0
    fused = dense_weight * meaning + (1.0 - dense_weight) * (lexical / lex_max)
    order = np.lexsort((np.asarray(ids), -fused))  # best first, ties by passage id
    return [Scored(int(i), float(d), float(x), float(f), float(m)) for i, d, x, f, m in
            zip(np.asarray(ids)[order].tolist(), dense[order].tolist(), lexical[order].tolist(),
                fused[order].tolist(), sentence[order].tolist())]


def overlap_fraction(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Share of the shorter span covered by the other."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    return max(0, inter) / shorter if shorter > 0 else 0.0


def collapse(
    candidates: list,
    key_span,
    key_doc,
    key_text,
    limit: int,
    max_overlap: float = 0.5,
    same_doc_penalty: float = 0.02,
) -> list:
    """The best ``limit`` candidates (best first), skipping repeats and preferring variety.

    A candidate repeats another when it comes from the same document and
    their spans overlap by more than ``max_overlap``, or when its text is
    identical (the same passage in two copies of a document). Each passage
    already taken from a document lowers that document's next passages by
    ``same_doc_penalty``, so when scores are close the results span several
    documents; a clearly better passage still wins.
    """
    pool = list(candidates)
    # Keys once per candidate (not once per candidate per pick: a hundred candidates, k picks).
    docs = [key_doc(c) for c in pool]
    spans = [key_span(c) for c in pool]
    fused = np.asarray([c.fused for c in pool], dtype=np.float64)
    doc_codes = {d: n for n, d in enumerate(dict.fromkeys(docs))}
    code = np.asarray([doc_codes[d] for d in docs], dtype=np.int64)
    taken = np.zeros(len(doc_codes), dtype=np.float64)
    open_ = np.ones(len(pool), dtype=bool)
    kept: list[int] = []
    seen_text: set[str] = set()
    while open_.any() and len(kept) < limit:
        score = np.where(open_, fused - same_doc_penalty * taken[code], -np.inf)
        i = int(np.argmax(score))  # the first of equals: candidates come best first
        open_[i] = False
        text = key_text(pool[i])
        if text in seen_text or any(
            docs[j] == docs[i] and overlap_fraction(spans[j], spans[i]) > max_overlap for j in kept
        ):
            continue
        kept.append(i)
        seen_text.add(text)
        taken[code[i]] += 1
    return [pool[i] for i in kept]


# How a sentence scores as an answer, for the highlight and the short answer alike.
LEXICAL_BONUS = 0.1  # per question term the sentence contains
TYPE_BONUS = 0.1  # the sentence names the kind of thing asked for (qa/answertype.py)


def sentence_scores(
    similarities: np.ndarray,
    matched: np.ndarray | list,
    typed: list[bool] | None = None,
) -> np.ndarray:
    """Cosine with the question, plus ``LEXICAL_BONUS`` per question term the
    sentence contains, plus ``TYPE_BONUS`` where ``typed`` says it names the
    kind of thing asked for (a place for "where").

    The term bonus matters most where a sentence's vector misleads: a short
    sentence's vector is noisy, and the sentences around a passage's own
    restatement of the question borrow its meaning through the model's
    attention (on the seed article, "The response from both sides will be
    crucial ..." outscored every sentence that answers by cosine alone).
    ``similarities`` and ``matched`` may be one row per sentence or one row
    per question part; ``typed`` applies to every row.
    """
    scores = np.asarray(similarities, dtype=np.float32) + LEXICAL_BONUS * np.asarray(matched, dtype=np.float32)
    if typed is not None:
        scores = scores + TYPE_BONUS * np.asarray(typed, dtype=np.float32)
    return scores


def best_sentence(
    similarities: np.ndarray,
    matched: list[int],
    is_question: list[bool],
    typed: list[bool] | None = None,
) -> int:
    """Index of the sentence to highlight, by :func:`sentence_scores`. A
    sentence that is itself a question only wins when nothing else is there:
    it restates, it does not answer."""
    scores = sentence_scores(similarities, matched, typed) - 10.0 * np.asarray(is_question, dtype=np.float32)
    return int(np.argmax(scores))
