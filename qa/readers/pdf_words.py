"""One PDF page as words and ruling lines in the upright frame, read with pypdfium2.

pdfium's text page gives the characters in content order with the spaces and
line breaks it infers, its own line-end hyphen mark (U+FFFE, the line break
then left out) and per character a box, an angle and whether the font had a
Unicode mapping. Asking for every character's box, angle and font costs
several ctypes calls per character (about 30 pages/s on the dev set's
352-page book, slower than pypdf), so this module asks per word: the page's
text in one call, split at whitespace, the loose boxes of each word's first
and last characters and the angle once per line (about 130 pages/s); only a
word whose two boxes disagree (not on one line, or too far apart for its
length) is measured character by character and cut where they jump.

The upright frame (see qa/readers/layout.py) is the frame of the page's main
text direction, so a page printed sideways (/Rotate 90, or text drawn at 90
degrees) is read like any other. Text at another angle (a vertical column
header) is grouped into lines in its own direction, and each line becomes
one ``rotated`` word in the main frame.
"""

from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass

import pypdfium2.raw as raw

from .layout import RTL, Rule, Word, group_rows, normalise_ligatures, split_row

# Unit vectors (along the text, down the text) in PDF user space (y up) for
# pdfium's angles 0, 90, 180 and 270 degrees (clockwise).
_FRAMES = (((1, 0), (0, -1)), ((0, -1), (-1, 0)), ((-1, 0), (0, 1)), ((0, 1), (1, 0)))
_TOKEN = re.compile("[^\\s\ufffe\x02]+[\ufffe\x02]?")
_LIGATURE = re.compile("[\ufb00-\ufb06]")
MAX_PATH_SEGMENTS = 20_000  # per page: a drawing with more is not read for table rules
UNMAPPED_SAMPLE = 4  # pdfium's Unicode-map flag is asked of one word in this many
RULE_THICKNESS = 2.5  # a filled or stroked shape thinner than this (points) is a ruling line


@dataclass(frozen=True)
class PageWords:
    """A page's words in the upright frame, and counts for judging its text layer."""

    words: tuple[Word, ...]
    width: float
    height: float
    tokens: int  # words pdfium found
    unmapped: int  # of them, words whose first character had no Unicode mapping in its font (estimated from a sample)
    frame: tuple[int, float, float] = (0, 0.0, 0.0)  # main direction and origin of the upright frame


def _from_frame(q: int, u: float, v: float) -> tuple[float, float]:
    """A point of direction ``q``'s frame back in user space (a rotation: its inverse is its transpose)."""
    (dx, dy), (nx, ny) = _FRAMES[q]
    return u * dx + v * nx, u * dy + v * ny


