"""Whether the hits answer at all: the score "found" is judged on (Answer.confidence).

Pure arithmetic, no numpy: the settings derive their bounds from it.
"""

from __future__ import annotations

# The best cosine of the question and a sentence, plus this much times the
# share of the question's content words the first passage holds. A question
# whose words the documents do not hold (a name, the subject of another text)
# is most often unanswerable: on SQuAD with half the articles indexed, this
# term lets 17% of the unanswerable questions through where the cosine alone
# lets 29%, at the same 3% of answerable ones refused (bench/RESULTS.md, run 10).
COVERAGE_WEIGHT = 0.2


def confidence(sentence: float, coverage: float) -> float:
    """How sure the hits answer: see COVERAGE_WEIGHT."""
    return float(sentence) + COVERAGE_WEIGHT * float(coverage)
