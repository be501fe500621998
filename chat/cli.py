# Over 400 lines because it holds the parser and ten commands; add (_add_file, _add_url) still does some of its work here.
"""The ``verbatim`` command: build, ask, serve."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from ingest.errors import VerbatimError

DEFAULT_CORPUS = Path("corpus")
# The frozen test splits `verbatim calibrate` refuses as input (paths from the project root).
DEFAULT_TEST_SPLITS = ("tests/data/heldout/test.jsonl", "tests/data/heldout/fresh.jsonl", "tests/data/heldout/fresh2.jsonl",
                       "tests/data/heldout/fresh3.jsonl", "tests/data/heldout/fresh4.jsonl")


class UserError(VerbatimError):
    """A mistake on the command line the user can fix; shown as one line, exit code 2."""


def _settings(args: argparse.Namespace):
    """The run's settings: defaults, the corpus's [settings], then the flags given."""
    from index.convert import default_model_dir
    from index.settings import make_settings

    model = Path(args.model) if getattr(args, "model", None) else default_model_dir()
    # The environment overrides [settings], and a flag overrides both; the Milvus token is
    # read from $VERBATIM_MILVUS_TOKEN when connecting, never from a file or a flag.
    flags = {
        "top_k": getattr(args, "top_k", None),
        "min_confidence": getattr(args, "min_confidence", None),
        "backend": getattr(args, "backend", None) or os.environ.get("VERBATIM_BACKEND") or None,
        "milvus_uri": getattr(args, "milvus_uri", None) or os.environ.get("VERBATIM_MILVUS_URI") or None,
        "milvus_collection": getattr(args, "milvus_collection", None) or os.environ.get("VERBATIM_MILVUS_COLLECTION") or None,
    }
    return make_settings(model, Path(args.corpus), flags)


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
    from index.report import IngestReport

    settings = _settings(args)
    embedder = make_embedder(settings, quiet=args.quiet)
    index = build_index(Path(args.corpus), _index_dir(args), settings, embedder, quiet=args.quiet, full=args.full)
    if not args.quiet:
        n = index.meta["counts"]
        where = f"Milvus at {settings.milvus_uri}" if settings.backend == "milvus" else _index_dir(args)
        print(f"Indexed {n['sources']} source(s), {n['chunks']} passages, {n['sentences']} sentences into {where}", file=sys.stderr)
    return 1 if IngestReport.of(index.meta).failed else 0


# Said on stderr when « Et la suite ? » has no last answer to read on from (language, -c given).
_READ_ON_HINT = {
    ("fr", False): "(pour lire la suite de la dernière réponse : verbatim ask -c \"{q}\")",
    ("en", False): "(to read on from the last answer: verbatim ask -c \"{q}\")",
    ("fr", True): "(pas encore de conversation à poursuivre : la question est posée seule)",
    ("en", True): "(no conversation to continue yet: the question is asked alone)",
}


def cmd_ask(args: argparse.Namespace) -> int:
    from chat.answer import QuestionError, answer, detect_language, error_dict
    from chat.conversation import load_saved, next_context, reading_step, resolve_in, restricted, save, turn_dict
    from chat.filters import make_filter
    from chat.render import render_text

    def error_json(q: str, exc: QuestionError) -> str:
        return json.dumps(error_dict(q, exc), ensure_ascii=False)

    context = None
    if args.continue_:
        try:  # the conversation the last `verbatim ask` left
            context = load_saved()
        except ValueError as exc:
            if args.json:
                print(error_json(args.question, QuestionError(str(exc), "bad_conversation")))
            raise UserError(str(exc)) from exc
    settings = _settings(args)
    index, embedder = _open(args, settings, quiet=args.quiet or args.json)
    try:  # the filters of the page and of /api/ask: the same ids, names and errors
        where = make_filter(index, args.source, args.speaker)
    except QuestionError as exc:
        if args.json:
            print(error_json(args.question, exc))
        raise UserError(str(exc)) from exc

    def turn(understood):
        """The answer to one turn: searched as understood, past what was quoted, in its people's passages."""
        return answer(understood.searched, index, embedder, settings, restricted(where, understood.about), understood.skip,
                      understood.language)

    if args.question == "-":
        # One JSON object per line, in order; a bad line gets an error object, not a stop.
        # With -c, each line is a turn of one conversation.
        for line in sys.stdin:
            q = line.rstrip("\n")
            understood = resolve_in(q, context, index)
            try:
                ans = turn(understood)
            except QuestionError as exc:
                print(error_json(q, exc), flush=True)
                continue
            print(json.dumps(turn_dict(understood, ans), ensure_ascii=False), flush=True)
            if args.continue_:
                context = next_context(understood, ans)
        if context is not None:
            save(context)
        return 0
    understood = resolve_in(args.question, context, index)
    if reading_step(understood.asked) and context is None and not args.quiet:
        # « Et la suite ? » alone has nothing to read on from: say how, and still answer.
        print(_READ_ON_HINT[detect_language(understood.asked), args.continue_].format(q=understood.asked), file=sys.stderr)
    try:
        ans = turn(understood)
    except QuestionError as exc:
        if args.json:
            print(error_json(args.question, exc))
        raise UserError(str(exc)) from exc
    save(next_context(understood, ans))  # for the next `verbatim ask -c`
    print(json.dumps(turn_dict(understood, ans), ensure_ascii=False) if args.json else render_text(ans, understood))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from chat.evaluate import MODES, evaluate, evidence_path, format_report, read_evidence, read_questions
    from index.prepare import progress_bar

    settings = _settings(args)
    path = Path(args.file) if args.file else Path(args.corpus) / "dev_questions.jsonl"
    if not path.is_file():
        raise UserError(f"no question file at {path}; pass one: verbatim eval FILE")
    rows = read_questions(path)
    ev_path = Path(args.evidence) if args.evidence else evidence_path(path)
    if args.evidence and not ev_path.is_file():
        raise UserError(f"no evidence file at {ev_path}; pass JSON lines {{\"q\", \"evidence\": [excerpt, …]}} or leave --evidence out")
    evidence = read_evidence(ev_path) if ev_path.is_file() else None
    index, embedder = _open(args, settings, quiet=args.quiet or args.json)
    modes = MODES if not args.fused_only else ("fused",)
    bar, progress = progress_bar(args.quiet, f"Asking {len(rows)} questions")
    with bar or contextlib.nullcontext():
        report = evaluate(rows, index, embedder, settings, modes=modes, progress=progress, evidence=evidence)
    report["file"] = str(path)
    if evidence is not None:
        report["evidence_file"] = str(ev_path)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else format_report(report))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from chat.calibrate import calibrate
    from index.build import make_embedder, open_index
    from index.prepare import progress_bar

    settings = _settings(args)
    embedder = make_embedder(settings, quiet=args.quiet)
    indexes: dict[str, object] = {}
    sets = []
    for spec in args.files:
        # FILE is asked of --corpus; FILE@DIR of the corpus in DIR (the one it was written for)
        file, _, corpus = spec.partition("@")
        if not Path(file).is_file():
            raise UserError(f"no question file at {file}; pass calibration question files (JSON lines), FILE or FILE@CORPUS_DIR")
        if corpus and not (Path(corpus) / "sources.toml").is_file():
            raise UserError(f"no corpus at {corpus} (no sources.toml); write FILE@CORPUS_DIR with a corpus folder")
        if corpus not in indexes:
            indexes[corpus] = (open_index(Path(corpus), Path(corpus) / ".index", settings, embedder, quiet=args.quiet) if corpus
                               else open_index(Path(args.corpus), _index_dir(args), settings, embedder, quiet=args.quiet))
        sets.append((Path(file), indexes[corpus]))
    bar, progress = progress_bar(args.quiet, "Asking the calibration questions")
    with bar or contextlib.nullcontext():
        decision = calibrate(sets, embedder, settings, test_files=[Path(t) for t in args.test or DEFAULT_TEST_SPLITS],
                             progress=progress)
    decision.save(Path(args.out))
    print(json.dumps({"written": args.out, "answer_at": decision.answer_at, "uncertain_at": decision.uncertain_at}
                     | json.loads(decision.report), ensure_ascii=False, indent=2))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from chat.answer import detect_language
    from chat.check import CheckError, check_text
    from chat.check_render import render_check
    from chat.matcher import SourceMatcher

    if (args.text is None) == (args.file is None):
        raise UserError('give a quote or --file PATH (not both), e.g. verbatim check "Cette série de rencontres a été ouverte par Thierry Breton"')
    text = args.text if args.file is None else _read_checked_file(Path(args.file))
    mode = "sentences" if args.sentences else ("quotes" if args.file else "auto")
    settings = _settings(args)
    try:
        if not text.strip():
            raise CheckError(f"{'the file ' + args.file if args.file else 'the quote'} is empty: give the words to check", "empty")
        index, embedder = _open(args, settings, quiet=args.quiet or args.json)
        report = check_text(text, index, embedder, settings, SourceMatcher.from_index(index), mode)
    except CheckError as exc:
        if args.json:
            print(json.dumps({"error": str(exc), "error_code": exc.code}, ensure_ascii=False))
        raise UserError(str(exc)) from exc
    print(json.dumps(report.to_dict(), ensure_ascii=False) if args.json else render_check(report, detect_language(text)))
    return 0


