"""Retrieval quality you can measure: `qa eval DATASET`.

Reads a BEIR folder (``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``)
or a SQuAD v1.1 JSON file, indexes it into a throw-away index through the
public API (:meth:`Index.open`, :meth:`Index.add_texts`), asks every question
with :meth:`Index.search` and scores the hits.

Scoring
-------
BEIR is scored per document: the hits' doc ids, duplicates dropped, form the
ranking (a document counts at the rank of its best passage; more passages are
asked for until 10 documents are ranked); relevance is
graded by the qrels. nDCG@10 uses linear gains and a log2 discount, with the
ideal ranking taken from the qrels (as trec_eval and BEIR do); Recall@k is the
share of the query's relevant documents in the top k; MRR@10 the reciprocal
rank of the first relevant one.

SQuAD is scored per passage, so the numbers do not depend on how documents
were chunked: each article is one document (paragraphs joined with a blank
line) and a hit is relevant when it comes from the question's article and its
span overlaps the gold paragraph, or its text contains a gold answer. There is
one relevant item per question (ideal DCG 1): nDCG@10 is 1/log2(1 + rank of
the first relevant hit), Recall@k whether any of the top k is relevant.
"Evidence accuracy" is the share of questions whose top hit's evidence
sentence (from the question's article) contains a gold answer; "answer"
(short-answer accuracy) the share whose short answer's first quote does, as
the chat shows it above the passages (a question judged "not found" has no
short answer and counts as a miss).

A real-documents folder (``docs/`` with the files, ``questions.jsonl`` with
id, question, doc, page, answer, kind, source; the format of
``shared/data/realdocs``) is indexed with :meth:`Index.add_files`, so the real
readers parse the files, and every question is asked with
:meth:`Index.answer`. A hit cites the gold document and, for a PDF, the gold
page when ``page_start <= page <= page_end`` of its passage (a passage may
run across a page break; DOCX/HTML: the document alone). Hit@1/3/5 is whether
one of the first 1/3/5 hits does. The short answer holds the gold answer when
the normalised answer (NFKC, case-folded, commas and whitespace deleted)
occurs in the normalised quote, not directly preceded or followed by a digit
when the answer starts or ends with one (so "17" does not match "170"):
scored on the first quote and on all quotes joined, each also "cited" (only
quotes whose hit cites the gold document and page count). Unanswerable
questions are right when ``answer.found`` is False; refused answerable ones
are counted apart. :func:`evaluate_realdocs` returns a :class:`RealDocsResult`.

The pure functions (readers, metrics) have no model; :func:`evaluate` loads
the model and builds an index in a temporary folder.
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .errors import QAError
from .index import Index
from .settings import Settings
from .storage import open_store

BATCH_DOCS = 256  # documents per add_texts call (each call writes a snapshot)
DEFAULT_K = 10  # hits asked per question
CUTOFF = 10  # rank cut-off of nDCG and MRR (@10), whatever the number of hits
MAX_DEEPEN_K = 320  # most passages asked to rank CUTOFF distinct BEIR documents
SQUAD_FILE = "dev-v1.1.json"
REALDOCS_QUESTIONS = "questions.jsonl"  # with docs/: a real-documents folder
REALDOCS_K = 5  # hits asked per real-documents question (hit@5 is the deepest reported)
FILE_BATCH = 16  # files per add_files call in a real-documents run
SAMPLE_SEED = 0


class DatasetError(QAError):
    """A dataset folder or file that cannot be read as BEIR or SQuAD."""


# ------------------------------------------------------------------- data
@dataclass(frozen=True)
class EvalQuery:
    """One question and what counts as a right answer to it.

    BEIR: ``relevant`` maps doc id -> graded relevance (> 0).
    SQuAD: ``doc_id`` is the article, ``span`` the gold paragraph's character
    span in the article's text, ``answers`` the gold answer strings.
    """

    qid: str
    text: str
    relevant: Mapping[str, int] = field(default_factory=dict)
    doc_id: str = ""
    span: tuple[int, int] = (0, 0)
    answers: tuple[str, ...] = ()
    page: int | None = None  # real documents: the gold page (1-based; None for DOCX/HTML and unanswerable)
    question_kind: str = ""  # real documents: table-cell, table-row, prose-fact, ..., unanswerable


@dataclass(frozen=True)
class Dataset:
    """Documents to index and questions to ask of them."""

    name: str
    kind: str  # "beir", "squad" or "realdocs"
    ids: tuple[str, ...]
    titles: tuple[str, ...]
    texts: tuple[str, ...]  # empty for "realdocs": its documents are ``files``, read by the real readers
    queries: tuple[EvalQuery, ...]
    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class QueryScore:
    """One question's scores (for paired comparisons between runs)."""

    qid: str
    ndcg10: float
    recall1: float
    recall5: float
    recall10: float
    mrr10: float
    evidence: bool | None = None  # SQuAD: the top hit's evidence holds an answer
    top_relevant: bool | None = None  # SQuAD: the top hit is relevant
    short_answer: bool | None = None  # SQuAD: the short answer's first quote holds an answer


