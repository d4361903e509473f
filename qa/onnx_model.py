"""The embedding model on ONNX Runtime, exported and int8-quantised locally.

Why not sentence-transformers' own ``backend="onnx"``: it needs optimum, which
pins transformers below 5. The export here uses only torch (already installed
for sentence-transformers) and onnxruntime's quantiser, so it works offline
with the same packages.

The export runs once per model and is cached under the settings'
``model_cache_dir``; it is written to a temporary name and renamed, so two
processes racing to export never see half a file.

Supported: sentence-transformers models whose first module is a Hugging Face
transformer at the model folder's root and whose pooling is the mean of the
token vectors (all-MiniLM-L6-v2 and most of its family). Anything else raises
:class:`ModelLoadError` telling the user to set ``QA_BACKEND=torch``.
"""

from __future__ import annotations

import hashlib
import logging
import json
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .errors import ModelLoadError
from .pooling import mean_pool, pool_spans

# "onnx-int8-u8": unsigned int8 weights, right for any x86 CPU; "onnx-int8-s8":
# signed ones, faster where the CPU has VNNI (see int8_backend_for_this_cpu).
RUNTIMES = ("onnx-int8-u8", "onnx-int8-s8", "onnx")  # the ONNX graphs this module runs (embedding.BACKENDS: the settings)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# One text per model run. The int8 graph quantises its activations with one
# range per run, so a text's vector would depend on the texts run beside it
# (cosine down to 0.98): the same passage indexed alone, in another batch or
# on another Ray worker would get another vector. Alone it also wastes no
# padding; with the fused graph that is faster too (measured here, 346 SQuAD
# paragraphs: 48.7 passages/s one at a time, 47.4 in fours, 42.1 in eights).
BATCH = 1
# More texts than this in one call is a batch job (indexing), not a question.
BATCH_JOB = 8
# A batch job runs on several sessions of few threads each, each taking the
# next text when it is free, rather than on one session whose threads split every
# operator: a one-text run is too small to split well (the threads wait for
# each other after each of its ~50 operators). Two one-thread sessions on this
# 2-core CPU: 1.3-1.5x the passages/s of one two-thread session (bench/RESULTS.md,
# run 12), with the very same vectors: a text's vector does not depend on the
# session's thread count (equal to the last bit on 240 SQuAD paragraphs;
# tests/test_embedding.py checks it), as onnxruntime splits a product's rows,
# not its sums, between threads. At most this many sessions, each holding its
# own copy of the weights (~25 MB).
MAX_BATCH_SESSIONS = 8
# Bumped when the exported graph changes (now: fused operators, int8 weights
# per CPU variant): a cached export of another version is made again.
EXPORT_VERSION = 2
# Encoders whose graph onnxruntime's "bert" optimiser knows how to fuse.
_FUSABLE = ("bert", "roberta", "distilbert", "xlm-roberta", "electra")


def _check_supported(folder: Path) -> int:
    """The model's max_seq_length; raises when the folder is not a mean-pooled ST model."""
    hint = "set QA_BACKEND=torch to run it with sentence-transformers instead"
    if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
        raise ModelLoadError(f"{folder} has no config.json or tokenizer.json for the ONNX backend; {hint}")
    modules = folder / "modules.json"
    if modules.is_file():
        mods = json.loads(modules.read_text())
        if not mods or mods[0].get("path", "") not in ("", "."):
            raise ModelLoadError(f"{folder}: the transformer is not at the model's root; {hint}")
        for m in mods[1:]:
            if m.get("type", "").endswith("Pooling"):
                cfg = json.loads((folder / m["path"] / "config.json").read_text())
                if not cfg.get("pooling_mode_mean_tokens"):
                    raise ModelLoadError(f"{folder}: the ONNX backend supports mean pooling only; {hint}")
    st_cfg = folder / "sentence_bert_config.json"
    if st_cfg.is_file():
        return int(json.loads(st_cfg.read_text()).get("max_seq_length", 256))
    return 256


def _fingerprint(folder: Path) -> str:
    """Changes when the model's weights or config change, so a stale export is not reused."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        p = folder / name
        if p.is_file():
            st = p.stat()
            h.update(f"{name}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def has_vnni() -> bool:
    """Whether this CPU has int8 dot products (AVX-512 VNNI or AVX-VNNI), from
    /proc/cpuinfo; False where that cannot be read (then the unsigned weights,
    right everywhere, are used)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_vnni", "avx_vnni"})
    except OSError:
        pass
    return False


