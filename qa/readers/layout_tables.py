"""Tables on a PDF page, from word boxes and ruling lines: rows of cells with header rows.

Pure functions over :class:`qa.readers.layout.Word` and ``Rule`` boxes (the
upright frame of qa/readers/layout.py). The rules:

* candidate rows: a row of words that splits into two or more segments at
  wide gaps, not all of them long runs of words (two columns of prose split
  the same way, but into long segments);
* a region: consecutive candidate rows, with at most ``MAX_LOOSE_ROWS``
  other rows between two of them and no vertical gap above ``REGION_GAP_EM``
  x the text height; a lone line with white above and below (a title) or a
  line of running text ends it; at least ``MIN_ROWS`` candidate rows;
* columns: where the region's candidate rows (those with numbers, when
  there are ``MIN_ROWS`` of them) leave a vertical band of white (covered by
  at most a tenth of them: one long label may cross a gutter);
  vertical ruling lines crossing the region are column borders too; a region
  with one column, two columns of long text, a column of running text
  (``RUNNING_TEXT_WORDS`` a line; in a table of four rows or fewer, one such
  line) or a bulleted list is not a table; when that column of running text
  is at the region's edge, the words on the other side of it are searched
  again on their own (a table in one column of a two-column page);
* cells: each segment of a row goes to the columns it overlaps; a segment
  with numbers crossing a border (two numbers one space apart) is split by
  word, any other becomes one cell spanning those columns (a spanning header);
* ruled rows: where horizontal rules cross the table every few lines, the
  lines between two rules are one row (cells of several lines);
* wrapped rows (label columns: those before the first column with numbers):
  a row holding only label text is merged into the next when that one has
  no label, or into the previous when it starts in lower case or with "(",
  or the previous label ends with a connector ("and", ","); a row without a
  label is merged into the previous row when the columns it fills are empty
  there; a label-only row with no such neighbour is a group heading and
  stays a row;
* header rows: the leading rows before the first row with a number outside the
  first column (at most ``MAX_HEADER_ROWS``), a row of years or quarters over
  the columns counting as a header; lines of a header without a
  spanning cell are merged column by column into one header row;
* caption: a first row starting with Table/Tab./Exhibit (and the lines
  that follow it closely), or the line right above the table (up to three
  lines when they start with "Table"), alone on its row, short, starting a
  block and not ending like a sentence, or a "Table ..." line right below.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ._base import CELL_SEP, Table, TableRow
from .layout import Line, Word, group_rows, is_rtl, median, split_row

MIN_ROWS = 3  # candidate rows a table needs (2 when it has 3 or more columns)
MAX_LOOSE_ROWS = 2  # rows that are not candidates allowed between two that are
REGION_GAP_EM = 2.6  # the most vertical white inside a table, x the text height
TITLE_GAP_EM = 1.0  # a lone line with this much white above (and some below) is the title of the next table
LONG_SEGMENT_WORDS = 6  # a segment of this many words or more is prose-like
PROSE_CELL_WORDS = 5.0  # two columns whose cells average this many words are prose, not a table
RUNNING_TEXT_WORDS = 9  # a column whose lines hold this many words (median) is running text
MAX_HEADER_ROWS = 6  # header lines before merging (a wrapped header takes several)
CAPTION_GAP_EM = 3.0
SIDE_REACH_EM = 6.0  # above and below a region, how far a table beside running text may reach (its header, caption)
HEADER_GAP_EM = 0.8  # the most white between a table's first row and a header line above it
CAPTION_MAX_WORDS = 25

_NUMBER = re.compile(r"^[(\[]?[-+−–]?[$€£¥]?\d[\d.,\s]*%?[)\]]?\*?$|^[-–—]$|^n\.?a\.?$", re.I)
_PERIOD = re.compile(r"^(?:(?:19|20)\d\d(?:\s*[-–/]\s*(?:19|20)?\d\d)?|Q[1-4](?:\s*(?:19|20)?\d\d)?|[HS][12])\*?$",
                     re.I)
_WORD3 = re.compile(r"[^\W\d_]{3,}")
_CONNECTOR = re.compile(r"(?:\b(?:and|or|of|the|for|in|to|with|by|&)|[,/(-])$", re.I)
_CAPTION = re.compile(r"^(?:table|tab\.|exhibit|tableau|tabelle|tabla|tabella|表)\s*\S", re.I)
_BULLET = re.compile(r"^(?:[•◦▪▫■□●○‣⁃∙·\-–—*]|\(?[0-9]{1,2}[.)]|\(?[a-z][.)]|\([ivx]{1,4}\))$")
_FIGURE = re.compile(r"^(?:figure|fig\.|chart|graph|diagram|abbildung|graphique|gráfico|grafico|图|図)\s*\S", re.I)
_SENTENCE_END = re.compile(r"[.!?;][\"'”’)]*$")


@dataclass(frozen=True)
class Cell:
    """A cell's text and the columns it covers (first..last, inclusive)."""

    text: str
    first: int
    last: int


