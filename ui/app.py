"""The web chat: ask the documents questions, add documents, see what is indexed.

    python -m ui.app    # settings from QA_* environment variables (QA_CORPUS_DIR, QA_PORT, ...)

The chat only calls :class:`qa.Index`; every piece of HTML it shows comes from
:mod:`ui.render`, which escapes all document text and file names. Every
request passes :mod:`ui.guard` first (uploads, request sizes, login attempts),
and uploads live in a folder of this process's own (:mod:`ui.uploads`).
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import qa
from qa import answering, corpus, writing
from qa.corpus import safe_name
from qa.serving import prepare_serving
from qa.watch import start_watching
from qa.documents import SUPPORTED_SUFFIXES
from starlette.middleware import Middleware

from . import export, guard, originals, render, uploads
from .gradio_import import import_gradio
from .render import esc

gr = import_gradio()

log = logging.getLogger("docqa.ui")

TOP_K = 5
# Gradio's delete_cache (every 600 s, files older than 3600 s): uploads that were
# never added (a tab closed, a file type Gradio refused) do not pile up.
STALE_UPLOADS = (600, 3600)
HISTORY_TURNS = 3  # earlier answers kept per tab for follow-up questions
MAX_TURNS = 200  # turns kept per tab for the export
MAX_EXPORTS = 20  # Markdown files kept in the export folder (a tab downloads its file at once)
MAX_SCOPE_CHOICES = 5000
WRITE_REFRESH_S = 0.25  # how often a written answer being streamed is redrawn
EXAMPLES_FILE = ".docqa-examples"  # in the corpus folder: one example question per line (a dot file: never indexed)
MAX_EXAMPLES = 10
MAX_EXAMPLE_CHARS = 300

CSS = """
#chat .qa-reply { line-height: 1.5; }
#chat .qa-short { margin: 0.25em 0 0.75em; padding: 0.5em 0.9em; border-left: 4px solid #f59e0b; }
#chat .qa-hit { margin: 0.6em 0; padding: 0.5em 0.8em; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px; }
#chat .qa-cite { margin: 0 0 0.3em; font-size: 0.92em; }
#chat .qa-text { margin: 0 0 0.3em; }
#chat .qa-head { margin: 0 0 0.2em; font-size: 0.9em; font-weight: 600; opacity: 0.85; }
#chat .qa-table { border-collapse: collapse; font-size: 0.9em; margin: 0 0 0.3em; }
#chat .qa-table th, #chat .qa-table td { border: 1px solid rgba(128, 128, 128, 0.35); padding: 1px 6px; text-align: left; }
#chat .qa-table tr.qa-row td { background: #fde68a; color: #1f2937; }
#chat .qa-note { font-size: 0.9em; opacity: 0.8; }
#chat .qa-written { margin: 0 0 0.6em; }
#chat .qa-pending p:last-child { opacity: 0.7; font-style: italic; }
#chat .qa-row-text { font-size: 0.9em; opacity: 0.75; }
#chat mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 3px; }
#chat details summary { cursor: pointer; font-size: 0.9em; }
#documents table { width: 100%; font-size: 0.9em; }
#documents th { white-space: nowrap; }
#documents td.num { text-align: right; }
#documents code { word-break: break-all; }
#documents .qa-warn { font-size: 0.85em; color: #b45309; }
.qa-hidden { display: none !important; }
#documents details summary { cursor: pointer; font-size: 0.85em; opacity: 0.8; }
#documents details ul { margin: 0.2em 0 0.3em 1.2em; font-size: 0.85em; }
#documents a.qa-rm { font-size: 0.8em; color: #b91c1c; margin-left: 0.4em; }
#documents .qa-refused { margin: 0 0 0.5em; font-size: 0.9em; color: #b45309; }
#source-view .qa-page { position: relative; width: 100%; }
#source-view .qa-page img { width: 100%; display: block; border: 1px solid rgba(128, 128, 128, 0.35); }
#source-view .qa-hl { position: absolute; background: rgba(250, 204, 21, 0.4); outline: 2px solid #f59e0b; }
#source-view .qa-shade { position: absolute; background: rgba(59, 130, 246, 0.14); }
#source-view .qa-lines { max-height: 560px; overflow: auto; font-family: ui-monospace, monospace; font-size: 0.85em; white-space: pre-wrap; }
#source-view .qa-ln { display: inline-block; width: 3.5em; opacity: 0.55; user-select: none; }
#source-view mark.qa-ctx { background: rgba(59, 130, 246, 0.14); color: inherit; }
#source-view mark.qa-hl-text { background: #fde68a; color: #1f2937; }
#source-view .qa-note { font-size: 0.9em; opacity: 0.8; }
"""

# A citation is a link to "#src=KEY" (ui/render.cite_link), a document's remove link
# "#rm=KEY": the click is caught here and handed to the hidden box of that action,
# whose change runs it on the server (a counter makes a second click on the same
# link a change too). Removing asks first.
OPEN_CITATIONS = """() => {
    const boxes = {'#src=': '#source-key', '#rm=': '#remove-key'};
    document.addEventListener('click', (event) => {
        const link = event.target.closest ? event.target.closest('a[href^="#src="], a[href^="#rm="]') : null;
        if (!link) return;
        event.preventDefault();
        event.stopPropagation();
        const href = link.getAttribute('href');
        const prefix = href.startsWith('#rm=') ? '#rm=' : '#src=';
        if (prefix === '#rm=') {
            const row = link.closest('tr');
            const name = row ? row.querySelector('code').textContent : 'this document';
            if (!window.confirm('Remove ' + name + ' from the index and delete its file from the corpus folder?')) return;
        }
        const box = document.querySelector(boxes[prefix] + ' textarea, ' + boxes[prefix] + ' input');
        if (!box) return;
        box.value = href.slice(prefix.length) + '.' + Date.now();
        box.dispatchEvent(new Event('input', {bubbles: true}));
    }, true);
}"""

SHOW_SOURCE = """() => setTimeout(() => {
    const view = document.querySelector('#source-view');
    if (view) view.scrollIntoView({block: 'start'});
    const mark = document.querySelector('#source-view .qa-hl-text');
    if (mark) mark.scrollIntoView({block: 'center'});
}, 150)"""

# A reply is long (short answer, then five passages). Scrolling to its end, as
# the chat would, hides the short answer; scroll to the new question instead.
SCROLL_TO_NEW_REPLY = """() => setTimeout(() => {
    const wrap = document.querySelector('#chat .bubble-wrap');
    const rows = wrap ? wrap.querySelectorAll('.message-row') : [];
    if (!rows.length) return;
    const last = rows[rows.length - 1], prev = rows[rows.length - 2];
    const target = prev && prev.classList.contains('user-row') ? prev : last;
    wrap.scrollTop += target.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 8;
}, 100)"""


def build_app(index: qa.Index, settings: qa.Settings) -> gr.Blocks:
    """The chat over ``index``: chat box with examples, upload panel, documents table."""

    def ask(question: str, messages: list | None, answers: list, transcript: list, scope):
        # Before anything else: a lone surrogate (from the question, or the chat
        # the tab sends back) cannot be encoded as UTF-8, so no reply echoing it could be sent.
        question = clean_text(question) if isinstance(question, str) else ""
        messages = clean_text(list(messages or []))
        if question.strip():
            messages.append({"role": "user", "content": esc(question.strip())})
        docs, folders = split_scope(scope)
        html, ans = reply(index, question, answers, docs, folders)
        messages.append({"role": "assistant", "content": html})
        if question.strip():
            transcript = (list(transcript or []) + [(question.strip(), ans, "" if ans else html_text(html))])[-MAX_TURNS:]
        # Earlier answers let a follow-up ("and why?") keep the conversation's subject.
        answers = (answers + [ans])[-HISTORY_TURNS:] if ans else answers
        yield "", messages, answers, transcript
        if ans is None or not ans.found or not settings.llm_url.strip():
            return
        # The quoted answer is on the page; the written one streams in above it, then is checked.
        for written in written_reply(index, ans):
            messages[-1] = {"role": "assistant", "content": written + html}
            yield "", messages, answers, transcript

    def panel(query: str, sort: str, page: int):
        return documents_panel(index, query, sort, page, removable=not settings.read_only)

    def remove(key: str, query: str, sort: str, page: int):
        doc = render.parse_doc_key(key)
        if settings.read_only:
            line = "This chat is read-only: documents cannot be removed here."
        elif doc is None:
            return (gr.skip(),) * 4
        else:
            line = remove_from_corpus(index, doc)
        return (line, *panel(query, sort, page), gr.update(choices=scope_choices(index)))

    def export_chat(transcript: list):
        return gr.update(value=write_export(transcript), visible=True)

    def sync(progress=gr.Progress()):
        try:
            report = index.sync(pages=ocr_status(progress))
        except qa.QAError as exc:
            return f"Sync failed: {esc(str(exc))}"
        except Exception:
            log.exception("syncing the corpus folder failed")
            return "Sync failed: an unexpected error (see the server log); the index is as it was."
        return esc(describe_sync(report))

    def add(paths: list[str] | None, progress=gr.Progress()):
        folder = Path(files.GRADIO_CACHE)  # where Gradio put this chat's uploads
        try:
            if settings.read_only:
                return "This chat is read-only: documents cannot be added here.", None
            if not paths:
                return "Choose one or more files first, then press the button.", gr.skip()
            lines = [add_upload(index, Path(p), ocr_status(progress)) for p in paths]
            return "\n".join(f"- {line}" for line in lines), None
        finally:
            for p in paths or []:  # added or refused, the upload has served its purpose
                uploads.discard(Path(p), folder)

    with gr.Blocks(title="docqa", analytics_enabled=False, delete_cache=STALE_UPLOADS) as app:
        gr.Markdown("## docqa: ask your documents\nAnswers quote the documents only, with a citation for every sentence.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    elem_id="chat",
                    label="Chat",
                    height=640,
                    autoscroll=False,  # SCROLL_TO_NEW_REPLY shows the start of a reply, not its end
                    sanitize_html=True,
                    allow_tags=False,  # no custom tags: our replies use standard HTML only
                    latex_delimiters=[],  # "$$" in a document is text, not math
                    feedback_options=None,
                    buttons=["copy", "copy_all"],  # no "share": it posts to Hugging Face, and this chat is offline
                    placeholder="Ask a question about the documents.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        elem_id="question", show_label=False, scale=5, autofocus=True,
                        placeholder="Ask a question about the documents and press Enter",
                    )
                    ask_btn = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=80)
                with gr.Row():
                    scope = gr.Dropdown(
                        choices=[], value=[], multiselect=True, filterable=True, allow_custom_value=False,
                        label="Ask within (documents or folders; empty: all)", elem_id="scope", scale=5,
                    )
                    export_btn = gr.Button("Export the chat", elem_id="export-btn", scale=1, min_width=80, size="sm")
                export_file = gr.File(label="The chat as Markdown", elem_id="export-file", visible=False,
                                      interactive=False)
                examples = example_questions(settings)
                if examples:
                    gr.Examples(examples, inputs=[box], label="Example questions")
            with gr.Column(scale=2):
                with gr.Group(visible=False) as source_box:
                    source_view = gr.HTML(elem_id="source-view")
                    with gr.Row():
                        prev_btn = gr.Button("Previous page", elem_id="source-prev", size="sm")
                        next_btn = gr.Button("Next page", elem_id="source-next", size="sm")
                source_key = gr.Textbox(elem_id="source-key", elem_classes=["qa-hidden"], show_label=False,
                                        container=False)
                # Read-only deployments show no control that changes the corpus.
                with gr.Group(visible=not settings.read_only):
                    gr.Markdown("### Add documents")
                    files = gr.File(
                        elem_id="upload", label="Documents (" + " ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
                        file_count="multiple", file_types=sorted(SUPPORTED_SUFFIXES),
                    )
                    with gr.Row():
                        add_btn = gr.Button("Add to the index", elem_id="upload-btn")
                        sync_btn = gr.Button("Sync with the corpus folder", elem_id="sync-btn")
                    status = gr.Markdown(elem_id="upload-status")
                gr.Markdown("### Indexed documents")
                with gr.Row():
                    doc_search = gr.Textbox(elem_id="doc-search", show_label=False, scale=3,
                                            placeholder="Search by name, title or format")
                    doc_sort = gr.Dropdown(choices=[(label, key) for key, label in render.SORTS.items()],
                                           value="name", elem_id="doc-sort", show_label=False, scale=2)
                # A callable value is re-read on every page load, so a new tab sees current documents.
                table = gr.HTML(lambda: panel("", "name", 1)[0], elem_id="documents")
                with gr.Row():
                    doc_prev = gr.Button("Previous", elem_id="doc-prev", size="sm")
                    doc_next = gr.Button("Next", elem_id="doc-next", size="sm")
                remove_key = gr.Textbox(elem_id="remove-key", elem_classes=["qa-hidden"], show_label=False,
                                        container=False)
                remove_status = gr.Markdown(elem_id="remove-status")
        answers = gr.State([])  # this tab's earlier qa.Answers, oldest first
        transcript = gr.State([])  # (question, answer or None, message) of every turn, for the export
        doc_page = gr.State(1)
        listing = [doc_search, doc_sort, doc_page]
        shown = gr.State(None)  # the source viewer's (doc id, start, end, page)
        viewer = [source_box, source_view, shown, prev_btn, next_btn]
        source_key.change(lambda key: open_source(index, render.parse_source_key(key)), [source_key], viewer
                          ).then(None, js=SHOW_SOURCE)
        prev_btn.click(lambda at: open_source(index, at, -1), [shown], viewer)
        next_btn.click(lambda at: open_source(index, at, +1), [shown], viewer)
        for event in (box.submit, ask_btn.click):
            event(ask, [box, chat, answers, transcript, scope], [box, chat, answers, transcript]
                  ).then(None, js=SCROLL_TO_NEW_REPLY)
        chat.clear(lambda: ([], []), None, [answers, transcript])
        export_btn.click(export_chat, [transcript], [export_file])
        app.load(lambda: gr.update(choices=scope_choices(index)), None, [scope])
        for event in (doc_search.change, doc_sort.change):
            event(lambda q, srt: panel(q, srt, 1), [doc_search, doc_sort], [table, doc_page])
        doc_prev.click(lambda q, srt, n: panel(q, srt, n - 1), listing, [table, doc_page])
        doc_next.click(lambda q, srt, n: panel(q, srt, n + 1), listing, [table, doc_page])
        refresh = (lambda q, srt, n: (*panel(q, srt, n), gr.update(choices=scope_choices(index))))
        if not settings.read_only:  # the handlers themselves refuse too, see below
            add_btn.click(add, [files], [status, files]).then(refresh, listing, [table, doc_page, scope])
            sync_btn.click(sync, None, [status]).then(refresh, listing, [table, doc_page, scope])
            remove_key.change(remove, [remove_key, *listing], [remove_status, table, doc_page, scope])
        # A plain HTTP/JSON endpoint for scripts and the load test: the same Answer the chat renders.
        def answer(question: str) -> dict:
            """The Answer to ``question`` as JSON: hits with citations, quotes, found."""
            if not isinstance(question, str):
                return {"error": "the question must be text"}
            return answer_json(index, clean_text(question))

        gr.api(answer, api_name="answer")
    return app


def written_reply(index: qa.Index, ans: qa.Answer, every_s: float = WRITE_REFRESH_S):
    """The written answer's HTML as it comes (at most every ``every_s``), checked last; never raises."""
    parts, shown = [], 0.0
    try:
        for item in writing.write_stream(ans, index.settings, index.embedder):
            if isinstance(item, str):
                parts.append(item)
                if time.monotonic() - shown >= every_s:
                    shown = time.monotonic()
                    yield render.writing_html("".join(parts))
            else:
                yield render.written_html(item)
    except Exception:
        log.exception("writing the answer to %r failed", ans.question)
        yield render.message_html("No written answer: an unexpected error (see the server log). "
                                  "The quoted answer stands.")


