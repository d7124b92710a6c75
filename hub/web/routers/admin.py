"""Administration over HTTP: an online backup of a running hub, and the page about security defaults."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hub.harvesting import harvest_status
from hub.web.middleware import CSP
from hub.service import Hub
from hub.web.deps import require
from hub.web.render import render
from writes.backup import backup


def build_admin_router(hub: Hub) -> APIRouter:
    router = APIRouter()
    settings = hub.settings

    @router.post("/admin/backup", summary="Back up the whole dataset while the hub serves (admin)")
    async def admin_backup(request: Request) -> JSONResponse:
        who, _form = await require(hub, request, "admin", "a backup")
        folder = settings.backups_path / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        manifest = await asyncio.get_running_loop().run_in_executor(None, backup, hub.store, folder)
        hub.audit(who.name, f"backup → {folder}", "done", f"{manifest.quads} quads, sha256 {manifest.sha256}")
        return JSONResponse({"folder": str(folder), **asdict(manifest)}, status_code=201)

    @router.get("/admin/harvests", include_in_schema=False)
    async def harvests_page(request: Request) -> Response:
        await require(hub, request, "editor", "the harvest report")
        status = harvest_status(settings)
        scheduler = getattr(request.app.state, "scheduler", None)
        return render(hub, request, "harvests.html", harvest=status, schedule=scheduler.status() if scheduler else {})

    @router.get("/api/harvests", summary="Harvest runs, records per source and the quarantine (editor)")
    async def harvests_api(request: Request) -> JSONResponse:
        await require(hub, request, "editor", "the harvest report")
        scheduler = getattr(request.app.state, "scheduler", None)
        return JSONResponse({**harvest_status(settings), "schedule": scheduler.status() if scheduler else {}})

    @router.get("/about/security", include_in_schema=False)
    def security_page(request: Request) -> Response:
        facts = [
            ("Binding", f"the hub binds to {settings.host} unless told otherwise (setting host)"),
            ("Accounts", "no default account or password: the first admin is made with `chmkg user create NAME --role admin`"),
            ("Passwords", "hashed with Argon2id (argon2-cffi); never stored or logged in clear"),
            ("API tokens", "256-bit random secrets, stored as SHA-256 hashes, with an expiry; roles reader, editor, publisher, admin"),
            ("Sessions", f"signed cookies (HttpOnly, SameSite=Strict{', Secure' if hub.sessions.secure else ''}), {settings.session_max_age // 3600} h; "
                         "they end when the password changes or the account is disabled"),
            ("Forms", "every form that changes something carries a CSRF token tied to the session"),
            ("Headers", f"Content-Security-Policy: {CSP}; X-Frame-Options: DENY; X-Content-Type-Options: nosniff; "
                        "Referrer-Policy: strict-origin-when-cross-origin"),
            ("Limits", f"{settings.rate_limit:g} requests/s per client (burst {settings.rate_burst}), query timeout {settings.query_timeout:g} s, "
                       f"{settings.row_cap:,} rows for anonymous clients, uploads ≤ {settings.max_upload_bytes:,} bytes, documents ≤ "
                       f"{settings.max_document_bytes:,} bytes"),
            ("Federation", "SERVICE is refused unless its endpoint is on the allow-list (setting service_allow); never the hub itself"),
            ("Writes", "every write is validated against the shapes before it commits, and logged in the audit log (who, when, what)"),
        ]
        return render(hub, request, "security.html", facts=facts)

    return router
