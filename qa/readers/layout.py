"""Layout analysis of one PDF page: words with boxes -> lines -> blocks -> reading order.

Pure functions over boxes, no PDF library: qa/readers/pdf_words.py turns a
page into :class:`Word` objects, qa/readers/layout_tables.py takes the tables
out, and this module orders what is left into paragraphs. Coordinates are in
an upright frame: x grows to the right, y grows downward (``top`` <
``bottom``), in PDF points, whatever the page's /Rotate or text direction.

The rules, in the order they run:

* line numbers: a column of at least ``LINE_NUMBERS`` bare integers counting
  up by one, alone in its vertical band with all other text on one side of
  it (a printer's or a legal margin), is dropped;
* rows: words whose bottoms (the descent line of their loose boxes) agree
  within 0.3 x the height are on one row; a row of small words inside a taller
  neighbour's extent (a superscript, a footnote mark) joins it;
* segments: a row is cut where the gap between two words is wider than
  ``GAP_EM`` x the text height, well above the row's usual word space, and
  either wider than ``WIDE_GAP_EM`` x the height or white in the nearest rows
  above and below that hold text over the word before it (a gutter runs
  down the page; one wide space of a justified line does not cut it); a
  sideways line (a ``rotated`` word) is a segment of its own;
* drop caps: a one-letter capital at least ``DROP_CAP_RATIO`` x the page's
  usual height, with a line starting just right of it near its top, is
  prepended to that line's first word ("T" + "he Boots" -> "The Boots");
* blocks: a segment continues the block whose last line is right above it
  (vertical gap at most ``LEADING_EM`` x height, horizontal overlap, height
  within ``SIZE_TOLERANCE``); a change of font size or a wider gap starts a
  new block;
* reading order: Breuel's rule over blocks and tables (T. Breuel, "High
  performance document layout analysis", 2003): a comes before b when their
  x ranges overlap and a is above b, or when a is entirely left of b and no
  block between them vertically overlaps both in x. Columns are read one
  after the other and a full-width title or figure between column parts
  stays in its place;
* paragraphs: inside a block a new paragraph starts at a first-line indent
  (an indented line that reaches the right edge, not a list item's
  hanging line), an outdented line after indented ones, a bullet, after a
  line that ends a sentence well short of the block's right edge, or after
  a short first line without final punctuation before a full line starting
  with a capital (a heading); a paragraph's lines are joined with one space
  (see :func:`join_lines` for hyphens and CJK), so a sentence never ends at
  a line break alone;
* right to left: a line whose letters are mostly Hebrew or Arabic is read
  from its right end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GAP_EM = 0.9  # a gap wider than this x the text height may cut a row into segments (a gutter) ...
WIDE_GAP_EM = 3.0  # ... and does when wider than this, or when the rows above and below are white there too
GUTTER_REACH = 3.0  # how far above and below a gap the rows that confirm a gutter are looked for, x the height
LEADING_EM = 0.75  # the most vertical white between two lines of one block, x the text height ...
LEADING_SAMPLES = 8  # ... unless at least this many lines of a page are set at a wider, regular pitch
LEADING_LOOKBACK = 20  # how many lines back the line above one is looked for (a form has thousands)
SIZE_TOLERANCE = 0.2  # lines of one block differ in height by at most this share
LINE_NUMBERS = 5  # bare integers counting up in a margin column: printer's or legal line numbers
DROP_CAP_RATIO = 1.8  # a drop cap is at least this many times the page's usual text height
INDENT_EM = 0.8  # a first-line indent is at least this x the text height
SHORT_LINE = 0.12  # a line ending this share of the block's width short of its right edge is a paragraph's last
MAX_ORDERED = 600  # blocks on a page that Breuel's rule orders; more are read top to bottom
HEADING_LINE = 0.6  # a line shorter than this share of the block's width, without final punctuation, is a heading

# Hebrew and Arabic letters (and their presentation forms): text read from right to left.
RTL = re.compile("[\u0590-\u05ff\u0600-\u06ff\u0750-\u077f\ufb1d-\ufdff\ufe70-\ufeff]")
_LETTER = re.compile(r"[^\W\d_]")
_BULLET = re.compile(r"^(?:[•◦▪▫■□●○‣⁃∙·\-–—*]|\(?[0-9]{1,2}[.)]|\(?[a-z][.)]|\([ivx]{1,4}\))$")
_SENTENCE_END = re.compile(r"[.!?:;。！？][\"'”’)\]]*$")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})


@dataclass(frozen=True, slots=True)
class Word:
    """A run of characters without spaces, with its box in the upright frame.

    ``order`` and ``end``: where the word starts and ends in the page's
    content stream; when the next word on its line follows it there, the run
    of ``spaces`` typed between them is kept. ``hyphen``: the word ended its
    line with a hyphen the PDF marked as a line-end hyphen (the hyphen is not
    in ``text``; joining the lines decides whether it stays). ``rotated``: a
    whole line of text that runs across the page's main direction (a
    vertical table header), boxed as one word.
    """

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    order: int = 0
    hyphen: bool = False
    rotated: bool = False
    end: int = 0
    spaces: int = 1

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class Rule:
    """A ruling line drawn on the page (a table border), in the upright frame."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def horizontal(self) -> bool:
        return (self.x1 - self.x0) >= (self.bottom - self.top)


