"""Expected answer types (qa/answertype.py) and how they steer the sentence scores: pure, no model."""

import numpy as np

from qa.answertype import PERSON, PLACE, QUANTITY, TIME, expected_type, offers_answer
from qa.ranking import best_sentence, sentence_scores


def test_questions_get_the_type_they_ask_for():
    assert expected_type("Where was Haniyeh killed?") == PLACE
    assert expected_type("In which city did the treaty get signed?") == PLACE
    assert expected_type("When did the war end?") == TIME
    assert expected_type("and where?") == PLACE and expected_type("And when did it end?") == TIME  # follow-ups
    assert expected_type("What year was the university founded?") == TIME
    assert expected_type("How many years did the siege last?") == QUANTITY  # a count, not a date
    assert expected_type("What percentage of voters turned out?") == QUANTITY
    assert expected_type("Who ordered a military response against Israel?") == PERSON
    assert expected_type("Which author is credited for the second edition?") == PERSON
    # No type: nothing changes for these.
    assert expected_type("Why is Iran triggered by the killing of the Hamas leader?") is None
    assert expected_type("Somewhere, someone lost a key; which key?") is None


def test_a_sentence_offers_an_answer_only_with_something_the_question_lacks():
    q = "Where was Haniyeh killed?"
    assert offers_answer(PLACE, "Haniyeh, who was in Tehran for the inauguration, was killed.", q)
    assert not offers_answer(PLACE, "The killing of Haniyeh comes amidst a broader backdrop.", q)
    assert not offers_answer(PLACE, "The strike came in April, after the talks.", q)  # a month, not a place
    # The question's own place is no answer to it.
    assert not offers_answer(PLACE, "He was in Tehran.", "Where in Tehran was he killed?")
    assert offers_answer(TIME, "The dam was finished in 1936.", "When was the dam finished?")
    assert not offers_answer(TIME, "The dam opened in 1936.", "What happened to the dam in 1936?")
    assert offers_answer(QUANTITY, "It cost 4.5 million dollars.", "How much did it cost?")
    assert offers_answer(QUANTITY, "Three hundred people came.", "How many people came?")
    assert not offers_answer(QUANTITY, "Someone came alone.", "How many people came?")  # "one" inside a word
    assert not offers_answer(None, "In 1936, in Paris, 40 people met.", "Why did they meet?")
    q = 'Who wrote "The Salt Roads of Quenville"?'
    assert offers_answer(PERSON, "Marta Olsen", q) and offers_answer(PERSON, "It is by Donald E. Knuth.", q)
    assert not offers_answer(PERSON, "The Salt Roads of Quenville", q)  # the question's own title
    assert not offers_answer(PERSON, "Salt came to Quenville by mule.", q)  # one capitalised word is no name


def test_sentence_scores_add_a_bonus_per_term_and_for_the_answer_type():
    sims = np.array([0.60, 0.55, 0.50], dtype=np.float32)
    assert np.allclose(sentence_scores(sims, [0, 0, 0]), sims)
    assert np.allclose(sentence_scores(sims, [0, 1, 2]), [0.60, 0.65, 0.70])
    assert np.allclose(sentence_scores(sims, [0, 0, 0], [False, True, False]), [0.60, 0.65, 0.50])
    # One row per question part: the type applies to every row.
    parts = sentence_scores(np.stack([sims, sims]), [[0, 0, 0], [1, 0, 0]], [False, False, True])
    assert np.allclose(parts, [[0.60, 0.55, 0.60], [0.70, 0.55, 0.60]])


def test_the_highlight_prefers_the_sentence_that_names_the_place():
    # "The killing of Haniyeh comes amidst ..." (restates the question) against
    # "Haniyeh, who was in Tehran ..." (answers it): close cosines, one names a place.
    assert best_sentence(np.array([0.62, 0.57]), [1, 1], [False, False]) == 0
    assert best_sentence(np.array([0.62, 0.57]), [1, 1], [False, False], [False, True]) == 1
    # A clearly better sentence still wins over a typed one.
    assert best_sentence(np.array([0.80, 0.40]), [1, 1], [False, False], [False, True]) == 0
