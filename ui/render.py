"""Pure HTML for the chat: an :class:`qa.Answer` in, one chat message out.

Everything taken from a document, a file name or the question goes through
:func:`esc`, so a document holding ``<script>`` or a ``javascript:`` link shows
as text and never runs. Gradio sanitizes chat HTML as well; escaping here
means we do not depend on it.
"""

from __future__ import annotations

import base64
import time
from typing import Sequence

import qa
from qa.types import CELL_SEP, split_head

NOT_FOUND = "The documents do not seem to answer this question."
CLOSEST_HEADING = "Closest passages (not an answer)"
EMPTY_QUESTION = (
    "Please type a question about the documents, for example: "
    "<em>Who ordered the strike on Israel?</em>"
)
# Rows on one page of the documents panel (it is searched and paged on the server).
DOCUMENT_ROWS = 50
GENERIC_ERROR = "Something went wrong while answering. The details are in the server log."

# HTML's special characters, plus those that Markdown (or the chat's LaTeX and
# autolink passes) would turn into formatting or links. As numeric entities
# they display unchanged but form no tag, `[text](url)`, `*emphasis*`,
# `$$math$$` or `http:` link. One table, so no entity is escaped twice.
_ESCAPES = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+!|~$:"})


def esc(text: str) -> str:
    """``text`` as inert HTML: tags, quotes and Markdown syntax escaped, newlines as ``<br>``."""
    escaped = str(text).translate(_ESCAPES)
    # No raw newlines: the reply stays one HTML block, which Markdown passes through as is.
    return escaped.replace("\r\n", "\n").replace("\n", "<br>")


def source_key(doc_id: str, start: int, end: int) -> str:
    """What a citation link carries to the source viewer: the document id (hex) and the cited
    span; only hex digits and dots, so no escaping or sanitizer can change it."""
    return f"{doc_id.encode('utf-8').hex()}.{int(start)}.{int(end)}"


def parse_source_key(key: str) -> tuple[str, int, int] | None:
    """(doc id, start, end) of a :func:`source_key`, None when ``key`` is not one. A key sent back
    by the page may carry a click counter after a third dot (ignored)."""
    parts = str(key).split(".")
    if len(parts) < 3:
        return None
    try:
        return bytes.fromhex(parts[0]).decode("utf-8"), int(parts[1]), int(parts[2])
    except ValueError:
        return None


def parse_doc_key(key: str) -> str | None:
    """The document id of a remove link's key (hex id, then an optional click counter after a dot)."""
    try:
        return bytes.fromhex(str(key).split(".")[0]).decode("utf-8") or None
    except ValueError:
        return None


def cite_link(label: str, doc_id: str, start: int, end: int) -> str:
    """``label`` as a link that opens the cited place in the source viewer."""
    return (f'<a class="qa-src" href="#src={source_key(doc_id, start, end)}" '
            f'title="Show this in its document">{esc(label)}</a>')


def table_html(p: qa.Passage, a: int, b: int) -> str:
    """The rows of a table passage as an HTML table under its header rows,
    the row holding the evidence (passage offsets ``a``-``b``) marked; "" when
    the passage is not rows of cells (then it is shown as text)."""
    header = split_head(p.head)[1]
    rows, pos = [], 0
    for line in p.text.split("\n"):
        end = pos + len(line)
        if line.strip():
            rows.append((line.split(CELL_SEP), pos < b and a < end))
        pos = end + 1
    if not rows or not any(len(cells) > 1 for cells, _ in rows):
        return ""
    out = ['<table class="qa-table">']
    if header:
        out.append("<thead>" + "".join(
            "<tr>" + "".join(f"<th>{esc(c.strip())}</th>" for c in cells) + "</tr>" for cells in header
        ) + "</thead>")
    out.append("<tbody>")
    for cells, marked in rows:
        cls = ' class="qa-row"' if marked else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{esc(c.strip())}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def passage_html(h: qa.Hit) -> str:
    """One hit: citation label, character span, passage text with the evidence marked, and why it ranked."""
    p, ev, why = h.passage, h.evidence, h.explanation
    # Evidence offsets are document offsets; shift them into the passage text.
    a = max(0, min(len(p.text), ev.start - p.start))
    b = max(a, min(len(p.text), ev.end - p.start))
    table = table_html(p, a, b) if p.head else ""
    if table:
        body = table
    elif b > a:
        body = f"{esc(p.text[:a])}<mark>{esc(p.text[a:b])}</mark>{esc(p.text[b:])}"
    else:
        body = esc(p.text)
    terms = ", ".join(why.matched_terms) or "none"
    title = f" · <em>{esc(p.title)}</em>" if p.title else ""
    # A table's caption is shown above its rows (it is not part of the
    # passage's span, so citation offsets stay exact); its header rows are the
    # table's header.
    caption = split_head(p.head)[0]
    head = f'<p class="qa-head">{esc(caption)}</p>' if caption else ""
    return (
        '<div class="qa-hit">'
        f'<p class="qa-cite"><strong>{cite_link(h.citation.label, p.doc_id, *_cited(h))}</strong>'
        f" · chars {p.start}–{p.end}{title}</p>"
        f"{head}"
        + (body if table else f'<p class="qa-text">{body}</p>')
        + "<details><summary>Why this passage</summary><ul>"
        f"<li>dense (meaning) score: {why.dense:.3f}</li>"
        f"<li>best sentence's dense score: {why.sentence:.3f}</li>"
        f"<li>lexical (BM25) score: {why.lexical:.3f}</li>"
        f"<li>fused score: {why.fused:.3f}</li>"
        f"<li>matched terms: {esc(terms)}</li>"
        "</ul></details></div>"
    )


