"""One segment's passages: in memory while a commit builds it, on disk after.

A saved segment's passages stay in its ``passages.jsonl``, memory-mapped,
with the byte offset of each line beside it (``passages.idx.npy``): opening a
large index reads two small arrays instead of parsing every passage, and a
question parses only the few passages it looks at (the recent ones cached).
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Mapping
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np

from ...types import Passage


def _parse(raw: bytes) -> Passage:
    p = json.loads(raw)
    p["sentences"] = tuple(tuple(s) for s in p["sentences"])
    return Passage(**p)


_FIELDS = tuple(f.name for f in fields(Passage))


def _fields(p: Passage) -> dict:
    # A Passage's fields are plain values and tuples: json writes them as they
    # are, so dataclasses.asdict's deep copy (1.1 of the 1.4 s that writing 3,500
    # passages took, cProfile) is not needed.
    return {name: getattr(p, name) for name in _FIELDS}


class PassageTable(Mapping):
    """passage id -> Passage for one segment (ids ascending)."""

    def __init__(self, passages: dict[int, Passage] | None = None):
        self._mem = dict(sorted((passages or {}).items()))
        self.ids = np.fromiter(self._mem, np.int64, len(self._mem))
        self._file = None

    @classmethod
    def open(cls, folder: Path) -> "PassageTable":
        table = cls()
        index = np.load(folder / "passages.idx.npy", allow_pickle=False)  # [n, 3]: id, start, end
        table.ids = np.ascontiguousarray(index[:, 0])
        table._spans = index[:, 1:]
        with open(folder / "passages.jsonl", "rb") as fh:
            table._file = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if table.ids.size else b""
        table._get = lru_cache(maxsize=4096)(table._read)
        return table

    def _read(self, row: int) -> Passage:
        a, b = self._spans[row]
        return _parse(self._file[int(a) : int(b)])

    def _row(self, pid: int) -> int:
        i = int(np.searchsorted(self.ids, pid))
        return i if i < len(self.ids) and self.ids[i] == pid else -1

    def __getitem__(self, pid: int) -> Passage:
        if self._file is None:
            return self._mem[pid]
        row = self._row(int(pid))
        if row < 0:
            raise KeyError(pid)
        return self._get(row)

    def __contains__(self, pid) -> bool:
        return (pid in self._mem) if self._file is None else self._row(int(pid)) >= 0

    def __iter__(self) -> Iterator[int]:
        return (int(i) for i in self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def save(self, folder: Path) -> None:
        """Write passages.jsonl and its offsets (called on an unsaved, in-memory table)."""
        rows = []
        with open(folder / "passages.jsonl", "wb") as fh:
            for pid in self.ids:
                start = fh.tell()
                fh.write(json.dumps(_fields(self[int(pid)]), ensure_ascii=False).encode("utf-8") + b"\n")
                rows.append((int(pid), start, fh.tell() - 1))
        np.save(folder / "passages.idx.npy", np.asarray(rows, np.int64).reshape(-1, 3), allow_pickle=False)
