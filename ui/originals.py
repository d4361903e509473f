"""Download links for the original files the source viewer shows: unguessable, short-lived.

A link is minted by an event handler (behind the chat's login, when there
is one) for one file that the index holds as it was indexed, and is served
by :class:`ui.guard.Guard` itself: no copy of the file in Gradio's cache
(which the upload quota counts), no folder opened to Gradio's file route.
Knowing a link's token is the permission, as with a pre-signed URL; it
lapses after ``TTL_S``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote

PREFIX = "/docqa/original/"
TTL_S = 3600.0
MAX_LINKS = 1000  # the oldest go first


class Links:
    """Tokens to files, each valid for ``ttl_s`` seconds."""

    def __init__(self, ttl_s: float = TTL_S, max_links: int = MAX_LINKS):
        self.ttl_s, self.max_links = ttl_s, max_links
        self._links: OrderedDict[str, tuple[Path, float]] = OrderedDict()
        self._lock = threading.Lock()

    def mint(self, path: str | Path) -> str:
        """A relative URL that downloads ``path`` (relative: it works under a proxy's path prefix too)."""
        token = secrets.token_urlsafe(24)
        path = Path(path)
        with self._lock:
            self._links[token] = (path, time.monotonic() + self.ttl_s)
            while len(self._links) > self.max_links:
                self._links.popitem(last=False)
        return f"{PREFIX.lstrip('/')}{token}/{quote(path.name)}"

    def resolve(self, url_path: str) -> Path | None:
        """The file a request path (``/docqa/original/TOKEN/name``) names, None when the link is unknown
        or has lapsed."""
        token = url_path[len(PREFIX):].split("/", 1)[0] if url_path.startswith(PREFIX) else ""
        with self._lock:
            entry = self._links.get(token)
            if entry is None:
                return None
            if entry[1] < time.monotonic():
                del self._links[token]
                return None
            return entry[0]


LINKS = Links()  # one per chat process: the handlers mint, the guard serves
