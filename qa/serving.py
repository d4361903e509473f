"""Getting an index ready to serve the chat: opened, synced with the corpus
folder, its model loaded. Used by `qa serve` and by ``python -m ui.app``."""

from __future__ import annotations

from .index import Index
from .settings import Settings
from .types import AddReport


def prepare_serving(settings: Settings, log=print) -> tuple[Index, AddReport]:
    """The index, synced with the corpus folder, its model loaded: (index, sync report).

    A sync another process is running is not waited for: the chat serves the
    last commit and adopts the other's when it lands."""
    index = Index.open(settings=settings)
    log(f"Syncing {settings.corpus_dir} into {index.location} ...")
    report = index.sync(wait=False, pages=lambda doc_id, event: _log_ocr(log, doc_id, event))
    index.embedder.embed(["warm-up"])  # loads the model (and exports it, the first time)
    return index, report


def _log_ocr(log, doc_id: str, event: dict) -> None:
    """A scanned document read at start-up says how far OCR has got, a line per page."""
    if "done" in event:
        log(f"  OCR {doc_id}: page {event['done']} of {event['ocr']}")
