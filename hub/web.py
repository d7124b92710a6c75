"""What the HTML front doors share: who is asking (token or session), CSRF, and page rendering."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub import i18n
from hub.accounts import COOKIE, check_csrf, require_role
from hub.auth import Principal, credentials
from hub.service import Hub
from ontology.errors import ChmError

env = Environment(loader=FileSystemLoader(str(files("hub").joinpath("templates"))), autoescape=select_autoescape(["html", "xml"]))


@dataclass(frozen=True)
class Identity:
    who: Principal | None
    csrf: str | None  # the session's CSRF token; None for API tokens and anonymous requests
    via: str  # "token", "session" or "anonymous"


def identify(hub: Hub, request: Request) -> Identity:
    secret = credentials(request.headers.get("authorization"))
    if secret:
        return Identity(hub.tokens.verify(secret), None, "token")
    session = hub.sessions.read(request.cookies.get(COOKIE))
    if session:
        return Identity(session[0], session[1], "session")
    return Identity(None, None, "anonymous")


async def require(hub: Hub, request: Request, role: str, what: str) -> tuple[Principal, dict]:
    """The caller, with the role; for a browser session the form's CSRF token is checked too.

    Returns the principal and the submitted form fields (empty for API calls with a JSON body).
    """
    ident = identify(hub, request)
    who = require_role(ident.who, role, what)
    form: dict = {}
    if request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = dict(await request.form())
    if ident.via == "session":
        check_csrf(ident.csrf or "", form.get("csrf") or request.headers.get("x-csrf-token"))
    return who, form


def lang_of(request: Request) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get("lang"), request.headers.get("accept-language"))


def render(hub: Hub, request: Request, template: str, status: int = 200, *, cache: str = "no-store", **ctx) -> Response:
    """The one page render: every template gets the language, the user and the session's CSRF token."""
    lang = lang_of(request)
    ident = identify_quietly(hub, request)
    switch = {code: request.url.path + "?" + urlencode({**dict(request.query_params), "lang": code}) for code in i18n.LANGS}
    html = env.get_template(template).render(t=i18n.UI[lang], lang=lang, switch=switch, user=ident.who, csrf=ident.csrf or "",
                                             href=lambda iri: local_href(hub, iri), **ctx)
    response = Response(html, status_code=status, media_type="text/html; charset=utf-8",
                        headers={"Vary": "Accept, Accept-Language, Cookie", "Content-Language": lang, "Cache-Control": cache})
    if request.query_params.get("lang") in i18n.LANGS:
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
    return response


def is_anonymous(hub: Hub, request: Request) -> bool:
    """No valid token or session: the page is the same for every such caller (and may be cached)."""
    return identify_quietly(hub, request).who is None


def verified_name(hub: Hub, scope) -> str | None:
    """The verified token or session name of a raw ASGI request (for rate limits), else None."""
    from starlette.requests import HTTPConnection

    conn = HTTPConnection(scope)
    try:
        secret = credentials(conn.headers.get("authorization"))
        if secret:
            return "token:" + hub.tokens.verify(secret).name
        session = hub.sessions.read(conn.cookies.get(COOKIE))
    except ChmError:
        return None
    return "user:" + session[0].name if session else None


def identify_quietly(hub: Hub, request: Request) -> Identity:
    try:
        return identify(hub, request)
    except ChmError:  # a bad or expired token on a page view: show the page anonymously
        return Identity(None, None, "anonymous")


def local_href(hub: Hub, iri: str) -> str:
    base = hub.settings.base
    if iri.startswith(base):
        return "/" + iri[len(base):] + ".html"
    return "/resource?" + urlencode({"iri": iri})


def closes_form(fn):
    """Close the request's parsed form (its spooled upload files) when the handler is done."""
    @functools.wraps(fn)
    async def wrapper(request: Request, *args, **kwargs):
        try:
            return await fn(request, *args, **kwargs)
        finally:
            await request.close()
    return wrapper
