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
import os
import re
import sys
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path

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
    except BrokenPipeError:  # the output was piped into something that stopped reading (`| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
    s.add_argument("--doc", action="append", default=[], metavar="ID",
                   help="ask within this document only (its id, as `qa list` shows it); repeat for several")
    s.add_argument("--folder", action="append", default=[], metavar="PATH",
                   help="ask within the documents under this folder of the corpus (e.g. reports/2019); repeatable")
    s.add_argument("--write", action="store_true",
                   help="also a written answer by the model QA_LLM_URL names, every sentence checked against "
                   "the passages it cites")
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

    s = sub.add_parser("settings", help="list every setting (QA_* environment variable), its default and what it does")
    s.add_argument("--markdown", action="store_true", help="as the README's Markdown table")
    s.set_defaults(func=cmd_settings)

    s = sub.add_parser(
        "eval", help="measure retrieval quality on a BEIR folder, a SQuAD file or a folder of real documents",
        description="Measure retrieval quality: index a BEIR folder, a SQuAD v1.1 file or a folder of real "
        "documents in a temporary folder, ask its questions, and print nDCG@10, Recall@1/5/10, MRR@10 and speed "
        "(real documents: hit@1/3/5 by document and page, short-answer containment and refusals per question kind).",
    )
    s.add_argument("dataset", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/), SQuAD .json file (or its "
                   "folder), or real-documents folder (docs/, questions.jsonl)")
    s.add_argument("--split", help="BEIR qrels split (default: test, dev or train, whichever exists)")
    s.add_argument("--limit-queries", type=int, metavar="N", help="ask only N questions, drawn with a fixed seed")
    s.add_argument("--dense-weight", type=float, help="weight of the dense score in fusion (1 dense-only, 0 BM25-only)")
    s.add_argument("--sentence-weight", type=float,
                   help="share of the dense score from the passage's best sentence (0 passage vectors only)")
    s.add_argument("--passage-tokens", type=int, help="target passage length in model tokens")
    s.add_argument("-k", type=int, default=None,
                   help="hits (passages) asked per question (default 10; real documents 5); metrics are cut at "
                   "rank 10 whatever k is; for BEIR, more passages are asked for until 10 distinct documents are ranked")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--per-question", metavar="PATH",
                   help="write one JSON line per question to PATH (real documents: question, gold, short answer, "
                   "first citation, hit rank, found, confidence; BEIR/SQuAD: its scores)")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")
    s.set_defaults(func=cmd_eval)
    return p


def _settings(args, **extra) -> Settings:
    return Settings.from_env(index_dir=args.index_dir, corpus_dir=args.corpus_dir, **extra)


def _open(args, rebuild: bool = False):
    from .index import Index

    return Index.open(settings=_settings(args), rebuild=rebuild)


def _progress(done: int, total: int, what: str = "passages") -> None:
    _bar(f"embedding {what}", done, total)


def _bar(label: str, done: int, total: int, unit: str = "") -> None:
    """"label [#####.....] done/total unit" on stderr, drawn over itself; a new line once done."""
    width = 30
    filled = width * done // max(total, 1)
    print(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{unit}", end="", file=sys.stderr,
          flush=True)
    if done >= total:
        print(file=sys.stderr)


