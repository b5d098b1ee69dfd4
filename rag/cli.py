"""The ``rag`` command line. Only the standard library is imported up front, so
``rag --help`` is instant; each subcommand imports what it needs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence

from rag.core.config import Settings, apply_offline_env


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="store folder (env RAG_DB, default ./.rag)")
    parser.add_argument(
        "--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env RAG_CHROMA_URL)"
    )
    parser.add_argument("--collection", help="collection name (env RAG_COLLECTION, default news)")
    parser.add_argument(
        "--embedder",
        help="auto | hash | a sentence-transformers name or local path (env RAG_EMBEDDER)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Grounded, cited question answering over news articles.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    clean = sub.add_parser("clean", help="show what cleaning keeps of pages")
    clean.add_argument("files", nargs="+", metavar="FILE")
    clean.add_argument("--json", action="store_true", help="one JSON object per file per line")

    ingest = sub.add_parser("ingest", help="clean, chunk, embed and store files and folders")
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    _store_options(ingest)
    ingest.add_argument("--chunk-size", type=int, help="characters per chunk (env RAG_CHUNK_SIZE)")
    ingest.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    ingest.add_argument(
        "--no-wait",
        action="store_true",
        help="fail (exit 2) instead of waiting when another writer holds the store",
    )

    ask = sub.add_parser(
        "ask", help="answer questions with citations (no QUESTION: one per line from stdin)"
    )
    ask.add_argument("question", nargs="?", metavar="QUESTION")
    _store_options(ask)
    ask.add_argument("-k", type=int, help="passages given to the answerer (env RAG_TOP_K)")
    ask.add_argument("--since", help="only articles published on or after this ISO date")
    ask.add_argument("--until", help="only articles published on or before this ISO date")
    ask.add_argument("--source", action="append", help="only articles from this outlet")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")

    serve = sub.add_parser("serve", help="serve the chat web UI")
    _store_options(serve)
    serve.add_argument("--corpus", help="ingest this file or folder (changed files only) first")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--auth", help="user:pass login (env RAG_AUTH); needed off localhost")

    evaluate = sub.add_parser("eval", help="score answers on an eval set (or an RGB adapter)")
    evaluate.add_argument(
        "set", metavar="SET", help="an eval set .jsonl, rgb:zh_refine etc., drcd:test or cmrc:test"
    )
    _store_options(evaluate)
    evaluate.add_argument("--judge", choices=["lexical", "nli", "llm"], default="lexical")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.add_argument("--report", metavar="DIR", help="write JSON, Markdown and HTML reports")
    evaluate.add_argument("--baseline", metavar="PREVIOUS.json", help="compare with a past run")
    evaluate.add_argument("--limit", type=int, help="only the first N questions")

    judge = sub.add_parser("judge", help="judge answers' support by contexts (JSON lines on stdin)")
    judge.add_argument("--judge", choices=["lexical", "nli", "llm"], default="lexical")
    judge.add_argument("--json", action="store_true", help="one JSON object per input line")

    info = sub.add_parser("info", help="what is in the store and which models are active")
    _store_options(info)
    info.add_argument("--json", action="store_true")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        db=getattr(args, "db", None),
        chroma_url=getattr(args, "chroma_url", None),
        collection=getattr(args, "collection", None),
        embedder=getattr(args, "embedder", None),
        chunk_size=getattr(args, "chunk_size", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    apply_offline_env()
    handlers = {
        "clean": cmd_clean,
        "ingest": cmd_ingest,
        "ask": cmd_ask,
        "serve": cmd_serve,
        "eval": cmd_eval,
        "judge": cmd_judge,
        "info": cmd_info,
    }
    handler = handlers[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (RuntimeError, ValueError, OSError) as exc:
        from ingest.readers import printable  # messages often name a path

        print(f"rag {args.command}: error: {printable(str(exc))}", file=sys.stderr)
        return 2


def cmd_clean(args: argparse.Namespace) -> int:
    """Exit 0: all inputs cleaned; 1: some failed; 2: none could be cleaned."""
    from ingest.pipeline import clean_raw
    from ingest.readers import Failure, printable, read_raw_documents

    settings = Settings.from_env()
    failures = cleaned = 0
    for raw in read_raw_documents(args.files, max_bytes=int(settings.max_file_mb * 1e6)):
        if isinstance(raw, Failure):
            failures += 1
            _emit_clean_error(args, raw.path, raw.error)
            continue
        try:
            page = clean_raw(raw)
        except ValueError as exc:
            failures += 1
            _emit_clean_error(args, raw.where, str(exc))
            continue
        cleaned += 1
        if args.json:
            row = {
                "path": raw.where,
                "title": page.title,
                "published": page.published,
                "source": page.source,
                "url": page.url,
                "paragraphs": list(page.paragraphs),
                "text": page.text,
            }
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            print(f"== {printable(raw.where)}")
            print(f"title:     {page.title}")
            print(f"published: {page.published or '-'}")
            print(f"source:    {page.source or '-'}")
            print(f"url:       {page.url or '-'}")
            print(f"byline:    {page.byline or '-'}")
            print()
            print("\n\n".join(page.paragraphs))
            print()
    if failures == 0:
        return 0
    return 1 if cleaned else 2


def _emit_clean_error(args: argparse.Namespace, path: str, error: str) -> None:
    from ingest.readers import printable

    if args.json:
        print(json.dumps({"path": path, "error": error}, ensure_ascii=False), flush=True)
    else:
        print(printable(f"{path}: error: {error}"), file=sys.stderr)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest
    from ingest.readers import printable
    from rag.core.lock import print_waiting
    from rag.core.store import Store, where

    settings = settings_from(args)
    store = Store.open(settings)
    bar = None
    if sys.stderr.isatty() and not args.json:
        from tqdm import tqdm

        bar = tqdm(desc="ingest", unit=" docs", file=sys.stderr)
    try:
        report = ingest(
            args.paths,
            settings,
            store=store,
            progress=bar.update if bar else None,
            wait=not args.no_wait,
            on_wait=print_waiting("rag ingest"),
        )
    finally:
        if bar:
            bar.close()
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(f"embedder:   {report.embedder}")
        print(f"store:      {printable(where(settings))}")
        print(
            f"inputs:     {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.duplicates} duplicates, "
            f"{len(report.conflicts)} conflicts, {len(report.failed)} failed  "
            f"({report.seconds:.1f} s)"
        )
        print(f"store now:  {report.documents} documents, {report.chunks} chunks")
        if report.repaired:
            print(f"repaired:   {report.repaired} documents left half-written by an earlier run")
        for path, doc_id in report.duplicate_of[:SHOW]:
            print(f"duplicate:  {printable(path)} (same article as {doc_id})")
        _more(report.duplicate_of, "duplicates")
        for a, b, score in report.near_duplicates[:SHOW]:
            print(f"near-dup:   {a} ~ {b} (similarity {score:.2f})")
        _more(report.near_duplicates, "near-duplicate pairs (see --json)")
        for c in report.conflicts:
            print(
                "conflict:   "
                + printable(f"{c.second}: same identity ({c.identity}) as {c.first}, ")
                + "other content; kept the first"
            )
        for path, phrase in report.instruction_like[:SHOW]:
            shown = printable(path)
            print(f"flagged:    {shown}: instruction-like text “{phrase}” (stored, untrusted)")
        _more(report.instruction_like, "flagged articles (see --json)")
        for failure in report.failed:
            print(f"failed:     {printable(f'{failure.path}: {failure.error}')}")
    return report.exit_code


SHOW = 10  # rows of a list shown in the summary; --json has them all


def _more(rows: list, what: str) -> None:
    if len(rows) > SHOW:
        print(f"            ... and {len(rows) - SHOW} more {what}")


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.assistant import Assistant, QuestionError
    from rag.retrieval.hybrid import Filters

    if args.question is not None and not args.question.strip():
        # Only a missing QUESTION means "read stdin"; an empty one is a mistake.
        print(
            "rag ask: error: empty question (give a question, or none at all to read "
            "questions from stdin, one per line)",
            file=sys.stderr,
        )
        return 2
    assistant = Assistant(settings_from(args))
    filters = Filters(since=args.since, until=args.until, sources=tuple(args.source or ()))
    questions: Iterable[str] = (
        [args.question] if args.question is not None else (line.strip() for line in sys.stdin)
    )
    status = 0
    for question in questions:
        if not question:
            continue
        try:
            answer = assistant.ask(question, k=args.k, filters=filters)
        except QuestionError as exc:
            status = 1
            if args.json:
                print(json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False))
            else:
                print(f"rag ask: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(answer.to_json(question), ensure_ascii=False), flush=True)
        else:
            print_answer(question, answer)
    return status


def print_answer(question: str, answer) -> None:  # type: ignore[no-untyped-def]
    print(f"Q: {question}")
    print(answer.text)
    for warning in answer.warnings:
        print(f"! {warning}")
    if answer.citations:
        print()
    for c in {c.n: c for c in answer.citations}.values():  # each source once
        meta = " · ".join(x for x in (c.source, c.published) if x)
        print(
            f"[{c.n}] {c.title}" + (f" ({meta})" if meta else "") + (f" {c.url}" if c.url else "")
        )
    print(f"-- {answer.mode.get('llm', '')}; {answer.mode.get('embedder', '')}")
    print()


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.serve import serve

    return serve(
        settings_from(args), host=args.host, port=args.port, auth=args.auth, corpus=args.corpus
    )


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.cli import run_eval_command

    return run_eval_command(args, settings_from(args))


def cmd_judge(args: argparse.Namespace) -> int:
    from eval.cli import run_judge_command

    return run_judge_command(args, Settings.from_env())


def cmd_info(args: argparse.Namespace) -> int:
    from rag.core.embed import describe, describe_index
    from rag.core.store import Store, where

    settings = settings_from(args)
    store = Store.open(settings, create=False)
    info = {
        "store": where(settings),
        "embedder": describe(store.embedder),
        "vectors": describe_index(store.embedder, store.index_dim),
        "documents": store.count_documents(),
        "chunks": store.count_chunks(),
        "llm": settings.llm_model if settings.llm_configured else "extractive (no LLM configured)",
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
    else:
        for key, value in info.items():
            print(f"{key + ':':11} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