def example_questions(settings: qa.Settings) -> list[str]:
    """The chat's example questions: QA_EXAMPLES, else the corpus folder's .docqa-examples file, else none."""
    if settings.examples.strip():
        lines = settings.examples.split("|")
    else:
        try:
            lines = (Path(settings.corpus_dir) / EXAMPLES_FILE).read_text("utf-8", errors="replace").splitlines()
        except OSError:
            lines = []
    found = [" ".join(line.split())[:MAX_EXAMPLE_CHARS] for line in lines]
    return list(dict.fromkeys(q for q in found if q and not q.startswith("#")))[:MAX_EXAMPLES]


def reply(index: qa.Index, question: str, history=(), docs=(), folders=()) -> tuple[str, qa.Answer | None]:
    """The assistant's HTML reply to ``question`` (asked within ``docs`` and ``folders``, when
    given), and the answer (None when there is none); never raises."""
    if not question.strip():
        return render.message_html(render.EMPTY_QUESTION), None
    try:
        ans = index.answer(question, k=TOP_K, history=history, docs=docs, folders=folders)
        return render.answer_html(ans), ans
    except qa.QAError as exc:
        return render.message_html(esc(str(exc)), "error"), None
    except Exception:
        # A bug, not the user's fault: the traceback goes to the console, never to the page.
        log.exception("answering %r failed", question)
        return render.message_html(render.GENERIC_ERROR, "error"), None


