"""The question path: candidates, fusion, evidence, the short answer, "not found".

Functions of a read view (one consistent state of a store: ``passages``,
``vectors``, ``lexical``, ``sentences``; see storage.py), an embedder and the
settings. :func:`retrieve` ranks passages and picks each one's evidence
sentence; :func:`answer` adds the short answer's quotes and the decision
whether the documents answer at all. One model call per question: everything
else reads stored vectors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Sequence

import numpy as np

from .analysis import adds_to, coverage, matched_terms, name_words, names, terms
from .answertype import expected_type, offers_answer
from .embedding import Embedder
from .errors import EmptyQuestionError, QAError
from .extract import pick_quotes, split_question, table_cell
from .followup import conversation_context, names_own_subject, subject_documents
from .ingest import TITLE_CONTEXT_CHARS
from .confidence import confidence
from .ranking import best_sentence, collapse, fuse, sentence_scores
from .settings import Settings
from .types import CELL_SEP, Answer, Citation, Evidence, Explanation, Hit, Passage, Quote, split_head

# Candidates taken from each side before fusion.
CANDIDATES = 64
# Weight of the conversation's context against the question itself (1.0) in
# the query vector of a follow-up question.
CONTEXT_WEIGHT = 0.5

_SURROGATE = re.compile("[\ud800-\udfff]")

NOT_FOUND = "The documents do not seem to answer this question; the closest passages are shown below."
EMPTY_INDEX = "The index is empty: add documents first."


@dataclass(frozen=True)
class Question:
    """A question made fit to search: cleaned, cut to length, with its conversation."""

    text: str  # the question as searched (whitespace collapsed, cut to the limit)
    context: str  # words of the conversation it leans on ("" when it stands alone)
    notes: tuple[str, ...] = ()
    # A follow-up by its form that names a subject of its own: the documents the conversation
    # was about. It is searched alone first, and stays a follow-up only if that finds one of them.
    subject: frozenset[str] = frozenset()

    @property
    def query(self) -> str:
        return f"{self.text} {self.context}".strip()


@dataclass(frozen=True)
class Ranked:
    """What retrieval found for one question, with what the short answer is picked from."""

    question: Question
    hits: tuple[Hit, ...]
    best_sentence: float  # the best cosine of the question and a sentence of any candidate
    # Per sentence of the hits, in hit order: (hit index, start, end), its text,
    # its score rows (one per question part, row 0 the whole question) and vectors.
    spans: tuple[tuple[int, int, int], ...] = ()
    texts: tuple[str, ...] = ()
    part_scores: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    is_question: tuple[bool, ...] = ()
    unknown: tuple[str, ...] = ()  # names in the question that no passage holds
    unmatched: tuple[str, ...] = ()  # names in the question that the first hit's document never mentions


def prepare(question, k, history: Sequence, settings: Settings) -> Question:
    """Check and clean a question (and ``k`` and ``history``); raises QAError with the fix."""
    if not isinstance(question, str) or not question.strip():
        raise EmptyQuestionError("the question is empty: type a question about the documents")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise QAError(f"k (the number of passages) must be a whole number of at least 1, not {k!r}")
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise QAError(f"history must be a list of earlier answers (qa.Answer) or questions (str), not {type(history).__name__}")
    limit = settings.max_question_chars
    turns = []
    for item in history:
        if isinstance(item, str):
            turns.append(clean_text(item)[:limit])
        elif isinstance(item, Answer):
            turns.append(item)
        else:
            raise QAError(
                f"history must hold earlier answers (qa.Answer) or questions (str), not {type(item).__name__}"
            )
    text = " ".join(clean_text(question).split())
    notes = []
    if len(text) > limit:
        text = text[:limit]
        notes.append(f"Only the first {limit} characters of the question were used.")
    context = conversation_context(text, turns)
    subject = subject_documents(turns) if context and names_own_subject(text) else frozenset()
    return Question(text, context, tuple(notes), subject)


def clean_text(text: str) -> str:
    """``text`` with lone surrogates (which cannot be encoded, so no page or
    JSON reply could carry them) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def retrieve_turn(view, embedder: Embedder, settings: Settings, q: Question, k: int, within=None) -> Ranked:
    """:func:`retrieve` for a turn of a conversation. A question read as a follow-up that names
    a subject of its own is searched alone too: when that answers it from another document
    than the one the conversation was about, and more surely than the conversation's reading
    does from that one, it starts a new topic and is answered alone."""
    together = retrieve(view, embedder, settings, q, k, within)
    if not (q.context and q.subject):
        return together
    alone = retrieve(view, embedder, settings, replace(q, context="", subject=frozenset()), k, within)
    if not alone.hits or alone.hits[0].passage.doc_id in q.subject:
        return together
    by_itself = answer(alone, settings)
    if not by_itself.found:
        return together
    # Both read well: the reading that answers more surely (read with the conversation, a
    # question about its subject finds it more surely than alone finds another document).
    if together.hits and together.hits[0].passage.doc_id in q.subject:
        if answer(together, settings).confidence >= by_itself.confidence:
            return together
    return alone


