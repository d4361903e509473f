"""What is judged over a whole PDF: running headers and footers, the document's
own words (for hyphenation), garbled text layers and the title.

Pure functions over the paragraphs of qa/readers/layout.py and plain text.

* furniture: a one-line paragraph in the top or bottom ``ZONE`` of its page
  whose text (digits ignored) comes back at the same height (within a
  fiftieth of the page) on at least ``REPEAT_PAGES`` pages (2 in a document
  of up to 4 pages) is a running header or footer; a bare page number ("12",
  "Page 3 of 9", "- iv -") there is one too, as is a paragraph of three or
  more lines made only of bare numbers (a chart's axis, line numbers);
* garbled: a page's text is noise when a fifth of its characters are control,
  private-use or surrogate code points or U+FFFD/U+FFFE (what fonts without a
  Unicode map give), or when, among its first ``GARBLE_SAMPLE`` words, at
  least ``MIN_LATIN_WORDS`` are written in Latin letters (3 or more, no
  digits) and fewer than ``MIN_WORDLIKE`` of them look like words (a vowel,
  no five consonants in a row, lower, Capitalised or UPPER case);
  ``UNMAPPED_WORDLIKE`` is asked instead when pdfium reports half the words'
  fonts without a Unicode map (alone, that flag is not enough: some such
  fonts still give the right letters). Stdlib and character statistics only:
  the parsing worker must not load a vocabulary or the model. A page of CJK,
  Hebrew or numbers is never judged by the Latin test;
* title: the metadata title unless it is junk (a file or program name,
  "Microsoft Word - ...", "untitled", an identifier) or matches nothing in
  the document (fewer than half its words of three letters or more occur in
  the first pages); otherwise the first heading-like paragraph of the first
  page with text (the largest text, at least ``HEADING_RATIO`` x the body
  size, at most ``TITLE_WORDS`` words), or None (the caller then uses the
  file name).
"""

from __future__ import annotations

import re
from collections import Counter

ZONE = 0.12  # share of the page height at the top and at the bottom where headers and footers live
REPEAT_PAGES = 3
MIN_LATIN_WORDS = 30
GARBLE_SAMPLE = 400  # words of a page the Latin test looks at
MIN_WORDLIKE = 0.55
BAD_CHARS = 0.2
UNMAPPED_WORDS = 0.5
UNMAPPED_WORDLIKE = 0.75  # the share of word-like words asked of a page whose fonts pdfium reports unmapped
HEADING_RATIO = 1.15
TITLE_WORDS = 20

