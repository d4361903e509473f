"""The web chat in a real browser: the app runs as `python -m ui.app` in a
subprocess over a throw-away corpus, and headless Chromium drives the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import ANSWER_TIMEOUT_MS, SEED, SEED_QUESTION, empty_milvus_server, harbour_rows, pdf_table, running_chat
from playwright import sync_api as playwright_api  # noqa: E402 - a missing browser driver must fail, not skip

expect = playwright_api.expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_chat(tmp_path_factory.mktemp("chat")) as s:
        yield s


@pytest.fixture
def page(server, browser):
    """A fresh tab (a fresh chat session) with the chat loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(server.url)
    pg.wait_for_selector("#question textarea", timeout=30_000)
    yield pg
    context.close()


def ask(page, question: str) -> str:
    """Ask through the page; the text of the reply it gets."""
    replies = page.locator("#chat .qa-reply")
    before = replies.count()
    page.fill("#question textarea", question)
    page.click("#ask")
    expect(replies).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    return replies.nth(before).inner_text()


def upload(page, path: Path) -> str:
    """Upload one file through the page's file input and add it; the status text."""
    listed = page.locator("#upload td.filename")
    page.set_input_files("#upload input[type=file]", str(path))
    # The file is listed once the browser has sent it to the server.
    expect(page.locator(f'#upload td.filename[aria-label="{path.name}"]')).to_have_count(1, timeout=30_000)
    page.click("#upload-btn")
    # The add handler empties the file box together with writing the status, so
    # an empty box means the new status is there (the old one may name the same file).
    expect(listed).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#upload-status [data-testid=markdown]").inner_text()


def assert_no_traceback(page):
    assert "Traceback" not in page.content()


def test_seed_question_is_answered_with_cited_passage(page):
    text = ask(page, SEED_QUESTION)
    assert "Haniyeh, who was in Tehran" in text
    assert f"{SEED.name}, lines" in text
    assert "chars " in text and "Why this passage" in text
    # The evidence sentence is highlighted, and the short answer cites it.
    assert page.locator("#chat .qa-reply mark").count() >= 1
    short = page.locator("#chat .qa-short").last.inner_text()
    marks = re.findall(r"\[(\d)\]", short)
    assert marks and all(1 <= int(m) <= 5 for m in marks)
    page.screenshot(path="/tmp/docqa-chat.png")
    assert_no_traceback(page)


def test_uploaded_document_is_searchable(page, server, tmp_path):
    doc = tmp_path / "zorblatt-festival.txt"
    doc.write_text(
        "The Zorblatt festival in Quenville is held every March and features giant paper lanterns.\n"
        "Visitors travel from across the valley to see the lanterns float over the river.\n",
        encoding="utf-8",
    )
    status = upload(page, doc)
    assert "Added zorblatt-festival.txt" in status
    assert (server.corpus / doc.name).read_bytes() == doc.read_bytes()
    expect(page.locator("#documents")).to_contain_text(doc.name)

    text = ask(page, "When is the Zorblatt festival held?")
    assert "held every March" in text
    assert "zorblatt-festival.txt, line" in text
    assert_no_traceback(page)


MARKUP = (
    "<script>window.__pwned=1</script>\n"
    '<img src=x onerror="window.__pwned=1">\n'
    "[link](javascript:window.__pwned=1)\n"
)
HTML_MARKUP = (
    "<html><body><p>{fact}</p>"
    "<p><code>&lt;script&gt;window.__pwned=1&lt;/script&gt;</code> "
    '<img src=x onerror="window.__pwned=1"> <a href="javascript:window.__pwned=1">javascript: link</a></p>'
    "<script>window.__pwned=1</script></body></html>"
)


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html"])
def test_document_markup_is_shown_as_text_and_never_runs(page, tmp_path, suffix):
    name = f"glimmerwick-{suffix[1:]}"
    fact = f"The Glimmerwick {suffix[1:]} lighthouse keeper, Odalys Verhoeven, paints the lamp room teal."
    doc = tmp_path / f"{name}{suffix}"
    doc.write_text(HTML_MARKUP.format(fact=fact) if suffix == ".html" else f"{fact}\n{MARKUP}", encoding="utf-8")
    assert f"Added {name}{suffix}" in upload(page, doc)
    text = ask(page, f"Who paints the Glimmerwick {suffix[1:]} lamp room teal?")
    assert "Odalys Verhoeven" in text
    # The markup is text in the document, and shows as text on the page.
    assert "<script>window.__pwned=1</script>" in text
    assert "javascript:" in text
    if suffix != ".html":  # an HTML reader keeps text, not tags
        assert "onerror" in text
    assert page.locator("#chat script, #chat img[src='x'], #chat a[href^='javascript']").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert_no_traceback(page)


