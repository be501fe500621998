"""The plain HTTP API, beside Gradio's: for curl and any program that speaks JSON.

    GET  /api/ask?q=…&top_k=3&source=ID&speaker=NAME&conversation=JSON   (source and speaker repeatable)
    POST /api/ask   {"q": "…", "top_k": 3, "source": ["ID"], "speaker": ["NAME"], "conversation": {…}}
    GET  /api/facets                                   what source and speaker accept
    POST /api/check {"text": "…", "mode": "auto"}      check quotes: the object of ``verbatim check --json``
    GET  /api/openapi.json, /api/docs                  the description, and a page that reads it

``/api/ask`` returns exactly the object of ``verbatim ask --json``. A question that cannot
be asked gets the same object with ``error`` and ``error_code``, and a status code: 400 for
the question or top_k, 404 for an unknown source or person. Each answer carries its
``conversation``; sent back with the next question, it lets « Et la suite ? » or « Qu'a-t-elle
dit d'autre ? » lean on this answer, as in the chat (``chat/conversation.py``). More routes go in
``api_routes`` (one function per route), under the same authentication.
"""
from __future__ import annotations

import html
import json
import secrets
import threading
from dataclasses import replace

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field
from pydantic import ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from chat.answer import QuestionError, answer_embedded, clean_question, error_dict
from chat.batcher import QuestionBatcher
from chat.check import MODES, CheckError, CheckReport, check_text
from chat.conversation import Context, resolve_in, restricted, turn_dict
from chat.filters import make_filter  # the one filter helper: the page, this API and verbatim ask
from chat.live import LiveIndex
from index.embed import Embedder
from index.settings import MAX_TOP_K, Settings
from index.store import Index

STATUS = {"unknown_source": 404, "unknown_person": 404}  # anything else a user sends wrong: 400


def facets_dict(index: Index) -> dict:
    f = index.facets()
    return {"sources": [{"id": i, "title": t} for i, t in f["sources"]], "speakers": f["speakers"], "reported": f["reported"]}


class Answerer:
    """Answers questions over the live index, ``concurrency`` at a time (one queue for the page and the API).

    A question is embedded before it waits for its turn, by the ``QuestionBatcher``, which
    embeds the questions waiting together in one call; the search and the choice of quotes
    then run ``concurrency`` at a time.
    """

    def __init__(self, live: LiveIndex, embedder: Embedder, settings: Settings, concurrency: int = 1,
                 batcher: QuestionBatcher | None = None) -> None:
        self.live = live
        self.embedder = embedder
        self.settings = settings
        self.batcher = batcher or QuestionBatcher(embedder)
        self._slots = threading.BoundedSemaphore(concurrency)

    def ask(self, question: str, top_k: int | None = None, sources=None, people=None,
            skip: frozenset[tuple[str, int]] = frozenset(), language: str | None = None, about: tuple[str, ...] = ()):
        """The Answer (raises QuestionError for a question, top_k or filter that cannot be
        used); ``skip``: paragraphs already quoted, left out; ``language``: to answer in,
        when not the question's (``chat.answer.answer``); ``about``: the people a follow-up
        is about, whose passages only are searched (``chat.conversation.restricted``)."""
        settings = self.settings
        if top_k is not None and top_k != settings.top_k:
            if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
                raise QuestionError(f"top_k must be between 1 and {MAX_TOP_K} (got {top_k!r})", "bad_top_k")
            settings = replace(settings, top_k=top_k)
        index = self.live.current()
        where = restricted(make_filter(index, sources, people), about)
        text, notice = clean_question(question, settings, self.embedder)
        qvec = self.batcher.encode_question(text)
        with self._slots:
            return answer_embedded(text, notice, qvec, index, settings, where, skip, language), index

    def ask_json(self, question, top_k=None, sources=None, people=None, conversation=None) -> tuple[int, dict]:
        """(HTTP status, the ``ask --json`` object or its error form). ``conversation`` is
        the object the last answer returned: the question is read as its follow-up."""
        try:
            context = conversation_context(conversation)
            understood = resolve_in(question, context, self.live.current())
            ans, _ = self.ask(understood.searched, top_k, sources, people, understood.skip, understood.language, understood.about)
            return 200, turn_dict(understood, ans)
        except QuestionError as exc:
            return STATUS.get(exc.code, 400), error_dict(question, exc)