@dataclass(frozen=True)
class TableGrid:
    """A table found on a page: rows of cells over ``columns`` columns."""

    columns: int
    rows: tuple[tuple[Cell, ...], ...]
    header_rows: int
    caption: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class TableFind:
    """The tables of a page and the words they do not use (left for the prose)."""

    tables: tuple[TableGrid, ...]
    rest: tuple[Word, ...]
    rest_rows: tuple[tuple[Word, ...], ...] = ()  # ``rest`` in rows (as group_rows makes them)


def is_number(text: str) -> bool:
    """A table value rather than a label: 12, 1,234.5, -3%, (42), $5, 63 (18.5%), $1.06M, 2015/02/15, -, n.a.

    Mostly digits and no word of three letters or more.
    """
    text = text.strip()
    if _NUMBER.match(text):
        return True
    chars = [c for c in text if not c.isspace()]
    digits = sum(c.isdigit() for c in chars)
    return digits >= 1 and digits * 2 >= len(chars) and not _WORD3.search(text)


# ----------------------------------------------------------------- regions
def _candidate(segs: list[Line]) -> bool:
    if len(segs) < 2:
        return False
    long = sum(len(s.words) >= LONG_SEGMENT_WORDS for s in segs)
    return long <= 1 or long < len(segs) - 1


def _regions(rows: list[list[Word]], lines_by_row: list[list[Line]], usual: float) -> list[tuple[int, int]]:
    """(first, last) row indices of the table-like runs of rows."""
    flags = [_candidate(segs) for segs in lines_by_row]
    out, start, loose, last_cand = [], None, 0, None

    def close():
        if start is not None and last_cand is not None:
            n = sum(flags[start:last_cand + 1])
            if n >= 2:
                out.append((start, last_cand))

    tops = [min(w.top for w in r) for r in rows]
    bottoms = [max(w.bottom for w in r) for r in rows]
    for i, row in enumerate(rows):
        above = tops[i] - bottoms[i - 1] if i else None
        below = tops[i + 1] - bottoms[i] if i + 1 < len(rows) else None
        gap_ok = above is None or above <= REGION_GAP_EM * usual
        # A title line set off by white above and below starts the next table (stacked tables).
        title = (not flags[i] and len(lines_by_row[i]) == 1 and above is not None and above >= TITLE_GAP_EM * usual
                 and below is not None and below >= 0.8 * usual)
        prose = not flags[i] and any(len(sg.words) >= 2 * LONG_SEGMENT_WORDS for sg in lines_by_row[i])
        if start is not None and (not gap_ok or title or prose or loose >= MAX_LOOSE_ROWS and not flags[i]):
            close()
            start, loose, last_cand = None, 0, None
        if flags[i]:
            if start is None:
                start = i
            last_cand, loose = i, 0
        elif start is not None:
            loose += 1
    close()
    return out


