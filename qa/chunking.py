"""Pure text chunking: sentences, then passages that fit the model's window.

No model and no I/O here: the token counter is passed in, so tests can use a
word counter and production the model's own tokenizer. Every span is a pair of
character offsets into the input text, and ``text[start:end]`` is the span's text.
"""

from __future__ import annotations

import re
from typing import Callable

from .types import Chunk

TokenCounter = Callable[[str], int]

# A sentence ends at . ! ? (or …) plus closing quotes/brackets, before whitespace.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")
# Words that end in a period but rarely end a sentence.
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e",
    "u.s", "u.k", "no", "fig", "al", "inc", "ltd", "co", "corp", "gen", "col",
    "lt", "sgt", "capt", "gov", "sen", "rep", "rev", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "dept",
}
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_LINE = re.compile(r"\n")
# A line that is a heading or list item stands alone even without a blank line.
_BLOCK_START = re.compile(r"[ \t]*(#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, whitespace trimmed, in order, never overlapping.

    Blank lines always end a sentence; a single line break ends one when the
    next line starts a heading or list item, or the line itself has no final
    punctuation and is short (a title). Otherwise a line break is a soft wrap.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        _split_block(text, block_start, block_end, spans)
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph-like blocks: split at blank lines and at hard line breaks."""
    cuts = [0]
    for m in _PARAGRAPH.finditer(text):
        cuts += [m.start(), m.end()]
    for m in _LINE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line = text[line_start : m.start()].strip()
        nxt = text[m.end() : text.find("\n", m.end()) if "\n" in text[m.end() :] else len(text)]
        hard = (
            _BLOCK_START.match(nxt) is not None
            or _BLOCK_START.match(line) is not None
            or (line and len(line) < 60 and line[-1] not in ".,;:!?…" and not nxt.startswith((" ", "\t")))
            or (line.endswith((".", "!", "?", "…", '"', "”")) and nxt[:1].isupper())
            or not line
        )
        if hard:
            cuts += [m.start(), m.end()]
    cuts.append(len(text))
    cuts = sorted(set(cuts))
    blocks = []
    for a, b in zip(cuts, cuts[1:]):
        a, b = _trim(text, a, b)
        if a < b:
            blocks.append((a, b))
    return blocks


def _split_block(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    pos = start
    for m in _END.finditer(text, start, end):
        stop = m.end()
        word = text[text.rfind(" ", pos, m.start()) + 1 : m.start()].lower().lstrip("(\"'“‘")
        if text[m.start()] == "." and len(text[m.start():stop]) == 1:
            # "Dr." or "e.g." or a single initial ("J. Smith") does not end a sentence.
            if word in _ABBREV or (len(word) == 1 and word.isalpha()):
                continue
            nxt = text[stop:end].lstrip()[:1]
            if nxt and nxt.islower():
                continue
        a, b = _trim(text, pos, stop)
        if a < b:
            out.append((a, b))
        pos = stop
    a, b = _trim(text, pos, end)
    if a < b:
        out.append((a, b))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def fit_span(text: str, start: int, end: int, max_tokens: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut one span into consecutive pieces of at most ``max_tokens`` tokens.

    Cuts at whitespace where possible (binary search on word boundaries), and
    inside a word only when a single word is longer than the budget.
    """
    pieces = []
    while start < end:
        if count(text[start:end]) <= max_tokens:
            pieces.append((start, end))
            break
        bounds = [m.start() for m in re.finditer(r"\s+", text[start:end])]
        cut = _longest_fit(text, start, [start + b for b in bounds if b > 0], max_tokens, count)
        if cut is None:  # one huge word: cut by characters
            cut = _longest_fit(text, start, list(range(start + 1, end)), max_tokens, count)
            cut = cut or start + 1
        a, b = _trim(text, start, cut)
        if a < b:
            pieces.append((a, b))
        start, _ = _trim(text, cut, end)
    return pieces


def _longest_fit(text, start, cuts, max_tokens, count):
    """The largest cut in ``cuts`` with ``text[start:cut]`` within budget, or None."""
    lo, hi, best = 0, len(cuts) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if count(text[start : cuts[mid]]) <= max_tokens:
            best, lo = cuts[mid], mid + 1
        else:
            hi = mid - 1
    return best


def chunk_text(
    text: str,
    max_tokens: int,
    overlap_tokens: int,
    count: TokenCounter,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_tokens`` tokens.

    Consecutive chunks share their boundary sentences, up to ``overlap_tokens``
    tokens of them, so an answer that straddles a boundary is whole in one chunk.
    A sentence longer than the budget is cut into pieces that fit.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    count = _remembering(count)  # fit_span counts each sentence; the sizes below ask again
    sentences: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        sentences += fit_span(text, s, e, max_tokens, count)
    sizes = [count(text[s:e]) for s, e in sentences]

    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, used = i, 0
        while j < len(sentences) and (j == i or used + sizes[j] <= max_tokens):
            used += sizes[j]
            j += 1
        # The join of sentences can tokenise to a little more than the sum of
        # the parts (whitespace between them), so check the real span too, and
        # give back sentences from the end until it fits. (Once per chunk, not
        # once per sentence: counting is most of the chunker's time.)
        while j - 1 > i and count(text[sentences[i][0] : sentences[j - 1][1]]) > max_tokens:
            j -= 1
        start, end = sentences[i][0], sentences[j - 1][1]
        chunks.append(Chunk(start, end, text[start:end], tuple(sentences[i:j])))
        if j >= len(sentences):
            break
        # Step back over trailing sentences that fit the overlap budget, but
        # always advance at least one sentence so the loop ends.
        back, kept = j, 0
        while back - 1 > i and kept + sizes[back - 1] <= overlap_tokens:
            back -= 1
            kept += sizes[back]
        i = back
    return chunks


def _remembering(count: TokenCounter) -> TokenCounter:
    """``count`` with its answers kept for the length of one chunk_text call."""
    known: dict[str, int] = {}

    def counted(text: str) -> int:
        if text not in known:
            known[text] = count(text)
        return known[text]

    return counted


def line_number(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1
