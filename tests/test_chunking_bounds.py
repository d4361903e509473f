"""The chunker and the Markdown reader do work in proportion to their input.

Hostile texts of 1 MB (and 10 MB, marked slow): one endless line, one
enormous word, a million ``#``, a million newlines, alternating short lines,
runs of initials and dots, a Markdown heading line of hashes. Work is counted
where it can be (characters given to the token counter, characters copied out
of the text) and stopped as soon as it passes c * n * log2(n); where it
cannot (a regex running in C), time is bounded relative to a normal text of
the same size chunked in the same run.
"""

from __future__ import annotations

import math
import random
import re
import signal
import time
from pathlib import Path

import pytest

from qa.chunking import _END, chunk_text, fit_span, line_number, line_of, line_starts, max_chars
from qa.readers.text import _heading_at, markdown_headings, parse, title_from

MB = 1_000_000
BUDGET = 110
# Work allowed per character per doubling of the text: the chunker gives the
# counter about 8 n characters on these texts (n log2 n would be 20 n at 1 MB).
WORK_PER_N_LOG_N = 1.0
# Time allowed relative to chunking normal prose of the same size (the
# per-line texts run about 20x: a sentence per line against one per 130 chars).
SLOWER_THAN_PROSE = 60

SIZES = [MB, pytest.param(10 * MB, marks=pytest.mark.slow)]


def _work_bound(n: int) -> int:
    return int(WORK_PER_N_LOG_N * n * math.log2(max(n, 2)))


class WorkExceeded(AssertionError):
    pass


class CountingWords:
    """A whitespace word counter that adds up the characters it is given and
    stops the run once they pass ``limit``."""

    def __init__(self, limit: int):
        self.limit, self.chars, self.calls = limit, 0, 0

    def __call__(self, text: str) -> int:
        self.chars += len(text)
        self.calls += 1
        if self.chars > self.limit:
            raise WorkExceeded(f"the token counter was given more than {self.limit} characters")
        return len(text.split())


def _tracked(text: str, limit: int) -> str:
    """``text`` as a str whose slices add up the characters they copy, and
    stop the run once they pass ``limit`` (a copy of the rest per line shows)."""

    class Tracked(str):
        copied = 0

        def __getitem__(self, key):
            part = str.__getitem__(self, key)
            Tracked.copied += len(part)
            if Tracked.copied > limit:
                raise WorkExceeded(f"slicing copied more than {limit} characters of the text")
            return part

    return Tracked(text)


class _Overtime(AssertionError):
    pass


def _timed(limit_s: float, fn, *args):
    """(result, seconds) of ``fn(*args)``, failing once ``limit_s`` passes."""

    def stop(signum, frame):
        raise _Overtime(f"took more than {limit_s:.2f} s ({SLOWER_THAN_PROSE}x normal prose of the same size)")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        t0 = time.perf_counter()
        out = fn(*args)
        return out, time.perf_counter() - t0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- texts ---------------------------------------------------------------------------

_PROSE = (
    "The committee met on Tuesday to review the proposal. Dr. Smith, who chaired it, "
    "asked whether the budget (about 4.5 million) covered the second phase! Nobody was sure. "
    "After a long discussion the members agreed to wait for the auditors' report.\n\n"
)


