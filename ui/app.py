"""The web chat: ask the documents questions, add documents, see what is indexed.

    python -m ui.app    # settings from QA_* environment variables (QA_CORPUS_DIR, QA_PORT, ...)

The chat only calls :class:`qa.Index`; every piece of HTML it shows comes from
:mod:`ui.render`, which escapes all document text and file names.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import gradio as gr

import qa
from qa.corpus import copy_into_corpus, safe_name
from qa.documents import SUPPORTED_SUFFIXES

from . import render
from .render import esc

log = logging.getLogger("docqa.ui")

TOP_K = 5
EXAMPLES = [
    "Why is Iran getting triggered by the killing of the Hamas leader, and does it indicate that Iran supports Hamas?",
    "Who ordered a military response against Israel?",
    "Where was Haniyeh when he was killed?",
]

CSS = """
#chat .qa-reply { line-height: 1.5; }
#chat .qa-short { margin: 0.25em 0 0.75em; padding: 0.5em 0.9em; border-left: 4px solid #f59e0b; }
#chat .qa-hit { margin: 0.6em 0; padding: 0.5em 0.8em; border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px; }
#chat .qa-cite { margin: 0 0 0.3em; font-size: 0.92em; }
#chat .qa-text { margin: 0 0 0.3em; }
#chat .qa-note { font-size: 0.9em; opacity: 0.8; }
#chat mark { background: #fde68a; color: inherit; padding: 0 2px; border-radius: 3px; }
#chat details summary { cursor: pointer; font-size: 0.9em; }
"""


def build_app(index: qa.Index, settings: qa.Settings) -> gr.Blocks:
    """The chat over ``index``: chat box with examples, upload panel, documents table."""

    def ask(question: str, history: list | None):
        history = list(history or [])
        question = question or ""
        if question.strip():
            history.append({"role": "user", "content": esc(question.strip())})
        history.append({"role": "assistant", "content": reply(index, question, settings.min_score)})
        return "", history

    def add(paths: list[str] | None):
        if not paths:
            return "Choose one or more files first, then press the button.", gr.skip(), gr.skip()
        lines = [import_file(index, settings.corpus_dir, Path(p)) for p in paths]
        table = render.document_rows(index.documents())
        return "\n".join(f"- {line}" for line in lines), table, None

    with gr.Blocks(title="docqa", analytics_enabled=False) as app:
        gr.Markdown("## docqa: ask your documents\nAnswers quote the documents only, with a citation for every sentence.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    elem_id="chat",
                    label="Chat",
                    height=640,
                    sanitize_html=True,
                    allow_tags=False,  # no custom tags: our replies use standard HTML only
                    latex_delimiters=[],  # "$$" in a document is text, not math
                    feedback_options=None,
                    placeholder="Ask a question about the documents.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        elem_id="question", show_label=False, scale=5, autofocus=True,
                        placeholder="Ask a question about the documents and press Enter",
                    )
                    ask_btn = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=80)
                gr.Examples(EXAMPLES, inputs=[box], label="Example questions")
            with gr.Column(scale=2):
                gr.Markdown("### Add documents")
                files = gr.File(
                    elem_id="upload", label="Text files (" + ", ".join(sorted(SUPPORTED_SUFFIXES)) + ")",
                    file_count="multiple", file_types=sorted(SUPPORTED_SUFFIXES),
                )
                add_btn = gr.Button("Add to the index", elem_id="upload-btn")
                status = gr.Markdown(elem_id="upload-status")
                gr.Markdown("### Indexed documents")
                table = gr.Dataframe(
                    # A callable value is re-read on every page load, so a new tab sees current documents.
                    value=lambda: render.document_rows(index.documents()),
                    headers=["Title", "File", "Passages", "Characters"],
                    interactive=False, elem_id="documents", wrap=True,
                )
        box.submit(ask, [box, chat], [box, chat])
        ask_btn.click(ask, [box, chat], [box, chat])
        add_btn.click(add, [files], [status, table, files])
    return app


def reply(index: qa.Index, question: str, min_score: float) -> str:
    """The assistant's HTML reply to ``question``; never raises."""
    if not question.strip():
        return render.message_html(render.EMPTY_QUESTION)
    try:
        return render.answer_html(index.answer(question, k=TOP_K), min_score)
    except qa.QAError as exc:
        return render.message_html(esc(str(exc)), "error")
    except Exception:
        # A bug, not the user's fault: the traceback goes to the console, never to the page.
        log.exception("answering %r failed", question)
        return render.message_html(render.GENERIC_ERROR, "error")


def import_file(index: qa.Index, corpus_dir: Path, src: Path) -> str:
    """Copy one uploaded file into the corpus folder and index it; returns a status line (HTML-escaped).

    A file the index refuses is taken out again, and a refused replacement puts
    the previous version back, so the corpus stays exactly as it was.
    """
    try:
        name = safe_name(src.name)
    except qa.DocumentError as exc:
        return f"Not added: {esc(str(exc))}"
    target = corpus_dir / name
    backup = None
    if target.is_file():
        # Hidden (dot) files are not part of the corpus, so the backup is never indexed.
        fd, tmp = tempfile.mkstemp(prefix=".backup-", dir=corpus_dir)
        os.close(fd)
        backup = Path(tmp)
        shutil.copy2(target, backup)
    copied = None
    try:
        copied = copy_into_corpus(src, corpus_dir, name)
        report = index.add_files([copied])
    except Exception as exc:
        if copied is not None:
            if backup is not None:
                os.replace(backup, target)
            else:
                copied.unlink(missing_ok=True)
        if isinstance(exc, qa.QAError):
            return f"Not added: {esc(str(exc))}"
        log.exception("adding %s failed", src)
        return f"Not added: {esc(name)}: an unexpected error (see the server log)."
    finally:
        if backup is not None:
            backup.unlink(missing_ok=True)
    if report.added:
        return f"Added {esc(name)} ({report.passages} passages)."
    if report.replaced:
        return f"Replaced {esc(name)} with the new version ({report.passages} passages)."
    return f"{esc(name)} is already indexed and unchanged."


def describe_sync(report: qa.AddReport) -> str:
    """What a sync did, for the console."""
    lines = [f"{label}: {', '.join(ids)}" for label, ids in [
        ("added", report.added), ("replaced", report.replaced),
        ("removed", report.removed), ("unchanged", report.unchanged),
    ] if ids]
    lines += [f"skipped {e}" for e in report.errors]
    return "\n".join(lines) or "the corpus folder is empty"


def serve(settings: qa.Settings | None = None) -> None:
    """Open the index, sync it with the corpus folder, and serve the chat on settings.host:settings.port."""
    settings = settings or qa.Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        index = qa.Index.open(settings=settings)
        print(f"Syncing {settings.corpus_dir} into {settings.index_dir} ...", flush=True)
        print(describe_sync(index.sync()), flush=True)
    except qa.QAError as exc:
        sys.exit(f"docqa: {exc}")
    build_app(index, settings).launch(
        server_name=settings.host,
        server_port=settings.port,
        css=CSS,
        max_file_size=int(settings.max_file_mb * 1_000_000),
    )


if __name__ == "__main__":
    serve()
