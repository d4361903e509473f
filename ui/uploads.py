"""Where the chat's uploads live: a private folder made at start, removed at exit.

Gradio writes every upload (and anything it caches) under ``GRADIO_TEMP_DIR``,
by default a ``/tmp/gradio`` shared by every Gradio app on the machine and never
emptied, so an upload outlived the server and could be fetched back later.
:func:`private_folder` gives each chat process its own folder (mode 0700) and
removes it when the chat stops; a folder left by a chat that was killed (no
chance to clean up) is removed by the next chat that starts. :func:`discard`
removes one upload once the Add handler is done with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

PREFIX = "docqa-uploads-"
GRADIO_ENV = "GRADIO_TEMP_DIR"  # the one setting Gradio reads for its upload and cache folder


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A new empty folder that Gradio uses for uploads while the block runs, removed afterwards.

    Gradio reads ``GRADIO_TEMP_DIR`` when a Blocks and its server are made, so
    build the app inside the block.
    """
    remove_stale()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")).resolve()
    previous = os.environ.get(GRADIO_ENV)
    os.environ[GRADIO_ENV] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(GRADIO_ENV, None)
        else:
            os.environ[GRADIO_ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Remove the upload folders of chats that are no longer running; the folders removed."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        try:
            owned = folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid()
        except OSError:
            continue
        if owned and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def discard(path: Path, folder: Path) -> None:
    """Delete one uploaded file, and the per-upload folder Gradio made for it, if they lie in ``folder``.

    Anything outside ``folder`` is left alone: the handler is given paths, and
    must never delete a file that is not an upload.
    """
    folder = Path(folder).resolve()
    try:
        path = Path(path).resolve()
    except (OSError, RuntimeError):
        return
    if folder not in path.parents:
        return
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
    if path.parent != folder:
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # Gradio's <content hash>/ folder; kept if another upload shares it


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
