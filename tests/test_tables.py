"""Tables as rows with their headers: a row is one passage sentence whole, and
every passage of a table's rows carries its caption and column headers.
Then the real thing: a PDF table made here, read, indexed with the bundled
model and asked about a row far below the header."""

from __future__ import annotations

import pytest

import qa
from helpers import PORTS, FakeEmbedder, harbour_rows, pdf_table
from qa.chunking import chunk_rows
from qa.extract import table_cell
from qa.ingest import TABLE_HEAD_CHARS, chunk_document, context, table_head
from qa.types import Document, Table, TableRow, split_head

SEP = " | "


def table_text(caption: str, rows: list[list[str]], header_rows: int = 1) -> tuple[str, Table]:
    """Text of a caption line and rows of cells, and the Table the readers would report for it."""
    text = caption + "\n" if caption else ""
    table_start, out = len(text), []
    for cells in rows:
        start, spans = len(text), []
        for n, cell in enumerate(cells):
            if n:
                text += SEP
            spans.append((len(text), len(text) + len(cell)))
            text += cell
        out.append(TableRow(start, len(text), tuple(spans)))
        text += "\n"
    return text, Table(table_start, out[-1].end, tuple(out), header_rows, caption)


def document(prose_before: str, caption: str, rows, prose_after: str, header_rows: int = 1) -> Document:
    body, table = table_text(caption, rows, header_rows)
    shift = len(prose_before) + 2
    table = Table(table.start + shift, table.end + shift,
                  tuple(TableRow(r.start + shift, r.end + shift, tuple((a + shift, b + shift) for a, b in r.cells))
                        for r in table.rows), table.header_rows, table.caption)
    text = f"{prose_before}\n\n{body}\n{prose_after}"
    return Document("t.pdf", "Ferry records", text, "t.pdf", format="pdf", tables=(table,))


ROWS = [["Year", "Ferry", "Bridge"]] + [[str(1900 + n), f"{1000 + 7 * n:,}", str(3 * n)] for n in range(80)]


def test_table_rows_are_whole_sentences_and_every_chunk_has_the_header():
    doc = document("The valley kept records of every crossing. The ferry ran daily.", "Table 1: Crossings by year",
                   ROWS, "After the bridge opened, the ferry closed. Its boat was sold.")
    fake = FakeEmbedder()
    chunks = chunk_document(doc, fake, qa.Settings(passage_tokens=40))
    rows = {(r.start, r.end) for r in doc.tables[0].rows[1:]}
    table_chunks = [c for c in chunks if c.head]
    assert len(table_chunks) > 3  # 80 rows do not fit one passage
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
    for c in table_chunks:
        assert c.head == "Table 1: Crossings by year\nYear | Ferry | Bridge"
        assert set(c.sentences) <= rows  # each sentence one whole data row
        assert "Year | Ferry" not in c.text  # the header is the head, not a row of the passage
    assert sorted(s for c in table_chunks for s in c.sentences) == sorted(rows)  # every row once
    prose = [c for c in chunks if not c.head]
    assert prose[0].text.startswith("The valley kept records") and prose[-1].text.endswith("Its boat was sold.")
    # What the model and BM25 see: the head between the title and the rows.
    first = table_chunks[0]
    assert context(doc.title, first.text, "", first.head) == f"Ferry records\n{first.head}\n{first.text}"


def test_a_document_without_tables_chunks_as_before():
    doc = Document("p.txt", "P", "One sentence here. Another one there.\n\nA new paragraph starts.")
    fake = FakeEmbedder()
    settings = qa.Settings(passage_tokens=40)
    chunks = chunk_document(doc, fake, settings)
    assert [c.text for c in chunks] == ["One sentence here. Another one there.\n\nA new paragraph starts."]
    assert all(c.head == "" for c in chunks)


def test_a_row_longer_than_the_budget_is_cut_but_never_joined_to_the_next():
    text, table = table_text("", [["Name", "Note"], ["alpha", "word " * 60], ["beta", "short"]])
    rows = [(r.start, r.end) for r in table.rows[1:]]
    chunks = chunk_rows(text, rows, 20, lambda s: len(s.split()), head="Name | Note")
    pieces = [s for c in chunks for s in c.sentences]
    assert pieces[-1] == rows[1]  # "beta | short" stays a sentence of its own
    assert all(rows[0][0] <= a and b <= rows[0][1] for a, b in pieces[:-1])
    assert all(c.head == "Name | Note" for c in chunks)


def test_a_table_head_is_bounded():
    wide = [[f"column number {n}" for n in range(200)], ["x"] * 200]
    text, table = table_text("A caption", wide)
    head = table_head(text, table)
    assert head.startswith("A caption\ncolumn number 0") and len(head) <= TABLE_HEAD_CHARS


def test_a_table_of_header_rows_only_keeps_its_rows():
    doc = document("Some text before it.", "", [["Ferry", "Bridge"], ["1,204", "0"]], "Text after.", header_rows=2)
    chunks = chunk_document(doc, FakeEmbedder(), qa.Settings(passage_tokens=40))
    assert any("1,204 | 0" in c.text for c in chunks)