def _ocr_progress(doc_id: str, event: dict) -> None:
    """Each OCR'd page of a document, as a bar on stderr: "OCR scan.pdf [####......] 3/12 pages"."""
    _bar(f"OCR {shown(doc_id)}", int(event.get("done", 0)), int(event.get("ocr", 0)), " pages")


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
    report = idx.sync(progress=progress, ray_address=address, pages=_ocr_progress)
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
    report = idx.sync(progress=_progress, wait=False, pages=_ocr_progress)
    for err in report.errors:
        print(f"refused: {shown(err)}", file=sys.stderr)
    written = None
    if args.write:
        written = idx.write(args.question, k=args.k, docs=args.doc, folders=args.folder)
        answer = written.answer
    else:
        answer = idx.answer(args.question, k=args.k, docs=args.doc, folders=args.folder)
    if args.json:
        data = asdict(answer)
        if written is not None:
            data["written"] = {k: v for k, v in asdict(written).items() if k != "answer"}
        data["notes"] = list(answer.notes) + list(report.notes)
        print(json.dumps(data, ensure_ascii=False, indent=1))  # JSON escapes control characters itself
        return 0 if answer.found else 3
    for note in (answer.message, *answer.notes, *report.notes):
        if note:
            print(shown(note))
    if written is not None:
        if written.verified:
            print("Written answer, every sentence checked:")
            print(f"  {shown(written.text)}")
        if written.note:
            print(shown(written.note))
        for s in written.sentences:
            if s.verdict != "verified":
                print(f"  left out: {shown(s.text)} ({shown(s.reason)})")
        print()
    if answer.quotes:
        print("Answer, quoted from the documents:")
        for q in answer.quotes:
            print(f"  {shown(f'{q.cell} ({q.text})' if q.cell else q.text)} [{q.number}]")
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
            _print_report(import_file(idx, path, pages=_ocr_progress))
        except QAError as exc:  # one bad file does not stop the others
            print(f"error: {shown(exc)}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def cmd_remove(args) -> int:
    from .corpus import remove_document

    path = remove_document(_open(args), args.doc_id)
    if path is not None:
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
        pages += f", {d.tables} table{'s' if d.tables != 1 else ''}" if d.tables else ""
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
        from .serving import prepare_serving

        try:
            ready["index"] = prepare_serving(settings, log=lambda line: print(shown(line), flush=True))
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


def cmd_settings(args) -> int:
    from .settings import settings_table

    if args.markdown:
        print(settings_table())
        return 0
    current = _settings(args)
    from dataclasses import fields

    for f in fields(current):
        print(f"QA_{f.name.upper()}={shown(getattr(current, f.name))}\n    {f.metadata.get('help', '')}")
    return 0


def cmd_eval(args) -> int:
    from . import evaluate
    from .settings import out_of_range

    # The ranges are the settings' own; the message names the flag the user typed.
    for flag, name in (("--dense-weight", "dense_weight"), ("--sentence-weight", "sentence_weight"),
                       ("--passage-tokens", "passage_tokens")):
        value = getattr(args, name)
        problem = None if value is None else out_of_range(name, value)
        if problem:
            raise QAError(f"{flag} {problem}, not {value}")
    if args.k is not None and args.k < 1:
        raise QAError(f"-k must be at least 1, not {args.k}")
    settings = Settings.from_env(
        dense_weight=args.dense_weight, sentence_weight=args.sentence_weight, passage_tokens=args.passage_tokens
    )
    dataset = evaluate.load_dataset(args.dataset, args.split)
    queries = evaluate.sample_queries(dataset.queries, args.limit_queries)
    quiet = args.quiet or args.json
    progress = (lambda label: None) if quiet else _counter
    if dataset.kind == "realdocs":
        return _eval_realdocs(args, settings, dataset, queries, progress)
    k = evaluate.DEFAULT_K if args.k is None else args.k
    with tempfile.TemporaryDirectory(prefix="docqa-eval-") as tmp:
        idx, build_s = evaluate.build_index(dataset, Path(tmp) / "index", settings,
                                            progress=progress("indexing documents"))
        result = evaluate.run_queries(idx, dataset, queries, k=k, build_s=build_s,
                                      progress=progress("asking questions"))
    if args.per_question:
        _write_lines(args.per_question, (asdict(q) for q in result.per_query))
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        label = (f"{result.dataset} (dense {result.dense_weight:g}, sentence {result.sentence_weight:g}, "
                 f"{result.passage_tokens} tok)")
        print(evaluate.format_table([(label, result)]))
        print(f"{result.documents} documents; build {result.build_s:.1f} s, search {result.search_s:.1f} s")
    return 0


def _eval_realdocs(args, settings: Settings, dataset, queries, progress) -> int:
    from . import evaluate

    k = evaluate.REALDOCS_K if args.k is None else args.k
    with tempfile.TemporaryDirectory(prefix="docqa-eval-") as tmp:
        idx, build_s, refused = evaluate.build_file_index(dataset, Path(tmp) / "index", settings,
                                                          progress=progress("indexing files"))
        scores, records, search_s = evaluate.ask_realdocs(idx, queries, k=k, progress=progress("asking questions"))
        result = evaluate.realdocs_result(dataset, idx, scores, k=k, build_s=build_s, search_s=search_s,
                                          refused_files=refused)
    if args.per_question:
        _write_lines(args.per_question, (asdict(r) for r in records))
    if args.json:
        print(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        return 0
    print(f"{shown(result.dataset)}: {result.documents} documents, {result.passages} passages, {result.questions} "
          f"questions, k={k} (dense {settings.dense_weight:g}, sentence {settings.sentence_weight:g}, "
          f"{settings.passage_tokens} tok)")
    print(evaluate.format_realdocs_table(result))
    print(f"build {result.build_s:.1f} s, search {result.search_s:.1f} s")
    for line in result.refused_files:
        print(f"refused: {shown(line)}")
    return 0


def _counter(label: str):
    def report(done: int, total: int) -> None:
        print(f"\r{label} {done}/{total}", end="\n" if done >= total else "", file=sys.stderr, flush=True)

    return report


def _write_lines(path: str, rows) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise QAError(f"--per-question {path}: cannot be written ({exc.strerror or exc}); give a writable path")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
