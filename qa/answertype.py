"""What kind of answer a question asks for, and whether a sentence holds one.

A sentence can match a question's words closely and still not answer it:
"The killing of Haniyeh comes amidst ..." restates "Where was Haniyeh
killed?" without a place in it. Classic question answering before language
models checked the expected answer type (Moldovan et al., "The structure and
performance of an open-domain question answering system", ACL 2000); this is
the cheap, high-precision core of that idea for English: a question that asks
"where", "when", "how many" or "who" wants a place, a time, a quantity or a
person, and a sentence that names one the question does not already contain
is more likely to be the answer. Questions of any other kind get no type, and
nothing changes for them.

Pure functions over text, no model.
"""

from __future__ import annotations

import re

PLACE, TIME, QUANTITY, PERSON = "place", "time", "quantity", "person"

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|million|millions|billion|billions|dozen|dozens|half"
)

# Which type a question asks for: first match wins, so "how many years" is a
# quantity. A follow-up may open with "and": "and where?".
_QUESTION_TYPES = (
    (QUANTITY, re.compile(r"\bhow (many|much|long|far|old|large|big|tall|high|often)\b|"
                          r"\bwhat (percentage|percent|proportion|number|amount|share)\b", re.I)),
    (TIME, re.compile(r"^\W*(?:and |but |so )?when\b|\b(what|which) (year|years|date|day|month|century|decade|time|period|era)\b|"
                      r"\bin (what|which) (year|month|century|decade)\b", re.I)),
    (PLACE, re.compile(r"^\W*(?:and |but |so )?where\b|\b(what|which) (city|country|countries|state|town|region|place|"
                       r"continent|province|county|location)\b", re.I)),
    (PERSON, re.compile(r"^\W*(?:and |but |so )?(who|whom)\b|\b(who|whom) (wrote|is|was|were|did)\b|"
                        r"\b(author|authors|written by|wrote)\b", re.I)),
)

# Candidate answers of each type in a sentence (their text is compared with the question's).
_ANSWERS = {
    QUANTITY: re.compile(rf"\b\d[\d,.]*%?|\b({_NUMBER_WORDS})\b", re.I),
    TIME: re.compile(rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({_MONTHS}|{_DAYS})\b|\b\d{{1,2}}(st|nd|rd|th) century\b|"
                     r"\b(yesterday|today|tomorrow|tonight)\b", re.I),
    # A capitalised name after a preposition of place: "in Tehran", "at the Vatican".
    PLACE: re.compile(r"\b(?:in|at|near|from|inside|outside|across|throughout|to)\s+(?:the\s+)?"
                      r"([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*)"),
    # A name of two or more capitalised words: "Marta Olsen", "Donald E. Knuth".
    PERSON: re.compile(r"\b([A-Z][a-z'’-]+(?:\s+(?:[A-Z]\.|[A-Z][a-z'’-]+))+)"),
}

# Capitalised words that open a sentence or a phrase but are no part of a name.
_NOT_NAME_START = frozenset("the a an this that these those in on at by for of and but or as it its our their "
                            "his her my we they he she when where while with from to".split())


_NOT_PLACES = re.compile(rf"({_MONTHS}|{_DAYS})\b")


def expected_type(question: str) -> str | None:
    """PLACE, TIME, QUANTITY or PERSON when the question asks for one, else None."""
    for kind, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


def offers_answer(kind: str | None, sentence: str, question: str) -> bool:
    """Whether ``sentence`` names a ``kind`` of thing that ``question`` does not
    already name (a sentence that only repeats the question's own year or place
    does not answer it)."""
    if kind is None:
        return False
    asked = question.lower()
    for m in _ANSWERS[kind].finditer(sentence):
        found = (m.group(1) if kind == PLACE else m.group(0)).lower().rstrip(".,")
        if kind == PLACE and _NOT_PLACES.match(found):  # "in April" names a time
            continue
        if kind == PERSON:
            words = found.split()
            while words and words[0] in _NOT_NAME_START:
                words.pop(0)
            if len(words) < 2:
                continue
            found = " ".join(words)
        if found and not re.search(rf"(?<!\w){re.escape(found)}(?!\w)", asked):
            return True
    return False
