"""Follow-up questions: searched with the conversation's context, no language model."""

import pytest

import qa
from helpers import SEED_QUESTION
from qa.followup import conversation_context, is_follow_up


@pytest.mark.parametrize(
    "question, expected",
    [
        ("why?", True),
        ("and what did Israel say?", True),
        ("when did she die?", True),
        ("what about the drones?", True),
        ("Where was Marie Curie born and what did she study in Paris?", True),
        ("Which NFL team won Super Bowl 50 in Santa Clara?", False),
        ("What is the population of Warsaw in 2014?", False),
    ],
)
def test_follow_up_detection(question, expected):
    assert is_follow_up(question) is expected


def test_context_is_empty_for_standalone_questions_and_without_history():
    assert conversation_context("why?", []) == ""
    assert conversation_context("Which NFL team won Super Bowl 50 in Santa Clara?", ["anything"]) == ""
    assert conversation_context("why?", ["Who founded Warsaw?"]) == "Who founded Warsaw?"


BIOS = {
    "curie.txt": (
        "Marie Curie was born in Warsaw in 1867. She studied physics in Paris at the Sorbonne. "
        "She won two Nobel Prizes. Curie died in 1934 of aplastic anaemia caused by radiation."
    ),
    "tesla.txt": (
        "Nikola Tesla was born in Smiljan in 1856. He worked for Edison in New York before "
        "founding his own laboratory. Tesla died in 1943 in a hotel room in Manhattan."
    ),
    "bridge.txt": (
        "The Golden Gate Bridge opened in 1937. Its towers are 227 metres tall. "
        "The bridge is painted International Orange."
    ),
}


@pytest.fixture(scope="module")
def bios(tmp_path_factory, real_embedder):
    base = tmp_path_factory.mktemp("bios")
    idx = qa.Index.open(base / "index", settings=qa.Settings(corpus_dir=base / "c"), embedder=real_embedder)
    idx.add_texts(list(BIOS.values()), ids=list(BIOS), titles=["Marie Curie", "Nikola Tesla", "Golden Gate Bridge"])
    return idx


@pytest.mark.slow
@pytest.mark.parametrize(
    "first, follow_up, doc, evidence",
    [
        ("Where was Marie Curie born?", "and when did she die?", "curie.txt", "1934"),
        ("Where was Nikola Tesla born?", "and when did he die?", "tesla.txt", "1943"),
        ("When did the Golden Gate Bridge open?", "how tall are its towers?", "bridge.txt", "227"),
    ],
)
def test_follow_up_keeps_the_subject_of_the_conversation(bios, first, follow_up, doc, evidence):
    history = [bios.answer(first, k=3)]
    answer = bios.answer(follow_up, k=3, history=history)
    assert answer.hits[0].doc_id == doc
    assert evidence in answer.hits[0].evidence.text
    assert answer.question == follow_up and first in answer.query


@pytest.mark.slow
def test_topic_change_is_not_dragged_back(bios):
    history = [bios.answer("Where was Marie Curie born?", k=3)]
    answer = bios.answer("What colour is the Golden Gate Bridge painted?", k=3, history=history)
    assert answer.hits[0].doc_id == "bridge.txt" and answer.query == answer.question


@pytest.mark.slow
def test_seed_conversation(seed_index):
    first = seed_index.answer(SEED_QUESTION, k=3)
    answer = seed_index.answer("and what did Israel say?", k=3, history=[first])
    assert any("has not confirmed or denied involvement" in h.text for h in answer.hits)
    why = seed_index.answer("why?", k=3, history=[first])
    assert why.found and any("Haniyeh" in h.text for h in why.hits)


@pytest.mark.slow
def test_a_question_that_leans_by_form_but_names_another_subject_starts_a_new_topic(bios):
    history = [bios.answer("Where was Marie Curie born?", k=3)]
    for question in ("Why is the Golden Gate Bridge painted International Orange?",
                     "How tall are the towers of the Golden Gate Bridge, and when did it open?"):
        answer = bios.answer(question, k=3, history=history)
        assert answer.query == answer.question, answer.query  # not "read as a follow-up"
        assert answer.hits[0].doc_id == "bridge.txt"
    # The same form about the conversation's own subject stays a follow-up.
    answer = bios.answer("Why did she study physics in Paris?", k=3, history=history)
    assert answer.query != answer.question and answer.hits[0].doc_id == "curie.txt"
