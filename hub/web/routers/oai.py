"""OAI-PMH 2.0 at ``/oai`` (GET and form-encoded POST, as the protocol allows): see :mod:`hub.oai`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.oai import OaiIndex, Provider, shared_index
from hub.service import Hub
from hub.web.deps import form_of


def build_oai_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    router = APIRouter()
    provider = Provider(hub.store, settings.base, settings.meta_graph, settings.admin_email)

    def index() -> OaiIndex:
        return shared_index(hub)

    def answer(params: list[tuple[str, str]]) -> Response:
        return Response(provider.respond(index(), params), media_type="text/xml; charset=utf-8")

    @router.get("/oai", summary="OAI-PMH 2.0: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord")
    def oai_get(request: Request) -> Response:
        return answer(list(request.query_params.multi_items()))

    @router.post("/oai", include_in_schema=False)
    async def oai_post(request: Request) -> Response:
        await form_of(request, 100_000)
        form = await request.form()
        return answer([(k, str(v)) for k, v in form.multi_items()])

    return router
