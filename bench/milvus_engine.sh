#!/usr/bin/env bash
# Install a real Milvus engine for the contract test (tests/conftest.py:
# milvus_server): milvus-lite 2.5.1 ships Milvus's C++ server as a binary,
# which the test starts on a local port. Kept in its own venv so the
# project's environment keeps its own pymilvus and milvus-lite.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .milvus25/bin/python ] || python3 -m venv .milvus25
.milvus25/bin/pip install --quiet --disable-pip-version-check "milvus-lite==2.5.1"
ls .milvus25/lib/python3*/site-packages/milvus_lite/lib/milvus
