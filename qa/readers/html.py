"""HTML: the main text of a page, with headings, readable line structure and its title.

Tokenised by libxml2's HTML parser (lxml, already there for python-docx) as a
stream of events, no tree: linear time on any input, tag soup repaired the way
browsers do (implied end tags), no network, no scripts, only HTML character
references expanded. Not the standard library's ``html.parser``: before
CPython's 2025 security fixes (3.11.7 here) it is quadratic on unclosed ``<``
constructs (75 KB of ``if x<y then z.``: 22 s).

Navigation, headers, footers, sidebars, forms, scripts, styles and hidden
elements are dropped; when the page marks its main content (``<main>``), only
that is kept. Text that *looks* like markup (``&lt;script&gt;`` in a code
sample) stays literal text.

Tables that hold data are written one line per row, cells joined by
``CELL_SEP``, and recorded with their cells' offsets, header rows (``<thead>``
rows, else leading rows of ``<th>`` only) and caption (``<caption>``, a title
row across the whole table, or a title-like paragraph or heading just before).
Tables that lay out the page (one column, a table or heading inside a cell,
``role=presentation``, prose in a cell: see ``_tables.is_layout``) are read
as ordinary blocks. Every block's start is recorded for citations
(``Parsed.paragraphs``), and a heading's ``id`` (or the id of an element
inside it, or of an empty ``<a name>`` just before it) as its anchor.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from ..errors import DocumentError
from . import _tables
from ._base import Limits, Parsed, Table, clean_text, one_line, truncate, xml_limit
from ._titles import unused_title_note, usable_title
from .text import bom_decode, decode

# Elements whose whole content is not document text.
DROP = frozenset({
    "script", "style", "nav", "header", "footer", "aside", "noscript", "form", "svg", "template",
    "iframe", "object", "embed", "canvas", "button", "select", "textarea", "dialog",
})
# ARIA landmark roles that mean the same as the elements above.
DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog"})
VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen", "frame",
})
# A blank line before and after (a paragraph of its own) ...
PARAGRAPH = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table", "ul", "ol", "dl", "figure",
    "section", "article", "main", "hr", "address", "details", "fieldset",
})
# ... or a line of its own.
LINE = frozenset({
    "div", "li", "tr", "dt", "dd", "caption", "figcaption", "summary", "legend", "center",
    "thead", "tbody", "tfoot", "body",
})
HEADINGS = {f"h{n}": n for n in range(1, 7)}
CELLS = frozenset({"td", "th"})
TABLE_PARTS = frozenset({"td", "th", "tr", "caption", "thead", "tbody", "tfoot"})
# Inside a table cell, these make the table a page's layout: a heading, a page section.
SECTIONS = frozenset({*HEADINGS, "main", "article", "section", "header", "footer", "nav", "aside", "body"})
# Paragraphs of running text: a cell holding two or more of them, this long, is prose.
PROSE = frozenset({"p", "blockquote", "pre"})
PROSE_CELL_CHARS = 400
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""")
_SPACES = re.compile(r"\s+")


def parse(data: bytes, name: str, limits: Limits) -> Parsed:
    text_in = decode_html(data, name)
    parser = _extract(text_in, name, drop_forms=True)
    if parser.form_chars > parser.all.length:
        # Some sites (ASP.NET WebForms) wrap the whole page in one <form>.
        parser = _extract(text_in, name, drop_forms=False)
    # The page's own <main>, unless it is a small part of what is left (then it is not the main text).
    out = parser.main if parser.main.length >= 0.2 * parser.all.length else parser.all
    text, headings, paragraphs, tables, anchors = out.finish()
    warnings = []
    text, cut = truncate(text, limits.max_chars)
    if cut:
        headings = [(o, h) for o, h in headings if o < len(text)]
        paragraphs = [o for o in paragraphs if o < len(text)]
        tables = [t for t in tables if t.end <= len(text)]
        anchors = [(o, a) for o, a in anchors if o < len(text)]
        warnings.append(f"only the first {limits.max_chars:,} characters were read; the rest is not indexed")
    title = usable_title(one_line(parser.title), text, name)
    if not title:
        levels = out.heading_levels
        title = next((h for lvl, h in levels if lvl == 1), None) or (levels[0][1] if levels else None)
        note = unused_title_note(one_line(parser.title), title, name)
        if note:
            warnings.append(note)
    return Parsed(text=text, title=title, headings=tuple(headings), warnings=tuple(warnings),
                  paragraphs=tuple(paragraphs), tables=tuple(tables), anchors=tuple(anchors))


