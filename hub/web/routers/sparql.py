"""The SPARQL 1.1 Protocol and Graph Store Protocol over HTTP, with the service's descriptions.

Routes: ``/sparql`` (query, update, service description), ``/gsp`` (indirect graph identification)
and ``/gsp/{path}`` (direct), ``/.well-known/void``, ``/catalog``, ``/dumps/{file}``, ``/about/limits``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from functools import partial
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote_plus

import httpx
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from hub.auth import Forbidden, Principal, Unauthorized, credentials
from hub.service import Hub
from ontology import PREFIXES
from writes.ingest import NEW, ParsedSource, checksum, ingest, validate_source
from loaders.rdf import parse as parse_rdf
from writes.update import apply_update
from hub.web.errors import MethodNotAllowed, NotFound, problem
from hub.web.middleware import COUNTED, HEADERS as SECURITY_HEADERS, TokenBuckets, client_key, send_too_many
from ontology.errors import BadRequest, ChmError, ShapeViolation, StoreUnavailable, TooLarge
from sparql import describe, lexer
from sparql.protocol import (
    JSON_RESULTS,
    RDF_FORMATS,
    Offer,
    GraphResult,
    Solutions,
    content_type,
    negotiate,
    serialize_boolean,
    serialize_graph,
    serialize_solutions,
)
from sparql.builder import Update, iri
from sparql.store import UNION, Dataset, QueryTimeout

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
OVERRIDES = ("format", "output", "results")
# what a remote store's answer may be streamed on in unchanged: the formats whose bytes the hub would
# not change (Turtle and the other graph syntaxes get the hub's prefixes, so they take the usual path)
PASS_THROUGH = {"solutions": ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                              "text/tab-separated-values"),
                "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
                "graph": ("application/n-triples",)}
CACHED_BODY_MAX = 1_000_000  # bytes of an answer kept in the result cache
ENGINE_JSON_MAX = 8_000_000  # bytes of SPARQL JSON the fast path has the engine write before it stops it
QUICK_QUERIES = 1024  # query texts remembered as quick (then forgotten all at once)
FAST_PATH_ERROR = "chmkg.fast_path_error"  # scope key: the error of a query the fast path ran
TRIED = "chmkg.fast_path_tried"  # scope key: the lean protocol found the request is the route's


class UnsupportedMedia(ChmError):
    code = "E308"
    http_status = 415


class Busy(ChmError):
    code = "E309"
    http_status = 503


def _media(request: Request) -> tuple[str, dict[str, str]]:
    raw = request.headers.get("content-type", "")
    parts = [p.strip() for p in raw.split(";")]
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.strip().lower()] = v.strip().strip('"').lower()
    return parts[0].lower(), params


def _utf8(body: bytes, params: dict[str, str]) -> str:
    charset = params.get("charset", "utf-8")
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMedia(f"the body must be UTF-8; charset={charset} is not accepted")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"the body is not valid UTF-8 (byte {e.start})") from None


def _one(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        raise BadRequest(f"more than one '{name}' parameter; send exactly one")
    return values[0] if values else None


def request_key(generation: int, scope: dict, body: bytes) -> tuple:
    """A cache key from what decides a query's answer: the data's generation, the query string,
    the body, and the Accept, Content-Type and Authorization headers (the row cap depends on it)."""
    return _key(generation, scope["query_string"], dict(scope["headers"]), body)


def _key(generation: int, query_string: bytes, headers: dict, body: bytes) -> tuple:
    return (generation, query_string, body, headers.get(b"accept", b""), headers.get(b"content-type", b""),
            headers.get(b"authorization", b""))


def serialize_outcome(outcome, media_type: str, settings, prefixes: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A query's answer in ``media_type``, with its headers (and a note when the row cap cut it)."""
    headers = {"Vary": "Accept"}
    note = None
    truncated = getattr(outcome, "truncated_at", None)
    if truncated is not None:
        note = settings.base + "about/limits"
        headers.update({"X-Result-Truncated": "true", "X-Row-Cap": str(truncated), "Link": '<%s>; rel="describedby"' % note})
    if isinstance(outcome, bool):
        return serialize_boolean(outcome, media_type), headers
    if isinstance(outcome, Solutions):
        return serialize_solutions(outcome, media_type, note), headers
    assert isinstance(outcome, GraphResult)
    return serialize_graph(outcome.triples, media_type, prefixes), headers


async def on_workers(hub: Hub, work):
    """Run ``work`` on the query workers; past the deadline (and a little), a QueryTimeout — the
    work finishes in its thread, stopped at its next batch of rows."""
    future = asyncio.wrap_future(hub.pool.submit(work))
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout=hub.settings.query_timeout + 0.05)
    except asyncio.TimeoutError:
        raise QueryTimeout(f"the query ran past the time limit of {hub.settings.query_timeout:g} s and was stopped") from None


