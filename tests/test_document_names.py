"""The right document among many alike: the file name and title count for the
question's words (Settings.name_weight). Pure parts first, then the bundled
model over reports of one kind that differ only in company and year."""

from __future__ import annotations

import pytest

import qa
from qa.analysis import name_words
from qa.answering import by_name, document_name_words, specific_words
from qa.ranking import Scored
from qa.types import Passage


def test_name_words_read_names_as_they_are_written():
    assert name_words("3M_2018_10K") == {"3m", "2018", "10k"}
    assert name_words("What was 3M's revenue in its 2018 10-K?") >= {"3m", "2018", "10k", "revenue"}
    assert name_words("U.S. Steel annual-report") == {"us", "steel", "annual", "report", "annualreport"}
    assert "the" not in name_words("The report") and "a" not in name_words("a b")


def _passage(pid: int, doc: str, source: str, title: str = "") -> Passage:
    return Passage(pid, doc, title, source, 0, 1, 1, 1, "x", ((0, 1),))


def test_the_document_whose_name_holds_the_most_of_the_question_gets_the_whole_weight():
    passages = {1: _passage(1, "a", "acme-2017-annual-report.txt"), 2: _passage(2, "b", "acme-2019-annual-report.txt"),
                3: _passage(3, "c", "globex-2019-annual-report.txt")}
    ranked = [Scored(1, 0.5, 1.0, 0.60), Scored(3, 0.5, 1.0, 0.59), Scored(2, 0.5, 1.0, 0.58)]
    names = {p.doc_id: document_name_words(p) for p in passages.values()}
    out = by_name(ranked, passages, names, "What did Acme earn in 2019?", 0.1)
    assert [s.passage_id for s in out] == [2, 1, 3]  # acme+2019, then acme or 2019 alone (half the weight)
    assert out[0].fused == pytest.approx(0.58 + 0.1)
    # Only names and numbers count: "annual report", in every file name, favours none.
    assert by_name(ranked, passages, names, "What is in the annual report?", 0.1) == ranked
    assert specific_words("What was 3M's revenue in its 2018 10-K?") == {"3m", "2018", "10", "10k"}


@pytest.mark.slow
def test_a_question_naming_company_and_year_is_answered_from_that_report(folders, real_embedder):
    for company in ("Acme", "Globex", "Initech"):
        for n, year in enumerate((2017, 2018, 2019, 2020)):
            # One heading for all: the title says nothing of company or year, the file name does.
            (folders.corpus_dir / f"{company.lower()}-{year}-annual-report.md").write_text(
                "# Annual Report and Accounts\n\nRevenue for the year was "
                f"{100 + 7 * n + len(company)} million dollars. The company opened two new plants and hired "
                "engineers for its research centre. The board proposed an unchanged dividend.\n"
            )
    idx = qa.Index.open(settings=folders, embedder=real_embedder)
    idx.sync()
    answer = idx.answer("What was Globex's revenue in the 2019 annual report?")
    assert answer.hits[0].passage.doc_id == "globex-2019-annual-report.md"
    assert answer.found  # "Globex" is in no passage, but in a file name: not an unknown name
    off = qa.Index.open(settings=folders.replace(name_weight=0.0), embedder=real_embedder)
    # Without the names the twelve reports read alike.
    assert off.answer("What was Globex's revenue in the 2019 annual report?").hits[0].passage.doc_id != \
        "globex-2019-annual-report.md"
