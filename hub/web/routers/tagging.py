"""Document submission, tagging and the editors' review queue: HTML forms and a JSON API.

- ``GET/POST /submit`` — the form (logged-in users); ``POST /api/documents`` — the API (token or
  session): the file is read, tagged, its references resolved, and the record committed through the
  shapes (201 + Location); ``?dry_run=true`` answers the analysis without storing anything.
- ``POST /api/tag`` — analysis only, for anyone (nothing stored).
- ``GET /review`` — the queue (editors); ``POST /review`` accept/reject/add; ``GET/POST /api/review``.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from hub.service import Hub
from hub.web.deps import closes_form, form_of, identify_quietly, require
from hub.web.render import render
from writes.update import apply_update
from ontology.errors import ChmError
from ontology.iris import Minter
from tagging.documents import DocumentTooLarge, extract
from tagging.review import ReviewError, add_subject_update, batch_review_update, pending_of, review_queue
from tagging.submission import AlreadySubmitted, analyse, submission_update


class BadSubmission(ChmError):
    code = "E609"
    http_status = 400


def build_tagging_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    minter = Minter(settings.base)
    router = APIRouter()
    limit = settings.max_document_bytes

    def doc_too_large(message: str) -> DocumentTooLarge:
        return DocumentTooLarge(f"documents are limited to {limit:,} bytes; {message}")

    async def upload(request: Request, form: dict) -> tuple[bytes, str, str | None]:
        """The submitted file's bytes, name and media type, from a multipart form or a raw body."""
        declared = int(request.headers.get("content-length") or 0)
        if declared > limit + 64_000:
            raise DocumentTooLarge(f"the request is {declared:,} bytes; documents are limited to {limit:,} bytes")
        if form:
            item = form.get("file")
            if not isinstance(item, UploadFile):
                raise BadSubmission("the form has no file; send it in the field 'file'")
            data = await item.read(limit + 1)
            return data, item.filename or "document", item.content_type
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                break
        name = request.query_params.get("filename") or "document"
        return bytes(data), name, request.headers.get("content-type")

    def run_analysis(data: bytes, name: str, media: str | None, language: str | None):
        doc = extract(data, name, media, language or None, max_bytes=limit)
        tagger, resolver = hub.tagging()
        return analyse(doc, tagger, resolver, data=data)

    def commit(analysis, submitter: str):
        graphs = submission_update(analysis, minter, submitter)

        def checked() -> str:  # the duplicate check is re-run with the validation if another process commits first
            if hub.store.graph_exists(graphs.record_graph):
                raise AlreadySubmitted(f"this document was already submitted: <{graphs.record}>")
            return graphs.update

        def write():
            return apply_update(hub.store, checked, settings.meta_graph, who=submitter)

        hub.write(write, submitter, f"submit document {analysis.document.filename!r} → <{graphs.record}>")
        return graphs

    async def submit_common(request: Request, form: dict, submitter: str | None, dry_run: bool):
        data, name, media = await upload(request, form)
        language = str(form.get("language") or request.query_params.get("language") or "") or None
        if language == "auto":
            language = None
        loop = asyncio.get_running_loop()
        analysis = await loop.run_in_executor(None, run_analysis, data, name, media, language)
        graphs = None if dry_run or submitter is None else await loop.run_in_executor(None, commit, analysis, submitter)
        return analysis, graphs

    # -- HTML ---------------------------------------------------------------------------------
    @router.get("/submit", include_in_schema=False)
    def submit_form(request: Request) -> Response:
        return render(hub, request, "submit.html", limit=limit, result=None, error="")

    @router.post("/submit", include_in_schema=False)
    @closes_form
    async def submit_page(request: Request) -> Response:
        try:
            who, form = await require(hub, request, "reader", "submitting a document", max_body=limit + 64_000, too_large=doc_too_large)
            analysis, graphs = await submit_common(request, form, who.name, dry_run=False)
        except ChmError as e:
            status = e.http_status if e.http_status < 500 else 400
            return render(hub, request, "submit.html", status=status, limit=limit, result=None, error=f"[{e.code}] {e.message}")
        return render(hub, request, "submit.html", status=201, limit=limit, result=analysis.to_dict(), record=graphs.record, error="")

    @router.get("/review", include_in_schema=False)
    def review_page(request: Request, status: str = "pending") -> Response:
        ident = identify_quietly(hub, request)
        if ident.who is None or not ident.who.can("editor"):
            return RedirectResponse("/login?next=/review", status_code=303) if ident.who is None else render(
                hub, request, "not_found.html", status=403, message=f"{ident.who.name} has the {ident.who.role} role; the review queue is for editors")
        items = review_queue(hub.store, status)
        records: dict[str, dict] = {}
        for item in items:
            records.setdefault(item["record"], {"record": item["record"], "title": item["title"], "items": []})["items"].append(item)
        return render(hub, request, "review.html", records=list(records.values()), queue_status=status, message=request.query_params.get("msg", ""))

    @router.post("/review", include_in_schema=False)
    @closes_form
    async def review_form(request: Request) -> Response:
        try:
            who, form = await require(hub, request, "editor", "reviewing suggestions")
            form["selected"] = (await request.form()).getlist("selected")
            _result, reviewed = await asyncio.get_running_loop().run_in_executor(None, review_action, form, who.name)
            msg = f"saved ({reviewed} reviewed)" if reviewed > 1 else "saved"
        except ChmError as e:
            msg = f"[{e.code}] {e.message}"
            if e.http_status in (401, 403) and e.code != "E503":
                return render(hub, request, "not_found.html", status=403 if e.http_status == 403 else e.http_status, message=msg)
        return RedirectResponse("/review?" + urlencode({"msg": msg}), status_code=303)

    def review_items(form: dict) -> list[tuple[str, str]]:
        """(suggestion, action) pairs from any of the request shapes (see review_api's summary)."""
        act = str(form.get("act", ""))
        if act:  # the page's buttons: "accept|<suggestion>", "reject-selected", "accept-record|<record>"
            verb, _, target = act.partition("|")
            action = verb.split("-")[0]
            if verb.endswith("-selected"):
                return [(str(x), action) for x in form.get("selected") or []]
            if verb.endswith("-record"):
                return [(x, action) for x in pending_of(hub.store, target)]
            return [(target, action)]
        if isinstance(form.get("actions"), list):
            return [(str(a.get("suggestion", "")), str(a.get("action", ""))) for a in form["actions"] if isinstance(a, dict)]
        action = str(form.get("action", ""))
        if isinstance(form.get("suggestions"), list):
            return [(str(x), action) for x in form["suggestions"]]
        if form.get("record") and action in ("accept", "reject"):
            return [(x, action) for x in pending_of(hub.store, str(form["record"]))]
        return [(str(form.get("suggestion", "")), action)]

    def review_action(form: dict, reviewer: str):
        action = str(form.get("action", ""))
        if action == "add":
            record, concept = str(form.get("record", "")), str(form.get("concept", "")).strip()
            if not concept.startswith(("http://", "https://")):
                raise ReviewError("give the concept's IRI (the thesaurus browser shows it on each concept page)")
            return hub.write(lambda: apply_update(hub.store, lambda: add_subject_update(hub.store, record, concept),
                                                  settings.meta_graph, who=reviewer), reviewer, f"add subject {concept} to {record}"), 0
        items = review_items(form)
        if not items:
            raise ReviewError("nothing selected to review")
        what = (f"{items[0][1]} suggestion {items[0][0]}" if len(items) == 1
                else f"review {len(items)} suggestions ({', '.join(sorted({a for _s, a in items}))})")
        return hub.write(lambda: apply_update(hub.store, lambda: batch_review_update(hub.store, items, reviewer),
                                              settings.meta_graph, who=reviewer), reviewer, what), len(items)

    # -- API ----------------------------------------------------------------------------------
    @router.post("/api/documents", status_code=201, summary="Submit a document: tag it, resolve its references, store it as a record")
    @closes_form
    async def submit_api(request: Request, dry_run: bool = False, language: str | None = None) -> Response:
        who, form = await require(hub, request, "reader", "submitting a document", max_body=limit + 64_000, too_large=doc_too_large)
        analysis, graphs = await submit_common(request, form, who.name, dry_run)
        body = analysis.to_dict()
        if graphs is None:
            return JSONResponse(body, status_code=200)
        body.update(record=graphs.record, graphs=[graphs.record_graph, graphs.suggestions_graph])
        return JSONResponse(body, status_code=201, headers={"Location": graphs.record})

    @router.post("/api/tag", summary="Tag a document and extract its references (nothing is stored)")
    @closes_form
    async def tag_api(request: Request, language: str | None = None) -> Response:
        form = await form_of(request, limit + 64_000, doc_too_large)
        analysis, _ = await submit_common(request, form, None, dry_run=True)
        return JSONResponse(analysis.to_dict())

    @router.get("/api/review", summary="The review queue")
    async def review_list(request: Request, status: str = "pending") -> Response:
        await require(hub, request, "editor", "the review queue")
        return JSONResponse(review_queue(hub.store, status))

    @router.post("/api/review", summary="Accept or reject suggestions (one, several, a record's, or a list of "
                 "actions, in one commit), or add a subject")
    @closes_form
    async def review_api(request: Request) -> Response:
        who, form = await require(hub, request, "editor", "reviewing suggestions")
        if not form:
            try:
                form = await request.json()
            except ValueError:
                raise BadSubmission("send JSON {\"action\": \"accept\"|\"reject\", \"suggestion\": …} (or \"suggestions\": […], "
                                    "or \"record\": …), {\"actions\": [{\"action\", \"suggestion\"}, …]}, or "
                                    "{\"action\": \"add\", \"record\", \"concept\"}") from None
            if not isinstance(form, dict):
                raise BadSubmission("the body must be a JSON object")
        result, reviewed = await asyncio.get_running_loop().run_in_executor(None, review_action, form, who.name)
        return JSONResponse({"status": "committed", "added": result.added, "removed": result.removed, "reviewed": reviewed})

    return router