# --- the real model on a real PDF ---------------------------------------------------------------


@pytest.mark.slow
def test_a_question_about_a_row_far_below_the_header_is_answered_with_that_row(folders, real_embedder):
    pdf_table(folders.corpus_dir / "harbours.pdf", "Table 3: Boats registered by port, 2019", harbour_rows())
    idx = qa.Index.open(settings=folders, embedder=real_embedder)
    report = idx.sync()
    assert report.added == ("harbours.pdf",), report
    n = PORTS.index("Millport")
    answer = idx.answer("In Table 3 (boats registered by port), how many yachts were registered in Millport?")
    assert answer.found
    first = answer.quotes[0]
    assert first.text.startswith("Millport") and harbour_rows()[n + 1][3] in first.text  # the row, whole
    assert first.cell == f"Millport, Yachts: {harbour_rows()[n + 1][3]}"  # the column the question names
    hit = answer.hits[first.number - 1]
    assert "Port | Fishing boats | Ferries | Yachts" in hit.passage.head
    assert hit.citation.label.endswith("harbours.pdf, p. 1")


def test_a_table_cell_names_its_row_label_and_the_column_asked_for():
    head = "Table 3: Boats by port\nPort | Fishing boats | Ferries | Yachts"
    row = "Millport | 581 | 4 | 447"
    asked = {"Fishing boats": 1.5, "Yachts": 2.0}.get
    assert table_cell(row, split_head(head)[1], lambda h: asked(h, 0.0), SEP) == "Millport, Yachts: 447"
    # No column asked for, two asked for alike, or a header that does not line up: no cell.
    assert table_cell(row, split_head(head)[1], lambda h: 0.0, SEP) == ""
    assert table_cell(row, split_head(head)[1], lambda h: 1.0 if h in ("Ferries", "Yachts") else 0.0, SEP) == ""
    assert table_cell("Millport | 581", split_head(head)[1], lambda h: 1.0, SEP) == ""
    # Header rows stacked over the columns read top to bottom.
    two = "2019 | 2019 | 2020\nRegion | Q1 | Q1"
    assert table_cell("North | 10 | 12", split_head(two)[1], lambda h: 1.0 if h == "2020 Q1" else 0.0, SEP) == "North, 2020 Q1: 12"


def harbour_markdown() -> str:
    rows = harbour_rows()
    lines = ["| " + " | ".join(rows[0]) + " |", "|:---|---:|---:|---:|"]
    lines += ["|  " + "  |  ".join(r) + "  |" for r in rows[1:]]  # padded cells, as editors align them
    return ("# Harbour statistics\n\nThe harbour board counts the boats of every port each spring.\n\n"
            "## Table 3: Boats registered by port, 2019\n\n" + "\n".join(lines) + "\n\nCounted in April.\n")


def test_a_markdown_pipe_table_is_a_table_and_keeps_the_files_lines(tmp_path):
    from qa.documents import read_document

    source = harbour_markdown()
    path = tmp_path / "harbours.md"
    path.write_text(source)
    doc = read_document(path, "harbours.md", 10**9)
    (table,) = doc.tables
    assert table.caption == "Table 3: Boats registered by port, 2019" and table.header_rows == 1
    assert [doc.text[a:b] for a, b in table.rows[0].cells] == ["Port", "Fishing boats", "Ferries", "Yachts"]
    n = PORTS.index("Millport")
    assert [doc.text[a:b] for a, b in table.rows[n + 1].cells] == harbour_rows()[n + 1]
    assert doc.text[table.rows[n + 1].start:table.rows[n + 1].end] == " | ".join(harbour_rows()[n + 1])
    # One line stays one line: a citation's line numbers are the file's own.
    assert doc.text.count("\n") == source.count("\n")
    line = doc.text[: table.rows[n + 1].start].count("\n")
    assert "Millport" in source.split("\n")[line]
    # A table in a code fence is code, not a table.
    fenced = tmp_path / "code.md"
    fenced.write_text("# Code\n\n```\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n")
    assert read_document(fenced, "code.md", 10**9).tables == ()


def test_a_question_about_a_markdown_table_row_is_answered_with_its_cell(folders, real_embedder):
    (folders.corpus_dir / "harbours.md").write_text(harbour_markdown())
    idx = qa.Index.open(settings=folders, embedder=real_embedder)
    idx.sync()
    n = PORTS.index("Millport")
    answer = idx.answer("In Table 3 (boats registered by port), how many yachts were registered in Millport?")
    assert answer.found
    first = answer.quotes[0]
    assert first.cell == f"Millport, Yachts: {harbour_rows()[n + 1][3]}"
    hit = answer.hits[first.number - 1]
    assert "Port | Fishing boats | Ferries | Yachts" in hit.passage.head
    assert "harbours.md, line" in hit.citation.label
