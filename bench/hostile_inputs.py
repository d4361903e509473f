"""Reading and chunking time of hostile texts (issue 19's reproductions), with the bundled model's token counter.

    PYTHONPATH=. .venv/bin/python bench/hostile_inputs.py

Prints one row per input: characters, seconds to read (qa.documents.read_document),
seconds to chunk (qa.ingest.chunk_document, the path indexing takes) and passages.
Linear work shows as seconds growing with the characters, not with their square.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa  # noqa: E402
from qa.documents import read_document  # noqa: E402
from qa.embedding import load_embedder  # noqa: E402
from qa.ingest import chunk_document  # noqa: E402

CASES = {
    "one line of words, no sentence end, 100 KB": ("t.txt", "word " * 20_000),
    "same, 400 KB": ("t.txt", "word " * 80_000),
    "same, 4 MB": ("t.txt", "word " * 800_000),
    "160,000 '#'": ("t.txt", "#" * 160_000),
    "'# Title ' + 20,000 '#' + 'x' (.md)": ("t.md", "# Title " + "#" * 20_000 + "x"),
    "50 such lines of 2,000 '#' (.md)": ("t.md", ("# Title " + "#" * 2_000 + "x\n") * 50),
}


def main() -> int:
    embedder, settings = load_embedder(), qa.Settings()
    print("| input | characters | read s | chunk s | passages |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (file, text) in CASES.items():
            path = Path(tmp) / file
            path.write_text(text)
            t0 = time.perf_counter()
            doc = read_document(path, file, 10**9)
            t1 = time.perf_counter()
            chunks = chunk_document(doc, embedder, settings, time_limit_s=3600)
            t2 = time.perf_counter()
            print(f"| {name} | {len(text):,} | {t1 - t0:.2f} | {t2 - t1:.2f} | {len(chunks):,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
