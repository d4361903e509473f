"""Bulk import into a Milvus collection: rows -> Parquet files -> Milvus's Import tasks.

A Milvus server can load rows from files it reads itself (``do_bulk_insert``),
without sending every row through the proxy. docqa uses it for large commits
when ``QA_STORE_IMPORT_DIR`` names a folder that docqa and the server both
see at the same absolute path (the server's local storage, or a shared
mount): the server opens each path as given.

:func:`bulk_import` works on any collection, through a pymilvus connection
alias (``pymilvus.connections.connect(alias=..., uri=...)``), with the
pymilvus calls that 2.3 and 3.0 share: the same code loads docqa's passages
and bench/milvus_import_check.py's Milvus 2.3.5 collection.

Import inserts, it does not upsert: rows whose primary key is already stored
would be there twice. So the keys are deleted first, and a commit that died
after its import and is done again leaves one copy of each row.

The Parquet layout Milvus 2.3.5 accepts (and later versions too): INT64 as
int64, VARCHAR as ``string`` (not ``large_string``), FLOAT_VECTOR as
``list<float32>`` (not ``fixed_size_list``), JSON as a JSON string; every
field of the collection is a column, except the outputs of a function (the
BM25 sparse vector), which the server computes: Milvus's Parquet reader
skips function outputs when it checks the columns (``importutilv2/parquet``),
and pymilvus's own BulkWriter leaves them out (pymilvus PR #2319).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ...errors import ImportUnsupportedError, MissingExtraError, StoreError

log = logging.getLogger("docqa.milvus")

# Below this many new passages a commit upserts. An import has a fixed cost:
# files written, tasks scheduled, then the server loads the new segments
# before a query finds them (10-40 s), where upserts are found at once.
# Measured on Milvus 2.3.5 standalone, same machine, 2 busy cores, docqa-shaped
# rows (bench/milvus_import_check.py): 30,000 rows import in 24-29 s against
# 16-20 s of upserts, 100,000 in 60-64 s against 75 s. So a sync of a few
# documents stays on upserts, a first index or rebuild of a large corpus
# imports; over a network the upserts' bytes cost more and the crossing comes
# earlier. A module constant, so tests can lower it.
IMPORT_ROWS = 50_000
# Rows per Parquet file, one Import task each (Milvus takes one Parquet file a
# task). docqa's rows are about 4-6 kB (the 384-float vector, the text, the
# base64 sentence vectors): some 250 MB a file, far below Milvus's per-file
# limit, one file's Arrow table in memory at a time, and a large commit becomes
# several tasks that a cluster's data nodes run side by side.
IMPORT_FILE_ROWS = 50_000
# The longest wait for a commit's tasks: a cluster may queue them behind others.
IMPORT_TIMEOUT_S = 3600.0
DELETE_IDS = 1000  # primary keys per delete request (a few kB of expression)
_POLL_S = (0.2, 5.0)  # first and longest pause between two state requests
FIX = ("make sure the Milvus server reads {folder} at this same absolute path (its local storage "
       "or a shared mount), or unset QA_STORE_IMPORT_DIR to write with upserts")


@dataclass(frozen=True)
class Column:
    """One column of the import files: a collection field and its pymilvus DataType name."""

    name: str
    kind: str  # "INT64", "VARCHAR", "FLOAT_VECTOR", "JSON", ...


@dataclass(frozen=True)
class ImportReport:
    """What one :func:`bulk_import` loaded."""

    rows: int
    files: int
    seconds: float  # the whole call: files, deletes, tasks and the wait below
    wait_s: float  # of which: from the last task's "Completed" until a query found every row


def check_folder(folder: str | Path) -> Path:
    """``folder`` as an absolute path, once it is known to be a folder docqa can write in."""
    path = Path(folder).expanduser().resolve()  # the server opens paths as given: never a relative one
    if not path.is_dir():
        raise StoreError(f"QA_STORE_IMPORT_DIR={folder} is not a folder; create it where the Milvus server "
                         "reads it too (its local storage or a shared mount), or unset QA_STORE_IMPORT_DIR")
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(f"QA_STORE_IMPORT_DIR={folder} is not writable by docqa; give this user write "
                         "access to it, or unset QA_STORE_IMPORT_DIR")
    return path


def connect(alias: str, uri: str, timeout_s: float = 20) -> str:
    """``alias``, connected to the Milvus server at ``uri`` for :func:`bulk_import`."""
    from pymilvus import connections

    with _orm():
        connections.connect(alias=alias, uri=uri, timeout=timeout_s)
    return alias


def write_files(rows: list[dict], columns: list[Column], folder: Path, file_rows: int | None = None) -> list[Path]:
    """``rows`` as Parquet files of ``file_rows`` (default IMPORT_FILE_ROWS) rows each in ``folder``,
    in the layout Milvus imports."""
    pa, pq = _pyarrow()
    file_rows = file_rows or IMPORT_FILE_ROWS  # read now: a test or bench may have changed it
    paths = []
    for n, start in enumerate(range(0, len(rows), file_rows)):
        chunk = rows[start : start + file_rows]
        table = pa.table({c.name: _array(pa, c, [r[c.name] for r in chunk]) for c in columns})
        path = folder / f"part-{n:05d}.parquet"
        try:
            pq.write_table(table, path)
        except OSError as exc:
            raise StoreError(f"cannot write the import file {path} ({exc}); free space there, "
                             "or unset QA_STORE_IMPORT_DIR") from exc
        paths.append(path)
    return paths


def bulk_import(using: str, collection: str, rows: list[dict], folder: str | Path,
                timeout_s: float = IMPORT_TIMEOUT_S) -> ImportReport:
    """Load ``rows`` (dicts of field values) into ``collection`` through Import tasks.

    ``using`` is a pymilvus connection alias. The rows' primary keys are
    deleted first (import inserts); the files go into a fresh subfolder of
    ``folder`` and are removed once no task reads them. Raises
    :class:`ImportUnsupportedError` when the server has no import (the caller
    writes the rows another way), :class:`StoreError` when a task fails or
    does not finish in time.
    """
    folder = check_folder(folder)
    with _orm():
        return _bulk_import(using, collection, rows, folder, timeout_s)


def _bulk_import(using: str, collection: str, rows: list[dict], folder: Path, timeout_s: float) -> ImportReport:
    from pymilvus import Collection, utility

    start = time.monotonic()
    _check_supported(utility, collection, using)
    table = Collection(collection, using=using)
    columns, key = columns_of(table.schema)
    if key is not None and len({r[key.name] for r in rows}) != len(rows):
        raise ValueError(f"rows for {collection} repeat a primary key: an import would store them twice")
    job = folder / f"docqa-import-{uuid.uuid4().hex}"
    try:
        job.mkdir()
    except OSError as exc:
        raise StoreError(f"cannot create a folder in QA_STORE_IMPORT_DIR={folder} ({exc}); "
                         "give docqa write access to it, or unset QA_STORE_IMPORT_DIR") from exc
    reading = False  # whether a submitted task may still read the files
    try:
        files = write_files(rows, columns, job)
        if key is not None:  # an auto_id key is new on every insert: nothing to delete
            for i in range(0, len(rows), DELETE_IDS):
                ids = ", ".join(_literal(r[key.name]) for r in rows[i : i + DELETE_IDS])
                table.delete(f"{key.name} in [{ids}]")
        tasks = []
        for f in files:
            try:
                tasks.append(utility.do_bulk_insert(collection, files=[str(f)], using=using))
            except Exception as exc:  # pymilvus raises MilvusException, or grpc's RpcError as it is
                if _unsupported(exc):
                    raise ImportUnsupportedError(_unsupported_message(collection, exc)) from exc
                raise StoreError(f"the Milvus server refused to import {f} into {collection} ({exc}); "
                                 + FIX.format(folder=folder)) from exc
            reading = True
        states = _wait(utility, tasks, using, collection, folder, start + timeout_s)
        reading = False
    finally:
        if not reading:  # a task that timed out may still read its file: those stay
            shutil.rmtree(job, ignore_errors=True)
    failed = next((s for s in states if "Failed" in s.state_name), None)
    if failed is not None:
        # The rows of the tasks that completed stay: the commit, done again, deletes them first.
        raise StoreError(f"the import into {collection} failed ({failed.failed_reason or failed.state_name}); "
                         f"where the server could not open a file, {FIX.format(folder=folder)}")
    imported = sum(s.row_count for s in states)
    if imported != len(rows):
        raise StoreError(f"the import into {collection} reported {imported} rows of {len(rows)}; "
                         "run the commit again, or unset QA_STORE_IMPORT_DIR to write with upserts")
    completed = time.monotonic()
    _refresh(utility, table, collection, using)
    if key is not None:
        _wait_searchable(table, key, rows, collection, start + timeout_s)
    end = time.monotonic()
    return ImportReport(rows=imported, files=len(files), seconds=end - start, wait_s=end - completed)


def columns_of(schema) -> tuple[list[Column], Column | None]:
    """The columns an import file of a pymilvus ``CollectionSchema`` needs, and its primary key
    (None when the server assigns it)."""
    columns, key = [], None
    for f in schema.fields:
        # Function outputs (BM25) are computed by the server; an auto_id key is assigned by it.
        # getattr: pymilvus 2.3 has no functions and no is_function_output.
        if getattr(f, "is_function_output", False) or (f.is_primary and f.auto_id):
            continue
        c = Column(f.name, f.dtype.name)
        columns.append(c)
        if f.is_primary:
            key = c
    return columns, key


def quote(text: str) -> str:
    """``text`` as a string literal of Milvus's filter expressions."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ internals
