"""A written answer checked sentence by sentence against the passages it cites.

A sentence is shown as verified only when all of these hold:

1. it cites at least one of the passages the model was given ("[2]", "[1][3]");
2. every number and every proper name in it occurs in the passages it cites,
   in the sentences closest to it (numbers compared without thousands
   separators: 1,577 = 1577; a date may be written in another form than
   theirs: qa/dates.py);
3. its support by the cited passages reaches :data:`MIN_SUPPORT`: the best
   cosine of the sentence with one of their sentences (the model docqa already
   runs) plus :data:`COVER_WEIGHT` x the share of its content words found in them
   (bench/verify_wrong.py calibrates both on the dev sets).

A mark pointing at a passage that does not support the sentence is moved to
the one that does, or dropped. A sentence that fails is removed (not struck
through: a shown claim is read, crossed out or not), and the answer says how
many were and why. The passages are data: whatever they say, only sentences
that pass these checks against them are shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .analysis import terms
from .chunking import split_sentences
from .dates import find_dates, stated_in
from .types import WrittenSentence

MIN_SUPPORT = 0.90
COVER_WEIGHT = 0.5
# Its numbers and names must be in one of the cited passages' sentences this close to it (by cosine).
FACT_SENTENCES = 2
# A mark whose passage alone scores below this adds nothing to the sentence: it is dropped.
MIN_MARK_SUPPORT = 0.55

_MARKS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEAD = re.compile(r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def split_written(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """The model's text as sentences (docqa's own splitter: "U.S." ends none), each with the
    passage numbers it cites, the marks taken out. Marks after a full stop ("... oil. [2]") are
    the sentence's before them."""
    pieces: list[str] = []
    for a, b in split_sentences(text):
        piece = text[a:b]
        lead = _LEAD.match(piece)
        if lead and pieces:
            pieces[-1] += lead.group(0)
            piece = piece[lead.end():]
        pieces.append(piece)
    out = []
    for piece in pieces:
        marks = tuple(int(n) for m in _MARKS.finditer(piece) for n in re.split(r"\s*[,;]\s*", m.group(1)))
        bare = " ".join(_MARKS.sub("", piece).split())
        bare = re.sub(r"\s+([.!?,;:])", r"\1", bare)
        if bare:
            out.append((bare, tuple(dict.fromkeys(marks))))
    return out


def numbers(text: str) -> set[str]:
    """The numbers of ``text``, thousands separators and trailing zeros of decimals aside."""
    out = set()
    for raw in _NUMBER.findall(text):
        n = raw
        if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", n):
            n = n.replace(",", "")
        n = n.replace(",", ".")
        if "." in n:
            n = n.rstrip("0").rstrip(".")
        out.add(n)
    return out


def names(sentence: str) -> set[str]:
    """Proper names of a sentence: words written with a capital, and acronyms. Where a sentence
    starts, a capital says nothing, so only a word that is no function word counts there
    ("Tesla was born", not "The lamp")."""
    from .analysis import _stopwords

    stop = _stopwords()
    out = set()
    words = [(m.group(0), m.start()) for m in _WORD.finditer(sentence)]
    for k, (w, at) in enumerate(words):
        before = sentence[:at].rstrip()
        starts = k == 0 or before.endswith((".", "!", "?", ":", "“", '"'))
        if not w[0].isupper() or w == "I" or (starts and w.lower() in stop):
            continue
        out.add(w.lower().strip("'’-"))
    return out


@dataclass(frozen=True)
class Source:
    """One passage the model was given: its number, where it is, its text and its sentences."""

    number: int
    doc_id: str
    start: int  # document offset of ``text``
    text: str
    sentences: tuple[tuple[int, int], ...]  # document offsets


def facts_missing(sentence: str, texts: Sequence[str]) -> list[str]:
    """The numbers and names of ``sentence`` that none of ``texts`` holds; a date whose parts are
    not all there is named whole. A date one of them states in another form ("5 March 1931" for
    "1931-03-05") is there."""
    text = " ".join(texts)
    have_numbers = numbers(text)
    have_words = {w.lower().strip("'’-") for w in _WORD.findall(text)}

    def absent(part: str) -> list[str]:
        return ([n for n in sorted(numbers(part)) if n not in have_numbers]
                + [w for w in sorted(names(part)) if w not in have_words])

    have_dates, dated = find_dates(text), []
    for d in reversed(find_dates(sentence)):
        if not stated_in(d, have_dates) and absent(sentence[d.start:d.end]):
            dated.insert(0, sentence[d.start:d.end])
        sentence = sentence[:d.start] + " " + sentence[d.end:]
    return dated + absent(sentence)


