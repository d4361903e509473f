"""Tables for readers of formats with explicit cells (DOCX, HTML): grid, text, offsets.

A reader collects each table as cells with their spans; this module decides
whether the table holds data at all (:func:`is_layout`), places the cells on
a grid (:func:`place`), and writes it as text, one line per row with the cells
joined by ``CELL_SEP``, with the exact span of every cell (:func:`build`).
Pure functions, stdlib only (the parsing worker imports this).

How spans are written:

- ``TableRow.cells`` has one entry per grid column, so cell ``i`` of a body row
  stands under cell ``i`` of each header row.
- A cell spanning several columns is written once; each column it covers gets
  its span. In a header row its text is written once per column instead, so
  every column has its own header text ("Sales | Sales" over "Q1 | Q2").
- A body cell spanning several rows is written again on each row it covers
  when it is a short plain label ("Texas" beside each month), so every row
  reads on its own; anything longer (a note, a picture gallery) only on its
  first row, the rows below getting an empty cell. In a header row the cell
  below a row-spanning header is empty: that column's header is above.
- Leading rows made of one cell across the whole table are its title, not a
  header: they are returned as ``titles``, for the caption.
- Rows with no text are left out; empty cells keep their separator, except
  after a row's last non-empty cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ._base import CELL_SEP, Table, TableRow

# Browsers clamp spans to these; larger values are hostile or broken.
MAX_COLSPAN = 1000
MAX_ROWSPAN = 65534
# Grid slots (rows x columns) of one table kept as a table; past this the rows
# are written as plain lines with no cell structure (output stays linear in input).
MAX_SLOTS = 250_000
# A row-spanning body cell up to this long is a label, repeated on each row it covers.
LABEL_CHARS = 60
# A spanning header cell up to this long is repeated over its columns.
HEADER_CHARS = 200
# A cell this long is prose, not a datum: the table lays out a page.
PROSE_CHARS = 1500


@dataclass(frozen=True)
class Cell:
    """One cell as the source gives it. ``plain``: no block structure inside (one line of text)."""

    text: str
    colspan: int = 1
    rowspan: int = 1
    plain: bool = True


@dataclass(frozen=True)
class Placed:
    """A cell with its place on the grid: top-left ``row``/``col`` and its extent."""

    row: int
    col: int
    rowspan: int
    colspan: int
    text: str
    plain: bool = True


@dataclass(frozen=True)
class Built:
    """A table written as text. Offsets in ``table`` are into ``text`` (the caller shifts them).

    ``table`` is None when the table was too large for a grid (its rows are
    then plain lines in ``text``). ``titles``: the text of its leading
    full-width rows (not in ``text``: the reader writes them before it, the
    first is the table's caption when the source gives none).
    """

    text: str
    table: Table | None
    titles: tuple[str, ...] = ()


def is_layout(columns: int, longest_cell: int, nested: bool = False, sections: bool = False,
              prose_cells: int = 0) -> bool:
    """Whether a table lays out a page rather than holding data.

    ``columns``: most cells in one row; ``longest_cell``: characters of the
    longest cell; ``nested``: a table inside a cell; ``sections``: a heading or
    a page section inside; ``prose_cells``: cells holding several paragraphs
    of running text. One column is a box or a list, not a grid; a table inside
    a table, a heading in a cell or pages of prose in a cell are a page's
    layout (the inner tables are then read as tables of their own).
    """
    return columns < 2 or nested or sections or longest_cell > PROSE_CHARS or prose_cells > 0


def place(rows: list[list[Cell]]) -> list[Placed] | None:
    """Cells placed on the grid as browsers do: a row-spanning cell takes its
    column in the rows below, and their cells move right past it.

    A rowspan of 0 reaches the last row. None when placing would touch more
    than MAX_SLOTS grid slots (a table of a few bytes per row can claim
    thousands of columns each): :func:`flat` writes such a table.
    """
    n_rows = len(rows)
    placed: list[Placed] = []
    busy: dict[int, int] = {}  # column -> first row that is free again
    work = 0
    for r, cells in enumerate(rows):
        col = 0
        for cell in cells:
            while busy.get(col, 0) > r:
                col += 1
                work += 1
            colspan = min(max(cell.colspan, 1), MAX_COLSPAN)
            rowspan = cell.rowspan if cell.rowspan > 0 else n_rows - r
            rowspan = min(max(rowspan, 1), MAX_ROWSPAN, n_rows - r)
            placed.append(Placed(r, col, rowspan, colspan, cell.text, cell.plain))
            if rowspan > 1:
                for c in range(col, col + colspan):
                    busy[c] = r + rowspan
                work += colspan
            col += colspan
            work += 1
            if work > MAX_SLOTS:
                return None
    return placed


def flat(rows: list[list[Cell]]) -> Built:
    """A table too large for a grid: each row's own cells on a line, no structure."""
    lines = (CELL_SEP.join(c.text for c in cells if c.text) for cells in rows)
    return Built("\n".join(line for line in lines if line), None)


def build(placed: list[Placed], n_rows: int, header_rows: int = 0, first_row_header: bool = False) -> Built:
    """The table's text and structure.

    ``header_rows``: leading rows the source marks as headers; when there are
    none and ``first_row_header`` is set, the first row (after any title rows)
    is the header, unless its first column is a list of labels ending in ":"
    (a form of labels and values has no column headers). Header rows extend
    down while a header cell spans into the next row. At least one row stays
    a body row.
    """
    n_cols = max((p.col + p.colspan for p in placed), default=0)
    if n_rows * n_cols > MAX_SLOTS:
        return _flat(placed, n_rows)  # spans claim more columns than a grid can hold
    grid: list[list[Placed | None]] = [[None] * n_cols for _ in range(n_rows)]
    for p in placed:
        for r in range(p.row, p.row + p.rowspan):
            row = grid[r]
            for c in range(p.col, p.col + p.colspan):
                row[c] = p

    # Title rows: one cell across all columns, at the top.
    titles, top = [], 0
    while top < n_rows - 1 and n_cols > 1:
        first = grid[top][0]
        if first is None or first.row != top or first.colspan != n_cols or first.rowspan != 1:
            break
        if first.text:
            titles.append(first.text)
        top += 1
    header_rows = max(0, header_rows - top)
    if not header_rows and first_row_header and not _labels_column(grid, top, n_rows):
        header_rows = 1
    header_end = min(top + header_rows, n_rows)
    r = top
    while r < header_end:
        for p in grid[r]:
            if p is not None and p.row + p.rowspan > header_end:
                header_end = p.row + p.rowspan
        r += 1
    if header_end >= n_rows:  # a table of headers only: its first row heads the rest
        header_end = min(top + 1, n_rows - 1) if n_rows - top > 1 else top

    text_parts: list[str] = []
    pos = 0
    rows: list[TableRow] = []
    kept_header = 0
    for r in range(top, n_rows):
        header = r < header_end
        logical = _logical_cells(grid[r], r, header)
        last = max((i for i, (text, _) in enumerate(logical) if text), default=-1)
        if last < 0:
            continue
        if rows:
            text_parts.append("\n")
            pos += 1
        start = pos
        spans: list[tuple[int, int]] = [(0, 0)] * n_cols
        for i, (text, cols) in enumerate(logical):
            if i > last:
                for c in cols:
                    spans[c] = (pos, pos)
                continue
            if i:
                text_parts.append(CELL_SEP)
                pos += len(CELL_SEP)
            text_parts.append(text)
            for c in cols:
                spans[c] = (pos, pos + len(text))
            pos += len(text)
        rows.append(TableRow(start, pos, tuple(spans)))
        kept_header += header
    text = "".join(text_parts)
    table = Table(0, len(text), tuple(rows), kept_header) if rows else None
    return Built(text, table, tuple(titles))


def _logical_cells(row: list[Placed | None], r: int, header: bool) -> list[tuple[str, list[int]]]:
    """(text on this row, grid columns it stands for) for each cell of grid row ``r``."""
    out: list[tuple[str, list[int]]] = []
    c, n = 0, len(row)
    while c < n:
        p = row[c]
        if p is None:
            out.append(("", [c]))
            c += 1
            continue
        cols = list(range(c, p.col + p.colspan))
        if p.row == r:
            text = p.text
        elif header:
            text = ""
        else:
            text = p.text if p.plain and len(p.text) <= LABEL_CHARS else ""
        if header and text and len(cols) > 1 and len(text) <= HEADER_CHARS:
            out.extend((text, [k]) for k in cols)
        else:
            out.append((text, cols))
        c = p.col + p.colspan
    return out


def _labels_column(grid: list[list[Placed | None]], top: int, n_rows: int) -> bool:
    """Whether the first column, from row ``top``, is labels ending in ":" (a form)."""
    labels = [p.text for p in (grid[r][0] for r in range(top, n_rows)) if p is not None and p.text]
    return len(labels) >= 2 and all(t.endswith(":") for t in labels)


def _flat(placed: list[Placed], n_rows: int) -> Built:
    """A table too large for a grid: each row's own cells on a line, no structure."""
    by_row: list[list[str]] = [[] for _ in range(n_rows)]
    for p in placed:
        if p.text:
            by_row[p.row].append(p.text)
    return Built("\n".join(CELL_SEP.join(cells) for cells in by_row if cells), None)


def shift(table: Table, delta: int, caption: str = "", page: int | None = None) -> Table:
    """``table`` with its offsets moved by ``delta`` (where its text starts), caption and page set."""
    rows = tuple(
        TableRow(r.start + delta, r.end + delta, tuple((a + delta, b + delta) for a, b in r.cells))
        for r in table.rows
    )
    return replace(table, start=table.start + delta, end=table.end + delta, rows=rows, caption=caption, page=page)


# "Table 3:", "Tab. 2.1", "Tableau IV –": the label of a caption, in a few languages.
_CAPTION_LABEL = re.compile(
    r"(?i)^(table|tab\.|tabelle|tableau|tabla|tabella|tabel|tabela|tabulka|taulukko|tablo)\s*"
    r"([0-9]+[a-z]?(\.[0-9]+)*|[ivxlc]+)\b"
)
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")


def caption_like(text: str, heading: bool = False) -> bool:
    """Whether a paragraph right before a table reads as its caption or title.

    A caption label ("Table 3: ..."), a heading, or a short title-like line:
    at most 15 words and not ending like a sentence ("1.1 APPLICANT DETAILS",
    "Results by region:").
    """
    text = text.strip()
    if not text or len(text) > 200 or not _LETTER.search(text):
        return False
    if heading or _CAPTION_LABEL.match(text):
        return True
    return len(text) <= 120 and len(_WORD.findall(text)) <= 15 and not text.endswith((".", "!", "?", ";", ","))


def is_caption_label(text: str) -> bool:
    """Whether ``text`` starts with a table caption label ("Table 3", "Tab. 2")."""
    return bool(_CAPTION_LABEL.match(text.strip()))