# ----------------------------------------------------------------- columns
def _columns(rows: list[list[Word]], usual: float, rules=()) -> list[tuple[float, float]]:
    """Column x-ranges of a region from where its rows leave white (and vertical rules)."""
    x0 = min(w.x0 for r in rows for w in r)
    x1 = max(w.x1 for r in rows for w in r)
    width = int(x1 - x0) + 2
    # Each row counts once over the bins its words cover: a difference array, then a running sum.
    diff = [0] * (width + 1)
    for r in rows:
        end = -1
        for w in sorted(r, key=lambda w: w.x0):
            a, b = max(0, int(w.x0 - x0)), min(width, int(w.x1 - x0) + 1)
            a = max(a, end)
            if b > a:
                diff[a] += 1
                diff[b] -= 1
                end = b
    cover, run = [0] * width, 0
    for b in range(width):
        run += diff[b]
        cover[b] = run
    limit = len(rows) // 10
    min_gap = max(2, int(0.25 * usual))
    for rule in rules:  # a vertical rule through the region is a border, whatever the text does
        b = int((rule.x0 + rule.x1) / 2 - x0)
        if 0 <= b < width:
            for k in range(max(0, b - min_gap), min(width, b + 1)):
                cover[k] = 0
    cols, start, white = [], None, 0
    for b in range(width + 1):
        filled = b < width and cover[b] > limit
        if filled:
            if start is None:
                start = b
            white = 0
        elif start is not None:
            white += 1
            if white >= min_gap or b == width:
                end = b - white + 1
                if max(cover[start:end], default=0) > limit:
                    cols.append((x0 + start, x0 + end))
                start, white = None, 0
    return cols


def _overlap(a0, a1, b0, b1) -> float:
    return min(a1, b1) - max(a0, b0)


def _col_of(x: float, cols) -> int:
    for k, (c0, c1) in enumerate(cols):
        if x < c1:
            if x >= c0 or k == 0:
                return k
            # in the white before column k: the nearer column
            return k if c0 - x < x - cols[k - 1][1] else k - 1
    return len(cols) - 1


def _row_cells(row: list[Word], cols) -> dict[int, Cell]:
    """One row's cells by first column."""
    cells: dict[int, list] = {}
    for seg in split_row(row):
        hit = [k for k, (c0, c1) in enumerate(cols) if _overlap(seg.x0, seg.x1, c0, c1) > 0.5]
        if not hit:
            hit = [_col_of((seg.x0 + seg.x1) / 2, cols)]
        groups: list[tuple[int, int, list[Word]]]
        if len(hit) > 1 and any(is_number(w.text) for w in seg.words):
            by: dict[int, list[Word]] = {}
            for w in seg.words:
                by.setdefault(_col_of((w.x0 + w.x1) / 2, cols), []).append(w)
            groups = [(k, k, ws) for k, ws in by.items()]
        elif len(hit) > 1:
            # Only columns the segment covers well: a label sticking out into a neighbour's white stays in its own.
            strong = [k for k in hit
                      if _overlap(seg.x0, seg.x1, *cols[k]) > 0.5 * min(cols[k][1] - cols[k][0], seg.x1 - seg.x0)]
            strong = strong or [_col_of((seg.x0 + seg.x1) / 2, cols)]
            groups = [(min(strong), max(strong), list(seg.words))]
        else:
            groups = [(hit[0], hit[0], list(seg.words))]
        for first, last, ws in groups:
            if first in cells:
                prev = cells[first]
                cells[first] = [prev[0], max(prev[1], last), prev[2] + ws]
            else:
                cells[first] = [first, last, ws]
    out = {}
    for first, (f, last, ws) in sorted(cells.items()):
        ws = sorted(ws, key=lambda w: w.x0, reverse=is_rtl(ws))
        out[first] = Cell(" ".join(w.text for w in ws), f, last)
    return out


# ------------------------------------------------------------ wrapped rows
def _filled(cells: dict[int, Cell]) -> set[int]:
    out = set()
    for c in cells.values():
        out.update(range(c.first, c.last + 1))
    return out


def _merge(a: dict[int, Cell], b: dict[int, Cell]) -> dict[int, Cell]:
    out = dict(a)
    for k, c in b.items():
        if k in out:
            out[k] = Cell(f"{out[k].text} {c.text}".strip(), out[k].first, max(out[k].last, c.last))
        else:
            out[k] = c
    return dict(sorted(out.items()))