@dataclass(frozen=True)
class EvalResult:
    """Retrieval quality of one index configuration on one dataset."""

    dataset: str
    kind: str
    documents: int
    passages: int
    queries: int
    ndcg10: float
    recall1: float
    recall5: float
    recall10: float
    mrr10: float
    queries_per_s: float
    build_s: float
    search_s: float
    dense_weight: float
    passage_tokens: int
    k: int = DEFAULT_K  # hits asked per question (metrics are always @10)
    evidence_accuracy: float | None = None  # SQuAD only
    evidence_accuracy_relevant: float | None = None  # SQuAD only: among top hits that are relevant
    sentence_weight: float | None = None  # share of the dense score from the best sentence
    short_answer_accuracy: float | None = None  # SQuAD only: the first quote of the short answer holds an answer
    per_query: tuple[QueryScore, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        """The summary fields (no per-query scores), for JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "per_query"}


UNANSWERABLE = "unanswerable"
TABLE_KINDS = ("table-cell", "table-row")


@dataclass(frozen=True)
class RealDocScore:
    """One real-documents question's scores (see the module docstring for the rules)."""

    qid: str
    kind: str
    hit_rank: int | None  # 1-based rank of the first hit citing the gold document (and page); None: none did
    first_quote: bool  # the short answer's first quote holds the gold answer
    first_quote_cited: bool  # ... and that quote's hit cites the gold document and page
    joined: bool  # all quotes joined hold it
    joined_cited: bool  # the quotes whose hit cites the gold document and page, joined, hold it
    found: bool  # answer.found: False is a refusal
    confidence: float


@dataclass(frozen=True)
class KindScores:
    """Shares over one group of questions (a kind, or kinds taken together).

    Retrieval and answer shares are None for the unanswerable group;
    ``refused`` is the share with ``found == False`` (right for unanswerable
    questions, a miss for the others).
    """

    group: str
    questions: int
    hit1: float | None
    hit3: float | None
    hit5: float | None
    first_quote: float | None
    first_quote_cited: float | None
    joined: float | None
    joined_cited: float | None
    refused: float


@dataclass(frozen=True)
class RealDocsResult:
    """Retrieval, short-answer and refusal quality on a folder of real documents."""

    dataset: str
    documents: int
    passages: int
    questions: int
    k: int
    build_s: float
    search_s: float
    groups: tuple[KindScores, ...]
    unanswerable_refused: float | None  # share of unanswerable questions with found == False
    answerable_refused: float  # share of answerable questions with found == False
    refused_files: tuple[str, ...] = ()  # "file: reason" for documents the readers refused
    per_question: tuple[RealDocScore, ...] = field(default=(), repr=False, compare=False)

    def to_dict(self) -> dict:
        """The summary fields (no per-question scores), for JSON."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("per_question", "groups")}
        out["groups"] = [asdict(g) for g in self.groups]
        return out


@dataclass(frozen=True)
class QuestionRecord:
    """What ``--per-question`` writes for one real-documents question: enough to study a failure."""

    qid: str
    kind: str
    question: str
    gold_doc: str | None
    gold_page: int | None
    gold_answer: str | None
    short_answer: tuple[str, ...]  # the quotes, in order
    first_citation: str | None  # the first hit's label
    first_doc: str | None
    first_pages: tuple[int | None, int | None] | None
    hit_rank: int | None
    found: bool
    confidence: float
    first_quote: bool
    joined: bool


# ---------------------------------------------------------------- readers
def read_jsonl(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise DatasetError(f"{path}, line {n}: not JSON ({exc})") from exc


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``query-id -> {corpus-id: score}`` from a BEIR qrels TSV (header optional)."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip():
                continue
            if len(parts) < 3:
                raise DatasetError(f"{path}, line {n}: expected query-id, corpus-id, score")
            try:
                score = int(float(parts[2]))
            except ValueError:
                if n == 1:  # the header
                    continue
                raise DatasetError(f"{path}, line {n}: score {parts[2]!r} is not a number") from None
            qrels.setdefault(parts[0], {})[parts[1]] = score
    return qrels


def _pick_split(folder: Path, split: str | None) -> Path:
    qdir = folder / "qrels"
    if split is not None:
        path = qdir / f"{split}.tsv"
        if not path.is_file():
            raise DatasetError(f"{path} does not exist")
        return path
    found = sorted(qdir.glob("*.tsv")) if qdir.is_dir() else []
    if not found:
        raise DatasetError(f"{qdir} holds no qrels (<split>.tsv)")
    by_name = {p.stem: p for p in found}
    for name in ("test", "dev", "train"):
        if name in by_name:
            return by_name[name]
    return found[0]


def read_beir(folder: str | Path, split: str | None = None) -> Dataset:
    """A BEIR folder: one document per corpus entry; the queries that have
    relevant documents in the qrels (of ``split``; default test, dev, train,
    whichever exists first)."""
    folder = Path(folder)
    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (folder / name).is_file():
            raise DatasetError(f"{folder} is not a BEIR folder: {name} is missing")
    ids, titles, texts = [], [], []
    for d in read_jsonl(folder / "corpus.jsonl"):
        title = str(d.get("title") or "")
        text = str(d.get("text") or "")
        if not text.strip():
            text = title  # a title-only entry is still findable
        if not text.strip():
            continue
        ids.append(str(d["_id"]))
        titles.append(title)
        texts.append(text)
    qrels_path = _pick_split(folder, split)
    qrels = read_qrels(qrels_path)
    known = set(ids)
    queries = []
    for q in read_jsonl(folder / "queries.jsonl"):
        qid = str(q["_id"])
        rel = {d: g for d, g in qrels.get(qid, {}).items() if g > 0 and d in known}
        if rel and str(q.get("text") or "").strip():
            queries.append(EvalQuery(qid, str(q["text"]), relevant=rel))
    if not queries:
        raise DatasetError(f"{folder}: no query has a relevant document in {qrels_path.name}")
    return Dataset(f"{folder.name}/{qrels_path.stem}", "beir", tuple(ids), tuple(titles), tuple(texts), tuple(queries))


def read_squad(path: str | Path) -> Dataset:
    """A SQuAD v1.1 file: one document per article, id = title, paragraphs
    joined with a blank line; each question remembers its paragraph's span."""
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path} is not a SQuAD JSON file ({exc})") from exc
    ids, titles, texts, queries = [], [], [], []
    seen: set[str] = set()
    for article in data:
        doc_id = str(article["title"])
        if doc_id in seen:  # same title twice: keep the ids unique
            doc_id = f"{doc_id}#{len(ids)}"
        seen.add(doc_id)
        parts, pos = [], 0
        for para in article["paragraphs"]:
            context = para["context"]
            span = (pos, pos + len(context))
            parts.append(context)
            pos += len(context) + 2  # the "\n\n" between paragraphs
            for qa in para.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a["text"].strip()))
                if qa["question"].strip():
                    queries.append(EvalQuery(str(qa["id"]), qa["question"], doc_id=doc_id, span=span, answers=answers))
        text = "\n\n".join(parts)
        if not text.strip():
            continue
        ids.append(doc_id)
        titles.append(str(article["title"]).replace("_", " "))
        texts.append(text)
    if not queries:
        raise DatasetError(f"{path} holds no questions")
    return Dataset(path.stem, "squad", tuple(ids), tuple(titles), tuple(texts), tuple(queries))


