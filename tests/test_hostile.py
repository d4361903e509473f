"""Hostile and broken files: each is refused with a DocumentError naming the file,
never a traceback, never a hang, and before anything is written.

Bombs are generated on the fly in tmp_path (about 1 MB on disk at most) and never kept.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
import zlib

import pytest

import qa
from qa import readers
from qa.corpus import import_file
from qa.documents import read_document
from qa.errors import DocumentError
from qa.readers import _client

from helpers import make_docx, make_pdf, raw_pdf

LIMIT = 50_000_000
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def stream(data: bytes, flate: bool = False) -> bytes:
    if flate:
        data = zlib.compress(data, 1)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def page(parent: int, contents: int, font: int) -> bytes:
    return (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 300 300] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (parent, contents, font))


def refused(path, pattern: str):
    start = time.monotonic()
    with pytest.raises(DocumentError) as info:
        read_document(path, path.name, LIMIT)
    message = str(info.value)
    assert message.startswith(f"{path.name}: "), message
    assert info.value.source == path.name
    assert re.search(pattern, message), message
    return message, time.monotonic() - start


def quick(seconds: float, baseline: float) -> bool:
    """Whether a refusal took the time of an ordinary read (``baseline``, measured
    in the same test), give or take a busy machine, rather than running on
    towards the parse ceiling it is meant never to reach."""
    return seconds < max(50 * baseline, readers.PARSE_TIMEOUT_S / 10)


def ordinary_read_s(tmp_path, name: str = "ordinary.pdf") -> float:
    """Seconds to read an ordinary small PDF through the same path (the worker)."""
    path = make_pdf(tmp_path / name, ["An ordinary page of text."])
    start = time.monotonic()
    read_document(path, path.name, LIMIT)
    return time.monotonic() - start


# ------------------------------------------------------------------------- PDF
def test_raw_pdf_builder_makes_a_readable_pdf(tmp_path):
    """The hand-made PDFs below are valid apart from what each test breaks."""
    path = tmp_path / "raw.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page(2, 4, 5),
        stream(b"BT /F1 12 Tf 20 200 Td (Hand made text.) Tj ET"),
        FONT,
    ]))
    assert read_document(path, "raw.pdf", LIMIT).text == "Hand made text."


def test_password_protected_pdf_is_refused(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(make_pdf(tmp_path / "p.pdf", ["Top secret words."])))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    refused(path, r"is encrypted \(password-protected\)")


def test_truncated_pdf_is_refused(tmp_path):
    data = make_pdf(tmp_path / "whole.pdf", ["Page one text.", "Page two text."]).read_bytes()
    path = tmp_path / "half.pdf"
    path.write_bytes(data[: len(data) // 2])
    refused(path, r"is truncated or damaged")


def test_damaged_pdf_body_is_refused(tmp_path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.4\n" + os.urandom(5000) + b"\ntrailer\n<< /Root 9 0 R >>\n%%EOF\n")
    refused(path, r"damaged|no page tree")


@pytest.mark.parametrize(
    "data",
    [os.urandom(3000), b"PK\x03\x04" + bytes(500), b"Just some text, not a PDF.\n"],
    ids=["random", "zip", "text"],
)
def test_non_pdf_renamed_pdf_is_refused(tmp_path, data):
    path = tmp_path / "fake.pdf"
    path.write_bytes(data)
    refused(path, r"is not a PDF")


def test_pdf_repeating_one_page_past_the_page_limit_is_refused(tmp_path):
    kids = b" ".join([b"3 0 R"] * 6000)
    path = tmp_path / "many.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count 6000 >>",
        page(2, 4, 5),
        stream(b"BT /F1 12 Tf 20 200 Td (Same page.) Tj ET"),
        FONT,
    ]))
    _, seconds = refused(path, r"more than 5,000 pages")
    assert quick(seconds, ordinary_read_s(tmp_path))


def test_pdf_page_tree_claiming_ten_billion_pages_is_refused_fast(tmp_path):
    # Ten levels of /Pages nodes, each with ten kids that are all the next level: 10^10 pages in 13 objects.
    levels = 10
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(levels):
        below = 3 + level
        objects.append(b"<< /Type /Pages /Kids [" + b" ".join([b"%d 0 R" % below] * 10) + b"] /Count 1 >>")
    leaf = 2 + levels
    objects += [page(leaf - 1, leaf + 1, leaf + 2), stream(b"BT /F1 12 Tf 20 200 Td (x) Tj ET"), FONT]
    path = tmp_path / "tree.pdf"
    path.write_bytes(raw_pdf(objects))
    _, seconds = refused(path, r"more than 5,000 pages")
    assert quick(seconds, ordinary_read_s(tmp_path))


def test_pdf_page_tree_cycle_is_refused(tmp_path):
    path = tmp_path / "cycle.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
    ]))
    refused(path, r"page")


def test_page_limit_is_configurable(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_PAGES", 2)
    path = make_pdf(tmp_path / "three.pdf", ["One.", "Two.", "Three."])
    refused(path, r"has 3 pages, above the limit of 2; split it")


def test_character_limit_truncates_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_CHARS", 60)
    path = make_pdf(tmp_path / "long.pdf", ["First page " * 3, "Second page " * 10, "Third page " * 10])
    doc = read_document(path, "long.pdf", LIMIT)
    assert len(doc.text) <= 60 and doc.text.startswith("First page")
    assert "Third" not in doc.text
    assert any("only the first 60 characters were read (pages 1-2 of 3)" in w for w in doc.warnings)


def test_pdf_decompression_bomb_in_a_content_stream_is_refused(tmp_path):
    # 100 MB of drawing commands packed into ~0.5 MB: above pypdf's own inflate limit (75 MB).
    content = b"BT /F1 12 Tf 20 200 Td (A) Tj ET\n" * 3_000_000
    path = tmp_path / "bomb.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page(2, 4, 5),
        stream(content, flate=True),
        FONT,
    ]))
    assert path.stat().st_size < 2_000_000
    _, seconds = refused(path, r"no readable text|memory|longer than|damaged")
    # Refused by an inflate limit, the memory ceiling or at worst the time ceiling: never later.
    assert seconds < readers.PARSE_TIMEOUT_S + 10 * ordinary_read_s(tmp_path)


# ------------------------------------------------------------------------ DOCX
def test_zip_bomb_disguised_as_docx_is_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            zeros = bytes(1 << 20)
            for _ in range(250):  # 250 MB of zeros: about 1 MB packed
                f.write(zeros)
    assert path.stat().st_size < 3_000_000
    _, seconds = refused(path, r"would unpack to 262 MB, above the 200 MB limit \(a zip bomb\?\)")
    assert quick(seconds, ordinary_read_s(tmp_path))


def test_docx_part_with_a_bomb_ratio_is_refused(tmp_path):
    path = tmp_path / "ratio.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", bytes(20_000_000))
    refused(path, r"word/document\.xml\) that unpacks [\d,]+ times its packed size, above the 100:1 limit")


def test_docx_zip_that_lies_about_its_sizes_is_refused(tmp_path):
    good = make_docx(tmp_path / "good.docx").read_bytes()
    # Rewrite document.xml as 5 MB of zeros, then claim 1,000 bytes in the central directory.
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = bytes(5_000_000) if info.filename == "word/document.xml" else src.read(info)
            out.writestr(info.filename, data)
    data = bytearray(buf.getvalue())
    at = data.rfind(b"word/document.xml")  # the central directory entry's name
    entry = data.rfind(b"PK\x01\x02", 0, at)
    data[entry + 24: entry + 28] = (1000).to_bytes(4, "little")
    path = tmp_path / "liar.docx"
    path.write_bytes(bytes(data))
    refused(path, r"damaged|not a Word document")


@pytest.mark.parametrize(
    "data", [os.urandom(4000), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000), b"Plain words."],
    ids=["random", "old-doc", "text"],
)
def test_non_zip_renamed_docx_is_refused(tmp_path, data):
    path = tmp_path / "fake.docx"
    path.write_bytes(data)
    refused(path, r"is not a Word \.docx file \(it is not a zip archive")


def test_zip_that_is_not_a_word_document_is_refused(tmp_path):
    path = tmp_path / "photos.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("photo.jpg", b"\xff\xd8\xff" + bytes(100))
    refused(path, r"not a Word document")


# ------------------------------------------------------------------------ HTML
def test_binary_renamed_html_is_refused(tmp_path):
    path = tmp_path / "image.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    refused(path, r"is binary")


def test_html_with_no_text_is_refused_as_empty(tmp_path):
    path = tmp_path / "shell.html"
    path.write_text("<html><head><script>app()</script></head><body><nav>Menu</nav></body></html>")
    refused(path, r"is empty")


def test_deeply_nested_and_unclosed_html_is_read(tmp_path):
    path = tmp_path / "deep.html"
    path.write_text("<div>" * 100_000 + "Deep words." + "<p><b><i>unclosed tags" * 1000)
    doc = read_document(path, "deep.html", LIMIT)
    assert doc.text.startswith("Deep words.")


@pytest.mark.parametrize(
    "body", ["if x<y then z. " * 50_000, "<a" * 200_000, "<!--" * 200_000, "</" * 200_000, "<p title='" * 100_000],
    ids=["unescaped-lt", "open-tags", "open-comments", "end-tags", "open-attributes"],
)
def test_html_that_makes_naive_parsers_quadratic_is_fast(tmp_path, body):
    """Python's html.parser (before the 2025 fixes) needs minutes for these; the reader must not."""
    path = tmp_path / "soup.html"
    path.write_text("<p>Readable start.</p>" + body)
    start = time.monotonic()
    doc = read_document(path, "soup.html", LIMIT)
    seconds = time.monotonic() - start
    assert doc.text.startswith("Readable start.")
    # Against ordinary HTML of the same size, read in the same test: linear, not quadratic.
    plain = tmp_path / "plain.html"
    plain.write_text("<p>Readable start.</p>" + "<p>An ordinary paragraph of text.</p>\n" * (len(body) // 38))
    start = time.monotonic()
    read_document(plain, "plain.html", LIMIT)
    assert quick(seconds, time.monotonic() - start)


# -------------------------------------------------------------------- the ceilings
def test_parse_over_the_time_ceiling_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PARSE_TIMEOUT_S", 1e-6)
    path = make_pdf(tmp_path / "slow.pdf", ["Any text."])
    refused(path, r"took longer than 1e-06 s to parse; skipped")
    monkeypatch.undo()
    assert read_document(path, "slow.pdf", LIMIT).text == "Any text."  # the worker carries on


@pytest.mark.slow
def test_really_slow_parse_is_killed_at_the_ceiling(tmp_path, monkeypatch):
    # Sixteen pages that share one content stream of half a million tiny text
    # operations: the reader needs about half a second a page, many seconds in all.
    content = b"BT /F1 1 Tf 1 1 Td (ab) Tj ET\n" * 500_000
    more = range(6, 21)
    kids = b" ".join(b"%d 0 R" % n for n in (3, *more))
    path = tmp_path / "dense.pdf"
    path.write_bytes(raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, 1 + len(more)),
        page(2, 4, 5),
        stream(content, flate=True),
        FONT,
        *[page(2, 4, 5) for _ in more],
    ]))
    baseline = ordinary_read_s(tmp_path)
    monkeypatch.setattr(readers, "PARSE_TIMEOUT_S", 1.0)
    _, seconds = refused(path, r"took longer than 1 s to parse; skipped")
    assert seconds < 2 * readers.PARSE_TIMEOUT_S + 10 * baseline  # killed at the ceiling, not after the parse


