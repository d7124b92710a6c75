"""The thesaurus editor: edit forms, drafts, publication, history, revert, export and spreadsheet import.

Editors save checked changes as drafts; publishers publish or reject them. HTML pages use the
browser session (CSRF on every form); ``/api/thesaurus/…`` does the same for token holders.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from hub.auth import Forbidden, Principal
from hub.web.i18n import LANGS as LANGS_UI
from hub.service import Hub
from hub.web.deps import closes_form, identify_quietly, require
from hub.web.render import lang_of, render
from hub.web.views.delta import delta_iris
from hub.web.views.resource import _labels
from writes.update import apply_update
from ontology import CHM
from ontology.errors import BadRequest, ChmError
from sparql import builder as bi
from sparql.protocol import serialize_graph
from thesaurus import editing as ed
from thesaurus import spreadsheet as sheet

CONCEPT_HISTORY = bi.prefixed("CONSTRUCT { ?c ?p ?o } WHERE { GRAPH ?h { ?c chm:changedConcept ?concept ; ?p ?o } }")

FIELDS = ("broader", "related", "exact", "close")


class NotAVocabulary(ChmError):
    code = "E705"
    http_status = 404


def build_editing_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    base = settings.base
    history = settings.graph(ed.HISTORY)
    prefix = settings.graph("thesaurus-")
    router = APIRouter()

    def write(update: str, who: Principal, what: str):
        return hub.write(lambda: apply_update(hub.store, update, settings.meta_graph, who=who.name), who.name, what)

    def edit_from_form(form: dict) -> ed.ConceptEdit:
        def lines(name: str) -> list[str]:
            return [x.strip() for x in str(form.get(name, "")).splitlines() if x.strip()]
        try:
            version = int(str(form.get("base_version", "")))
        except ValueError:
            raise ed.EditError("the form has no concept version; reload the concept") from None
        return ed.ConceptEdit(
            concept=str(form.get("concept", "")).strip(), base_version=version, scheme=str(form.get("scheme", "")).strip() or None,
            pref={lang: str(form.get(f"pref@{lang}", "")) for lang in LANGS_UI if f"pref@{lang}" in form},
            alt={lang: lines(f"alt@{lang}") for lang in LANGS_UI if f"alt@{lang}" in form},  # a language the form leaves out is left as it is
            definition={lang: str(form.get(f"definition@{lang}", "")) for lang in LANGS_UI if f"definition@{lang}" in form},
            scope_note={lang: str(form.get(f"scope_note@{lang}", "")) for lang in LANGS_UI if f"scope_note@{lang}" in form},
            broader=lines("broader"), related=lines("related"), exact=lines("exact"), close=lines("close"),
            deprecated=form.get("deprecated") in ("on", "true", True), replaced_by=str(form.get("replaced_by", "")),
            note=str(form.get("note", "")))

    def edit_from_json(body: dict) -> ed.ConceptEdit:
        if not isinstance(body, dict) or "concept" not in body or "base_version" not in body:
            raise ed.EditError("send JSON with 'concept', 'base_version' and the properties to set "
                               "(pref, alt, hidden, definition, broader, related, exact, close, deprecated, replaced_by, note)")
        known = set(ed.ConceptEdit.__dataclass_fields__)
        unknown = set(body) - known
        if unknown:
            raise ed.EditError(f"unknown field(s): {', '.join(sorted(unknown))}")
        try:
            return ed.ConceptEdit(**body)
        except TypeError as e:
            raise ed.EditError(f"malformed change: {e}") from None

    def propose(edit: ed.ConceptEdit, who: Principal) -> str:
        made: dict[str, str] = {}

        def make() -> str:  # checked again (version, rules) if another process commits first
            made["iri"], update = ed.propose(hub.store, edit, who.name, base, history, prefix)
            return update

        def run():
            apply_update(hub.store, make, settings.meta_graph, who=who.name)
            return made["iri"]
        return hub.write(run, who.name, f"draft change of <{edit.concept}>")

    def one(change: str) -> ed.Change:
        found = ed.changes(hub.store, history, change=change)
        if not found:
            raise ed.UnknownChange(f"no change <{change}>")
        return found[0]

    def act(change: str, action: str, who: Principal) -> str:
        if action in ("publish", "reject") and not who.can("publisher"):
            raise Forbidden(f"{who.name!r} has the {who.role} role; to {action} a change needs the publisher role")
        if action == "publish":
            def run():
                # the version check and the write are one unit: re-checked if another process commits first
                apply_update(hub.store, lambda: ed.publish_update(hub.store, one(change), who.name, history),
                             settings.meta_graph, who=who.name)
                return change
            return hub.write(run, who.name, f"publish <{change}>")
        if action == "reject":
            def run_reject():
                apply_update(hub.store, lambda: ed.reject_update(one(change), history, who.name), settings.meta_graph, who=who.name)
                return change
            return hub.write(run_reject, who.name, f"reject <{change}>")
        if action == "revert":
            def run_revert():
                made: dict[str, str] = {}

                def make() -> str:
                    made["iri"], update = ed.revert_draft(hub.store, one(change), who.name, base, history)
                    return update

                apply_update(hub.store, make, settings.meta_graph, who=who.name)
                return made["iri"]
            return hub.write(run_revert, who.name, f"revert <{change}> (as a draft)")
        raise ed.EditError(f"unknown action {action!r} (publish, reject or revert)")

    def vocab_graph(name: str) -> str:
        try:
            g = settings.graph(name)
        except ChmError:
            raise NotAVocabulary(f"{name!r} is not a vocabulary graph name") from None
        if not g.startswith(prefix) or not hub.store.graph_exists(g):
            raise NotAVocabulary(f"no vocabulary graph {name!r}; vocabularies are the thesaurus-* graphs")
        return g

    # -- HTML ---------------------------------------------------------------------------------
    def editor_or_login(request: Request, path: str) -> Principal | Response:
        ident = identify_quietly(hub, request)
        if ident.who is None:
            return RedirectResponse("/login?" + urlencode({"next": path}), status_code=303)
        if not ident.who.can("editor"):
            return render(hub, request, "not_found.html", status=403,
                          message=f"{ident.who.name} has the {ident.who.role} role; the thesaurus editor is for editors")
        return ident.who

    @router.get("/thesaurus-edit", include_in_schema=False)
    def edit_page(request: Request, concept: str = "", scheme: str = "") -> Response:
        who = editor_or_login(request, str(request.url.path) + "?" + str(request.url.query))
        if isinstance(who, Response):
            return who
        state = ed.concept_state(hub.store, concept, prefix, history) if concept else None
        return render(hub, request, "concept_edit.html", state=state, concept=concept, scheme=scheme, langs=LANGS_UI, problems=[])

    @router.post("/thesaurus-edit", include_in_schema=False)
    @closes_form
    async def edit_submit(request: Request) -> Response:
        try:
            who, form = await require(hub, request, "editor", "editing the thesaurus")
        except ChmError as e:
            return render(hub, request, "not_found.html", status=e.http_status, message=f"[{e.code}] {e.message}")
        try:
            edit = edit_from_form(form)
            iri = await asyncio.get_running_loop().run_in_executor(None, propose, edit, who)
        except (ed.EditError, ed.StaleVersion) as e:
            state = ed.concept_state(hub.store, str(form.get("concept", "")), prefix, history)
            return render(hub, request, "concept_edit.html", status=e.http_status, state=state, concept=str(form.get("concept", "")),
                          scheme=str(form.get("scheme", "")), langs=LANGS_UI, submitted=form,
                          problems=[f"[{e.code}] {e.message.splitlines()[0]}", *getattr(e, "problems", [])])
        return RedirectResponse("/thesaurus-changes?" + urlencode({"msg": f"draft saved: {iri}"}), status_code=303)

    @router.get("/thesaurus-changes", include_in_schema=False)
    def changes_page(request: Request, status: str = "draft", msg: str = "") -> Response:
        who = editor_or_login(request, "/thesaurus-changes")
        if isinstance(who, Response):
            return who
        items = ed.changes(hub.store, history, status=status)
        labels = _labels(hub.store, {c.concept for c in items} | delta_iris(items), lang_of(request)) if items else {}  # by label
        return render(hub, request, "changes.html", items=list(reversed(items)), change_status=status, message=msg, labels=labels,
                      can_publish=who.can("publisher"))

    @router.post("/thesaurus-changes", include_in_schema=False)
    @closes_form
    async def changes_action(request: Request) -> Response:
        form: dict = {}
        try:
            who, form = await require(hub, request, "editor", "acting on changes")
            await asyncio.get_running_loop().run_in_executor(None, act, str(form.get("change", "")), str(form.get("action", "")), who)
            msg = f"{form.get('action')}: done"
        except ChmError as e:
            msg = f"[{e.code}] {e.message}"
        return RedirectResponse("/thesaurus-changes?" + urlencode({"msg": msg, "status": str(form.get("back", "draft"))}), status_code=303)

    @router.get("/thesaurus-history", include_in_schema=False)
    def history_page(request: Request, concept: str) -> Response:
        ident = identify_quietly(hub, request)
        items = ed.changes(hub.store, history, concept=concept)
        labels = _labels(hub.store, {concept} | delta_iris(items), lang_of(request))  # the concept and the values by label
        return render(hub, request, "history.html", concept=concept, concept_label=labels.get(concept, concept), labels=labels,
                      items=list(reversed(items)),
                      can_revert=bool(ident.who and ident.who.can("editor")))

    # -- export / import ------------------------------------------------------------------------
    @router.get("/thesaurus-export/{name}.{ext}", summary="A vocabulary as SKOS (ttl, rdf) or a spreadsheet (csv, xlsx)")
    def export(name: str, ext: str) -> Response:
        g = vocab_graph(name)
        if ext in ("ttl", "rdf"):
            media = "text/turtle" if ext == "ttl" else "application/rdf+xml"
            body = serialize_graph(ox.parse(hub.store.dump(g, ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES), media, {"skos": "http://www.w3.org/2004/02/skos/core#"})
            return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'})
        columns, rows = sheet.export_table(hub.store, g)
        if ext == "csv":
            return Response(sheet.to_csv(columns, rows), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        if ext == "xlsx":
            return Response(sheet.to_xlsx(columns, rows), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
        raise NotAVocabulary(f"unknown export format {ext!r} (ttl, rdf, csv, xlsx)")

    @router.post("/api/thesaurus/import", summary="Import an edited spreadsheet: a report, and drafts when apply=true and every row passes")
    @closes_form
    async def import_sheet(request: Request, graph: str, apply: bool = False, scheme: str | None = None) -> Response:
        who, form = await require(hub, request, "editor", "importing a spreadsheet")
        vocab_graph(graph)
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise sheet.SheetError("send the CSV or XLSX file in the multipart field 'file'")
        data = await item.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise sheet.SheetError(f"the file is over {settings.max_upload_bytes:,} bytes")

        def run():
            header, rows = sheet.read_sheet(data, item.filename or "sheet")
            report = sheet.import_report(hub.store, header, rows, history, prefix, scheme)
            drafts = []
            if apply and report.ok and report.edits:
                for edit in report.edits:
                    drafts.append(propose(edit, who))
            return report, drafts

        report, drafts = await asyncio.get_running_loop().run_in_executor(None, run)
        body = {**report.to_dict(), "applied": bool(drafts), "drafts": drafts}
        return JSONResponse(body, status_code=200 if report.ok else 422)

    # -- quality report ----------------------------------------------------------------------------
    def quality(name: str | None):
        from thesaurus.quality import check_stored

        graphs = [vocab_graph(name)] if name else [g for g in hub.store.named_graphs()
                                                  if g.startswith(prefix) and not g.endswith(("-mappings", "-suggestions"))]
        return hub.derived(f"quality:{','.join(graphs)}", lambda: [check_stored(hub.store, g) for g in graphs])

    @router.get("/thesaurus-quality", include_in_schema=False)
    def quality_page(request: Request, graph: str | None = None) -> Response:
        reports = quality(graph)
        shown = {f.concept for r in reports for res in r.results for f in res.findings[:3]}
        labels = _labels(hub.store, shown, lang_of(request)) if shown else {}  # examples by label, not by IRI
        return render(hub, request, "quality.html", reports=reports, labels=labels)

    @router.get("/api/thesaurus/quality", summary="The qSKOS-style quality report of the vocabularies (recomputed after each write)")
    def quality_api(graph: str | None = None, limit: int = 20) -> JSONResponse:
        return JSONResponse([r.to_dict(limit=max(0, min(limit, 1000))) for r in quality(graph)])

    # -- API --------------------------------------------------------------------------------------
    @router.get("/api/thesaurus/concept", summary="A concept's editable state and version")
    def concept_api(iri: str) -> JSONResponse:
        return JSONResponse(ed.concept_state(hub.store, iri, prefix, history))

    @router.post("/api/thesaurus/changes", status_code=201, summary="Propose a checked change (saved as a draft)")
    async def change_api(request: Request) -> JSONResponse:
        who, _form = await require(hub, request, "editor", "editing the thesaurus")
        try:
            body = await request.json()
        except ValueError:
            raise ed.EditError("the body must be JSON") from None
        iri = await asyncio.get_running_loop().run_in_executor(None, propose, edit_from_json(body), who)
        return JSONResponse({"change": iri, "status": "draft"}, status_code=201, headers={"Location": iri})

    @router.get("/api/thesaurus/changes", summary="Changes by status or concept")
    def changes_api(status: str | None = None, concept: str | None = None) -> JSONResponse:
        return JSONResponse([c.to_dict() for c in ed.changes(hub.store, history, concept=concept, status=status)])

    @router.post("/api/thesaurus/changes/{action}", summary="publish or reject a draft (publishers), revert a published change")
    async def change_action_api(request: Request, action: str) -> JSONResponse:
        who, _form = await require(hub, request, "editor", "acting on changes")
        try:
            body = await request.json()
        except ValueError:
            raise ed.EditError("send JSON {\"change\": IRI}") from None
        if not isinstance(body, dict) or not isinstance(body.get("change"), str):
            raise BadRequest("send a JSON object {\"change\": IRI} naming the change")
        iri = await asyncio.get_running_loop().run_in_executor(None, act, str(body.get("change", "")), action, who)
        return JSONResponse({"change": iri, "action": action})

    @router.get("/api/thesaurus/history", summary="A concept's history as PROV (Turtle) or JSON")
    def history_api(request: Request, concept: str, format: str = "ttl") -> Response:
        if format == "json":
            return JSONResponse([c.to_dict() for c in ed.changes(hub.store, history, concept=concept)])
        data = hub.store.construct(CONCEPT_HISTORY, {"h": bi.iri(history), "concept": bi.iri(ed._iri(concept, "concept"), "concept")},
                                   union=False)
        return Response(serialize_graph(ox.parse(data, ox.RdfFormat.N_TRIPLES), "text/turtle", {"chm": CHM.ns, "prov": "http://www.w3.org/ns/prov#"}),
                        media_type="text/turtle")

    return router

