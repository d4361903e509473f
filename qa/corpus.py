"""The corpus folder: which files it holds, and copying new ones in safely."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .documents import SUPPORTED_SUFFIXES
from .errors import DocumentError, UnknownDocumentError

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


@dataclass(frozen=True)
class Scan:
    """What the corpus folder holds: its documents' files by doc id, and the
    entries that were not taken, each with the reason (a link pointing
    outside the folder, a broken link)."""

    files: dict[str, Path]
    problems: tuple[DocumentError, ...] = ()


def scan(corpus_dir: Path, allow_outside_links: bool = False) -> Scan:
    """Supported files under ``corpus_dir``, keyed by their path relative to it.

    The relative path (with forward slashes) is the document id, so two files
    of the same name in different subfolders stay distinct. Hidden entries
    (a name starting with a dot) are skipped. A link is followed when what it
    points at lies inside ``corpus_dir`` (or ``allow_outside_links``), and
    reported otherwise: a link to /etc/passwd must not have its lines quoted
    in answers. A link back to a folder above it (a loop) is reported, not followed.
    """
    files: dict[str, Path] = {}
    problems: list[DocumentError] = []
    if not corpus_dir.is_dir():
        return Scan(files)
    root = corpus_dir.resolve()
    stack = [(corpus_dir, "", frozenset({root}))]  # folder, its id prefix, the real folders above it
    while stack:
        folder, prefix, above = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as exc:
            problems.append(DocumentError(prefix or ".", f"cannot be listed ({exc.strerror or exc}); skipped"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden files and editor droppings
            rel = f"{prefix}{entry.name}"
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir()  # follows links
                is_file = entry.is_file()
            except OSError:
                continue  # gone since listed
            if is_link:
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    if Path(rel).suffix.lower() in SUPPORTED_SUFFIXES or not Path(rel).suffix:
                        problems.append(DocumentError(rel, "is a broken link (what it points at does not exist); skipped"))
                    continue
                if not allow_outside_links and not target.is_relative_to(root):
                    if is_dir or Path(rel).suffix.lower() in SUPPORTED_SUFFIXES:
                        what = "folder" if is_dir else "file"
                        problems.append(DocumentError(
                            rel, f"is a link to a {what} outside the corpus folder ({target}); not indexed "
                            "(copy it into the corpus folder, or set QA_ALLOW_OUTSIDE_LINKS=1 to follow such links)"
                        ))
                    continue
            if is_dir:
                real = path.resolve()
                if real in above:
                    problems.append(DocumentError(rel, "is a link to a folder that contains it (a loop); not followed"))
                else:
                    stack.append((path, rel + "/", above | {real}))
            elif is_file and path.suffix.lower() in SUPPORTED_SUFFIXES:
                files[rel] = path
    return Scan(dict(sorted(files.items())), tuple(problems))


def corpus_files(corpus_dir: Path) -> dict[str, Path]:
    """The documents' files of :func:`scan` (links outside the folder left out)."""
    return scan(corpus_dir).files


def file_stat(path: Path) -> list[int]:
    """What changes when a file is written: size, modification time, and the
    inode change time and inode number, which a copy that restores the
    modification time (``cp -p``, ``rsync -t``) still changes."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def file_digest(path: Path) -> str:
    """BLAKE2b of the file's bytes: tells a file that was only touched (or
    copied over with its old times) from one whose content changed."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _umask() -> int:
    try:  # Linux shows it without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
        # mkstemp makes the file private (0600); a document in the corpus gets
        # the ordinary permissions any other new file would get.
        os.fchmod(fd, (stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH) & ~_umask())
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def import_file(index, src: Path, name: str | None = None, pages=None):
    """Copy one file into the index's corpus folder under a safe name and index it.

    Returns the index's AddReport. A file the index refuses (binary, empty,
    unsupported, too big) raises :class:`DocumentError` and is taken out
    again; a refused replacement puts the previous version back, so the
    corpus and the index stay exactly as they were. ``pages(doc_id, event)``
    hears of each page read by OCR (Index.sync).
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
        return index.add_files([copied], pages=pages)
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


def remove_document(index, doc_id: str) -> Path | None:
    """Remove ``doc_id`` from ``index`` and, when it came from the corpus folder, delete its file
    there (otherwise the next sync would bring it straight back); the file deleted, if any.

    Raises :class:`UnknownDocumentError` for an id the index does not hold."""
    info = next((d for d in index.documents() if d.doc_id == doc_id), None)
    if info is None or info.origin != "corpus":
        index.remove(doc_id)  # an unknown id raises here, before anything is deleted
        return None
    # The file first: a sync between the two steps then removes the document rather than re-adding it.
    path = index.settings.corpus_dir / info.doc_id
    path.unlink(missing_ok=True)
    try:
        index.remove(doc_id)
    except UnknownDocumentError:
        pass  # a sync saw the file gone and removed it meanwhile
    return path