def retrieve(view, embedder: Embedder, settings: Settings, q: Question, k: int, within=None) -> Ranked:
    """The ``k`` best passages for ``q`` with their citations and evidence sentences;
    ``within`` (a qa.storage.Scope): of those documents only."""
    if not view.passages or (within is not None and not len(within.passage_ids)):
        return Ranked(q, (), 0.0)
    question, context = q.text, q.context
    # Evidence answers the question's own words; a bare "why?" has none,
    # so it borrows the conversation's subject. A question of several parts
    # ("why ..., and does ...?") gets each part's vector too.
    own = question if terms(question) or not context else f"{question} {context}"
    parts = split_question(own)
    head = [own] + (parts if len(parts) > 1 else [])
    asked = list(dict.fromkeys([question] + ([context] if context else []) + head))
    vecs = dict(zip(asked, embedder.embed(asked)))
    if context:
        qv = vecs[question] + CONTEXT_WEIGHT * vecs[context]
        qv = (qv / np.linalg.norm(qv)).astype(np.float32)
        # BM25 sums over query terms: repeating the question doubles its weight.
        lex_query = f"{question} {question} {context}"
    else:
        qv, lex_query = vecs[question], question
    _, dense_ids = view.vectors.search(qv, CANDIDATES, within)
    bm25 = view.lexical.scores(lex_query)  # once per question: top and lookup share it
    ids = np.unique(np.concatenate([dense_ids[0][dense_ids[0] >= 0], view.lexical.top(bm25, CANDIDATES, within)]))
    dense = view.vectors.reconstruct(ids) @ qv
    lexical = view.lexical.lookup(bm25, ids)
    sentence = best_sentence_cosines(view.sentences, ids, qv, dense)
    ranked = fuse(ids, dense, lexical, settings.dense_weight, sentence, settings.sentence_weight)
    cand = {int(i): view.passages[int(i)] for i in ids}  # one lookup each, not one per comparison
    doc_names = {p.doc_id: document_name_words(p) for p in cand.values()}
    if settings.name_weight:
        ranked = by_name(ranked, cand, doc_names, question, settings.name_weight)
    top = collapse(
        ranked,
        key_span=lambda s: (cand[s.passage_id].start, cand[s.passage_id].end),
        key_doc=lambda s: cand[s.passage_id].doc_id,
        key_text=lambda s: cand[s.passage_id].text,
        limit=k,
    )
    ranked = _with_evidence(q, head, np.stack([vecs[h] for h in head]), view, top, float(sentence.max()))
    named = frozenset().union(*doc_names.values())
    unknown = unknown_names(view.lexical, question, named)
    if unknown:
        return replace(ranked, unknown=unknown)
    if not ranked.hits:
        return ranked
    first = ranked.hits[0].passage.doc_id
    info = view.manifest.documents.get(first)
    return replace(ranked, unmatched=unmatched_words(question, view.lexical, info.passage_ids if info else (),
                                                     doc_names.get(first, frozenset()), view.passages))


def document_name_words(p: Passage) -> frozenset[str]:
    """The words of the file name (without its extension) and title of ``p``'s document."""
    return name_words(f"{PurePath(p.source or p.doc_id).stem} {p.title}")


def specific_words(question: str) -> frozenset[str]:
    """The question's name_words that name something: with a digit ("2018",
    "10k", "3m") or written with a capital where no sentence starts ("Globex").
    Common words ("annual", "report") would favour every document whose title
    shares a word with the question."""
    capitalised = frozenset().union(*(name_words(n) for n in names(question)))
    return frozenset(w for w in name_words(question) if w in capitalised or any(c.isdigit() for c in w))