@dataclass(frozen=True, slots=True)
class Line:
    """Words on one row, left to right, close enough to be read as one line."""

    words: tuple[Word, ...]
    x0: float
    top: float
    x1: float
    bottom: float
    height: float  # the height of most of its characters: the line's text size

    @property
    def text(self) -> str:
        words = self.words
        if is_rtl(words):  # a right-to-left line is read from its right end
            return " ".join(w.text for w in reversed(words))
        out = [words[0].text]
        for a, b in zip(words, words[1:]):
            out.append(" " * a.spaces if a.spaces > 1 and b.order == a.end + 1 else " ")
            out.append(b.text)
        return "".join(out)

    @property
    def hyphen(self) -> bool:
        return bool(self.words) and self.words[-1].hyphen


@dataclass(frozen=True)
class Block:
    """Lines read together (a paragraph or several), top to bottom."""

    lines: tuple[Line, ...]
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return median([ln.height for ln in self.lines])


@dataclass(frozen=True)
class Paragraph:
    """A paragraph's lines: text and whether each ends with a marked line-end hyphen."""

    lines: tuple[tuple[str, bool], ...]
    height: float = 0.0  # text size: headings are larger
    x0: float = 0.0
    top: float = 0.0
    x1: float = 0.0
    bottom: float = 0.0


@dataclass(frozen=True)
class Box:
    """Anything placed in the reading order with a box: a block, or a table's region."""

    x0: float
    top: float
    x1: float
    bottom: float
    item: object = field(default=None, compare=False)


# ------------------------------------------------------------------ words
def is_rtl(words) -> bool:
    """Whether most letters of ``words`` (Word objects or strings) are Hebrew or Arabic."""
    text = "".join(w if isinstance(w, str) else w.text for w in words)
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(RTL.findall(text)) * 2 > letters


def normalise_ligatures(text: str) -> str:
    """Ligature code points (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) spelled out, as NFKC would; nothing else touched."""
    return text.translate(_LIGATURES)


def median(values) -> float:
    """The median of ``values`` (0.0 for none)."""
    values = sorted(values)
    if not values:
        return 0.0
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def body_height(words) -> float:
    """The page's usual text height: the median over characters (long words weigh more)."""
    weighted = sorted((w.height, len(w.text)) for w in words if not w.rotated and w.height > 0)
    total = sum(n for _, n in weighted)
    if not total:
        return 10.0
    seen = 0
    for h, n in weighted:
        seen += n
        if seen * 2 >= total:
            return h
    return weighted[-1][0]