def answer_json(index: qa.Index, question: str) -> dict:
    """The answer to ``question`` as plain JSON data (the HTTP API's reply); never raises."""
    try:
        return dataclasses.asdict(index.answer(question, k=TOP_K))
    except qa.QAError as exc:
        return {"error": str(exc)}
    except Exception:
        log.exception("answering %r failed", question)
        return {"error": render.GENERIC_ERROR}


def open_source(index: qa.Index, at, step: int = 0):
    """The viewer's outputs for citation ``at`` ((doc id, start, end[, page])), ``step`` pages on; never raises."""
    if not at:
        return (gr.skip(),) * 5
    doc_id, start, end = at[0], int(at[1]), int(at[2])
    page = int(at[3]) + step if step and len(at) > 3 and at[3] else None
    try:
        view = index.source_of(doc_id, start, end, page=page)
    except qa.QAError as exc:
        return gr.update(visible=True), render.message_html(esc(str(exc)), "error"), gr.skip(), gr.skip(), gr.skip()
    except Exception:
        log.exception("showing the source of %r failed", doc_id)
        failed = render.message_html("The source could not be shown (see the server log).", "error")
        return gr.update(visible=True), failed, gr.skip(), gr.skip(), gr.skip()
    paged = view.kind == "page"
    return (
        gr.update(visible=True),
        render.source_html(view, originals.LINKS.mint(view.file) if view.file else ""),
        (doc_id, start, end, view.page),
        gr.update(interactive=paged and (view.page or 1) > 1, visible=paged),
        gr.update(interactive=paged and (view.page or 1) < view.pages, visible=paged),
    )


