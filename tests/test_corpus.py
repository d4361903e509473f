"""The corpus folder: safe names, and imports that leave nothing behind on failure."""

import os
import subprocess
import sys

import pytest

import qa
from qa.corpus import copy_into_corpus, corpus_files, import_file, safe_name
from qa.errors import DocumentError

from helpers import ROOT


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../x.txt", "x.txt"),
        ("/etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("a\x00b\x07c.txt", "abc.txt"),
        ("  report .txt", "report .txt"),
        ("new\nline.txt", "newline.txt"),
    ],
)
def test_safe_name_strips_paths_and_control_characters(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["..", ".", "/", "\x00", "../", ""])
def test_unusable_names_are_refused(name):
    with pytest.raises(DocumentError, match="not a usable file name"):
        safe_name(name)


def test_copy_never_writes_outside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    src = tmp_path / "src.txt"
    src.write_text("hello")
    target = copy_into_corpus(src, corpus, "../../../escaped.txt")
    assert target == corpus / "escaped.txt" and target.read_text() == "hello"
    assert sorted(p.name for p in tmp_path.rglob("escaped.txt")) == ["escaped.txt"]
    assert not list(corpus.glob(".upload-*"))


def test_corpus_files_skips_hidden_and_unsupported(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.md").write_text("b")
    (tmp_path / ".hidden.txt").write_text("h")
    (tmp_path / "archive.zip").write_bytes(b"x")
    assert list(corpus_files(tmp_path)) == ["a.txt", "sub/b.md"]


def test_failed_import_leaves_corpus_and_index_as_they_were(folders, fake, tmp_path):
    idx = qa.Index.open(settings=folders, embedder=fake)
    good = tmp_path / "good.txt"
    good.write_text("A good document about tea.")
    import_file(idx, good)
    before_files = sorted(p.name for p in folders.corpus_dir.iterdir())
    before_docs = [d.doc_id for d in idx.documents()]
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    for bad in (binary, empty):
        with pytest.raises(DocumentError, match=bad.name):
            import_file(idx, bad)
    # Same name as an existing document, bad content: the old file must survive.
    with pytest.raises(DocumentError):
        import_file(idx, binary, name="good.txt")
    assert sorted(p.name for p in folders.corpus_dir.iterdir()) == before_files
    assert (folders.corpus_dir / "good.txt").read_text() == "A good document about tea."
    assert [d.doc_id for d in qa.Index.open(settings=folders, embedder=fake).documents()] == before_docs


def test_unusable_settings_are_refused_with_the_variable_and_the_fix():
    with pytest.raises(qa.SettingsError, match=r"QA_DENSE_WEIGHT='heavy' is not a valid float.*default \(0\.75\)"):
        qa.Settings.from_env({"QA_DENSE_WEIGHT": "heavy"})
    with pytest.raises(qa.SettingsError, match=r"QA_PORT='http' is not a valid int"):
        qa.Settings.from_env({"QA_PORT": "http"})
    # A weight outside [0, 1] would rank silently wrong: refused, from the environment or in code.
    with pytest.raises(qa.SettingsError, match=r"QA_SENTENCE_WEIGHT\) must be between 0 and 1, not 6.0"):
        qa.Settings.from_env({"QA_SENTENCE_WEIGHT": "6"})
    with pytest.raises(qa.SettingsError, match="dense_weight"):
        qa.Settings(dense_weight=-0.1)
    assert qa.Settings.from_env({"QA_SENTENCE_WEIGHT": "0"}).sentence_weight == 0.0  # the ends are allowed


@pytest.mark.parametrize(
    "env, message",
    [
        ({"QA_PORT": "70000"}, r"port \(QA_PORT\) must be between 1 and 65535, not 70000\. Unset it for the default \(7860\)"),
        ({"QA_PASSAGE_TOKENS": "-5"}, r"QA_PASSAGE_TOKENS\) must be at least 16, not -5"),
        ({"QA_MIN_SCORE": "2"}, r"QA_MIN_SCORE\) must be between -1 and 1\.2"),
        ({"QA_MAX_FILE_MB": "0"}, r"QA_MAX_FILE_MB\) must be at least 0.001"),
        ({"QA_WATCH_INTERVAL_S": "0"}, r"QA_WATCH_INTERVAL_S\) must be at least 0.05"),
        ({"QA_OVERLAP_TOKENS": "-1"}, r"QA_OVERLAP_TOKENS\) must be at least 0"),
    ],
)
def test_out_of_range_settings_name_the_range_and_the_default(env, message):
    with pytest.raises(qa.SettingsError, match=message):
        qa.Settings.from_env(env)


def test_cli_reports_a_bad_setting_in_one_line(tmp_path):
    env = {**os.environ, "QA_DENSE_WEIGHT": "heavy", "QA_INDEX_DIR": str(tmp_path / "i"), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "qa", "list"], capture_output=True, text=True, env=env, cwd=ROOT)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: QA_DENSE_WEIGHT='heavy' is not a valid float")


def test_settings_read_from_environment_in_one_place():
    s = qa.Settings.from_env({"QA_PORT": "9000", "QA_READ_ONLY": "yes", "QA_MIN_SCORE": "0.5", "QA_AUTH": "a:b"})
    assert (s.port, s.read_only, s.min_score, s.auth) == (9000, True, 0.5, "a:b")
    assert qa.Settings.from_env({}, port=1234).port == 1234
    assert qa.Settings.from_env({}).host == "127.0.0.1"  # never all interfaces unless asked