def _continues(label: str, text: str) -> bool:
    """Whether ``text`` reads as the next line of the label ``label``."""
    return text[:1].islower() or text[:1] in "([" or bool(_CONNECTOR.search(label))


def merge_wrapped(rows: list[dict[int, Cell]], ncols: int, stub: int = 1) -> list[dict[int, Cell]]:
    """Rows with wrapped cells merged (rules in the module docstring).

    ``stub``: the columns before it hold row labels (the first column, or
    more when numbers start further right).
    """
    def label(cells):
        return " ".join(cells[k].text for k in sorted(cells) if k < stub)

    def label_only(cells, filled):
        return bool(filled) and max(filled) < stub and not any(is_number(c.text) for c in cells.values())

    out: list[dict[int, Cell]] = []
    pending: dict[int, Cell] | None = None  # a label-only row waiting for its values
    for cells in rows:
        filled = _filled(cells)
        has_label = any(k < stub for k in filled)
        if pending is not None:
            if not has_label or _continues(label(pending), label(cells)):
                cells = _merge(pending, cells)
                filled = _filled(cells)
                pending = None
                if not label_only(cells, filled):
                    out.append(cells)
                    continue
            else:
                out.append(pending)
                pending = None
        if label_only(cells, filled):
            prev = out[-1] if out else None
            if prev is not None and label(prev) and _continues(label(prev), label(cells)):
                out[-1] = _merge(prev, cells)
            elif ncols > stub:
                pending = cells
            else:
                out.append(cells)
            continue
        if out and not has_label and filled and not (filled & _filled(out[-1])):
            out[-1] = _merge(out[-1], cells)
            continue
        out.append(cells)
    if pending is not None:
        out.append(pending)
    return out


def _stub(rows: list[dict[int, Cell]]) -> int:
    """The first column that holds numbers in the rows with numbers (1 at least)."""
    firsts = [min((k for k, c in r.items() if k > 0 and is_number(c.text)), default=None) for r in rows]
    firsts = [f for f in firsts if f is not None]
    return max(1, min(firsts)) if firsts else 1


# ------------------------------------------------------------------ header
def _data_row(cells: dict[int, Cell]) -> bool:
    return any(is_number(c.text) and c.first > 0 for c in cells.values())


def _periods(cells: dict[int, Cell]) -> bool:
    """A row of column titles that are years or periods (2007 | 2008, Q1 | Q2, 2012-13), two or more."""
    values = [c.text for k, c in cells.items() if k > 0]
    return len(values) >= 2 and all(_PERIOD.match(v) for v in values)


def header_count(rows: list[dict[int, Cell]]) -> int:
    """Leading rows before the first row with a number outside the first
    column (a leading row with an empty first cell is a header even with
    numbers: years or quarters over the columns); in a table without numbers,
    the leading rows in capitals (at least one)."""
    for i, cells in enumerate(rows):
        if _data_row(cells) and not (0 not in cells and len(cells) >= 2 and all(0 not in r for r in rows[:i])) \
                and not (i < MAX_HEADER_ROWS and _periods(cells)):
            return min(i, MAX_HEADER_ROWS)
    capitals = 0
    for cells in rows[:MAX_HEADER_ROWS]:
        letters = "".join(c.text for c in cells.values() if any(ch.isalpha() for ch in c.text))
        if not letters or not letters.isupper():
            break
        capitals += 1
    if capitals and capitals < len(rows):
        return capitals
    return 1 if len(rows) >= 3 else 0


def merge_header(rows: list[dict[int, Cell]], count: int) -> tuple[list[dict[int, Cell]], int]:
    """Header lines without a spanning cell merged column by column into one header row."""
    if count < 2:
        return rows, count
    head, merged = [], None
    for cells in rows[:count]:
        spanning = any(c.last > c.first for c in cells.values())
        if spanning:
            if merged is not None:
                head.append(merged)
                merged = None
            head.append(cells)
        else:
            merged = cells if merged is None else _merge(merged, cells)
    if merged is not None:
        head.append(merged)
    return head + rows[count:], len(head)


