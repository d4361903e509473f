"""`qa eval` on a folder of real documents: the scoring rules on exact inputs,
the folder reader, and one end-to-end run on two generated PDFs and a text file."""

from __future__ import annotations

import json

import pytest

import qa
from qa import cli
from qa import evaluate as ev
from qa.evaluate import EvalQuery, RealDocScore


# ------------------------------------------------------------ normalising
def test_normalise_answer_follows_the_readme():
    assert ev.normalise_answer("1 393,4") == "13934"  # commas and spaces go
    assert ev.normalise_answer("ＡＢＣ  Def\n") == "abcdef"  # NFKC (full-width letters), case-folded
    assert ev.normalise_answer("ﬁnal") == "final"  # NFKC undoes ligatures
    assert ev.normalise_answer("1.393,4") == "1.3934"  # dots are kept


def test_answer_in_is_digit_bounded():
    assert ev.answer_in("17", "there were 17 cases")
    assert not ev.answer_in("17", "in 2017 there were 170")
    assert ev.answer_in("17", "2017: 17")  # the second occurrence stands alone
    assert ev.answer_in("17%", "rose by 17%.")
    assert ev.answer_in("abc", "xabcx")  # letters: plain containment
    assert ev.answer_in("A1", "A12") is False  # ends with a digit, followed by one
    assert ev.answer_in("x1", "2x1")  # starts with a letter: a digit before it does not matter
    assert ev.answer_in("150 000", "Sulphur oxides | 150,000 | -")  # commas and spaces deleted on both sides
    assert not ev.answer_in("1.393,4", "1,393.4")  # a re-formatted number is not the printed value
    assert not ev.answer_in("", "anything") and not ev.answer_in("x", None)


# ---------------------------------------------------------------- citations
def test_cites_gold_by_document_and_page_range():
    pdf = EvalQuery("q", "?", doc_id="a.pdf", answers=("x",), page=3, question_kind="table-cell")
    assert ev.cites_gold(pdf, "a.pdf", 3, 3)
    assert ev.cites_gold(pdf, "a.pdf", 2, 4)  # a passage across pages 2-4 holds page 3
    assert not ev.cites_gold(pdf, "a.pdf", 4, 5)
    assert not ev.cites_gold(pdf, "b.pdf", 3, 3)
    assert not ev.cites_gold(pdf, "a.pdf", None, None)  # no pages where the gold has one
    html = EvalQuery("q", "?", doc_id="a.html", answers=("x",), question_kind="prose-fact")
    assert ev.cites_gold(html, "a.html", None, None) and not ev.cites_gold(html, "b.html", None, None)
    none = EvalQuery("q", "?", question_kind="unanswerable")
    assert not ev.cites_gold(none, "", None, None)


# ------------------------------------------------------------------ scoring
Q = EvalQuery("q1", "?", doc_id="a.pdf", answers=("42",), page=2, question_kind="number")


def test_score_first_hit_right_and_first_quote_holds_answer():
    s = ev.score_realdoc(Q, [("a.pdf", 2, 2), ("b.pdf", 1, 1)], [("It was 42 in all.", 1)], True, 0.7)
    assert s == RealDocScore("q1", "number", 1, True, True, True, True, True, 0.7)


def test_score_rank_is_the_first_right_citation():
    s = ev.score_realdoc(Q, [("b.pdf", 2, 2), ("a.pdf", 1, 1), ("a.pdf", 1, 2)], [], True)
    assert s.hit_rank == 3 and not s.first_quote and not s.joined
    assert ev.score_realdoc(Q, [("b.pdf", 2, 2)], [], True).hit_rank is None


def test_score_quote_from_a_wrong_hit_is_not_cited():
    # The first quote holds "42" but comes from hit 2 (b.pdf); the second quote, from hit 1, does not.
    quotes = [("Total 42.", 2), ("See page two.", 1)]
    s = ev.score_realdoc(Q, [("a.pdf", 2, 2), ("b.pdf", 2, 2)], quotes, True)
    assert (s.first_quote, s.first_quote_cited, s.joined, s.joined_cited) == (True, False, True, False)


