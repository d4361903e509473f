"""The corpus folder: which files it holds, and copying new ones in safely."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from .documents import SUPPORTED_SUFFIXES
from .errors import DocumentError

_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def safe_name(name: str) -> str:
    """A plain file name from whatever a user or browser sent.

    Drops any directory part (both separators), control characters, NUL and
    characters Windows forbids, so nothing can be written outside the corpus.
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = _UNSAFE.sub("", base).strip().strip(".")
    if not base:
        raise DocumentError(repr(name), "is not a usable file name")
    stem, suffix = os.path.splitext(base)
    return stem[:150] + suffix[:20]


def corpus_files(corpus_dir: Path) -> dict[str, Path]:
    """Supported files under ``corpus_dir``, keyed by their path relative to it.

    The relative path (with forward slashes) is the document id, so two files
    of the same name in different subfolders stay distinct.
    """
    files: dict[str, Path] = {}
    if not corpus_dir.is_dir():
        return files
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue  # hidden files and editor droppings
        if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            files[rel.as_posix()] = path
    return files


def copy_into_corpus(src: Path, corpus_dir: Path, name: str | None = None) -> Path:
    """Copy a file into the corpus folder under a safe name; returns the new path.

    The copy is written beside its target and renamed, so a crash never leaves
    a half file that the next sync would index.
    """
    target_name = safe_name(name or src.name)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = corpus_dir / target_name
    # Belt and braces: a name that survived safe_name still must not escape.
    if target.resolve().parent != corpus_dir.resolve():
        raise DocumentError(repr(name), "would be written outside the corpus folder")
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=corpus_dir)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def import_file(index, src: Path, name: str | None = None):
    """Copy one file into the index's corpus folder under a safe name and index it.

    Returns the index's AddReport. A file the index refuses (binary, empty,
    unsupported, too big) raises :class:`DocumentError` and is taken out
    again; a refused replacement puts the previous version back, so the
    corpus and the index stay exactly as they were.
    """
    src = Path(src)
    name = safe_name(name or src.name)
    if not src.is_file():
        raise DocumentError(str(src), "does not exist or is not a file")
    corpus_dir = index.settings.corpus_dir
    corpus_dir.mkdir(parents=True, exist_ok=True)
    target = corpus_dir / name
    backup = None
    if target.is_file():
        # A hidden (dot) file is not part of the corpus, so the backup is never indexed.
        fd, tmp = tempfile.mkstemp(prefix=".backup-", dir=corpus_dir)
        os.close(fd)
        backup = Path(tmp)
        shutil.copy2(target, backup)
    copied = None
    try:
        copied = copy_into_corpus(src, corpus_dir, name)
        return index.add_files([copied])
    except BaseException:
        if copied is not None:
            if backup is not None:
                os.replace(backup, target)  # atomic: the old version is back whole
                backup = None
            else:
                copied.unlink(missing_ok=True)
        raise
    finally:
        if backup is not None:
            backup.unlink(missing_ok=True)
