"""Follow-up questions without a language model: carry the conversation's subject.

"and what did Israel say?" or "why?" name no subject of their own. When a
question looks like a follow-up, the search text gets the previous question
and the key terms of the passages the user just saw. A question that stands
on its own is searched as it is, so a change of topic is not dragged back.

Some questions look like follow-ups by their form ("What year did they win
the cup?", "Why is the sky blue?") yet name a subject of their own: those are
searched on their own too (qa/answering.py), and read as follow-ups only
when that search finds the documents the conversation was about.
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
# Openers that continue the conversation whatever follows them.
_CONTINUING = ("and ", "and?", "but ", "also ", "what about", "how about", "then ")
# Content words a question needs before it stands alone.
_STANDALONE_TERMS = 3
# Fewer content words than this: nothing of its own to search ("why?", "when did she die?").
_OWN_SUBJECT = 2
# The last turn's first hits whose documents are "what the conversation was about": its answer's source.
_SUBJECT_HITS = 1


def is_follow_up(question: str) -> bool:
    """True for questions that lean on the conversation before them."""
    q = question.strip().lower()
    words = _WORD.findall(q)
    if not words:
        return False
    if q.startswith(_OPENERS) or any(w in _ANAPHORA for w in words):
        return True
    return len(set(terms(q))) < _STANDALONE_TERMS


def names_own_subject(question: str) -> bool:
    """True when a question read as a follow-up by its form has words enough of its own to be
    searched alone (and does not open with "and", "what about", ...)."""
    q = question.strip().lower()
    return len(set(terms(q))) >= _OWN_SUBJECT and not q.startswith(_CONTINUING)


def subject_documents(history: Sequence[Answer | str]) -> frozenset[str]:
    """The documents of the last turn's first hits (none when the last turn is a bare question)."""
    if not history or isinstance(history[-1], str):
        return frozenset()
    return frozenset(h.doc_id for h in history[-1].hits[:_SUBJECT_HITS])


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