def test_unrelated_question_says_the_documents_do_not_answer(page):
    text = ask(page, "What is the boiling point of liquid nitrogen in Kelvin?")
    assert "The documents do not seem to answer this question." in text
    assert "Closest passages (not an answer)" in text
    assert page.locator("#chat .qa-short").count() == 0  # no short answer is made up
    assert_no_traceback(page)


def test_empty_question_gets_help_not_a_search(page):
    text = ask(page, "   ")
    assert "Please type a question about the documents" in text
    assert "Passages" not in text and "do not seem" not in text
    assert_no_traceback(page)


def test_refused_upload_leaves_the_corpus_as_it_was(page, server, tmp_path):
    before = {p.name: p.read_bytes() for p in server.corpus.iterdir()}
    # Same name as the seed, no text: the replacement is refused and the seed stays.
    doc = tmp_path / SEED.name
    doc.write_text("   \n", encoding="utf-8")
    status = upload(page, doc)
    assert "Not added" in status and "empty" in status
    assert {p.name: p.read_bytes() for p in server.corpus.iterdir()} == before
    assert "Haniyeh, who was in Tehran" in ask(page, SEED_QUESTION)
    assert_no_traceback(page)


def test_upload_with_an_existing_name_replaces_the_document(page, server, tmp_path):
    doc = tmp_path / "moonfish.txt"
    doc.write_text("The silver moonfish of Lake Artavel spawns only in the first week of June.\n", encoding="utf-8")
    assert "Added moonfish.txt" in upload(page, doc)
    doc.write_text("The silver moonfish of Lake Artavel spawns only in the last week of November.\n", encoding="utf-8")
    assert "Replaced moonfish.txt" in upload(page, doc)
    assert "November" in (server.corpus / doc.name).read_text(encoding="utf-8")

    text = ask(page, "When does the silver moonfish of Lake Artavel spawn?")
    assert "last week of November" in text
    assert "first week of June" not in text
    assert_no_traceback(page)


def test_follow_up_question_keeps_the_subject(page, tmp_path):
    doc = tmp_path / "kelpie-regatta.txt"
    doc.write_text(
        "The Kelpie regatta on Loch Varrin starts at dawn on the first Sunday of August.\n"
        "Its boats are built from reclaimed whisky barrels.\n",
        encoding="utf-8",
    )
    assert "Added kelpie-regatta.txt" in upload(page, doc)
    first = ask(page, "When does the Kelpie regatta on Loch Varrin start?")
    assert "first Sunday of August" in first and "Read as a follow-up" not in first
    # The second turn only makes sense with the first: the chat passes it along.
    follow = ask(page, "and what are its boats built from?")
    assert "Read as a follow-up" in follow and "Kelpie regatta" in follow
    assert "[1] kelpie-regatta.txt" in follow and "whisky barrels" in follow
    assert_no_traceback(page)


def test_example_question_fills_the_question_box(page):
    page.get_by_text("Why is Iran getting triggered").first.click()
    expect(page.locator("#question textarea")).to_have_value(SEED_QUESTION)


def test_http_api_returns_the_answer_the_page_renders(server):
    from gradio_client import Client

    client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
    out = client.predict(SEED_QUESTION, api_name="/answer")
    assert out["found"] is True and out["question"] == SEED_QUESTION
    labels = [h["citation"]["label"] for h in out["hits"]]
    assert labels[0].startswith(f"[1] {SEED.name}, lines")
    assert any("Haniyeh, who was in Tehran" in h["passage"]["text"] for h in out["hits"])
    assert client.predict("   ", api_name="/answer") == {"error": "the question is empty: type a question about the documents"}


