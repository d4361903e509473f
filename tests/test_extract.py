"""The short answer's pure parts: splitting a question, picking quotes."""

import numpy as np

from qa.extract import pick_quotes, split_question


def test_two_questions_in_one_are_split():
    q = "Why is Iran getting triggered by the killing of the Hamas leader, and does it indicate that Iran supports Hamas?"
    assert split_question(q) == [
        "Why is Iran getting triggered by the killing of the Hamas leader",
        "does it indicate that Iran supports Hamas?",
    ]
    assert split_question("Who won? And where was it played?") == ["Who won?", "And where was it played?"]
    assert split_question("Did salt and pepper help?") == ["Did salt and pepper help?"]
    assert split_question("why?") == ["why?"]


def test_each_part_gets_its_best_sentence_then_close_runners_up():
    # rows: whole question, part 1, part 2; columns: four sentences
    sims = np.array([
        [0.70, 0.60, 0.65, 0.20],
        [0.80, 0.30, 0.50, 0.10],
        [0.20, 0.75, 0.30, 0.10],
    ])
    none_similar = np.eye(4)
    assert pick_quotes(sims, [True] * 4, none_similar) == [0, 1, 2]
    assert pick_quotes(sims, [True] * 4, none_similar, limit=2) == [0, 1]
    # Not eligible (a question, or a weak hit): never quoted.
    assert pick_quotes(sims, [False, True, True, True], none_similar) == [2, 1]


def test_single_question_quotes_only_sentences_close_to_the_best():
    sims = np.array([[0.9, 0.5, 0.8]])
    assert pick_quotes(sims, [True] * 3, np.eye(3)) == [0, 2]


def test_near_repeats_are_skipped():
    sims = np.array([[0.9, 0.88, 0.85]])
    similar = np.array([[1, 0.95, 0.1], [0.95, 1, 0.1], [0.1, 0.1, 1]])
    assert pick_quotes(sims, [True] * 3, similar) == [0, 2]
    assert pick_quotes(sims, [False] * 3, similar) == []