def test_score_joined_finds_the_answer_in_a_later_quote():
    quotes = [("A title", 1), ("The value is 42", 1)]
    s = ev.score_realdoc(Q, [("a.pdf", 2, 2)], quotes, True)
    assert (s.first_quote, s.first_quote_cited, s.joined, s.joined_cited) == (False, False, True, True)
    # A quote numbered past the hits cannot be cited.
    s = ev.score_realdoc(Q, [("a.pdf", 2, 2)], [("42", 3)], True)
    assert (s.first_quote, s.first_quote_cited) == (True, False)


def test_score_unanswerable_only_records_the_refusal():
    q = EvalQuery("u", "?", question_kind="unanswerable")
    s = ev.score_realdoc(q, [("a.pdf", 1, 1)], [("42", 1)], False, 0.3)
    assert s == RealDocScore("u", "unanswerable", None, False, False, False, False, False, 0.3)


def _s(qid, kind, rank, first=False, found=True):
    return RealDocScore(qid, kind, rank, first, first, first, first, found, 0.0)


def test_groups_shares_per_kind():
    scores = [
        _s("1", "table-cell", 1, True), _s("2", "table-cell", 4), _s("3", "table-row", None, found=False),
        _s("4", "prose-fact", 2, True), _s("5", "number", 1, True),
        _s("6", "unanswerable", None, found=False), _s("7", "unanswerable", None),
    ]
    groups = {g.group: g for g in ev.realdocs_groups(scores)}
    assert list(groups) == ["answerable", "table", "table-cell", "table-row", "prose", "prose-fact", "number",
                            "unanswerable"]
    a = groups["answerable"]
    assert a.questions == 5 and a.hit1 == pytest.approx(2 / 5) and a.hit3 == pytest.approx(3 / 5)
    assert a.hit5 == pytest.approx(4 / 5) and a.first_quote == pytest.approx(3 / 5)
    assert a.refused == pytest.approx(1 / 5)
    t = groups["table"]
    assert t.questions == 3 and t.hit1 == pytest.approx(1 / 3) and t.refused == pytest.approx(1 / 3)
    assert groups["table-cell"].hit5 == 1.0 and groups["table-row"].hit5 == 0.0
    assert groups["prose"].questions == 2 and groups["prose"].first_quote == 1.0
    u = groups["unanswerable"]
    assert u.questions == 2 and u.refused == 0.5 and u.hit1 is None and u.first_quote is None


def test_result_dict_and_table():
    scores = [_s("1", "table-cell", 1, True), _s("2", "unanswerable", None, found=False)]
    r = ev.RealDocsResult("rd", 2, 10, 2, 5, 1.0, 0.5, ev.realdocs_groups(scores), 1.0, 0.0, ("x.pdf: bad",),
                          tuple(scores))
    d = r.to_dict()
    assert "per_question" not in d and d["groups"][0]["group"] == "answerable" and d["unanswerable_refused"] == 1.0
    json.dumps(d)
    table = ev.format_realdocs_table(r)
    assert "hit@1" in table.splitlines()[0] and "unanswerable refused: 1/1" in table
    assert "answerable refused: 0/1" in table


# ------------------------------------------------------------------- reader
def _folder(tmp_path, questions, files=("a.pdf",)):
    docs = tmp_path / "rd" / "docs"
    docs.mkdir(parents=True)
    for name in files:
        (docs / name).write_bytes(b"x")
    (tmp_path / "rd" / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions) + "\n", "utf-8")
    return tmp_path / "rd"


def test_read_realdocs_folder(tmp_path):
    folder = _folder(tmp_path, [
        {"id": "1", "question": "What?", "doc": "a.pdf", "page": 2, "answer": "42", "kind": "number", "source": "s"},
        {"id": "2", "question": "Nothing?", "doc": None, "page": None, "answer": None, "kind": "unanswerable"},
    ])
    d = ev.load_dataset(folder)
    assert d.kind == "realdocs" and [p.name for p in d.files] == ["a.pdf"] and d.texts == ()
    assert d.queries[0] == EvalQuery("1", "What?", doc_id="a.pdf", answers=("42",), page=2, question_kind="number")
    assert d.queries[1] == EvalQuery("2", "Nothing?", question_kind="unanswerable")


