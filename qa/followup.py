"""Follow-up questions without a language model: carry the conversation's subject.

"and what did Israel say?" or "why?" name no subject of their own. When a
question looks like a follow-up, the search text gets the previous question
and the key terms of the passages the user just saw. A question that stands
on its own is searched as it is, so a change of topic is not dragged back.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from .analysis import terms
from .types import Answer

_WORD = re.compile(r"(?u)\b\w+\b")
# Words that point back at something said before.
_ANAPHORA = {
    "it", "its", "they", "them", "their", "he", "him", "his", "she", "her", "this", "that",
    "these", "those", "there", "then", "such", "same", "other", "else", "also",
}
_OPENERS = ("and ", "but ", "so ", "also ", "what about", "how about", "and?", "why", "how come", "then ")
# Content words a question needs before it stands alone.
_STANDALONE_TERMS = 3


def is_follow_up(question: str) -> bool:
    """True for questions that lean on the conversation before them."""
    q = question.strip().lower()
    words = _WORD.findall(q)
    if not words:
        return False
    if q.startswith(_OPENERS) or any(w in _ANAPHORA for w in words):
        return True
    return len(set(terms(q))) < _STANDALONE_TERMS


def conversation_context(question: str, history: Sequence[Answer | str], max_terms: int = 6) -> str:
    """Words from the earlier turns (oldest first) that ``question`` leans on; "" when it stands alone.

    The caller weighs this context below the question itself, so the
    follow-up's own words ("Israel" in "and what did Israel say?") still lead.
    """
    if not history or not is_follow_up(question):
        return ""
    last = history[-1]
    if isinstance(last, str):
        return last
    # What the previous turn searched: its question plus any context it carried.
    previous = last.query or last.question
    seen = set(terms(question)) | set(terms(previous))
    counts: Counter[str] = Counter()
    for hit in last.hits[:3]:
        counts.update(t for t in terms(hit.evidence.text) if t not in seen)
    # Stems are what BM25 matches, and embedders cope with them well enough;
    # keep the few most frequent ones so they add a subject, not noise.
    extra = [t for t, _ in counts.most_common(max_terms)]
    return " ".join([previous, *extra])