def clean_text(value):
    """``value`` with every lone surrogate (in every string of a list or dict) replaced by U+FFFD."""
    if isinstance(value, str):
        return answering.clean_text(value)
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_text(v) for k, v in value.items()}
    return value


def documents_panel(index: qa.Index, query: str = "", sort: str = "name", page: int = 1,
                    removable: bool = False) -> tuple[str, int]:
    """The documents panel's HTML and the page it shows; never raises (a failure is one line,
    the details in the log)."""
    try:
        docs = index.documents()
        page = render.select_documents(docs, query, sort, page)[1]
        return render.documents_html(docs, index.refused(), query, sort, page, removable), page
    except Exception:
        log.exception("listing the documents failed")
        return render.message_html("The list of documents could not be read (see the server log).", "error"), 1


def scope_choices(index: qa.Index, limit: int = MAX_SCOPE_CHOICES) -> list[str]:
    """What a question can be asked within: the corpus folders ("reports/"), then the documents."""
    try:
        ids = [d.doc_id for d in index.documents()]
    except Exception:
        log.exception("listing the documents failed")
        return []
    folders = sorted({i.rsplit("/", 1)[0] + "/" for i in ids if "/" in i})
    return (folders + ids)[:limit]


def split_scope(scope) -> tuple[list[str], list[str]]:
    """(document ids, folders) of the scope picked in the chat: folders end with "/"."""
    picked = [str(x) for x in (scope or []) if isinstance(x, str) and x]
    return [x for x in picked if not x.endswith("/")], [x.rstrip("/") for x in picked if x.endswith("/")]