@pytest.mark.parametrize("bad, message", [
    ({"id": "1", "question": "Q", "doc": "missing.pdf", "page": 1, "answer": "x", "kind": "number"}, "not in"),
    ({"id": "1", "question": "Q", "doc": "a.pdf", "page": 1, "answer": None, "kind": "number"}, "needs doc and answer"),
    ({"id": "1", "question": "Q", "doc": "a.pdf", "page": 0, "answer": "x", "kind": "number"}, "1-based"),
    ({"id": "1", "question": "", "kind": "number"}, "needs id, question and kind"),
])
def test_read_realdocs_refuses_bad_questions(tmp_path, bad, message):
    with pytest.raises(ev.DatasetError, match=message):
        ev.load_dataset(_folder(tmp_path, [bad]))


def test_evaluate_refuses_a_realdocs_folder(tmp_path):
    folder = _folder(tmp_path, [{"id": "1", "question": "Q", "kind": "unanswerable"}])
    with pytest.raises(ev.DatasetError, match="evaluate_realdocs"):
        ev.evaluate(folder)


# ------------------------------------------------------- end to end, model
def _pdf(path, pages):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


@pytest.mark.slow
def test_evaluate_realdocs_end_to_end(tmp_path, real_embedder):
    docs = tmp_path / "rd" / "docs"
    docs.mkdir(parents=True)
    _pdf(docs / "volcano.pdf", [
        "Volcanoes of Iceland. The island has about thirty active volcanic systems.",
        "Hekla erupted in the year 1104, burying farms under ash. Its last eruption was in 2000.",
    ])
    _pdf(docs / "bees.pdf", ["Honey bees communicate the location of flowers with a waggle dance."])
    (docs / "tea.txt").write_text("Green tea is made from unoxidized leaves of Camellia sinensis.\n", "utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    questions = [
        {"id": "1", "question": "In which year did Hekla erupt and bury farms under ash?", "doc": "volcano.pdf",
         "page": 2, "answer": "1104", "kind": "date"},
        {"id": "2", "question": "How do honey bees tell each other where flowers are?", "doc": "bees.pdf",
         "page": 1, "answer": "waggle dance", "kind": "prose-fact"},
        {"id": "3", "question": "What plant is green tea made from?", "doc": "tea.txt", "page": None,
         "answer": "Camellia sinensis", "kind": "definition"},
        {"id": "4", "question": "What is the melting point of tungsten?", "doc": None, "page": None,
         "answer": None, "kind": "unanswerable"},
    ]
    (tmp_path / "rd" / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions), "utf-8")
    settings = qa.Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "unused")
    result = ev.evaluate_realdocs(tmp_path / "rd", settings=settings, embedder=real_embedder)
    assert result.documents == 3 and result.questions == 4 and result.k == 5
    assert len(result.refused_files) == 1 and result.refused_files[0].startswith("broken.pdf")
    by_id = {s.qid: s for s in result.per_question}
    assert by_id["1"].hit_rank == 1 and by_id["2"].hit_rank == 1 and by_id["3"].hit_rank == 1
    assert by_id["1"].first_quote_cited and by_id["2"].first_quote_cited
    groups = {g.group: g for g in result.groups}
    assert groups["answerable"].questions == 3 and groups["answerable"].hit1 == 1.0
    assert groups["unanswerable"].questions == 1
    assert not (tmp_path / "unused").exists()


@pytest.mark.slow
def test_qa_eval_command_on_realdocs(tmp_path, capsys):
    docs = tmp_path / "rd" / "docs"
    docs.mkdir(parents=True)
    _pdf(docs / "a.pdf", ["The bridge over the river was opened in 1932 by the mayor."])
    (tmp_path / "rd" / "questions.jsonl").write_text(json.dumps(
        {"id": "1", "question": "When was the bridge opened?", "doc": "a.pdf", "page": 1, "answer": "1932",
         "kind": "date"}) + "\n", "utf-8")
    out = tmp_path / "perq.jsonl"
    assert cli.main(["eval", str(tmp_path / "rd"), "--json", "--per-question", str(out)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["questions"] == 1 and d["groups"][0]["hit1"] == 1.0
    row = json.loads(out.read_text("utf-8").splitlines()[0])
    assert row["qid"] == "1" and row["gold_answer"] == "1932" and row["hit_rank"] == 1
    assert row["first_doc"] == "a.pdf" and row["first_pages"] == [1, 1] and isinstance(row["short_answer"], list)
