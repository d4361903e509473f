"""What OCR read on each page of a file, kept on disk by the file's content.

Reading a scan costs one to two seconds a page; reading its text back from
here costs nothing, so `qa index --rebuild`, a changed chunker or a second
index of the same files does not OCR again. And the words keep their boxes
(in the pixels of the page image OCR read, with its points per pixel), which
is what a page viewer needs to highlight a sentence where it is printed.

One JSON file per (file content, resolution, languages), written whole and
renamed into place (two processes never see half a file); an entry from
another Tesseract version is not used. The folder is bounded: past
``max_mb``, the files least recently written go first.

Stdlib only (it runs in the parsing worker).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1


@dataclass
class PageReading:
    """One page as Tesseract read it: its TSV, the image's size and points per pixel, and how far
    the image was turned before it read upright."""

    tsv: str
    width: int
    height: int
    scale: float
    turned: int = 0
    error: str = ""  # a lasting verdict ("no words, though not blank"); time-outs are not kept


@dataclass
class OcrCache:
    """The readings of one file's pages; ``folder`` "" keeps nothing."""

    folder: str
    key: str  # the file's content hash, resolution and languages
    engine: str  # Tesseract's version: another version's readings are not used
    max_mb: float = 500.0
    pages: dict[int, PageReading] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def open(cls, folder: str, data: bytes, dpi: int, languages: str, engine: str, max_mb: float) -> "OcrCache":
        key = f"{hashlib.sha256(data).hexdigest()[:40]}-{int(dpi)}-{languages}"
        cache = cls(folder, key, engine, max_mb)
        if folder and max_mb > 0:
            cache._load()
        return cache

    @property
    def path(self) -> Path:
        return Path(self.folder) / self.key[:2] / f"{self.key}.json"

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("engine") != self.engine:
            return
        for number, p in (data.get("pages") or {}).items():
            try:
                self.pages[int(number)] = PageReading(str(p["tsv"]), int(p["width"]), int(p["height"]),
                                                      float(p["scale"]), int(p.get("turned", 0)), str(p.get("error", "")))
            except (KeyError, TypeError, ValueError):
                continue

    def get(self, number: int) -> PageReading | None:
        return self.pages.get(number)

    def put(self, number: int, reading: PageReading) -> None:
        self.pages[number] = reading
        self.changed = True

    def save(self) -> None:
        """Write the readings (when any are new), then keep the folder under its bound. Never raises:
        a cache that cannot be written costs the next read its time, nothing else."""
        if not self.folder or self.max_mb <= 0 or not self.changed:
            return
        body = {"format": FORMAT, "engine": self.engine, "pages": {
            str(n): {"tsv": p.tsv, "width": p.width, "height": p.height, "scale": p.scale, "turned": p.turned,
                     "error": p.error} for n, p in sorted(self.pages.items())}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, ensure_ascii=False)
            os.replace(tmp, self.path)
            self.changed = False
            prune(Path(self.folder), self.max_mb)
        except OSError:
            return


def prune(folder: Path, max_mb: float) -> list[Path]:
    """Delete the least recently written readings until the folder holds at most ``max_mb``; the files deleted."""
    files = []
    for path in folder.glob("*/*.json"):
        try:
            st = path.stat()
        except OSError:
            continue
        files.append((st.st_mtime_ns, st.st_size, path))
    total, limit, gone = sum(size for _, size, _ in files), max_mb * 1_000_000, []
    for _, size, path in sorted(files):
        if total <= limit:
            break
        try:
            path.unlink()
        except OSError:
            continue
        total -= size
        gone.append(path)
    return gone
