"""Text analysis shared by BM25 and the question path: terms, content words, coverage.

BM25 (lexical.py) counts :func:`terms`; the evidence and "not found" steps
(answering.py) ask which of a question's content words a sentence or passage
holds (:func:`matched_terms`, :func:`coverage`). Pure functions over text;
the stemmer and stopword list are loaded once.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The identity of the analysis, saved with every lexical segment: terms
# counted by another tokenizer, stemmer or stopword list do not mix.
ANALYZER = "word2+/lower/bm25s-stopwords-en/snowball-english"

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


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



# Words that carry no subject. BM25 keeps them (its stopword list is Lucene's
# short one, which the baselines use too), but "she" or "did" shared by a
# question and a sentence says nothing about whether the sentence answers.
_FUNCTION_WORDS = frozenset(
    "i me my we our us you your he him his she her hers its they them what which who whom whose "
    "when where why how do does did done doing have has had having can could would should may "
    "might must shall been being were am about from than so very also up out more most some any "
    "all each other only own same too just here".split()
)


@lru_cache(maxsize=1)
def _function_stems() -> frozenset[str]:
    return frozenset(_stemmer().stemWords(sorted(_FUNCTION_WORDS)))


@lru_cache(maxsize=8192)
def _term_set(text: str) -> frozenset[str]:
    # The sentences of popular passages come back question after question.
    return frozenset(terms(text))


@lru_cache(maxsize=256)
def _content_words(query: str) -> tuple[tuple[str, str], ...]:
    # Asked once per sentence shown: the query's words and stems are worked out once.
    out, seen = [], set()
    for word in _TOKEN.findall(query.lower()):
        if word in _stopwords() or word in _FUNCTION_WORDS or word in seen:
            continue
        seen.add(word)
        out.append((word, _stemmer().stemWord(word)))
    return tuple(out)


def coverage(query: str, *texts: str) -> float:
    """Share of the query's content words (as matched_terms has them) whose stem
    occurs in one of ``texts``; 0 for a query without any ("who is it?")."""
    wanted = {stem for _, stem in _content_words(query)}
    if not wanted:
        return 0.0
    # Each text's terms are cached: a passage's were read for its matched terms.
    present = set().union(*(_term_set(t) for t in texts)) & wanted
    return len(present) / len(wanted)


def names(text: str) -> tuple[str, ...]:
    """Words of ``text`` written with a capital (or all capitals) where no
    sentence starts, stopwords and numbers aside: the names it asks about
    ("Telangana", "BTC"), once each, in order."""
    out = []
    for m in _TOKEN.finditer(text):
        word = m.group()
        if not word[0].isupper() or word.lower() in _stopwords() or word in out:
            continue
        before = text[: m.start()].rstrip()[-1:]
        if before and before not in _SENTENCE_OPENERS:
            out.append(word)
    return tuple(out)


_SENTENCE_OPENERS = ".?!¿¡:;\"“«(["


@lru_cache(maxsize=4096)
def name_words(text: str) -> frozenset[str]:
    """Lower-cased words of a file name, title or question as names are
    written: split at underscores and other punctuation, and also joined where
    a hyphen or dot sits inside a word ("10-K" holds "10k", "U.S." "us", so
    they meet "10K" and "US"); stopwords and one-character words aside."""
    text = text.lower()
    words = {*_NAME_SPLIT.split(text), *_NAME_SPLIT.split(_NAME_JOIN.sub("", text))}
    return frozenset(w for w in words if len(w) > 1 and w not in _stopwords())


_NAME_JOIN = re.compile(r"(?<=\w)[-.](?=\w)")
_NAME_SPLIT = re.compile(r"[\W_]+")


def adds_to(query: str, text: str) -> bool:
    """Whether ``text`` has a content word that ``query`` has not. A sentence
    made only of the question's own words (the title it names, a heading it
    quotes) restates the question; it cannot answer it."""
    asked, function = _term_set(query), _function_stems()
    if any(t not in asked and t not in function for t in _term_set(text)):
        return True
    # Numbers of one digit ("5 days", "6.6") are no terms, but they are what a question asks for.
    return not set(_NUMBER.findall(text)) <= set(_NUMBER.findall(query))


def matched_terms(query: str, text: str) -> tuple[str, ...]:
    """Content words of the query whose stem occurs in ``text``, in query order, once each."""
    present = _term_set(text)
    return tuple(word for word, stem in _content_words(query) if stem in present)