# ------------------------------------------------------------------- rows
def group_rows(words) -> list[list[Word]]:
    """Words in rows, top to bottom, each row left to right.

    Words of one row share a bottom (the loose boxes of one font end at the
    same descent below the baseline); box overlap would not do, since the
    loose boxes of some fonts are taller than their line pitch. A row of
    small words inside a taller row's extent (superscripts, footnote marks)
    joins it.
    """
    rows: list[list] = []  # [bottom, height, words]
    for w in sorted(words, key=lambda w: (w.bottom, w.x0)):
        h = max(w.bottom - w.top, 0.01)
        for row in reversed(rows[-3:]):
            if abs(w.bottom - row[0]) <= 0.3 * min(h, row[1]):
                row[2].append(w)
                break
        else:
            rows.append([w.bottom, h, [w]])
    found = [r[2] for r in rows]
    tall = [max(w.bottom - w.top for w in r) for r in found]
    usual = [median([w.bottom - w.top for w in r]) for r in found]
    merged: list[list[Word]] = []
    forward = False  # the previous row went into this one
    for k, row in enumerate(found):
        host = None
        for j in (k - 1, k + 1):
            if not 0 <= j < len(found) or tall[k] > 0.8 * usual[j] or (j < k and (forward or not merged)):
                continue
            other = merged[-1] if j < k else found[j]
            oh = usual[j]
            if min(w.top for w in row) >= min(w.top for w in other) - 0.3 * oh and \
                    max(w.bottom for w in row) <= max(w.bottom for w in other) + 0.3 * oh and \
                    not any(a.x0 < b.x1 and b.x0 < a.x1 for a in row for b in other):
                host = j
                break
        forward = host == k + 1
        if host == k - 1:
            merged[-1].extend(row)
        elif forward:
            found[k + 1] = found[k + 1] + row
        else:
            merged.append(list(row))
    return [sorted(r, key=lambda w: w.x0) for r in merged]


def make_line(words) -> Line:
    words = tuple(words)
    x0, top, x1, bottom = words[0].x0, words[0].top, words[0].x1, words[0].bottom
    for w in words:
        if w.x0 < x0:
            x0 = w.x0
        if w.top < top:
            top = w.top
        if w.x1 > x1:
            x1 = w.x1
        if w.bottom > bottom:
            bottom = w.bottom
    return Line(words, x0, top, x1, bottom, _text_height(words))


def _text_height(words) -> float:
    """The height of most of the characters (a tall bullet or a one-letter word weighs little)."""
    if len(words) == 1:
        return words[0].bottom - words[0].top
    pairs = sorted((w.bottom - w.top, len(w.text)) for w in words)
    half, seen = sum(n for _, n in pairs) / 2, 0
    for h, n in pairs:
        seen += n
        if seen >= half:
            return h
    return pairs[-1][0]


def split_row(row, gap_em: float = GAP_EM, context=None) -> list[Line]:
    """A row cut into segments at gaps wider than ``gap_em`` x the text height.

    With ``context`` (all rows of the page and this row's index: prose), a
    gap cuts only when it is very wide (``WIDE_GAP_EM``) or, well above the
    row's usual word space, the nearest rows above and below that hold text
    over the word before the gap are white across it too (a gutter runs down
    the page): one wide space of a justified line does not cut.
    """
    gaps = [w.x0 - prev.x1 for prev, w in zip(row, row[1:])]
    usual_gap = median(gaps) if len(gaps) >= 3 else 0.0
    out, current = [], [row[0]]
    for prev, w, gap in zip(row, row[1:], gaps):
        h = max(min(prev.bottom - prev.top, w.bottom - w.top), 0.01)
        cut = gap > gap_em * h or prev.rotated or w.rotated  # a sideways line is a segment of its own
        if cut and context is not None and gap <= WIDE_GAP_EM * h and not (prev.rotated or w.rotated):
            cut = gap > 2.5 * usual_gap and _gutter(context[0], context[1], prev, w, gap, h)
        if cut:
            out.append(make_line(current))
            current = []
        current.append(w)
    out.append(make_line(current))
    return out


