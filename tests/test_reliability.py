"""What a user relies on when several processes share an index, files churn,
the disk fills up or the input is hostile: the latest commit is what every
process answers from, no slow document holds the writer lock, a failure is
one clear line and the index survives it.

Most tests use the deterministic fake embedder (the behaviour under test is
the index's bookkeeping, not ranking); the ones marked slow use the real model.
"""

from __future__ import annotations

import errno
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

import qa
from helpers import FakeEmbedder
from qa import readers
from qa.storage import locks
from qa.storage.folder import snapshots as store
from qa.corpus import import_file
from qa.errors import QAError, StorageFullError

DOCS = {
    "tea": "Green tea comes from the leaves of Camellia sinensis. It is steamed or pan fired.",
    "coffee": "Coffee beans are roasted seeds of the coffee plant. Espresso is brewed under pressure.",
    "bikes": "A bicycle has two wheels and pedals. Gears let the rider climb steep hills.",
}


def open_index(settings, embedder, **kw):
    return qa.Index.open(settings=settings, embedder=embedder, **kw)


def add_all(idx):
    return idx.add_texts(list(DOCS.values()), ids=list(DOCS), titles=[k.title() for k in DOCS])


# ------------------------------------------------- every process sees the latest commit
def test_a_document_removed_by_another_writer_is_never_cited_again(store_settings, fake):
    chat = open_index(store_settings, fake)  # a long-running reader, e.g. the chat
    add_all(chat)
    assert chat.search("green tea leaves", k=1)[0].doc_id == "tea"
    cli = open_index(store_settings, fake)  # another process's writer
    cli.remove("tea")
    for question in ("green tea leaves", "Camellia sinensis steamed"):
        assert all(h.doc_id != "tea" for h in chat.search(question, k=5))
        assert all(h.doc_id != "tea" for h in chat.answer(question, k=5).hits)
    assert "tea" not in chat and [d.doc_id for d in chat.documents()] == ["bikes", "coffee"]


def test_a_document_added_by_another_writer_is_found_and_listed(store_settings, fake):
    chat = open_index(store_settings, fake)
    add_all(chat)
    other = open_index(store_settings, fake)
    other.add_texts(["Kites fly on windy beaches with long strings."], ids=["kites"])
    assert chat.search("kites windy beaches", k=1)[0].doc_id == "kites"
    assert "kites" in [d.doc_id for d in chat.documents()] and len(chat) == len(other)


def test_sync_after_another_process_synced_reports_only_what_really_changed(store_settings, fake):
    corpus = store_settings.corpus_dir
    (corpus / "a.txt").write_text("Apples grow on trees in orchards.")
    chat = open_index(store_settings, fake)
    chat.sync()
    (corpus / "b.txt").write_text("Bananas grow in bunches in warm places.")
    open_index(store_settings, fake).sync()  # `qa sync` in a shell while the chat runs
    (corpus / "c.txt").write_text("Cherries are small red stone fruit.")  # dropped in, synced by nobody yet
    report = chat.sync()
    assert report.added == ("c.txt",) and sorted(report.unchanged) == ["a.txt", "b.txt"]
    assert [d.doc_id for d in chat.documents()] == ["a.txt", "b.txt", "c.txt"]


# ------------------------------------------------- nothing slow runs inside the writer
class GatedEmbedder(FakeEmbedder):
    """Embeds texts holding "SLOWDOC" only once released: a document that takes long to embed."""

    def __init__(self):
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def embed(self, texts):
        if any("SLOWDOC" in t for t in texts):
            self.entered.set()
            assert self.release.wait(60)
        return super().embed(texts)


def test_other_writers_and_readers_go_on_while_a_document_is_embedded(folders):
    gated = GatedEmbedder()
    slow = open_index(folders, gated)
    add_all(slow)
    done = []
    writer = threading.Thread(target=lambda: done.append(slow.add_texts(["SLOWDOC about owls at night."], ids=["owls"])))
    writer.start()
    try:
        assert gated.entered.wait(30)
        quick = open_index(folders.replace(lock_timeout_s=0.3), FakeEmbedder())
        assert quick.add_texts(["Kites fly on windy beaches."], ids=["kites"]).added == ("kites",)
        assert quick.search("green tea", k=1)[0].doc_id == "tea"
        assert quick.remove("bikes").removed == ("bikes",)
    finally:
        gated.release.set()
        writer.join(60)
    assert done and done[0].added == ("owls",)
    # The slow writer committed on top of the others' commits, losing none of them.
    assert [d.doc_id for d in open_index(folders, FakeEmbedder()).documents()] == ["coffee", "kites", "owls", "tea"]