def verify(written: str, sources: Sequence[Source], embedder) -> list[WrittenSentence]:
    """Each sentence of ``written`` with its verdict, its marks as corrected, and its support. A
    sentence the model repeats word for word (small models loop) is checked and listed once."""
    seen: set[str] = set()
    split = []
    for text, marks in split_written(written):
        key = " ".join(text.lower().split())
        if key not in seen:
            seen.add(key)
            split.append((text, marks))
    if not split:
        return []
    by_number = {s.number: s for s in sources}
    spans = [(s.number, a, b) for s in sources for a, b in s.sentences if b > a]
    texts = [by_number[n].text[a - by_number[n].start:b - by_number[n].start] for n, a, b in spans]
    vecs = embedder.embed([t for t, _ in split] + texts)
    sent_vecs, src_vecs = vecs[: len(split)], vecs[len(split):]
    src_terms = {s.number: set(terms(s.text)) for s in sources}
    out = []
    for k, (sentence, marks) in enumerate(split):
        own = set(terms(sentence))
        cos = src_vecs @ sent_vecs[k]

        def support(numbers_: Sequence[int]) -> tuple[float, int]:
            """The score of the sentence by passages ``numbers_``, and the index of its best sentence."""
            pick = [i for i, (n, _, _) in enumerate(spans) if n in numbers_]
            if not pick:
                return 0.0, -1
            best = max(pick, key=lambda i: cos[i])
            have = set().union(*(src_terms[n] for n in numbers_))
            share = len(own & have) / len(own) if own else 1.0
            return float(cos[best]) + COVER_WEIGHT * share, best

        def missing_in(numbers_: Sequence[int]) -> list[str]:
            """Facts of the sentence absent from the cited sentences closest to it: a number
            elsewhere in a long passage does not vouch for this one."""
            pick = sorted((i for i, (n, _, _) in enumerate(spans) if n in numbers_), key=lambda i: -cos[i])
            return facts_missing(sentence, [texts[i] for i in pick[:FACT_SENTENCES]])

        given = [m for m in marks if m in by_number]
        if not marks:
            out.append(WrittenSentence(sentence, (), "removed", "it cites no passage"))
            continue
        if not given:
            out.append(WrittenSentence(sentence, marks, "removed",
                                       f"it cites {', '.join(f'[{m}]' for m in marks)}, which the model was not given"))
            continue
        kept = [m for m in given if support([m])[0] >= MIN_MARK_SUPPORT] or given
        score, best = support(kept)
        missing = missing_in(kept)
        reason = ""
        if missing or score < MIN_SUPPORT:
            # The marks may point at the wrong passage: the one that supports it best, if any does.
            alt = max(by_number, key=lambda n: support([n])[0])
            alt_score, alt_best = support([alt])
            if alt_score >= MIN_SUPPORT and not missing_in([alt]):
                kept, score, best, missing = [alt], alt_score, alt_best, []
            else:
                cited = ", ".join(f"[{m}]" for m in given)
                reason = (f"“{missing[0]}” is not in {cited}" if missing
                          else f"not supported by {cited} (support {score:.2f}, at least {MIN_SUPPORT:.2f} needed)")
        if reason:
            out.append(WrittenSentence(sentence, tuple(given), "removed", reason, round(score, 3)))
            continue
        n, a, b = spans[best]
        src = by_number[n]
        evidence = ((n, src.doc_id, a, b, src.text[a - src.start:b - src.start]),)
        moved = "" if list(kept) == list(given) else (
            f"marks {', '.join(f'[{m}]' for m in given)} changed to {', '.join(f'[{m}]' for m in kept)}")
        out.append(WrittenSentence(sentence, tuple(kept), "verified", moved, round(score, 3), evidence))
    return out
