"""The real Milvus engine for the contract test and bench/milvus_speed.py.

milvus-lite 2.5 wheels ship Milvus's C++ server as a binary
(bench/milvus_engine.sh installs it into bench/.milvus25). Run as a process
on a local port, the store talks to it over gRPC exactly as to a Milvus
server. MILVUS_SERVER_BIN points at another copy of the binary.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE_GLOB = "bench/.milvus25/lib/python3*/site-packages/milvus_lite/lib/milvus"
START_TIMEOUT_S = 60


class EngineError(RuntimeError):
    """The engine did not start."""


def engine_binary() -> Path | None:
    """The engine's binary: MILVUS_SERVER_BIN, else the one bench/milvus_engine.sh installed; None when neither is there."""
    named = os.environ.get("MILVUS_SERVER_BIN")
    if named:
        return Path(named) if Path(named).is_file() else None
    return next(iter(sorted(ROOT.glob(ENGINE_GLOB))), None)


@contextmanager
def running_engine(binary: Path, folder: Path):
    """URI and process id of the engine, started on a free local port with its data
    and log in ``folder``, and stopped on exit."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen([str(binary), str(folder / "engine.db"), f"127.0.0.1:{port}", "ERROR"],
                                env={**os.environ, "LD_LIBRARY_PATH": str(binary.parent)},
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise EngineError(f"the Milvus engine did not start; see {folder / 'server.log'}") from None
                    time.sleep(0.2)
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