class _Plan(NamedTuple):
    """A plain read the fast path answers itself: what it runs, how it answers, and where."""
    query: str
    offer: Offer
    native: bool  # SPARQL JSON results, written by the engine
    inline: bool  # on the event loop (a lookup, or a query seen to be quick); else on the query workers
    generation: int
    deadline: float  # time.monotonic() past which the query is stopped
    key: tuple


class CachedQueries:
    """ASGI fast path for GET /sparql, in front of the app and its middleware (``HubApp``).

    - A cached answer is sent as the route would send it from the cache (same key, same headers).
    - A plain read that is not cached — only a ``query`` parameter, no credentials (so the anonymous
      row cap), a SELECT or ASK without FROM or SERVICE — is evaluated and serialised here, with the
      same limits, deadline, negotiation, headers and cache entry as the route: a lookup the lexer
      finds cheap (a bound subject, streamed from one index scan) inline, anything else on the query
      workers (embedded store; a remote store's reads take the route and its pass-through). SPARQL
      JSON results are written by the engine (``Store.solutions_json``) when they are shown to hold no
      more rows than the cap. Anything else, and anything that goes wrong, passes
      through to the app, which answers it (errors included) as always; a query that ran past its
      deadline passes on with its error, so the route answers it without running it again.

    Standing in front of the middleware, it does their part itself: it takes the client's token from
    the rate limiter (and marks the request, so the limiter does not take a second one if it passes
    through), follows the writer's generation in a reader process, syncs the generation when due, and
    adds the security headers. A request with an ``Origin`` header passes through, for CORS to answer.

    The steps that need no waiting (:meth:`admit`, :meth:`now`) are plain methods: the lean HTTP
    protocol (``hub.web.lean``) calls them as a request's headers arrive, before any ASGI task.
    """

    def __init__(self, app, hub: Hub, path: str = "/sparql", *, buckets: TokenBuckets | None = None, verify=None,
                 reader: bool = False) -> None:
        self.app, self.hub, self.path = app, hub, path
        self.buckets, self.verify, self.reader = buckets, verify, reader
        # query text → the generation in which it ran on a worker within settings.inline_query_ms
        self.quick: dict[str, int] = {}
        self.offers: dict[tuple[str, bytes], Offer] = {}  # (kind, Accept) → the negotiated offer
        self.texts: dict[bytes, str] = {}  # query string → the query it carries (short ones, as for `quick`)

    async def __call__(self, scope, receive, send):
        if (scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == self.path and scope["query_string"]
                and not scope.get(TRIED)):
            headers = dict(scope["headers"])
            if b"origin" in headers:
                return await self.app(scope, receive, send)
            hub = self.hub
            wait = self.admit(scope)
            if wait > 0:
                return await send_too_many(send, wait, SECURITY_HEADERS)
            if hub.sync_due():
                await asyncio.get_running_loop().run_in_executor(None, hub.sync)
            answer, plan = self.now(scope, headers)
            if plan is not None and hub.enter_query():  # (else busy: the route says so)
                try:
                    answer = await on_workers(hub, partial(self.run, plan, scope))
                except QueryTimeout as e:
                    scope[FAST_PATH_ERROR] = e
            if answer is not None:
                await send({"type": "http.response.start", "status": 200, "headers": answer_headers(*answer)})
                return await send({"type": "http.response.body", "body": answer[0]})
        await self.app(scope, receive, send)

    def admit(self, scope) -> float:
        """Take the request's token from the rate limiter, once (the count stays in the scope), and
        follow the writer's generation in a reader process: the seconds to wait (a 429), or 0."""
        wait = scope.get(COUNTED)
        if wait is None:
            wait = self.buckets.take(client_key(scope, self.verify)) if self.buckets is not None else 0.0
            scope[COUNTED] = wait
        if self.reader:
            self.hub.follow_writer()
        return wait

    def now(self, scope, headers: dict) -> tuple[tuple | None, _Plan | None]:
        """What needs no waiting: ``(answer, None)`` for a cached answer or a query run inline,
        ``(None, plan)`` for a query for the workers, ``(None, None)`` when the route answers. An
        answer is ``(body, content type, extra headers, cached)``."""
        hub = self.hub
        key = _key(hub.generation, scope["query_string"], headers, b"")
        hit = hub.cache.get(key)
        if hit is not None:
            return (*hit, True), None
        plan = self.plan(scope, headers, key)
        if plan is None:
            return None, None
        if plan.inline:
            # a bound-subject lookup streams from one index scan, and a query that took less than
            # inline_query_ms on this generation's data takes the same again: a thread hop would cost
            # more than the query (a write moves the generation, and the query goes to a worker again)
            return (self.run(plan, scope) if hub.enter_query() else None), None
        return None, plan

    def plan(self, scope, headers: dict, key: tuple) -> _Plan | None:
        hub, settings = self.hub, self.hub.settings
        if b"authorization" in headers:
            return None
        # only a query parameter, spelled plainly: the value the route reads (Starlette: parse_qsl of the
        # Latin-1 text, UTF-8 percent-escapes, errors replaced); anything else is the route's
        qs = scope["query_string"]
        if not qs.startswith(b"query=") or b"&" in qs or not qs.isascii():
            return None
        query = self.texts.get(qs)
        if query is None:
            query = unquote_plus(qs[6:].decode("ascii"), errors="replace")
            if len(qs) <= 4096:
                if len(self.texts) >= QUICK_QUERIES:
                    self.texts.clear()
                self.texts[qs] = query
        if len(query) > settings.max_query_length:
            return None
        analysis = lexer.analyse(query)
        if analysis.is_update or analysis.form not in ("SELECT", "ASK") or analysis.own_dataset or analysis.services:
            return None
        # a query that is not a lookup runs on the query workers, as on the route; over a remote store
        # the route has its pass-through
        if not analysis.cheap and hub.store.mode == "remote":
            return None
        kind = "boolean" if analysis.form == "ASK" else "solutions"
        accept = headers.get(b"accept", b"")
        offer = self.offers.get((kind, accept))
        if offer is None:
            try:
                offer = negotiate(kind, accept.decode("latin-1") or None, None)
            except Exception:  # noqa: BLE001 - 406 and the like: the route says it
                return None
            if len(self.offers) >= 256:
                self.offers.clear()
            self.offers[(kind, accept)] = offer
        generation = hub.generation
        native = kind == "solutions" and offer.media_type == JSON_RESULTS
        inline = analysis.cheap or self.quick.get(query) == generation
        return _Plan(query, offer, native, inline, generation, time.monotonic() + settings.query_timeout, key)

    def run(self, plan: _Plan, scope) -> tuple | None:
        """Evaluate and serialise a planned read the caller counted in (``hub.enter_query``: before a
        thread hop, so the workers' queue stays bounded), on the event loop or a worker; cache the
        answer. None when the route should answer (an error; a timeout leaves its error in the scope)."""
        hub, settings, query = self.hub, self.hub.settings, plan.query
        started, answer, deadline = time.perf_counter(), None, plan.deadline
        try:
            if plan.native:
                # written by the engine when it holds at most cap rows (else evaluated again below,
                # cut at the cap); a long answer (past ENGINE_JSON_MAX) takes the exact path too
                body = hub.store.solutions_json(query, UNION, deadline=deadline, max_rows=settings.row_cap,
                                                max_bytes=max(ENGINE_JSON_MAX, 3 * settings.row_cap), base_iri=settings.endpoint)
                answer = None if body is None else (body, {"Vary": "Accept"})
            if answer is None:
                outcome = hub.store.execute(query, UNION, deadline=deadline, cap=settings.row_cap, base_iri=settings.endpoint)
                answer = serialize_outcome(outcome, plan.offer.media_type, settings, PREFIXES)
            if not plan.inline and len(query) <= 4096 and (time.perf_counter() - started) * 1000 < settings.inline_query_ms:
                if len(self.quick) >= QUICK_QUERIES:
                    self.quick.clear()
                self.quick[query] = plan.generation
        except QueryTimeout as e:
            scope[FAST_PATH_ERROR] = e  # the route answers with it, without running the query again
            return None
        except Exception:  # noqa: BLE001 - the route answers it, errors and all
            return None
        finally:
            hub.leave_query()
        body, extra = answer
        ctype = content_type(plan.offer.media_type)
        if plan.generation == hub.generation and len(body) < CACHED_BODY_MAX:
            hub.cache.put(plan.key, (body, ctype, extra))
        return body, ctype, extra, False


