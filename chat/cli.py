"""The ``verbatim`` command: build, ask, serve."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEFAULT_CORPUS = Path("corpus")


class UserError(Exception):
    """A mistake the user can fix; shown as one line, exit code 2."""


def _settings(args: argparse.Namespace):
    from index.convert import default_model_dir
    from index.settings import Settings

    model = Path(args.model) if getattr(args, "model", None) else default_model_dir()
    return Settings(model_dir=model, top_k=getattr(args, "top_k", 3))


def _index_dir(args: argparse.Namespace) -> Path:
    from index.build import default_index_dir

    return Path(args.index) if args.index else default_index_dir(Path(args.corpus))


def _open(args: argparse.Namespace, settings, quiet: bool):
    from index.build import make_embedder, open_index

    embedder = make_embedder(settings, quiet=quiet)
    index = open_index(Path(args.corpus), _index_dir(args), settings, embedder, quiet=quiet)
    return index, embedder


def cmd_build(args: argparse.Namespace) -> int:
    from index.build import build_index, make_embedder

    settings = _settings(args)
    embedder = make_embedder(settings, quiet=args.quiet)
    index = build_index(Path(args.corpus), _index_dir(args), settings, embedder, quiet=args.quiet)
    if not args.quiet:
        n = index.meta["counts"]
        print(f"Indexed {n['sources']} source(s), {n['chunks']} passages, {n['sentences']} sentences into {_index_dir(args)}", file=sys.stderr)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from chat.answer import QuestionError, answer
    from chat.render import render_text

    settings = _settings(args)
    index, embedder = _open(args, settings, quiet=args.quiet or args.json)
    if args.question == "-":
        # One JSON object per line, in order; a bad line gets an error object, not a stop.
        for line in sys.stdin:
            q = line.rstrip("\n")
            try:
                out = answer(q, index, embedder, settings).to_dict()
            except QuestionError as exc:
                out = {"question": q, "answered": False, "passages": [], "error": str(exc), "error_code": exc.code}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        return 0
    try:
        ans = answer(args.question, index, embedder, settings)
    except QuestionError as exc:
        if args.json:
            print(json.dumps({"question": args.question, "answered": False, "passages": [], "error": str(exc), "error_code": exc.code}, ensure_ascii=False))
        raise UserError(str(exc)) from exc
    print(json.dumps(ans.to_dict(), ensure_ascii=False, indent=None) if args.json else render_text(ans))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from chat.evaluate import MODES, evaluate, format_report, read_questions

    settings = _settings(args)
    path = Path(args.file) if args.file else Path(args.corpus) / "dev_questions.jsonl"
    if not path.is_file():
        raise UserError(f"no question file at {path}; pass one: verbatim eval FILE")
    rows = read_questions(path)
    index, embedder = _open(args, settings, quiet=args.quiet or args.json)
    modes = MODES if not args.fused_only else ("fused",)
    report = evaluate(rows, index, embedder, settings, modes=modes)
    report["file"] = str(path)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def serve_auth(host: str, auth: str | None, no_auth: bool, environ=os.environ) -> tuple[str, str] | None:
    """The (user, password) the page asks for, or None; refuses to expose the page unprotected.

    Binding to anything but the loopback needs ``--auth USER:PASSWORD`` (or
    ``VERBATIM_AUTH=user:password``) or an explicit ``--no-auth``.
    """
    spec = auth if auth is not None else environ.get("VERBATIM_AUTH") or None
    if spec is not None and no_auth:
        raise UserError("--no-auth and a password (--auth or VERBATIM_AUTH) contradict each other; drop one")
    if spec is not None:
        user, sep, password = spec.partition(":")
        if not sep or not user.strip() or not password:
            origin = "--auth" if auth is not None else "VERBATIM_AUTH"
            raise UserError(f"{origin} must be USER:PASSWORD (both non-empty), e.g. VERBATIM_AUTH=team:a-long-passphrase")
        return user.strip(), password
    if not is_loopback(host) and not no_auth:
        raise UserError(
            f"refusing to serve on {host} without a password: anyone who can reach it could use the chat; "
            "set VERBATIM_AUTH=user:password (or --auth USER:PASSWORD), or pass --no-auth to expose it unprotected"
        )
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    from chat.web import serve

    auth = serve_auth(args.host, args.auth, args.no_auth)  # before any slow loading
    if auth is None and not is_loopback(args.host):
        print(f"verbatim: warning: serving on {args.host} with no password (--no-auth)", file=sys.stderr)
    settings = _settings(args)
    index, embedder = _open(args, settings, quiet=args.quiet)
    serve(index, embedder, settings, host=args.host, port=args.port, auth=auth)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="verbatim", description="Answers with exact, attributed quotes from a corpus.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus folder with sources.toml (default: corpus/)")
        p.add_argument("--index", default=None, help="index folder (default: CORPUS/.index)")
        p.add_argument("--model", default=None, help="a sentence-transformers model folder (default: the bundled multilingual-e5-small)")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or status lines")

    p = sub.add_parser("build", help="(re)build the index of a corpus")
    common(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ask", help="ask a question; '-' reads one question per line from stdin")
    common(p)
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object (one per line with '-')")
    p.add_argument("--top-k", type=int, default=3, help="number of passages (1-50, default 3)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="retrieval and abstention figures on a question file")
    common(p)
    p.add_argument("file", nargs="?", default=None, help="JSON lines {q, gold, kind} (default: CORPUS/dev_questions.jsonl)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--fused-only", action="store_true", help="skip the dense-only and lexical-only runs")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the chat page")
    common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs --auth or --no-auth)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", default=None, metavar="USER:PASSWORD",
                   help="ask for this user and password (or set VERBATIM_AUTH=user:password, which other users cannot see in ps)")
    p.add_argument("--no-auth", action="store_true", help="serve on a non-loopback address without a password")
    p.add_argument("--top-k", type=int, default=3)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    from chat.answer import QuestionError
    from index.embed import ModelNotFoundError
    from index.store import IndexLoadError, StaleIndexError
    from ingest.load import CorpusError
    from ingest.people import AttributionError

    try:
        from index.convert import ModelError
    except ImportError:  # pragma: no cover - converter always ships
        ModelError = RuntimeError  # type: ignore[misc,assignment]
    try:
        return args.func(args)
    except (UserError, QuestionError, CorpusError, IndexLoadError, StaleIndexError, ModelNotFoundError, ModelError, AttributionError, ValueError) as exc:
        print(f"verbatim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("verbatim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
