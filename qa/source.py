"""Where a citation points in its file: the page with the sentence highlighted, or the text around it.

A PDF or image page is drawn on demand in the viewing worker
(qa/readers/page_view.py) and kept on disk by the file's content, page and
resolution (bounded; the least recently drawn go first). The sentence is
placed on the page by its characters: letters and digits only, case and
ligatures folded, so a line-end hyphen, a ligature or a drop cap of the
file does not hide it; it is looked for in each order the page's words can
be read in (reading order, content stream, row by row). A highlight is
shown only where the whole sentence was found, once, or once among its
repeats given the text around it; otherwise the page is shown without one,
and the view says why. The rest of the passage is shaded where its pieces
are found in order.

Other formats are shown as the indexed text around the passage, with its
line numbers, the passage and the sentence marked: the stored passages
cover the text, so no file is read again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import SourceError
from .types import Passage

MIN_CHARS = 4  # a sentence of fewer letters and digits than this cannot be placed reliably
PIECE_CHARS = 12  # the shortest piece of a passage shaded on the page
CONTEXT_CHARS = 40  # letters and digits of the text around a repeated sentence, to tell its repeats apart
WINDOW_CHARS = 6_000  # text shown on each side of a cited passage (text, Markdown, HTML, DOCX)


@dataclass(frozen=True)
class Rect:
    """A box on the page, in points from its top-left corner as displayed."""

    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class SourceView:
    """What a citation's "show me" opens.

    ``kind`` "page": ``image`` (PNG, ``image_size`` pixels) of page ``page`` of
    ``pages``, ``page_size`` in points; ``highlight`` boxes the sentence,
    ``shaded`` the rest of the passage on this page (points, top-left origin).
    ``kind`` "text": ``text`` is the document's text from offset ``offset``
    on, its first line being line ``first_line``; ``span`` is the sentence and
    ``context`` the passage, as offsets into ``text``. ``note`` says why
    something is missing (no highlight, the file changed); ``file``: the
    original file, when it is at hand and unchanged ("" otherwise).
    """

    kind: str
    doc_id: str
    source: str
    title: str
    format: str
    note: str = ""
    file: str = ""
    page: int | None = None
    pages: int = 0
    image: bytes = b""
    image_size: tuple[int, int] = (0, 0)
    page_size: tuple[float, float] = (0.0, 0.0)
    highlight: tuple[Rect, ...] = ()
    shaded: tuple[Rect, ...] = ()
    text: str = ""
    offset: int = 0
    first_line: int = 1
    span: tuple[int, int] = (0, 0)
    context: tuple[int, int] = (0, 0)


# ------------------------------------------------------------ pure: placing text
def folded(text: str) -> tuple[str, list[int]]:
    """``text``'s letters and digits, NFKC-normalised and case-folded, and the index in ``text``
    each comes from."""
    out, owner = [], []
    for i, ch in enumerate(text):
        norm = ch if ch.isascii() else unicodedata.normalize("NFKC", ch)
        for c in norm.casefold():
            if c.isalnum():
                out.append(c)
                owner.append(i)
    return "".join(out), owner


def word_stream(words: Sequence[str], order: Sequence[int]) -> tuple[str, list[int]]:
    """The folded characters of ``words`` read in ``order``, and the word each comes from."""
    parts, owner = [], []
    for i in order:
        f, _ = folded(words[i])
        parts.append(f)
        owner.extend([i] * len(f))
    return "".join(parts), owner


def occurrences(needle: str, hay: str, limit: int = 50) -> list[int]:
    """Start positions of ``needle`` in ``hay`` (at most ``limit``)."""
    out, at = [], hay.find(needle)
    while at >= 0 and len(out) < limit:
        out.append(at)
        at = hay.find(needle, at + 1)
    return out


def _common_suffix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _common_prefix(a: str, b: str) -> int:
    n = 0
    while n < len(a) and n < len(b) and a[n] == b[n]:
        n += 1
    return n


def place(needle: str, hay: str, before: str = "", after: str = "") -> tuple[int | None, int]:
    """Where ``needle`` is in ``hay``: (start, count found). With several, the one whose
    surroundings agree best with ``before``/``after`` (folded text around it in the document),
    None when two agree equally well."""
    found = occurrences(needle, hay)
    if len(found) <= 1:
        return (found[0] if found else None), len(found)
    scored = []
    for at in found:
        left = _common_suffix(hay[max(0, at - len(before)):at], before)
        right = _common_prefix(hay[at + len(needle):at + len(needle) + len(after)], after)
        scored.append((left + right, at))
    scored.sort(reverse=True)
    if scored[0][0] == scored[1][0]:
        return None, len(found)
    return scored[0][1], len(found)


def longest_prefix(needle: str, hay: str, least: int) -> int:
    """The length of the longest prefix of ``needle`` (at least ``least``) found in ``hay``; 0 if none."""
    if least > len(needle) or hay.find(needle[:least]) < 0:
        return 0
    lo, hi = least, len(needle)
    while lo < hi:  # found(prefix of length lo) holds throughout
        mid = (lo + hi + 1) // 2
        if hay.find(needle[:mid]) >= 0:
            lo = mid
        else:
            hi = mid - 1
    return lo


def pieces(needle: str, hay: str, least: int = PIECE_CHARS) -> list[tuple[int, int]]:
    """Spans of ``hay`` that runs of ``needle`` (each at least ``least`` long) are found at, in order."""
    out, i, j = [], 0, 0
    while i + least <= len(needle):
        at = hay.find(needle[i:i + least], j)
        if at < 0:
            i += 1
            continue
        n = least
        while i + n < len(needle) and at + n < len(hay) and needle[i + n] == hay[at + n]:
            n += 1
        out.append((at, at + n))
        i, j = i + n, at + n
    return out


def boxes(words: Sequence[Sequence], chosen: Sequence[int], per_point: float) -> tuple[Rect, ...]:
    """The boxes of words ``chosen`` (in reading order), one per run on a line, in points."""
    out: list[list[float]] = []
    for i in chosen:
        _, x0, top, x1, bottom = words[i]
        if out:
            last = out[-1]
            overlap = min(last[3], bottom) - max(last[1], top)
            if overlap > 0.5 * min(last[3] - last[1], bottom - top) and x0 >= last[0] - 1:
                last[0], last[1], last[2], last[3] = min(last[0], x0), min(last[1], top), max(last[2], x1), max(last[3], bottom)
                continue
        out.append([x0, top, x1, bottom])
    return tuple(Rect(a / per_point, b / per_point, c / per_point, d / per_point) for a, b, c, d in out)


@dataclass(frozen=True)
class Placed:
    """A sentence placed on a page: the words it covers, in reading order; or why it was not."""

    words: tuple[int, ...] = ()
    order: int = 0  # which of the page's orders it was found in
    reason: str = ""


def place_on_page(sentence: str, before: str, after: str, words: Sequence[Sequence],
                  orders: Sequence[Sequence[int]], part: str = "whole") -> Placed:
    """The words of ``sentence`` on a page, looked for in each of its ``orders``.

    ``part``: "whole", or "start"/"end" for a sentence running over a page
    break (the longest start of it found on this page; the rest of it at the
    start of this one).
    """
    needle = folded(sentence)[0]
    if len(needle) < MIN_CHARS:
        return Placed(reason="the sentence is too short to be placed on the page")
    texts = [w[0] for w in words]
    ambiguous = 0
    for k, order in enumerate(orders):
        hay, owner = word_stream(texts, order)
        if part == "whole":
            at, count = place(needle, hay, folded(before)[0][-CONTEXT_CHARS:], folded(after)[0][:CONTEXT_CHARS])
            if at is None:
                ambiguous = max(ambiguous, count)
                continue
            span = (at, at + len(needle))
        else:
            span = _part(needle, hay, part)
            if span is None:
                continue
        chosen = list(dict.fromkeys(owner[i] for i in range(*span)))
        return Placed(tuple(chosen), k)
    if ambiguous > 1:
        return Placed(reason=f"the sentence is printed {ambiguous} times on the page, and which one is cited "
                             "cannot be told")
    return Placed(reason="the sentence was not found on the page as it was indexed")


def _part(needle: str, hay: str, part: str) -> tuple[int, int] | None:
    """The part of a sentence split by a page break that is on this page, when it is there once."""
    least = max(MIN_CHARS, min(len(needle) // 4, 24))
    if part == "start":
        n = longest_prefix(needle, hay, least)
        found = occurrences(needle[:n], hay, 2) if n else []
        return (found[0], found[0] + n) if len(found) == 1 else None
    rev = longest_prefix(needle[::-1], hay[::-1], least)
    found = occurrences(needle[len(needle) - rev:], hay, 2) if rev else []
    return (found[0], found[0] + rev) if len(found) == 1 else None


def shade(passage: str, words: Sequence[Sequence], order: Sequence[int], skip: set[int]) -> list[int]:
    """The words of the page that pieces of ``passage`` are found at, in order, less ``skip``."""
    hay, owner = word_stream([w[0] for w in words], order)
    out: dict[int, None] = {}
    for a, b in pieces(folded(passage)[0], hay):
        for i in range(a, b):
            if owner[i] not in skip:
                out[owner[i]] = None
    return list(out)


# ------------------------------------------------------------ pure: text views
def stitch(passages: Sequence[Passage]) -> tuple[str, int, int]:
    """The text that ``passages`` (sorted by start) cover: (text, its offset in the document, its first line).

    Gaps between passages (whitespace the chunker left out) are filled with
    as many line breaks as the line numbers need, then spaces, so offsets
    and line numbers stay the document's."""
    if not passages:
        return "", 0, 1
    first = passages[0]
    out, end, line = [first.text], first.end, first.line_start + first.text.count("\n")
    for p in passages[1:]:
        if p.end <= end:
            continue
        if p.start > end:
            gap = p.start - end
            breaks = min(gap, max(0, p.line_start - line))
            out.append("\n" * breaks + " " * (gap - breaks))
            line += breaks
            out.append(p.text)
        else:
            out.append(p.text[end - p.start:])
        line += out[-1].count("\n")
        end = p.end
    return "".join(out), first.start, first.line_start