def _read_checked_file(path: Path) -> str:
    """The text of a file to check; offsets point into it (a .txt or .md file as it is,
    the text extracted from .docx, .html or .pdf)."""
    from ingest.errors import CorpusError
    from ingest.formats import decode_text, extract, format_of

    if not path.is_file():
        raise UserError(f"no file at {path}; give the path of a .txt, .md, .docx or .html file")
    try:
        data = path.read_bytes()
        fmt = format_of(path.name, data[:4096])
        if fmt in ("text", "markdown"):
            return decode_text(data, path.name)
        ex = extract(data, fmt, path.name)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}; check its permissions") from exc
    except CorpusError as exc:
        raise UserError(str(exc)) from exc
    return ex.raw_text if ex.raw_text is not None else "\n".join(b.text for b in ex.blocks)


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
    from chat.web import check_port, serve

    auth = serve_auth(args.host, args.auth, args.no_auth)  # before any slow loading
    check_port(args.host, args.port)
    if args.concurrency is not None and not 1 <= args.concurrency <= 64:
        raise UserError(f"--concurrency must be between 1 and 64 (got {args.concurrency})")
    extra = {} if args.concurrency is None else {"concurrency": args.concurrency}
    if auth is None and not is_loopback(args.host):
        print(f"verbatim: warning: serving on {args.host} with no password (--no-auth)", file=sys.stderr)
    settings = _settings(args)
    index, embedder = _open(args, settings, quiet=args.quiet)
    serve(index, embedder, settings, host=args.host, port=args.port, auth=auth, index_dir=_index_dir(args),
          corpus_dir=Path(args.corpus), quiet=args.quiet, **extra)
    return 0


