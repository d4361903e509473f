"""docqa: ask questions of your documents and get the passages that answer them, cited.

    import qa
    hits = qa.retrieve("why did Iran order a response?", k=5)
    idx = qa.Index.open("path/to/index_dir")
    idx.add_texts(["text one"], ids=["a"], titles=["A"])
    hits = idx.search("question", k=5)

The names below are loaded on first use (PEP 562): ``import qa`` alone, or
the document reader's worker process, imports neither numpy nor FAISS nor
the model.
"""

from __future__ import annotations

import importlib
import threading

# Public name -> the module that defines it.
_EXPORTS = {
    **dict.fromkeys(
        ("CorruptIndexError", "DocumentError", "EmptyQuestionError", "IndexLockedError", "IndexMismatchError",
         "LLMError", "ModelLoadError", "QAError", "SettingsError", "SourceError", "StorageFullError", "StoreError",
         "UnknownDocumentError"),
        "errors",
    ),
    "Index": "index",
    **dict.fromkeys(("Rect", "SourceView"), "source"),
    "Settings": "settings",
    **dict.fromkeys(
        ("AddReport", "Answer", "Citation", "Document", "Evidence", "Explanation", "Hit", "Passage", "Quote",
         "WrittenAnswer", "WrittenSentence"), "types"
    ),
}

__all__ = sorted([*_EXPORTS, "default_index", "retrieve"])

_default = None
_default_lock = threading.Lock()


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__():
    return __all__


def default_index():
    """The index over the corpus folder, from the environment's settings,
    synced with the folder on first use in this process."""
    global _default
    with _default_lock:
        if _default is None:
            from .index import Index

            idx = Index.open()
            idx.sync()
            _default = idx
        return _default


def retrieve(question: str, k: int = 5, history=()):
    """The ``k`` passages of the corpus that best answer ``question``, best first
    (a list of :class:`qa.Hit`).

    ``history``: earlier answers (or questions) of the conversation, oldest
    first, so that a follow-up like "and why?" keeps its subject.
    """
    return default_index().search(question, k, history)