def window(passages: Sequence[Passage], cited: Passage, chars: int = WINDOW_CHARS) -> list[Passage]:
    """The passages shown around ``cited`` (``passages`` sorted by start): those next to it in its
    section (the same heading), within ``chars`` on each side."""
    at = next((i for i, p in enumerate(passages) if p.passage_id == cited.passage_id), None)
    if at is None:
        return [cited]
    lo = hi = at
    while lo > 0 and passages[lo - 1].heading == cited.heading and passages[lo - 1].end >= cited.start - chars:
        lo -= 1
    while (hi + 1 < len(passages) and passages[hi + 1].heading == cited.heading
           and passages[hi + 1].start <= cited.end + chars):
        hi += 1
    return list(passages[lo:hi + 1])


# ------------------------------------------------------------ the page cache
class PageCache:
    """Drawn pages on disk, one JSON file each, by file content, page and resolution; bounded."""

    def __init__(self, folder: Path, max_mb: float):
        self.folder, self.max_mb = Path(folder), max_mb

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        if self.max_mb <= 0:
            return None
        try:
            return json.loads(self._path(key).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict) -> None:
        if self.max_mb <= 0:
            return
        from .readers.ocr_cache import prune

        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(value, f)
            os.replace(tmp, path)  # a reader sees the old page or the new one, never half of one
            prune(self.folder, self.max_mb)
        except OSError:
            return