def test_the_chat_on_a_milvus_store_cites_like_the_chat_on_the_folder(tmp_path_factory, request):
    pytest.importorskip("pymilvus", reason="the Milvus store needs pymilvus: pip install 'docqa[milvus]'")
    from gradio_client import Client

    answers = []
    # Three fresh chats over the seed article: the folder, a real Milvus
    # engine (over gRPC, as a cluster), then Milvus Lite.
    for store in ("", empty_milvus_server(request), "milvus.db"):
        base = tmp_path_factory.mktemp("store-chat")
        with running_chat(base, QA_STORE_URI=str(base / store) if store.endswith(".db") else store) as chat:
            client = Client(chat.url, verbose=False, download_files=False, analytics_enabled=False)
            answers.append(client.predict(SEED_QUESTION, api_name="/answer"))
    folder, server, lite = answers
    for milvus in (server, lite):
        assert milvus["found"] is True
        assert [q["text"] for q in milvus["quotes"]] == [q["text"] for q in folder["quotes"]]
    assert [h["citation"]["label"] for h in server["hits"]] == [h["citation"]["label"] for h in folder["hits"]]
    # Milvus Lite 3.2 ignores bm25_k1/bm25_b (see test_milvus.py): the same passages, maybe in another order.
    assert lite["hits"][0]["citation"]["label"] == folder["hits"][0]["citation"]["label"]
    assert {h["passage"]["start"] for h in lite["hits"]} == {h["passage"]["start"] for h in folder["hits"]}


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory):
    """The chat with a login and no way to change the corpus from the page."""
    with running_chat(tmp_path_factory.mktemp("locked"), QA_AUTH="alice:s3cret", QA_READ_ONLY="1") as s:
        yield s


def test_login_is_required_and_read_only_hides_uploads(locked_server, browser):
    from gradio_client import Client

    for auth in (None, ("alice", "wrong")):
        with pytest.raises(Exception, match="(?i)login"):
            Client(locked_server.url, auth=auth, verbose=False, download_files=False, analytics_enabled=False)
    client = Client(locked_server.url, auth=("alice", "s3cret"), verbose=False, download_files=False,
                    analytics_enabled=False)
    assert client.predict(SEED_QUESTION, api_name="/answer")["found"] is True

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(locked_server.url)
    assert page.locator("#question textarea").count() == 0  # nothing but the login form
    page.fill("input[data-testid=textbox]", "alice")
    page.fill("input[data-testid=password]", "s3cret")
    page.click("button:has-text('Login')")
    page.wait_for_selector("#question textarea", timeout=30_000)
    assert "Haniyeh, who was in Tehran" in ask(page, SEED_QUESTION)
    assert not page.locator("#upload input[type=file]").is_visible()
    assert not page.locator("#sync-btn").is_visible()
    assert page.locator("#documents tr").count() >= 2 and page.locator("#documents a.qa-rm").count() == 0
    context.close()


