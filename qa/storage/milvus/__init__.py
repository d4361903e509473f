"""The Milvus store: the same index kept in a Milvus server or a Milvus Lite file.

:mod:`.store` implements :class:`qa.storage.Store` through
``pymilvus.MilvusClient``; :mod:`.bulk` loads large commits with the server's
bulk import. Needs ``pip install 'docqa[milvus]'``; nothing here is imported
unless ``Settings.store_uri`` names a Milvus store.
"""

from .store import MilvusStore

__all__ = ["MilvusStore"]
