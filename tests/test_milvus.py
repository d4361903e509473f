"""The Milvus store: choosing it by URI, its errors, its ids, and the same
answers as the embedded store on the seed article with the real model.

The Index contract itself (add, replace, remove, sync, ...) runs on every
store through the ``store_settings`` fixture in test_index.py.
"""

import sys

import numpy as np
import pytest

import qa
from helpers import DOCS, SEED, SEED_QUESTION, add_all, empty_milvus_server, open_index, run_qa


def test_an_unknown_store_uri_says_what_is_accepted(folders, fake):
    with pytest.raises(qa.StoreError, match=r"\.db .*http://localhost:19530"):
        qa.Index.open(settings=folders.replace(store_uri="mysql://db/docs"), embedder=fake)


def test_without_pymilvus_the_error_says_how_to_install_it(folders, fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # what `import pymilvus` meets when it is not installed
    with pytest.raises(qa.StoreError, match=r"pip install 'docqa\[milvus\]'"):
        qa.Index.open(settings=folders.replace(store_uri=str(folders.index_dir / "m.db")), embedder=fake)


def test_the_default_store_needs_no_pymilvus(folders, fake, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    idx = open_index(folders, fake)
    add_all(idx)
    assert idx.search("green tea leaves", k=1)[0].doc_id == "tea"


@pytest.mark.slow  # pymilvus waits out its connection timeout (20 s)
def test_an_unreachable_server_is_a_clear_error(folders, fake):
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus: pip install 'docqa[milvus]'")
    with pytest.raises(qa.StoreError, match="cannot open the Milvus store at http://127.0.0.1:1 .*start the server"):
        qa.Index.open(settings=folders.replace(store_uri="http://127.0.0.1:1"), embedder=fake)


def test_passage_ids_are_content_hashes():
    from qa.storage.milvus.store import PassageIds, passage_id

    a = passage_id("doc.txt", "ab" * 32, 0)
    assert a == passage_id("doc.txt", "ab" * 32, 0) and 0 <= a < 2**63
    assert len({a, passage_id("doc.txt", "ab" * 32, 1), passage_id("doc2.txt", "ab" * 32, 0),
                passage_id("doc.txt", "cd" * 32, 0)}) == 4
    ids = PassageIds("doc.txt", "ab" * 32, 3)
    assert list(ids) == [passage_id("doc.txt", "ab" * 32, i) for i in range(3)] and ids[-1] == ids[2]


def test_the_same_content_gets_the_same_ids_in_any_store(milvus_settings, tmp_path, fake):
    first = open_index(milvus_settings, fake)
    add_all(first)
    other = open_index(milvus_settings.replace(store_uri=str(tmp_path / "other.db")), fake)
    add_all(other)
    ids = lambda idx: {d.doc_id: list(d.passage_ids) for d in idx.documents()}  # noqa: E731
    assert ids(first) == ids(other)


def test_a_second_index_on_the_same_store_sees_the_documents_and_removals(milvus_settings, fake):
    writer = open_index(milvus_settings, fake)
    add_all(writer)
    reader = open_index(milvus_settings, fake)
    assert sorted(d.doc_id for d in reader.documents()) == sorted(DOCS) and len(reader) == len(writer)
    writer.remove("coffee")
    # The reader's registry is as it was opened, but its searches ask Milvus at
    # Strong consistency: the removed passages are gone for it too.
    assert all(h.doc_id != "coffee" for h in reader.search("coffee espresso beans roasted", k=10))
    assert "coffee" not in open_index(milvus_settings, fake)


def test_a_rebuild_starts_the_collections_over(milvus_settings, fake):
    add_all(open_index(milvus_settings, fake))
    rebuilt = qa.Index.open(settings=milvus_settings, embedder=fake, rebuild=True)
    assert rebuilt.documents() == [] and len(rebuilt) == 0
    assert rebuilt.answer("green tea").message.startswith("The index is empty")
    assert open_index(milvus_settings, fake).documents() == []


def test_odd_document_ids_are_replaced_and_removed(milvus_settings, fake):
    idx = open_index(milvus_settings, fake)
    odd = 'say "hi" \\ there.txt'
    idx.add_texts(["Kites fly high over the dunes."], ids=[odd])
    assert idx.add_texts(["Kites now sail across the lake."], ids=[odd]).replaced == (odd,)
    assert [h.text for h in idx.search("kites dunes lake", k=10)] == ["Kites now sail across the lake."]
    add_all(idx)
    idx.remove(odd)
    assert all(h.doc_id != odd for h in idx.search("kites dunes lake", k=10))


def test_a_writer_that_dies_mid_commit_is_redone_by_the_next_sync(milvus_settings, fake, monkeypatch):
    from qa.storage.milvus.store import DOCUMENTS, PASSAGES

    idx = open_index(milvus_settings, fake)
    add_all(idx)
    client = idx._storage.client
    real = client.upsert

    def killed_before_the_registry(name, rows, **kw):
        if name == DOCUMENTS:
            raise RuntimeError("writer killed")
        return real(name, rows, **kw)

    monkeypatch.setattr(client, "upsert", killed_before_the_registry)
    with pytest.raises(RuntimeError):
        idx.add_texts(["Bicycles now fly over mountains."], ids=["bikes"])
    monkeypatch.undo()
    again = open_index(milvus_settings, fake)
    assert again.add_texts(["Bicycles now fly over mountains."], ids=["bikes"]).replaced == ("bikes",)
    bikes = [h.text for h in again.search("bicycle wheels pedals gears fly mountains", k=10) if h.doc_id == "bikes"]
    assert bikes == ["Bicycles now fly over mountains."]
    stored = again._storage.client.query(PASSAGES, filter="", output_fields=["count(*)"])[0]["count(*)"]
    assert stored == len(again)  # nothing duplicated, nothing left behind


# ---------------------------------------------------------- real model
@pytest.mark.slow
@pytest.mark.parametrize("store", ["milvus-server", "milvus-lite"])
def test_seed_question_gets_the_same_citations_as_the_embedded_store(store, seed_index, real_embedder, tmp_path, request):
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus: pip install 'docqa[milvus]'")
    uri = empty_milvus_server(request) if store == "milvus-server" else str(tmp_path / "m.db")
    settings = seed_index.settings.replace(index_dir=tmp_path / "index", store_uri=uri)
    idx = qa.Index.open(settings=settings, embedder=real_embedder)
    assert idx.sync().added == (SEED.name,)
    assert len(idx) == len(seed_index)
    for question in (SEED_QUESTION, "Where was Haniyeh killed?", "What is the boiling point of liquid nitrogen?"):
        want, got = seed_index.answer(question, k=5), idx.answer(question, k=5)
        assert got.found == want.found
        assert [q.text for q in got.quotes] == [q.text for q in want.quotes]
        if store == "milvus-lite":
            # Milvus Lite 3.2 ignores the BM25 index's bm25_k1/bm25_b (it always
            # scores with 1.5/0.75, not docqa's 0.9/0.4), so passages of close
            # scores may trade places; the answer and the cited passages stay.
            assert got.hits[0].citation.label == want.hits[0].citation.label
            assert {h.passage.start for h in got.hits} == {h.passage.start for h in want.hits}
            continue
        assert [h.citation.label for h in got.hits] == [h.citation.label for h in want.hits]
        assert [h.evidence.text for h in got.hits] == [h.evidence.text for h in want.hits]
        # Cosines are exact; BM25 comes from Milvus's own index, normalised before fusion.
        # Milvus counts document frequency per passage, the embedded store damps
        # a document's repeats (Settings.bm25_df_damping): on this one-document
        # corpus that moves the lexical quarter of a fused score by up to ~0.03.
        assert np.allclose([h.explanation.dense for h in got.hits], [h.explanation.dense for h in want.hits], atol=1e-5)
        assert np.allclose([h.score for h in got.hits], [h.score for h in want.hits], atol=0.05)


@pytest.mark.slow
def test_cli_with_a_milvus_store_uri(tmp_path):
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus: pip install 'docqa[milvus]'")

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SEED.name).write_bytes(SEED.read_bytes())
    (corpus / "note.txt").write_text("The Zorblatt festival in Quenville is held every March.")
    env = {"QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(tmp_path / "index"),
           "QA_STORE_URI": str(tmp_path / "milvus.db")}
    out = run_qa("index", env_extra=env)
    assert out.returncode == 0, out.stderr
    assert f"added: {SEED.name}" in out.stdout and "(2 documents," in out.stdout
    assert "1 unchanged" not in out.stdout and "2 unchanged, 0 passages embedded" in run_qa("index", env_extra=env).stdout
    out = run_qa("ask", SEED_QUESTION, "-k", "3", env_extra=env)
    assert out.returncode == 0, out.stderr
    assert f"[1] {SEED.name}, lines" in out.stdout and "Haniyeh" in out.stdout
    out = run_qa("remove", "note.txt", env_extra=env)
    assert out.returncode == 0 and not (corpus / "note.txt").exists()
    out = run_qa("ask", "When is the Zorblatt festival?", "-k", "3", "--json", env_extra=env)
    assert "note.txt" not in out.stdout
    assert run_qa("list", env_extra=env).stdout.split()[0] == SEED.name
    out = run_qa("list", env_extra={**env, "QA_STORE_URI": "ftp://nowhere"})
    assert out.returncode == 1 and out.stderr.startswith("error: QA_STORE_URI='ftp://nowhere'") and "Traceback" not in out.stderr
