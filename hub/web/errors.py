"""One error model for the whole web layer.

Every error the hub reports is a :class:`ontology.errors.ChmError` with a stable code. API clients
get RFC 9457 ``application/problem+json`` (``type``, ``title``, ``status``, ``detail`` and the hub's
``code``); a browser asking for a page gets the same status with an HTML page naming the problem.
The CLI prints the same codes (``Error [E302]: …``). FastAPI's own errors (an unknown route, a
missing or mistyped parameter) are mapped into the same model.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ontology.errors import BadRequest, ChmError, ShapeViolation


class NotFound(ChmError):
    code = "E310"
    http_status = 404


class MethodNotAllowed(ChmError):
    code = "E311"
    http_status = 405


def problem(e: ChmError, extra: dict | None = None) -> JSONResponse:
    """RFC 9457 problem details for an API client."""
    body = {"type": "about:blank", "title": type(e).__name__, "status": e.http_status, "detail": e.message, "code": e.code}
    if isinstance(e, ShapeViolation):
        body["report"] = e.report.to_dict()
    if extra:
        body.update(extra)
    headers = {"Retry-After": "1"} if e.http_status == 503 else None
    return JSONResponse(body, status_code=e.http_status, media_type="application/problem+json", headers=headers)


def wants_page(request: Request) -> bool:
    """A browser navigating (HTML first in Accept, a GET), not an API client or a script."""
    accept = request.headers.get("accept", "")
    return request.method in ("GET", "HEAD") and accept.startswith(("text/html", "application/xhtml+xml"))


def error_page(request: Request, e: ChmError) -> Response:
    from hub.web.render import render

    hub = request.app.state.hub
    return render(hub, request, "error.html", status=e.http_status, title=type(e).__name__, message=e.message, code=e.code)


def respond(request: Request, e: ChmError) -> Response:
    return error_page(request, e) if wants_page(request) else problem(e)


def _from_http(exc: StarletteHTTPException) -> ChmError:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404:
        return NotFound(detail if detail != "Not Found" else "no such page or API route")
    if exc.status_code == 405:
        return MethodNotAllowed(detail)
    err = ChmError(detail)
    err.http_status = exc.status_code
    err.code = "E306" if exc.status_code == 400 else "E000"
    return err


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one model."""

    @app.exception_handler(ChmError)
    async def chm_error(request: Request, e: ChmError) -> Response:
        return respond(request, e)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = respond(request, _from_http(exc))
        for k, v in (exc.headers or {}).items():
            response.headers[k] = v
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for item in exc.errors():
            where = ".".join(str(x) for x in item.get("loc", ()) if x not in ("query", "body", "path"))
            parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else item.get("msg", "invalid"))
        return respond(request, BadRequest("the request is not valid: " + "; ".join(parts)))