def remove_from_corpus(index: qa.Index, doc_id: str) -> str:
    """Remove one document from the index and the corpus folder; a status line (HTML-escaped)."""
    try:
        path = corpus.remove_document(index, doc_id)
    except qa.QAError as exc:
        return f"Not removed: {esc(str(exc))}"
    except Exception:
        log.exception("removing %s failed", doc_id)
        return f"Not removed: {esc(doc_id)}: an unexpected error (see the server log)."
    return f"Removed {esc(doc_id)}" + (" and deleted its file from the corpus folder." if path else ".")


def html_text(html: str) -> str:
    """The text of a reply that is only a message (tags dropped, entities read back)."""
    import html as html_lib
    import re

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).strip()


def write_export(transcript: list) -> str:
    """The conversation as a Markdown file in this process's export folder; its path."""
    global _EXPORTS
    if _EXPORTS is None:
        _EXPORTS = Path(tempfile.mkdtemp(prefix="docqa-exports-"))
        atexit.register(shutil.rmtree, _EXPORTS, True)
    old = sorted(_EXPORTS.glob("*.md"), key=lambda p: p.stat().st_mtime)
    for p in old[:-MAX_EXPORTS]:
        p.unlink(missing_ok=True)
    path = _EXPORTS / time.strftime("docqa-chat-%Y%m%d-%H%M%S.md", time.gmtime())
    if path.exists():
        path = path.with_name(f"{path.stem}-{len(old)}.md")
    path.write_text(export.conversation_markdown(transcript or []), "utf-8")
    return str(path)