def _extract(text: str, name: str, drop_forms: bool) -> "_Extractor":
    extractor = _Extractor(drop_forms)
    parser = etree.HTMLParser(
        target=extractor, recover=True, no_network=True, remove_comments=True, remove_pis=True
    )
    try:
        parser.feed(text)
        parser.close()
    except etree.LxmlError as exc:  # recover=True makes libxml2's errors warnings; its safety limits stay errors
        limit = xml_limit(str(exc))
        if limit:
            raise DocumentError(name, f"{limit} to read as HTML; skipped")
        raise
    return extractor


def decode_html(data: bytes, name: str) -> str:
    """Bytes to text: a BOM, else the charset the page declares, else as plain text is decoded."""
    text = bom_decode(data, name)
    if text is None:
        head = data[:4096]
        m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
        encoding = _known_encoding(m.group(1).decode("ascii", "replace")) if m else None
        if encoding:
            text = data.decode(encoding, errors="replace")
        else:
            text = decode(data, name)
    return clean_text(text)


def _known_encoding(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    # As browsers do: a page cannot really be UTF-16 if its ASCII meta tag was
    # readable, and "Latin-1" on the web means Windows-1252.
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    if name in ("latin-1", "iso8859-1", "ascii"):
        return "cp1252"
    return name


class _Out:
    """Assembles text from the parser's events: spaces collapsed, block breaks merged,
    offsets of headings, paragraphs (every block), tables and heading anchors kept."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.trailing_newlines = 0  # at the end of what is written so far
        self.trailing_space = False
        self.pending = 0  # newlines wanted before the next text
        self.kind = "p"  # what the next block is: "p", "h" (heading), "li", "caption", "table"
        self.block = (0, 0, "")  # the last block: (start offset, index in parts, kind)
        self.marker = False  # a list item's marker was just written: its first block follows on its line
        self.heading: list | None = None  # [level, start offset or None, [text parts], anchor]
        self.headings: list[tuple[int, str]] = []
        self.heading_levels: list[tuple[int, str]] = []
        self.paragraphs: list[int] = []
        self.tables: list[Table] = []
        self.anchors: list[tuple[int, str]] = []

    def finish(self):
        """(text, headings, paragraph starts, tables, anchors), trailing whitespace cut."""
        text = "".join(self.parts)
        end = len(text.rstrip())
        return (
            text[:end],
            [(o, h) for o, h in self.headings if o < end],
            [o for o in self.paragraphs if o < end],
            [t for t in self.tables if t.end <= end],
            [(o, a) for o, a in self.anchors if o < end],
        )

    def _write(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def _drop_trailing_space(self) -> None:
        if self.trailing_space and self.parts:
            self.parts[-1] = self.parts[-1][:-1]
            self.length -= 1
            self.trailing_space = False

    def brk(self, n: int, kind: str = "p", opening: bool = False) -> None:
        if self.marker and opening and kind != "li":
            return  # "- " then a paragraph opening: the paragraph stays on the marker's line
        self.pending = max(self.pending, n)
        self.kind = kind

    def newline(self) -> None:
        """A hard line break (``<br>``); at most one blank line in a row."""
        if self.length and self.trailing_newlines < 2:
            self._drop_trailing_space()
            self._write("\n")
            self.trailing_newlines += 1

    def _open_block(self) -> bool:
        """Writes the newlines a block break asked for; True when a new block starts here."""
        new = bool(self.pending) or not self.length
        if self.pending and self.length:
            self._drop_trailing_space()
            if self.pending > self.trailing_newlines:
                self._write("\n" * (self.pending - self.trailing_newlines))
                self.trailing_newlines = self.pending
        self.pending = 0
        return new

    def _mark_block(self) -> None:
        self.paragraphs.append(self.length)
        self.block = (self.length, len(self.parts), self.kind)
        self.kind = "p"

    def data(self, s: str, pre: bool = False, marker: bool = False) -> None:
        if not pre:
            s = _SPACES.sub(" ", s)
            if not s or (s == " " and (self.trailing_space or self.trailing_newlines or not self.length or self.pending)):
                return
        elif not s:
            return
        new = self._open_block()
        if not pre and (self.trailing_newlines or not self.length or self.trailing_space):
            s = s.lstrip(" ")
            if not s:
                return
        if new and not self.marker:
            self._mark_block()
        self.marker = marker
        if self.heading is not None:
            if self.heading[1] is None:
                self.heading[1] = self.length
            self.heading[2].append(s)
        self._write(s)
        stripped = s.rstrip("\n")
        if stripped:
            self.trailing_newlines = len(s) - len(stripped)
            self.trailing_space = not pre and s.endswith(" ")
        else:
            self.trailing_newlines += len(s)
            self.trailing_space = False

    def heading_start(self, level: int, anchor: str) -> None:
        self.brk(2, "h")
        if self.heading is None:
            self.heading = [level, None, [], anchor]

    def heading_anchor(self, anchor: str) -> None:
        """An id inside the open heading (``<h2><span id="History">``) names it when it has none."""
        if self.heading is not None and not self.heading[3]:
            self.heading[3] = anchor

    def heading_end(self) -> None:
        self.brk(2)
        if self.heading is None:
            return
        level, start, parts, anchor = self.heading
        self.heading = None
        name = one_line("".join(parts))
        if name and start is not None:
            self.headings.append((start, name))
            self.heading_levels.append((level, name))
            if anchor:
                self.anchors.append((start, anchor))

    def table(self, built: _tables.Built, caption: str) -> None:
        """A data table: its caption and title rows as lines, then its rows, one line each."""
        lines = [caption, *built.titles] if caption else list(built.titles)
        for i, line in enumerate(lines):
            self.brk(1 if i else 2, "caption")
            self.data(line)
        caption = one_line(lines[0]) if lines else self._previous_caption()
        if built.text:
            self.brk(2, "table")
            self._open_block()
            self._mark_block()
            start = self.length
            self._write(built.text)
            self.trailing_newlines, self.trailing_space, self.marker = 0, False, False
            if built.table is not None:
                self.tables.append(_tables.shift(built.table, start, caption))
        self.brk(2)

    def _previous_caption(self) -> str:
        """The block just before, when it is a short paragraph or heading that reads as a title."""
        start, index, kind = self.block
        if kind not in ("p", "h") or self.length - start > 300:
            return ""
        text = one_line("".join(self.parts[index:]))
        return text if _tables.caption_like(text, heading=kind == "h") else ""


class _Scan:
    """Looks at a table's events before they are read, to tell a data table from a layout table.

    A table inside it, or a heading or page section in it, decides at once
    (layout); otherwise the table's end does, by its columns and cell lengths.
    """

    def __init__(self):
        self.columns = 0
        self.row_cells = 0
        self.longest = 0
        self.prose = 0
        self.in_cell = False
        self.cell_chars = 0
        self.cell_paragraphs = 0

    def start(self, tag: str) -> bool:
        """True when this start makes the table a layout table."""
        if tag == "table" or tag in SECTIONS:
            return True
        if tag == "tr":
            self._end_cell()
            self.row_cells = 0
        elif tag in ("td", "th"):
            self._end_cell()
            self.in_cell = True
            self.row_cells += 1
            self.columns = max(self.columns, self.row_cells)
        elif tag in PROSE and self.in_cell:
            self.cell_paragraphs += 1
        return False

    def data(self, data: str) -> None:
        if self.in_cell:
            self.cell_chars += len(data.strip())

    def _end_cell(self) -> None:
        if self.in_cell:
            self.longest = max(self.longest, self.cell_chars)
            if self.cell_paragraphs >= 2 and self.cell_chars >= PROSE_CELL_CHARS:
                self.prose += 1
        self.in_cell, self.cell_chars, self.cell_paragraphs = False, 0, 0

    def mode(self) -> str:
        self._end_cell()
        return "layout" if _tables.is_layout(self.columns, self.longest, prose_cells=self.prose) else "data"


class _TableBuilder:
    """Collects a data table's rows and cells (text on one line per cell) while its events are read."""

    def __init__(self):
        self.rows: list[list[_tables.Cell]] = []
        self.head: list[bool] = []  # per row: in <thead>
        self.all_th: list[bool] = []  # per row: every cell a <th>
        self.section = ""  # "thead", "tbody", "tfoot" or ""
        self.row: list[_tables.Cell] | None = None
        self.row_th = True
        self.cell: list | None = None  # [parts, th, colspan, rowspan, breaks]
        self.in_caption = False
        self.caption_parts: list[str] = []
        self.stray: list[str] = []  # text outside any cell (browsers show it before the table)

    def start_row(self) -> None:
        self.end_row()
        self.row, self.row_th = [], True

    def end_row(self) -> None:
        self.end_cell()
        if self.row is not None:
            self.rows.append(self.row)
            self.head.append(self.section == "thead")
            self.all_th.append(self.row_th and bool(self.row))
            self.row = None

    def start_cell(self, th: bool, colspan: int, rowspan: int) -> None:
        self.end_cell()
        if self.row is None:
            self.start_row()
        self.cell = [[], th, colspan, rowspan, 0]

    def end_cell(self) -> None:
        if self.cell is None:
            return
        parts, th, colspan, rowspan, breaks = self.cell
        self.cell = None
        pieces = [p for p in (one_line(x, limit=1_000_000) for x in "".join(parts).split("\n")) if p]
        self.row.append(_tables.Cell("; ".join(pieces), colspan, rowspan, plain=len(pieces) <= 1 and not breaks))
        self.row_th = self.row_th and th

    def data(self, s: str) -> None:
        s = _SPACES.sub(" ", s)
        if self.in_caption:
            self.caption_parts.append(s)
        elif self.cell is not None:
            self.cell[0].append(s)
        elif s.strip():
            self.stray.append(s)

    def soft_break(self, block: bool) -> None:
        """A block boundary ("; " between its pieces) or a ``<br>`` (a space) inside a cell."""
        if self.cell is not None:
            self.cell[0].append("\n" if block else " ")
            self.cell[4] += 1
        elif self.in_caption:
            self.caption_parts.append(" ")

    def finish(self) -> tuple[list[list[_tables.Cell]], int, str, str]:
        """(rows, leading header rows, caption, stray text)."""
        self.end_row()
        header = _leading(self.head) or _leading(self.all_th)
        return self.rows, header, one_line("".join(self.caption_parts)), one_line(" ".join(self.stray))


def _leading(flags: list[bool]) -> int:
    n = 0
    while n < len(flags) and flags[n]:
        n += 1
    return n


class _Extractor:
    """The parser's target: start/end/data events in, text for :class:`_Out` out.

    A table's events are held back until it is known to hold data (its rows
    are then written one line each, see _tables.py) or to lay out the page
    (its cells are then read as blocks); then they are read. A table inside
    a table decides the outer one at once, so an event is held by one table
    at a time and read at most twice: linear time on any nesting.
    """

    def __init__(self, drop_forms: bool = True):
        self.drop_forms = drop_forms
        self.all = _Out()
        self.main = _Out()
        self.title = ""
        self.stack: list[tuple] = []  # open elements: (tag, drops, is_main, is_pre, is_heading, table mode)
        self.dropping = 0  # open elements that drop their content
        self.forms = 0  # open <form> elements among those
        self.form_chars = 0  # text dropped inside forms (some sites wrap the whole page in one)
        self.in_main = 0
        self.in_pre = 0
        self.pre_fresh = False
        self.in_title = False
        self.title_done = False
        self.containers = 0  # open <article>/<main>: their <header> holds the title, kept
        self.lists: list[list] = []  # [ordered, next number] of each open list
        self.held: list[tuple] | None = None  # events of a table not yet decided
        self.scan: _Scan | None = None
        self.forced: str | None = None  # the mode of the table whose held events are being read
        self.table: _TableBuilder | None = None  # the data table being read
        self.loose_anchor = ""  # <a id|name> with no text since: names the heading that follows

    # -- where text goes
    def _outs(self):
        return (self.all, self.main) if self.in_main else (self.all,)

    def _brk(self, n: int, kind: str = "p", opening: bool = False) -> None:
        if self.table is not None:
            self.table.soft_break(True)
            return
        for o in self._outs():
            o.brk(n, kind, opening)

    def _data(self, s: str, marker: bool = False) -> None:
        if self.table is not None:
            self.table.data(s)
            return
        if self.loose_anchor and s.strip():
            self.loose_anchor = ""
        for o in self._outs():
            o.data(s, pre=self.in_pre > 0, marker=marker)

    def _newline(self) -> None:
        if self.table is not None:
            self.table.soft_break(False)
            return
        for o in self._outs():
            o.newline()

    # -- parser events (held back while a table is undecided)
    def start(self, tag, attrib):
        tag = tag.lower() if isinstance(tag, str) else ""
        if self.held is not None:
            self.held.append((0, tag, dict(attrib)))
            if self.scan.start(tag):
                self._release("layout")
            return
        self._start(tag, attrib)

    def end(self, tag):
        tag = tag.lower() if isinstance(tag, str) else ""
        if self.held is not None:
            self.held.append((1, tag, None))
            if tag == "table":
                self._release(self.scan.mode())
            return
        self._end(tag)

    def data(self, data):
        if self.held is not None:
            self.held.append((2, data, None))
            self.scan.data(data)
            return
        self._data_event(data)

    def close(self):
        while self.held is not None:  # a table left open at the end of the page
            self._release(self.scan.mode())
        while self.stack:
            self._close(self.stack.pop())
        return self

    def _release(self, mode: str) -> None:
        """Reads the held events, the table's start first, in ``mode``."""
        events, self.held, self.scan = self.held, None, None
        self.forced = mode
        for kind, a, b in events:
            if kind == 0:
                self.start(a, b)
            elif kind == 1:
                self.end(a)
            else:
                self.data(a)

    # -- reading
    def _start(self, tag: str, attrib) -> None:
        attrs = {str(k).lower(): (v or "") for k, v in attrib.items()}
        if tag in VOID:
            if not self.dropping:
                if tag == "br":
                    self._newline()
                elif tag == "hr":
                    self._brk(2)
            return
        if tag == "title" and not self.title_done and not any(e[0] in ("svg", "template") for e in self.stack):
            self.in_title = True
        drops = self._drops(tag, attrs)
        mode = None
        if tag == "table" and not drops and not self.dropping:
            mode, self.forced = self.forced, None
            if mode is None:
                if self.table is None and attrs.get("role", "").lower() not in ("presentation", "none"):
                    self.held, self.scan = [(0, tag, attrs)], _Scan()
                    return
                mode = "layout"
        is_main = tag == "main" or attrs.get("role", "").lower() == "main"
        self.stack.append((tag, drops, is_main, tag == "pre", tag in HEADINGS, mode))
        if tag in ("article", "main"):
            self.containers += 1
        if drops:
            self.dropping += 1
            self.forms += tag == "form"
        if self.dropping:
            return
        if is_main:
            self.in_main += 1
        if tag == "pre":
            self.in_pre += 1
            self.pre_fresh = True
        ident = attrs.get("id", "") or (attrs.get("name", "") if tag == "a" else "")
        if self.table is not None and self._table_start(tag, attrs):
            return
        if mode == "data":
            self._brk(2)
            self.table = _TableBuilder()
            return
        if tag in PARAGRAPH:
            self._brk(1 if tag in ("ul", "ol") and self.lists else 2, opening=True)
        elif tag in LINE or (tag in CELLS and self.table is None):
            self._brk(1, "li" if tag == "li" else "p", opening=True)
        if tag in HEADINGS and self.table is None:
            for o in self._outs():
                o.heading_start(HEADINGS[tag], ident or self.loose_anchor)
            self.loose_anchor = ""
        elif ident:
            for o in self._outs():
                o.heading_anchor(ident)
            if tag == "a" and all(o.heading is None for o in self._outs()):
                self.loose_anchor = ident
        if tag in ("ul", "ol"):
            self.lists.append([tag == "ol", _start(attrs)])
        elif tag == "li" and self.table is None:
            if self.lists and self.lists[-1][0]:
                self._data(f"{self.lists[-1][1]}. ", marker=True)
                self.lists[-1][1] += 1
            else:
                self._data("- ", marker=True)

    def _table_start(self, tag: str, attrs: dict) -> bool:
        """Table structure inside a data table; True when ``tag`` was one."""
        t = self.table
        if tag in ("thead", "tbody", "tfoot"):
            t.end_row()
            t.section = tag
        elif tag == "tr":
            t.start_row()
        elif tag in CELLS:
            t.start_cell(tag == "th", _span(attrs.get("colspan")), _span(attrs.get("rowspan"), zero=True))
        elif tag == "caption":
            t.end_row()
            t.in_caption = True
        else:
            return False
        return True

    def _end(self, tag: str) -> None:
        if tag in VOID:
            return  # the parser sends an end for every start, void elements too
        if tag == "title" and self.in_title:
            self.in_title, self.title_done = False, True
        # Close up to the matching open element (the parser balances them; this is a safeguard).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                break
        else:
            return
        while len(self.stack) > i:
            self._close(self.stack.pop())

    def _close(self, entry) -> None:
        tag, drops, is_main, is_pre, is_heading, mode = entry
        if tag in ("article", "main"):
            self.containers -= 1
        if drops:
            self.dropping -= 1
            self.forms -= tag == "form"
            return
        if self.dropping:
            return
        if mode == "data" and self.table is not None:
            self._emit_table()
        elif self.table is not None and tag in TABLE_PARTS:
            t = self.table
            if tag in CELLS:
                t.end_cell()
            elif tag == "tr":
                t.end_row()
            elif tag == "caption":
                t.in_caption = False
            else:
                t.end_row()
                t.section = ""
        else:
            if is_heading and self.table is None:
                for o in self._outs():
                    o.heading_end()
            if tag in PARAGRAPH:
                self._brk(1 if tag in ("ul", "ol") and len(self.lists) > 1 else 2)
            elif tag in LINE or tag in CELLS:
                self._brk(1)
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if is_pre:
            self.in_pre -= 1
        if is_main:
            self.in_main -= 1

    def _emit_table(self) -> None:
        rows, header, caption, stray = self.table.finish()
        self.table = None
        placed = _tables.place(rows)
        built = _tables.flat(rows) if placed is None else _tables.build(placed, len(rows), header)
        for o in self._outs():
            if stray:
                o.brk(2)
                o.data(stray)
            o.table(built, caption)

    def _data_event(self, data):
        if self.in_title:
            self.title += data
            return
        if self.dropping:
            if self.forms:
                self.form_chars += len(data.strip())
            return
        if self.pre_fresh:
            self.pre_fresh = False
            if data.startswith("\n"):  # a newline right after <pre> is not content
                data = data[1:]
        self._data(data)

    def _drops(self, tag: str, attrs: dict) -> bool:
        if tag == "header" and self.containers:
            return False  # an article's own header: its title and byline
        if tag == "form" and not self.drop_forms:
            return False
        if tag in DROP:
            return True
        if attrs.get("role", "").lower() in DROP_ROLES:
            return True
        if ("hidden" in attrs and attrs["hidden"] != "until-found") or attrs.get("aria-hidden", "").lower() == "true":
            return True
        return bool(_HIDDEN_STYLE.search(attrs.get("style", "")))


_DIGITS = re.compile(r"\s*(\d+)")


def _span(value: str | None, zero: bool = False) -> int:
    """A colspan/rowspan as browsers read it: leading digits, else 1 (rowspan 0: to the end)."""
    m = _DIGITS.match(value or "")
    if not m:
        return 1
    n = int(m.group(1)[:6])
    return n if (n > 0 or zero) else 1


def _start(attrs: dict) -> int:
    try:
        return int(attrs.get("start", "1"))
    except ValueError:
        return 1