def _cited(h: qa.Hit) -> tuple[int, int]:
    """The span a hit's citation opens: its evidence sentence, or the passage when it has none."""
    ev = h.evidence
    return (ev.start, ev.end) if ev.end > ev.start else (h.passage.start, h.passage.end)


def quote_html(q: qa.Quote) -> str:
    """One quote of the short answer. A table row's cell comes first
    ("Millport, Yachts: 447"), the whole row after it: the column is picked
    by its header's words, and the row lets a reader check the pick."""
    if q.cell:
        return f'{esc(q.cell)} <span class="qa-row-text">({esc(q.text)})</span>'
    return esc(q.text)


def answer_html(ans: qa.Answer) -> str:
    """The whole chat reply for ``ans``: short answer, then the passages it came from."""
    parts = ['<div class="qa-reply">']
    if ans.query and ans.query != ans.question:
        # Say so when earlier turns shaped the search, so a surprising hit can be understood.
        parts.append(f'<p class="qa-note">Read as a follow-up; searched for: {esc(ans.query)}</p>')
    if ans.found:
        quoted = " ".join(f"{quote_html(q)} <strong>{cite_link(f'[{q.number}]', q.doc_id, q.start, q.end)}</strong>"
                          for q in ans.quotes)
        parts.append(f'<p class="qa-lead">Answer, quoted from the documents:</p><blockquote class="qa-short">{quoted}</blockquote>')
        heading = "Passages"
    else:
        parts.append(f'<p class="qa-notfound"><strong>{esc(NOT_FOUND)}</strong></p>')
        if not ans.hits:
            parts.append(f'<p class="qa-note">{esc(ans.message)}</p>')
        heading = CLOSEST_HEADING
    for note in ans.notes:
        parts.append(f'<p class="qa-note">{esc(note)}</p>')
    if ans.hits:
        parts.append(f"<h4>{esc(heading)}</h4>")
        parts.extend(passage_html(h) for h in ans.hits)
    parts.append("</div>")
    return "".join(parts)


def message_html(text: str, kind: str = "note") -> str:
    """A reply that is only a message (empty question, an error); ``text`` is trusted HTML."""
    return f'<div class="qa-reply qa-{kind}"><p>{text}</p></div>'


SORTS = {
    "name": "Name",
    "date": "Newest first",
    "passages": "Most passages",
    "format": "Format",
}


def _modified_ns(d) -> int:
    stat = getattr(d, "file_stat", None) or []
    return int(stat[1]) if len(stat) > 1 else 0


