"""Pure text chunking: sentences, then passages that fit the model's window.

No model and no I/O here: the token counter is passed in, so tests can use a
word counter and production the model's own tokenizer. Every span is a pair of
character offsets into the input text, and ``text[start:end]`` is the span's text.

The work is linear in the text (n log n at worst): every scan moves forward,
and the token counter only ever sees spans of at most ``max_chars(max_tokens)``
characters, so hostile input (one endless line, one 5 MB "word", a million
``#`` or newlines) costs time in proportion to its size.
"""

from __future__ import annotations

import bisect
import re
from collections import deque
from typing import Callable

from .types import Chunk

TokenCounter = Callable[[str], int]

# The character cap per piece and per chunk, per token of budget: what bounds
# a passage, and the text the counter is given, when the counter cannot. BERT
# WordPiece reads at most 100 characters as one word (a longer run without
# spaces or punctuation is a single [UNK], however long), so more than 100
# characters a token takes runs of such [UNK]s or of blank space. Ordinary
# passages stay far below: at most 8.7 with the model's tokenizer and 36 with a
# whitespace word counter (URL-heavy Markdown) in the SQuAD, SciFact, seed and
# Markdown texts the chunker was checked on.
CHARS_PER_TOKEN = 100

# A sentence ends at . ! ? (or …) plus closing quotes/brackets, before whitespace.
# The lookbehind starts a match only at the first mark of a run: a match cannot
# start later in the run, and without it a run of a million dots followed by no
# whitespace is retried from each of its dots.
_END = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s)")
# Words that end in a period but rarely end a sentence.
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e",
    "u.s", "u.k", "no", "fig", "al", "inc", "ltd", "co", "corp", "gen", "col",
    "lt", "sgt", "capt", "gov", "sen", "rep", "rev", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "dept",
}
_ABBREV_CHARS = max(map(len, _ABBREV))
# Opening quotes and brackets that do not belong to the word before a period.
_OPENERS = re.compile(r"[(\"'“‘]*")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SPACES = re.compile(r"\s+")
_NONSPACE = re.compile(r"\S")
# A line that is a heading or list item stands alone even without a blank line.
_BLOCK_START = re.compile(r"[ \t]*(#{1,6}\s|[-*+•]\s|\d{1,3}[.)]\s|>)")


def max_chars(max_tokens: int) -> int:
    """The most characters a piece or chunk of ``max_tokens`` tokens may span."""
    return max_tokens * CHARS_PER_TOKEN


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of ``text``, whitespace trimmed, in order, never overlapping.

    Blank lines always end a sentence; a single line break ends one when the
    next line starts a heading or list item, or the line itself has no final
    punctuation and is short (a title). Otherwise a line break is a soft wrap.
    """
    spans: list[tuple[int, int]] = []
    text_openers = _OPENERS.match(text).end()
    for block_start, block_end in _blocks(text):
        if _END.search(text, block_start, block_end) is None:
            spans.append((block_start, block_end))  # a block is trimmed already
        else:
            _split_block(text, block_start, block_end, text_openers, spans)
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraph-like blocks: split at blank lines and at hard line breaks.

    One pass over the newlines, each looked at once with the line before it
    and the line after it; the newlines inside a blank-line break need no look
    (the break is blank space either way), so a million of them cost one match.
    """
    paragraphs = _PARAGRAPH.finditer(text)
    paragraph = next(paragraphs, None)
    blocks, block_start = [], 0
    line_start, newline = 0, text.find("\n")
    while newline >= 0:
        if paragraph is not None and paragraph.start() <= newline:
            cut_start, cut_end = paragraph.span()
            paragraph = next(paragraphs, None)
            line_start, next_newline = text.rfind("\n", cut_start, cut_end) + 1, text.find("\n", cut_end)
        else:
            cut_start, cut_end = newline, newline + 1
            next_newline = text.find("\n", cut_end)
            line = text[line_start:newline].strip()
            line_start = cut_end
            if not _hard_break(text, line, cut_end, len(text) if next_newline < 0 else next_newline):
                newline = next_newline
                continue
        a, b = _trim(text, block_start, cut_start)
        if a < b:
            blocks.append((a, b))
        block_start, newline = cut_end, next_newline
    a, b = _trim(text, block_start, len(text))
    if a < b:
        blocks.append((a, b))
    return blocks


def _hard_break(text: str, line: str, next_start: int, next_end: int) -> bool:
    """Whether the newline between ``line`` (stripped) and the next line,
    ``text[next_start:next_end]``, ends a block rather than wrapping it."""
    return (
        not line
        or (len(line) < 60 and line[-1] not in ".,;:!?…" and not text.startswith((" ", "\t"), next_start, next_end))
        or (line.endswith((".", "!", "?", "…", '"', "”")) and next_start < next_end and text[next_start].isupper())
        or _BLOCK_START.match(line) is not None
        or _BLOCK_START.match(text, next_start, next_end) is not None
    )