def _prose(n: int) -> str:
    words = _PROSE * (n // len(_PROSE) + 1)
    return words[:n]


def _one_line(n: int) -> str:
    vocab = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
    reps = n // 60 + 1
    return " ".join(f"{vocab[i % len(vocab)]}{i % 97}" for i in range(reps * 10))[:n]


def _markdown_title(n: int) -> str:
    return "# Title " + "#" * (n - 9) + "x"


def _normal_markdown(n: int) -> str:
    section = "## Section heading\n\nSome text of the section, wrapped\nover two lines. A second sentence.\n\n- item one\n- item two\n\n"
    return ("# Title\n\n" + section * (n // len(section) + 1))[:n]


HOSTILE = {
    "one line, no punctuation": _one_line,
    "one enormous word": lambda n: "x" * n,
    "hashes": lambda n: "#" * n,
    "newlines": lambda n: "\n" * n,
    "alternating short lines": lambda n: ("a\nB\n" * (n // 4 + 1))[:n],
    "initials 'a. '": lambda n: ("a. " * (n // 3 + 1))[:n],
    "initials with tabs 'a.\\t'": lambda n: ("a.\t" * (n // 3 + 1))[:n],
    "lowercase after periods": lambda n: ("ab. cd. " * (n // 8 + 1))[:n],
    "dots": lambda n: "." * n,
    "opening brackets then initials": lambda n: "(" * (n // 2) + ("a.\ta." * (n // 10 + 1))[: n - n // 2],
    "spaces inside one line": lambda n: "x" + " " * (n - 2) + "y",
    "markdown title line of hashes": _markdown_title,
}

_prose_seconds: dict[int, float] = {}


def _prose_time(n: int) -> float:
    """Seconds to chunk normal prose of ``n`` characters, the same way as the hostile texts."""
    if n not in _prose_seconds:
        text = _prose(n)
        runs = []
        for _ in range(2):  # the faster of two: a hiccup here must not loosen the bound
            count = CountingWords(10**15)
            t0 = time.perf_counter()
            chunk_text(_tracked(text, 10**15), BUDGET, 0, count)
            runs.append(time.perf_counter() - t0)
        _prose_seconds[n] = min(runs)
    return _prose_seconds[n]


def _assert_chunks_cover(text: str, chunks, max_tokens: int) -> None:
    """Exact slices, in order, not overlapping, within budget and cap, and
    nothing but whitespace left between them."""
    prev_end = 0
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text and c.text == c.text.strip()
        assert c.start >= prev_end, "chunks overlap or are out of order"
        assert not text[prev_end : c.start].strip(), "a non-space character is in no chunk"
        assert len(c.text.split()) <= max_tokens
        assert len(c.text) <= max_chars(max_tokens)
        prev_end = c.end
    assert not text[prev_end:].strip(), "a non-space character is in no chunk"


# --- the bounds ---------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_chunks_in_work_proportional_to_its_size(name, n):
    text = HOSTILE[name](n)
    bound = _work_bound(len(text))
    count = CountingWords(bound)
    limit_s = SLOWER_THAN_PROSE * _prose_time(n)
    chunks, _ = _timed(limit_s, chunk_text, _tracked(text, bound), BUDGET, 0, count)
    assert count.chars <= bound
    _assert_chunks_cover(text, chunks, BUDGET)


def test_a_five_megabyte_word_is_cut_into_pieces_within_the_character_cap():
    n = 5 * MB
    text = "start " + "x" * n + " end"
    count = CountingWords(_work_bound(len(text)))
    chunks = chunk_text(text, BUDGET, 0, count)
    _assert_chunks_cover(text, chunks, BUDGET)
    assert len(chunks) >= n // max_chars(BUDGET)
    assert max(len(c.text) for c in chunks) == max_chars(BUDGET)
    pieces = fit_span(text, 0, len(text), BUDGET, len)  # characters as tokens: the budget binds first
    assert all(b - a <= BUDGET for a, b in pieces)


@pytest.mark.parametrize("n", SIZES)
def test_markdown_heading_line_of_hashes_reads_in_time_proportional_to_its_size(n):
    hostile, normal = _markdown_title(n), _normal_markdown(n)
    t0 = time.perf_counter()
    markdown_headings(normal)
    title_from(normal, "notes.md")
    normal_s = time.perf_counter() - t0
    (headings, _), _ = _timed(SLOWER_THAN_PROSE * normal_s, lambda: (markdown_headings(hostile), title_from(hostile, "notes.md")))
    assert headings == ((0, "Title " + "#" * (n - 9) + "x"),)
    parsed, _ = _timed(SLOWER_THAN_PROSE * normal_s + 1e-3, parse, hostile.encode(), "notes.md", True)
    assert parsed.headings == headings


def test_many_markdown_headings_of_hashes_read_in_time_proportional_to_their_size():
    n = MB
    hostile = ("# T " + "#" * 2000 + "x\n") * (n // 2006)
    normal = _normal_markdown(len(hostile))
    t0 = time.perf_counter()
    markdown_headings(normal)
    normal_s = time.perf_counter() - t0
    headings, _ = _timed(SLOWER_THAN_PROSE * normal_s, markdown_headings, hostile)
    assert len(headings) == n // 2006


def test_line_of_agrees_with_line_number_and_is_linear():
    rng = random.Random(3)
    text = "".join(rng.choice(["a", "b ", "\n", "\n\n", "xyz"]) for _ in range(5000))
    starts = line_starts(text)
    for offset in range(len(text) + 1):
        assert line_of(starts, offset) == line_number(text, offset)
    many = "x\n" * MB  # a million lines: one scan, then a bisection per offset
    starts = line_starts(many)
    assert len(starts) == MB + 1
    assert [line_of(starts, o) for o in (0, 1, 2, 3, 2 * MB)] == [1, 1, 2, 2, MB + 1]


# --- the linear forms equal the regexes they replace --------------------------------

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")


def _random_markdown(rng: random.Random, length: int) -> str:
    alphabet = ["#", "#", "#", " ", " ", "\t", "\n", "\n", "x", "T", "\u00a0", "\r", "\x1c", "é", ".", "`"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, length)))


@pytest.mark.parametrize("seed", range(20))
def test_heading_matcher_captures_what_the_regex_captures(seed):
    rng = random.Random(seed)
    for _ in range(300):
        text = _random_markdown(rng, 30)
        for pos in [0] + [m.end() for m in re.finditer("\n", text)]:
            m = _MD_HEADING.match(text, pos)
            assert _heading_at(text, pos) == (m.group(1) if m else None), (text, pos)
        m = _MD_HEADING.search(text[:5000])
        assert title_from(text, "a.md") == (m.group(1).strip() if m else "A")


@pytest.mark.parametrize("seed", range(10))
def test_sentence_end_pattern_matches_what_the_plain_pattern_matches(seed):
    rng = random.Random(seed)
    alphabet = [".", ".", "!", "?", "…", '"', "'", "”", ")", "]", " ", "\n", "a", "B"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        start = rng.randint(0, len(text))
        if start and not text[start - 1].isspace():
            start = 0  # blocks start after whitespace or at the text's start
        assert [m.span() for m in _END.finditer(text, start)] == [m.span() for m in _SENTENCE_END.finditer(text, start)]


def test_ordinary_passages_stay_far_below_the_character_cap():
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    for path in corpus.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        chunks = chunk_text(text, BUDGET, 0, lambda t: len(t.split()))
        assert chunks and all(len(c.text) < max_chars(BUDGET) // 4 for c in chunks)
