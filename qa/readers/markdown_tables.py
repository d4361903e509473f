"""Markdown pipe tables (GitHub's form) as tables: rows of cells under their header row.

    | Region | Q1 | Q2 |          Region | Q1 | Q2
    |--------|---:|---:|   ->
    | North  | 10 | 12 |          North | 10 | 12

A header line with a pipe, then a delimiter line of dashes (colons for
alignment) with as many cells, then every following line with a pipe: a
table, outside code fences. Each row line is written again with its cells
trimmed and joined by CELL_SEP, as every reader writes table rows (the chat
and the cell finder split rows there), and the delimiter line becomes an
empty line: one line stays one line, so a citation's line numbers are the
file's own. The caption is the heading or short line just above the table
(one blank line between at most). A pipe escaped as ``\\|`` (kept so) or
inside backticks is text, not a cell border.

Pure and linear in the text's length.
"""

from __future__ import annotations

import re

from ._base import CELL_SEP, Table, TableRow

_DELIMITER_CELL = re.compile(r":?-+:?")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)[\s#]*$")
CAPTION_CHARS = 150


def split_cells(line: str) -> list[str]:
    """A row line's cells: split at pipes that are not escaped or inside backticks, the outer ones dropped."""
    cells, cur, code, i = [], [], False, 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "|":
            cur.append("\\|")  # kept as written: " \\| " is never CELL_SEP
            i += 2
            continue
        if c == "`":
            code = not code
        if c == "|" and not code:
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    cells.append("".join(cur))
    if cells and not cells[0].strip() and line.lstrip().startswith("|"):
        cells = cells[1:]
    if cells and not cells[-1].strip() and line.rstrip().endswith("|"):
        cells = cells[:-1]
    return [c.strip() for c in cells]


def markdown_tables(text: str) -> tuple[str, tuple[Table, ...]]:
    """``text`` with its pipe tables written as rows of CELL_SEP-joined cells, and those tables."""
    lines = text.split("\n")
    out: list[str] = []
    tables: list[tuple[int, int, list[list[str]], str]] = []  # (first out line, lines, rows, caption)
    fenced, i = False, 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and "|" in line and i + 1 < len(lines) and _is_delimiter(lines[i + 1]):
            header = split_cells(line)
            if len(header) == len(split_cells(lines[i + 1])) and any(header):
                rows, j = [header], i + 2
                while j < len(lines) and "|" in lines[j] and lines[j].strip():
                    cells = split_cells(lines[j])
                    rows.append((cells + [""] * len(header))[: max(len(header), len(cells))])
                    j += 1
                tables.append((len(out), j - i, rows, _caption(lines, i)))
                out.append(CELL_SEP.join(rows[0]))
                out.append("")  # the delimiter line
                out.extend(CELL_SEP.join(r) for r in rows[1:])
                i = j
                continue
        out.append(line)
        i += 1
    new = "\n".join(out)
    if not tables:
        return text, ()
    starts, pos = [], 0
    for line in out:
        starts.append(pos)
        pos += len(line) + 1
    found = []
    for first, count, rows, caption in tables:
        row_lines = [first] + list(range(first + 2, first + count))
        built = []
        for n, cells in zip(row_lines, rows):
            at, spans = starts[n], []
            for k, cell in enumerate(cells):
                if k:
                    at += len(CELL_SEP)
                spans.append((at, at + len(cell)))
                at += len(cell)
            built.append(TableRow(starts[n], starts[n] + len(out[n]), tuple(spans)))
        found.append(Table(built[0].start, built[-1].end, tuple(built), 1, caption))
    return new, tuple(found)


def _is_delimiter(line: str) -> bool:
    """Whether ``line`` is a delimiter row ("|---|:--:|"): only pipes, colons, dashes and spaces, each
    cell dashes with a colon at either end. Checked without a regex over the whole line (a line of
    spaces would make one backtrack quadratically)."""
    if "-" not in line or not set(line) <= _DELIMITER_CHARS:
        return False
    return all(_DELIMITER_CELL.fullmatch(c) for c in split_cells(line))


_DELIMITER_CHARS = frozenset("|:- \t")


def _caption(lines: list[str], at: int) -> str:
    """The heading or short line just above line ``at`` (one blank line between at most), or ""."""
    k = at - 1
    if k >= 0 and not lines[k].strip():
        k -= 1
    if k < 0 or not lines[k].strip() or "|" in lines[k]:
        return ""
    line = lines[k].strip()
    m = _HEADING.match(lines[k])
    if m:
        return m.group(1).strip()[:CAPTION_CHARS]
    return line if len(line) <= CAPTION_CHARS and not line.endswith((".", "!", "?")) else ""