def available_cores() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def batch_sessions(cores: int) -> list[int]:
    """Threads of each session for batch jobs on ``cores`` CPUs: one one-thread
    session per core, up to MAX_BATCH_SESSIONS; past that the cores are shared
    out between the sessions (12 cores: four of two threads, four of one)."""
    sessions = max(1, min(cores, MAX_BATCH_SESSIONS))
    return [cores // sessions + (i < cores % sessions) for i in range(sessions)]


def int8_backend_for_this_cpu() -> str:
    """What ``onnx-int8`` means on this machine for a new index.

    ONNX Runtime multiplies unsigned activations by int8 weights. With VNNI
    (one instruction for four 8-bit products and their sum, no overflow)
    signed weights are exact and faster: 1.35x the unsigned graph's
    passages/s, with the same cosine to fp32 (bench/RESULTS.md, run 11).
    Without VNNI, signed products can saturate 16 bits, so the weights stay
    unsigned. An index records the variant it was embedded with, and its
    questions always use that one, whatever the CPU (qa.embedding).
    """
    return "onnx-int8-s8" if has_vnni() else "onnx-int8-u8"


def export(folder: Path, cache_dir: Path, weights: str | None) -> Path:
    """Path of the (cached) ONNX export of the transformer in ``folder``;
    ``weights``: None for fp32, "u8" or "s8" for int8 weights."""
    target = Path(cache_dir) / f"{folder.name}-{_fingerprint(folder)}"
    # The recipe's version is in the file names: a better recipe never reuses an older file.
    names = {None: f"model-v{EXPORT_VERSION}.onnx", "u8": f"model-v{EXPORT_VERSION}-int8.onnx",
             "s8": f"model-v{EXPORT_VERSION}-int8-s8.onnx"}
    final = target / names[weights]
    if final.is_file():
        return final
    target.mkdir(parents=True, exist_ok=True)
    fp32 = target / f"model-v{EXPORT_VERSION}.onnx"
    try:
        if not fp32.is_file():
            _export_fp32(folder, fp32)
        if weights:
            tmp = target / f".tmp-int8-{weights}-{os.getpid()}.onnx"
            _quantise(fp32, tmp, signed=weights == "s8")
            os.replace(tmp, final)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"could not export {folder} to ONNX ({exc.__class__.__name__}: {exc}); "
            "set QA_BACKEND=torch to use the model without ONNX"
        ) from exc
    return final