# ------------------------------------------------------------------ finder
def _caption(lines_by_row: list[list[Line]], region_top: float, region_bottom: float, x0: float, x1: float,
             usual: float, used_rows: set[int]) -> tuple[list[int], str] | None:
    """The rows and text of the table's caption: the line right above (or a "Table ..." line of up to
    three lines ending right above), or a "Table ..." line right below."""
    above, below = None, None
    for i, segs in enumerate(lines_by_row):
        if i in used_rows:
            continue
        near = [s for s in segs if _overlap(s.x0, s.x1, x0, x1) > 0]
        if len(near) != 1 or len(near[0].words) > CAPTION_MAX_WORDS:
            continue
        s = near[0]
        gap_above = region_top - s.bottom
        gap_below = s.top - region_bottom
        if 0 <= gap_above <= CAPTION_GAP_EM * usual:
            chain = _caption_chain(lines_by_row, i, usual, used_rows)
            if chain is None and not _SENTENCE_END.search(s.text) and _starts_fresh(lines_by_row, i, s, usual):
                chain = [i]
            if chain is not None and (above is None or s.bottom > above[2]):
                above = (chain, " ".join(lines_by_row[k][0].text for k in chain), s.bottom)
        elif 0 <= gap_below <= 1.5 * usual and _CAPTION.match(s.text):
            if below is None or s.top < below[2]:
                below = ([i], s.text, s.top)
    best = above if above is not None and (below is None or _CAPTION.match(above[1])) else below
    return (best[0], best[1]) if best else None


def _caption_chain(lines_by_row: list[list[Line]], i: int, usual: float, used_rows: set[int]) -> list[int] | None:
    """Rows k..i when row k starts "Table ..." and the rows after it, one line each, follow it closely."""
    chain = [i]
    for _ in range(3):
        k = chain[0]
        if len(lines_by_row[k]) == 1 and _CAPTION.match(lines_by_row[k][0].text):
            return chain
        j = k - 1
        if j < 0 or j in used_rows or len(lines_by_row[j]) != 1:
            return None
        if lines_by_row[k][0].top - lines_by_row[j][0].bottom > 0.6 * usual:
            return None
        chain.insert(0, j)
    return None


def _merge_bands(grid: list[dict[int, Cell]], rows, horizontal, x0: float, x1: float) -> list[dict[int, Cell]]:
    """In a ruled table, the lines between two horizontal rules are one row (cells of several lines).

    Only where the rules are dense enough to be row borders (a rule every few
    lines), not a header rule and a bottom rule around all the rows.
    """
    width = x1 - x0
    top = min(w.top for r in rows for w in r)
    bottom = max(w.bottom for r in rows for w in r)
    reach = median([w.bottom - w.top for r in rows for w in r])  # a cell's padding: rules sit this far out
    ys: list[float] = []
    for r in sorted(horizontal, key=lambda r: r.top):
        y = (r.top + r.bottom) / 2
        if top - reach <= y <= bottom + reach and _overlap(r.x0, r.x1, x0, x1) >= 0.6 * width:
            if not ys or y - ys[-1] > 1.5:
                ys.append(y)
    if len(ys) < 3:
        return grid
    # Rows above the first rule or below the last are each their own band.
    bands = []
    for k, r in enumerate(rows):
        band = sum(y < (min(w.top for w in r) + max(w.bottom for w in r)) / 2 for y in ys)
        bands.append(band if 0 < band < len(ys) else -1 - k)
    sizes = Counter(b for b in bands if b >= 0)
    if not sizes:
        return grid
    if max(sizes.values()) > 6 or median(list(sizes.values())) > 3 or len(sizes) < 2:
        return grid
    out: list[dict[int, Cell]] = []
    last_band = None
    for band, cells in zip(bands, grid):
        if out and band == last_band:
            out[-1] = _merge(out[-1], cells)
        else:
            out.append(cells)
        last_band = band
    return out


def _mirror(cells: dict[int, Cell], ncols: int) -> dict[int, Cell]:
    out = {}
    for c in cells.values():
        first, last = ncols - 1 - c.last, ncols - 1 - c.first
        out[first] = Cell(c.text, first, last)
    return dict(sorted(out.items()))