_PAGE_NUMBER = re.compile(
    r"^[\s\-–—|·•(\[]*(?:(?:page|p\.|pg\.?|seite|página|pagina|pág\.?|s\.)\s*)?[|]?\s*"
    r"(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:of|/|de|von|di|sur)\s*\d{1,4})?[\s\-–—|·•)\]]*$",
    re.I,
)
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s")
# Control, private-use and surrogate code points, U+FFFD/U+FFFE: what fonts without a Unicode map give.
_BAD = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\uf8ff\ufffd\ufffe\U000f0000-\U0010ffff]")
_VOWELS = set("aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœAEIOUYÀÁÂÃÄÅÆÈÉÊËÌÍÎÏÒÓÔÕÖØÙÚÛÜÝŸŒ")
_LATIN_WORD = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ɏ]+(?:['’\-][A-Za-zÀ-ÖØ-öø-ɏ]+)*$")
_CONSONANTS = re.compile(r"[bcdfghjklmnpqrstvwxz]{5}", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
_JUNK_TITLES = {"untitled", "untitled document", "title", "document", "no title", "none", "unknown", "slide 1",
                "powerpoint presentation", "microsoft word", "print", "default", "new document"}
_FILE_NAME = re.compile(r"\.(?:docx?|pdf|pptx?|xlsx?|odt|rtf|txt|exe|qxd|indd|tex|dvi|ps|eps|html?|wpd|pub|"
                        r"ai|psd|tiff?|jpe?g|png)$", re.I)
_APP_PREFIX = re.compile(r"^(?:Microsoft\s+(?:Word|PowerPoint|Excel)|Word|PowerPoint)\s*-\s*", re.I)


def is_page_number(text: str) -> bool:
    """A bare page number: "12", "- 3 -", "Page 4 of 9", "iv", "Page |23"."""
    return bool(_PAGE_NUMBER.match(text.strip())) and len(text.strip()) <= 20


def furniture(pages, heights) -> list[set[int]]:
    """For each page, the indices of its paragraphs that are running headers, footers or page numbers.

    ``pages``: per page, its paragraphs (with ``lines``, ``top`` and
    ``bottom``); ``heights``: each page's height.
    """
    keys: list[dict[int, tuple]] = []
    count: Counter = Counter()
    for paras, height in zip(pages, heights):
        mine = {}
        for i, p in enumerate(paras):
            if len(p.lines) != 1 or not _in_zone(p, height):
                continue
            text = p.lines[0][0].strip()
            if not text or len(text.split()) > 15:
                continue
            key = (_DIGITS.sub("#", text.casefold()), round(p.top / max(height, 1) * 50))
            mine[i] = key
        keys.append(mine)
        count.update(set(mine.values()))
    need = 2 if len(pages) <= 4 else REPEAT_PAGES
    out = []
    for paras, mine, height in zip(pages, keys, heights):
        marks = set()
        for i, p in enumerate(paras):
            numbers = all(is_page_number(t) for t, _ in p.lines)
            if numbers and (len(p.lines) >= 3 or _in_zone(p, height)):
                marks.add(i)
            elif i in mine and len(pages) >= 2 and _near_count(count, mine[i]) >= need:
                marks.add(i)
        out.append(marks)
    return out


def _in_zone(p, height: float) -> bool:
    return p.bottom <= ZONE * height or p.top >= (1 - ZONE) * height


def _near_count(count: Counter, key) -> int:
    # The same line one fiftieth of the page higher or lower still counts (rounding).
    text, y = key
    return max(count[(text, y)], count[(text, y)] + count[(text, y - 1)], count[(text, y)] + count[(text, y + 1)])


def lexicon(texts) -> frozenset[str]:
    """The lower-cased words (and hyphenated words) of ``texts``."""
    out: set[str] = set()
    for text in texts:
        for m in _WORD.finditer(text):
            w = m.group().casefold()
            out.add(w)
            if "-" in w:
                out.update(w.split("-"))
    return frozenset(out)


def garbled(text: str, tokens: int = 0, unmapped: int = 0) -> bool:
    """Whether a page's text looks like noise rather than text (rules in the module docstring)."""
    size = len(text) - len(_SPACE.findall(text))
    if size < 40:
        return False
    if len(_BAD.findall(text)) >= BAD_CHARS * size:
        return True
    # pdfium's "no Unicode map" flag alone is not enough: some fonts lack the map and still give the right letters.
    bar = UNMAPPED_WORDLIKE if tokens >= 10 and unmapped >= UNMAPPED_WORDS * tokens else MIN_WORDLIKE
    latin = []
    for token in text.split()[:GARBLE_SAMPLE]:
        word = token.strip("()[]{}.,;:!?\"'“”‘’«»*-–—/")
        if len(word) >= 3 and not any(c.isdigit() for c in word) and _LATIN_WORD.match(word):
            latin.append(word)
    if len(latin) < MIN_LATIN_WORDS:
        return False
    good = sum(1 for w in latin if _wordlike(w))
    return good < bar * len(latin)


def _wordlike(word: str) -> bool:
    if not any(c in _VOWELS for c in word) or _CONSONANTS.search(word):
        return False
    letters = word.replace("-", "").replace("'", "").replace("’", "")
    return letters.islower() or letters.isupper() or (letters[0].isupper() and letters[1:].islower()) or \
        all(part[:1].isupper() and part[1:].islower() or part.islower() for part in re.split(r"[-'’]", word) if part)


def clean_title(title: str | None) -> str | None:
    """The metadata title without an application's prefix, or None when it is junk."""
    if not title:
        return None
    title = " ".join(title.split())
    title = _APP_PREFIX.sub("", title).strip()
    if not title or title.casefold() in _JUNK_TITLES or _FILE_NAME.search(title):
        return None
    if not any(c.isalpha() for c in title) or re.fullmatch(r"[\w\-]+\d[\w\-]*", title) and " " not in title:
        return None  # "10811", "doc_2013-07": an identifier, not a title
    return title


def title_matches(title: str, text: str) -> bool:
    """Whether at least half of the title's words occur in ``text`` (the first pages)."""
    words = [w.casefold() for w in _WORD.findall(title) if len(w) >= 3]
    if not words:
        return True
    have = {w.casefold() for w in _WORD.findall(text)}
    return sum(w in have for w in words) * 2 >= len(words)


def heading_title(paragraphs, body: float) -> str | None:
    """The first heading-like paragraph of a page: the largest text above the body size, short."""
    cands = []
    for p in paragraphs:
        text = " ".join(t for t, _ in p.lines).strip()
        words = text.split()
        if not words or len(words) > TITLE_WORDS or sum(c.isalpha() for c in text) < 3 or is_page_number(text):
            continue
        if p.height >= HEADING_RATIO * body and not _garbled_words(words):
            cands.append((p.height, text))
    if not cands:
        return None
    best = max(h for h, _ in cands)
    for h, text in cands:  # reading order: the first of the largest
        if h >= 0.95 * best:
            return text
    return None


def _garbled_words(words) -> bool:
    """Whether most of a short text's Latin-letter words look like no word (a heading set in a
    font without a Unicode map: "ÉÇÉÜtuÄx VöÅtÜt"), the page-level test of :func:`garbled` for a line."""
    latin = [w.strip("()[]{}.,;:!?\"'“”‘’«»*-–—/|") for w in words]
    latin = [w for w in latin if len(w) >= 3 and not any(c.isdigit() for c in w) and w.isalpha()]
    return len(latin) >= 2 and sum(1 for w in latin if _wordlike(w)) < 0.5 * len(latin)


def choose_title(meta: str | None, first_page, body: float, text: str) -> str | None:
    """The document's title (rules in the module docstring)."""
    title = clean_title(meta)
    if title is not None and title_matches(title, text):
        return title
    return heading_title(first_page, body)
