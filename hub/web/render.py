"""The one page render: one template environment; every page gets the language, the user and the
session's CSRF token, whichever router renders it."""

from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.service import Hub
from hub.web import i18n
from hub.web.deps import identify_quietly
from hub.web.views.delta import delta_rows

env = Environment(loader=FileSystemLoader(str(files("hub.web").joinpath("templates"))), autoescape=select_autoescape(["html", "xml"]))
env.globals["delta_rows"] = delta_rows  # a thesaurus change as rows (history and changes pages)


def lang_of(request: Request) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language"))


def render(hub: Hub, request: Request, template: str, status: int = 200, *, cache: str = "no-store", **ctx) -> Response:
    """The one page render: every template gets the language, the user and the session's CSRF token."""
    lang = lang_of(request)
    ident = identify_quietly(hub, request)
    switch = {code: request.url.path + "?" + urlencode({**dict(request.query_params), "lang": code}) for code in i18n.LANGS}
    html = env.get_template(template).render(t=i18n.UI[lang], lang=lang, dir=i18n.direction(lang), lang_names=i18n.LANG_NAMES, switch=switch, user=ident.who, csrf=ident.csrf or "",
                                             href=lambda iri: local_href(hub, iri), **ctx)
    response = Response(html, status_code=status, media_type="text/html; charset=utf-8",
                        headers={"Vary": "Accept, Accept-Language, Cookie", "Content-Language": lang, "Cache-Control": cache})
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def is_anonymous(hub: Hub, request: Request) -> bool:
    """No valid token or session: the page is the same for every such caller (and may be cached)."""
    return identify_quietly(hub, request).who is None


def local_href(hub: Hub, iri: str) -> str:
    base = hub.settings.base
    if iri.startswith(base):
        return "/" + iri[len(base):] + ".html"
    return "/resource?" + urlencode({"iri": iri})
