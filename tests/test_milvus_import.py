"""Bulk import (QA_STORE_IMPORT_DIR): the Parquet files Milvus imports, the
folder's errors, and the fall back to upserts on an engine without import.

An import into a server that has it (Milvus 2.3.5) needs that server's own
venv: bench/milvus_import_check.py runs it by hand.
"""

import json
import logging
import os

import numpy as np
import pytest

import qa
from qa.storage.milvus import bulk as milvus_import
from qa.storage.milvus.bulk import Column
from helpers import DOCS, add_all, open_index

COLUMNS = [Column("id", "INT64"), Column("doc_id", "VARCHAR"), Column("vector", "FLOAT_VECTOR"),
           Column("text", "VARCHAR"), Column("meta", "JSON")]


def rows(n: int, dim: int = 4) -> list[dict]:
    vecs = np.random.default_rng(0).random((n, dim), dtype=np.float32)
    return [{"id": 2**62 + i, "doc_id": f"dóc-{i}", "vector": vecs[i].tolist(), "text": f"text {i} \"quoted\"",
             "meta": {"lines": [i, i + 1], "title": "Tè"}, "extra": "not a column"} for i in range(n)]


def test_import_files_have_the_column_types_milvus_2_3_reads(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    want = rows(5)
    paths = milvus_import.write_files(want, COLUMNS, tmp_path, file_rows=2)
    assert [p.name for p in paths] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    for p in paths:
        # string, not large_string; list<float32>, not fixed_size_list; JSON as a string; no other column.
        assert pq.read_schema(p).types == [pa.int64(), pa.string(), pa.list_(pa.float32()), pa.string(), pa.string()]
        assert pq.read_schema(p).names == ["id", "doc_id", "vector", "text", "meta"]
    got = [r for p in paths for r in pq.read_table(p).to_pylist()]
    assert [r["id"] for r in got] == [r["id"] for r in want] and [r["doc_id"] for r in got] == [r["doc_id"] for r in want]
    assert np.array_equal(np.array([r["vector"] for r in got], np.float32), np.array([r["vector"] for r in want], np.float32))
    assert [json.loads(r["meta"]) for r in got] == [r["meta"] for r in want]


def test_the_bm25_function_output_is_no_column():
    pymilvus = pytest.importorskip("pymilvus")
    s = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", pymilvus.DataType.INT64, is_primary=True)
    s.add_field("terms", pymilvus.DataType.VARCHAR, max_length=100, enable_analyzer=True)
    s.add_field("bm25", pymilvus.DataType.SPARSE_FLOAT_VECTOR)
    s.add_function(pymilvus.Function(name="f", function_type=pymilvus.FunctionType.BM25,
                                     input_field_names=["terms"], output_field_names=["bm25"]))
    columns, key = milvus_import.columns_of(s)
    assert columns == [Column("id", "INT64"), Column("terms", "VARCHAR")] and key == Column("id", "INT64")


def test_a_missing_import_folder_is_a_clear_error(tmp_path):
    with pytest.raises(qa.StoreError, match="is not a folder; create it where the Milvus server reads it"):
        milvus_import.check_folder(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(qa.StoreError, match="is not a folder"):
        milvus_import.check_folder(tmp_path / "file")
    assert milvus_import.check_folder(tmp_path).is_absolute()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into any folder")
def test_an_unwritable_import_folder_is_a_clear_error(tmp_path):
    (tmp_path / "ro").mkdir(mode=0o500)
    with pytest.raises(qa.StoreError, match="not writable by docqa; give this user write access"):
        milvus_import.check_folder(tmp_path / "ro")


def answers(idx) -> list:
    out = []
    for q in ("green tea leaves", "espresso under pressure", "wheels and gears", "a question about nothing"):
        a = idx.answer(q, k=3)
        out.append((a.found, [(h.doc_id, h.citation.label, h.text, round(h.score, 4)) for h in a.hits]))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("milvus_settings", ["milvus-server"], indirect=True)  # Lite ignores the setting
def test_an_engine_without_import_gets_upserts_and_the_same_answers(milvus_settings, fake, tmp_path, monkeypatch,
                                                                     caplog):
    from qa.storage.milvus.store import PASSAGES

    folder = tmp_path / "import"
    folder.mkdir()
    monkeypatch.setattr(milvus_import, "IMPORT_ROWS", 1)  # every commit would import
    with pytest.raises(qa.StoreError, match="QA_STORE_IMPORT_DIR=.*missing is not a folder"):
        open_index(milvus_settings.replace(store_import_dir=str(tmp_path / "missing")), fake)

    idx = open_index(milvus_settings.replace(store_import_dir=str(folder)), fake)
    with caplog.at_level(logging.WARNING, logger="docqa.milvus"):
        add_all(idx)
        idx.add_texts(["Kites fly high over the dunes."], ids=["kites"])
    warned = [r.getMessage() for r in caplog.records if r.name == "docqa.milvus"]
    assert len(warned) == 1 and "does not support bulk import" in warned[0] and "UNIMPLEMENTED" in warned[0]
    # pymilvus's own error log of the expected answer is left out.
    assert not [r for r in caplog.records if "bulk_insert" in r.getMessage()]
    assert list(folder.iterdir()) == []  # asked before any file was written
    stored = idx._storage.client.query(PASSAGES, filter="", output_fields=["count(*)"])[0]["count(*)"]
    assert stored == len(idx)
    with_setting = answers(idx)

    # The same documents without the setting, on the same engine.
    plain = qa.Index.open(settings=milvus_settings, embedder=fake, rebuild=True)
    add_all(plain)
    plain.add_texts(["Kites fly high over the dunes."], ids=["kites"])
    assert answers(plain) == with_setting and sorted(d.doc_id for d in plain.documents()) == sorted([*DOCS, "kites"])


@pytest.mark.slow
@pytest.mark.parametrize("milvus_settings", ["milvus-server"], indirect=True)  # Lite ignores the setting
@pytest.mark.filterwarnings("ignore:.*ORM-style PyMilvus API")  # pymilvus 3.0 on Collection
def test_the_engine_marks_bm25_as_a_function_output(milvus_settings, fake, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pymilvus import Collection

    from qa.storage.milvus.store import PASSAGES

    idx = open_index(milvus_settings, fake)
    add_all(idx)
    alias = milvus_import.connect("test-import", milvus_settings.store_uri)
    columns, key = milvus_import.columns_of(Collection(PASSAGES, using=alias).schema)
    names = ["id", "doc_id", "vector", "terms", "text", "meta", "sentences"]
    assert [c.name for c in columns] == names and key == Column("id", "INT64")
    # docqa's own rows, as stored, make import files of the 2.3.5 layout.
    stored = idx._storage.client.query(PASSAGES, filter="", output_fields=names, limit=100)
    (path,) = milvus_import.write_files(stored, columns, tmp_path)
    assert pq.read_schema(path).types == [pa.int64(), pa.string(), pa.list_(pa.float32()), pa.string(), pa.string(),
                                          pa.string(), pa.string()]
    assert pq.read_table(path).num_rows == len(idx)