def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("QA_STORE_IMPORT_DIR writes Parquet files with pyarrow, which is not installed: "
                                "pip install 'docqa[milvus]', or unset QA_STORE_IMPORT_DIR") from None
    return pa, pq


def _array(pa, column: Column, values: list):
    kind = column.kind
    if kind == "FLOAT_VECTOR":
        import numpy as np

        flat = np.asarray(values, np.float32)
        if flat.ndim != 2:
            raise ValueError(f"the {column.name} vectors of one import file differ in length")
        # list<float32> with 32-bit offsets: Milvus 2.3 refuses fixed_size_list and large_list.
        offsets = pa.array(np.arange(0, flat.size + 1, flat.shape[1], dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, pa.array(flat.ravel()))
    if kind == "JSON":
        return pa.array([json.dumps(v, ensure_ascii=False) for v in values], pa.string())
    types = {"BOOL": pa.bool_(), "INT8": pa.int8(), "INT16": pa.int16(), "INT32": pa.int32(), "INT64": pa.int64(),
             "FLOAT": pa.float32(), "DOUBLE": pa.float64(), "VARCHAR": pa.string()}
    if kind not in types:
        raise StoreError(f"bulk import does not write {kind} fields ({column.name}); "
                         "unset QA_STORE_IMPORT_DIR to write with upserts")
    return pa.array(values, types[kind])  # pa.string(), not large_string: Milvus 2.3 refuses the latter


def _literal(value) -> str:
    return quote(value) if isinstance(value, str) else str(int(value))


def _check_supported(utility, collection: str, using: str) -> None:
    """Ask the server for its import tasks: one cheap request, before any file is written or key deleted."""
    try:
        with _quiet_unimplemented():
            utility.list_bulk_insert_tasks(limit=1, collection_name=collection, using=using)
    except Exception as exc:
        if _unsupported(exc):
            raise ImportUnsupportedError(_unsupported_message(collection, exc)) from exc
        raise


def _wait(utility, tasks: list[int], using: str, collection: str, folder: Path, deadline: float) -> list:
    """The final states of ``tasks`` (Completed or Failed), asked for until none is running."""
    states, pause = {}, _POLL_S[0]
    while True:
        for task in tasks:
            if task not in states or not _finished(states[task]):
                states[task] = utility.get_bulk_insert_state(task, using=using)
        running = [t for t in tasks if not _finished(states[t])]
        if not running:
            return list(states.values())
        if time.monotonic() > deadline:
            names = ", ".join(sorted({states[t].state_name for t in running}))
            raise StoreError(
                f"the import into {collection} did not finish in time ({len(running)} of {len(tasks)} tasks "
                f"still {names}; their files stay in {folder}); check the server's import tasks and "
                "run the commit again, or unset QA_STORE_IMPORT_DIR to write with upserts"
            )
        time.sleep(pause)
        pause = min(pause * 1.5, _POLL_S[1])


def _refresh(utility, table, collection: str, using: str) -> None:
    """Ask a loaded collection to load the imported segments now.

    Left alone, Milvus 2.3.5 found 5,000 imported rows 6-15 s after
    "Completed"; after a refresh load (``_refresh``: the name pymilvus 2.3 and
    3.0 both take), 4.5 s. A collection that is not loaded stays so."""
    try:
        if utility.load_state(collection, using=using).name == "Loaded":
            table.load(_refresh=True)
    except Exception as exc:  # pymilvus's own types; the wait that follows finds the rows anyway
        log.debug("refresh load of %s failed: %s", collection, exc)


def _wait_searchable(table, key: Column, rows: list[dict], collection: str, deadline: float) -> None:
    """Return once a Strong query finds every row: upserts are found as soon as they return.

    "Completed" is not that: Milvus 2.3.5 reports it while a loaded collection
    does not search the new segments yet (see _refresh)."""
    pending = [[r[key.name] for r in rows[i : i + DELETE_IDS]] for i in range(0, len(rows), DELETE_IDS)]
    pause = _POLL_S[0]
    while True:
        pending = [ids for ids in pending if _found(table, key, ids) < len(ids)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise StoreError(f"the rows imported into {collection} are not searchable in time ({len(pending)} "
                             f"batches of {DELETE_IDS} rows still missing); check that the collection is loaded "
                             "and run the commit again, or unset QA_STORE_IMPORT_DIR to write with upserts")
        time.sleep(pause)
        pause = min(pause * 1.5, _POLL_S[1])


def _found(table, key: Column, ids: list) -> int:
    expr = f"{key.name} in [{', '.join(map(_literal, ids))}]"
    return table.query(expr=expr, output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]


def _finished(state) -> bool:
    # Names, not numbers: both pymilvus 2.3 and 3.0 say "Completed", "Failed", "Failed and cleaned".
    return state.state_name == "Completed" or "Failed" in state.state_name


def _unsupported(exc: Exception) -> bool:
    """Whether ``exc`` says the server has no import at all (Milvus Lite, the milvus-lite 2.5 engine)."""
    code = getattr(exc, "code", None)
    text = f"{code() if callable(code) else ''} {exc}".lower()
    return "unimplemented" in text or "not support" in text or "unsupported" in text


def _unsupported_message(collection: str, exc: Exception) -> str:
    code = getattr(exc, "code", None)
    why = str(code()) if callable(code) else str(exc)
    return (f"QA_STORE_IMPORT_DIR is set, but the Milvus server does not support bulk import into {collection} "
            f"({why}); unset QA_STORE_IMPORT_DIR, docqa writes with upserts")


class _DropUnimplemented(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "UNIMPLEMENTED" not in record.getMessage()


@contextmanager
def _orm():
    # pymilvus 3.0 warns on every ORM call (connections, utility, Collection)
    # that 3.1 removes them; its MilvusClient has no import yet, so these are
    # the calls there are. The warning is for whoever upgrades pymilvus, not
    # for each commit's output.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*ORM-style PyMilvus API")
        yield


@contextmanager
def _quiet_unimplemented():
    # pymilvus logs every failed request as an ERROR with a traceback; a server
    # without import is an expected answer here, reported once by the caller.
    logger, drop = logging.getLogger("pymilvus.decorators"), _DropUnimplemented()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
