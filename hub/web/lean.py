"""uvicorn's HTTP/1.1 protocol (httptools) with the SPARQL fast path at the transport.

A plain read on ``GET /sparql`` that the fast path answers without waiting — a cached answer, a
bound-subject lookup, a query seen to be quick (:class:`CachedQueries`) — is answered as its headers
arrive: no ASGI task, no ASGI messages, no middleware. That halves what a lookup costs around the
engine's own work (bench/endpoint.py; the figures are in the README). Everything else goes on through
uvicorn to the app as before, and so does any read the fast path would wait for (the query workers,
a generation sync, a 429): the scope carries what was already done (the rate limiter's count; a
request found to be the route's), so nothing is counted or run twice.

The shortcut is taken only where uvicorn would send the same bytes: HTTP/1.1 with keep-alive, no
request in flight or queued on the connection, the transport not paused, no root path, no
concurrency limit, and no header a middleware reads first (``Origin`` for CORS; ``Forwarded`` and
``X-Forwarded-*`` for the proxy headers). It writes uvicorn's default headers (``date``, ``server``)
and its access-log line, and arms the keep-alive timeout as uvicorn does.
"""

from __future__ import annotations

import functools
import logging

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from hub.web.routers.sparql import TRIED, CachedQueries, answer_headers

log = logging.getLogger(__name__)
# headers a middleware in front of the app reads first: such a request takes the whole way
MIDDLEWARE_HEADERS = (b"origin", b"forwarded", b"x-forwarded-for", b"x-forwarded-proto")


def fast_path_of(app) -> CachedQueries | None:
    """The hub's fast path behind uvicorn's wrappers (the proxy-headers middleware and the like)."""
    for _ in range(8):
        fast = getattr(app, "fast", None)
        if isinstance(fast, CachedQueries):
            return fast
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


@functools.lru_cache(maxsize=64)
def _head(ctype: str, extra: tuple, cached: bool) -> bytes:
    """An answer's headers but its length, as the ASGI fast path sends them."""
    headers = answer_headers(b"", ctype, dict(extra), cached)
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers if name != b"content-length")


class LeanHttp(HttpToolsProtocol):
    """``uvicorn.Config(http=LeanHttp)``: see the module's description."""

    answered = 0  # requests this process answered at the transport (the tests read it)
    _defaults: tuple[list | None, bytes] = (None, b"")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._fast = fast_path_of(self.app)
        self._fast_prefix = (self._fast.path + "?").encode() if self._fast is not None else b""
        self._answered_here = False

    def on_headers_complete(self) -> None:
        self._answered_here = False
        if self._fast is not None and self.url.startswith(self._fast_prefix):
            try:
                response = self._answer_now()
            except Exception:  # noqa: BLE001 - a fault here must not lose the request: uvicorn answers it
                log.exception("the lean SPARQL path failed; the request goes on to the route")
                self.scope[TRIED] = True
                response = None
            if response is not None:
                self._answered_here = True
                self.transport.write(response)
                LeanHttp.answered += 1
                self.on_response_complete()  # keep-alive timeout, pipelined requests, request count
                return
        super().on_headers_complete()

    def _answer_now(self) -> bytes | None:
        parser, fast = self.parser, self._fast
        if (parser.get_method() != b"GET" or parser.get_http_version() != "1.1" or not parser.should_keep_alive()
                or parser.should_upgrade() or self.root_path or self.limit_concurrency is not None):
            return None
        if (self.cycle is not None and not self.cycle.response_complete) or self.pipeline or self.flow.write_paused:
            return None
        query_string = self.url[len(self._fast_prefix):]
        headers = dict(self.headers)
        if not query_string or b"#" in query_string or any(name in headers for name in MIDDLEWARE_HEADERS):
            return None
        scope = self.scope  # uvicorn's scope for this request: what it would set, it sets the same way
        scope.update(method="GET", path=fast.path, raw_path=fast.path.encode(), query_string=query_string)
        if fast.admit(scope) > 0 or fast.hub.sync_due():
            return None  # the 429 or the sync: the ASGI fast path, with the token already counted
        answer, plan = fast.now(scope, headers)
        if answer is None:
            if plan is None:
                scope[TRIED] = True  # the route's (or it failed here): the fast path does not try again
            return None
        body, ctype, extra, cached = answer
        if self.access_log:
            self.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), "GET",
                                    get_path_with_query_string(scope), "1.1", 200)
        return b"".join((self._status_and_defaults(), _head(ctype, tuple(extra.items()), cached),
                         b"content-length: %d\r\n\r\n" % len(body), body))

    def _status_and_defaults(self) -> bytes:
        """The status line and uvicorn's default headers (the server makes a new list each second: the date)."""
        seen, block = LeanHttp._defaults
        defaults = self.server_state.default_headers
        if seen is not defaults:
            block = STATUS_LINE[200] + b"".join(name + b": " + value + b"\r\n" for name, value in defaults)
            LeanHttp._defaults = (defaults, block)
        return block

    def on_body(self, body: bytes) -> None:
        if not self._answered_here:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._answered_here:
            super().on_message_complete()
