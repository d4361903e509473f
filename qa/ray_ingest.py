"""Reading and embedding a corpus on a Ray cluster, for the index to commit.

Two Ray Data stages, both driven from :meth:`Index.sync` (``ray_address=``):

1. read: files -> documents, in stateless tasks (PDF parsing spreads out);
   a file that cannot be read comes back as its error message.
2. embed: documents -> chunks, passage vectors and sentence vectors, with
   ``map_batches`` on an actor pool; each actor loads the model once.

Everything that decides what the index holds stays in the driver: which
documents changed, which were renamed, and the passage ids, given in the
order of the sorted corpus files whoever embedded what. Results are matched
to their document by doc id and its text's SHA-256, never by arrival order.
Workers run the same chunk_document/embed_documents code as the plain path,
so passages and vectors are identical (the model embeds one text per run,
so a vector does not depend on how the work was split).

On a cluster, the corpus folder and the model cache must be at the same
paths on every node (a shared file system), and docqa installed there.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

from . import readers
from .embedding import embed_passages, load_embedder, recorded_backend, runs_like
from .errors import DocumentError, IndexMismatchError, MissingExtraError, QAError
from .ingest import Embedded, Progress, chunk_document, embed_documents, read_documents
from .settings import Settings
from .storage import Manifest
from .types import Document

# Documents per map_batches call: enough passages for the model's own
# length-sorted batches, small enough that a few slow documents do not hold
# one actor while the others idle.
DOCS_PER_BATCH = 16
# Files per read task.
FILES_PER_TASK = 8


def connect(address: str):
    """The ``ray`` module, connected to ``address``: "local" starts a private
    instance, "auto" joins the cluster this machine belongs to, and
    "ray://host:10001" reaches a remote one. A Ray already started in this
    process (``ray.init`` by the caller) is used as it is."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise MissingExtraError(
            "indexing with Ray needs Ray Data, which is not installed: pip install 'docqa[ray]' "
            "(or run `qa index` without --ray)"
        ) from exc
    if not ray.is_initialized():
        try:
            # Warnings only: Ray's start-up chatter would bury the index report.
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise QAError(
                f"could not connect to Ray at {address!r} ({exc}); start a cluster with `ray start --head` "
                "and use --ray auto, give its ray://host:10001 address, or use --ray local"
            ) from exc
    return ray


class RayIngest:
    """The read and embed steps of one sync, run on Ray."""

    def __init__(self, settings: Settings, address: str, manifest: Manifest):
        # Workers load the model the settings name: an index built with an
        # embedder object given to Index.open cannot be extended by them.
        if manifest.model != settings.model or not runs_like(settings.backend, manifest.backend):
            raise IndexMismatchError(
                f"the index holds vectors of model {manifest.model!r} ({manifest.backend}), but Ray workers "
                f"load the configured model {settings.model!r} ({settings.backend}); set QA_MODEL and "
                "QA_BACKEND to the index's, or index without Ray"
            )
        # Workers run the index's int8 variant, whatever their CPU would pick.
        self.settings = settings.replace(backend=recorded_backend(manifest.backend))
        self.ray = connect(address)

    def read(self, paths: dict[str, Path], max_bytes: int) -> tuple[list[Document], list[DocumentError]]:
        """As index.read_documents, with the files read in Ray tasks."""
        if not paths:
            return [], []
        items = [{"doc_id": doc_id, "path": str(path)} for doc_id, path in paths.items()]
        ds = self.ray.data.from_items(items).map_batches(
            _read_batch, fn_kwargs={"max_bytes": max_bytes, "ocr": readers.ocr_options(self.settings.ocr,
                                                                                   self.settings.ocr_languages)},
            # (no OCR cache: the workers' disks are theirs, and a cluster reads each file once)
            batch_size=FILES_PER_TASK, batch_format="numpy"
        )
        got = {row["doc_id"]: row for row in ds.iter_rows()}
        docs, errors = [], []
        for doc_id in paths:  # the corpus order, not the order tasks finished in
            row = got[doc_id]
            if row["error"]:
                errors.append(pickle.loads(row["error"]))
            else:
                docs.append(pickle.loads(row["doc"]))
        return docs, errors

    def embed(self, docs: list[Document], progress: Progress | None = None) -> dict[str, "Embedded | DocumentError"]:
        """Each document's chunks, passage vectors and sentence vectors, by
        doc id (or the DocumentError of one that could not be chunked in time);
        ``progress`` gets (documents done, documents)."""
        if not docs:
            return {}
        actors, cpus = self._pool()
        # Documents travel pickled: Arrow cannot hold dataclasses, and Ray would
        # pickle them anyway, with a warning for every block.
        items = [{"doc_id": d.doc_id, "sha256": d.sha256, "doc": pickle.dumps(d)} for d in docs]
        ds = self.ray.data.from_items(items).map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"settings": self.settings},
            compute=self.ray.data.ActorPoolStrategy(size=actors),
            num_cpus=cpus,
            batch_size=DOCS_PER_BATCH,
            batch_format="numpy",
        )
        want = {d.doc_id: d.sha256 for d in docs}
        out: dict[str, Embedded] = {}
        for row in ds.iter_rows():
            doc_id = row["doc_id"]
            if want.get(doc_id) != row["sha256"] or doc_id in out:
                raise QAError(f"Ray returned an unexpected result for {doc_id!r}; nothing was written, run it again")
            out[doc_id] = pickle.loads(row["result"])
            if progress is not None:
                progress(len(out), len(docs))
        missing = sorted(set(want) - set(out))
        if missing:
            raise QAError(f"Ray returned no result for {len(missing)} documents ({missing[0]}, ...); nothing was written")
        return out

    def _pool(self) -> tuple[int, float]:
        """Actors, and CPUs each: one actor per node, holding all its CPUs,
        because the model's runtime already uses every core of its machine
        (more actors per node would only fight over them)."""
        cpus = [n["Resources"].get("CPU", 0) for n in self.ray.nodes() if n.get("Alive")]
        cpus = [c for c in cpus if c >= 1]
        if not cpus:
            raise QAError("the Ray cluster has no node with a free CPU to embed on")
        return len(cpus), min(cpus)


def _read_batch(batch, max_bytes: int, ocr=None):
    """Ray task: read each file; a DocumentError travels back pickled in the row's error."""
    docs, errors = [], []
    for doc_id, path in zip(batch["doc_id"], batch["path"]):
        read, failed = read_documents({str(doc_id): Path(str(path))}, max_bytes, ocr)
        docs.append(pickle.dumps(read[0]) if read else b"")
        errors.append(pickle.dumps(failed[0]) if failed else b"")
    return {"doc_id": batch["doc_id"], "doc": docs, "error": errors}


class _EmbedActor:
    """Ray actor: loads the model once, then chunks and embeds batches of documents."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = load_embedder(settings)

    def __call__(self, batch):
        docs = [pickle.loads(b) for b in batch["doc"]]
        chunks, refused = {}, {}
        for d in docs:
            try:
                chunks[d.doc_id] = chunk_document(d, self.embedder, self.settings)
            except DocumentError as exc:  # past the time ceiling: the driver reports and remembers it
                refused[d.doc_id] = exc
        ok = [d for d in docs if d.doc_id in chunks]
        done = embed_documents(ok, [chunks[d.doc_id] for d in ok],
                               lambda texts, spans: embed_passages(self.embedder, texts, spans))
        return {
            "doc_id": batch["doc_id"],
            "sha256": batch["sha256"],
            "result": [pickle.dumps(done.get(d.doc_id, refused.get(d.doc_id))) for d in docs],
        }
