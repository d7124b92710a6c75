"""The hub's tagger behind Annif's REST API, so tools built for Annif can use it.

- ``GET /v1/`` — the API's title and version;
- ``GET /v1/projects``, ``GET /v1/projects/{id}`` — one project per language the tagger covers
  (``chm-en``, ``chm-fr``, ``chm-es``): the hub's vocabularies, re-scored by the trained model when
  there is one (``chmkg train-tagger``);
- ``POST /v1/projects/{id}/suggest`` — form fields ``text``, ``limit`` (10), ``threshold`` (0):
  ``{"results": [{"uri", "label", "notation", "score"}]}``;
- ``POST /v1/projects/{id}/suggest-batch`` — JSON ``{"documents": [{"text", "document_id"}]}`` (at
  most 32), ``limit`` and ``threshold`` as query parameters;
- ``POST /v1/projects/{id}/learn`` — JSON ``[{"text", "subjects": [{"uri", "label"}]}]`` (editors):
  the documents join the model's training set and the model is trained again; 204;
- ``POST /v1/detect-language`` — JSON ``{"text", "languages"}``.

Errors are RFC 9457 problem details with a ``detail``, as Annif answers them (404 for an unknown
project). Nothing here builds SPARQL: texts go to the tagger, subjects are checked against the
vocabulary the tagger loaded.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hub.service import Hub
from hub.web.deps import bounded_body, form_of, require
from hub.web.errors import NotFound
from ontology.errors import ChmError
from tagging.documents import LANGUAGES, DocumentTooLarge, detect_language

API_VERSION = "1.4"  # the Annif REST API version whose shapes these answers follow
BATCH_MAX = 32  # Annif's own limit of documents per suggest-batch call


class BadAnnifRequest(ChmError):
    code = "E641"
    http_status = 400


def _number(value, name: str, kind, default, low, high):
    if value is None or value == "":
        return default
    try:
        n = kind(value)
    except (TypeError, ValueError):
        raise BadAnnifRequest(f"{name} must be a number, not {str(value)[:40]!r}") from None
    if not low <= n <= high:
        raise BadAnnifRequest(f"{name} must be between {low} and {high}")
    return n


def build_annif_router(hub: Hub) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["Annif-compatible tagging"])
    text_limit = hub.settings.max_document_bytes
    learn_lock = threading.Lock()

    def model_info() -> tuple[str, str | None]:
        """(backend id, modification time) of the tagger the hub serves."""
        from tagging.model import current_model_path, models_dir

        path = current_model_path(models_dir(hub.settings.state_path))
        if path is None:
            return "chm-lexical", None
        return "chm-ensemble", datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")

    def project(lang: str) -> dict:
        backend, modified = model_info()
        return {"project_id": f"chm-{lang}", "name": f"CHM Knowledge Hub tagger ({lang})", "language": lang,
                "backend": {"backend_id": backend}, "is_trained": True, "modification_time": modified}

    def language_of(project_id: str) -> str:
        lang = project_id[4:] if project_id.startswith("chm-") else ""
        if lang not in LANGUAGES:
            raise NotFound(f"Project '{project_id[:80]}' not found")
        return lang

    def results(text: str, lang: str, limit: int, threshold: float) -> list[dict]:
        if len(text.encode("utf-8", "replace")) > text_limit:
            raise DocumentTooLarge(f"the text is over the limit of {text_limit:,} bytes")
        tagger, _resolver = hub.tagging()
        found = tagger.suggest(text, lang, limit=limit) if text.strip() else []
        return [{"uri": s.concept, "label": s.label, "notation": None, "score": s.score}
                for s in found if s.score >= threshold]

    @router.get("/", summary="The API's title and version")
    async def info() -> Response:
        return JSONResponse({"title": "CHM Knowledge Hub: Annif-compatible REST API", "version": API_VERSION})

    @router.get("/projects", summary="The tagging projects (one per language)")
    async def projects() -> Response:
        return JSONResponse({"projects": [project(lang) for lang in LANGUAGES]})

    @router.get("/projects/{project_id}", summary="One tagging project")
    async def get_project(project_id: str) -> Response:
        return JSONResponse(project(language_of(project_id)))

    @router.post("/projects/{project_id}/suggest", summary="Subjects for a text (form fields text, limit, threshold)")
    async def suggest(project_id: str, request: Request) -> Response:
        lang = language_of(project_id)
        form = await form_of(request, text_limit + 64_000, DocumentTooLarge)
        text = form.get("text")
        if not isinstance(text, str):
            raise BadAnnifRequest("send the text in the form field 'text'")
        limit = _number(form.get("limit"), "limit", int, 10, 1, 100)
        threshold = _number(form.get("threshold"), "threshold", float, 0.0, 0.0, 1.0)
        found = await asyncio.get_running_loop().run_in_executor(None, results, text, lang, limit, threshold)
        return JSONResponse({"results": found})

    @router.post("/projects/{project_id}/suggest-batch", summary="Subjects for up to 32 texts (JSON)")
    async def suggest_batch(project_id: str, request: Request, limit: str | None = None,
                            threshold: str | None = None) -> Response:
        lang = language_of(project_id)
        n = _number(limit, "limit", int, 10, 1, 100)
        t = _number(threshold, "threshold", float, 0.0, 0.0, 1.0)
        body = await bounded_body(request, text_limit + 64_000, DocumentTooLarge)
        try:
            docs = json.loads(body or b"null").get("documents")
        except (ValueError, AttributeError):
            docs = None
        if not isinstance(docs, list) or not all(isinstance(d, dict) and isinstance(d.get("text"), str) for d in docs):
            raise BadAnnifRequest('send JSON {"documents": [{"text": …, "document_id": …}, …]}')
        if len(docs) > BATCH_MAX:
            raise BadAnnifRequest(f"{len(docs)} documents; a batch holds at most {BATCH_MAX}")

        def run():
            return [{"document_id": d.get("document_id"), "results": results(d["text"], lang, n, t)} for d in docs]

        return JSONResponse(await asyncio.get_running_loop().run_in_executor(None, run))

    @router.post("/projects/{project_id}/learn", status_code=204,
                 summary="Train the tagger further on texts with their subjects (editors)")
    async def learn(project_id: str, request: Request) -> Response:
        lang = language_of(project_id)
        who, _form = await require(hub, request, "editor", "training the tagger", max_body=text_limit + 64_000,
                                   too_large=DocumentTooLarge)
        body = await bounded_body(request, text_limit + 64_000, DocumentTooLarge)
        try:
            docs = json.loads(body or b"null")
        except ValueError:
            docs = None
        if not isinstance(docs, list) or not docs or not all(
                isinstance(d, dict) and isinstance(d.get("text"), str) and isinstance(d.get("subjects"), list) for d in docs):
            raise BadAnnifRequest('send a JSON list [{"text": …, "subjects": [{"uri": …, "label": …}]}, …]')
        await asyncio.get_running_loop().run_in_executor(None, learn_documents, docs, lang, who.name)
        return Response(status_code=204)

    def learn_documents(docs: list[dict], lang: str, who: str) -> None:
        from hub.service import append_audit
        from ontology.iris import Minter
        from tagging.model import current_model_path, learn as learn_model, models_dir

        folder = models_dir(hub.settings.state_path)
        current = current_model_path(folder)
        graph = json.loads(current.read_text(encoding="utf-8"))["graph"] if current else \
            Minter(hub.settings.base).graph("thesaurus-informea")
        if graph not in hub.store.named_graphs():
            raise BadAnnifRequest(f"no vocabulary {graph} to learn with; import it first")
        from tagging.evaluation import read_gold

        dev = Path(hub.settings.shared_data, "gold-tagging", "informea-leo", "cbd_decisions_informea_tags.dev.json")
        base = read_gold(dev) if dev.is_file() else None
        with learn_lock:  # the next suggestion uses the new model: the hub's tagger follows the current model
            version = learn_model(hub.store, folder, graph, docs, lang, base, str(dev) if base else "")
        append_audit(hub.settings.audit_path, who, f"tagger trained on {len(docs)} more documents → model {version}", "done")

    @router.post("/detect-language", summary="The language of a text among candidates")
    async def detect(request: Request) -> Response:
        body = await bounded_body(request, text_limit + 64_000, DocumentTooLarge)
        try:
            data = json.loads(body or b"null")
            text, languages = data["text"], data["languages"]
        except (ValueError, KeyError, TypeError):
            raise BadAnnifRequest('send JSON {"text": …, "languages": ["en", …]}') from None
        if not isinstance(text, str) or not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            raise BadAnnifRequest("text is a string and languages a list of language codes")
        lang, prob = detect_language(text) if text.strip() else (None, 0.0)
        found = [{"language": x, "score": round(prob, 4) if x == lang else 0.0} for x in languages]
        found.sort(key=lambda r: -r["score"])
        if lang not in languages:
            found.append({"language": None, "score": round(prob, 4)})
        return JSONResponse({"results": found})

    return router


__all__ = ["build_annif_router"]