def _split_block(text: str, start: int, end: int, text_openers: int, out: list[tuple[int, int]]) -> None:
    """Append the sentences of one block to ``out``.

    The word before a period runs from the last space after the sentence's
    start, or from the start of the text when there is none. That last space
    is tracked as the matches go by (spaces never fall inside a match), so no
    stretch of the block is scanned twice.
    """
    pos = start
    space, scanned = -1, start
    openers = (-1, -1)  # (word start, end of the opening quotes there), reused while the word start stays
    for m in _END.finditer(text, start, end):
        mark, stop = m.span()
        found = text.rfind(" ", scanned, mark)
        if found >= 0:
            space = found
        scanned = stop
        if text[mark] == "." and stop - mark == 1:
            if space >= pos:
                if openers[0] != space + 1:
                    openers = (space + 1, _OPENERS.match(text, space + 1, mark).end())
                word_start = openers[1]
            else:
                word_start = min(text_openers, mark)
            # "Dr." or "e.g." or a single initial ("J. Smith") does not end a sentence.
            if _is_abbreviation(text, word_start, mark):
                continue
            nxt = _NONSPACE.search(text, stop, end)
            if nxt and text[nxt.start()].islower():
                continue
        a, b = _trim(text, pos, stop)
        if a < b:
            out.append((a, b))
        pos = stop
    a, b = _trim(text, pos, end)
    if a < b:
        out.append((a, b))


