"""The parts of the "not found" score (Answer.confidence): pure, no model."""

import pytest

from qa.analysis import adds_to, coverage, names
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


def test_names_are_the_capitalised_words_where_no_sentence_starts():
    assert names("What did Iran's leader say about Telangana and the BTC?") == ("Iran", "Telangana", "BTC")
    # Sentence and clause openers, quotes and brackets start a sentence; stopwords are no names.
    assert names('Where? In "Public Health Outlay" (Budget) The report: Total') == ("Health", "Outlay")
    assert names("who is it? what is this?") == ()


def test_a_sentence_of_only_the_questions_words_adds_nothing():
    question = 'Who wrote the essay "The Salt Roads of Quenville", dated Tuesday, March 3, 2015?'
    assert not adds_to(question, "The Salt Roads of Quenville")  # the title it names
    assert not adds_to(question, "Tuesday, March 3, 2015")
    assert adds_to(question, "Marta Olsen")
    # A number the question lacks is new, even of one digit.
    assert adds_to("How many days are needed?", "A minimum of 5 days is needed.")
    assert not adds_to("Are 5 days needed?", "5 days are needed.")
