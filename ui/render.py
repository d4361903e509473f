"""Pure HTML for the chat: an :class:`qa.Answer` in, one chat message out.

Everything taken from a document, a file name or the question goes through
:func:`esc`, so a document holding ``<script>`` or a ``javascript:`` link shows
as text and never runs. Gradio sanitizes chat HTML as well; escaping here
means we do not depend on it.
"""

from __future__ import annotations

from typing import Sequence

import qa
from qa.types import CELL_SEP, split_head

NOT_FOUND = "The documents do not seem to answer this question."
CLOSEST_HEADING = "Closest passages (not an answer)"
EMPTY_QUESTION = (
    "Please type a question about the documents, for example: "
    "<em>Who ordered the strike on Israel?</em>"
)
# Rows of the documents table; `qa list` shows every document.
DOCUMENT_ROWS = 200
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
        f'<p class="qa-cite"><strong>{esc(h.citation.label)}</strong>'
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
        quoted = " ".join(f"{quote_html(q)} <strong>{esc(f'[{q.number}]')}</strong>" for q in ans.quotes)
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


def documents_html(docs: Sequence, limit: int = DOCUMENT_ROWS) -> str:
    """The indexed documents as a table: the ingestion report of each (format,
    pages, passages, characters, warnings such as pages without text).

    At most ``limit`` rows: the table is sent with every page load, and ten
    thousand documents made it 1.6 MB (and 0.2 s of the chat's start-up)."""
    if not docs:
        return "<p>No documents yet: add some with the upload box above.</p>"
    rows = []
    passages = sum(len(d.passage_ids) for d in docs)
    summary = esc(f"{len(docs):,} document{'s' if len(docs) != 1 else ''}, {passages:,} passage{'s' if passages != 1 else ''}")
    if len(docs) > limit:
        summary += f"; the first {limit:,} are listed (<code>qa list</code> lists them all)"
    for d in docs[:limit]:
        fmt = esc(getattr(d, "format", "text")) + (f", {d.pages} pages" if getattr(d, "pages", 0) else "")
        warnings = "".join(f'<div class="qa-warn">{esc(w)}</div>' for w in getattr(d, "warnings", []))
        rows.append(
            f"<tr><td>{esc(d.title)}{warnings}</td><td><code>{esc(d.source or d.doc_id)}</code></td>"
            f'<td>{fmt}</td><td class="num">{len(d.passage_ids)}</td><td class="num">{d.chars:,}</td></tr>'
        )
    return (
        f'<p class="qa-note">{summary}</p><table class="qa-docs"><thead><tr><th>Title</th><th>File</th><th>Format</th><th>Passages</th>'
        f"<th>Characters</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
