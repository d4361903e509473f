"""The evaluation harness: exact metric values on hand-made rankings, the
BEIR and SQuAD readers on tiny fixtures, and one end-to-end run with the model."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

import qa
from qa import evaluate as ev
from qa.evaluate import EvalQuery


# ----------------------------------------------------------------- metrics
def test_ndcg_perfect_and_empty():
    assert ev.ndcg_at_k(["a", "b"], {"a": 1, "b": 1}) == pytest.approx(1.0)
    assert ev.ndcg_at_k(["x", "y"], {"a": 1}) == 0.0
    assert ev.ndcg_at_k([], {"a": 1}) == 0.0
    assert ev.ndcg_at_k(["a"], {}) == 0.0  # no relevant document: nothing to find


def test_ndcg_single_relevant_at_rank_3():
    assert ev.ndcg_at_k(["x", "y", "a"], {"a": 1}) == pytest.approx(1 / math.log2(4))  # 0.5


def test_ndcg_graded_against_ideal_from_qrels():
    qrels = {"a": 2, "b": 1, "c": 1}
    # ranking: b (1) at rank 1, x (0), a (2) at rank 3; c never found
    dcg = 1 / math.log2(2) + 2 / math.log2(4)
    ideal = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ev.ndcg_at_k(["b", "x", "a"], qrels) == pytest.approx(dcg / ideal)


def test_ndcg_cut_at_k():
    ranking = [f"d{i}" for i in range(10)] + ["a"]
    assert ev.ndcg_at_k(ranking, {"a": 1}, k=10) == 0.0
    assert ev.ndcg_at_k(ranking, {"a": 1}, k=11) == pytest.approx(1 / math.log2(12))


def test_ndcg_ignores_non_positive_grades():
    assert ev.ndcg_at_k(["a", "b"], {"a": 0, "b": 1}) == pytest.approx(1 / math.log2(3))


def test_recall_at_k():
    qrels = {"a": 1, "b": 1}
    ranking = ["x", "a", "y", "z", "w", "b"]
    assert ev.recall_at_k(ranking, qrels, 1) == 0.0
    assert ev.recall_at_k(ranking, qrels, 5) == 0.5
    assert ev.recall_at_k(ranking, qrels, 10) == 1.0
    assert ev.recall_at_k(ranking, {}, 10) == 0.0


def test_mrr_at_k():
    assert ev.mrr_at_k(["x", "a", "b"], {"a": 1, "b": 1}) == 0.5
    assert ev.mrr_at_k(["a"], {"a": 1}) == 1.0
    assert ev.mrr_at_k([f"d{i}" for i in range(10)] + ["a"], {"a": 1}) == 0.0


def test_distinct_keeps_first_occurrence():
    assert ev.distinct(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_document_counts_at_rank_of_best_passage():
    q = EvalQuery("q", "?", relevant={"a": 1})
    # passages: b, b, a -> documents b, a: a is at document rank 2, not passage rank 3
    s = ev.score_beir(["b", "b", "a"], q)
    assert s.ndcg10 == pytest.approx(1 / math.log2(3))
    assert s.mrr10 == 0.5
    assert (s.recall1, s.recall5, s.recall10) == (0.0, 1.0, 1.0)


def test_beir_ranking_asks_more_passages_until_10_documents_are_ranked():
    # Three passages a document: 10 passages rank only 4 documents, and a
    # relevant 8th document would count as missing from the top 10.
    docs = [f"d{n // 3}" for n in range(60)]
    asked = []

    class Index:
        def search(self, question, k):
            asked.append(k)
            return [SimpleNamespace(passage=SimpleNamespace(doc_id=d)) for d in docs[:k]]

    ranking = ev.document_ranking(Index(), "q", Index().search("q", 10), 10)
    assert ranking[:10] == [f"d{n}" for n in range(10)] and asked == [10, 20, 40]
    assert ev.score_beir(ranking, EvalQuery("q", "?", relevant={"d7": 1})).recall10 == 1.0
    # An index with fewer passages than asked for has nothing more to give: no loop.
    docs[:] = docs[:12]
    asked.clear()
    assert ev.document_ranking(Index(), "q", Index().search("q", 10), 10) == ["d0", "d1", "d2", "d3"]
    assert asked == [10, 20]


def test_scores_are_cut_at_10_whatever_the_number_of_hits():
    q = EvalQuery("q", "?", relevant={"a": 1})
    many = [f"d{i}" for i in range(12)] + ["a"]  # e.g. from k=30 hits: a is the 13th document
    s = ev.score_beir(many, q)
    assert (s.ndcg10, s.mrr10, s.recall10) == (0.0, 0.0, 0.0)
    hits = [_hit("X", 0, 1, "", "")] * 10 + [_hit("A", 0, 1, "", "")]
    s = ev.score_squad(hits, EvalQuery("q", "?", doc_id="A", span=(0, 5)))
    assert (s.ndcg10, s.mrr10, s.recall10) == (0.0, 0.0, 0.0)


def test_binary_scores():
    assert ev.binary_scores([True]) == (1.0, 1.0, 1.0, 1.0, 1.0)
    ndcg, r1, r5, r10, mrr = ev.binary_scores([False, False, True, True])
    assert ndcg == pytest.approx(0.5)
    assert (r1, r5, r10, mrr) == (0.0, 1.0, 1.0, pytest.approx(1 / 3))
    ndcg, r1, r5, r10, mrr = ev.binary_scores([False] * 5 + [True])
    assert (r5, r10) == (0.0, 1.0) and ndcg == pytest.approx(1 / math.log2(7))
    assert ev.binary_scores([False] * 10 + [True]) == (0.0, 0.0, 0.0, 0.0, 0.0)
    assert ev.binary_scores([]) == (0.0, 0.0, 0.0, 0.0, 0.0)


def test_squad_relevance_by_overlap_or_answer():
    q = EvalQuery("q", "?", doc_id="Art", span=(100, 200), answers=("Denver Broncos",))
    assert ev.squad_relevant("Art", 150, 300, "text", q)  # overlaps
    assert ev.squad_relevant("Art", 0, 101, "text", q)  # one character is enough
    assert not ev.squad_relevant("Art", 0, 100, "text", q)  # [start, end): touching is not overlapping
    assert not ev.squad_relevant("Art", 200, 300, "text", q)
    assert ev.squad_relevant("Art", 300, 400, "the denver  Broncos won", q)  # answer elsewhere in the article
    assert not ev.squad_relevant("Other", 150, 300, "Denver Broncos", q)  # wrong article


def _hit(doc_id, start, end, text, evidence):
    return SimpleNamespace(
        passage=SimpleNamespace(doc_id=doc_id, start=start, end=end, text=text),
        evidence=SimpleNamespace(text=evidence),
    )


def test_score_squad_and_evidence():
    q = EvalQuery("q", "who won?", doc_id="Art", span=(100, 200), answers=("Broncos",))
    hits = [_hit("Other", 0, 50, "Broncos", "Broncos"), _hit("Art", 120, 180, "x", "nothing here")]
    s = ev.score_squad(hits, q)
    assert s.ndcg10 == pytest.approx(1 / math.log2(3)) and s.recall1 == 0.0 and s.recall5 == 1.0
    assert s.evidence is False  # the top hit is from another article
    assert s.top_relevant is False
    s = ev.score_squad([_hit("Art", 120, 180, "The Broncos won.", "The Broncos won.")], q)
    assert s.ndcg10 == 1.0 and s.evidence is True and s.top_relevant is True
    assert s.short_answer is False  # no short answer ("not found"): a miss


def test_short_answer_counts_its_first_quote_from_the_questions_article():
    q = EvalQuery("q", "who won?", doc_id="Art", span=(100, 200), answers=("Broncos",))
    hits = [_hit("Art", 120, 180, "The Broncos won.", "The Broncos won.")]

    def quote(doc_id, text):
        return qa.Quote(text, 0, len(text), doc_id, 1)

    assert ev.score_squad(hits, q, [quote("Art", "The Broncos won."), quote("Art", "x")]).short_answer is True
    # The answer in the second quote only, or in another article's sentence, is not enough.
    assert ev.score_squad(hits, q, [quote("Art", "It rained."), quote("Art", "The Broncos won.")]).short_answer is False
    assert ev.score_squad(hits, q, [quote("Other", "The Broncos won.")]).short_answer is False


def test_sample_queries_is_deterministic_and_ordered():
    qs = [EvalQuery(str(i), f"q{i}") for i in range(100)]
    a, b = ev.sample_queries(qs, 10), ev.sample_queries(qs, 10)
    assert a == b and len(a) == 10
    assert [int(q.qid) for q in a] == sorted(int(q.qid) for q in a)
    assert ev.sample_queries(qs, None) == qs and ev.sample_queries(qs, 1000) == qs


# ----------------------------------------------------------------- readers
def _write_beir(folder, docs, queries, qrels, split="test"):
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w") as fh:
        for _id, title, text in docs:
            fh.write(json.dumps({"_id": _id, "title": title, "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w") as fh:
        for _id, text in queries:
            fh.write(json.dumps({"_id": _id, "text": text}) + "\n")
    (folder / "qrels").mkdir(exist_ok=True)
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t{s}" for q, d, s in qrels]
    (folder / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n")
    return folder


def test_read_beir(tmp_path):
    folder = _write_beir(
        tmp_path / "beir",
        [("d1", "First", "Alpha text."), ("d2", "", "Beta text."), ("d3", "Only title", "")],
        [("q1", "alpha?"), ("q2", "nothing relevant"), ("q3", "beta?")],
        [("q1", "d1", 1), ("q1", "d2", 2), ("q2", "d1", 0), ("q3", "d2", 1), ("q3", "missing", 1)],
        split="train",
    )
    ds = ev.load_dataset(folder)
    assert ds.kind == "beir" and ds.name == "beir/train"
    assert ds.ids == ("d1", "d2", "d3")
    assert ds.titles == ("First", "", "Only title")
    assert ds.texts == ("Alpha text.", "Beta text.", "Only title")  # a title-only entry indexes its title
    # q2 has no relevant document (score 0) and is dropped; unknown corpus ids are ignored
    assert [(q.qid, dict(q.relevant)) for q in ds.queries] == [("q1", {"d1": 1, "d2": 2}), ("q3", {"d2": 1})]


def test_read_beir_split_choice(tmp_path):
    folder = _write_beir(tmp_path / "b", [("d1", "", "x")], [("q1", "x?")], [("q1", "d1", 1)], split="dev")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    assert ev.read_beir(folder, split="dev").name == "b/dev"
    with pytest.raises(ev.DatasetError):
        ev.read_beir(folder)  # test.tsv is preferred and is empty
    with pytest.raises(ev.DatasetError):
        ev.read_beir(folder, split="nope")


def _squad_json():
    return {
        "version": "1.1",
        "data": [
            {
                "title": "Super_Bowl_50",
                "paragraphs": [
                    {
                        "context": "The Broncos won.",
                        "qas": [{"id": "a1", "question": "Who won?", "answers": [{"text": "Broncos", "answer_start": 4}] * 2}],
                    },
                    {
                        "context": "It was in California.",
                        "qas": [{"id": "a2", "question": "Where?", "answers": [{"text": "California", "answer_start": 10}]}],
                    },
                ],
            },
            {
                "title": "Warsaw",
                "paragraphs": [{"context": "Warsaw is a city.", "qas": [{"id": "b1", "question": "What is Warsaw?", "answers": [{"text": "a city", "answer_start": 10}]}]}],
            },
        ],
    }


def test_read_squad(tmp_path):
    path = tmp_path / "dev-v1.1.json"
    path.write_text(json.dumps(_squad_json()))
    for where in (path, tmp_path):  # the file, or the folder holding it
        ds = ev.load_dataset(where)
        assert ds.kind == "squad"
        assert ds.ids == ("Super_Bowl_50", "Warsaw")
        assert ds.titles == ("Super Bowl 50", "Warsaw")
        assert ds.texts[0] == "The Broncos won.\n\nIt was in California."
        q1, q2, q3 = ds.queries
        assert (q1.qid, q1.doc_id, q1.answers) == ("a1", "Super_Bowl_50", ("Broncos",))  # duplicates merged
        assert ds.texts[0][slice(*q1.span)] == "The Broncos won."
        assert ds.texts[0][slice(*q2.span)] == "It was in California."
        assert ds.texts[1][slice(*q3.span)] == "Warsaw is a city."
        # the answer offsets inside the paragraph stay valid in the joined article
        assert ds.texts[0][q2.span[0] + 10 :].startswith("California")


def test_load_dataset_refuses_unknown(tmp_path):
    with pytest.raises(ev.DatasetError):
        ev.load_dataset(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ev.DatasetError):
        ev.load_dataset(tmp_path / "empty")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ev.DatasetError):
        ev.load_dataset(bad)


def test_qa_eval_reports_bad_dataset(tmp_path, capsys):
    from qa.cli import main as cli_main

    assert cli_main(["eval", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not exist" in err


@pytest.mark.parametrize("option", ["--dense-weight", "--sentence-weight"])
def test_qa_eval_refuses_a_weight_outside_0_to_1(tmp_path, capsys, option):
    from qa.cli import main as cli_main

    assert cli_main(["eval", str(tmp_path), option, "1.5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {option} must be between 0 and 1")


def test_format_table_has_one_row_per_result():
    r = ev.EvalResult("d", "beir", 3, 5, 2, 0.5, 0.5, 1.0, 1.0, 0.5, 10.0, 1.0, 0.2, 0.6, 128)
    table = ev.format_table([("run a", r), ("run b", r)])
    lines = table.splitlines()
    assert len(lines) == 4 and "nDCG@10" in lines[0] and lines[2].startswith("run a")
    assert "per_query" not in r.to_dict() and r.to_dict()["ndcg10"] == 0.5


# --------------------------------------------------------- end to end, model
@pytest.mark.slow
def test_evaluate_end_to_end_on_tiny_beir(tmp_path):
    docs = [
        ("water", "Water", "Water boils at 100 degrees Celsius at sea level. At higher altitude it boils at a lower temperature."),
        ("paris", "Paris", "Paris is the capital of France. The Eiffel Tower was completed in 1889."),
        ("python", "Python", "Python is a programming language created by Guido van Rossum."),
        ("moon", "The Moon", "The Moon orbits the Earth about once every 27 days."),
        ("bees", "Honey bees", "Honey bees communicate the location of flowers with a waggle dance."),
        ("tea", "Tea", "Green tea is made from unoxidized leaves of Camellia sinensis."),
    ]
    queries = [
        ("q1", "At what temperature does water boil at sea level?"),
        ("q2", "Who created the Python programming language?"),
        ("q3", "How do bees tell each other where flowers are?"),
    ]
    qrels = [("q1", "water", 1), ("q2", "python", 1), ("q3", "bees", 1)]
    folder = _write_beir(tmp_path / "tiny", docs, queries, qrels)
    result = ev.evaluate(folder, settings=qa.Settings(index_dir=tmp_path / "unused"))
    assert result.kind == "beir" and result.queries == 3 and result.documents == 6 and result.passages >= 6
    for value in (result.ndcg10, result.recall1, result.recall5, result.recall10, result.mrr10):
        assert 0.0 <= value <= 1.0
    assert result.queries_per_s > 0 and result.build_s > 0
    by_id = {s.qid: s for s in result.per_query}
    assert by_id["q1"].ndcg10 == 1.0 and by_id["q2"].ndcg10 == 1.0
    assert not (tmp_path / "unused").exists()  # the throw-away index never touches the settings' folder