def read_realdocs(folder: str | Path) -> Dataset:
    """A real-documents folder: the files in ``docs/`` and the questions of
    ``questions.jsonl`` (an unanswerable question has kind "unanswerable" and
    null doc, page and answer)."""
    folder = Path(folder)
    docs, qpath = folder / "docs", folder / REALDOCS_QUESTIONS
    if not docs.is_dir() or not qpath.is_file():
        raise DatasetError(f"{folder} is not a real-documents folder: it needs docs/ and {REALDOCS_QUESTIONS}")
    files = tuple(sorted(p for p in docs.iterdir() if p.is_file() and not p.name.startswith(".")))
    names = {p.name for p in files}
    queries = []
    for q in read_jsonl(qpath):
        qid = str(q.get("id", ""))
        text, kind = str(q.get("question") or ""), str(q.get("kind") or "")
        if not qid or not text.strip() or not kind:
            raise DatasetError(f"{qpath}: every question needs id, question and kind ({q!r:.120})")
        doc, answer, page = q.get("doc"), q.get("answer"), q.get("page")
        if kind == UNANSWERABLE:
            queries.append(EvalQuery(qid, text, question_kind=kind))
            continue
        if not doc or answer is None or not str(answer).strip():
            raise DatasetError(f"{qpath}, {qid}: an answerable question needs doc and answer "
                               f"(kind {UNANSWERABLE!r} for one without)")
        if doc not in names:
            raise DatasetError(f"{qpath}, {qid}: its document {doc!r} is not in {docs}")
        if page is not None and (not isinstance(page, int) or page < 1):
            raise DatasetError(f"{qpath}, {qid}: page must be a 1-based page number or null, not {page!r}")
        queries.append(EvalQuery(qid, text, doc_id=str(doc), answers=(str(answer),), page=page, question_kind=kind))
    if not queries:
        raise DatasetError(f"{qpath} holds no questions")
    return Dataset(folder.name, "realdocs", (), (), (), tuple(queries), files)


