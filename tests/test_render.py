"""The chat's HTML, from hand-made hits: escaping, highlighting, the short answer."""

from __future__ import annotations

from types import SimpleNamespace

import qa
from ui import render

DOC = (
    "Intro line.\n"
    "The Zorblatt festival is held every March. Is it fun? "
    "<script>alert(1)</script> ends here.\n"
)


def hit(n: int, sentence: str, *, dense: float = 0.6, source: str = "a.txt", title: str = "A") -> qa.Hit:
    """A hit on the passage DOC[12:] whose evidence is ``sentence`` (which must occur in DOC)."""
    start, end = 12, len(DOC)
    text = DOC[start:end]
    a = DOC.index(sentence)
    passage = qa.Passage(
        passage_id=n, doc_id=source, title=title, source=source, start=start, end=end,
        line_start=2, line_end=2, text=text, sentences=((a, a + len(sentence)),),
    )
    citation = qa.Citation(
        number=n, doc_id=source, source=source, title=title, start=start, end=end,
        line_start=2, line_end=2, label=f"[{n}] {source}, line 2",
    )
    return qa.Hit(
        passage=passage, score=dense, citation=citation,
        evidence=qa.Evidence(a, a + len(sentence), sentence, dense),
        explanation=qa.Explanation(dense, 1.5, dense, ("zorblatt", "march")),
    )


FESTIVAL = "The Zorblatt festival is held every March."
QUESTION = "Is it fun?"
SCRIPT = "<script>alert(1)</script> ends here."


def test_esc_makes_markup_and_markdown_inert():
    out = render.esc('<img src=x onerror="x()"> [a](javascript:x) $$m$$ *b*\nnext')
    for raw in ["<img", '"', "[a]", "(javascript:", "$$", "*b*", "\n"]:
        assert raw not in out
    assert out.endswith("<br>next")


def test_evidence_is_marked_at_its_place_in_the_passage():
    html = render.passage_html(hit(1, FESTIVAL))
    assert f"<mark>{render.esc(FESTIVAL)}</mark>" in html
    assert "chars 12–" in html and "[1] a.txt, line 2".replace("[", "&#91;").replace("]", "&#93;") in html
    assert "Why this passage" in html and "zorblatt, march" in html


def test_document_text_title_and_file_name_are_escaped():
    h = hit(1, SCRIPT, source="<b>x</b>.txt", title="<i>t</i>")
    html = render.answer_html(qa.Answer("q", (h,), True))
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&#60;script&#62;alert" in html


def test_short_answer_quotes_are_shown_with_their_marks():
    hits = (hit(1, FESTIVAL), hit(2, SCRIPT))
    quotes = (qa.Quote(FESTIVAL, 0, 1, "a.txt", 1), qa.Quote(SCRIPT, 0, 1, "a.txt", 2))
    html = render.answer_html(qa.Answer("q", hits, True, quotes=quotes))
    short = html.split("</blockquote>")[0]
    assert html.count("qa-short") == 1 and "&#91;1&#93;" in short and "&#91;2&#93;" in short
    assert render.esc(FESTIVAL) in short and "<script>" not in short


def test_notes_are_shown():
    html = render.answer_html(qa.Answer("q", (hit(1, FESTIVAL),), True, notes=("Only the first 2000 characters",)))
    assert "Only the first 2000 characters" in html


def test_not_found_shows_closest_passages_without_a_short_answer():
    ans = qa.Answer("q", (hit(1, FESTIVAL, dense=0.1),), False,
                    "The documents do not seem to answer this question; the closest passages are shown below.")
    html = render.answer_html(ans)
    assert render.esc(render.NOT_FOUND) in html and render.esc(render.CLOSEST_HEADING) in html
    assert "qa-short" not in html


def test_empty_index_says_so():
    html = render.answer_html(qa.Answer("q", (), False, "The index is empty: add documents first."))
    assert "The index is empty" in html and "qa-hit" not in html


def test_documents_table_escapes_names():
    doc = SimpleNamespace(title="<b>T</b>", source="<x>.txt", doc_id="<x>.txt", passage_ids=[1, 2], chars=1234,
                          format="pdf", pages=3, warnings=["page 2 has no extractable text (scanned?)"])
    html = render.documents_html([doc])
    assert "<b>" not in html and "<x>" not in html and "1,234" in html
    assert "pdf, 3 pages" in html and "page 2 has no extractable text" in html
    assert "No documents yet" in render.documents_html([])