def _gutter(rows, k: int, prev: Word, nxt: Word, gap: float, h: float) -> bool:
    """Whether the gap between ``prev`` and ``nxt`` (row ``k``) is white in the nearest rows above
    and below (within ``GUTTER_REACH`` x the height) that hold text over ``prev``: other columns'
    rows in between are skipped."""
    lo, hi = prev.x1 + 0.2 * gap, nxt.x0 - 0.2 * gap
    seen = 0
    for step in (-1, 1):
        j = k + step
        while 0 <= j < len(rows) and abs(rows[j][0].bottom - prev.bottom) <= GUTTER_REACH * h:
            if any(w.x0 < prev.x1 and w.x1 > prev.x0 for w in rows[j]):
                if not _white(rows[j], lo, hi):
                    return False
                seen += 1
                break
            j += step
    return seen > 0


def _white(row, x0: float, x1: float) -> bool:
    return not any(w.x0 < x1 and w.x1 > x0 for w in row)


def segments(words=(), gap_em: float = GAP_EM, rows=None) -> list[Line]:
    """All line segments of a set of words (or of their rows), top to bottom."""
    rows = group_rows(words) if rows is None else rows
    out = []
    for k, row in enumerate(rows):
        out.extend(split_row(row, gap_em, (rows, k)))
    return out


# ----------------------------------------------------------- line numbers
# A line number, with the printer's marks some typesetters glue to it ("In16", "S32", "32S").
_INTEGER = re.compile(r"^[A-Za-z]{0,2}(\d{1,4})[A-Za-z]?$")


def drop_line_numbers(words) -> list[Word]:
    """Words without a margin's line numbers: at least ``LINE_NUMBERS`` bare
    integers aligned in a column (left or right edges within a few points),
    counting up by one from top to bottom, in a vertical band where no other
    word is, with all other text of those rows on one side of it."""
    words = list(words)
    numbers = [w for w in words if not w.rotated and _INTEGER.match(w.text)]
    if len(numbers) < LINE_NUMBERS:
        return words
    drop: set[int] = set()
    for col in _aligned(numbers, lambda w: w.x1) + _aligned(numbers, lambda w: w.x0):
        if len(col) < LINE_NUMBERS or any(id(w) in drop for w in col):
            continue
        col.sort(key=lambda w: w.top)
        values = [int(_INTEGER.match(w.text).group(1)) for w in col]
        steps = [b - a for a, b in zip(values, values[1:])]
        if sum(s == 1 for s in steps) < 0.8 * len(steps):
            continue
        x0, x1 = min(w.x0 for w in col), max(w.x1 for w in col)
        top, bottom = col[0].top, col[-1].bottom
        mine = {id(w) for w in col}
        beside = [w for w in words if id(w) not in mine and w.bottom > top and w.top < bottom]
        h = col[0].bottom - col[0].top
        # Nothing in the column's band, nor right above or below it (a table's "No." header).
        if any(id(w) not in mine and w.x0 < x1 and w.x1 > x0 and w.bottom > top - 1.5 * h and w.top < bottom + 1.5 * h
               for w in words):
            continue
        # In a margin: all the other text on those rows is on one side of the column.
        if any(w.x1 <= x0 for w in beside) and any(w.x0 >= x1 for w in beside):
            continue
        drop |= mine
    return [w for w in words if id(w) not in drop] if drop else words


def _aligned(words, edge) -> list[list[Word]]:
    """Words grouped by an edge (x0 or x1) within 3 points."""
    groups: list[list[Word]] = []
    for w in sorted(words, key=edge):
        if groups and edge(w) - edge(groups[-1][-1]) <= 3:
            groups[-1].append(w)
        else:
            groups.append([w])
    return groups


