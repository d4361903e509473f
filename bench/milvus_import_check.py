"""By hand: docqa's bulk import (qa/storage/milvus/bulk.py) against a real Milvus 2.3.5 standalone.

The milvus-lite 2.5 engine of the contract test has no import, and docqa's
own collections need 2.5's BM25 function, which 2.3.5 lacks; so this script
loads docqa-shaped passage rows (the passage collection's fields minus
``terms``/``bm25``) into a 2.3.5 server with docqa's import module, then:

- imports the same ids again: count(*) must stay the same (import inserts,
  the module deletes the ids first);
- queries a document's passages by doc_id and finds a passage by its vector;
- times the import against upserts of the same rows (256 a request, as the
  store writes them);
- imports rows of the wrong dimension: the failure must come back as a
  StoreError naming the server's reason.

It runs in the venv that has ``milvus==2.3.5`` and pymilvus 2.3 (see
/tmp/m235/probe.py for how that venv was made), loading only
qa/errors.py and qa/storage/milvus/bulk.py from this checkout, so the module is
checked under pymilvus 2.3.8 as well:

    python bench/milvus_import_check.py --venv /tmp/m235/venv [--rows 30000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIM = 384  # all-MiniLM-L6-v2's, docqa's default model
PASSAGES_PER_DOC = 10
NAME = "docqa_passages_check"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--venv", required=True, type=Path, help="venv with milvus==2.3.5 and pymilvus 2.3")
    ap.add_argument("--rows", type=int, default=30_000)
    ap.add_argument("--file-rows", type=int, default=12_000, help="rows a Parquet file (several files: several tasks)")
    ap.add_argument("--port", type=int, default=19536)
    ap.add_argument("--data", type=Path, default=Path("/tmp/m235/import_check"), help="the server's data (wiped)")
    args = ap.parse_args()
    python = args.venv / "bin" / "python"
    if Path(sys.prefix).resolve() != args.venv.resolve():  # run again in the 2.3.5 venv
        os.execv(str(python), [str(python), __file__, *sys.argv[1:]])
    run(args)


def load_module():
    """qa.storage.milvus.bulk and qa.errors from this checkout, without qa/__init__ (which needs docqa's dependencies)."""
    for name, folder in (("qa", "qa"), ("qa.storage", "qa/storage"), ("qa.storage.milvus", "qa/storage/milvus")):
        package = types.ModuleType(name)  # stand-ins whose __init__ is never run
        package.__path__ = [str(ROOT / folder)]
        sys.modules[name] = package
    from qa.storage.milvus import bulk

    return bulk


def passage_id(doc_id: str, sha256: str, n: int) -> int:
    # The formula of qa.storage.milvus.store.passage_id (that module needs docqa's dependencies).
    digest = hashlib.blake2b(f"{doc_id}\0{sha256}\0{n}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**63 - 1)


def make_rows(n: int, version: str, dim: int = DIM, prefix: str = "doc") -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    sentences = rng.integers(-127, 128, (5, dim), dtype=np.int8).tobytes()
    rows = []
    for i in range(n):
        doc, k = f"{prefix}-{i // PASSAGES_PER_DOC:05d}.txt", i % PASSAGES_PER_DOC
        text = f"{version}: passage {k} of {doc}. " + "Words of a passage about something. " * 16
        rows.append({
            "id": passage_id(doc, "ab" * 32, k), "doc_id": doc, "vector": vecs[i].tolist(), "text": text,
            "meta": {"start": 600 * k, "end": 600 * k + len(text), "lines": [k + 1, k + 3], "title": doc,
                     "sentences": [[0, 40], [40, 120]]},
            "sentences": base64.b64encode(sentences).decode("ascii"),
        })
    return rows


def create(name: str, alias: str):
    from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, utility

    if utility.has_collection(name, using=alias):
        utility.drop_collection(name, using=alias)
    c = Collection(name, CollectionSchema([
        FieldSchema("id", DataType.INT64, is_primary=True),
        FieldSchema("doc_id", DataType.VARCHAR, max_length=4096),
        FieldSchema("vector", DataType.FLOAT_VECTOR, dim=DIM),
        FieldSchema("text", DataType.VARCHAR, max_length=65_535),
        FieldSchema("meta", DataType.JSON),
        FieldSchema("sentences", DataType.VARCHAR, max_length=65_535),
    ]), using=alias, consistency_level="Strong")
    c.create_index("vector", {"index_type": "HNSW", "metric_type": "IP", "params": {"M": 16, "efConstruction": 200}})
    c.load()
    return c


def count(c) -> int:
    return c.query(expr="", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]


def run(args) -> None:
    import pymilvus
    from milvus import MilvusServer

    mi = load_module()
    mi.IMPORT_FILE_ROWS = args.file_rows
    print(f"pymilvus {pymilvus.__version__}, qa.storage.milvus.bulk from {mi.__file__}", flush=True)
    shutil.rmtree(args.data, ignore_errors=True)
    folder = args.data / "import"  # the server's machine: local storage, same absolute path
    server = MilvusServer(data_dir=str(args.data), proxy_port=args.port)
    t0 = time.time()
    server.start()  # returns once /healthz answers
    print(f"Milvus 2.3.5 up in {time.time() - t0:.1f} s on port {args.port}", flush=True)
    failures = 0

    def check(ok: bool, what: str) -> None:
        nonlocal failures
        failures += not ok
        print(f"  [{'ok' if ok else 'FAILED'}] {what}", flush=True)

    try:
        folder.mkdir(parents=True)
        alias = mi.connect("check", f"http://127.0.0.1:{args.port}")
        c = create(NAME, alias)
        first = make_rows(args.rows, "v1")
        report = mi.bulk_import(alias, NAME, first, folder)
        print(f"import 1: {report.rows} rows in {report.files} files, {report.seconds:.1f} s, of which "
              f"{report.wait_s:.1f} s waiting from 'Completed' until a query found every row", flush=True)
        check(count(c) == args.rows, f"count(*) = {count(c)} after the first import")
        check(list(folder.iterdir()) == [], "the import files are removed")

        second = make_rows(args.rows, "v2")
        report = mi.bulk_import(alias, NAME, second, folder)
        print(f"import 2 (same ids, new text): {report.rows} rows, {report.seconds:.1f} s "
              f"(waiting {report.wait_s:.1f} s)", flush=True)
        check(count(c) == args.rows, f"count(*) = {count(c)} after importing the same ids again")

        doc = first[args.rows // 2]["doc_id"]
        got = c.query(expr=f"doc_id == {mi.quote(doc)}", output_fields=["id", "text", "meta"],
                      consistency_level="Strong")
        want = {r["id"] for r in second if r["doc_id"] == doc}
        check({g["id"] for g in got} == want and len(got) == PASSAGES_PER_DOC
              and all(g["text"].startswith("v2:") for g in got),
              f"query doc_id == {doc!r}: {len(got)} rows, all of the second import")
        probe = second[args.rows // 3]
        hit = c.search([probe["vector"]], "vector", {"metric_type": "IP", "params": {"ef": 64}}, limit=3,
                       output_fields=["doc_id"], consistency_level="Strong")[0][0]
        check(hit.id == probe["id"] and hit.entity.get("doc_id") == probe["doc_id"],
              f"vector search: top hit {hit.id} ({hit.entity.get('doc_id')}, IP {hit.distance:.4f})")

        # The same rows as upserts, the way the store writes them without the setting.
        u = create(NAME + "_upsert", alias)
        t = time.time()
        for i in range(0, len(second), 256):
            u.upsert(second[i : i + 256])
        upserted = time.time() - t
        u.flush()
        flushed = time.time() - t
        check(count(u) == args.rows, f"upserts: {args.rows} rows in {upserted:.1f} s (+ flush: {flushed:.1f} s)")

        try:
            mi.bulk_import(alias, NAME, make_rows(100, "bad", dim=DIM - 1, prefix="bad"), folder)
            check(False, "rows of the wrong dimension: no error")
        except mi.StoreError as exc:
            check("failed" in str(exc) and "QA_STORE_IMPORT_DIR" in str(exc), f"rows of the wrong dimension: {exc}")
    finally:
        try:
            pymilvus.connections.disconnect("check")
        finally:
            server.stop()
            print("server stopped", flush=True)
    print("all checks passed" if not failures else f"{failures} checks FAILED")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