def conversation_context(conversation) -> Context | None:
    """The context of a ``conversation`` sent back by a program: the object, its JSON text,
    or nothing. Raises QuestionError (``bad_conversation``) for anything else."""
    if conversation is None or conversation == "":
        return None
    if isinstance(conversation, str):
        try:
            conversation = json.loads(conversation)
        except json.JSONDecodeError as exc:
            raise QuestionError(f"conversation must be the JSON object the last answer returned (not JSON: {exc.msg}); "
                                "send it back as it came, or none to start a new conversation", "bad_conversation") from exc
    try:
        return Context.from_dict(conversation)
    except ValueError as exc:
        raise QuestionError(str(exc), "bad_conversation") from exc


DOCS_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Verbatim HTTP API</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
code,pre{font-family:ui-monospace,monospace;background:#f3f4f6;padding:.1rem .3rem}pre{padding:.6rem;overflow:auto}</style></head>
<body><h1>Verbatim HTTP API</h1><p>The OpenAPI description is at <a href="/api/openapi.json">/api/openapi.json</a>.</p>
<pre>curl 'http://HOST:PORT/api/ask?q=Qui+a+ouvert+la+s%C3%A9rie+de+rencontres+%3F'</pre>
{routes}</body></html>"""


def docs_page(spec: dict) -> str:
    """The API description as a page, made on the server from the OpenAPI spec (no script from elsewhere)."""
    out = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            out.append(f"<h2><code>{method.upper()} {html.escape(path)}</code></h2><p>{html.escape(op.get('summary', ''))}</p>")
            desc = op.get("description")
            if desc:
                out.append(f"<pre>{html.escape(desc)}</pre>")
            params = op.get("parameters", [])
            if params:
                out.append("<ul>" + "".join(
                    f"<li><code>{html.escape(p['name'])}</code> ({html.escape(p.get('in', ''))}{', required' if p.get('required') else ''}): "
                    f"{html.escape(p.get('description', ''))}</li>" for p in params) + "</ul>")
    return DOCS_HTML.replace("{routes}", "".join(out))


class AskRequest(BaseModel):
    """The body of POST /api/ask."""

    q: str = Field(description="the question, in French or English")
    top_k: int | None = Field(None, description=f"number of passages, 1-{MAX_TOP_K} (default: the server's)")
    source: list[str] = Field(default_factory=list, description="source ids to search (empty: all)")
    speaker: list[str] = Field(default_factory=list, description="people speaking or reported (empty: all)")
    conversation: dict | None = Field(None, description="the `conversation` object of the last answer: this question is its follow-up "
                                      "(« Et la suite ? »); none: a new conversation")


# -- checking quotes (POST /api/check, and the page's "Check a quote" tab) ---------------------

CHECK_STATUS = {"too_long": 413}  # any other text that cannot be checked: 400


def check_error_dict(message: str, code: str) -> dict:
    """The error object of ``verbatim check --json``."""
    return {"error": message, "error_code": code}


def check_report(answerer: Answerer, text: str, mode: str = "auto") -> CheckReport:
    """Check the quotes of ``text`` over the live index, in the answerer's queue (one
    queue for questions and checks: both embed). The quote matcher is built once per
    index version, so a ``verbatim add`` while serving is seen by the next check.
    Raises CheckError for a text or mode that cannot be checked."""
    with answerer._slots:
        index = answerer.live.current()
        return check_text(text, index, answerer.embedder, answerer.settings, answerer.live.matcher(index), mode)


def check_json(answerer: Answerer, text: str, mode: str = "auto") -> tuple[int, dict]:
    """(HTTP status, the object of ``verbatim check --json``, or its error form)."""
    try:
        return 200, check_report(answerer, text, mode).to_dict()
    except CheckError as exc:
        return CHECK_STATUS.get(exc.code, 400), check_error_dict(str(exc), exc.code)


class CheckRequest(BaseModel):
    """The body of POST /api/check."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="a quote, or a text whose quotes (in « », “ ” or \" \") are checked")
    mode: str = Field("auto", description="auto: the quoted spans, or the whole text when it has none; quotes: the quoted spans; "
                      "sentences: every sentence; whole: the text as one quote", json_schema_extra={"enum": list(MODES)})


