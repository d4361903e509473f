"""The command line: `qa index|ask|add|remove|list|serve|eval`.

Library errors (:class:`QAError`) print one line and exit 1; anything else
is a bug, and prints one line too (``--debug`` shows the traceback). Text
that comes from documents or file names reaches the terminal with its
control characters escaped: a file name must not be able to retitle the
window, clear the screen or plant a link.

Exit codes: 0 done (``index``/``sync``: files that were refused are listed
on stderr, and the rest indexed); 1 an error; 2 a usage error; 3 ``ask``
found no answer in the documents; 4 ``index``/``sync --strict`` refused
some files; 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import re
import sys
import threading
from dataclasses import asdict

from .errors import QAError
from .settings import Settings

EXIT_REFUSED = 4
# C0 and C1 control characters and DEL; newline and tab are kept where a
# text is printed over several lines.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text, lines: bool = False) -> str:
    """``text`` safe to print: control characters as visible escapes (ESC -> \\x1b),
    newlines kept only with ``lines``."""
    pattern = _CONTROL if lines else _CONTROL_LINE
    return pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["eval"]:
        # `qa eval` has its own options (and --help); argparse's REMAINDER
        # would swallow nothing that starts with a dash, so hand over whole.
        argv = ["eval", "--", *argv[1:]]
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except QAError as exc:
        print(f"error: {shown(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, or the system failing under us: one line, not a traceback
        if args.debug:
            raise
        print(f"error: {shown(type(exc).__name__)}: {shown(exc)} (unexpected; run the command again with "
              "--debug for the details)", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Ask questions of your documents; answers cite the passages.")
    p.add_argument("--index-dir", help="index folder (default: QA_INDEX_DIR or .docqa/index)")
    p.add_argument("--corpus-dir", help="corpus folder (default: QA_CORPUS_DIR or corpus/)")
    p.add_argument("--debug", action="store_true", help="show the traceback of an unexpected error")
    sub = p.add_subparsers(metavar="COMMAND")

    s = sub.add_parser("index", help="build or update the index from the corpus folder")
    s.add_argument("--rebuild", action="store_true", help="start the index over (after a model or settings change)")
    s.add_argument(
        "--ray", metavar="ADDRESS",
        help="read and embed on Ray: 'local' (a private instance), 'auto' (this machine's cluster) "
        "or ray://host:10001; needs pip install 'docqa[ray]'",
    )
    s.add_argument("--strict", action="store_true", help=f"exit {EXIT_REFUSED} when some files were refused")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("sync", help="bring the index in line with the corpus folder (like index)")
    s.add_argument("--watch", action="store_true", help="keep following the folder until interrupted")
    s.add_argument("--strict", action="store_true", help=f"exit {EXIT_REFUSED} when some files were refused")
    s.set_defaults(func=cmd_sync)

    s = sub.add_parser("ask", help="print the passages that answer a question, with citations")
    s.add_argument("question")
    s.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("add", help="copy files into the corpus folder and index them")
    s.add_argument("files", nargs="+")
    s.set_defaults(func=cmd_add)

    s = sub.add_parser("remove", help="remove a document (and its file in the corpus folder)")
    s.add_argument("doc_id")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("list", help="list the indexed documents")
    s.add_argument("--details", action="store_true", help="ingestion report: format, pages, passages, warnings")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("serve", help="start the web chat")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--watch", action="store_true", help="index corpus folder changes while serving")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("eval", help="measure retrieval quality on a BEIR folder or SQuAD file", add_help=False)
    s.add_argument("rest", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_eval)
    return p


def _settings(args, **extra) -> Settings:
    return Settings.from_env(index_dir=args.index_dir, corpus_dir=args.corpus_dir, **extra)


def _open(args, rebuild: bool = False):
    from .index import Index

    return Index.open(settings=_settings(args), rebuild=rebuild)


def _progress(done: int, total: int, what: str = "passages") -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(f"\rembedding {what} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr)
    if done >= total:
        print(file=sys.stderr)


def _print_report(report) -> None:
    for label, ids in (("added", report.added), ("replaced", report.replaced), ("removed", report.removed)):
        for doc_id in ids:
            print(f"{label}: {shown(doc_id)}")
    for err in report.errors:
        print(f"refused: {shown(err)}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {shown(note)}", file=sys.stderr)
    print(f"{len(report.unchanged)} unchanged, {report.passages} passages embedded")


def cmd_index(args) -> int:
    address = getattr(args, "ray", None)
    if address:
        from .ray_ingest import connect

        ray = connect(address)  # a missing Ray or a wrong address fails before the model loads
        # The command draws its own progress: Ray Data's bars and INFO lines would bury it.
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    idx = _open(args, rebuild=args.rebuild)
    # Ray workers report whole documents: their passages are counted where they are cut.
    progress = functools.partial(_progress, what="documents") if address else _progress
    report = idx.sync(progress=progress, ray_address=address)
    _print_report(report)
    print(f"index: {shown(idx.location)} ({len(idx.documents())} documents, {len(idx)} passages)")
    return EXIT_REFUSED if report.errors and args.strict else 0


def cmd_sync(args) -> int:
    if not args.watch:
        return cmd_index(argparse.Namespace(**vars(args), rebuild=False))
    from .watch import watch

    idx = _open(args)
    print(f"following {shown(idx.settings.corpus_dir)} (Ctrl-C to stop)", file=sys.stderr)
    watch(idx, threading.Event(), _print_report)
    return 0


def cmd_ask(args) -> int:
    idx = _open(args)
    # Asking never waits for a writer: the corpus folder is synced first only
    # when no other process is syncing it, else the last commit answers.
    report = idx.sync(progress=_progress, wait=False)
    for err in report.errors:
        print(f"refused: {shown(err)}", file=sys.stderr)
    answer = idx.answer(args.question, k=args.k)
    if args.json:
        data = asdict(answer)
        data["notes"] = list(answer.notes) + list(report.notes)
        print(json.dumps(data, ensure_ascii=False, indent=1))  # JSON escapes control characters itself
        return 0 if answer.found else 3
    for note in (answer.message, *answer.notes, *report.notes):
        if note:
            print(shown(note))
    if answer.quotes:
        print("Answer, quoted from the documents:")
        for q in answer.quotes:
            print(f"  {shown(q.text)} [{q.number}]")
    print()
    for h in answer.hits:
        c = h.citation
        print(f"{shown(c.label)}  (chars {c.start}-{c.end}, score {h.score:.3f})")
        print(f"  evidence: {shown(h.evidence.text)}")
        print("  " + shown(h.text, lines=True).replace("\n", "\n  "))
        print()
    return 0 if answer.found else 3


def cmd_add(args) -> int:
    from .corpus import import_file

    idx = _open(args)
    failed = 0
    for path in args.files:
        try:
            _print_report(import_file(idx, path))
        except QAError as exc:  # one bad file does not stop the others
            print(f"error: {shown(exc)}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def cmd_remove(args) -> int:
    idx = _open(args)
    info = next((d for d in idx.documents() if d.doc_id == args.doc_id), None)
    idx.remove(args.doc_id)
    if info is not None and info.origin == "corpus":
        # Otherwise the next sync would bring it straight back.
        path = idx.settings.corpus_dir / info.doc_id
        path.unlink(missing_ok=True)
        print(f"removed {shown(args.doc_id)} from the index and deleted {shown(path)}")
    else:
        print(f"removed {shown(args.doc_id)} from the index")
    return 0


def cmd_list(args) -> int:
    idx = _open(args)
    docs = idx.documents()
    if not docs:
        print("the index is empty: put documents in the corpus folder and run `qa index`")
    for d in docs:
        if not args.details:
            print(f"{shown(d.doc_id)}\t{shown(d.title)}")
            continue
        # The ingestion report: what was read from the file, and what was not.
        pages = f", {d.pages} pages" if d.pages else ""
        print(f"{shown(d.doc_id)}\n  title: {shown(d.title)}\n  format: {d.format}{pages}, {len(d.passage_ids)} passages, "
              f"{d.chars:,} characters, added from {d.origin}, sha256 {d.sha256[:12]}")
        for w in d.warnings:
            print(f"  warning: {shown(w)}")
    refused = idx.refused()
    if refused and args.details:
        print(f"\nrefused ({len(refused)}; read again once they change):")
        for r in refused:
            print(f"{shown(r.doc_id)}\n  refused: {shown(r.reason)}")
    elif refused:
        print(f"({len(refused)} files refused: `qa list --details` says why)", file=sys.stderr)
    return 0


def cmd_serve(args) -> int:
    settings = _settings(args, host=args.host, port=args.port)
    # Importing Gradio takes about 5 s here. The index is opened and synced,
    # and the model loaded, meanwhile, so the first answer waits for the
    # longer of the two instead of both in turn.
    ready: dict = {}

    def prepare():
        try:
            ready["index"] = prepare_serving(settings)
        except BaseException as exc:  # reported by the main thread
            ready["error"] = exc

    worker = threading.Thread(target=prepare, name="docqa-prepare", daemon=True)
    worker.start()
    from ui.app import serve

    worker.join()
    if "error" in ready:
        raise ready["error"]
    serve(settings, watch=args.watch, prepared=ready["index"])
    return 0


def prepare_serving(settings: Settings):
    """The index, synced with the corpus folder, its model loaded: (index, sync report)."""
    from .index import Index

    index = Index.open(settings=settings)
    print(f"Syncing {shown(settings.corpus_dir)} into {shown(settings.index_dir)} ...", flush=True)
    report = index.sync(wait=False)  # another process syncing: serve its last commit, it is adopted when done
    index.embedder.embed(["warm-up"])  # loads the model (and exports it, the first time)
    return index, report


def cmd_eval(args) -> int:
    from .evaluate import main as eval_main

    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    return eval_main(rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
