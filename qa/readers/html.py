"""HTML: the main text of a page, with headings, readable line structure and its title.

Tokenised by libxml2's HTML parser (lxml, already there for python-docx) as a
stream of events, no tree: linear time on any input, tag soup repaired the way
browsers do (implied end tags), no network, no scripts, only HTML character
references expanded. The standard library's ``html.parser`` was the first
choice, but before CPython's 2025 security fixes (3.11.7 here) it is quadratic
on unclosed ``<`` constructs: 75 KB of ``if x<y then z.`` took 22 s.

Navigation, headers, footers, sidebars, forms, scripts, styles and hidden
elements are dropped; when the page marks its main content (``<main>``), only
that is kept. Text that *looks* like markup (``&lt;script&gt;`` in a code
sample) stays literal text.
"""

from __future__ import annotations

import codecs
import re

from lxml import etree

from ._base import Limits, Parsed, clean_text, one_line, truncate
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
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""")
_SPACES = re.compile(r"\s+")


def parse(data: bytes, name: str, limits: Limits) -> Parsed:
    text_in = decode_html(data, name)
    parser = _extract(text_in, drop_forms=True)
    if parser.form_chars > parser.all.length:
        # Some sites (ASP.NET WebForms) wrap the whole page in one <form>.
        parser = _extract(text_in, drop_forms=False)
    # The page's own <main>, unless it is a small part of what is left (then it is not the main text).
    out = parser.main if parser.main.length >= 0.2 * parser.all.length else parser.all
    text, headings = out.result()
    warnings = []
    text, cut = truncate(text, limits.max_chars)
    if cut:
        headings = [(o, h) for o, h in headings if o < len(text)]
        warnings.append(f"only the first {limits.max_chars:,} characters were read; the rest is not indexed")
    title = one_line(parser.title) if parser.title.strip() else None
    if not title:
        title = next((h for lvl, h in out.heading_levels if lvl == 1), None)
    return Parsed(text=text, title=title, headings=tuple(headings), warnings=tuple(warnings))


def _extract(text: str, drop_forms: bool) -> "_Extractor":
    extractor = _Extractor(drop_forms)
    parser = etree.HTMLParser(
        target=extractor, recover=True, no_network=True, remove_comments=True, remove_pis=True
    )
    parser.feed(text)
    parser.close()
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
    """Assembles text from the parser's events: spaces collapsed, block breaks merged, heading offsets kept."""

    def __init__(self):
        self.parts: list[str] = []
        self.length = 0
        self.trailing_newlines = 0  # at the end of what is written so far
        self.trailing_space = False
        self.pending = 0  # newlines wanted before the next text
        self.heading: list | None = None  # [level, start offset or None, [text parts]]
        self.headings: list[tuple[int, str]] = []
        self.heading_levels: list[tuple[int, str]] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def result(self) -> tuple[str, list[tuple[int, str]]]:
        text = "".join(self.parts)
        end = len(text.rstrip())
        return text[:end], [(o, h) for o, h in self.headings if o < end]

    def _write(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def _drop_trailing_space(self) -> None:
        if self.trailing_space and self.parts:
            self.parts[-1] = self.parts[-1][:-1]
            self.length -= 1
            self.trailing_space = False

    def brk(self, n: int) -> None:
        self.pending = max(self.pending, n)

    def newline(self) -> None:
        """A hard line break (``<br>``); at most one blank line in a row."""
        if self.length and self.trailing_newlines < 2:
            self._drop_trailing_space()
            self._write("\n")
            self.trailing_newlines += 1

    def data(self, s: str, pre: bool = False) -> None:
        if not pre:
            s = _SPACES.sub(" ", s)
            if not s or (s == " " and (self.trailing_space or self.trailing_newlines or not self.length or self.pending)):
                return
        elif not s:
            return
        if self.pending and self.length:
            self._drop_trailing_space()
            if self.pending > self.trailing_newlines:
                self._write("\n" * (self.pending - self.trailing_newlines))
                self.trailing_newlines = self.pending
        self.pending = 0
        if not pre and (self.trailing_newlines or not self.length or self.trailing_space):
            s = s.lstrip(" ")
            if not s:
                return
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

    def heading_start(self, level: int) -> None:
        self.brk(2)
        if self.heading is None:
            self.heading = [level, None, []]

    def heading_end(self) -> None:
        self.brk(2)
        if self.heading is None:
            return
        level, start, parts = self.heading
        self.heading = None
        name = one_line("".join(parts))
        if name and start is not None:
            self.headings.append((start, name))
            self.heading_levels.append((level, name))


class _Extractor:
    """The parser's target: start/end/data events in, text for :class:`_Out` out."""

    def __init__(self, drop_forms: bool = True):
        self.drop_forms = drop_forms
        self.all = _Out()
        self.main = _Out()
        self.title = ""
        self.stack: list[tuple] = []  # open elements: (tag, drops, is_main, is_pre, is_heading)
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
        self.rows: list[int] = []  # cells so far in the current row of each open table

    # -- where text goes
    def _outs(self):
        return (self.all, self.main) if self.in_main else (self.all,)

    def _brk(self, n: int) -> None:
        for o in self._outs():
            o.brk(n)

    def _data(self, s: str) -> None:
        for o in self._outs():
            o.data(s, pre=self.in_pre > 0)

    # -- parser events
    def start(self, tag, attrib):
        tag = tag.lower() if isinstance(tag, str) else ""
        attrs = {str(k).lower(): (v or "") for k, v in attrib.items()}
        if tag in VOID:
            if not self.dropping:
                if tag == "br":
                    for o in self._outs():
                        o.newline()
                elif tag == "hr":
                    self._brk(2)
            return
        if tag == "title" and not self.title_done and not any(e[0] in ("svg", "template") for e in self.stack):
            self.in_title = True
        drops = self._drops(tag, attrs)
        is_main = tag == "main" or attrs.get("role", "").lower() == "main"
        self.stack.append((tag, drops, is_main, tag == "pre", tag in HEADINGS))
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
        if tag in PARAGRAPH:
            self._brk(1 if tag in ("ul", "ol") and self.lists else 2)
        elif tag in LINE:
            self._brk(1)
        if tag in HEADINGS:
            for o in self._outs():
                o.heading_start(HEADINGS[tag])
        elif tag in ("ul", "ol"):
            self.lists.append([tag == "ol", _start(attrs)])
        elif tag == "li":
            if self.lists and self.lists[-1][0]:
                self._data(f"{self.lists[-1][1]}. ")
                self.lists[-1][1] += 1
            else:
                self._data("- ")
        elif tag == "table":
            self.rows.append(0)
        elif tag == "tr" and self.rows:
            self.rows[-1] = 0
        elif tag in ("td", "th") and self.rows:
            if self.rows[-1]:
                self._data(" | ")
            self.rows[-1] += 1

    def end(self, tag):
        tag = tag.lower() if isinstance(tag, str) else ""
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

    def close(self):
        while self.stack:
            self._close(self.stack.pop())
        return self

    def _close(self, entry) -> None:
        tag, drops, is_main, is_pre, is_heading = entry
        if tag in ("article", "main"):
            self.containers -= 1
        if drops:
            self.dropping -= 1
            self.forms -= tag == "form"
            return
        if self.dropping:
            return
        if is_heading:
            for o in self._outs():
                o.heading_end()
        if tag in PARAGRAPH:
            self._brk(1 if tag in ("ul", "ol") and len(self.lists) > 1 else 2)
        elif tag in LINE:
            self._brk(1)
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "table" and self.rows:
            self.rows.pop()
        if is_pre:
            self.in_pre -= 1
        if is_main:
            self.in_main -= 1

    def data(self, data):
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


def _start(attrs: dict) -> int:
    try:
        return int(attrs.get("start", "1"))
    except ValueError:
        return 1