def cache_key(file_hash: str, page: int, ocr_page: bool, extra: str) -> str:
    return hashlib.sha256(f"{file_hash}|{page}|{int(ocr_page)}|{extra}".encode()).hexdigest()[:40]



# ------------------------------------------------------------ showing a citation
def show(info, passages: Sequence[Passage], start: int, end: int, *, corpus_dir: Path, cache: PageCache,
         ocr, page: int | None = None) -> SourceView:
    """The view of span ``start``-``end`` (the cited sentence) of the document ``info`` (a
    qa.storage.DocInfo) whose passages are ``passages``; ``page``: another page of it to show
    (previous, next), without the sentence unless it is on that page too. ``ocr``: the
    OcrOptions pages were read with (their readings are found by them)."""
    ordered = sorted(passages, key=lambda p: p.start)
    cited = next((p for p in ordered if p.start <= start and end <= p.end), None)
    cited = cited or next((p for p in ordered if p.start < max(end, start + 1) and start < p.end), None)
    if cited is None or start < 0 or end < start:
        raise SourceError(f"characters {start}-{end} are not in a passage of {info.doc_id!r}: "
                          "cite offsets from a hit of this index (Hit.evidence)")
    a, b = max(0, start - cited.start), max(0, min(len(cited.text), end - cited.start))
    sentence, before, after = cited.text[a:b], cited.text[:a], cited.text[b:]
    base = dict(doc_id=info.doc_id, source=info.source or info.doc_id, title=info.title, format=info.format)
    file, why = original(info, corpus_dir)
    if info.format in ("pdf", "image") and file:
        return _page_view(info, cited, sentence, before, after, file, cache, ocr, page, base)
    text, offset, first = stitch(window(ordered, cited))
    note = why if info.format in ("pdf", "image") else ""
    if note:
        note += "; the text as it was indexed is shown instead of the page"
    return SourceView("text", **base, note=note, file=file, text=text, offset=offset, first_line=first,
                      span=(max(0, start - offset), max(0, end - offset)),
                      context=(cited.start - offset, cited.end - offset), page=cited.page_start,
                      pages=info.pages)


