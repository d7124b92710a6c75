"""Request dependencies: the hub, who is asking (token or session), the role a route needs, CSRF.

Routes take them with ``Depends``: ``hub: Hub = Depends(get_hub)``, ``ident: Identity = Depends(identity)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from hub.accounts import COOKIE, check_csrf, require_role
from hub.auth import Principal, credentials
from hub.service import Hub
from ontology.errors import ChmError, TooLarge

def get_hub(request: Request) -> Hub:
    """The hub this app serves (set once by :func:`hub.web.app.create_app`)."""
    return request.app.state.hub


def identity(request: Request) -> "Identity":
    """The caller, anonymous when a token or session does not verify (pages show them anonymously)."""
    return identify_quietly(get_hub(request), request)


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


async def bounded_body(request: Request, limit: int, too_large: Callable[[str], ChmError] = TooLarge) -> bytes:
    """The request body, measured while it streams: past ``limit`` bytes reading stops with 413.

    The body is kept on the request, so ``request.form()`` and ``request.json()`` parse it after.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(f"the request is {int(declared):,} bytes; the limit is {limit:,} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_large(f"the request is more than {limit:,} bytes (the limit); reading stopped there")
    request._body = bytes(data)  # starlette reads a consumed stream from here
    return request._body


async def form_of(request: Request, limit: int, too_large: Callable[[str], ChmError] = TooLarge) -> dict:
    """The form fields of a form request (a bounded body), else {}."""
    if not request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return {}
    await bounded_body(request, limit, too_large)
    return dict(await request.form())


async def require(hub: Hub, request: Request, role: str, what: str, *, max_body: int | None = None,
                  too_large: Callable[[str], ChmError] = TooLarge) -> tuple[Principal, dict]:
    """The caller, with the role; for a browser session the form's CSRF token is checked too.

    Returns the principal and the submitted form fields (empty for API calls with a JSON body).
    """
    ident = identify(hub, request)
    who = require_role(ident.who, role, what)
    form = await form_of(request, max_body or hub.settings.max_upload_bytes, too_large)
    if ident.via == "session":
        check_csrf(ident.csrf or "", form.get("csrf") or request.headers.get("x-csrf-token"))
    return who, form


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


def closes_form(fn):
    """Close the request's parsed form (its spooled upload files) when the handler is done."""
    @functools.wraps(fn)
    async def wrapper(request: Request, *args, **kwargs):
        try:
            return await fn(request, *args, **kwargs)
        finally:
            await request.close()
    return wrapper