# -- the corpus: add, remove, list, fetch, show -----------------------------------------


def _looks_like_url(target: str) -> bool:
    return "://" in target or target.lower().startswith(("http:", "https:", "www."))


def _check_date(date: str | None) -> str | None:
    import re

    if date is not None and not re.fullmatch(r"\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?", date):
        raise UserError(f"--date must be YYYY, YYYY-MM or YYYY-MM-DD (got {date!r}), e.g. --date 2024-03-12")
    return date


def _check_id(source_id: str | None) -> str | None:
    import re

    if source_id is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,79}", source_id):
        raise UserError(f"--id must be lowercase letters, digits, '-' or '_' (at most 80), starting with a letter or digit (got {source_id!r})")
    return source_id


def _fetch_options(args: argparse.Namespace) -> dict:
    if args.timeout <= 0 or args.max_size <= 0:
        raise UserError(f"--timeout and --max-size must be positive (got {args.timeout} s, {args.max_size} MB)")
    return {"allow_private": args.allow_private, "timeout": args.timeout, "max_bytes": int(args.max_size * 1024 * 1024)}


def _update(args: argparse.Namespace):
    """Bring the index up to date after a change to the corpus (only what changed is redone)."""
    from index.build import build_index, make_embedder

    settings = _settings(args)
    embedder = make_embedder(settings, quiet=args.quiet)
    return build_index(Path(args.corpus), _index_dir(args), settings, embedder, quiet=args.quiet)


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


