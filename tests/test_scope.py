"""Questions asked within chosen documents or folders, in every store behind the seam."""

from __future__ import annotations

import json

import pytest

import qa

from helpers import run_qa

FERRY = {
    "north/ferry.txt": "The northern ferry leaves the harbour at nine in the morning, every day but Sunday.",
    "south/ferry.txt": "The southern ferry leaves the harbour at ten in the morning, every day of the week.",
    "south/tea.txt": "Tea is served on the southern ferry from a samovar in the lounge.",
}


def corpus_index(settings, embedder) -> qa.Index:
    for name, text in FERRY.items():
        path = settings.corpus_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    idx = qa.Index.open(settings=settings, embedder=embedder)
    idx.sync()
    return idx


@pytest.mark.slow
def test_a_question_scoped_to_a_document_is_answered_from_it_alone(store_settings, real_embedder):
    idx = corpus_index(store_settings, real_embedder)
    question = "When does the ferry leave the harbour?"
    everywhere = {h.doc_id for h in idx.search(question)}
    assert {"north/ferry.txt", "south/ferry.txt"} <= everywhere  # both answer
    for doc in ("north/ferry.txt", "south/ferry.txt"):
        ans = idx.answer(question, docs=[doc])
        assert ans.found and ans.hits and {h.doc_id for h in ans.hits} == {doc}
        assert {q.doc_id for q in ans.quotes} == {doc}
    # A folder: its documents, and no others.
    assert {h.doc_id for h in idx.search(question, folders=["south"])} <= {"south/ferry.txt", "south/tea.txt"}
    assert idx.search(question, folders=["south"])[0].doc_id == "south/ferry.txt"


def test_a_scope_naming_nothing_indexed_says_so(folders, fake):
    idx = corpus_index(folders, fake)
    with pytest.raises(qa.UnknownDocumentError, match="qa list"):
        idx.answer("ferry?", docs=["west/ferry.txt"])
    with pytest.raises(qa.QAError, match="no indexed document is in the folder 'west'"):
        idx.answer("ferry?", folders=["west"])
    # One id given as a string is one document, not a list of letters.
    assert {h.doc_id for h in idx.search("ferry", docs="north/ferry.txt")} == {"north/ferry.txt"}


@pytest.mark.slow
def test_the_cli_asks_within_a_document_or_folder(folders):
    for name, text in FERRY.items():
        path = folders.corpus_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    env = {"QA_CORPUS_DIR": str(folders.corpus_dir), "QA_INDEX_DIR": str(folders.index_dir)}
    out = run_qa("ask", "When does the ferry leave?", "--json", "--doc", "south/ferry.txt", env_extra=env)
    assert out.returncode == 0, out.stderr
    assert {h["passage"]["doc_id"] for h in json.loads(out.stdout)["hits"]} == {"south/ferry.txt"}
    out = run_qa("ask", "When does the ferry leave?", "--folder", "north", env_extra=env)
    assert out.returncode == 0 and "north/ferry.txt" in out.stdout and "south/" not in out.stdout
    out = run_qa("ask", "ferry?", "--folder", "west", env_extra=env)
    assert out.returncode == 1 and "no indexed document is in the folder" in out.stderr
    assert "Traceback" not in out.stderr
