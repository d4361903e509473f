"""A conversation as Markdown, with the citations of every answer: what "Export" downloads.

Pure: turns (question, qa.Answer or None, message) in, text out. Document text
is quoted as it is, one line per quote (line breaks folded), so a quote cannot
start a heading or a list of its own in the file.
"""

from __future__ import annotations

import time
from typing import Sequence

import qa

NOT_FOUND = "The documents do not seem to answer this question."


def _line(text: str) -> str:
    return " ".join(str(text).split())


def conversation_markdown(turns: Sequence[tuple], when: float | None = None) -> str:
    """``turns``: (question, answer or None, message shown instead of an answer)."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() if when is None else when))
    out = [f"# docqa conversation, {stamp}", ""]
    if not turns:
        out.append("(no questions asked yet)")
    for n, (question, answer, message) in enumerate(turns, start=1):
        out += [f"## {n}. {_line(question)}", ""]
        if answer is None:
            out += [_line(message) or "(no answer)", ""]
            continue
        if answer.query and answer.query != answer.question:
            out += [f"*Read as a follow-up; searched for: {_line(answer.query)}*", ""]
        if answer.found and answer.quotes:
            out.append("Answer, quoted from the documents:")
            out.append("")
            for q in answer.quotes:
                text = f"{q.cell} ({q.text})" if q.cell else q.text
                out.append(f"> {_line(text)} [{q.number}]")
            out.append("")
        else:
            out += [f"**{NOT_FOUND}**", ""]
        out += [f"*{_line(note)}*" for note in answer.notes]
        if answer.notes:
            out.append("")
        if answer.hits:
            out.append("Citations:" if answer.found else "Closest passages (not an answer):")
            out.append("")
            for h in answer.hits:
                out.append(_citation(h))
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _citation(h: qa.Hit) -> str:
    c, ev = h.citation, h.evidence
    line = f"- {_line(c.label)}, characters {c.start}-{c.end}"
    if ev.end > ev.start:
        line += f"; the sentence at {ev.start}-{ev.end}: “{_line(ev.text)}”"
    return line