def load_dataset(path: str | Path, split: str | None = None) -> Dataset:
    """BEIR when ``path`` is a folder with corpus.jsonl; real documents when it
    holds docs/ and questions.jsonl; SQuAD when it is a .json file or a folder
    holding dev-v1.1.json (or exactly one .json file)."""
    path = Path(path)
    if path.is_dir():
        if (path / "corpus.jsonl").is_file():
            return read_beir(path, split)
        if (path / REALDOCS_QUESTIONS).is_file() and (path / "docs").is_dir():
            return read_realdocs(path)
        if (path / SQUAD_FILE).is_file():
            return read_squad(path / SQUAD_FILE)
        candidates = sorted(path.glob("*.json"))
        if len(candidates) == 1:
            return read_squad(candidates[0])
        raise DatasetError(
            f"{path} is neither a BEIR folder (corpus.jsonl, queries.jsonl, qrels/), a real-documents folder "
            f"(docs/, {REALDOCS_QUESTIONS}) nor a folder with {SQUAD_FILE}"
        )
    if path.is_file() and path.suffix.lower() == ".json":
        return read_squad(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    raise DatasetError(f"{path}: give a BEIR folder or a SQuAD .json file")


def sample_queries(queries: Sequence[EvalQuery], limit: int | None, seed: int = SAMPLE_SEED) -> list[EvalQuery]:
    """All queries, or ``limit`` of them drawn with a fixed seed (kept in file order)."""
    if limit is None or limit >= len(queries):
        return list(queries)
    if limit < 1:
        raise QAError(f"--limit-queries must be at least 1, not {limit}")
    picked = sorted(random.Random(seed).sample(range(len(queries)), limit))
    return [queries[i] for i in picked]


# ----------------------------------------------------------------- metrics
def distinct(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, first occurrence kept."""
    return list(dict.fromkeys(items))


def dcg(gains: Sequence[float], k: int = DEFAULT_K) -> float:
    """Discounted cumulative gain of the first ``k`` gains (linear gain, log2 discount)."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]) if g)


def ndcg_at_k(ranking: Sequence[str], qrels: Mapping[str, int], k: int = DEFAULT_K) -> float:
    """nDCG@k of a ranking of distinct doc ids against graded relevance."""
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)
    best = dcg(ideal, k)
    if best <= 0:
        return 0.0
    return dcg([max(qrels.get(d, 0), 0) for d in ranking], k) / best


def recall_at_k(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Share of the relevant doc ids found in the top ``k``."""
    relevant = {d for d, g in qrels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at_k(ranking: Sequence[str], qrels: Mapping[str, int], k: int = DEFAULT_K) -> float:
    """1 / rank of the first relevant doc id in the top ``k`` (0 when none)."""
    for rank, d in enumerate(ranking[:k], start=1):
        if qrels.get(d, 0) > 0:
            return 1.0 / rank
    return 0.0


def first_relevant(flags: Sequence[bool]) -> int | None:
    """1-based rank of the first true flag, or None."""
    for rank, flag in enumerate(flags, start=1):
        if flag:
            return rank
    return None


def binary_scores(flags: Sequence[bool], k: int = DEFAULT_K) -> tuple[float, float, float, float, float]:
    """(nDCG@k, R@1, R@5, R@10, MRR@k) with one relevant item: the first relevant hit counts."""
    rank = first_relevant(flags)
    if rank is None:
        return 0.0, 0.0, 0.0, 0.0, 0.0
    within = rank <= k
    return (
        1.0 / math.log2(rank + 1) if within else 0.0,
        float(rank <= 1),
        float(rank <= 5),
        float(rank <= 10),
        1.0 / rank if within else 0.0,
    )


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether ``text`` holds one of ``answers`` (case and whitespace ignored)."""
    t = _norm(text)
    return any(_norm(a) and _norm(a) in t for a in answers)


def squad_relevant(doc_id: str, start: int, end: int, text: str, query: EvalQuery) -> bool:
    """A passage answers a SQuAD question when it is from the question's
    article and overlaps the gold paragraph or contains a gold answer."""
    if doc_id != query.doc_id:
        return False
    a, b = query.span
    return (start < b and end > a) or contains_answer(text, query.answers)


def score_beir(hit_doc_ids: Sequence[str], query: EvalQuery) -> QueryScore:
    ranking = distinct(hit_doc_ids)
    rel = query.relevant
    return QueryScore(
        query.qid,
        ndcg_at_k(ranking, rel, CUTOFF),
        recall_at_k(ranking, rel, 1),
        recall_at_k(ranking, rel, 5),
        recall_at_k(ranking, rel, 10),
        mrr_at_k(ranking, rel, CUTOFF),
    )


def score_squad(hits: Sequence, query: EvalQuery, quotes: Sequence = ()) -> QueryScore:
    """``hits``: :class:`qa.Hit` objects, best first; ``quotes``: the short answer's :class:`qa.Quote` objects."""
    flags = [squad_relevant(h.passage.doc_id, h.passage.start, h.passage.end, h.passage.text, query) for h in hits]
    ndcg, r1, r5, r10, mrr = binary_scores(flags, CUTOFF)
    top = hits[0] if hits else None
    evidence = bool(top) and top.passage.doc_id == query.doc_id and contains_answer(top.evidence.text, query.answers)
    first = quotes[0] if quotes else None
    short = bool(first) and first.doc_id == query.doc_id and contains_answer(first.text, query.answers)
    return QueryScore(query.qid, ndcg, r1, r5, r10, mrr, evidence, bool(flags) and flags[0], short)


def document_ranking(index, question: str, hits: Sequence, k: int) -> list[str]:
    """Doc ids in the order of their best passage, at least CUTOFF of them when the index has them.

    Several of the first k passages may come from one document, so k
    passages can rank fewer than 10 documents (6.4 on average for SciFact at
    k=10), and nDCG@10 would count the missing ranks as misses. More
    passages are asked for until 10 documents are ranked, as BEIR scores
    passage-level systems (the best passage stands for its document).
    """
    ranking = distinct(h.passage.doc_id for h in hits)
    while len(ranking) < CUTOFF and len(hits) == k and k < MAX_DEEPEN_K:
        k *= 2
        hits = index.search(question, k=k)
        ranking = distinct(h.passage.doc_id for h in hits)
    return ranking


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def normalise_answer(text: str) -> str:
    """NFKC, case-folded, commas and whitespace deleted (the realdocs README's rule; dots kept)."""
    return re.sub(r"[\s,]+", "", unicodedata.normalize("NFKC", text).casefold())


QUOTE_JOIN = " | "


def answer_in(gold: str, text: str | None) -> bool:
    """Whether the normalised ``gold`` occurs in the normalised ``text``, not
    run into a digit on a side where ``gold`` has one ("17" is not in "2017")."""
    g, t = normalise_answer(gold), normalise_answer(text or "")
    if not g:
        return False
    for m in re.finditer(re.escape(g), t):
        before = m.start() > 0 and t[m.start() - 1].isdigit() and g[0].isdigit()
        after = m.end() < len(t) and t[m.end()].isdigit() and g[-1].isdigit()
        if not before and not after:
            return True
    return False


def cites_gold(query: EvalQuery, doc_id: str, page_start: int | None, page_end: int | None) -> bool:
    """A citation is right when it names the gold document and, for a paged
    one, its passage's pages include the gold page."""
    if not query.doc_id or doc_id != query.doc_id:
        return False
    if query.page is None:
        return True
    return page_start is not None and page_end is not None and page_start <= query.page <= page_end


def score_realdoc(
    query: EvalQuery,
    cited: Sequence[tuple[str, int | None, int | None]],
    quotes: Sequence[tuple[str, int]],
    found: bool,
    confidence: float = 0.0,
) -> RealDocScore:
    """Scores of one question from its hits' citations, best first, as
    (doc id, page start, page end), and its short answer's quotes as (text,
    1-based citation number of the hit the quote comes from)."""
    if query.question_kind == UNANSWERABLE or not query.answers:
        return RealDocScore(query.qid, query.question_kind, None, False, False, False, False, found, confidence)
    right = [cites_gold(query, d, a, b) for d, a, b in cited]
    rank = first_relevant(right)
    gold = query.answers[0]

    def quote_cited(number: int) -> bool:
        return 1 <= number <= len(right) and right[number - 1]

    first = answer_in(gold, quotes[0][0]) if quotes else False
    first_cited = first and quote_cited(quotes[0][1])
    # Quotes are shown apart: joined with a mark the normalising keeps, so the
    # end of one never runs into the start of the next ("2015/02/15" + "604941").
    joined = answer_in(gold, QUOTE_JOIN.join(t for t, _ in quotes))
    joined_cited = answer_in(gold, QUOTE_JOIN.join(t for t, n in quotes if quote_cited(n)))
    return RealDocScore(query.qid, query.question_kind, rank, first, first_cited, joined, joined_cited, found,
                        confidence)


def realdocs_groups(scores: Sequence[RealDocScore]) -> tuple[KindScores, ...]:
    """Shares by group: all answerable, table kinds, prose kinds (every kind
    neither table nor unanswerable), each kind, and the unanswerable ones."""
    answerable = [s for s in scores if s.kind != UNANSWERABLE]
    kinds = distinct(s.kind for s in answerable)
    table = [k for k in TABLE_KINDS if k in kinds]
    table += sorted(k for k in kinds if k.startswith("table") and k not in TABLE_KINDS)
    prose = [k for k in kinds if k not in table]
    plan = [("answerable", answerable), ("table", [s for s in answerable if s.kind in table])]
    plan += [(k, [s for s in answerable if s.kind == k]) for k in table]
    plan += [("prose", [s for s in answerable if s.kind in prose])]
    plan += [(k, [s for s in answerable if s.kind == k]) for k in prose]
    out = [_kind_scores(name, group) for name, group in plan if group]
    unanswerable = [s for s in scores if s.kind == UNANSWERABLE]
    if unanswerable:
        refused = _mean([float(not s.found) for s in unanswerable])
        out.append(KindScores(UNANSWERABLE, len(unanswerable), None, None, None, None, None, None, None, refused))
    return tuple(out)


def _kind_scores(name: str, group: Sequence[RealDocScore]) -> KindScores:
    def share(flag) -> float:
        return _mean([float(flag(s)) for s in group])

    def within(k: int):
        return lambda s: s.hit_rank is not None and s.hit_rank <= k

    return KindScores(
        name, len(group), share(within(1)), share(within(3)), share(within(5)),
        share(lambda s: s.first_quote), share(lambda s: s.first_quote_cited),
        share(lambda s: s.joined), share(lambda s: s.joined_cited), share(lambda s: not s.found),
    )


# ------------------------------------------------------------------ running
def build_index(dataset: Dataset, folder: str | Path, settings: Settings, *, embedder=None, batch: int = BATCH_DOCS, progress=None):
    """A new index at ``folder`` holding the dataset's documents; returns (index, seconds).

    The model is loaded before the clock starts, so the time is chunking,
    embedding, BM25 and the snapshots on disk.
    """
    idx = Index.open(folder, settings=settings, embedder=embedder, rebuild=True)
    idx.embedder  # load the model outside the timing
    t0 = time.perf_counter()
    n = len(dataset.ids)
    for i in range(0, n, batch):
        idx.add_texts(dataset.texts[i : i + batch], ids=dataset.ids[i : i + batch], titles=dataset.titles[i : i + batch])
        if progress is not None:
            progress(min(i + batch, n), n)
    return idx, time.perf_counter() - t0


def open_or_build(dataset: Dataset, folder: str | Path, settings: Settings, *, log=None):
    """The index at ``folder``, built there from ``dataset`` first when it holds none.

    For benchmarks that take an index built earlier (building SciFact takes
    minutes), or build one into a folder that does not exist yet and keep it."""
    folder = Path(folder)
    if not open_store(settings, folder).has_index():
        if log is not None:
            log(f"indexing {dataset.name} into {folder} ...")
        build_index(dataset, folder, settings)
    return Index.open(folder, settings=settings.replace(index_dir=folder))


def run_queries(index, dataset: Dataset, queries: Sequence[EvalQuery], *, k: int = DEFAULT_K, build_s: float = 0.0, progress=None) -> EvalResult:
    """Ask every query of ``index`` and score the hits."""
    scores: list[QueryScore] = []
    index.embedder  # loaded before timing
    t0 = time.perf_counter()
    for n, q in enumerate(queries, start=1):
        answer = index.answer(q.text, k=k)  # what search() returns, with the short answer
        if dataset.kind == "beir":
            scores.append(score_beir(document_ranking(index, q.text, answer.hits, k), q))
        else:
            scores.append(score_squad(answer.hits, q, answer.quotes))
        if progress is not None and (n % 100 == 0 or n == len(queries)):
            progress(n, len(queries))
    search_s = time.perf_counter() - t0
    ev = ev_rel = short = None
    if dataset.kind == "squad":
        ev = _mean([float(s.evidence) for s in scores])
        short = _mean([float(s.short_answer) for s in scores])
        rel = [s for s in scores if s.top_relevant]
        ev_rel = _mean([float(s.evidence) for s in rel])
    return EvalResult(
        dataset=dataset.name,
        kind=dataset.kind,
        documents=len(index.documents()),
        passages=len(index),
        queries=len(scores),
        ndcg10=_mean([s.ndcg10 for s in scores]),
        recall1=_mean([s.recall1 for s in scores]),
        recall5=_mean([s.recall5 for s in scores]),
        recall10=_mean([s.recall10 for s in scores]),
        mrr10=_mean([s.mrr10 for s in scores]),
        queries_per_s=len(scores) / search_s if search_s > 0 else 0.0,
        build_s=build_s,
        search_s=search_s,
        dense_weight=index.settings.dense_weight,
        sentence_weight=index.settings.sentence_weight,
        passage_tokens=index.settings.passage_tokens,
        k=k,
        evidence_accuracy=ev,
        evidence_accuracy_relevant=ev_rel,
        short_answer_accuracy=short,
        per_query=tuple(scores),
    )


def evaluate(
    dataset_path: str | Path,
    settings: Settings | None = None,
    limit: int | None = None,
    *,
    split: str | None = None,
    k: int = DEFAULT_K,
    embedder=None,
    progress=None,
) -> EvalResult:
    """Index the dataset at ``dataset_path`` in a temporary folder with
    ``settings`` (default: from the environment), ask its questions (all, or
    ``limit`` of them drawn with a fixed seed) and score the hits."""
    settings = settings or Settings.from_env()
    dataset = load_dataset(dataset_path, split)
    if dataset.kind == "realdocs":
        raise DatasetError(f"{dataset_path} is a real-documents folder: evaluate it with evaluate_realdocs()")
    queries = sample_queries(dataset.queries, limit)
    with tempfile.TemporaryDirectory(prefix="docqa-eval-") as tmp:
        idx, build_s = build_index(dataset, Path(tmp) / "index", settings, embedder=embedder, progress=progress)
        return run_queries(idx, dataset, queries, k=k, build_s=build_s)


def build_file_index(dataset: Dataset, folder: str | Path, settings: Settings, *, embedder=None,
                     batch: int = FILE_BATCH, progress=None):
    """A new index at ``folder`` holding the dataset's files, read by the real
    readers; returns (index, seconds, "file: reason" for each refused file).

    ``add_files`` changes nothing when one file of a call is refused, so a
    refused batch is added again file by file, and only the bad file is left out.
    """
    from .errors import DocumentError
    idx = Index.open(folder, settings=settings, embedder=embedder, rebuild=True)
    idx.embedder  # load the model outside the timing
    refused: list[str] = []
    t0 = time.perf_counter()
    files = list(dataset.files)
    for i in range(0, len(files), batch):
        part = files[i : i + batch]
        try:
            idx.add_files(part)
        except DocumentError:
            for path in part:
                try:
                    idx.add_files([path])
                except DocumentError as exc:
                    refused.append(str(exc))
        if progress is not None:
            progress(min(i + batch, len(files)), len(files))
    return idx, time.perf_counter() - t0, tuple(refused)


def ask_realdocs(index, queries: Sequence[EvalQuery], *, k: int = REALDOCS_K, progress=None):
    """Ask every question; returns (scores, per-question records, seconds)."""
    scores, records = [], []
    index.embedder  # loaded before timing
    t0 = time.perf_counter()
    for n, q in enumerate(queries, start=1):
        answer = index.answer(q.text, k=k)
        cited = [(h.citation.doc_id, h.citation.page_start, h.citation.page_end) for h in answer.hits]
        quotes = [(quote.text, quote.number) for quote in answer.quotes]
        score = score_realdoc(q, cited, quotes, answer.found, answer.confidence)
        scores.append(score)
        first = answer.hits[0].citation if answer.hits else None
        records.append(QuestionRecord(
            q.qid, q.question_kind, q.text, q.doc_id or None, q.page, q.answers[0] if q.answers else None,
            tuple(t for t, _ in quotes), first.label if first else None, first.doc_id if first else None,
            (first.page_start, first.page_end) if first else None,
            score.hit_rank, answer.found, round(float(answer.confidence), 4), score.first_quote, score.joined,
        ))
        if progress is not None and (n % 20 == 0 or n == len(queries)):
            progress(n, len(queries))
    return scores, records, time.perf_counter() - t0


def realdocs_result(dataset: Dataset, index, scores: Sequence[RealDocScore], *, k: int, build_s: float,
                    search_s: float, refused_files: Sequence[str] = ()) -> RealDocsResult:
    """The summary of one real-documents run."""
    unanswerable = [s for s in scores if s.kind == UNANSWERABLE]
    answerable = [s for s in scores if s.kind != UNANSWERABLE]
    return RealDocsResult(
        dataset=dataset.name,
        documents=len(index.documents()),
        passages=len(index),
        questions=len(scores),
        k=k,
        build_s=build_s,
        search_s=search_s,
        groups=realdocs_groups(scores),
        unanswerable_refused=_mean([float(not s.found) for s in unanswerable]) if unanswerable else None,
        answerable_refused=_mean([float(not s.found) for s in answerable]),
        refused_files=tuple(refused_files),
        per_question=tuple(scores),
    )


def evaluate_realdocs(
    dataset_path: str | Path,
    settings: Settings | None = None,
    limit: int | None = None,
    *,
    k: int = REALDOCS_K,
    embedder=None,
    progress=None,
) -> RealDocsResult:
    """Index a real-documents folder's files in a temporary folder, ask its
    questions (all, or ``limit`` drawn with a fixed seed) and score the answers."""
    settings = settings or Settings.from_env()
    dataset = load_dataset(dataset_path)
    if dataset.kind != "realdocs":
        raise DatasetError(f"{dataset_path} is not a real-documents folder (docs/ and {REALDOCS_QUESTIONS})")
    queries = sample_queries(dataset.queries, limit)
    with tempfile.TemporaryDirectory(prefix="docqa-eval-") as tmp:
        idx, build_s, refused = build_file_index(dataset, Path(tmp) / "index", settings, embedder=embedder,
                                                 progress=progress)
        scores, _, search_s = ask_realdocs(idx, queries, k=k)
        return realdocs_result(dataset, idx, scores, k=k, build_s=build_s, search_s=search_s, refused_files=refused)


# ------------------------------------------------------------------ output
COLUMNS = (
    ("nDCG@10", "ndcg10", "{:.3f}"),
    ("R@1", "recall1", "{:.3f}"),
    ("R@5", "recall5", "{:.3f}"),
    ("R@10", "recall10", "{:.3f}"),
    ("MRR@10", "mrr10", "{:.3f}"),
    ("q/s", "queries_per_s", "{:.1f}"),
    ("build s", "build_s", "{:.1f}"),
)


def format_table(rows: Sequence[tuple[str, EvalResult]], extra: bool = True) -> str:
    """A plain-text table: one row per (label, result)."""
    head = ["run", "queries", "passages"] + [c[0] for c in COLUMNS]
    if extra and any(r.evidence_accuracy is not None for _, r in rows):
        head += ["evid", "evid|rel", "answer"]
    body = []
    for label, r in rows:
        cells = [label, str(r.queries), str(r.passages)] + [fmt.format(getattr(r, attr)) for _, attr, fmt in COLUMNS]
        if len(head) > len(cells):
            cells += ["-" if r.evidence_accuracy is None else f"{r.evidence_accuracy:.3f}",
                      "-" if r.evidence_accuracy_relevant is None else f"{r.evidence_accuracy_relevant:.3f}",
                      "-" if r.short_answer_accuracy is None else f"{r.short_answer_accuracy:.3f}"]
        body.append(cells)
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(c) for c in body])