# -------------------------------------------------------------- drop caps
def join_drop_caps(words, usual: float) -> list[Word]:
    """Words with each drop cap joined to the first word of the line it begins."""
    words = list(words)
    caps = [w for w in words if len(w.text) == 1 and w.text.isalpha() and w.text.isupper() and not w.rotated
            and w.height >= DROP_CAP_RATIO * usual]
    if not caps:
        return words
    gone: set[int] = set()
    replaced: dict[int, Word] = {}
    for cap in caps:
        best = None
        for i, w in enumerate(words):
            if w is cap or i in gone or w.height >= 0.8 * cap.height or not w.text[:1].isalpha():
                continue
            gap = w.x0 - cap.x1
            if -0.2 * w.height <= gap <= 1.5 * w.height and cap.top - w.height <= w.top <= cap.top + 0.35 * cap.height:
                if best is None or (w.top, w.x0) < (words[best].top, words[best].x0):
                    best = i
        if best is None:
            continue
        first = replaced.get(best, words[best])
        if not (first.text[:1].islower() or first.text.isupper()):
            continue
        replaced[best] = Word(cap.text + first.text, first.x0, first.top, first.x1, first.bottom, first.order,
                              first.hyphen, False, first.end, first.spaces)
        gone.add(next(i for i, w in enumerate(words) if w is cap))
    return [replaced.get(i, w) for i, w in enumerate(words) if i not in gone]


# ----------------------------------------------------------------- blocks
def _x_overlap(a, b) -> float:
    return min(a.x1, b.x1) - max(a.x0, b.x0)