_EXPORTS: Path | None = None


def ocr_status(progress):
    """A pages callback (Index.sync) that shows OCR's progress in the page's status line."""
    def pages(doc_id: str, event: dict) -> None:
        total, done = int(event.get("ocr", 0)), int(event.get("done", 0))
        progress((done, total), desc=f"Reading {doc_id} by OCR: page {done} of {total}", unit="pages")
    return pages


def add_upload(index: qa.Index, src: Path, pages=None) -> str:
    """Copy one uploaded file into the corpus folder and index it; returns a status line (HTML-escaped)."""
    if not src.is_file():
        # Another tab uploaded the same bytes under the same name and added them first.
        return f"Not added: {esc(src.name)}: the upload is no longer on the server; upload it again."
    try:
        report = corpus.import_file(index, src, pages=pages)
    except qa.QAError as exc:
        return f"Not added: {esc(str(exc))}"
    except Exception:
        log.exception("adding %s failed", src)
        return f"Not added: {esc(src.name)}: an unexpected error (see the server log)."
    name = esc(safe_name(src.name))
    passages = f"{report.passages} passage{'' if report.passages == 1 else 's'}"
    if report.added:
        return f"Added {name} ({passages})."
    if report.replaced:
        return f"Replaced {name} with the new version ({passages})."
    return f"{name} is already indexed and unchanged."


def describe_sync(report: qa.AddReport) -> str:
    """What a sync did, for the console."""
    lines = [f"{label}: {', '.join(ids)}" for label, ids in [
        ("added", report.added), ("replaced", report.replaced),
        ("removed", report.removed), ("unchanged", report.unchanged),
    ] if ids]
    lines += [f"skipped {e}" for e in report.errors]
    lines += list(report.notes)
    return "\n".join(lines) or "the corpus folder is empty"


def serve(settings: qa.Settings | None = None, watch: bool = False, prepared=None) -> None:
    """Open the index, sync it with the corpus folder, and serve the chat on settings.host:settings.port
    until the process is told to stop (Ctrl-C, SIGTERM).

    ``prepared``: (index, sync report) when that is done already (`qa serve`
    does it while Gradio is imported). With ``watch``, changes to the corpus
    folder are indexed while the chat runs.
    """
    try:
        settings = settings or qa.Settings.from_env()
        index, report = prepared or prepare_serving(settings)
    except qa.QAError as exc:
        sys.exit(f"docqa: {exc}")
    auth = None
    if settings.auth:
        user, sep, password = settings.auth.partition(":")
        if not sep or not user or not password:
            sys.exit("docqa: QA_AUTH must be 'user:password'")
        auth = (user, password)
    print(describe_sync(report), flush=True)
    if watch:
        start_watching(index, lambda report: print(describe_sync(report), flush=True))
    with uploads.private_folder() as folder:  # removed, with every upload in it, when the chat stops
        chat = launch(index, settings, auth, folder)
        try:
            _wait_for_stop(chat)
        finally:
            chat.close(verbose=False)


def launch(index: qa.Index, settings: qa.Settings, auth: tuple[str, str] | None, upload_dir: Path) -> gr.Blocks:
    """Start the chat's server behind :class:`ui.guard.Guard` and return at once; ``upload_dir``
    must be where Gradio keeps uploads (``uploads.private_folder``)."""
    max_file_bytes = int(settings.max_file_mb * 1_000_000)
    policy = guard.Policy(read_only=settings.read_only, max_file_bytes=max_file_bytes, upload_dir=upload_dir)
    throttle = guard.LoginThrottle() if auth else None
    chat = build_app(index, settings)
    chat.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=auth,
        css=CSS,
        js=OPEN_CITATIONS,
        max_file_size=max_file_bytes,
        prevent_thread_lock=True,
        # FastAPI's own middleware list: the guard sits in front of every Gradio route.
        app_kwargs={"middleware": [Middleware(guard.Guard, policy=policy, throttle=throttle)]},
    )
    return chat


def _wait_for_stop(chat: gr.Blocks) -> None:
    """Block until SIGINT or SIGTERM (or the server stops), so the caller's clean-up runs on both."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        while chat.is_running:
            stop.wait(0.5)
        return
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while chat.is_running and not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    serve()