REALDOCS_COLUMNS = (
    ("hit@1", "hit1"), ("hit@3", "hit3"), ("hit@5", "hit5"),
    ("first", "first_quote"), ("first+cite", "first_quote_cited"),
    ("joined", "joined"), ("joined+cite", "joined_cited"), ("refused", "refused"),
)


def format_realdocs_table(result: RealDocsResult) -> str:
    """A plain-text table: one row per question group, then the refusal shares."""
    head = ["group", "n"] + [c[0] for c in REALDOCS_COLUMNS]
    body = [[g.group, str(g.questions)] + ["-" if getattr(g, a) is None else f"{getattr(g, a):.3f}"
                                          for _, a in REALDOCS_COLUMNS] for g in result.groups]
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    lines = [line(head), line(["-" * w for w in widths])] + [line(c) for c in body]
    scores = result.per_question
    unanswerable = [s for s in scores if s.kind == UNANSWERABLE]
    answerable = [s for s in scores if s.kind != UNANSWERABLE]
    if unanswerable:
        lines.append(f"unanswerable refused: {sum(not s.found for s in unanswerable)}/{len(unanswerable)} "
                     f"({result.unanswerable_refused:.3f})")
    lines.append(f"answerable refused: {sum(not s.found for s in answerable)}/{len(answerable)} "
                 f"({result.answerable_refused:.3f})")
    lines.append("hit: a citation with the gold document and, for PDFs, the gold page within its passage's pages; "
                 "first/joined: the short answer's first quote / all quotes hold the answer "
                 "(+cite: from a quote whose hit is such a citation)")
    return "\n".join(lines)