async def check_body(answerer: Answerer, request: Request) -> tuple[int, dict]:
    """Read and check a POST /api/check request. The body is read here rather than by
    FastAPI so that a malformed one gets the check's error form, not the question's."""
    try:
        raw = await request.json()
    except ValueError:
        return 400, check_error_dict('bad request: the body must be JSON, e.g. {"text": "« … »", "mode": "auto"}', "bad_request")
    try:
        body = CheckRequest.model_validate(raw)
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', []))) or 'body'}: {e.get('msg')}" for e in exc.errors())
        return 400, check_error_dict(f"bad request: {detail}", "bad_request")
    return await run_in_threadpool(check_json, answerer, body.text, body.mode)


def api_app(answerer: Answerer, auth: tuple[str, str] | None = None):
    """The FastAPI app holding the HTTP API; Gradio's page is mounted on it at ``/``."""
    basic = HTTPBasic(auto_error=False)

    def check_auth(credentials: HTTPBasicCredentials | None = Depends(basic)) -> None:
        # The page's password guards the API too: curl -u USER:PASSWORD.
        if auth is None:
            return
        ok = credentials is not None and secrets.compare_digest(credentials.username, auth[0]) and secrets.compare_digest(credentials.password, auth[1])
        if not ok:
            raise HTTPException(status_code=401, detail="this server asks for a user and password: curl -u USER:PASSWORD",
                                headers={"WWW-Authenticate": "Basic"})

    app = FastAPI(title="Verbatim", version="1", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
                  description="Answers made only of exact, attributed quotes of the corpus.")

    def respond(status: int, body: dict) -> JSONResponse:
        return JSONResponse(body, status_code=status)

    @app.get("/api/ask", summary="Answer a question with quotes", dependencies=[Depends(check_auth)])
    def ask_get(
        q: str = Query(description="the question, in French or English"),
        top_k: int | None = Query(None, description=f"number of passages, 1-{MAX_TOP_K}"),
        source: list[str] = Query(default_factory=list, description="a source id to search (repeatable; none: all)"),
        speaker: list[str] = Query(default_factory=list, description="a person speaking or reported (repeatable; none: all)"),
        conversation: str | None = Query(None, description="the `conversation` object of the last answer, as JSON: this question is its follow-up"),
    ) -> JSONResponse:
        """The object of `verbatim ask --json`; errors: 400 (question, top_k, conversation), 404 (unknown source or person)."""
        return respond(*answerer.ask_json(q, top_k, source, speaker, conversation))

    @app.post("/api/ask", summary="Answer a question with quotes (JSON body)", dependencies=[Depends(check_auth)])
    def ask_post(body: AskRequest) -> JSONResponse:
        """The object of `verbatim ask --json`; errors: 400 (question, top_k, conversation), 404 (unknown source or person)."""
        return respond(*answerer.ask_json(body.q, body.top_k, body.source, body.speaker, body.conversation))

    @app.get("/api/facets", summary="What source and speaker accept", dependencies=[Depends(check_auth)])
    def facets() -> dict:
        """Source ids with their titles, people who speak, people reported."""
        return facets_dict(answerer.live.current())

    @app.post(
        "/api/check", summary="Check quotes: said in these words? where? by whom?", dependencies=[Depends(check_auth)],
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": CheckRequest.model_json_schema()}}}},
        responses={200: {"description": "the object of `verbatim check --json`"},
                   400: {"description": "a text, mode or body that cannot be checked: {error, error_code}"},
                   413: {"description": "a text over the length checked at once: {error, error_code: too_long}"}},
    )
    async def check(request: Request) -> JSONResponse:
        """Body: {"text": "…", "mode": "auto" | "quotes" | "sentences" | "whole"}.
        Returns exactly the object of `verbatim check --json`: text, mode, counts, and quotes,
        each with start and end (in text), verdict (exact, altered, stitched, paraphrase,
        not_found), similarity, changes, instead, attribution and places.
        Errors: {error, error_code} with 400 (empty, no_words, bad_mode, bad_request) or 413 (too_long).
        curl -X POST http://HOST:PORT/api/check -H 'Content-Type: application/json' -d '{"text": "« … », selon Katia Roux"}'"""
        return respond(*await check_body(answerer, request))

    @app.get("/api/docs", include_in_schema=False, dependencies=[Depends(check_auth)])
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page(app.openapi()))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request, exc: RequestValidationError):  # a malformed query or body: the same error form, status 400
        detail = "; ".join(f"{'.'.join(map(str, e.get('loc', [])))}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse(error_dict(None, QuestionError(f"bad request: {detail}", "bad_request")), status_code=400)

    return app