def original(info, corpus_dir: Path) -> tuple[str, str]:
    """(the document's file, "") when it is in the corpus folder as it was indexed; ("", why not) otherwise."""
    from .corpus import file_digest, file_stat

    if info.origin != "corpus":
        return "", "the document was not added from the corpus folder, so there is no file to show"
    path = Path(corpus_dir) / info.doc_id
    try:
        if list(info.file_stat) == file_stat(path) or (info.file_hash and file_digest(path) == info.file_hash):
            return str(path), ""
    except OSError:
        return "", f"{info.doc_id} is no longer in the corpus folder"
    return "", f"{info.doc_id} has changed since it was indexed (sync to index the new version)"


def _draw(info, file: str, number: int, cache: PageCache, ocr):
    from .readers import limits
    from .readers._client import draw_isolated
    from .readers.page_view import VIEW_DPI, PageDrawing

    ocr_page = info.format == "image" or any(int(n) == number for n, _ in info.ocr_pages)
    key = cache_key(info.file_hash or info.sha256, number, ocr_page, f"{VIEW_DPI}|{ocr.dpi}|{ocr.languages}")
    got = cache.get(key)
    if got is not None:
        try:
            return PageDrawing.from_dict(got)
        except (KeyError, TypeError, ValueError):
            pass
    drawing = draw_isolated(info.format, Path(file), info.doc_id, number, ocr_page, limits(), ocr)
    if not drawing.error:  # a page whose words failed (OCR timed out) is drawn again next time
        cache.put(key, drawing.to_dict())
    return drawing


def _page_view(info, cited: Passage, sentence: str, before: str, after: str, file: str, cache: PageCache,
               ocr, page: int | None, base: dict) -> SourceView:
    first = cited.page_start or 1
    last = max(first, cited.page_end or first)
    number = first if page is None else int(page)
    if number < 1 or (info.pages and number > info.pages):
        raise SourceError(f"{info.doc_id} has no page {number} (it has {info.pages})")
    drawn: dict[int, object] = {}

    def drawing(n: int):
        if n not in drawn:
            drawn[n] = _draw(info, file, n, cache, ocr)
        return drawn[n]

    placed, note = Placed(reason="the sentence is on another page"), ""
    candidates = [number] if page is not None else list(range(first, last + 1))
    if page is not None and not first <= number <= last:
        candidates = []
    for n in candidates:
        d = drawing(n)
        if d.error:
            placed = Placed(reason=f"the page's words could not be read ({d.error})")
            continue
        got = place_on_page(sentence, before, after, d.words, d.orders)
        if got.words:
            placed, number = got, n
            break
        placed = got
    if not placed.words and len(candidates) >= 1 and last > first:
        # A sentence over a page break: its start at the foot of one page, its end atop the next.
        for n in candidates:
            for part, other in (("start", n + 1), ("end", n - 1)):
                if not first <= other <= last:
                    continue
                d = drawing(n)
                got = place_on_page(sentence, before, after, d.words, d.orders, part) if not d.error else Placed()
                if got.words:
                    placed, number = got, n
                    note = f"the sentence {'continues on' if part == 'start' else 'begins on'} page {other}"
                    break
            if placed.words:
                break
    d = drawing(number)
    if not placed.words and page is not None:
        note = "the cited sentence is not on this page"  # the reader turned to it from the cited page
    elif not placed.words:
        note = placed.reason + "; the page is shown without a highlight"
    per_point = d.scale or 1.0
    highlight = boxes(d.words, placed.words, per_point)
    shaded = ()
    if first <= number <= last and d.orders:
        order = d.orders[min(placed.order, len(d.orders) - 1)]
        shaded = boxes(d.words, shade(cited.text, d.words, order, set(placed.words)), per_point)
    return SourceView("page", **base, note=note, file=file, page=number, pages=d.pages, image=d.png,
                      image_size=(d.width, d.height), page_size=(d.width / per_point, d.height / per_point),
                      highlight=highlight, shaded=shaded, span=(0, 0))