def test_parse_over_the_memory_ceiling_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "PARSE_MEMORY_MB", 120)
    path = tmp_path / "big.html"
    path.write_text("<p>" + "word " * 6_000_000 + "</p>")  # 30 MB: parsing it needs well over 120 MB
    refused(path, r"needed more than 120 MB of memory")


def test_a_dead_worker_is_replaced(tmp_path):
    path = make_pdf(tmp_path / "ok.pdf", ["Still fine."])
    assert read_document(path, "ok.pdf", LIMIT).text == "Still fine."
    _client._parsing.worker.kill()
    assert read_document(path, "ok.pdf", LIMIT).text == "Still fine."


# ------------------------------------------------------------- nothing is written
def test_hostile_files_change_neither_corpus_nor_index(folders, fake, tmp_path):
    idx = qa.Index.open(settings=folders, embedder=fake)
    good = make_pdf(tmp_path / "good.pdf", ["A good document about tea."])
    import_file(idx, good)
    before = sorted(p.name for p in folders.corpus_dir.iterdir())
    half = tmp_path / "half.pdf"
    half.write_bytes(good.read_bytes()[:300])
    fake_docx = tmp_path / "fake.docx"
    fake_docx.write_bytes(os.urandom(1000))
    for bad, name in ((half, None), (fake_docx, None), (half, "good.pdf")):  # the last replaces good.pdf
        with pytest.raises(DocumentError, match=name or bad.name):
            import_file(idx, bad, name)
    assert sorted(p.name for p in folders.corpus_dir.iterdir()) == before
    assert (folders.corpus_dir / "good.pdf").read_bytes() == good.read_bytes()
    assert [d.doc_id for d in idx.documents()] == ["good.pdf"]
    # In the corpus folder, sync skips the bad file, says why, and indexes the rest.
    (folders.corpus_dir / "half.pdf").write_bytes(half.read_bytes())
    report = idx.sync()
    assert any(e.startswith("half.pdf: is truncated") for e in report.errors)
    assert [d.doc_id for d in idx.documents()] == ["good.pdf"]
