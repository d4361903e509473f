"""Ingestion on Ray gives the very index the plain path gives, on a local Ray instance
(the same code path as a cluster); without Ray installed, the error names the extra."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys

import numpy as np
import pytest

import qa
from helpers import ROOT, SEED, SEED_QUESTION
from qa import ray_ingest
from qa.cli import main
from qa.errors import IndexMismatchError, MissingExtraError

NOTES = """# Field notes

The heron waited in the shallows for an hour. It caught two fish.

## Weather

Rain fell all afternoon. The river rose by a hand's width before dusk.
"""


@pytest.fixture(scope="session")
def ray_local():
    """One small local Ray instance for the whole session."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'docqa[ray]'")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


def _cli(settings, *args) -> int:
    return main(["--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir), *args])


def test_without_ray_the_error_names_the_extra(monkeypatch, folders, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does when Ray is not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'docqa\[ray\]'"):
        ray_ingest.connect("local")
    (folders.corpus_dir / "a.txt").write_text("Some text to index.")
    assert _cli(folders, "index", "--ray", "local") == 1  # Ray is not installed: an error
    assert "error: indexing with Ray needs Ray Data, which is not installed: pip install 'docqa[ray]'" in (
        capsys.readouterr().err
    )
    assert not folders.index_dir.exists()  # it failed before anything was written


def test_importing_docqa_does_not_import_ray():
    code = "import sys, qa, qa.cli, qa.ray_ingest; sys.exit('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_ray_refuses_an_index_built_with_an_embedder_object(folders, fake):
    # Workers load the configured model: they cannot add vectors of another one.
    idx = qa.Index.open(settings=folders, embedder=fake)
    (folders.corpus_dir / "a.txt").write_text("Some text to index.")
    with pytest.raises(IndexMismatchError, match="index without Ray"):
        idx.sync(ray_address="local")
    assert len(idx) == 0


def _write_corpus(folder):
    shutil.copy(SEED, folder / SEED.name)
    shutil.copy(ROOT / "README.md", folder / "README.md")  # long, with headings
    (folder / "sub").mkdir()
    (folder / "sub" / "notes.md").write_text(NOTES)
    (folder / "empty.txt").write_text("")  # refused: listed in the report's errors
    for n in range(4):
        (folder / f"short-{n}.txt").write_text(f"Short note {n}. It mentions the number {n * 7} once.")


def _assert_same_index(a: qa.Index, b: qa.Index, atol: float) -> None:
    """Same documents, passages and ids; vectors within ``atol``."""
    assert [(d.doc_id, d.sha256, d.passage_ids, d.title) for d in a.documents()] == [
        (d.doc_id, d.sha256, d.passage_ids, d.title) for d in b.documents()
    ]
    ids = sorted(pid for d in a.documents() for pid in d.passage_ids)
    assert ids and [a._snap.passages[i] for i in ids] == [b._snap.passages[i] for i in ids]
    assert np.abs(a._snap.vectors.reconstruct(ids) - b._snap.vectors.reconstruct(ids)).max() <= atol
    for i in ids:
        sa, sb = a._snap.sentences.get(i), b._snap.sentences.get(i)
        assert sa.shape == sb.shape and np.abs(sa - sb).max() <= atol


@pytest.mark.slow
def test_ray_gives_the_same_passages_ids_vectors_and_citations(tmp_path, ray_local, real_embedder, monkeypatch):
    plain = qa.Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "plain")
    on_ray = plain.replace(index_dir=tmp_path / "ray")
    plain.corpus_dir.mkdir()
    _write_corpus(plain.corpus_dir)

    a = qa.Index.open(settings=plain, embedder=real_embedder)
    report_a = a.sync()
    assert report_a.errors == ("empty.txt: is empty: it has no text to index",)
    # All documents in one batch, as the plain path embeds them: the very same vectors.
    assert _cli(on_ray, "index", "--ray", "local", "--strict") == 4  # 4: one file was refused
    b = qa.Index.open(settings=on_ray, embedder=real_embedder)
    _assert_same_index(a, b, atol=1e-6)
    assert len(b.documents()) == 7 and len(b) == len(a) > 20

    labels = [h.citation.label for h in a.answer(SEED_QUESTION).hits]
    assert labels[0].startswith(f"[1] {SEED.name}, lines")
    assert [h.citation.label for h in b.answer(SEED_QUESTION).hits] == labels

    # One document per map_batches call: passages, ids and vectors stay the
    # same (the model runs one text at a time, so a vector never depends on
    # which texts were embedded beside it).
    monkeypatch.setattr(ray_ingest, "DOCS_PER_BATCH", 1)
    split = plain.replace(index_dir=tmp_path / "ray-split")
    assert qa.Index.open(settings=split).sync(ray_address="local") == report_a  # the Python entry point
    c = qa.Index.open(settings=split, embedder=real_embedder)
    _assert_same_index(a, c, atol=1e-6)
    assert [h.citation.label for h in c.answer(SEED_QUESTION).hits] == labels

    # A change: one file edited, one renamed (its passages move, nothing is
    # embedded), one deleted. Both paths must still agree on every id.
    notes = plain.corpus_dir / "sub" / "notes.md"
    notes.write_text(NOTES + "\nThe heron left at dawn.\n")
    (plain.corpus_dir / "short-1.txt").rename(plain.corpus_dir / "renamed.txt")
    (plain.corpus_dir / "short-2.txt").unlink()
    report_a = a.sync()
    assert b.sync(ray_address="local") == report_a
    assert report_a.added == ("renamed.txt",) and report_a.replaced == ("sub/notes.md",)
    assert report_a.removed == ("short-1.txt", "short-2.txt") and report_a.passages == 1
    _assert_same_index(a, b, atol=1e-6)