class SlowCounter(FakeEmbedder):
    """A tokenizer that takes 20 ms a call on texts holding "SLOWCHUNK"."""

    def count_tokens(self, text: str) -> int:
        if "SLOWCHUNK" in text:
            time.sleep(0.02)
        return super().count_tokens(text)


def test_chunking_past_the_ceiling_is_skipped_remembered_and_retried_once_changed(folders, monkeypatch):
    import qa.ingest

    # 1 s: the slow text needs 4 s to chunk; the quick one must fit even on a loaded machine.
    monkeypatch.setattr(readers, "PARSE_TIMEOUT_S", 1.0)
    corpus = folders.corpus_dir
    (corpus / "slow.txt").write_text(" ".join(f"SLOWCHUNK sentence {i} ends here." for i in range(200)))
    (corpus / "fine.txt").write_text("A fine document about lanterns.")
    idx = open_index(folders, SlowCounter())
    report = idx.sync()
    assert report.added == ("fine.txt",)
    assert len(report.errors) == 1 and report.errors[0].startswith("slow.txt: took longer than 1 s to split")
    assert "slow.txt" not in idx
    assert [(r.doc_id, r.reason.split(";")[0]) for r in idx.refused()] == [
        ("slow.txt", "took longer than 1 s to split into passages")
    ]
    reads = []
    real = qa.ingest.read_document
    monkeypatch.setattr(qa.ingest, "read_document", lambda *a: reads.append(a[1]) or real(*a))
    again = open_index(folders, SlowCounter()).sync()  # a new process: the refusal is remembered on disk
    assert reads == [] and "refused before" in again.errors[0] and again.unchanged == ("fine.txt",)
    (corpus / "slow.txt").write_text("Now a quick document about owls.")
    fixed = open_index(folders, SlowCounter()).sync()
    assert reads == ["slow.txt"] and fixed.added == ("slow.txt",) and idx.refused() == [], fixed


# ------------------------------------------------- failures are one line, the index survives
def test_files_churning_during_syncs_never_raise(folders, fake):
    corpus = folders.corpus_dir
    stop, failures = threading.Event(), []

    def churn():
        n = 0
        while not stop.is_set():
            path = corpus / f"churn{n % 40}.txt"
            try:
                if path.exists():
                    path.unlink()
                else:
                    path.write_text(f"Churning document {n} about weather and tides.")
            except OSError:
                pass
            n += 1

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        idx = open_index(folders, fake)
        for _ in range(8):
            try:
                idx.sync()
            except Exception as exc:  # noqa: BLE001 - any exception is the finding
                failures.append(repr(exc))
    finally:
        stop.set()
        thread.join()
    assert failures == []
    final = idx.sync()  # once still: the index matches the folder
    assert {d.doc_id for d in idx.documents()} == {p.name for p in corpus.iterdir()}
    assert not final.errors


def test_a_rewritten_file_with_its_old_size_and_times_is_read_again(folders, fake):
    path = folders.corpus_dir / "note.txt"
    path.write_text("Owls hunt mice at night.")
    idx = open_index(folders, fake)
    idx.sync()
    before = path.stat()
    path.write_text("Hawks hunt mice at dusk.")  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or `rsync -t` leave it
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert idx.sync().replaced == ("note.txt",)
    assert "Hawks" in idx.search("who hunts at dusk", k=1)[0].text
    os.utime(path)  # touched only: nothing to re-embed
    assert idx.sync().unchanged == ("note.txt",)


