"""Pure ranking logic: fusing dense and lexical scores, collapsing overlaps, picking evidence.

No model and no index here, only numbers and spans, so each rule is tested
on exact inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scored:
    """A candidate passage with its two scores and the fused one."""

    passage_id: int
    dense: float
    lexical: float
    fused: float


def fuse(
    ids: np.ndarray, dense: np.ndarray, lexical: np.ndarray, dense_weight: float
) -> list[Scored]:
    """Convex combination of cosine and max-normalised BM25, best first.

    Cosine is already on a fixed scale; BM25 is not (it grows with query
    length and corpus statistics), so it is divided by the query's best BM25
    score. Ties break on passage id, so equal input gives equal output.
    """
    lex_max = float(lexical.max()) if len(lexical) and lexical.max() > 0 else 1.0
    fused = dense_weight * dense + (1.0 - dense_weight) * (lexical / lex_max)
    order = sorted(range(len(ids)), key=lambda i: (-fused[i], int(ids[i])))
    return [Scored(int(ids[i]), float(dense[i]), float(lexical[i]), float(fused[i])) for i in order]


def overlap_fraction(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Share of the shorter span covered by the other."""
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    return max(0, inter) / shorter if shorter > 0 else 0.0


def collapse(candidates: list, key_span, key_doc, key_text, limit: int, max_overlap: float = 0.5) -> list:
    """The first ``limit`` candidates, skipping any that repeat an earlier one.

    A candidate repeats another when it comes from the same document and
    their spans overlap by more than ``max_overlap``, or when its text is
    identical (the same passage in two copies of a document).
    """
    kept: list = []
    seen_text: set[str] = set()
    for c in candidates:
        text = key_text(c)
        if text in seen_text:
            continue
        if any(
            key_doc(k) == key_doc(c) and overlap_fraction(key_span(k), key_span(c)) > max_overlap
            for k in kept
        ):
            continue
        kept.append(c)
        seen_text.add(text)
        if len(kept) == limit:
            break
    return kept


def best_sentence(
    similarities: np.ndarray,
    matched: list[int],
    is_question: list[bool],
    lexical_bonus: float = 0.1,
) -> int:
    """Index of the sentence to highlight: cosine with the question, plus a
    small bonus per question term it contains (a tie-breaker for short
    sentences whose vectors are noisy). A sentence that is itself a question
    only wins when nothing else is there: it restates, it does not answer."""
    scores = similarities + lexical_bonus * np.asarray(matched, dtype=np.float32)
    scores = scores - 10.0 * np.asarray(is_question, dtype=np.float32)
    return int(np.argmax(scores))
