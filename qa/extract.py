"""The short extractive answer: the few document sentences that answer best.

Pure: it works on similarity matrices, never on a model. Every quote is a
sentence of a retrieved passage, verbatim, so nothing shown is invented.
"""

from __future__ import annotations

import re

import numpy as np

# "X, and does Y?" / "X and why Y?": a second question joined to the first.
_JOIN = re.compile(
    r"(?:,\s*|\s+)(?:and|but|or)\s+(?=(?:does|do|did|is|are|was|were|can|could|will|would|should|has|have|"
    r"what|why|how|who|whom|whose|when|where|which)\b)",
    re.I,
)


def split_question(question: str) -> list[str]:
    """The separate questions inside ``question`` (one or more, in order).

    "Why did X happen, and does it mean Y?" asks two things; each gets its own
    quote in the answer, so the second is not drowned by the first.
    """
    parts = []
    for piece in re.split(r"(?<=\?)\s+", question.strip()):
        parts += [p.strip(" ,;") for p in _JOIN.split(piece)]
    parts = [p for p in parts if len(p.split()) >= 2]
    return parts or [question.strip()]


def pick_quotes(
    part_sims: np.ndarray,
    eligible: list[bool],
    sentence_sims: np.ndarray,
    limit: int = 3,
    keep_ratio: float = 0.85,
    redundancy: float = 0.9,
) -> list[int]:
    """Indices of the sentences that make the answer, in reading order of the parts.

    ``part_sims[p, s]``: how well sentence ``s`` answers question part ``p``
    (row 0 is the whole question; qa.ranking.sentence_scores).
    ``sentence_sims[s, t]``: similarity of two sentences, to skip
    near-repeats. First the best sentence for each part; then more sentences
    for the whole question while they score at least ``keep_ratio`` of the
    best one, up to ``limit``.
    """
    chosen: list[int] = []
    candidates = [s for s in range(part_sims.shape[1]) if eligible[s]]

    def fresh(s: int) -> bool:
        return s not in chosen and all(sentence_sims[s, c] < redundancy for c in chosen)

    parts = range(1, part_sims.shape[0]) if part_sims.shape[0] > 1 else range(1)
    for p in parts:
        options = [s for s in candidates if fresh(s)]
        if options and len(chosen) < limit:
            chosen.append(max(options, key=lambda s: (part_sims[p, s], -s)))
    if not chosen:
        return []
    best = max(part_sims[0, s] for s in candidates)
    for s in sorted(candidates, key=lambda s: (-part_sims[0, s], s)):
        if len(chosen) >= limit or part_sims[0, s] < keep_ratio * best:
            break
        if fresh(s):
            chosen.append(s)
    return chosen


def table_cell(row: str, header_rows: list[list[str]], asked, sep: str) -> str:
    """"row label, column header: value" for a table ``row`` (cells joined by
    ``sep``) under ``header_rows`` (each a list of cells), naming the one column
    whose header holds the most of what was asked (``asked(header) -> a score,
    0 for none of the question's words``); "" when no single column stands out
    or the header does not line up with the row's cells."""
    cells = [c.strip() for c in row.split(sep)]
    # Header lines that line up with the row, and fill most of it (a title
    # spread over a few cells of a header line is no column header).
    lines = [line for line in header_rows if len(line) == len(cells) and 2 * sum(1 for c in line if c.strip()) > len(line)]
    if len(cells) < 2 or not lines or not cells[0]:
        return ""
    # Header rows stacked over one column read top to bottom ("2019" over "Q1").
    headers = [" ".join(part for part in (line[i].strip() for line in lines) if part) for i in range(len(cells))]
    scores = [asked(h) if h else 0 for h in headers[1:]]
    best = max(scores)
    if best == 0 or scores.count(best) > 1:
        return ""
    col = 1 + scores.index(best)
    return f"{cells[0]}, {headers[col]}: {cells[col]}" if cells[col] else ""