def answer_headers(body: bytes, ctype: str, extra: dict, cached: bool) -> list[tuple[bytes, bytes]]:
    """The headers of a fast-path answer, as the route and the middleware would leave them: CORS adds
    Origin to Vary (the answer to a request with an Origin differs), and SecurityHeaders its headers."""
    headers = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    if cached:
        headers.append((b"x-cache", b"hit"))
    headers += [(k.lower().encode(), (v + ", Origin" if k == "Vary" else v).encode()) for k, v in extra.items()]
    return headers + SECURITY_HEADERS


def build_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    router = APIRouter()
    endpoint = settings.endpoint
    prefixes = dict(PREFIXES)  # the hub's own prefixes for Turtle answers

    def principal(request: Request) -> Principal | None:
        secret = credentials(request.headers.get("authorization"))
        return hub.tokens.verify(secret) if secret else None

    def require(request: Request, role: str) -> Principal:
        who = principal(request)
        if who is None:
            raise Unauthorized(f"this operation needs an API token with the {role} role (Authorization: Bearer …)")
        if not who.can(role):
            raise Forbidden(f"the token {who.name!r} has the {who.role} role; this operation needs {role}")
        return who

    # -- queries ----------------------------------------------------------------------------
    def check_services(targets: tuple[str, ...]) -> None:
        allowed = settings.service_allow_list
        for target in targets:
            if target.startswith(("?", "$")):
                raise Forbidden("SERVICE with a variable endpoint is not allowed; name the endpoint")
            if not any(target.startswith(prefix) for prefix in allowed):
                hint = "federated queries are off" if not allowed else "it is not on the allow-list"
                raise Forbidden(f"SERVICE <{target}> is refused: {hint} (setting service_allow)")

    async def run_query(request: Request, query: str, pairs: list[tuple[str, str]], raw_key: tuple) -> Response:
        if len(query) > settings.max_query_length:
            raise TooLarge(f"the query is {len(query):,} characters; the limit is {settings.max_query_length:,}")
        analysis = lexer.analyse(query)
        if analysis.is_update:
            raise BadRequest("this is an update, not a query: POST it as 'update=' or as application/sparql-update")
        form = analysis.form
        kind = "graph" if form in ("CONSTRUCT", "DESCRIBE") else ("boolean" if form == "ASK" else "solutions")
        override = next((v for k, v in pairs if k in OVERRIDES and v), None)
        offer = negotiate(kind, request.headers.get("accept"), override)
        check_services(analysis.services)
        union_param = _one(pairs, "union-default-graph")
        defaults = tuple(v for k, v in pairs if k == "default-graph-uri")
        named = tuple(v for k, v in pairs if k == "named-graph-uri")
        for g in defaults + named:
            iri(g, "graph of the request's dataset")
        # SPARQL 1.1 Protocol §2.1.4: graphs named by the request win; else the query's own FROM /
        # FROM NAMED; else the hub's default, the union of the named graphs
        own = analysis.own_dataset and not defaults and not named
        dataset = Dataset(defaults, named, union=not own and (union_param or "true").lower() not in ("false", "0", "no"))
        who = principal(request)
        cap = None if who is not None else settings.row_cap
        # over a remote store, a read whose answer cannot reach the row cap streams on unparsed
        if (hub.store.mode == "remote" and settings.remote_passthrough and offer.media_type in PASS_THROUGH[kind]
                and (cap is None or kind == "boolean" or (kind == "solutions" and analysis.limit is not None and analysis.limit <= cap))):
            streamed = await pass_through(query, dataset, offer.media_type, raw_key)
            if streamed is not None:
                return streamed
        if not hub.enter_query():
            raise Busy(f"all {settings.query_workers} query workers are busy and {settings.query_queue} queries wait; retry shortly")
        generation = hub.generation
        deadline = time.monotonic() + settings.query_timeout

        def work():
            try:
                return hub.store.execute(query, dataset, deadline=deadline, cap=cap, base_iri=endpoint)
            finally:
                hub.leave_query()

        if analysis.cheap:
            # a bound-subject lookup streams from one index scan: a thread hop would cost more
            # than the query (and the deadline still bounds the rows it streams)
            outcome = work()
        else:
            outcome = await on_workers(hub, work)
        body, headers = serialize_outcome(outcome, offer.media_type, settings, prefixes)
        ctype = content_type(offer.media_type)
        if generation == hub.generation and len(body) < CACHED_BODY_MAX:
            hub.cache.put(raw_key, (body, ctype, headers))
        return Response(body, media_type=ctype, headers=headers)

    async def pass_through(query: str, dataset: Dataset, media_type: str, raw_key: tuple) -> Response | None:
        """The remote store's own bytes, sent on unparsed and not re-serialised, under the hub's query
        slots, deadline and result cache. The first ``CACHED_BODY_MAX`` bytes are held: an answer that
        ends within them is sent whole (and cached), so a query past its deadline is still a 503 that
        says so; a longer answer streams as it comes, and if it outlives the deadline the connection is
        cut (the client sees an incomplete answer). None when the store answers in another format
        (the usual path then answers)."""
        if not hub.enter_query():
            raise Busy(f"all {settings.query_workers} query workers are busy and {settings.query_queue} queries wait; retry shortly")
        generation = hub.generation
        deadline = time.monotonic() + settings.query_timeout
        ctype = content_type(media_type)
        headers = {"Vary": "Accept"}
        streaming = False
        upstream = None
        try:
            upstream = await hub.store.open_stream(query, dataset, media_type, deadline=deadline, base_iri=endpoint)
            if upstream is None:
                return None
            chunks = upstream.aiter_bytes()
            held: list[bytes] = []
            size = 0
            async for chunk in chunks:
                if time.monotonic() > deadline:
                    raise QueryTimeout(f"the query ran past the time limit of {settings.query_timeout:g} s and was stopped")
                held.append(chunk)
                size += len(chunk)
                if size >= CACHED_BODY_MAX:
                    break
            else:  # the whole answer
                body = b"".join(held)
                if generation == hub.generation:
                    hub.cache.put(raw_key, (body, ctype, headers))
                return Response(body, media_type=ctype, headers={**headers, "X-Answered-By": "store"})
            streaming = True
        except httpx.TimeoutException:
            raise QueryTimeout(f"the query ran past the time limit of {settings.query_timeout:g} s and was stopped") from None
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store broke off its answer: {e}") from None
        finally:
            if not streaming:
                if upstream is not None:
                    await upstream.aclose()
                hub.leave_query()

        async def rest():
            try:
                for chunk in held:
                    yield chunk
                async for chunk in chunks:
                    if time.monotonic() > deadline:
                        raise QueryTimeout("the query ran past its time limit and was stopped")
                    yield chunk
            finally:
                await upstream.aclose()
                hub.leave_query()

        return StreamingResponse(rest(), media_type=ctype, headers={**headers, "X-Answered-By": "store"})

    def require_writer(request: Request, what: str) -> Principal:
        """The editor making a write; a refused one is a write attempt, and the audit log says so."""
        try:
            return require(request, "editor")
        except ChmError as e:
            hub.audit("", what, "refused", e.code)
            raise

    async def run_update(request: Request, update: str, pairs: list[tuple[str, str]]) -> Response:
        what = f"SPARQL update ({len(update)} chars)"
        who = require_writer(request, what)
        if len(update) > settings.max_query_length:
            hub.audit(who.name, what, "refused", TooLarge.code)
            raise TooLarge(f"the update is {len(update):,} characters; the limit is {settings.max_query_length:,}")
        if lexer.empties_the_store(update) and not who.can("admin"):
            hub.audit(who.name, what, "refused", Forbidden.code)
            raise Forbidden("DROP or CLEAR of ALL or NAMED graphs empties the whole store: it needs the admin role; "
                            "drop the graphs one by one (DROP GRAPH <…>) as an editor")
        using = [v for k, v in pairs if k == "using-graph-uri"] or None
        using_named = [v for k, v in pairs if k == "using-named-graph-uri"] or None

        def work():
            return hub.write(lambda: apply_update(
                hub.store, update, settings.meta_graph, using=using, using_named=using_named,
                base_iri=endpoint, who=who.name), who=who.name, what=f"SPARQL update ({len(update)} chars)")

        result = await asyncio.get_running_loop().run_in_executor(None, work)
        return JSONResponse({"status": "committed", "added": result.added, "removed": result.removed, "graphs": result.graphs})

    async def description(request: Request) -> Response:
        if "text/html" in request.headers.get("accept", "") and "turtle" not in request.headers.get("accept", ""):
            return RedirectResponse("/editor", status_code=303)  # relative: right wherever the hub is served
        ttl = hub.derived("sd", lambda: describe.service_description(
            settings.base, endpoint, hub.stats(), updates=True, timeout=settings.query_timeout, row_cap=settings.row_cap))
        return rdf_response(request, ttl)

    def rdf_response(request: Request, turtle: str, pairs: list[tuple[str, str]] | None = None) -> Response:
        override = next((v for k, v in (pairs or list(request.query_params.multi_items())) if k in OVERRIDES and v), None)
        accept = request.headers.get("accept", "")
        if override is None and "text/html" in accept and not any(t in accept for t in ("turtle", "rdf+xml", "ld+json", "n-triples")):
            # a browser: the Turtle, readable in the tab (an RDF media type would be downloaded)
            return Response(turtle.encode(), media_type="text/plain; charset=utf-8", headers={"Vary": "Accept"})
        offer = negotiate("graph", request.headers.get("accept"), override)
        if offer.media_type == "text/turtle":
            body = turtle.encode()
        else:
            body = serialize_graph(ox.parse(turtle.encode(), ox.RdfFormat.TURTLE), offer.media_type)
        return Response(body, media_type=content_type(offer.media_type), headers={"Vary": "Accept"})

    @router.get("/sparql", summary="SPARQL query by GET, or the service description without a query")
    async def sparql_get(request: Request) -> Response:
        try:
            pairs = list(request.query_params.multi_items())
            if _one(pairs, "update") is not None:
                raise MethodNotAllowed("updates must be POSTed (SPARQL 1.1 Protocol §2.2)")
            query = _one(pairs, "query")
            if query is None:
                return await description(request)
            failed = request.scope.get(FAST_PATH_ERROR)
            if failed is not None:  # the fast path ran this query and it failed: its error, not a second run
                raise failed
            raw_key = request_key(hub.generation, request.scope, b"")
            hit = hub.cache.get(raw_key)
            if hit is not None:
                return Response(hit[0], media_type=hit[1], headers={**hit[2], "X-Cache": "hit"})
            return await run_query(request, query, pairs, raw_key)
        except ChmError as e:
            return problem(e)

    @router.post("/sparql", summary="SPARQL query or update by POST (form-encoded or direct)")
    async def sparql_post(request: Request) -> Response:
        try:
            media, params = _media(request)
            url_pairs = list(request.query_params.multi_items())
            body = await request.body()
            if len(body) > max(settings.max_query_length * 4, 1_000_000):
                raise TooLarge(f"the request body is {len(body):,} bytes; the limit is {max(settings.max_query_length * 4, 1_000_000):,}")
            raw_key = request_key(hub.generation, request.scope, body)
            hit = hub.cache.get(raw_key)
            if hit is not None:
                return Response(hit[0], media_type=hit[1], headers={**hit[2], "X-Cache": "hit"})
            if media == FORM:
                form_pairs = parse_qsl(_utf8(body, params), keep_blank_values=True)
                pairs = url_pairs + form_pairs
                query, update = _one(form_pairs, "query"), _one(form_pairs, "update")
                if query is not None and update is not None:
                    raise BadRequest("send either 'query' or 'update', not both")
                if query is not None:
                    return await run_query(request, query, pairs, raw_key)
                if update is not None:
                    return await run_update(request, update, pairs)
                raise BadRequest("the form has neither a 'query' nor an 'update' parameter")
            if media == QUERY_TYPE:
                return await run_query(request, _utf8(body, params), url_pairs, raw_key)
            if media == UPDATE_TYPE:
                return await run_update(request, _utf8(body, params), url_pairs)
            raise UnsupportedMedia(
                f"a POST to the endpoint must be {FORM}, {QUERY_TYPE} or {UPDATE_TYPE}, not {media or 'untyped'}")
        except ChmError as e:
            return problem(e)

    # -- graph store protocol -----------------------------------------------------------------
    def target_graph(request: Request, path: str | None) -> str | None:
        """The graph a GSP request names; None for the default graph."""
        if path is not None:
            return settings.base + "gsp/" + path
        pairs = list(request.query_params.multi_items())
        graph = _one(pairs, "graph")
        has_default = any(k == "default" for k, _ in pairs)
        if graph is not None and has_default:
            raise BadRequest("give either ?graph=… or ?default, not both")
        if graph is None and not has_default:
            raise BadRequest("name the graph with ?graph=<IRI> (or ?default for the default graph)")
        if graph is not None:
            if not graph.strip() or any(c in graph for c in '<>" {}|\\^`') or ":" not in graph:
                raise BadRequest(f"not an absolute IRI: {graph!r}")
            iri(graph, "graph")
        return graph

    async def read_body(request: Request) -> tuple[bytes, ox.RdfFormat, str]:
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_bytes:
            raise TooLarge(f"the body is {int(length):,} bytes; the limit is {settings.max_upload_bytes:,}")
        media, params = _media(request)
        if media == "multipart/form-data":
            return b"", None, media  # type: ignore[return-value]  # parts are read by request.form()
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_upload_bytes:
                raise TooLarge(f"the body is over the {settings.max_upload_bytes:,}-byte limit")
            chunks.append(chunk)
        body = b"".join(chunks)
        fmt = RDF_FORMATS.get(media) or {"text/n3": ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
                                         "application/json": ox.RdfFormat.JSON_LD, "text/plain": ox.RdfFormat.N_TRIPLES}.get(media)
        if fmt is None:
            offered = ", ".join(RDF_FORMATS)
            raise UnsupportedMedia(f"cannot read a {media or 'untyped'} body as RDF; send one of: {offered}")
        if params.get("charset", "utf-8") not in ("utf-8", "utf8"):
            raise UnsupportedMedia(f"RDF bodies must be UTF-8, not {params['charset']}")
        return body, fmt, media

    async def parsed_body(request: Request, graph: str, who: Principal) -> ox.Store:
        body, fmt, media = await read_body(request)
        if media == "multipart/form-data":
            staging = ox.Store()
            async with request.form(max_part_size=settings.max_upload_bytes) as form:
                for _name, part in form.multi_items():
                    if isinstance(part, str):
                        continue
                    part_media = (part.content_type or "").split(";")[0].strip().lower()
                    part_fmt = RDF_FORMATS.get(part_media)
                    if part_fmt is None:
                        raise UnsupportedMedia(f"multipart part {part.filename!r}: cannot read {part_media or 'untyped'} as RDF")
                    data = await part.read()
                    one = parse_rdf(data, part_fmt, f"part {part.filename}", base_iri=graph)
                    staging.bulk_extend(one.quads_for_pattern(None, None, None, ox.NamedNode(NEW)))
            return staging
        if not body.strip():
            raise BadRequest("the body is empty; send RDF (to empty a graph, DELETE it)")
        return parse_rdf(body, fmt, f"HTTP {request.method} body", base_iri=graph)

    def as_source(parsed: ox.Store, graph: str, method: str, who: Principal) -> ParsedSource:
        nt = parsed.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(NEW)) or b""
        return ParsedSource(name=graph, reader="graph-store", location=f"HTTP {method} by {who.name}",
                            checksum=checksum(nt), ntriples=nt, title=f"graph written through the Graph Store Protocol",
                            parsed=parsed)

    def guard_meta(graph: str | None) -> None:
        if graph == settings.meta_graph:
            raise Forbidden(f"<{graph}> is the hub's meta graph; it is written by the hub only")
        if graph is None:
            raise MethodNotAllowed("the default graph is the union of the named graphs and cannot be written; "
                                   "write to a named graph (?graph=<IRI>)")

    async def gsp(request: Request, path: str | None) -> Response:
        method = request.method
        graph = target_graph(request, path)
        store = hub.store
        if method in ("GET", "HEAD"):
            offer = negotiate("graph", request.headers.get("accept"), None)
            headers = {"Vary": "Accept"}
            if graph is None:
                # the union of every graph: bounded like a query (row cap for anonymous callers, the
                # deadline for all), off the event loop; whole dumps are files under /dumps
                cap = None if principal(request) is not None else settings.row_cap
                deadline = time.monotonic() + settings.query_timeout
                outcome = await asyncio.get_running_loop().run_in_executor(
                    hub.pool, lambda: store.execute("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", deadline=deadline, cap=cap))
                assert isinstance(outcome, GraphResult)
                triples = outcome.triples
                if outcome.truncated_at is not None:
                    note = settings.base + "about/limits"
                    headers.update({"X-Result-Truncated": "true", "X-Row-Cap": str(outcome.truncated_at),
                                    "Link": "<" + note + '>; rel="describedby", <' + settings.base + 'dumps>; rel="alternate"'})
            else:
                if not store.graph_exists(graph):
                    raise NotFound(f"no graph <{graph}>")
                data = await asyncio.get_running_loop().run_in_executor(None, store.dump, graph, ox.RdfFormat.N_TRIPLES)
                triples = ox.parse(data, ox.RdfFormat.N_TRIPLES)
            body = serialize_graph(triples, offer.media_type, prefixes)
            headers["Content-Length"] = str(len(body))
            return Response(b"" if method == "HEAD" else body, media_type=content_type(offer.media_type), headers=headers)
        who = require_writer(request, "GSP " + method + " <" + str(graph) + ">")
        guard_meta(graph)
        loop = asyncio.get_running_loop()
        if method == "DELETE":
            def drop():
                if not store.graph_exists(graph):
                    raise NotFound(f"no graph <{graph}>")
                report = validate_source(store, ParsedSource(graph, "graph-store", "DELETE", "", b""), graph, settings.meta_graph)
                if not report.conforms:
                    raise ShapeViolation(f"deleting <{graph}> would break the shapes; nothing was removed.\n{report.summary()}", report)
                store.update(Update().drop_graph(iri(graph)).delete_subject(iri(settings.meta_graph), iri(graph)).text())
            await loop.run_in_executor(None, lambda: hub.write(drop, who.name, f"GSP DELETE <{graph}>"))
            return Response(status_code=204)
        parsed = await parsed_body(request, graph, who)
        if method == "PUT":
            def put():
                existed = store.graph_exists(graph)
                ingest(store, as_source(parsed, graph, method, who), graph, settings.meta_graph, force=True)
                return existed
            existed = await loop.run_in_executor(None, lambda: hub.write(put, who.name, f"GSP PUT <{graph}>"))
            return Response(status_code=204 if existed else 201)
        if method == "POST":
            def post():
                existed = store.graph_exists(graph)
                if existed:
                    parsed.load(store.dump(graph, ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(NEW))
                ingest(store, as_source(parsed, graph, method, who), graph, settings.meta_graph, force=True)
                return existed
            existed = await loop.run_in_executor(None, lambda: hub.write(post, who.name, f"GSP POST <{graph}>"))
            return Response(status_code=204 if existed else 201)
        raise MethodNotAllowed(f"{method} is not part of the Graph Store Protocol")

    async def gsp_indirect(request: Request) -> Response:
        try:
            pairs = list(request.query_params.multi_items())
            if request.method == "POST" and not pairs:
                # POST to the graph store itself: a new graph, named by the hub
                who = require(request, "editor")
                graph = settings.base + "gsp/graphs/" + uuid.uuid4().hex
                parsed = await parsed_body(request, graph, who)
                await asyncio.get_running_loop().run_in_executor(None, lambda: hub.write(
                    lambda: ingest(hub.store, as_source(parsed, graph, "POST", who), graph, settings.meta_graph, force=True),
                    who.name, f"GSP POST new graph <{graph}>"))
                return Response(status_code=201, headers={"Location": graph})
            return await gsp(request, None)
        except ChmError as e:
            return problem(e)

    async def gsp_direct(request: Request, path: str) -> Response:
        try:
            if ".." in path.split("/"):
                raise BadRequest("'..' is not allowed in a graph path")
            return await gsp(request, quote(path, safe="/:@!$&'()*+,;=-._~"))
        except ChmError as e:
            return problem(e)

    for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):  # one route per method: one OpenAPI operation each
        router.add_api_route("/gsp", gsp_indirect, methods=[method], name=f"gsp_indirect_{method.lower()}",
                             summary=f"Graph Store Protocol {method} (indirect: ?graph=IRI or ?default)")
        router.add_api_route("/gsp/{path:path}", gsp_direct, methods=[method], name=f"gsp_direct_{method.lower()}",
                             summary=f"Graph Store Protocol {method} (direct graph identification)")

    # -- descriptions and dumps --------------------------------------------------------------
    # (a ChmError raised here is answered by the app's problem+json handler)
    @router.get("/.well-known/void", summary="VoID description of the dataset (per named graph)")
    def void(request: Request) -> Response:
        return rdf_response(request, hub.derived("void", lambda: describe.void_turtle(settings.base, endpoint, hub.stats(), hub.dump_infos())))

    @router.get("/catalog", summary="DCAT catalogue: the datasets, their dumps and the endpoint")
    def catalog(request: Request) -> Response:
        return rdf_response(request, hub.derived("dcat", lambda: describe.dcat_turtle(settings.base, endpoint, hub.stats(), hub.dump_infos())))

    @router.get("/dumps", summary="The dump files: name, graph, size, checksum")
    def dumps_list() -> JSONResponse:
        return JSONResponse([
            {"name": f.name, "url": f"{settings.base}dumps/{f.name}", "graph": f.graph, "media_type": f.media_type,
             "encoding": "gzip", "bytes": f.size, "sha256": f.sha256}
            for f in hub.dumps()
        ])

    @router.get("/dumps/{name}", summary="One gzipped dump (the whole dataset, or one named graph)")
    def dump_file(name: str) -> Response:
        files = {f.name: f for f in hub.dumps()}
        f = files.get(name)
        if f is None:
            return problem(NotFound(f"no dump named {name!r}; see {settings.base}dumps"))
        return FileResponse(f.path, media_type="application/gzip", filename=f.name,
                            headers={"Digest": f"sha-256={f.sha256}", "X-Content-Media-Type": f.media_type})

    @router.get("/about/limits", summary="The service's limits")
    def limits() -> JSONResponse:
        return JSONResponse({
            "query_timeout_seconds": settings.query_timeout,
            "anonymous_row_cap": settings.row_cap,
            "max_query_length": settings.max_query_length,
            "max_upload_bytes": settings.max_upload_bytes,
            "concurrent_queries": settings.query_workers,
            "queued_queries": settings.query_queue,
            "service_allow_list": settings.service_allow_list,
            "note": "Anonymous results past the row cap are cut and marked (X-Result-Truncated, X-Row-Cap, and a "
                    "link in the results head). Authenticated clients get the full result.",
        })

    return router