def test_sync_button_picks_up_files_dropped_into_the_corpus(page, server):
    (server.corpus / "quenville-bakery.txt").write_text(
        "The Quenville bakery sells blue croissants every Tuesday.", encoding="utf-8"
    )
    page.click("#sync-btn")
    expect(page.locator("#upload-status")).to_contain_text("added: quenville-bakery.txt", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#documents")).to_contain_text("quenville-bakery.txt")
    assert "quenville-bakery.txt, line 1" in ask(page, "What colour are the croissants in Quenville?")


def test_a_table_hit_is_shown_as_a_table_with_its_header_and_the_answering_row_marked(page, tmp_path):
    path = pdf_table(tmp_path / "harbours.pdf", "Table 3: Boats registered by port, 2019", harbour_rows())
    assert "Added harbours.pdf" in upload(page, path)
    ask(page, "In Table 3 (boats registered by port), how many yachts were registered in Millport?")
    reply = page.locator("#chat .qa-reply").last
    table = reply.locator(".qa-table").first
    expect(table.locator("thead th")).to_have_text(["Port", "Fishing boats", "Ferries", "Yachts"])
    expect(table.locator("tr.qa-row td").first).to_have_text("Millport")
    expect(reply.locator(".qa-head").first).to_have_text("Table 3: Boats registered by port, 2019")
    assert_no_traceback(page)


LENS_PAGES = [
    "The harbour opened in 1850. " + " ".join(f"Entry {i} of the harbour ledger lists the cargo." for i in range(30)),
    "The Varnholt lighthouse lamp burned whale oil until the winter of 1870. "
    + " ".join(f"Entry {i} of the keeper's log records the weather." for i in range(30)),
]


def test_a_pdf_citation_opens_its_page_with_the_sentence_highlighted(page, tmp_path):
    import pdfplumber

    from helpers import make_pdf

    path = make_pdf(tmp_path / "varnholt.pdf", LENS_PAGES)
    assert "Added varnholt.pdf" in upload(page, path)
    ask(page, "Until when did the Varnholt lighthouse lamp burn whale oil?")
    reply = page.locator("#chat .qa-reply").last
    reply.locator(".qa-hit a.qa-src").first.click()
    view = page.locator("#source-view")
    expect(view.locator(".qa-page img")).to_be_visible(timeout=30_000)
    expect(view.locator(".qa-cite")).to_contain_text("page 2 of 2")
    marks = view.locator(".qa-hl")
    assert marks.count() >= 1
    # Where pdfplumber sees the sentence's first words, as a share of the page, is under the highlight.
    with pdfplumber.open(path) as pdf:
        p2 = pdf.pages[1]
        word = next(w for w in p2.extract_words() if w["text"] == "Varnholt")
        fx, fy = (word["x0"] + word["x1"]) / 2 / p2.width, (word["top"] + word["bottom"]) / 2 / p2.height
    img = view.locator(".qa-page img").bounding_box()
    x, y = img["x"] + fx * img["width"], img["y"] + fy * img["height"]
    boxes = [marks.nth(i).bounding_box() for i in range(marks.count())]
    assert any(b["x"] <= x <= b["x"] + b["width"] and b["y"] <= y <= b["y"] + b["height"] for b in boxes), (x, y, boxes)
    # The original file downloads, and the previous page is a click away.
    href = view.locator(".qa-download a").get_attribute("href")
    got = page.request.get(page.url.split("#")[0].rstrip("/") + "/" + href)
    assert got.status == 200 and got.body().startswith(b"%PDF")
    page.click("#source-prev")
    expect(view.locator(".qa-cite")).to_contain_text("page 1 of 2", timeout=30_000)
    expect(view.locator(".qa-hl")).to_have_count(0)
    page.screenshot(path="/tmp/docqa-source.png")
    assert_no_traceback(page)


def test_a_text_citation_scrolls_to_the_highlighted_passage(page):
    ask(page, SEED_QUESTION)
    reply = page.locator("#chat .qa-reply").last
    evidence = reply.locator(".qa-hit mark").first.inner_text()
    reply.locator(".qa-hit a.qa-src").first.click()
    mark = page.locator("#source-view mark.qa-hl-text").first
    expect(mark).to_be_visible(timeout=30_000)
    expect(mark).to_be_in_viewport()
    assert " ".join(page.locator("#source-view mark.qa-hl-text").all_inner_texts()).split() == evidence.split()
    expect(page.locator("#source-view .qa-cite")).to_contain_text(SEED.name)
    assert_no_traceback(page)


def pick_scope(page, name: str) -> None:
    """Choose ``name`` in the "ask within" box, as a user does: type, then pick it from the list."""
    page.click("#scope input")
    page.fill("#scope input", name)
    page.locator("#scope [role=option]", has_text=name).first.click()
    page.keyboard.press("Escape")


def test_a_question_scoped_to_one_document_cites_only_it_and_the_chat_exports_as_markdown(page, tmp_path):
    for side, hour in (("north", "nine"), ("south", "ten")):
        doc = tmp_path / f"{side}-quay-ferry.txt"
        doc.write_text(f"The {side}ern quay ferry leaves the harbour at {hour} in the morning every day.\n")
        assert f"Added {doc.name}" in upload(page, doc)
    page.reload()
    page.wait_for_selector("#question textarea", timeout=30_000)
    pick_scope(page, "south-quay-ferry.txt")
    text = ask(page, "When does the quay ferry leave the harbour?")
    reply = page.locator("#chat .qa-reply").last
    labels = reply.locator(".qa-hit .qa-cite strong").all_inner_texts()
    assert labels and all("south-quay-ferry.txt" in label for label in labels), labels
    assert "Asked within 1 of" in text
    # The conversation, one click away as Markdown with its citations.
    page.click("#export-btn")
    link = page.locator("#export-file a").first
    expect(link).to_be_visible(timeout=30_000)
    got = page.request.get(link.get_attribute("href") if link.get_attribute("href").startswith("http")
                           else page.url.split("#")[0].rstrip("/") + "/" + link.get_attribute("href").lstrip("/"))
    body = got.text()
    assert got.status == 200 and "# docqa conversation" in body
    assert "When does the quay ferry leave the harbour?" in body
    assert "south-quay-ferry.txt, line 1, characters 0-" in body and "ten in the morning" in body
    assert_no_traceback(page)


@pytest.fixture(scope="module")
def big_server(tmp_path_factory):
    """The chat over 1,000 small documents and one file it refuses, with no example questions."""
    base = tmp_path_factory.mktemp("big")
    corpus = base / "corpus"
    corpus.mkdir()
    for n in range(1000):
        (corpus / f"note-{n:04d}.txt").write_text(f"Note {n}: the shelf {n % 37} holds box {n} of the archive.\n")
    (corpus / "broken.pdf").write_bytes(b"this is not a PDF at all")
    with running_chat(base, seed=False) as s:
        yield s


def test_the_documents_panel_with_a_thousand_documents(big_server, browser):
    import time

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(big_server.url)
    summary = page.locator("#documents-summary")
    expect(summary).to_contain_text("1,000 documents", timeout=30_000)
    loaded = time.perf_counter() - started
    print(f"documents panel with 1,000 documents loaded in {loaded:.2f} s")  # logged, not a bound
    assert page.locator("#documents tbody tr").count() == 50  # one page, not a 1,000-row table
    expect(page.locator("#documents .qa-refused")).to_contain_text("broken.pdf")
    expect(page.locator("#documents .qa-refused")).to_contain_text("not a PDF")
    assert page.get_by_text("Example questions").count() == 0  # none configured: none shown
    page.fill("#doc-search textarea", "note-0777")
    expect(page.locator("#documents tbody tr")).to_have_count(1, timeout=30_000)
    expect(page.locator("#documents tbody")).to_contain_text("note-0777.txt")
    page.fill("#doc-search textarea", "")
    expect(summary).to_contain_text("page 1 of 20", timeout=30_000)
    page.click("#doc-next")
    expect(summary).to_contain_text("page 2 of 20", timeout=30_000)
    # Removing a document from the page: asked first, then gone from the index and the folder.
    page.fill("#doc-search textarea", "note-0005")
    expect(page.locator("#documents tbody tr")).to_have_count(1, timeout=30_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#documents a.qa-rm").first.click()
    expect(page.locator("#remove-status")).to_contain_text("Removed note-0005.txt", timeout=30_000)
    expect(page.locator("#documents tbody tr")).to_have_count(0, timeout=30_000)
    assert not (big_server.corpus / "note-0005.txt").exists()
    assert_no_traceback(page)
    context.close()


def test_a_written_answer_streams_in_checked_above_the_quoted_one(tmp_path_factory, browser):
    from helpers import Scripted

    llm = Scripted()
    llm.reply = ("Haniyeh was killed in Tehran [1]. Iran has sent 4,000 troops to Gaza [1]. "
                 "Iran's Supreme Leader ordered a direct military response against Israel [2].")
    try:
        with running_chat(tmp_path_factory.mktemp("writing"), QA_LLM_URL=llm.url, QA_LLM_MODEL="scripted") as s:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(s.url)
            page.wait_for_selector("#question textarea", timeout=30_000)
            ask(page, SEED_QUESTION)
            written = page.locator("#chat .qa-reply").last.locator("..").locator(".qa-written").first
            expect(written).to_contain_text("every sentence checked", timeout=ANSWER_TIMEOUT_MS)
            expect(written.locator("details summary")).to_contain_text("Left out")
            assert "4,000 troops" not in written.locator("blockquote").inner_text()
            assert written.locator("blockquote a.qa-src").count() >= 1  # each sentence links to its support
            expect(page.locator("#chat .qa-short").last).to_be_visible()  # the quoted answer is still there
            assert_no_traceback(page)
            context.close()
    finally:
        llm.server.shutdown()
