"""Corpus files that were refused, remembered so a sync does not read them again.

A file refused for its content (binary, scanned, damaged, too slow to parse)
would be refused again: parsing it once more at every sync or server start
would cost the same time for nothing. Each refusal is kept with the file's
stat and a hash of its bytes; a file is tried again only when its bytes
change. The list lives beside the index (``refused.json`` in the index
folder, written whole by a rename), whichever store holds the passages: it
is a cache of what reading decided, not part of the index.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE = "refused.json"
FORMAT, VERSION = "docqa-refused", 1


@dataclass(frozen=True)
class Refusal:
    """One refused corpus file: why, and which bytes were refused."""

    doc_id: str
    reason: str
    file_stat: tuple[int, ...]
    file_hash: str

    @property
    def message(self) -> str:
        return f"{self.doc_id}: {self.reason}"


def load(index_dir: Path) -> dict[str, Refusal]:
    """The remembered refusals by doc id; empty when there are none (or the file is unreadable: it is only a cache)."""
    try:
        data = json.loads((index_dir / FILE).read_text("utf-8"))
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            return {}
        return {
            k: Refusal(k, str(v["reason"]), tuple(int(x) for x in v["file_stat"]), str(v["file_hash"]))
            for k, v in data["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save(index_dir: Path, refusals: dict[str, Refusal]) -> None:
    """Write the refusals whole (a temporary file renamed over the old one)."""
    data = {
        "format": FORMAT, "version": VERSION,
        "files": {k: {"reason": r.reason, "file_stat": list(r.file_stat), "file_hash": r.file_hash}
                  for k, r in sorted(refusals.items())},
    }
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".{FILE}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, index_dir / FILE)
    except OSError:
        tmp.unlink(missing_ok=True)  # a cache: losing it costs one more read of each refused file