def _box_in(q: int, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
    """A user-space box as (u0, v0, u1, v1) in the frame of direction ``q`` (the rotations of _FRAMES, unrolled)."""
    if q == 0:
        return left, -top, right, -bottom
    if q == 1:
        return -top, -right, -bottom, -left
    if q == 2:
        return -right, bottom, -left, top
    return bottom, left, top, right


def _page_text(h, n: int) -> str | None:
    buf = (ctypes.c_ushort * (n + 1))()
    got = raw.FPDFText_GetText(h, 0, n, buf)
    text = bytes(buf)[: max(0, got - 1) * 2].decode("utf-16-le", "surrogatepass")
    return text if len(text) == n else None


def _page_text_by_char(h, n: int) -> str:
    out = []
    for i in range(n):
        u = raw.FPDFText_GetUnicode(h, i)
        out.append(chr(u) if 0 < u < 0x110000 and not 0xD800 <= u < 0xE000 else "\ufffd")
    return "".join(out)


def read_page(page) -> PageWords:
    """The words of a ``pypdfium2.PdfPage``."""
    textpage = page.get_textpage()
    try:
        h = textpage.raw
        n = raw.FPDFText_CountChars(h)
        text = (_page_text(h, n) or _page_text_by_char(h, n)) if n > 0 else ""
        pieces, tokens, unmapped = _pieces(h, text)
    finally:
        textpage.close()
    left, bottom, right, top = page.get_bbox()
    counts = [0, 0, 0, 0]
    for p in pieces:
        counts[p[1]] += len(p[0])
    q = max(range(4), key=lambda k: counts[k])
    fx0, fy0, fx1, fy1 = _box_in(q, left, bottom, right, top)
    words = []
    other: dict[int, list[Word]] = {}
    for text_, pq, u0, v0, u1, v1, order, hyphen, end, spaces in pieces:
        if pq == q:
            words.append(Word(text_, u0 - fx0, v0 - fy0, u1 - fx0, v1 - fy0, order, hyphen, False, end, spaces))
        else:
            other.setdefault(pq, []).append(Word(text_, u0, v0, u1, v1, order, hyphen, False, end, spaces))
    for pq, ws in other.items():
        words.extend(_rotated_lines(ws, pq, q, fx0, fy0))
    # Text outside the page's box is never seen (printer's marks, slug lines): left out as pdftotext does.
    width, height = fx1 - fx0, fy1 - fy0
    words = [w for w in words if 0 <= (w.x0 + w.x1) / 2 <= width and 0 <= (w.top + w.bottom) / 2 <= height]
    return PageWords(tuple(words), width, height, tokens, unmapped, (q, fx0, fy0))


def read_rules(page, words: PageWords) -> tuple[Rule, ...]:
    """The page's ruling lines in the frame of ``words`` (asked for only where a table may be: it
    walks every object of the page)."""
    return tuple(_rules(page, *words.frame))


def _rotated_lines(words: list[Word], q: int, main: int, fx0: float, fy0: float) -> list[Word]:
    """Lines of text in direction ``q``, each boxed as one word in the frame of direction ``main``."""
    out = []
    for row in group_rows(words):
        for seg in split_row(row):
            x0, y0 = _from_frame(q, seg.x0, seg.top)
            x1, y1 = _from_frame(q, seg.x1, seg.bottom)
            u0, v0, u1, v1 = _box_in(main, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            out.append(Word(seg.text, u0 - fx0, v0 - fy0, u1 - fx0, v1 - fy0, seg.words[0].order, rotated=True))
    return out


def _pieces(h, text: str):
    """(text, direction, u0, v0, u1, v1, order, hyphen, end, spaces) per word in its direction's frame."""
    rect = raw.FS_RECTF()
    rp = ctypes.byref(rect)
    box = raw.FPDFText_GetLooseCharBox
    angle = raw.FPDFText_GetCharAngle
    unmapped_of = raw.FPDFText_HasUnicodeMapError
    out = []
    tokens = unmapped = 0
    q = None
    spell = normalise_ligatures if _LIGATURE.search(text) else str
    for m in _TOKEN.finditer(text):
        a, b = m.start(), m.end()
        hyphen = text[b - 1] in "\ufffe\x02"
        if hyphen:
            b -= 1
        if b <= a:
            continue
        tokens += 1
        spaces = 1
        if tokens % UNMAPPED_SAMPLE == 0 and unmapped_of(h, a) == 1:
            unmapped += UNMAPPED_SAMPLE
        # pdfium breaks the line where the direction changes: one angle per line, re-asked when boxes disagree.
        if a == 0 or text[a - 1] != " " or q is None:
            q = _quadrant(angle(h, a))
        box(h, a, rp)
        first = _box_in(q, rect.left, rect.bottom, rect.right, rect.top)
        if out and a >= 2 and text[a - 1] == " " and out[-1][8] == a - 1 and out[-1][1] == q:
            _count_spaces(h, out, first, a - 1, rp, rect)
        if b - a == 1:
            out.append((spell(text[a:b]), q, *first, a, hyphen, b, spaces))
            continue
        box(h, b - 1, rp)
        last = _box_in(q, rect.left, rect.bottom, rect.right, rect.top)
        if RTL.search(text, a, b):  # Hebrew, Arabic: the first character is the rightmost
            first, last = (last[0], last[1], first[2], first[3]), (first[0], first[1], last[2], last[3])
        height = max(first[3] - first[1], last[3] - last[1], 0.01)
        overlap = min(first[3], last[3]) - max(first[1], last[1])
        if (last[0] >= first[0] - 0.5 * height and overlap >= 0.5 * min(first[3] - first[1], last[3] - last[1])
                and last[2] - first[0] <= (b - a) * 1.6 * height + height):
            out.append((spell(text[a:b]), q, first[0], min(first[1], last[1]), max(first[2], last[2]),
                        max(first[3], last[3]), a, hyphen, b, spaces))
            continue
        own = _quadrant(angle(h, a))
        if own != q:  # a word in another direction on the same pdfium line: measured in its own frame
            q = own
            box(h, a, rp)
            first = _box_in(q, rect.left, rect.bottom, rect.right, rect.top)
            box(h, b - 1, rp)
            last = _box_in(q, rect.left, rect.bottom, rect.right, rect.top)
            height = max(first[3] - first[1], last[3] - last[1], 0.01)
            if last[0] >= first[0] - 0.5 * height and last[2] - first[0] <= (b - a) * 1.6 * height + height:
                out.append((spell(text[a:b]), q, first[0], min(first[1], last[1]), max(first[2], last[2]),
                            max(first[3], last[3]), a, hyphen, b, spaces))
                continue
        out.extend(_split_by_char(h, text, a, b, q, hyphen, rp, rect, spaces))
    return out, tokens, unmapped


def _quadrant(theta: float) -> int:
    return int(round(theta / (math.pi / 2))) % 4 if theta >= 0 else 0


def _count_spaces(h, out: list, first, space: int, rp, rect) -> None:
    """Record on the previous word how many spaces its gap to this one holds.

    pdfium writes a run of spaces as one character whose box is one space
    wide; a gap of two or more such widths was typed as that many spaces
    (kept, so "Chapter Two:   Methods" stays as written).
    """
    prev = out[-1]
    gap = first[0] - prev[4]
    # One space is about a quarter of the line's height: only a wider gap can hold two.
    if gap <= 0.45 * (first[3] - first[1]) or min(first[3], prev[5]) - max(first[1], prev[3]) <= 0:
        return
    raw.FPDFText_GetLooseCharBox(h, space, rp)
    width = abs(rect.right - rect.left) if prev[1] in (0, 2) else abs(rect.top - rect.bottom)
    if width > 0.1 and gap >= 2.2 * width:
        out[-1] = prev[:9] + (int(gap / width + 0.3),)


def _split_by_char(h, text, a, b, q, hyphen, rp, rect, spaces=1):
    """A word whose ends disagree, measured per character and cut where the boxes jump."""
    pieces, cur = [], None
    for i in range(a, b):
        raw.FPDFText_GetLooseCharBox(h, i, rp)
        u0, v0, u1, v1 = _box_in(q, rect.left, rect.bottom, rect.right, rect.top)
        if cur is not None:
            hh = max(cur[4] - cur[2], v1 - v0, 0.01)
            overlap = min(cur[4], v1) - max(cur[2], v0)
            if overlap < 0.5 * min(cur[4] - cur[2], v1 - v0) or u0 - cur[3] > 0.6 * hh or u0 < cur[1] - 0.5 * hh:
                pieces.append(cur)
                cur = None
        if cur is None:
            cur = [i, u0, v0, u1, v1, i + 1]
        else:
            cur = [cur[0], cur[1], min(cur[2], v0), max(cur[3], u1), max(cur[4], v1), i + 1]
    pieces.append(cur)
    out = []
    for k, (s, u0, v0, u1, v1, e) in enumerate(pieces):
        last = k == len(pieces) - 1
        out.append((normalise_ligatures(text[s:e]), q, u0, v0, u1, v1, s, hyphen and last, e, spaces if last else 1))
    return out


def _rules(page, q: int, fx0: float, fy0: float):
    """Thin filled or stroked shapes and the straight edges of drawn paths: table borders."""
    h = page.raw
    count = raw.FPDFPage_CountObjects(h)
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    x, y = ctypes.c_float(), ctypes.c_float()
    matrix = raw.FS_MATRIX()
    budget = MAX_PATH_SEGMENTS
    out = []

    def add(x0, y0, x1, y1):
        u0, v0, u1, v1 = _box_in(q, min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if (u1 - u0) >= 3 or (v1 - v0) >= 3:
            out.append(Rule(u0 - fx0, v0 - fy0, u1 - fx0, v1 - fy0))

    for i in range(count):
        obj = raw.FPDFPage_GetObject(h, i)
        if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_PATH:
            continue
        if not raw.FPDFPageObj_GetBounds(obj, ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right),
                                         ctypes.byref(top)):
            continue
        w, hh = right.value - left.value, top.value - bottom.value
        if min(w, hh) <= RULE_THICKNESS:
            add(left.value, bottom.value, right.value, top.value)
            continue
        n = raw.FPDFPath_CountSegments(obj)
        if n <= 0 or n > budget:
            continue
        budget -= n
        if not raw.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
            continue
        ma, mb, mc, md, me, mf = matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f
        prev = start = None
        for k in range(n):
            seg = raw.FPDFPath_GetPathSegment(obj, k)
            if not raw.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y)):
                continue
            px, py = ma * x.value + mc * y.value + me, mb * x.value + md * y.value + mf
            kind = raw.FPDFPathSegment_GetType(seg)
            if kind == raw.FPDF_SEGMENT_MOVETO:
                prev = start = (px, py)
                continue
            if kind == raw.FPDF_SEGMENT_LINETO and prev is not None:
                if abs(px - prev[0]) < 1 or abs(py - prev[1]) < 1:  # axis-aligned: a border
                    add(prev[0], prev[1], px, py)
                if raw.FPDFPathSegment_GetClose(seg) and start is not None:
                    if abs(start[0] - px) < 1 or abs(start[1] - py) < 1:
                        add(px, py, start[0], start[1])
            prev = (px, py)
    return out