def test_documents_panel_pages_searches_and_sorts_and_lists_refused_files():
    # The panel goes out with every page load: a large corpus must not make the page megabytes.
    docs = [SimpleNamespace(title=f"Doc {n}", source=f"d{n}.txt", doc_id=f"d{n}.txt", passage_ids=[0] * n, chars=10,
                            format="pdf" if n % 2 else "text", pages=0, warnings=[], file_stat=[1, n * 10**9, 0, 0])
            for n in range(5)]
    html = render.documents_html(docs, per_page=2)
    assert html.count("<tr><td>") == 2 and "Doc 0" in html and "Doc 2" not in html
    assert "5 documents, 10 passages" in html and "page 1 of 3" in html
    last = render.documents_html(docs, page=9, per_page=2)  # past the end: the last page
    assert last.count("<tr><td>") == 1 and "Doc 4" in last and "page 3 of 3" in last
    found = render.documents_html(docs, query="doc 3")
    assert found.count("<tr><td>") == 1 and "Doc 3" in found and "1 match" in found
    assert [d.doc_id for d in render.select_documents(docs, sort="passages")[0]][:2] == ["d4.txt", "d3.txt"]
    assert [d.doc_id for d in render.select_documents(docs, sort="date")[0]][0] == "d4.txt"
    assert [d.format for d in render.select_documents(docs, sort="format")[0]] == ["pdf"] * 2 + ["text"] * 3
    refused = [SimpleNamespace(doc_id="<bad>.pdf", reason="is not a PDF (no %PDF- header)")]
    html = render.documents_html(docs, refused)
    assert "1 file refused" in html and "&#60;bad&#62;.pdf" in html and "not a PDF" in html
    assert "qa-rm" not in html and "qa-rm" in render.documents_html(docs, removable=True)
    assert render.parse_doc_key("64302e747874.123") == "d0.txt"


def test_follow_up_search_is_shown():
    h = hit(1, FESTIVAL)
    assert "follow-up" not in render.answer_html(qa.Answer("when?", (h,), True, "", "when?"))
    html = render.answer_html(qa.Answer("when?", (h,), True, "", "when? Zorblatt festival"))
    assert "Read as a follow-up" in html and "when? Zorblatt festival" in html


class _Broken:
    def __init__(self, exc):
        self.exc = exc

    def answer(self, question, k=5, history=(), docs=(), folders=()):
        raise self.exc


def test_reply_shows_library_errors_and_hides_bugs(caplog):
    from ui.app import reply

    html, ans = reply(_Broken(qa.QAError("the index at /x is damaged")), "q?")
    assert "the index at /x is damaged" in html and ans is None
    html, ans = reply(_Broken(RuntimeError("secret internals")), "q?")
    assert html.count(render.GENERIC_ERROR) == 1 and "secret" not in html and "Traceback" not in html
    assert "secret internals" in caplog.text  # the details go to the server log
    html, ans = reply(_Broken(AssertionError("not called")), "  ")
    assert "Please type a question" in html and ans is None


def test_a_table_passage_is_shown_as_a_table_under_its_header_with_the_evidence_row_marked():
    text = "Alder | 100 | <b>2</b>\nMillport | 386 | 3\nOrford | 607 | 5"
    doc = "Table 3: Boats by port\nPort | Fishing | Ferries\n" + text
    start = doc.index(text)
    row = doc.index("Millport | 386 | 3")
    passage = qa.Passage(
        passage_id=1, doc_id="h.pdf", title="Harbours", source="h.pdf", start=start, end=len(doc),
        line_start=3, line_end=5, text=text, sentences=((row, row + 18),), page_start=1, page_end=1,
        head="Table 3: Boats by port\nPort | Fishing | Ferries",
    )
    citation = qa.Citation(number=1, doc_id="h.pdf", source="h.pdf", title="Harbours", start=start, end=len(doc),
                           line_start=3, line_end=5, label="[1] h.pdf, p. 1", page_start=1, page_end=1)
    h = qa.Hit(passage=passage, score=0.5, citation=citation,
               evidence=qa.Evidence(row, row + 18, "Millport | 386 | 3", 0.5),
               explanation=qa.Explanation(0.5, 1.0, 0.5, ("millport",)))
    html = render.passage_html(h)
    assert f'<p class="qa-head">{render.esc("Table 3: Boats by port")}</p>' in html
    assert "<thead><tr><th>Port</th><th>Fishing</th><th>Ferries</th></tr></thead>" in html
    assert '<tr class="qa-row"><td>Millport</td><td>386</td><td>3</td></tr>' in html
    assert html.count('class="qa-row"') == 1 and "<b>" not in html  # cells are escaped like all text
    # A passage with a head but no cells (a caption over prose) stays text.
    prose = qa.Hit(passage=qa.Passage(**{**vars(passage), "text": "Plain words here."}), score=0.5,
                   citation=citation, evidence=qa.Evidence(start, start + 5, "Plain", 0.5),
                   explanation=h.explanation)
    assert "<table" not in render.passage_html(prose)


