"""Decision tracking over HTTP: the dashboard, filtered decision lists (HTML, JSON, CSV), a
decision's elements, and statuses editors record (draft → publish, with history and revert).

Filters run over the tracking index (built once per write generation); a decision's elements
come from bound queries. Recording a status takes the editor role; publishing or rejecting it the
publisher role; a publication derives the tracking graph again in the same write.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import threading
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hub import tracking as tr
from hub.auth import Forbidden, Principal
from hub.service import Hub
from hub.oai import shared_index
from hub.web import feeds, i18n
from hub.web.deps import closes_form, identify_quietly, require
from hub.web.render import lang_of, local_href, render
from hub.web.views.charts import STATUS_COLOURS, stacked_bars
from ontology.errors import BadRequest, ChmError
from thesaurus import editing as ed
from writes.update import apply_update

log = logging.getLogger(__name__)
MAX_ROWS = 5000
FILTERS = ("meeting", "actor", "status", "subject", "target")


def tracking_index(hub: Hub) -> tr.TrackingIndex:
    return tr.shared_index(hub)


def warm_up(hub: Hub) -> None:
    """Build the tracking index in the background at start-up: the first /tracking does not wait."""
    def run() -> None:
        try:
            tracking_index(hub)
        except Exception as e:  # noqa: BLE001 - best effort: the first request builds it otherwise
            log.info("tracking index warm-up skipped: %s", e)
    threading.Thread(target=run, name="tracking-warm-up", daemon=True).start()


def build_tracking_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    router = APIRouter()

    def index() -> tr.TrackingIndex:
        return tracking_index(hub)

    def chosen(request: Request) -> dict[str, str]:
        return {k: request.query_params.get(k, "")[:300] for k in FILTERS if request.query_params.get(k)}

    def filtered(request: Request) -> tuple[tr.TrackingIndex, list[tr.DecisionRow], dict[str, str]]:
        idx, f = index(), chosen(request)
        return idx, idx.filter(**f), f

    def page_args(request: Request) -> tuple[int, int]:
        try:
            limit = int(request.query_params.get("limit", "100"))
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            raise BadRequest("limit and offset are whole numbers") from None
        if not 0 < limit <= MAX_ROWS or offset < 0:
            raise BadRequest(f"limit is 1 to {MAX_ROWS}, offset 0 or more")
        return limit, offset

    # -- pages ----------------------------------------------------------------------------------
    @router.get("/tracking", include_in_schema=False)
    def dashboard(request: Request) -> Response:
        idx = index()
        board = idx.dashboard()

        def link(**f: str) -> str:
            return "/tracking/decisions?" + urlencode(f)
        ui = i18n.UI[lang_of(request)]
        chart = stacked_bars(board["meetings"], board["statuses"], ui["by_meeting"], lambda key, status: link(meeting=key, status=status),
                             lambda status: ui.get("st_" + status, status))
        return render(hub, request, "tracking.html", board=board, labels=idx.labels, keys=idx.actor_keys, link=link,
                      total=len(idx.rows), cache="no-cache", chart=chart, colours=STATUS_COLOURS)

    @router.get("/tracking/decisions", include_in_schema=False)
    def decisions_page(request: Request) -> Response:
        try:
            idx, rows, f = filtered(request)
            limit, offset = page_args(request)
        except tr.StatusError as e:
            return render(hub, request, "not_found.html", status=400, message=f"[{e.code}] {e.message}")
        except BadRequest as e:
            return render(hub, request, "not_found.html", status=400, message=f"[{e.code}] {e.message}")
        shown = rows[offset:offset + limit]
        fmt = feeds.wanted(request)
        if fmt:
            stamps = shared_index(hub).by_iri
            title = "Decisions" + "".join(f" · {k}: {idx.labels.get(v, v)}" for k, v in f.items())
            return feeds.respond(request, fmt, title, [
                feeds.Entry(r.iri, f"{r.symbol} {r.title}".strip(), local_href(hub, r.iri),
                            stamps[r.iri].datestamp if r.iri in stamps else "", f"{r.status}: {r.reason}", [r.status])
                for r in shown])
        nxt = "/tracking/decisions?" + urlencode({**f, "offset": offset + limit, "limit": limit}) if offset + limit < len(rows) else ""
        prev = "/tracking/decisions?" + urlencode({**f, "offset": max(0, offset - limit), "limit": limit}) if offset else ""
        export = {fmt: "/api/decisions?" + urlencode({**f, "format": fmt, "limit": MAX_ROWS}) for fmt in ("json", "csv")}
        return render(hub, request, "tracking_list.html", feeds=feeds.alternates(request), rows=shown, total=len(rows), filters=f, labels=idx.labels,
                      statuses=tr.STATUSES, next=nxt, prev=prev, export=export, offset=offset, cache="no-cache")

    # -- API ------------------------------------------------------------------------------------
    @router.get("/api/decisions", summary="Decisions filtered by meeting, actor, status, subject and target (JSON or CSV)")
    def decisions_api(request: Request, format: str = "json") -> Response:
        idx, rows, f = filtered(request)
        limit, offset = page_args(request)
        shown = [r.to_dict(idx.labels) for r in rows[offset:offset + limit]]
        headers = {"X-Total-Count": str(len(rows))}
        if format == "csv":
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(["symbol", "title", "meeting", "date", "status", "reason", "actors", "subjects", "targets", "iri"])
            for r in shown:
                w.writerow([r["symbol"], r["title"], r["meeting"], r["date"], r["status"], r["reason"], "; ".join(r["actors"]),
                            "; ".join(r["subjects"]), "; ".join(r["targets"]), r["iri"]])
            headers["Content-Disposition"] = 'attachment; filename="decisions.csv"'
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
        if format != "json":
            raise BadRequest(f"unknown format {format[:40]!r} (json or csv)")
        return JSONResponse({"total": len(rows), "offset": offset, "limit": limit, "filters": f, "decisions": shown}, headers=headers)

    @router.get("/api/tracking/dashboard", summary="Decisions by status per meeting, actor, subject and target")
    def dashboard_api() -> JSONResponse:
        idx = index()
        board = idx.dashboard()
        named = lambda pairs: [{"key": k, "label": idx.labels.get(k, k), "counts": dict(c)} for k, c in pairs]  # noqa: E731
        return JSONResponse({"statuses": board["statuses"], "decisions": len(idx.rows), "meetings": named(board["meetings"]),
                             "actors": named(board["actors"]), "subjects": named(board["subjects"]), "targets": named(board["targets"])})

    @router.get("/api/decisions/{symbol:path}/elements", summary="A decision's elements: acts, actors, deadlines, statuses, links")
    def elements_api(symbol: str, lang: str = "en") -> JSONResponse:
        found = tr.elements_of(hub.store, settings.base, symbol, lang)
        if not found["elements"] and not tr.decision_exists(hub.store, found["decision"]):
            raise tr.UnknownDecision(f"the hub holds no decision {found['symbol']}")
        return JSONResponse(found)

    # -- statuses editors record ----------------------------------------------------------------
    def one(change: str) -> ed.Change:
        found = tr.status_changes(hub.store, settings, change=change)
        if not found:
            raise ed.UnknownChange(f"no status change <{change[:200]}>")
        return found[0]

    def propose(node: str, code: str, note: str, who: Principal) -> str:
        made: dict[str, str] = {}

        def make() -> str:
            made["iri"], update = tr.propose_status(hub.store, settings, node, code, who.name, note)
            return update

        def run() -> str:
            apply_update(hub.store, make, settings.meta_graph, who=who.name)
            return made["iri"]
        return hub.write(run, who.name, f"draft status {code} of {node}")

    def act(change: str, action: str, who: Principal) -> str:
        if action in ("publish", "reject") and not who.can("publisher"):
            raise Forbidden(f"{who.name!r} has the {who.role} role; to {action} a status change needs the publisher role")
        if action == "publish":
            def run() -> str:
                apply_update(hub.store, lambda: tr.publish_status_update(hub.store, settings, one(change), who.name),
                             settings.meta_graph, who=who.name)
                tr.refresh(hub.store, settings)
                return change
            return hub.write(run, who.name, f"publish status change {change}")
        if action == "reject":
            def run_reject() -> str:
                apply_update(hub.store, lambda: tr.reject_status_update(settings, one(change), who.name), settings.meta_graph, who=who.name)
                return change
            return hub.write(run_reject, who.name, f"reject status change {change}")
        if action == "revert":
            def run_revert() -> str:
                made: dict[str, str] = {}

                def make() -> str:
                    made["iri"], update = tr.revert_status_draft(hub.store, settings, one(change), who.name)
                    return update
                apply_update(hub.store, make, settings.meta_graph, who=who.name)
                return made["iri"]
            return hub.write(run_revert, who.name, f"revert status change {change} (as a draft)")
        raise BadRequest(f"unknown action {action[:40]!r} (publish, reject or revert)")

    async def json_body(request: Request, *keys: str) -> dict:
        try:
            body = await request.json()
        except ValueError:
            raise BadRequest("the body must be JSON") from None
        if not isinstance(body, dict) or any(not isinstance(body.get(k), str) for k in keys):
            raise BadRequest("send a JSON object with the string fields " + ", ".join(keys))
        return body

    @router.post("/api/tracking/status", status_code=201, summary="Record a status of a decision or element (saved as a draft)")
    async def status_api(request: Request) -> JSONResponse:
        who, _form = await require(hub, request, "editor", "recording a decision status")
        body = await json_body(request, "node", "status")
        note = body.get("note", "")
        if not isinstance(note, str) or len(note) > 2000:
            raise BadRequest("note is a text of at most 2,000 characters")
        iri = await asyncio.get_running_loop().run_in_executor(None, propose, body["node"], body["status"], note, who)
        return JSONResponse({"change": iri, "status": "draft"}, status_code=201, headers={"Location": iri})

    @router.get("/api/tracking/changes", summary="Status changes by state (draft, published, rejected) or node")
    def changes_api(status: str | None = None, node: str | None = None) -> JSONResponse:
        found = tr.status_changes(hub.store, settings, node=node, status=status)
        return JSONResponse([{"change": c.iri, "node": c.concept, **{k: v for k, v in c.to_dict().items() if k not in ("iri", "concept")}}
                             for c in found])

    @router.post("/api/tracking/changes/{action}", summary="publish or reject a status draft (publishers), revert a published one")
    async def change_action_api(request: Request, action: str) -> JSONResponse:
        who, _form = await require(hub, request, "editor", "acting on status changes")
        body = await json_body(request, "change")
        iri = await asyncio.get_running_loop().run_in_executor(None, act, body["change"], action, who)
        return JSONResponse({"change": iri, "action": action})

    # -- the same workflow in the browser (session, CSRF on every form) ----------------------------
    def status_word(c) -> str:
        """The status a change records (or removes), read from its triples."""
        for line in c.added or c.removed:
            return line.rsplit("/", 1)[-1].rstrip("> .")
        return ""

    @router.post("/tracking/status", include_in_schema=False)
    @closes_form
    async def status_form(request: Request) -> Response:
        try:
            who, form = await require(hub, request, "editor", "recording a decision status")
            node, code = str(form.get("node", "")), str(form.get("status", ""))
            note = str(form.get("note", ""))[:2000]
            iri = await asyncio.get_running_loop().run_in_executor(None, propose, node, code, note, who)
            msg = f"draft saved: {code} for {node} ({iri})"
        except ChmError as e:
            msg = f"[{e.code}] {e.message}"
        return RedirectResponse("/tracking/changes?" + urlencode({"msg": msg}), status_code=303)

    @router.get("/tracking/changes", include_in_schema=False)
    def changes_page(request: Request, status: str = "draft", msg: str = "") -> Response:
        ident = identify_quietly(hub, request)
        if ident.who is None:
            return RedirectResponse("/login?" + urlencode({"next": "/tracking/changes"}), status_code=303)
        if not ident.who.can("editor"):
            return render(hub, request, "not_found.html", status=403,
                          message=f"{ident.who.name} has the {ident.who.role} role; recording statuses is for editors")
        if status not in ("draft", "published", "rejected"):
            status = "draft"
        items = list(reversed(tr.status_changes(hub.store, settings, status=status)))
        return render(hub, request, "tracking_changes.html", items=items, change_status=status, message=msg[:500],
                      can_publish=ident.who.can("publisher"), recorded={c.iri: status_word(c) for c in items})

    @router.post("/tracking/changes", include_in_schema=False)
    @closes_form
    async def changes_form(request: Request) -> Response:
        form: dict = {}
        try:
            who, form = await require(hub, request, "editor", "acting on status changes")
            action = str(form.get("action", ""))
            await asyncio.get_running_loop().run_in_executor(None, act, str(form.get("change", "")), action, who)
            msg = f"{action}: done"
        except ChmError as e:
            msg = f"[{e.code}] {e.message}"
        back = str(form.get("back", "draft"))
        return RedirectResponse("/tracking/changes?" + urlencode({"msg": msg, "status": back if back in ("draft", "published", "rejected") else "draft"}),
                                status_code=303)

    return router
