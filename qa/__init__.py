"""docqa: ask questions of your documents and get the passages that answer them, cited.

    import qa
    hits = qa.retrieve("why did Iran order a response?", k=5)
    idx = qa.Index.open("path/to/index_dir")
    idx.add_texts(["text one"], ids=["a"], titles=["A"])
    hits = idx.search("question", k=5)
"""

from __future__ import annotations

import threading

from .errors import (
    CorruptIndexError,
    DocumentError,
    EmptyQuestionError,
    IndexLockedError,
    IndexMismatchError,
    ModelLoadError,
    QAError,
    SettingsError,
    StoreError,
    UnknownDocumentError,
)
from .index import Index
from .settings import Settings
from .types import AddReport, Answer, Citation, Document, Evidence, Explanation, Hit, Passage, Quote

__all__ = [
    "AddReport", "Answer", "Citation", "CorruptIndexError", "Document", "DocumentError",
    "EmptyQuestionError", "Evidence", "Explanation", "Hit", "Index", "IndexLockedError",
    "IndexMismatchError", "ModelLoadError", "Passage", "QAError", "Quote", "Settings", "SettingsError",
    "StoreError", "UnknownDocumentError", "default_index", "retrieve",
]

_default: Index | None = None
_default_lock = threading.Lock()


def default_index() -> Index:
    """The index over the corpus folder, from the environment's settings,
    synced with the folder on first use in this process."""
    global _default
    with _default_lock:
        if _default is None:
            idx = Index.open()
            idx.sync()
            _default = idx
        return _default


def retrieve(question: str, k: int = 5, history=()) -> list[Hit]:
    """The ``k`` passages of the corpus that best answer ``question``, best first.

    ``history``: earlier answers (or questions) of the conversation, oldest
    first, so that a follow-up like "and why?" keeps its subject.
    """
    return default_index().search(question, k, history)