def select_documents(docs: Sequence, query: str = "", sort: str = "name", page: int = 1,
                     per_page: int = DOCUMENT_ROWS) -> tuple[list, int, int, int]:
    """(the documents on page ``page``, that page, the number of pages, how many matched).

    A document matches when every word of ``query`` is in its id, title or
    format (case aside); ``sort`` is a key of :data:`SORTS` (by name otherwise).
    """
    words = str(query or "").lower().split()
    found = [d for d in docs if all(w in f"{d.doc_id} {d.title} {getattr(d, 'format', '')}".lower() for w in words)]
    name = lambda d: (str(d.title or d.doc_id).lower(), d.doc_id)  # noqa: E731
    if sort == "date":
        found.sort(key=lambda d: (-_modified_ns(d), name(d)))
    elif sort == "passages":
        found.sort(key=lambda d: (-len(d.passage_ids), name(d)))
    elif sort == "format":
        found.sort(key=lambda d: (getattr(d, "format", ""), name(d)))
    else:
        found.sort(key=name)
    pages = max(1, -(-len(found) // per_page))
    page = min(max(1, int(page or 1)), pages)
    return found[(page - 1) * per_page: page * per_page], page, pages, len(found)


def _details(d) -> str:
    """A document's ingestion report, folded: id, pages, OCR'd pages, tables, warnings."""
    items = [f"<li>id: <code>{esc(d.doc_id)}</code></li>"]
    if getattr(d, "pages", 0):
        items.append(f"<li>{d.pages} page{'s' if d.pages != 1 else ''}</li>")
    ocr = getattr(d, "ocr_pages", None) or []
    if ocr:
        mean = sum(float(c) for _, c in ocr) / len(ocr)
        items.append(f"<li>read by OCR: {len(ocr)} page{'s' if len(ocr) != 1 else ''} "
                     f"(mean confidence {mean:.0%})</li>")
    if getattr(d, "tables", 0):
        items.append(f"<li>{d.tables} table{'s' if d.tables != 1 else ''}</li>")
    items.append(f"<li>{d.chars:,} characters</li>")
    items += [f'<li class="qa-warn">{esc(w)}</li>' for w in getattr(d, "warnings", [])]
    return f"<details><summary>details</summary><ul>{''.join(items)}</ul></details>"


def documents_html(docs: Sequence, refused: Sequence = (), query: str = "", sort: str = "name", page: int = 1,
                   removable: bool = False, per_page: int = DOCUMENT_ROWS) -> str:
    """The documents panel: files refused and why, then one page of the documents (matching
    ``query``, sorted by ``sort``) with each one's ingestion report; with ``removable``, a
    remove link per document (ui/app.py asks before it removes)."""
    parts = []
    if refused:
        items = "".join(f"<li><code>{esc(r.doc_id)}</code>: {esc(r.reason)}</li>" for r in refused)
        parts.append(f'<details class="qa-refused" open><summary>{len(refused):,} file'
                     f'{"s" if len(refused) != 1 else ""} refused</summary><ul>{items}</ul></details>')
    if not docs:
        parts.append("<p>No documents yet: add some with the upload box above.</p>")
        return "".join(parts)
    shown, page, pages, matched = select_documents(docs, query, sort, page, per_page)
    passages = sum(len(d.passage_ids) for d in docs)
    summary = f"{len(docs):,} document{'s' if len(docs) != 1 else ''}, {passages:,} passage{'s' if passages != 1 else ''}"
    if str(query or "").strip():
        summary += f"; {matched:,} match{'es' if matched != 1 else ''} “{query.strip()}”"
    if pages > 1:
        summary += f"; page {page} of {pages}"
    rows = []
    for d in shown:
        fmt = esc(getattr(d, "format", "text")) + (f", {d.pages} pages" if getattr(d, "pages", 0) else "")
        warnings = "".join(f'<div class="qa-warn">{esc(w)}</div>' for w in getattr(d, "warnings", []))
        ns = _modified_ns(d)
        date = time.strftime("%Y-%m-%d", time.localtime(ns / 1e9)) if ns else ""
        remove = (f' <a class="qa-rm" href="#rm={d.doc_id.encode("utf-8").hex()}" title="Remove this document">'
                  "remove</a>" if removable else "")
        rows.append(
            f"<tr><td>{esc(d.title)}{warnings}{_details(d)}</td><td><code>{esc(d.source or d.doc_id)}</code>{remove}</td>"
            f'<td>{fmt}</td><td class="num">{len(d.passage_ids)}</td><td>{esc(date)}</td></tr>'
        )
    parts.append(
        f'<p class="qa-note" id="documents-summary">{esc(summary)}</p><table class="qa-docs"><thead><tr><th>Title</th>'
        f"<th>File</th><th>Format</th><th>Passages</th><th>Modified</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return "".join(parts)


def _pct(value: float, whole: float) -> str:
    return f"{100.0 * value / whole:.3f}%" if whole else "0%"


def source_html(view, download: str = "") -> str:
    """The source viewer's HTML for a :class:`qa.SourceView`: the page image with the sentence's
    boxes over it (as percentages, so they follow the image's size), or the text around the
    passage with line numbers, the passage shaded and the sentence marked; ``download``: a link
    to the original file ("" for none)."""
    where = f"page {view.page} of {view.pages}" if view.kind == "page" else (
        f"line {view.first_line + view.text[:view.span[0]].count(chr(10))}")
    parts = [f'<div class="qa-source" data-kind="{esc(view.kind)}">',
             f'<p class="qa-cite"><strong>{esc(view.source)}</strong> · {esc(where)}'
             + (f" · <em>{esc(view.title)}</em>" if view.title else "") + "</p>"]
    if view.note:
        parts.append(f'<p class="qa-note">{esc(view.note)}</p>')
    if view.kind == "page":
        w, h = view.page_size
        parts.append('<div class="qa-page">')
        parts.append(f'<img alt="{esc(f"page {view.page}")}" src="data:image/png;base64,'
                     f'{base64.b64encode(view.image).decode("ascii")}">')
        for cls, rects in (("qa-shade", view.shaded), ("qa-hl", view.highlight)):
            for r in rects:
                parts.append(f'<div class="{cls}" style="left:{_pct(r.x0, w)};top:{_pct(r.top, h)};'
                             f'width:{_pct(r.x1 - r.x0, w)};height:{_pct(r.bottom - r.top, h)}"></div>')
        parts.append("</div>")
    else:
        parts.append('<div class="qa-lines">' + _numbered(view) + "</div>")
    if download:
        # The link is ours (ui/originals.py: a token and the quoted file name), not the document's.
        parts.append(f'<p class="qa-download"><a href="{download}" download>Download the original file</a></p>')
    parts.append("</div>")
    return "".join(parts)


def _numbered(view) -> str:
    """The text view's lines, numbered, with the passage and the sentence marked."""
    text, (a, b), (c, d) = view.text, view.span, view.context
    cuts = sorted({0, len(text), *(x for x in (a, b, c, d) if 0 <= x <= len(text))})
    out, line = [], view.first_line
    row = [f'<span class="qa-ln">{line}</span>']
    for lo, hi in zip(cuts, cuts[1:]):
        cls = "qa-hl-text" if a <= lo and hi <= b and b > a else ("qa-ctx" if c <= lo and hi <= d else "")
        for k, piece in enumerate(text[lo:hi].split("\n")):
            if k:
                out.append('<div class="qa-line">' + "".join(row) + "</div>")
                line += 1
                row = [f'<span class="qa-ln">{line}</span>']
            if piece:
                body = piece.translate(_ESCAPES)
                row.append(f'<mark class="{cls}">{body}</mark>' if cls else f"<span>{body}</span>")
    out.append('<div class="qa-line">' + "".join(row) + "</div>")
    return "".join(out)


def writing_html(raw: str) -> str:
    """A written answer while the model writes it: plainly marked as not checked yet."""
    return ('<div class="qa-written qa-pending"><p class="qa-note">Being written by the model; not checked '
            f"yet:</p><p>{esc(raw)}</p></div>")


def written_html(w) -> str:
    """A :class:`qa.WrittenAnswer`: its verified sentences, each linked to the sentence that
    supports it; why there is none, or what was left out and why."""
    parts = ['<div class="qa-written">']
    if w.verified:
        who = f" ({esc(w.model)})" if w.model else ""
        parts.append(f'<p class="qa-lead">Written by the model{who}, every sentence checked against what it cites:</p>')
        out = []
        for s in w.verified:
            links = "".join(cite_link(f"[{n}]", doc, a, b) for n, doc, a, b, _ in s.support)
            marks = "".join(f"[{m}]" for m in s.marks if m not in {n for n, *_ in s.support})
            out.append(f"{esc(s.text)} <strong>{links}{esc(marks)}</strong>")
        parts.append(f'<blockquote class="qa-short">{" ".join(out)}</blockquote>')
    if w.note:
        parts.append(f'<p class="qa-note">{esc(w.note)}</p>')
    gone = [s for s in w.sentences if s.verdict != "verified"]
    if gone:
        items = "".join(f"<li>{esc(s.text)} <em>({esc(s.reason)})</em></li>" for s in gone)
        parts.append(f"<details><summary>Left out ({len(gone)})</summary><ul>{items}</ul></details>")
    parts.append("</div>")
    return "".join(parts)