def _quantise(fp32: Path, dest: Path, signed: bool = False) -> None:
    """Dynamic int8 quantisation of the weights (activations are quantised per call).

    Unsigned 8-bit weights with per-channel scales: on this CPU family (AVX2
    without VNNI) signed weights saturate 8-bit products unless their range is
    halved, which costs precision. Measured on SQuAD passages, mean cosine to
    fp32: 0.993 with these options, 0.989 signed with reduced range, at the
    same speed. ``signed`` is for VNNI CPUs (see int8_backend_for_this_cpu).
    """
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)  # the quantiser logs generic advice to the root logger
    try:
        quantize_dynamic(
            str(fp32), str(dest), weight_type=QuantType.QInt8 if signed else QuantType.QUInt8, per_channel=True,
            # Fused operators (Attention, SkipLayerNormalization) are outside the
            # standard domain, so shape inference cannot type their outputs.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


def _export_fp32(folder: Path, dest: Path) -> None:
    """Export the transformer, then fuse its attention and layer norms when that is exact."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    config = AutoConfig.from_pretrained(str(folder))
    try:
        # The eager attention exports as the plain graph that onnxruntime's
        # optimiser recognises and fuses; the default (SDPA) does not fuse.
        base = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    except (ValueError, TypeError):  # a model class without that option
        base = AutoModel.from_pretrained(str(folder)).eval()

    class Hidden(torch.nn.Module):
        # transformers 5 takes these by keyword only; the exporter passes positionals.
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    enc = tok(["an example", "a second, longer example text"], padding=True, return_tensors="pt")
    if "token_type_ids" not in enc:
        enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
    plain = dest.with_name(f".tmp-plain-{os.getpid()}.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(base),
            tuple(enc[k] for k in _INPUTS),
            str(plain),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={k: {0: "batch", 1: "tokens"} for k in (*_INPUTS, "last_hidden_state")},
            opset_version=17,
            dynamo=False,
        )
        probe = {k: enc[k].numpy() for k in _INPUTS}
    fused = dest.with_name(f".tmp-fused-{os.getpid()}.onnx")
    try:
        os.replace(fused if _fuse(plain, fused, config, probe) else plain, dest)
    finally:
        fused.unlink(missing_ok=True)
        plain.unlink(missing_ok=True)


def _fuse(src: Path, dest: Path, config, probe: dict) -> bool:
    """Write ``src`` with fused transformer operators to ``dest``; False when
    fusion fails or changes the output on ``probe`` (then the plain export is used).

    Fused attention, embedding and layer norms are about 20% faster in fp32
    and int8 alike (bench/RESULTS.md, run 5)."""
    heads, hidden = getattr(config, "num_attention_heads", 0), getattr(config, "hidden_size", 0)
    if getattr(config, "model_type", "") not in _FUSABLE or not heads or not hidden:
        return False
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        root, level = logging.getLogger(), logging.getLogger().level
        root.setLevel(logging.ERROR)
        try:
            optimize_model(str(src), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1).save_model_to_file(str(dest))
        finally:
            root.setLevel(level)
        import onnxruntime as ort

        expected, got = (
            ort.InferenceSession(str(f), providers=["CPUExecutionProvider"]).run(None, probe)[0] for f in (src, dest)
        )
    except Exception:  # an architecture the optimiser does not know: keep the plain graph
        return False
    real = probe["attention_mask"].astype(bool)  # padding positions may differ and are never pooled
    return bool(np.allclose(got[real], expected[real], atol=1e-3))


class OnnxEmbedder:
    """Mean-pooled, L2-normalised vectors from an ONNX export of the model."""

    def __init__(self, name: str, folder: str | Path, backend: str, cache_dir: str | Path):
        if backend not in RUNTIMES:
            raise ModelLoadError(f"unknown ONNX backend {backend!r}; use one of {', '.join(RUNTIMES)} or torch")
        folder = Path(folder)
        self.name = name
        self.backend = backend
        max_seq = _check_supported(folder)
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - a broken install
            raise ModelLoadError(f"onnxruntime is missing ({exc}): run `pip install onnxruntime`") from exc
        path = export(folder, Path(cache_dir), {"onnx-int8-u8": "u8", "onnx-int8-s8": "s8"}.get(backend))
        # For a question, one session with every core, whose idle threads sleep
        # at once (spinning threads hold both cores after the call and starve
        # FAISS: about 8 ms a question). Batch jobs get their own sessions,
        # made on the first one (a chat that only answers never loads them).
        self._ort, self._path = ort, path
        self._session = self._load(ort, path, spin=False)
        self._batch_sessions: list = []
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_seq)
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        self.max_tokens = max_seq - 2  # [CLS] and [SEP]
        self.dim = int(self._run(["dimension probe"])[0][0].shape[-1])
        self._lock = threading.Lock()

    @staticmethod
    def _load(ort, path: Path, spin: bool, threads: int = 0):
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        opts.intra_op_num_threads = threads  # 0: one per core
        try:
            return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelLoadError(f"could not load {path} ({exc}); delete it to export it again") from exc

    def _sessions_for_batches(self) -> list:
        if not self._batch_sessions:
            self._batch_sessions = [
                self._load(self._ort, self._path, spin=True, threads=n) for n in batch_sessions(available_cores())
            ]
        return self._batch_sessions

    def _run(self, texts: list[str]):
        """Token vectors and encodings of ``texts``, in their order."""
        encs = self._tokenizer.encode_batch(list(texts))
        hidden = [None] * len(texts)
        # Longest first: batches of like lengths waste no padding, and the
        # shortest runs come last, when sessions finish at different times.
        order = np.argsort([-len(e.ids) for e in encs], kind="stable")
        sessions = self._sessions_for_batches() if len(texts) > BATCH_JOB else [self._session]
        # Each session takes the next batch when it is free, so one slowed down
        # (a busy core, fewer threads) never leaves the others waiting long at the end.
        starts, take = iter(range(0, len(order), BATCH)), threading.Lock()

        def work(session) -> None:
            while True:
                with take:
                    i = next(starts, None)
                if i is None:
                    return
                batch = order[i : i + BATCH]
                width = max(len(encs[r].ids) for r in batch)
                ids = np.zeros((len(batch), width), np.int64)
                mask = np.zeros((len(batch), width), np.int64)
                for j, r in enumerate(batch):
                    n = len(encs[r].ids)
                    ids[j, :n] = encs[r].ids
                    mask[j, :n] = 1
                out = session.run(
                    None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
                )[0]
                for j, r in enumerate(batch):
                    hidden[r] = out[j, : len(encs[r].ids)]

        if len(sessions) == 1:
            work(sessions[0])
        else:  # onnxruntime releases the GIL while it runs, so threads run in parallel
            with ThreadPoolExecutor(len(sessions), thread_name_prefix="docqa-embed") as pool:
                for done in [pool.submit(work, s) for s in sessions]:
                    done.result()
        return hidden, encs

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            hidden, _ = self._run(texts)
        return np.stack([mean_pool(h) for h in hidden]).astype(np.float32)

    def embed_passages(self, texts: list[str], spans: list[list[tuple[int, int]]]):
        """Passage vectors and, from the same forward pass, one vector per
        sentence span (character offsets into each text): the mean of the
        sentence's own token vectors, which see the whole passage as context."""
        if not texts:
            return np.zeros((0, self.dim), np.float32), []
        with self._lock:
            hidden, encs = self._run(texts)
        vecs = np.stack([mean_pool(h) for h in hidden]).astype(np.float32)
        sents = [pool_spans(h, e.offsets, s, v) for h, e, s, v in zip(hidden, encs, spans, vecs)]
        return vecs, sents

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return len(self._counter.encode(text, add_special_tokens=False).ids)
