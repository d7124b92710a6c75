"""Matchmaking over HTTP: needs and offers (submitted → published → closed, validated by the shapes,
their descriptions tagged), ranked matches with their reasons, and the decisions people take on them.

Anyone with an account or token submits; editors publish or close; the people concerned (any
account) accept or decline a match, which is recorded with who and when (PROV).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hub import matching as mm
from hub.auth import Principal
from hub.service import Hub
from hub.web import feeds
from hub.web.deps import closes_form, require
from hub.web.render import local_href, render
from ontology.errors import BadRequest, ChmError
from writes.update import apply_update


def build_matchmaking_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    base = settings.base
    router = APIRouter()

    def matcher() -> mm.Matcher:
        def build() -> mm.Matcher:
            return mm.Matcher(mm.sides_from_store(hub.store, base), hub.derived("concept-graph", lambda: mm.graph_from_store(hub.store)))
        return hub.derived("matcher", build)

    def node_of(kind: str, ident: str) -> str:
        iri = f"{base}{kind}/{ident}"
        side = matcher().by_iri.get(iri)
        if side is None or side.kind != kind:
            raise NotFoundError(f"no {kind} {ident[:60]!r}")
        return iri

    def suggest(text: str, lang: str) -> list[str]:
        try:
            tagger, _ = hub.tagging()
        except Exception:  # noqa: BLE001 - no vocabulary loaded: nothing suggested
            return []
        return [s.concept for s in tagger.suggest(text, lang, limit=5) if s.score >= 0.3]

    async def body_of(request: Request) -> dict:
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest("the body must be JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("send a JSON object")
        return body

    def write(update: str, who: Principal, what: str):
        return hub.write(lambda: apply_update(hub.store, update, settings.meta_graph, who=who.name), who.name, what)

    async def submit(request: Request, kind: str) -> JSONResponse:
        who, _form = await require(hub, request, "reader", f"submitting an {kind}" if kind == "offer" else "submitting a need")
        body = await body_of(request)

        def run():
            iri, update, tagged = mm.submission(kind, body, who.name, base, suggest)
            write(update.text(), who, f"submit {kind} {iri}")
            return iri, tagged
        iri, tagged = await asyncio.get_running_loop().run_in_executor(None, run)
        return JSONResponse({kind: iri, "status": "submitted", "tagged": tagged, "page": local_href(hub, iri)}, status_code=201,
                            headers={"Location": iri})

    @router.post("/api/needs", status_code=201, summary="Submit a need (validated; tagged; reviewed by editors)")
    async def post_need(request: Request) -> JSONResponse:
        return await submit(request, "need")

    @router.post("/api/offers", status_code=201, summary="Submit an offer (validated; tagged; reviewed by editors)")
    async def post_offer(request: Request) -> JSONResponse:
        return await submit(request, "offer")

    def side_json(side: mm.Side) -> dict:
        return {"iri": side.iri, "kind": side.kind, "title": side.title, "description": side.description, "who": side.who,
                "subjects": sorted(side.subjects), "targets": sorted(side.targets), "support": sorted(side.support),
                "countries": sorted(side.countries), "regions": sorted(side.regions), "languages": sorted(side.languages),
                "status": side.status}

    def matches_of(kind: str, ident: str, k: int, text_only: bool) -> dict:
        iri = node_of(kind, ident)
        m = matcher()
        decided = mm.decisions_in_store(hub.store, base)
        out = []
        for match in m.matches(iri, k=max(1, min(k, 100)), text_only=text_only):
            pair = (iri, match.iri) if kind == "need" else (match.iri, iri)
            other = m.by_iri[match.iri]
            out.append({**match.to_dict(), "title": other.title, "who": other.who, "page": local_href(hub, match.iri),
                        "decision": decided.get(pair)})
        return {kind: iri, "title": m.by_iri[iri].title, "matches": out}

    for kind in ("need", "offer"):
        def make(kind: str):
            async def get_one(ident: str) -> JSONResponse:
                return JSONResponse(side_json(matcher().by_iri[node_of(kind, ident)]))

            async def get_matches(ident: str, k: int = 10, text_only: bool = False) -> JSONResponse:
                return JSONResponse(await asyncio.get_running_loop().run_in_executor(None, matches_of, kind, ident, k, text_only))

            async def set_status(request: Request, ident: str) -> JSONResponse:
                who, _form = await require(hub, request, "editor", f"publishing or closing an {kind}")
                body = await body_of(request)
                iri = node_of(kind, ident)
                update = mm.status_update(base, iri, str(body.get("status", ""))[:20])
                await asyncio.get_running_loop().run_in_executor(None, write, update.text(), who, f"{body.get('status')} {iri}")
                return JSONResponse({kind: iri, "status": body.get("status")})
            router.add_api_route(f"/api/{kind}s/{{ident}}", get_one, methods=["GET"], summary=f"An {kind} as JSON")
            router.add_api_route(f"/api/{kind}s/{{ident}}/matches", get_matches, methods=["GET"],
                                 summary=f"Ranked matches for an {kind}, each with its score, parts and reasons")
            router.add_api_route(f"/api/{kind}s/{{ident}}/status", set_status, methods=["POST"],
                                 summary=f"Publish or close an {kind} (editors)")
        make(kind)

    @router.post("/api/matches", summary="Accept or decline a match (recorded with who and when)")
    async def decide(request: Request) -> JSONResponse:
        who, _form = await require(hub, request, "reader", "deciding on a match")
        body = await body_of(request)
        need, offer = str(body.get("need", "")), str(body.get("offer", ""))
        m = matcher()
        if m.by_iri.get(need, mm.Side("", "", "")).kind != "need" or m.by_iri.get(offer, mm.Side("", "", "")).kind != "offer":
            raise BadRequest("need and offer name a need and an offer of the hub by their IRIs")
        scored = m.score(m.by_iri[need], m.by_iri[offer], 0.0).score
        iri, update = mm.decision_update(base, need, offer, str(body.get("decision", ""))[:20], who.name, scored, body.get("note", ""))
        await asyncio.get_running_loop().run_in_executor(None, write, update.text(), who, f"{body.get('decision')} match {iri}")
        return JSONResponse({"match": iri, "decision": body.get("decision")}, status_code=201)

    @router.post("/matches/decide", include_in_schema=False)
    @closes_form
    async def decide_form(request: Request) -> Response:
        back = "/"
        try:
            who, form = await require(hub, request, "reader", "deciding on a match")
            need, offer = str(form.get("need", "")), str(form.get("offer", ""))
            back = str(form.get("back", "/"))
            m = matcher()
            if m.by_iri.get(need, mm.Side("", "", "")).kind != "need" or m.by_iri.get(offer, mm.Side("", "", "")).kind != "offer":
                raise BadRequest("need and offer name a need and an offer of the hub")
            scored = m.score(m.by_iri[need], m.by_iri[offer], 0.0).score
            iri, update = mm.decision_update(base, need, offer, str(form.get("decision", ""))[:20], who.name, scored,
                                             str(form.get("note", ""))[:2000])
            await asyncio.get_running_loop().run_in_executor(None, write, update.text(), who, f"{form.get('decision')} match {iri}")
            msg = f"{form.get('decision')}: recorded"
        except ChmError as e:
            msg = f"[{e.code}] {e.message}"
        if not back.startswith(("/needs/", "/offers/")) or "//" in back:
            back = "/"
        return RedirectResponse(back + "?" + urlencode({"msg": msg}), status_code=303)

    # -- forms: submit, and the editors' review -------------------------------------------------------
    def form_body(form: dict, kind: str) -> dict:
        def items(name: str) -> list[str]:
            return [x.strip() for x in str(form.get(name, "")).replace(",", "\n").splitlines() if x.strip()]
        body = {"title": str(form.get("title", "")), "description": str(form.get("description", "")),
                "language": str(form.get("language", "en")), "who": str(form.get("who", "")), "subjects": items("subjects"),
                "targets": items("targets"), "support": [str(v) for k, v in form.items() if k.startswith("support-")],
                "countries": items("countries"), "regions": items("regions"),
                "languages": [str(v) for k, v in form.items() if k.startswith("lang-")]}
        if kind == "offer" and str(form.get("capacity", "")).strip():
            try:
                body["capacity"] = int(str(form["capacity"]))
            except ValueError:
                raise mm.MatchmakingError("capacity is a whole number") from None
        return body

    def identity_or_login(request: Request, role: str, path: str) -> Principal | Response:
        from hub.web.deps import identify_quietly

        ident = identify_quietly(hub, request)
        if ident.who is None:
            return RedirectResponse("/login?" + urlencode({"next": path}), status_code=303)
        if not ident.who.can(role):
            return render(hub, request, "not_found.html", status=403, message=f"{ident.who.name} has the {ident.who.role} role")
        return ident.who

    for kind in ("need", "offer"):
        def make_form(kind: str):
            def new_page(request: Request) -> Response:
                who = identity_or_login(request, "reader", f"/{kind}s/new")
                if isinstance(who, Response):
                    return who
                return render(hub, request, "need_form.html", kind=kind, supports=mm.SUPPORT, langs=mm.LANGS, problems=[],
                              submitted={}, msg="")

            async def new_submit(request: Request) -> Response:
                form: dict = {}
                try:
                    who, form = await require(hub, request, "reader", f"submitting an {kind}")
                    body = form_body(form, kind)

                    def run():
                        iri, update, _tagged = mm.submission(kind, body, who.name, base, suggest)
                        write(update.text(), who, f"submit {kind} {iri}")
                        return iri
                    iri = await asyncio.get_running_loop().run_in_executor(None, run)
                except ChmError as e:
                    return render(hub, request, "need_form.html", status=e.http_status, kind=kind, supports=mm.SUPPORT, langs=mm.LANGS,
                                  problems=[f"[{e.code}] {e.message.splitlines()[0]}"], submitted=form, msg="")
                return RedirectResponse(f"/{kind}s/{iri.rsplit('/', 1)[-1]}/matches?" + urlencode({"msg": f"{kind} submitted: an editor will review it"}),
                                        status_code=303)
            router.add_api_route(f"/{kind}s/new", new_page, methods=["GET"], include_in_schema=False)
            router.add_api_route(f"/{kind}s/new", closes_form(new_submit), methods=["POST"], include_in_schema=False)
        make_form(kind)

    @router.get("/matchmaking/review", include_in_schema=False)
    def review_page(request: Request, msg: str = "") -> Response:
        who = identity_or_login(request, "editor", "/matchmaking/review")
        if isinstance(who, Response):
            return who
        pending = [s for s in mm.sides_from_store(hub.store, base) if s.status == "submitted"]
        return render(hub, request, "matchmaking_review.html", pending=pending, message=msg[:300])

    @router.post("/matchmaking/review", include_in_schema=False)
    @closes_form
    async def review_submit(request: Request) -> Response:
        try:
            who, form = await require(hub, request, "editor", "publishing or closing needs and offers")
            node, status = str(form.get("node", "")), str(form.get("status", ""))
            if matcher().by_iri.get(node) is None:
                raise mm.MatchmakingError("no such need or offer")
            update = mm.status_update(base, node, status)
            await asyncio.get_running_loop().run_in_executor(None, write, update.text(), who, f"{status} {node}")
            msg = f"{status}: done"
        except ChmError as e:
            msg = f"[{e.code}] {e.message}"
        return RedirectResponse("/matchmaking/review?" + urlencode({"msg": msg}), status_code=303)

    @router.get("/needs/{ident}/matches", include_in_schema=False)
    @router.get("/offers/{ident}/matches", include_in_schema=False)
    def matches_page(request: Request, ident: str) -> Response:
        kind = "need" if request.url.path.startswith("/needs/") else "offer"
        try:
            found = matches_of(kind, ident, 10, False)
        except NotFoundError as e:
            return render(hub, request, "not_found.html", status=404, message=e.message)
        fmt = feeds.wanted(request)
        if fmt:  # "matches for my need" as a feed: an entry per match, its reasons as the summary
            return feeds.respond(request, fmt, f"{found['title']}: matches", [
                feeds.Entry(m["iri"], f"{m['title']} ({m['score']:.2f})", m["page"], "", "; ".join(m["reasons"]),
                            [m["decision"]["decision"]] if m["decision"] else []) for m in found["matches"]])
        return render(hub, request, "matches.html", kind=kind, found=found, message=request.query_params.get("msg", "")[:300],
                      back=request.url.path, feeds=feeds.alternates(request), cache="no-cache")

    return router


class NotFoundError(mm.MatchmakingError):
    code = "E321"
    http_status = 404