def test_a_table_quote_gives_its_cell_then_the_whole_row():
    h = hit(1, FESTIVAL)
    quote = qa.Quote("Millport | 581 | 4 | 447", 0, 24, "h.pdf", 1, "Millport, Yachts: 447")
    html = render.answer_html(qa.Answer("q", (h,), True, quotes=(quote,)))
    short = html[html.index('class="qa-short"'):html.index("</blockquote>")]
    assert short.index(render.esc("Millport, Yachts: 447")) < short.index(f'({render.esc("Millport | 581 | 4 | 447")})')


def test_the_exported_conversation_keeps_every_answer_with_its_citations():
    from ui.export import conversation_markdown

    h = hit(1, FESTIVAL)
    quote = qa.Quote(FESTIVAL, h.evidence.start, h.evidence.end, "a.txt", 1)
    turns = [("When is the festival?", qa.Answer("When is the festival?", (h,), True, quotes=(quote,)), ""),
             ("Who won the cup?", qa.Answer("Who won the cup?", (h,), False, "nothing"), ""),
             ("", None, "Please type a question")]
    md = conversation_markdown(turns, when=0)
    assert md.startswith("# docqa conversation, 1970-01-01 00:00 UTC")
    assert "## 1. When is the festival?" in md and f"> {FESTIVAL} [1]" in md
    a, b = h.evidence.start, h.evidence.end
    assert f"- [1] a.txt, line 2, characters 12-{len(DOC)}; the sentence at {a}-{b}: “{FESTIVAL}”" in md
    assert "## 2. Who won the cup?" in md and "do not seem to answer" in md and "Closest passages" in md
    assert "Please type a question" in md


def test_example_questions_come_from_the_settings_or_the_corpus_folder_or_not_at_all(tmp_path):
    from ui.app import example_questions

    settings = qa.Settings(corpus_dir=tmp_path, index_dir=tmp_path / "index")
    assert example_questions(settings) == []  # another corpus: not the seed article's questions
    (tmp_path / ".docqa-examples").write_text("# a comment\nWho built the quay?\n\nWho built the quay?\nWhen?\n")
    assert example_questions(settings) == ["Who built the quay?", "When?"]
    assert example_questions(settings.replace(examples="One? | Two?")) == ["One?", "Two?"]


def test_what_a_model_writes_is_shown_as_text_whether_kept_left_out_or_still_coming():
    h = hit(1, FESTIVAL)
    a, b = h.evidence.start, h.evidence.end
    kept = qa.WrittenSentence("The <b>Zorblatt</b> festival is in March.", (1,), "verified",
                              support=((1, "a.txt", a, b, FESTIVAL),))
    gone = qa.WrittenSentence("<img src=x onerror=alert(1)> it is free.", (1,), "removed", "“free” is not in [1]")
    html = render.written_html(qa.WrittenAnswer(qa.Answer("q", (h,), True), (kept, gone), "1 sentence left out",
                                                model="<i>m</i>"))
    assert "<b>" not in html and "<img" not in html and "<i>m" not in html
    assert render.esc(kept.text) in html and render.esc(gone.text) in html and "Left out (1)" in html
    assert 'class="qa-src"' in html  # the kept sentence links to the sentence that supports it
    pending = render.writing_html("<script>alert(1)</script> Still")
    assert "<script>" not in pending and render.esc("<script>alert(1)</script> Still") in pending