def by_name(ranked: list, passages: dict, doc_names: dict, question: str, weight: float) -> list:
    """``ranked`` with ``weight`` x (the question's names and numbers that the
    passage's document's file name and title hold, over the most any
    candidate's document holds) added to each fused score, best first again.

    Among reports of one kind ("3M 2018 10-K" beside other years and
    companies) the passages read alike; the name is what tells them apart,
    and the embedder and BM25 see only the title's first words with each
    passage, never the file name."""
    asked = specific_words(question)
    if not asked:
        return ranked
    held = {doc: len(asked & words) for doc, words in doc_names.items()}
    best = max(held.values(), default=0)
    if not best:
        return ranked
    boosted = [replace(s, fused=s.fused + weight * held[passages[s.passage_id].doc_id] / best) for s in ranked]
    return sorted(boosted, key=lambda s: (-s.fused, s.passage_id))


def unknown_names(lexical, question: str, named: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The names the question asks about ("Telangana", "BTC") that no live
    passage holds, title and table heads included, nor the file names and
    titles in ``named`` (name_words of the candidates' documents): asked about
    a state, a person or a product the documents never mention, the closest
    passage is about something else, however well the rest of the question matches.
    Only the asked part counts (:func:`asked_part`): "In the Hebrew statistical
    table headed ..., what is ..." names the document in the asker's words."""
    return tuple(w for w in names(asked_part(question))
                 if not name_words(w) & named and not len(lexical.top(lexical.scores(w), 1)))


# A document with more passages than this is not searched for a question's names (the
# near-miss rule): the lookup would cost more than the question, and Milvus answers one
# search with at most 16,384 rows.
NEAR_MISS_MAX_PASSAGES = 5_000
# A name missing from the document still counts as held when a word of it starts with the
# name's first letters: all but its last three, and at least this many (looked for in
# documents of up to NEAR_PREFIX_MAX_PASSAGES passages).
NEAR_PREFIX = 4
NEAR_PREFIX_MAX_PASSAGES = 2_000
_WORD = re.compile(r"\w+")
_ASIDES = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\"[^\"]*\"|“[^”]*”|«[^»]*»|‘[^’]*’")


def asked_part(question: str) -> str:
    """The part of a question that says what is asked: its last clause (after the last comma),
    with asides in brackets and quotations taken out.

    The rest frames it ("In Table 8.12 (own brand shares of French
    retailers, 1996), what is ...", "According to the note on Kreate, ...")
    by naming the document, in the asker's words or the document's own
    labels (a column header quoted, a caption in brackets), which the
    document's text need not hold as written.
    """
    text = _ASIDES.sub(" ", question)
    return text.rsplit(",", 1)[-1]


def unmatched_words(question: str, lexical, passage_ids: Sequence[int], named: frozenset[str],
                    passages=None) -> tuple[str, ...]:
    """The names the question asks about ("Brazil", "Tamil Nadu") that the document of the first
    hit never mentions: none of its passages, with their titles, headings and table heads,
    holds them, nor does its file name or title (``named``).

    A near miss: asked for Brazil's figure in a report that covers other
    countries, or for Airbus in a document about Boeing, the closest text is
    that document, and it matches every other word of the question. Another
    document may mention Brazil (so it is not one of unknown_names), but the
    one the answer would come from does not. Judged on the whole document, not
    on the passages shown, and only on the names of the asked part
    (:func:`asked_part`) written as names, not in capitals (an abbreviation
    the document may spell out): the framing and the labels quoted from the
    document are the asker's wording, and each measured as many false
    refusals as near misses on the dev set (bench/RESULTS.md, run 16). A name
    is also held when a word of the document (``passages``: passage id ->
    Passage) starts like it (NEAR_PREFIX): "British" asked of a text that says
    "Britain".
    """
    asked = [w for w in names(asked_part(question)) if terms(w) and not w.isupper() and not name_words(w) & named]
    if not asked or not passage_ids or len(passage_ids) > NEAR_MISS_MAX_PASSAGES:
        return ()
    ids = np.asarray(list(passage_ids), np.int64)
    out, near = [], None
    for word in asked:  # one word each: BM25 analyses it as it analysed the passages
        if (lexical.lookup(lexical.scores(word), ids) > 0).any():
            continue
        if near is None:  # the document's words, read only when a name is missing from them
            near = set()
            for pid in (passage_ids if passages is not None and len(passage_ids) <= NEAR_PREFIX_MAX_PASSAGES else ()):
                p = passages[int(pid)]
                near.update(_WORD.findall(f"{p.title} {p.heading} {p.head} {p.text}".lower()))
        # Another form of the name: "Saharan" beside "Sahara", "British" beside "Britain".
        stem = word.lower()[:max(NEAR_PREFIX, len(word) - 3)]
        if not any(w.startswith(stem) for w in near):
            out.append(word)
    return tuple(out)


def _with_evidence(q: Question, head: list[str], part_vecs: np.ndarray, view, top, best: float) -> Ranked:
    """Hits with their evidence sentence, and the sentence tables the short answer is picked from.

    ``head``: the question (with its conversation when it has no words of
    its own) and then each of its parts; ``part_vecs`` their vectors."""
    question, own = q.text, head[0]
    passages = [view.passages[s.passage_id] for s in top]
    spans = [(n, a, b) for n, p in enumerate(passages) for a, b in p.sentences]
    texts = [passages[n].text[a - passages[n].start : b - passages[n].start] for n, a, b in spans]
    sent_vecs = np.concatenate([view.sentences.get(p.passage_id) for p in passages])
    part_sims = part_vecs @ sent_vecs.T
    sims = part_sims[0]
    # A question, or a sentence of only the question's words (a title it
    # names), restates it: highlighted and quoted only when nothing else is there.
    is_question = [t.rstrip().endswith("?") or not adds_to(own, t) for t in texts]
    # A table row's words count with its table's caption and column headers.
    term_texts = [f"{passages[n].head}\n{t}" if passages[n].head else t for (n, _, _), t in zip(spans, texts)]
    matched = [len(matched_terms(own, t)) for t in term_texts]
    # "Where ...?" wants a place: a sentence naming one the question does not
    # is preferred, as highlight and as short answer (qa/answertype.py).
    kind = expected_type(question)
    typed = [offers_answer(kind, t, own) for t in texts]

    hits, used = [], set()
    for n, (s, p) in enumerate(zip(top, passages)):
        rows = [i for i, (m, _, _) in enumerate(spans) if m == n]
        # Overlapping passages share sentences: highlight a new one in each.
        fresh = [i for i in rows if (p.doc_id, spans[i][1]) not in used] or rows
        i = fresh[best_sentence(sims[fresh], [matched[j] for j in fresh], [is_question[j] for j in fresh],
                                [typed[j] for j in fresh])]
        _, a, b = spans[i]
        used.add((p.doc_id, a))
        hits.append(
            Hit(
                passage=p,
                score=s.fused,
                citation=citation(n + 1, p),
                evidence=Evidence(a, b, texts[i], float(sims[i])),
                explanation=Explanation(s.dense, s.lexical, s.fused, matched_terms(question, p.text), s.sentence),
            )
        )
    # Scored as the highlight is (terms and answer type included), one row per question part.
    part_matched = [matched] + [[len(matched_terms(h, t)) for t in term_texts] for h in head[1:]]
    return Ranked(q, tuple(hits), best, tuple(spans), tuple(texts), sentence_scores(part_sims, part_matched, typed),
                  sent_vecs, tuple(is_question))


def answer(ranked: Ranked, settings: Settings) -> Answer:
    """The :class:`Answer` for ``ranked``: whether it answers, and the short answer's quotes."""
    q = ranked.question
    if not ranked.hits:
        return Answer(q.text, (), False, EMPTY_INDEX, q.query, notes=q.notes)
    hits, query = ranked.hits, q.query
    # Answerable or not is judged on scores with a fixed scale (fused
    # scores are relative to the query): the best cosine of the question
    # and a sentence of any candidate (a matching sentence tells answerable
    # from unanswerable better than a whole passage does), and the share of
    # the searched content words the first hit holds (qa.confidence).
    # bench/notfound.py measures it; Settings.min_score has the figures.
    sure = confidence(ranked.best_sentence, term_share(query, hits[0].passage))
    if ranked.unknown:
        missing = ", ".join(f"“{w}”" for w in ranked.unknown)
        return Answer(q.text, hits, False, NOT_FOUND, query, (), (*q.notes, f"No document mentions {missing}."), sure)
    if ranked.unmatched:
        missing = ", ".join(f"“{w}”" for w in ranked.unmatched)
        return Answer(q.text, hits, False, NOT_FOUND, query, (),
                      (*q.notes, f"The document that matches best ({hits[0].citation.source or hits[0].doc_id}) "
                                 f"does not mention {missing}."), sure)
    if sure < settings.min_score:
        return Answer(q.text, hits, False, NOT_FOUND, query, (), q.notes, sure)
    return Answer(q.text, hits, True, "", query, _quotes(ranked, settings), q.notes, sure)


def _quotes(ranked: Ranked, settings: Settings) -> tuple[Quote, ...]:
    # The short answer quotes hits that answer on their own (the best one
    # always): judged as "found" is, on the hit's own best sentence and terms.
    hits, spans, query = ranked.hits, ranked.spans, ranked.question.query
    answers = [
        n == 0 or confidence(h.explanation.sentence, term_share(query, h.passage)) >= settings.min_score
        for n, h in enumerate(hits)
    ]
    eligible = [not ranked.is_question[i] and answers[spans[i][0]] for i in range(len(spans))]
    if not any(eligible):
        eligible = [spans[i][0] == 0 for i in range(len(spans))]
    vecs = ranked.sentence_vectors
    picked = pick_quotes(ranked.part_scores, eligible, vecs @ vecs.T)
    own = ranked.question.text

    def asked(header: str) -> float:
        # The question's words a column header holds, ties going to the header
        # that is more nearly all asked for ("Yachts" over "Fishing boats" for
        # "how many yachts ... boats registered").
        n = len(matched_terms(own, header))
        return n + n / max(1, len(terms(header)))

    def cell(i: int) -> str:
        head = hits[spans[i][0]].passage.head
        return table_cell(ranked.texts[i], split_head(head)[1], asked, CELL_SEP) if head else ""

    return tuple(
        Quote(ranked.texts[i], spans[i][1], spans[i][2], hits[spans[i][0]].passage.doc_id, spans[i][0] + 1, cell(i))
        for i in picked
    )


def term_share(query: str, passage: Passage) -> float:
    """Share of the content words of ``query`` that ``passage`` holds, its title, heading and table head
    included (as BM25 sees it)."""
    return coverage(query, passage.text, passage.title[:TITLE_CONTEXT_CHARS], passage.heading[:TITLE_CONTEXT_CHARS],
                    passage.head)


def best_sentence_cosines(sentences, ids: np.ndarray, qv: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per candidate passage, the cosine of ``qv`` and its best-matching sentence
    (stored vectors, no model call); ``fallback`` (the passage's own cosine)
    where a passage has no sentence vectors."""
    best = sentences.best(ids, qv)
    return np.where(np.isnan(best), fallback, best).astype(np.float32)


def citation(n: int, p: Passage) -> Citation:
    """The ``[n]`` citation of passage ``p``: file, then page(s) and section,
    section and paragraph(s) (HTML, DOCX), or line(s) and section."""
    where = p.source or p.doc_id
    section = f"§ {p.heading}" if p.heading and p.heading != p.title else ""
    if p.page_start is not None:
        place = f"p. {p.page_start}" if p.page_start == p.page_end else f"pp. {p.page_start}-{p.page_end}"
    elif p.paragraph_start is not None:  # HTML, DOCX: the section, then its paragraphs
        end = p.paragraph_end or p.paragraph_start
        paragraphs = f"¶ {p.paragraph_start}" if end == p.paragraph_start else f"¶ {p.paragraph_start}-{end}"
        place, section = f"{section}, {paragraphs}" if section else paragraphs, ""
    elif p.line_start == p.line_end:
        place = f"line {p.line_start}"
    else:
        place = f"lines {p.line_start}-{p.line_end}"
    if section:
        place += f", {section}"
    return Citation(
        number=n, doc_id=p.doc_id, source=p.source, title=p.title, start=p.start, end=p.end,
        line_start=p.line_start, line_end=p.line_end, label=f"[{n}] {where}, {place}",
        page_start=p.page_start, page_end=p.page_end, heading=p.heading,
        paragraph_start=p.paragraph_start, paragraph_end=p.paragraph_end,
    )