def running_columns(grid: list[dict[int, Cell]], ncols: int) -> list[int]:
    """Columns whose lines are running text: ``RUNNING_TEXT_WORDS`` words (median), or in a
    table of four rows or fewer, one such line."""
    words: list[list[int]] = [[] for _ in range(ncols)]
    for row in grid:
        for c in row.values():
            words[c.first].append(len(c.text.split()))
    return [k for k, w in enumerate(words) if w and (median(w) >= RUNNING_TEXT_WORDS
                                                      or (len(grid) <= 4 and max(w) >= RUNNING_TEXT_WORDS))]


def _prose(grid: list[dict[int, Cell]], ncols: int) -> bool:
    """Not a table: a list with bullets or numbers before its items, columns of
    running text side by side, or a single column that has text in most rows."""
    firsts = [row[0].text for row in grid if 0 in row]
    if firsts and all(_BULLET.match(t) for t in firsts):
        return True
    # Judged on the rows with numbers when there are some: a header's wrapped titles are long too.
    data = [row for row in grid if _data_row(row)]
    words: list[list[int]] = [[] for _ in range(ncols)]
    for row in data if len(data) >= 2 else grid:
        for c in row.values():
            words[c.first].append(len(c.text.split()))
    long = sum(1 for w in words if w and median(w) >= PROSE_CELL_WORDS - 1)
    dense = sum(1 for w in words if len(w) >= 0.4 * (len(data) if len(data) >= 2 else len(grid)))
    # A column of running text beside a figure's labels (a two-column paper) splits like a table too.
    if long >= 2 or dense < 2 or running_columns(grid, ncols):
        return True
    return ncols == 2 and median([n for w in words for n in w]) >= PROSE_CELL_WORDS


def _continues_caption(rows, lines_by_row, cap: int, i: int, usual: float) -> bool:
    """Whether row ``i`` is the next line of the caption in row ``cap`` (one segment right below it)."""
    segs = lines_by_row[i]
    if len(segs) != 1 or _candidate(segs):
        return False
    gap = min(w.top for w in rows[i]) - max(w.bottom for w in rows[cap])
    last = lines_by_row[cap][-1]
    return gap <= 0.5 * usual and _overlap(segs[0].x0, segs[0].x1, lines_by_row[cap][0].x0, last.x1) > 0 \
        and not _SENTENCE_END.search(last.text)


def _starts_fresh(lines_by_row: list[list[Line]], i: int, line: Line, usual: float) -> bool:
    """Whether ``line`` starts a block: no line right above it, or one that ends a sentence.

    A caption taken from the last line of a paragraph would cut its sentence.
    """
    if not line.text[:1].isupper() and not line.text[:1].isdigit():
        return False
    for seg in lines_by_row[i - 1] if i > 0 else ():
        if _overlap(seg.x0, seg.x1, line.x0, line.x1) > 0 and line.top - seg.bottom <= 1.0 * usual:
            return bool(_SENTENCE_END.search(seg.text)) or seg.text.endswith(":")
    return True


def find_tables(words, usual: float, rules=()) -> TableFind:
    """The tables among a page's words (rules in the module docstring).

    ``rules``: the page's ruling lines, or a function returning them (called
    only when a table-like region is found).
    """
    return _find(words, usual, rules, True)


