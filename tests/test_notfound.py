"""The parts of the "not found" score (Answer.confidence): pure, no model."""

import pytest

from qa.analysis import coverage
from qa.confidence import COVERAGE_WEIGHT, confidence

PASSAGE = "Haniyeh, who was in Tehran for the inauguration of Iran's new president, was killed."


def test_coverage_is_the_share_of_question_terms_the_text_holds():
    # Stems match ("killed" / "killing"); stopwords and repeats do not count.
    assert coverage("Where was Haniyeh killed?", PASSAGE) == 1.0
    assert coverage("Was Haniyeh killing in Tehran Tehran?", PASSAGE) == 1.0
    # A name the text does not hold: one of three terms missing.
    assert coverage("Was Haniyeh killed in Beijing?", PASSAGE) == pytest.approx(2 / 3)
    assert coverage("Who won the football World Cup?", PASSAGE) == 0.0


def test_coverage_counts_a_word_held_by_any_of_the_texts():
    # A passage's title and heading give it words its text may lack.
    assert coverage("Was Haniyeh killed in Tehran?", "He was killed.", "Haniyeh", "Tehran") == 1.0
    assert coverage("Was Haniyeh killed in Tehran?", "He was killed.") == pytest.approx(1 / 3)


def test_a_question_without_terms_covers_nothing():
    assert coverage("Who is it?", PASSAGE) == 0.0
    assert coverage("", PASSAGE) == 0.0


def test_confidence_adds_the_weighted_coverage_to_the_sentence_cosine():
    assert confidence(0.4, 0.0) == pytest.approx(0.4)
    assert confidence(0.4, 1.0) == pytest.approx(0.4 + COVERAGE_WEIGHT)
    # A question whose words the passage holds needs a weaker sentence match.
    assert confidence(0.35, 1.0) > confidence(0.45, 0.0)