def cmd_add(args: argparse.Namespace) -> int:
    from index.report import IngestReport
    from ingest.corpus import slug, unique_id
    from ingest.load import MANIFEST, read_manifest
    from ingest.manifest import add_entry

    corpus = Path(args.corpus)
    _check_date(args.date)
    _check_id(args.id)
    if not corpus.is_dir():
        if not corpus.parent.is_dir():
            raise UserError(f"corpus folder not found: {corpus}, nor its parent folder; create it or pass --corpus DIR")
        corpus.mkdir()  # a new corpus: its manifest is written below
    existing = read_manifest(corpus, allow_empty=True) if (corpus / MANIFEST).is_file() else []
    taken = {s.id for s in existing}
    if args.id and args.id in taken:
        raise UserError(f"a source with id {args.id!r} is already in the corpus; choose another --id")
    if _looks_like_url(args.target):
        fields, rc = _add_url(args, corpus, existing)
    else:
        fields, rc = _add_file(args, corpus, existing)
    fields["id"] = args.id or unique_id(slug(fields.pop("_stem", None) or fields.get("title") or "source"), taken)
    add_entry(corpus, fields)
    where = fields.get("file") or fields.get("url")
    _say(args, f"Added {fields['id']} ({fields.get('kind') or 'web'}): « {fields.get('title')} » — {where}")
    index = _update(args)
    info = IngestReport.of(index.meta)
    if fields["id"] in info.failed:
        raise UserError(f"{fields['id']} is in the manifest but could not be indexed: {info.failed[fields['id']]}")
    if fields["id"] in info.sources:
        n = info.sources[fields["id"]].chunks
        _say(args, f"Indexed {fields['id']}: {n} passages ({info.embedded} texts embedded, {info.reused_vectors} reused)")
    return rc


def _metadata_fields(args: argparse.Namespace, metadata: dict, fmt: str | None) -> dict:
    fields = {
        "title": args.title or metadata.get("title"),
        "kind": args.kind or fmt,
        "author": args.author or metadata.get("author"),
        "date": args.date or metadata.get("date"),
        "publisher": args.publisher or metadata.get("publisher"),
        "language": args.language or (metadata.get("language") if metadata.get("language") in ("fr", "en") else None),
    }
    return {k: v for k, v in fields.items() if v}


def _add_file(args: argparse.Namespace, corpus: Path, existing) -> tuple[dict, int]:
    from ingest.corpus import place_in_corpus
    from ingest.formats import extract, format_of

    path = Path(args.target)
    if not path.is_file():
        raise UserError(f"no file at {args.target}; give the path of a .txt, .md, .html, .pdf or .docx file, or an http(s) URL")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}; check its permissions") from exc
    fmt = format_of(path.name, data[:4096])
    extracted = extract(data, fmt, path.name, base_url=args.url)  # refuses empty and scanned documents
    rel = place_in_corpus(corpus, path, data, existing)  # refuses a file already in the corpus
    fields = _metadata_fields(args, extracted.metadata, fmt)
    fields.setdefault("title", path.stem.replace("_", " ").replace("-", " "))
    fields["file"] = rel
    fields["_stem"] = path.stem
    if args.url:
        fields["url"] = args.url
    pages = f", {extracted.pages} pages" if extracted.pages else ""
    if extracted.empty_pages:
        _say(args, f"verbatim: note: {len(extracted.empty_pages)} page(s) of {path.name} have no text (scanned?): {', '.join(map(str, extracted.empty_pages[:10]))}")
    _say(args, f"Read {path.name}: {fmt}{pages}")
    return fields, 0


