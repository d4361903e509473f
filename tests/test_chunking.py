"""The pure chunker: exact offsets, token budgets, sentence boundaries."""

import random

import pytest

from qa.chunking import chunk_text, fit_span, split_sentences


def words(text):
    return len(text.split())


def spans_text(text, spans):
    return [text[a:b] for a, b in spans]


def test_sentences_split_at_end_punctuation_but_not_abbreviations():
    text = "Dr. Smith met Mr. J. Doe in the U.S. on Monday. They talked! Did it help? Yes."
    assert spans_text(text, split_sentences(text)) == [
        "Dr. Smith met Mr. J. Doe in the U.S. on Monday.",
        "They talked!",
        "Did it help?",
        "Yes.",
    ]


def test_sentences_keep_soft_wrapped_lines_together_and_split_headings():
    wrapped = "The first sentence of this paragraph is long enough that an editor wrapped it"
    text = f"# Title\n\n{wrapped}\nonto a second line. Then another.\n- a list item\n- another item\nShort Heading\nBody text."
    assert spans_text(text, split_sentences(text)) == [
        "# Title",
        f"{wrapped}\nonto a second line.",
        "Then another.",
        "- a list item",
        "- another item",
        "Short Heading",
        "Body text.",
    ]


def test_sentences_closing_quotes_stay_with_their_sentence():
    text = 'He said "stop." She left.'
    assert spans_text(text, split_sentences(text)) == ['He said "stop."', "She left."]


def _random_text(rng: random.Random) -> str:
    vocab = ["alpha", "beta", "Gamma", "delta.", "e.g.", "Dr.", "x", "Zeta!", "eta?", "théta", "北京", "—", "U.S."]
    parts = []
    for _ in range(rng.randint(0, 400)):
        parts.append(rng.choice(vocab))
        parts.append(rng.choice([" ", " ", " ", "\n", "\n\n", "  ", "\t", "\r\n"]))
    if rng.random() < 0.2:
        parts.append("x" * rng.randint(1, 300))  # one enormous "word"
    return "".join(parts)


@pytest.mark.parametrize("seed", range(60))
def test_chunks_are_exact_slices_within_budget_and_cover_every_word(seed):
    rng = random.Random(seed)
    text = _random_text(rng)
    max_tokens, overlap = rng.randint(3, 40), rng.randint(0, 10)
    count = len  # characters as tokens: makes the huge-word cut observable
    chunks = chunk_text(text, max_tokens, overlap, count)
    covered = set()
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert count(c.text) <= max_tokens
        assert c.text == c.text.strip() and c.text
        for a, b in c.sentences:
            assert c.start <= a < b <= c.end
            covered.update(range(a, b))
    # Every non-space character is in some chunk: nothing is dropped.
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_chunks_overlap_by_whole_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(10))
    chunks = chunk_text(text, max_tokens=12, overlap_tokens=5, count=words)
    assert len(chunks) > 2
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # they share text
        assert a.sentences[-1] == b.sentences[0]  # exactly one shared sentence


def test_no_overlap_when_budget_is_zero():
    text = " ".join(f"Sentence number {i} is here." for i in range(10))
    chunks = chunk_text(text, max_tokens=12, overlap_tokens=0, count=words)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.end


def test_long_sentence_is_cut_at_word_boundaries():
    text = " ".join(f"w{i}" for i in range(25))
    pieces = fit_span(text, 0, len(text), 10, words)
    assert [words(text[a:b]) for a, b in pieces] == [10, 10, 5]
    assert " ".join(text[a:b] for a, b in pieces) == text


def test_empty_and_blank_text_give_no_chunks():
    assert chunk_text("", 10, 2, words) == []
    assert chunk_text(" \n\t ", 10, 2, words) == []
