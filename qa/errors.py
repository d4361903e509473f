"""Exceptions raised by docqa. Each message names what went wrong and how to fix it.

The edges (CLI, web chat) catch :class:`QAError` and show its message; anything
else is a bug and is reported as one.
"""


class QAError(Exception):
    """Base class of every error docqa raises on purpose."""


class SettingsError(QAError):
    """A setting (a QA_* environment variable or a Settings field) has a value docqa cannot use."""


class EmptyQuestionError(QAError):
    """The question was empty or whitespace."""


class DocumentError(QAError):
    """A document could not be read or indexed (unsupported, binary, empty, too big).

    ``lasting``: the refusal follows from the file's content (binary, scanned,
    too slow to parse), so the same bytes would be refused again and a sync
    remembers it; False for a passing failure (the file vanished or could
    not be opened), which is tried again next time.
    """

    def __init__(self, source: str, reason: str, lasting: bool = True):
        self.source = source
        self.reason = reason
        self.lasting = lasting
        super().__init__(f"{source}: {reason}")

    def __reduce__(self):  # the default would call __init__ with the message alone
        return (type(self), (self.source, self.reason, self.lasting))


class IndexMismatchError(QAError):
    """The index on disk was built with another model or other chunking settings."""


class CorruptIndexError(QAError):
    """The index on disk is damaged or of an unknown format."""


class IndexLockedError(QAError):
    """Another process is writing to the same index."""


class ModelLoadError(QAError):
    """The embedding model could not be loaded."""


class UnknownDocumentError(QAError):
    """A document id that is not in the index."""


class MissingExtraError(QAError):
    """An optional feature's package is not installed; the message names the pip extra."""


class StorageFullError(QAError):
    """The index could not be written: its disk is full (or another write error); nothing was changed."""


class StoreError(QAError):
    """The configured store (QA_STORE_URI) cannot be used: unknown, unreachable or not installed."""


class ImportUnsupportedError(StoreError):
    """QA_STORE_IMPORT_DIR is set, but the Milvus server has no bulk import (the store then upserts)."""


class SourceError(QAError):
    """A citation's place cannot be shown: offsets outside the document, a page it does not have."""


class LLMError(QAError):
    """The language model server could not give a written answer (down, slow, refusing, garbled)."""
