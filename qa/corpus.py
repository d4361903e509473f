"""The corpus folder: which files it holds, and copying new ones in safely."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from .documents import SUPPORTED_SUFFIXES, read_document
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


def import_files(index, paths, names=None):
    """Copy files into the index's corpus folder and index them; returns the AddReport.

    Every file is read and checked before anything is copied, and a copy that
    then fails to index is taken back out, so a bad file leaves the corpus and
    the index exactly as they were. ``names`` overrides the target file names
    (a browser upload's original name, say); they are made safe first.
    """
    paths = [Path(p) for p in paths]
    names = list(names) if names is not None else [p.name for p in paths]
    max_bytes = int(index.settings.max_file_mb * 1_000_000)
    targets = [safe_name(n) for n in names]
    for path, target in zip(paths, targets):
        if not path.is_file():
            raise DocumentError(str(path), "does not exist or is not a file")
        read_document(path, target, max_bytes)  # raises before any copy
    corpus = index.settings.corpus_dir
    backups, copies = {}, []
    try:
        for path, target in zip(paths, targets):
            existing = corpus / target
            if existing.exists():
                backups[existing] = existing.read_bytes()
            copies.append(copy_into_corpus(path, corpus, target))
        return index.add_files(copies)
    except BaseException:
        for c in copies:
            if c in backups:
                c.write_bytes(backups[c])
            else:
                c.unlink(missing_ok=True)
        raise