def test_a_failed_rebuild_leaves_the_old_index_answering(folders, fake, monkeypatch):
    add_all(open_index(folders, fake))
    rebuilt = open_index(folders, fake, rebuild=True)
    # Until the rebuild's first commit, every other process still sees the old index.
    assert [d.doc_id for d in open_index(folders, fake).documents()] == ["bikes", "coffee", "tea"]

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.os, "replace", full)
    with pytest.raises(StorageFullError, match="no space left on the device; nothing was changed"):
        rebuilt.add_texts(["Only kites now."], ids=["kites"])
    monkeypatch.undo()
    old = open_index(folders, fake)
    assert [d.doc_id for d in old.documents()] == ["bikes", "coffee", "tea"]
    assert old.search("green tea", k=1)[0].doc_id == "tea"
    assert rebuilt.add_texts(["Only kites now."], ids=["kites"]).added == ("kites",)
    assert [d.doc_id for d in old.documents()] == ["kites"]  # the rebuilt index replaced it whole


@pytest.fixture
def small_disk(tmp_path):
    """A 12 MB tmpfs mounted for the test (needs root and CAP_SYS_ADMIN)."""
    mount = tmp_path / "small"
    mount.mkdir()
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True)
    if got.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here to fill up ({got.stderr.decode(errors='replace').strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int) -> Path:
    """Fill the disk of ``folder``, then give back ``leave`` bytes."""
    filler = folder / "filler.bin"
    with open(filler, "wb") as fh:
        block = b"\0" * (1 << 16)
        try:
            while True:
                fh.write(block)
                fh.flush()
        except OSError:
            pass
    size = filler.stat().st_size
    os.truncate(filler, max(0, size - leave))
    return filler


def test_a_full_disk_is_one_line_loses_nothing_and_removal_still_works(small_disk, fake):
    settings = qa.Settings(corpus_dir=small_disk / "corpus", index_dir=small_disk / "index")
    idx = open_index(settings, fake)
    add_all(idx)
    idx.add_texts(["Kites fly on windy beaches."], ids=["kites"])
    fill(small_disk, leave=64 * 1024)
    big = " ".join(f"Sentence {i} of a long report about harbours and ships." for i in range(4000))
    with pytest.raises(StorageFullError, match=r"index at .*: no space left on the device; nothing was changed"):
        idx.add_texts([big], ids=["report"])
    folders = (settings.index_dir, settings.index_dir / "segments")
    assert [p.name for d in folders for p in d.iterdir() if p.name.startswith(".tmp-")] == []
    again = open_index(settings, fake)
    assert [d.doc_id for d in again.documents()] == ["bikes", "coffee", "kites", "tea"]
    assert again.search("green tea", k=1)[0].doc_id == "tea"
    # Two of four documents removed: past the compaction threshold, but a
    # removal needs no merge, so it is written even on this disk.
    again.remove("tea")
    again.remove("coffee")
    assert [d.doc_id for d in open_index(settings, fake).documents()] == ["bikes", "kites"]
    with pytest.raises(StorageFullError):
        open_index(settings, fake, rebuild=True).add_texts([big], ids=["report"])
    assert [d.doc_id for d in open_index(settings, fake).documents()] == ["bikes", "kites"]


def test_a_question_never_waits_for_a_sync(folders, fake):
    add_all(open_index(folders, fake))
    idx = open_index(folders.replace(lock_timeout_s=0.2), fake)
    with locks.sync_lock(folders.index_dir, 1.0) as held, locks.write_lock(folders.index_dir, 1.0):
        assert held  # another process is syncing, and is writing its commit right now
        report = idx.sync(wait=False)
        assert report.notes and "another process is syncing" in report.notes[0]
        assert idx.answer("green tea leaves").hits[0].doc_id == "tea"
        with pytest.raises(qa.IndexLockedError, match="syncing"):
            idx.sync()  # a sync of its own waits, then says so


# ------------------------------------------------- hostile input
def test_links_out_of_the_corpus_folder_are_reported_not_indexed(folders, fake, tmp_path):
    secret = tmp_path / "outside" / "passwd.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0 the password is hunter2 for the vault.")
    corpus = folders.corpus_dir
    (corpus / "leak.txt").symlink_to(secret)
    (corpus / "outside-folder").symlink_to(secret.parent, target_is_directory=True)
    (corpus / "real").mkdir()
    (corpus / "real" / "inside.txt").write_text("Lanterns light the harbour at dusk.")
    (corpus / "alias").symlink_to(corpus / "real", target_is_directory=True)
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    idx = open_index(folders, fake)
    report = idx.sync()
    assert sorted(report.added) == ["alias/inside.txt", "real/inside.txt"]
    assert any(e.startswith("leak.txt: is a link to a file outside the corpus folder") for e in report.errors)
    assert any(e.startswith("outside-folder: is a link to a folder outside") for e in report.errors)
    assert any(e.startswith("broken.txt: is a broken link") for e in report.errors)
    assert all("hunter2" not in h.text for h in idx.search("password vault", k=5))
    allowed = open_index(folders.replace(allow_outside_links=True), fake).sync()
    assert "leak.txt" in allowed.added and "outside-folder/passwd.txt" in allowed.added


