"""What a Milvus server supports of the features docqa's Milvus store uses, one line each.

    python bench/milvus_probe.py http://127.0.0.1:19530

Against milvus==2.3.5's `milvus-server` (README, Scaling out): dense HNSW,
upsert, JSON, delete by filter and Strong queries work; an index on a sparse
vector field (so BM25 full-text search) does not, and docqa refuses that
version with a message naming 2.5. It drops and creates collections named
``probe_*``.
"""

import sys

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient


def attempt(label, call):
    try:
        print("OK  ", label, str(call())[:120])
    except Exception as exc:  # noqa: BLE001 - reporting what the server refuses is the point
        print("FAIL", label, str(exc).splitlines()[0][:200])


def main(uri: str) -> None:
    c = MilvusClient(uri)
    print("server version", c.get_server_version())
    for name in ("probe_dense", "probe_bm25"):
        if c.has_collection(name):
            c.drop_collection(name)
    s = c.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("doc_id", DataType.VARCHAR, max_length=64)
    s.add_field("meta", DataType.JSON)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=4)
    ix = c.prepare_index_params()
    ix.add_index("vec", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    attempt("dense collection (HNSW, IP, VARCHAR, JSON, Strong)",
            lambda: c.create_collection("probe_dense", schema=s, index_params=ix, consistency_level="Strong"))
    rows = [{"id": i, "doc_id": f"d{i % 2}", "meta": {"a": i}, "vec": np.random.rand(4).tolist()} for i in range(6)]
    attempt("insert", lambda: c.insert("probe_dense", rows))
    attempt("upsert", lambda: c.upsert("probe_dense", rows[:2]))
    attempt("dense search", lambda: c.search(
        "probe_dense", data=[[1, 0, 0, 0]], anns_field="vec", limit=3, output_fields=["doc_id", "meta", "vec"],
        search_params={"metric_type": "IP", "params": {"ef": 64}}, consistency_level="Strong"))
    attempt("delete by doc_id filter", lambda: c.delete("probe_dense", filter='doc_id in ["d0"]'))
    attempt("query after delete (Strong)",
            lambda: c.query("probe_dense", filter="id >= 0", output_fields=["id"], consistency_level="Strong"))

    s = c.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("terms", DataType.VARCHAR, max_length=1000, enable_analyzer=True, analyzer_params={"type": "standard"})
    s.add_field("bm25", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vec", DataType.FLOAT_VECTOR, dim=4)
    s.add_function(Function(name="f", function_type=FunctionType.BM25, input_field_names=["terms"],
                            output_field_names=["bm25"]))
    ix = c.prepare_index_params()
    ix.add_index("vec", index_type="HNSW", metric_type="IP", params={"M": 16, "efConstruction": 200})
    ix.add_index("bm25", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    attempt("collection with the BM25 function and a sparse index",
            lambda: c.create_collection("probe_bm25", schema=s, index_params=ix, consistency_level="Strong"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:19530")