def _is_abbreviation(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (opening quotes already skipped) is a known
    abbreviation or a single letter. Lowercasing never shortens a string, so a
    word longer than the longest abbreviation is not one, and is not copied."""
    if end - start > _ABBREV_CHARS:
        return False
    word = text[start:end].lower()
    return word in _ABBREV or (len(word) == 1 and word.isalpha())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    start = _skip_space(text, start, end)
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _skip_space(text: str, start: int, end: int) -> int:
    """The first non-space offset in ``[start, end)``, else ``end``."""
    m = _NONSPACE.search(text, start, end)
    return m.start() if m else end


def fit_span(text: str, start: int, end: int, max_tokens: int, count: TokenCounter) -> list[tuple[int, int]]:
    """Cut one span into consecutive pieces of at most ``max_tokens`` tokens
    and at most ``max_chars(max_tokens)`` characters.

    Cuts at whitespace where possible (the longest prefix that fits, found by
    galloping then bisecting over word boundaries), and inside a word only
    when a single word is longer than the budget.
    """
    return [(a, b) for a, b, _ in _fit(text, start, end, max_tokens, count)]


def _fit(text: str, start: int, end: int, max_tokens: int, count: TokenCounter) -> list[tuple[int, int, int]]:
    """:func:`fit_span`'s pieces, each with its token count."""
    limit = max_chars(max_tokens)
    pieces = []
    words = _WordStarts(text, start, end)
    while start < end:
        if end - start <= limit:
            n = count(text[start:end])
            if n <= max_tokens:
                pieces.append((start, end, n))
                break
        window = min(end, start + limit + 1)  # a cut at start + limit is still allowed
        counted: dict[int, int] = {}  # this piece's probes only

        def fits(cut: int) -> bool:
            if cut - start > limit:
                return False
            counted[cut] = count(text[start:cut])
            return counted[cut] <= max_tokens

        words.skip_to(start)
        cut = _longest_fit(lambda i: words.get(i, window), fits)
        if cut is None:  # one huge word: cut by characters
            cut = _longest_fit(lambda i: start + 1 + i if start + 1 + i < window else None, fits) or start + 1
        a, b = _trim(text, start, cut)
        if a < b:
            n = counted[cut] if (a, b) == (start, cut) and cut in counted else count(text[a:b])
            pieces.append((a, b, n))
        start = _skip_space(text, cut, end)
    return pieces


class _WordStarts:
    """The word boundaries of one span (where each run of whitespace begins),
    read from the text only as far as a search asks: one forward scan for
    the whole span, however many pieces it is cut into."""

    def __init__(self, text: str, start: int, end: int):
        self._runs = (m.start() for m in _SPACES.finditer(text, start, end))
        self._ahead: deque[int] = deque()  # read, and after the current piece's start

    def skip_to(self, start: int) -> None:
        """Forget the boundaries at or before ``start`` (a cut there is no cut)."""
        while self._ahead and self._ahead[0] <= start:
            self._ahead.popleft()
        while not self._ahead and (nxt := next(self._runs, None)) is not None:
            if nxt > start:
                self._ahead.append(nxt)

    def get(self, i: int, before: int) -> int | None:
        """The i-th boundary after the start, or None if it is at or past ``before``."""
        while len(self._ahead) <= i:
            if self._ahead and self._ahead[-1] >= before:
                return None
            nxt = next(self._runs, None)
            if nxt is None:
                return None
            self._ahead.append(nxt)
        cut = self._ahead[i]
        return cut if cut < before else None


def _longest_fit(cut_at: Callable[[int], int | None], fits: Callable[[int], bool]) -> int | None:
    """The last cut that fits, or None; ``cut_at(i)`` is the i-th cut (None past
    the last), and the cuts that fit are a prefix of them.

    Gallops from the front (1, 2, 4, ... cuts further) and then bisects, so
    the probes stay within twice the answer's length: the work follows the
    piece found, not the length of the span still to cut.
    """
    first = cut_at(0)
    if first is None or not fits(first):
        return None
    good, step = 0, 1
    while (cut := cut_at(good + step)) is not None and fits(cut):
        good += step
        step *= 2
    bad = good + step  # the first index known not to fit, or one past the last cut
    while bad - good > 1:
        mid = (good + bad) // 2
        cut = cut_at(mid)
        if cut is not None and fits(cut):
            good = mid
        else:
            bad = mid
    return cut_at(good)


def chunk_text(
    text: str,
    max_tokens: int,
    overlap_tokens: int,
    count: TokenCounter,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most ``max_tokens`` tokens and
    ``max_chars(max_tokens)`` characters.

    Consecutive chunks share their boundary sentences, up to ``overlap_tokens``
    tokens (and ``max_chars(overlap_tokens)`` characters) of them, so an answer
    that straddles a boundary is whole in one chunk. A sentence longer than the
    budget is cut into pieces that fit.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    return _pack(text, _fitted(text, split_sentences(text), max_tokens, count), max_tokens, overlap_tokens, count)


def chunk_rows(text: str, rows: list[tuple[int, int]], max_tokens: int, count: TokenCounter, head: str = "") -> list[Chunk]:
    """Pack table rows (spans of ``text``, in order) into chunks as
    :func:`chunk_text` packs sentences: whole rows, no overlap, each row one
    "sentence" (so a quote is a whole row), a row too long for the budget cut
    into pieces. ``head`` (the table's caption and column headers) is given to
    every chunk; ``max_tokens`` is the budget left beside it.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    spans = [_trim(text, a, b) for a, b in rows]
    chunks = _pack(text, _fitted(text, [(a, b) for a, b in spans if a < b], max_tokens, count), max_tokens, 0, count)
    return [Chunk(c.start, c.end, c.text, c.sentences, head) for c in chunks] if head else chunks


def _fitted(text: str, spans: list[tuple[int, int]], max_tokens: int, count: TokenCounter) -> list[tuple[int, int, int]]:
    """``spans`` as (start, end, tokens), those longer than the budget cut into pieces that fit."""
    return [piece for s, e in spans for piece in _fit(text, s, e, max_tokens, count)]


def _pack(text: str, fitted: list[tuple[int, int, int]], max_tokens: int, overlap_tokens: int, count: TokenCounter) -> list[Chunk]:
    """Greedy packing of consecutive (start, end, tokens) spans into chunks."""
    limit, overlap_limit = max_chars(max_tokens), max_chars(overlap_tokens)
    sentences = [(a, b) for a, b, _ in fitted]
    sizes = [n for _, _, n in fitted]
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, used = i, 0
        while j < len(sentences) and (
            j == i or (used + sizes[j] <= max_tokens and sentences[j][1] - sentences[i][0] <= limit)
        ):
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
        # always advance at least one sentence so the loop ends. The character
        # bound matters for sentences the tokenizer counts as nothing: without
        # it each chunk would step back to one sentence past its own start.
        back, kept = j, 0
        while back - 1 > i and kept + sizes[back - 1] <= overlap_tokens and end - sentences[back - 1][0] <= overlap_limit:
            back -= 1
            kept += sizes[back]
        i = back
    return chunks


def line_number(text: str, offset: int) -> int:
    """1-based line number of a character offset.

    Scans the text up to ``offset``: for the lines of many offsets in one
    text, use :func:`line_starts` once and :func:`line_of` per offset.
    """
    return text.count("\n", 0, offset) + 1


def line_starts(text: str) -> list[int]:
    """Offset of each line's first character (line 1 starts at 0)."""
    return [0] + [m.end() for m in re.finditer("\n", text)]


def line_of(starts: list[int], offset: int) -> int:
    """1-based line number of ``offset``, given :func:`line_starts` of the text:
    equal to ``line_number(text, offset)``, by bisection."""
    return bisect.bisect_right(starts, offset)