@pytest.mark.parametrize("k", [float("nan"), "5", None, 2.5, 0, -3, True])
def test_k_must_be_a_positive_whole_number(store_settings, fake, k):
    idx = open_index(store_settings, fake)
    add_all(idx)
    for verb in (idx.search, idx.answer):
        with pytest.raises(QAError, match="k .*whole number of at least 1"):
            verb("green tea", k=k)


def test_history_must_hold_answers_or_questions(folders, fake):
    idx = open_index(folders, fake)
    add_all(idx)
    with pytest.raises(QAError, match="history must hold earlier answers"):
        idx.answer("and why?", history=[{"question": "tea"}])
    with pytest.raises(QAError, match="history must be a list"):
        idx.answer("and why?", history="green tea")
    first = idx.answer("green tea leaves")
    assert idx.answer("and how is it fired?", history=[first, "x" * 100_000]).query.count("x") <= idx.settings.max_question_chars


def test_a_lone_surrogate_in_a_question_is_cleaned(folders, fake):
    idx = open_index(folders, fake)
    add_all(idx)
    answer = idx.answer("green \ud800 tea leaves")
    assert answer.question == "green \ufffd tea leaves" and answer.hits[0].doc_id == "tea"
    answer.question.encode("utf-8")  # what JSON and the page must carry


def test_files_added_to_the_corpus_get_ordinary_permissions(folders, fake, tmp_path):
    src = tmp_path / "memo.txt"
    src.write_text("A memo about lanterns.")
    old = os.umask(0o022)
    try:
        import_file(open_index(folders, fake), src)
    finally:
        os.umask(old)
    assert (folders.corpus_dir / "memo.txt").stat().st_mode & 0o777 == 0o644


# ------------------------------------------------- the command line
@pytest.mark.slow
def test_cli_output_escapes_control_characters(tmp_path, real_embedder, capsys, monkeypatch):
    from qa import cli

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    evil = "evil\x1b]0;pwned\x07\x1b[2J.txt"
    # Few enough control characters for a text file (many read as binary and are refused).
    (corpus / evil).write_text("Lanterns light the harbour at dusk, \x1b[2J as the old keepers did. " + "Ships come in. " * 20)
    settings = qa.Settings(corpus_dir=corpus, index_dir=index_dir)
    assert qa.Index.open(settings=settings, embedder=real_embedder).sync().added == (evil,)
    monkeypatch.setenv("QA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    for argv in (["list"], ["list", "--details"], ["ask", "what lights the harbour?"]):
        capsys.readouterr()
        cli.main(argv)
        out, err = capsys.readouterr()
        assert "\x1b" not in out + err and "\x07" not in out + err, argv
        assert "\\x1b" in out, argv  # shown, not swallowed
    capsys.readouterr()
    assert cli.main(["remove", evil]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "removed evil\\x1b" in out


@pytest.mark.slow
def test_cli_ask_answers_while_another_process_syncs(tmp_path, real_embedder, monkeypatch, capsys):
    from qa import cli

    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "harbour.txt").write_text("Lanterns light the harbour at dusk.")
    qa.Index.open(settings=qa.Settings(corpus_dir=corpus, index_dir=index_dir), embedder=real_embedder).sync()
    monkeypatch.setenv("QA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("QA_LOCK_TIMEOUT_S", "0.2")
    (corpus / "new.txt").write_text(f"A new file {uuid.uuid4()} nobody synced yet.")
    with locks.sync_lock(index_dir, 1.0), locks.write_lock(index_dir, 1.0):
        code = cli.main(["ask", "what lights the harbour?"])
    out, err = capsys.readouterr()
    assert code == 0 and "harbour.txt" in out and "another process is syncing" in out
    assert "error" not in err