def _find(words, usual: float, rules, nested: bool) -> TableFind:
    """find_tables; with ``nested``, a region whose edge column is running text (a table in one
    column of a two-column page) is searched again on the other side of it."""
    words = [w for w in words if w.text]
    rows = group_rows(words)
    if len(rows) < 2:
        return TableFind((), tuple(words), tuple(tuple(r) for r in rows))
    # Read when a region needs them (``rules`` may be a function: walking a page's drawing costs).
    vertical = horizontal = None
    tables, used_rows = [], set()
    taken: set[int] = set()  # words of tables found beside a column of running text
    lines_by_row = [split_row(r) for r in rows]
    first_free = 0

    def top_of(i):
        return min(w.top for w in rows[i])

    def bottom_of(i):
        return max(w.bottom for w in rows[i])

    for first, last in _regions(rows, lines_by_row, usual):
        first, last_row = max(first, first_free), last
        if any(_FIGURE.match(lines_by_row[i][0].text) for i in (first - 1, first) if i >= first_free):
            continue  # a chart's labels and axis, not a table
        caption_row = None
        # A title row ("Table 5 ... (Rs. in 000)") is the caption, not the first row.
        while first < last and _CAPTION.match(lines_by_row[first][0].text):
            caption_row, first = first, first + 1
        if caption_row is not None and _FIGURE.match(lines_by_row[caption_row][0].text):
            continue  # a chart's labels and axis, not a table
        caption_rows = [caption_row] if caption_row is not None else []
        while caption_rows and first < last and _continues_caption(rows, lines_by_row, caption_rows[-1], first, usual):
            caption_rows.append(first)
            first += 1
        # Notes under the table ("(*) Forecast.", "Source: ..."): rows without a number after the last row with one.
        if any(is_number(w.text) for i in range(first, last + 1) for w in rows[i]):
            while last > first and not any(is_number(w.text) for w in rows[last]) and \
                    _SENTENCE_END.search(" ".join(sg.text for sg in lines_by_row[last])):
                last -= 1
        # A last row's wrapped lines (in a ruled table, the rest of its cells) follow it closely.
        while last + 1 < len(rows) and len(lines_by_row[last + 1]) <= 2 and \
                top_of(last + 1) - bottom_of(last) <= 0.6 * usual and \
                all(len(sg.words) < LONG_SEGMENT_WORDS for sg in lines_by_row[last + 1]) and \
                not _CAPTION.match(lines_by_row[last + 1][0].text) and last + 1 - last_row <= 2:
            last += 1
        cand = [rows[i] for i in range(first, last + 1) if _candidate(lines_by_row[i])]
        if not cand:
            continue
        # Columns of running text (three-column instructions) cut into segments like a table: cheap test first.
        if median([len(sg.words) for i in range(first, last + 1) for sg in lines_by_row[i]]) >= PROSE_CELL_WORDS:
            continue
        top, bottom = top_of(first), bottom_of(last)
        if vertical is None:
            rules = tuple(rules() if callable(rules) else rules)
            vertical = [r for r in rules if not r.horizontal]
        vrules = [r for r in vertical if r.top <= bottom and r.bottom >= top
                  and min(r.bottom, bottom) - max(r.top, top) > 0.5 * (bottom - top)]
        # Columns from the rows that hold numbers when there are enough: wrapped, widely
        # spaced header words would fill the gutters.
        numeric = [r for r in cand if sum(is_number(w.text) for w in r) >= 1]
        cols = _columns(numeric if len(numeric) >= MIN_ROWS else cand, usual, vrules)
        if len(cols) < 2 or (len(cand) < MIN_ROWS and len(cols) < 3):
            continue
        grid = [_row_cells(rows[i], cols) for i in range(first, last + 1)]
        rtl = is_rtl(c.text for r in grid for c in r.values())
        if rtl:  # a right-to-left table: its first column is the rightmost
            grid = [_mirror(r, len(cols)) for r in grid]
        multi = sum(len(_filled(c)) >= 2 for c in grid)
        running = running_columns(grid, len(cols))
        if nested and len(cols) >= 3 and running in ([0], [len(cols) - 1]):
            # A table in one column of the page, beside the other column's text: look there alone.
            lo, hi = (cols[0][1], float("inf")) if running == [0] else (float("-inf"), cols[-1][0])
            near = [w for i, r in enumerate(rows) if i not in used_rows for w in r
                    if id(w) not in taken and w.x0 >= lo and w.x1 <= hi
                    and w.top >= top - SIDE_REACH_EM * usual and w.bottom <= bottom + SIDE_REACH_EM * usual]
            side = _find(near, usual, rules, False)
            if side.tables:
                tables.extend(side.tables)
                left = {id(w) for w in side.rest}
                taken.update(id(w) for w in near if id(w) not in left)
            continue
        if multi < 2 or _prose(grid, len(cols)):
            continue
        # Header lines above the first candidate row: short segments inside the table's width.
        x0, x1 = cols[0][0], cols[-1][1]
        added = 0
        while not caption_rows and first - 1 >= first_free and first - 1 not in used_rows:
            segs = lines_by_row[first - 1]
            if _CAPTION.match(segs[0].text):
                caption_rows = [first - 1]
                break
            if (top - bottom_of(first - 1) > HEADER_GAP_EM * usual
                    or any(len(sg.words) >= LONG_SEGMENT_WORDS for sg in segs)
                    or segs[0].x0 < x0 - usual or segs[-1].x1 > x1 + usual or added >= MAX_HEADER_ROWS):
                break
            first -= 1
            added += 1
            head = _row_cells(rows[first], cols)
            grid.insert(0, _mirror(head, len(cols)) if rtl else head)
            top = top_of(first)
        if horizontal is None:
            horizontal = [r for r in (rules() if callable(rules) else rules) if r.horizontal]
        grid = _merge_bands(grid, [rows[i] for i in range(first, last + 1)], horizontal, cols[0][0], cols[-1][1])
        grid = merge_wrapped(grid, len(cols), _stub(grid))
        count = header_count(grid)
        grid, count = merge_header(grid, count)
        rows_used = set(range(first, last + 1))
        if caption_rows:
            caption = " ".join(sg.text for i in caption_rows for sg in lines_by_row[i])
            rows_used.update(caption_rows)
        else:
            cap = _caption(lines_by_row, top, bottom, x0, x1, usual, used_rows | rows_used)
            caption = ""
            if cap is not None and min(cap[0]) >= first_free:
                rows_used.update(cap[0])
                caption = cap[1]
        used_rows |= rows_used
        first_free = last + 1
        cells = tuple(tuple(cells.values()) for cells in grid)
        tables.append(TableGrid(len(cols), cells, count, caption, x0, top, x1, bottom))
    kept = tuple(row for row in (tuple(w for w in r if id(w) not in taken) for i, r in enumerate(rows)
                                 if i not in used_rows) if row)
    return TableFind(tuple(tables), tuple(w for r in kept for w in r), kept)