def _add_url(args: argparse.Namespace, corpus: Path, existing) -> tuple[dict, int]:
    from ingest.corpus import url_slug
    from ingest.fetch import FetchCache, check_url, normalise_url
    from ingest.formats import extract

    url = args.target if "://" in args.target else f"https://{args.target}"
    try:
        check_url(url, allow_private=True)  # scheme and host; the address is checked when fetching
    except Exception as exc:
        raise UserError(str(exc)) from exc
    for s in existing:
        if s.url and normalise_url(s.url) == normalise_url(url):
            raise UserError(f"{url} is already in the corpus as {s.id}")
    cache = FetchCache(corpus)
    record = cache.fetch(url, **_fetch_options(args))
    if record.get("status") != "fetched":
        _say(args, f"verbatim: could not fetch {url} now: {record.get('error')}; it is recorded and waits: run 'verbatim fetch' later")
        fields = _metadata_fields(args, {}, None)
        fields.setdefault("title", args.title or url_slug(url).replace("-", " "))
        fields["url"] = url
        fields["_stem"] = url_slug(url)
        return fields, 1
    data = (corpus / record["file"]).read_bytes()
    extracted = extract(data, record["format"], url, base_url=url)
    fields = _metadata_fields(args, extracted.metadata, record["format"])
    fields.setdefault("title", url_slug(url).replace("-", " "))
    fields["url"] = url
    fields["_stem"] = url_slug(url)
    _say(args, f"Fetched {url}: {record['content_type']}, {record['size']} bytes")
    return fields, 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.incremental import read_meta
    from index.report import IngestReport
    from ingest.load import read_manifest
    from ingest.manifest import remove_entry

    corpus = Path(args.corpus)
    sources = read_manifest(corpus, allow_empty=True)
    ids = [s.id for s in sources]
    if args.source_id not in ids:
        linked = IngestReport.of(read_meta(_index_dir(args))).linked
        if args.source_id in linked:
            raise UserError(
                f"{args.source_id} is a linked source (cited by {linked[args.source_id].linked_from}), not a source of the manifest; "
                "it goes when the document citing it goes"
            )
        raise UserError(f"no source {args.source_id!r} in {corpus} (sources: {', '.join(ids) or 'none'}); see: verbatim sources")
    if len(ids) == 1:
        raise UserError(f"{args.source_id} is the only source of {corpus}; add another before removing it")
    removed = remove_entry(corpus, args.source_id)
    _say(args, f"Removed {args.source_id} from {corpus / 'sources.toml'}")
    f = removed.get("file")
    if f:
        others = [s for s in sources if s.id != args.source_id and s.file == f]
        if args.delete_file and not others and (corpus / f).is_file():
            (corpus / f).unlink()
            _say(args, f"Deleted {corpus / f}")
        elif (corpus / f).is_file():
            _say(args, f"Its file {corpus / f} stays in the folder (pass --delete-file to delete it)")
    index = _update(args)
    _say(args, f"Index updated: {index.meta['counts']['sources']} source(s), {index.meta['counts']['chunks']} passages")
    return 0


_STATE_LABELS = {
    "indexed": "indexed",
    "stale": "stale",
    "waiting": "waiting to be fetched",
    "fetch-failed": "fetch failed",
    "failed": "failed",
}


