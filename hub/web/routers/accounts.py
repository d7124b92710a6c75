"""Log in and out of a browser session (the accounts themselves are made with ``chmkg user``)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hub.accounts import COOKIE, check_csrf
from hub.auth import Unauthorized
from hub.service import Hub
from hub.web.deps import identify_quietly
from hub.web.render import render


def _safe_next(target: str | None) -> str:
    """Only same-site paths: no open redirect through ?next=."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


def build_accounts_router(hub: Hub) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request, next: str = "/") -> Response:  # noqa: A002
        return render(hub, request, "login.html", next=_safe_next(next), error="")

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
        target = _safe_next(str(form.get("next", "/")))
        try:
            who = await asyncio.get_running_loop().run_in_executor(None, hub.accounts.verify, name, password)
        except Unauthorized as e:
            hub.audit(name, "login", "refused", e.message)
            return render(hub, request, "login.html", status=401, next=target, error=e.message)
        value, _csrf = hub.sessions.issue(who)
        hub.audit(who.name, "login", "done")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, value, max_age=hub.settings.session_max_age, httponly=True, samesite="strict",
                            secure=hub.sessions.secure, path="/")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        ident = identify_quietly(hub, request)
        if ident.via == "session":
            form = await request.form()
            check_csrf(ident.csrf or "", str(form.get("csrf", "")))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    return router