def group_blocks(lines) -> list[Block]:
    """Segments gathered into blocks: each continues the block right above it
    when close, overlapping in x and of a similar size."""
    blocks: list[list[Line]] = []
    ordered = sorted(lines, key=lambda ln: (ln.top, ln.x0))
    leading = page_leading(ordered)
    widths = sorted(ln.x1 - ln.x0 for ln in ordered)
    full = 0.8 * widths[(3 * len(widths)) // 4] if widths else 0.0
    for line in ordered:
        best, best_gap = None, None
        for i, block in enumerate(blocks):
            last = block[-1]
            # Baseline to baseline (loose boxes of some fonts overlap the next line's).
            gap = line.bottom - last.bottom - line.height
            h = max(last.height, line.height, 0.01)
            if gap > leading * h or gap < -0.5 * h:
                continue
            # Across a double-spaced gap only a full line runs on: short lines
            # there are headings, list items and labels, each a block of its own.
            if gap > LEADING_EM * h and last.x1 - last.x0 < full:
                continue
            if _x_overlap(line, last) <= 0.3 * min(line.x1 - line.x0, last.x1 - last.x0):
                continue
            if abs(line.height - last.height) > SIZE_TOLERANCE * h:
                continue
            if best_gap is None or gap < best_gap:
                best, best_gap = i, gap
        if best is None:
            blocks.append([line])
        else:
            blocks[best].append(line)
    return [Block(tuple(b), min(ln.x0 for ln in b), min(ln.top for ln in b), max(ln.x1 for ln in b),
                  max(ln.bottom for ln in b)) for b in blocks]


def page_leading(ordered) -> float:
    """The most white between two lines of one block, x the text height, for
    one page (``ordered``: its lines by top, then left): LEADING_EM, or more on
    a page set with a wider, regular pitch (double spacing), where every line
    would otherwise be a paragraph of its own and a sentence would end at
    each line break. Regular means most gaps within a fifth of their median;
    a page of spaced-out items, headings and lists has no such pitch."""
    gaps = []
    for n, line in enumerate(ordered):
        for last in reversed(ordered[max(0, n - LEADING_LOOKBACK) : n]):  # the nearest line above it
            h = max(last.height, line.height, 0.01)
            if abs(line.height - last.height) > SIZE_TOLERANCE * h or last.bottom >= line.bottom:
                continue
            if _x_overlap(line, last) > 0.3 * min(line.x1 - line.x0, last.x1 - last.x0):
                gaps.append((line.bottom - last.bottom - line.height) / h)
                break
    gaps = sorted(g for g in gaps if 0 < g < 2.5)
    if len(gaps) < LEADING_SAMPLES:
        return LEADING_EM
    median = gaps[len(gaps) // 2]
    if median <= LEADING_EM:
        return LEADING_EM
    regular = sum(1 for g in gaps if abs(g - median) <= 0.2 * median)
    return min(1.2 * median, 2.0) if 4 * regular >= 3 * len(gaps) else LEADING_EM


# ---------------------------------------------------------- reading order
def reading_order(boxes) -> list:
    """Boxes (anything with x0, top, x1, bottom) in reading order (Breuel's rule; see the module docstring)."""
    boxes = list(boxes)
    n = len(boxes)
    if n < 2:
        return boxes
    cy = [(b.top + b.bottom) / 2 for b in boxes]
    tol = [0.5 + 0.02 * min(b.x1 - b.x0, 50) for b in boxes]
    if n > MAX_ORDERED:  # quadratic and more: a page of a thousand labels (a form) is read top to bottom
        return sorted(boxes, key=lambda b: (b.top, b.x0))
    overlaps = [[j for j in range(n) if j != i and _x_overlap(boxes[i], boxes[j]) > max(tol[i], tol[j])]
                for i in range(n)]
    overlap_sets = [set(o) for o in overlaps]
    before: list[set[int]] = [set() for _ in range(n)]  # before[j]: boxes that must come before j
    for i in range(n):
        for j in overlaps[i]:
            if cy[i] < cy[j] or (cy[i] == cy[j] and i < j):
                before[j].add(i)
    for i in range(n):
        for j in range(n):
            if i == j or j in overlap_sets[i] or boxes[i].x1 > boxes[j].x0 + max(tol[i], tol[j]):
                continue
            lo, hi = min(cy[i], cy[j]), max(cy[i], cy[j])
            shared = overlap_sets[i] & overlap_sets[j]
            if not any(lo < cy[c] < hi for c in shared):
                before[j].add(i)
    order, done = [], [False] * n
    waiting = [set(b) for b in before]
    for _ in range(n):
        ready = [i for i in range(n) if not done[i] and not waiting[i]]
        if not ready:  # a cycle (overlapping boxes): the top-left-most goes next
            ready = [min((i for i in range(n) if not done[i]), key=lambda i: (boxes[i].top, boxes[i].x0))]
        i = min(ready, key=lambda i: (boxes[i].top, boxes[i].x0))
        done[i] = True
        order.append(boxes[i])
        for w in waiting:
            w.discard(i)
    return order


# -------------------------------------------------------------- paragraphs
def split_paragraphs(block: Block) -> list[Paragraph]:
    """A block's lines split into paragraphs (rules in the module docstring)."""
    lines = sorted(block.lines, key=lambda ln: ln.top)
    left = median([ln.x0 for ln in lines])
    width = max(block.x1 - block.x0, 0.01)
    groups: list[list[Line]] = [[lines[0]]]
    for k in range(1, len(lines)):
        prev, line = lines[k - 1], lines[k]
        h = max(line.height, 0.01)
        nxt = lines[k + 1] if k + 1 < len(lines) else None
        # A first-line indent reaches the right edge like the lines after it (centred text does not).
        indented = (line.x0 - left > INDENT_EM * h and block.x1 - line.x1 <= 1.5 * h
                    and (nxt is None or line.x0 - nxt.x0 > INDENT_EM * h))
        # Hanging indents (a list's items): a line back at the left after two or more indented ones.
        outdented = prev.x0 - line.x0 > INDENT_EM * h and len(groups[-1]) >= 2 and \
            abs(groups[-1][-2].x0 - prev.x0) <= 0.5 * h
        bullet = bool(_BULLET.match(line.words[0].text)) and len(line.words) > 1
        ended = (block.x1 - prev.x1) > SHORT_LINE * width and bool(_SENTENCE_END.search(prev.text)) and len(lines) > 2
        # A short line without final punctuation before a full one: a heading ("1. Introduction").
        # Only as the first line of a paragraph, and before a capital: a short line of ragged text
        # in mid-sentence must not become one.
        heading = (len(groups[-1]) == 1 and prev.x1 - block.x0 < HEADING_LINE * width and len(prev.words) <= 8
                   and not prev.hyphen and not _SENTENCE_END.search(prev.text) and not prev.text.endswith((",", "-"))
                   and block.x1 - line.x1 <= SHORT_LINE * width and line.text[:1].isupper())
        # The lines of a list item hang under its text, not under its bullet.
        hanging = len(prev.words) > 1 and bool(_BULLET.match(prev.words[0].text)) and \
            abs(line.x0 - prev.words[1].x0) <= 0.5 * h
        if (indented and not hanging) or outdented or bullet or ended or heading:
            groups.append([])
        groups[-1].append(line)
    return [Paragraph(tuple((ln.text, ln.hyphen) for ln in g), median([ln.height for ln in g]),
                      min(ln.x0 for ln in g), g[0].top, max(ln.x1 for ln in g), g[-1].bottom) for g in groups]


def page_items(words, others=(), usual: float | None = None, rows=None) -> list:
    """A page's paragraphs and ``others`` (tables: anything with a box) in reading order.

    ``words`` are the page's words outside the ``others``; ``rows``, when
    given, are those words already grouped by :func:`group_rows`.
    """
    usual = usual or body_height(words)
    joined = join_drop_caps(words, usual) if words else []
    if rows is None or len(joined) != len(words):
        rows = group_rows(joined)
    boxes = [Box(b.x0, b.top, b.x1, b.bottom, b) for b in group_blocks(segments(rows=rows))] if rows else []
    boxes += [Box(o.x0, o.top, o.x1, o.bottom, o) for o in others]
    out = []
    for box in reading_order(boxes):
        if isinstance(box.item, Block):
            out.extend(split_paragraphs(box.item))
        else:
            out.append(box.item)
    return out


def page_paragraphs(words, usual: float | None = None) -> list[Paragraph]:
    """The paragraphs of a page's words (tables already taken out), in reading order."""
    return page_items(words, (), usual)


# ----------------------------------------------------------------- joining
_WORDISH = re.compile(r"[^\W\d_]+", re.UNICODE)
_HYPHENS = "-\u2010\u00ad"
_CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _edge_word(text: str, last: bool) -> str:
    parts = _WORDISH.findall(text)
    return (parts[-1] if last else parts[0]).lower() if parts else ""


def join_lines(lines, lexicon=frozenset()) -> str:
    """A paragraph's lines joined with one space, line-end hyphenation undone where it is one.

    ``lines``: (text, marked) pairs, ``marked`` when the PDF marked a
    line-end hyphen that is not in the text. A line ending in a hyphen
    right after a letter or digit (or marked) joins the next line without a
    space. Before a lower-case letter the hyphen goes when the joined word is
    in ``lexicon`` (the document's own words), stays when the hyphenated
    form is in it or both halves are words of it on their own (a compound:
    "run-" "time"), and goes otherwise ("com-" "pile" -> "compile"); before
    anything else it stays ("Anglo-" "Saxon", "2012-" "13"). A soft hyphen
    always goes. Lines of Chinese or Japanese text join without a space.
    """
    out = ""
    marked = False
    for text, next_marked in lines:
        text = text.strip()
        if not text:
            continue
        if not out:
            out, marked = text, next_marked
            continue
        ends = out[-1] in _HYPHENS and len(out) >= 2 and out[-2].isalnum()
        if marked or ends:
            stem = out[:-1] if ends else out
            if out[-1] == "\u00ad" or (text[:1].islower() and _unhyphenate(stem, text, lexicon)):
                out = stem + text
            else:
                out = stem + "-" + text
        elif _CJK.match(out[-1]) and _CJK.match(text[0]):
            out += text  # Chinese and Japanese lines run on without a space
        else:
            out += " " + text
        marked = next_marked
    return out + ("-" if marked else "")


def _unhyphenate(stem: str, text: str, lexicon) -> bool:
    left, right = _edge_word(stem, True), _edge_word(text, False)
    if not left or not right or not stem[-1:].isalpha():
        return False
    if left + right in lexicon:
        return True
    return not (f"{left}-{right}" in lexicon or (left in lexicon and right in lexicon))