def cmd_sources(args: argparse.Namespace) -> int:
    from index.incremental import source_states

    rows = source_states(Path(args.corpus), _index_dir(args), _settings(args))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    header = ("STATE", "KIND", "PASSAGES", "ID", "TITLE")
    cells = [header] + [
        (_STATE_LABELS.get(r["state"], r["state"]), r["kind"] or "", str(r["chunks"]), ("↳ " if r["linked_from"] else "") + r["id"], r["title"] or "")
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    for i, c in enumerate(cells):
        print("  ".join(x.ljust(w) for x, w in zip(c[:4], widths)) + "  " + c[4])
        if i == 0:
            continue
        r = rows[i - 1]
        if r["linked_from"]:
            print(" " * (sum(widths) + 8) + f"  linked from {r['linked_from']}" + (f", § {r['cited_in']}" if r.get("cited_in") else "") + f": {r['url']}")
        if r["reason"] and r["state"] != "indexed":
            print(" " * (sum(widths) + 8) + f"  {r['reason']}")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from index.report import IngestReport
    from ingest.corpus import linked_sources, web_links
    from ingest.fetch import FetchCache
    from ingest.load import load_document, manifest_links, read_manifest

    corpus = Path(args.corpus)
    options = _fetch_options(args)
    manifest = read_manifest(corpus)
    cache = FetchCache(corpus)
    targets: list[tuple[str, str]] = [(s.url, s.id) for s in manifest if s.url and not s.file]
    refs = []
    for s in manifest:
        if not s.file:
            continue
        try:
            refs.extend(web_links(s.id, load_document(corpus, s).links))
        except Exception as exc:  # a source that cannot be read has no links to follow
            _say(args, f"verbatim: skipped the links of {s.id}: {exc}")
    targets += [(s.url, f"{s.id}, linked from {s.linked_from}") for s in linked_sources(refs, manifest, manifest_links(corpus))]
    failed = 0
    todo = [(u, label) for u, label in targets if args.refresh or not cache.fetched(u)]
    if not todo:
        _say(args, f"Nothing to fetch: {len(targets)} web source(s), all in the cache")
    for url, label in todo:
        record = cache.fetch(url, **options)
        if record.get("status") == "fetched" and not record.get("last_error"):
            print(f"fetched  {url} ({label}): {record['content_type']}, {record['size']} bytes")
        else:
            failed += 1
            print(f"could not fetch {url} ({label}): {record.get('last_error') or record.get('error')}")
    if not args.no_index:
        index = _update(args)
        waiting = IngestReport.of(index.meta).waiting
        _say(args, f"Index updated: {index.meta['counts']['sources']} source(s), {index.meta['counts']['chunks']} passages"
                   + (f"; waiting: {', '.join(waiting)}" if waiting else ""))
    return 1 if failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    from index.build import load_index
    from index.report import IngestReport, page_span, paragraph_span
    from index.store import Index

    settings = _settings(args)
    index = Index.load(_index_dir(args), verify=False) if settings.backend == "local" else load_index(_index_dir(args), settings)
    sid = args.source_id
    if sid not in index.texts:
        raise UserError(f"no source {sid!r} in the index {_index_dir(args)} (sources: {', '.join(index.texts)}); see: verbatim sources")
    text = index.texts[sid]
    record = IngestReport.of(index.meta).sources.get(sid)
    if args.paragraph is not None:
        span = paragraph_span(sid, text, record, args.paragraph)
        _say(args, f"{sid} § {span.paragraph}" + (f" (p. {span.page})" if span.page else "") + f" [{span.start}:{span.end}]")
        print(text[span.start:span.end])
    elif args.page is not None:
        span = page_span(sid, text, record, index.sources[sid].kind, args.page)
        _say(args, f"{sid} p. {span.page} [{span.start}:{span.end}]")
        print(text[span.start:span.end].strip())
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="verbatim", description="Answers with exact, attributed quotes from a corpus.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus folder with sources.toml (default: corpus/)")
        p.add_argument("--index", default=None, help="index folder (default: CORPUS/.index)")
        p.add_argument("--model", default=None, help="a sentence-transformers model folder (default: the bundled multilingual-e5-small)")
        p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or status lines")
        p.add_argument("--backend", choices=("local", "milvus"), default=None,
                       help="where the index lives: local (a folder, default) or milvus ($VERBATIM_BACKEND, else backend in [settings])")
        p.add_argument("--milvus-uri", default=None, metavar="FILE.db|URL",
                       help="Milvus Lite file or server URL, e.g. http://milvus:19530 ($VERBATIM_MILVUS_URI, else [settings]; token: $VERBATIM_MILVUS_TOKEN)")
        p.add_argument("--milvus-collection", default=None,
                       help="prefix of the index's collections in Milvus ($VERBATIM_MILVUS_COLLECTION, else [settings], else verbatim)")

    def answering(p: argparse.ArgumentParser) -> None:
        p.add_argument("--top-k", type=int, default=None,
                       help="number of passages, 1-50 (default: top_k in [settings] of sources.toml, else 3)")
        p.add_argument("--min-confidence", type=float, default=None,
                       help="below it the corpus does not answer (default: [settings], else 0.055)")

    p = sub.add_parser("build", help="(re)build the index of a corpus")
    common(p)
    p.add_argument("--full", action="store_true", help="redo every source and every vector (default: only what changed)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ask", help="ask a question; '-' reads one question per line from stdin")
    common(p)
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object (one per line with '-')")
    p.add_argument("-c", "--continue", dest="continue_", action="store_true",
                   help="a follow-up of the last answer (« Et la suite ? », « Qu'a-t-elle dit d'autre ? »); with '-', "
                        "the lines are one conversation")
    answering(p)
    p.add_argument("--source", action="append", default=[], metavar="ID",
                   help="search only this source (repeatable; ids: verbatim sources)")
    p.add_argument("--speaker", action="append", default=[], metavar="NAME",
                   help="keep only passages this person says or is reported in (repeatable)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="retrieval and abstention figures on a question file")
    common(p)
    p.add_argument("file", nargs="?", default=None, help="JSON lines {q, gold, kind} (default: CORPUS/dev_questions.jsonl)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--fused-only", action="store_true", help="skip the baselines (dense, lexical, RRF)")
    p.add_argument("--evidence", default=None, metavar="FILE",
                   help="the excerpts that answer each question, to score the quotes (default: FILE's stem + .evidence.jsonl, when there)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("calibrate", help="fit the answer decision on labelled questions, by cross-validation")
    common(p)
    p.add_argument("files", nargs="+", metavar="FILE[@CORPUS_DIR]",
                   help="calibration question files (never the test split), each asked of --corpus or of the corpus after @")
    p.add_argument("--test", action="append", metavar="FILE",
                   help="a frozen test split, refused as input and its sha256 recorded; repeat for several "
                        f"(default: {' and '.join(DEFAULT_TEST_SPLITS)})")
    p.add_argument("--out", default=str(Path(__file__).with_name("decision.json")), help="where to write the parameters (default: chat/decision.json)")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("check", help="check quotes: exact, altered, stitched, paraphrase only, or not found, and who said them")
    common(p)
    p.add_argument("text", nargs="?", default=None, help="a quote, or a text with quotes in « », “ ” or \" \"")
    p.add_argument("--file", default=None, help="a .txt, .md, .docx or .html text: every span in quotation marks is checked")
    p.add_argument("--sentences", action="store_true", help="check every sentence, not only the spans in quotation marks")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("serve", help="start the chat page")
    common(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; any other needs --auth or --no-auth)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", default=None, metavar="USER:PASSWORD",
                   help="ask for this user and password (or set VERBATIM_AUTH=user:password, which other users cannot see in ps)")
    p.add_argument("--no-auth", action="store_true", help="serve on a non-loopback address without a password")
    p.add_argument("--concurrency", type=int, default=None, metavar="N",
                   help="questions answered at once, the others wait in the queue (default 1, measured by python -m bench.load)")
    answering(p)
    p.set_defaults(func=cmd_serve)

    def fetching(p: argparse.ArgumentParser) -> None:
        p.add_argument("--allow-private", action="store_true",
                       help="allow private, loopback and link-local addresses (refused by default)")
        p.add_argument("--timeout", type=float, default=20.0, help="seconds for each network step (default 20)")
        p.add_argument("--max-size", type=float, default=50.0, help="largest download in MB (default 50)")

    p = sub.add_parser("add", help="add a document (a file: .txt .md .html .pdf .docx; or an http(s) URL) and index it")
    common(p)
    p.add_argument("target", metavar="PATH_OR_URL")
    p.add_argument("--title", help="title (default: the document's own, else its file name)")
    p.add_argument("--author", help="author (default: the document's metadata)")
    p.add_argument("--date", help="date, YYYY[-MM[-DD]] (default: the document's metadata)")
    p.add_argument("--publisher", help="publisher or site")
    p.add_argument("--language", choices=("fr", "en"), help="language of the document (default fr)")
    p.add_argument("--kind", help="kind: text, markdown, html, pdf, docx, or interview (default: the format)")
    p.add_argument("--url", help="for a file: the address it is published at (links in answers point there)")
    p.add_argument("--id", help="source id (default: made from the title)")
    fetching(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="take a source out of the manifest and the index")
    common(p)
    p.add_argument("source_id", metavar="SOURCE_ID")
    p.add_argument("--delete-file", action="store_true", help="delete its file from the corpus folder too")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("sources", help="list every source with its kind, title, passages and state")
    common(p)
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("fetch", help="download the web sources and linked documents not fetched yet, then index them")
    common(p)
    fetching(p)
    p.add_argument("--refresh", action="store_true", help="download again the ones already in the cache")
    p.add_argument("--no-index", action="store_true", help="only download; do not update the index")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("show", help="print the text of a source as indexed (what offsets point into)")
    common(p)
    p.add_argument("source_id", metavar="SOURCE_ID")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--paragraph", type=int, metavar="N", help="only paragraph N")
    where.add_argument("--page", type=int, metavar="N", help="only page N (PDF)")
    p.set_defaults(func=cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: user mistakes (``VerbatimError``) become one line on stderr and exit
    code 2; anything else is a bug and shows as one (a traceback, exit code 1)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    from ingest.people import AttributionError  # a user error not yet a VerbatimError

    try:
        return args.func(args)
    except (VerbatimError, AttributionError) as exc:
        print(f"verbatim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("verbatim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `verbatim ask … | head`: the reader stopped reading, which is no error of anyone's.
        # Python would complain again when it flushes stdout at exit; point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