def cell_texts(table: TableGrid) -> list[list[str]]:
    """Each row as one text per column ("" where no cell starts; a spanning cell's text in its first column)."""
    out = []
    for row in table.rows:
        texts = [""] * table.columns
        for c in row:
            texts[c.first] = c.text
        out.append(texts)
    return out



def table_text(grid: TableGrid, start: int, page: int | None = None) -> tuple[str, Table]:
    """The table as text placed at offset ``start``, and its :class:`Table` record.

    The caption (when there is one) is the first line, then one line per row,
    cells joined by ``CELL_SEP``. Every column gets a cell span: a column no
    cell covers gets an empty span where its text would be, and the columns
    of a spanning cell all get that cell's span (its text is written once).
    """
    out = []
    pos = start
    if grid.caption:
        out.append(grid.caption)
        pos += len(grid.caption) + 1
    table_start = pos
    rows = []
    for row in grid.rows:
        by_first = {c.first: c for c in row}
        pieces, k = [], 0
        while k < grid.columns:
            c = by_first.get(k)
            if c is None:
                pieces.append((k, k, ""))
                k += 1
            else:
                last = min(max(c.last, k), grid.columns - 1)
                pieces.append((k, last, " ".join(c.text.split())))
                k = last + 1
        line, spans = "", [(0, 0)] * grid.columns
        for first, last, text in pieces:
            if line or first > 0:
                line += CELL_SEP
            s = pos + len(line)
            line += text
            for col in range(first, last + 1):
                spans[col] = (s, s + len(text))
        rows.append(TableRow(pos, pos + len(line), tuple(spans)))
        out.append(line)
        pos += len(line) + 1
    text = "\n".join(out)
    end = rows[-1].end if rows else table_start
    return text, Table(table_start, end, tuple(rows), grid.header_rows, grid.caption, page)
