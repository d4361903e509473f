"""A writer killed (SIGKILL) at any point of a commit never corrupts the index:
it reopens in the state before or after the change, and the change can be redone."""

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import qa
from helpers import FakeEmbedder

pytestmark = pytest.mark.slow  # one child process per step of a commit: about 20 s

# Evaluated here and in the child, so both know the two batches.
BATCHES = (
    'before = {f"a{i}": f"First batch document {i} about tea and kettles." for i in range(20)}\n'
    'after = {f"b{i}": f"Second batch document {i} about kites and wind. " * 20 for i in range(300)}\n'
)
_ns: dict = {}
exec(BATCHES, _ns)
BEFORE, AFTER = _ns["before"], _ns["after"]

# The child adds BEFORE, then adds AFTER and kills itself just before the
# N-th step of that second commit (file writes, fsyncs, renames, clean-up).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from helpers import FakeEmbedder
    import qa
    from qa.storage.folder import snapshots as store

    index_dir, kill_at = sys.argv[1], int(sys.argv[2])
    {batches}
    settings = qa.Settings(corpus_dir=index_dir + "-corpus", index_dir=index_dir)
    idx = qa.Index.open(settings=settings, embedder=FakeEmbedder())
    idx.add_texts(list(before.values()), ids=list(before))

    steps = [0]
    def point(fn):
        def wrapped(*a, **k):
            steps[0] += 1
            if steps[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*a, **k)
        return wrapped
    for name in ("_write", "_fsync_tree", "_fsync_dir", "_collect_garbage"):
        setattr(store, name, point(getattr(store, name)))
    store.VectorIndex.save = point(store.VectorIndex.save)
    store.TermFrequencies.save = point(store.TermFrequencies.save)
    store.os.rename = point(store.os.rename)
    store.os.replace = point(store.os.replace)
    idx.add_texts(list(after.values()), ids=list(after))
    print("steps", steps[0])
    """
)


def run_child(index_dir: Path, kill_at: int) -> subprocess.CompletedProcess:
    code = CHILD.format(tests=str(Path(__file__).parent), batches=BATCHES)
    return subprocess.run([sys.executable, "-c", code, str(index_dir), str(kill_at)], capture_output=True, text=True, timeout=300)


def test_kill_at_every_step_of_a_commit(tmp_path):
    dry = run_child(tmp_path / "dry", 0)
    assert dry.returncode == 0, dry.stderr
    total = int(dry.stdout.split()[-1])
    assert total >= 8  # the commit really has that many steps to interrupt
    outcomes = set()
    for kill_at in range(1, total + 1):
        index_dir = tmp_path / f"kill{kill_at}"
        out = run_child(index_dir, kill_at)
        assert out.returncode == -signal.SIGKILL, (kill_at, out.stderr)
        settings = qa.Settings(corpus_dir=tmp_path / "c", index_dir=index_dir)
        idx = qa.Index.open(settings=settings, embedder=FakeEmbedder())  # never CorruptIndexError
        ids = {d.doc_id for d in idx.documents()}
        assert ids in (set(BEFORE), set(BEFORE) | set(AFTER)), kill_at
        outcomes.add(len(ids))
        assert idx.search("tea kettles", k=3)[0].doc_id in BEFORE
        # Redoing the change completes it.
        idx.add_texts(list(AFTER.values()), ids=list(AFTER))
        reopened = qa.Index.open(settings=settings, embedder=FakeEmbedder())
        assert {d.doc_id for d in reopened.documents()} == set(BEFORE) | set(AFTER)
        assert reopened.search("kites wind", k=1)[0].doc_id in AFTER
        # No temporary folder of the killed writer is left behind after the redo.
        assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert outcomes == {len(BEFORE), len(BEFORE) + len(AFTER)}  # both sides of the switch were hit
