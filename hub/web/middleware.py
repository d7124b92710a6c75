"""ASGI middleware that protects the hub: security headers, per-client rate limits, and keeping the
write generation in step with other hub processes over the same store.

- :class:`SecurityHeaders` — a Content-Security-Policy without inline scripts, frame denial,
  ``nosniff``, a strict referrer policy, on every answer (the cached fast path too).
- :class:`RateLimit` — a token bucket per client (a verified API token or session, else the
  client address): ``rate`` requests per second with a burst of ``burst``; past it, 429 with
  ``Retry-After``. A flood from one client empties only its own bucket, so the others go on
  being served.
- :class:`SyncGeneration` — before a request, at most every ``interval`` seconds, asks the store
  for the last write stamp; a write made by another process moves this process's generation on
  (its caches empty), so writes are visible through every process within ``interval`` seconds.
"""

from __future__ import annotations

import json
import threading
import time

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
EXEMPT = ("/static/", "/healthz", "/favicon")


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                if b"content-security-policy" in present:  # a response with its own policy (a widget) frames by it
                    present.add(b"x-frame-options")
                message["headers"] = list(message.get("headers", [])) + [(k, v) for k, v in HEADERS if k not in present]
            await send(message)

        return await self.app(scope, receive, with_headers)


class TokenBuckets:
    """Token buckets per key, bounded in number (the least recently seen keys go first)."""

    def __init__(self, rate: float, burst: int, max_keys: int = 50_000) -> None:
        self.rate, self.burst, self.max_keys = rate, burst, max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go on, else the seconds to wait for the next token."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
            if len(self._buckets) > self.max_keys:
                for old in list(self._buckets)[: len(self._buckets) - self.max_keys]:
                    del self._buckets[old]
            return wait


def client_key(scope, verify=None) -> str:
    """The bucket of a request: a verified identity (``verify(scope)`` → a name), else the client address.

    An Authorization header or a cookie is only a key once it is verified — random bearer tokens
    share the bucket of the address they come from.
    """
    if verify is not None:
        name = verify(scope)
        if name:
            return "id:" + name
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


COUNTED = "chmkg.rate_counted"  # in the scope: the fast path in front of the app took the request's token (the value: seconds to wait)


async def send_too_many(send, wait: float, extra: list | None = None) -> None:
    """The 429 answer, with ``Retry-After`` (whole seconds, at least 1)."""
    retry = max(1, int(wait + 0.999))
    body = json.dumps({"type": "about:blank", "title": "TooManyRequests", "status": 429, "code": "E312",
                       "detail": f"too many requests from this client; slow down (retry after {retry} s)"}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/problem+json"), (b"retry-after", str(retry).encode()),
                            (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    def __init__(self, app, buckets: TokenBuckets | None, verify=None) -> None:
        self.app = app
        self.buckets = buckets
        self.verify = verify

    async def __call__(self, scope, receive, send):
        if self.buckets is None or scope["type"] != "http" or scope["path"].startswith(EXEMPT) or COUNTED in scope:
            return await self.app(scope, receive, send)
        wait = self.buckets.take(client_key(scope, self.verify))
        if wait <= 0:
            return await self.app(scope, receive, send)
        await send_too_many(send, wait)


class SyncGeneration:
    def __init__(self, app, hub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.hub.sync_due():
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, self.hub.sync)
        return await self.app(scope, receive, send)


# -- reader processes (chmkg serve --workers N) ---------------------------------------------------

READS = {"GET", "HEAD", "OPTIONS"}
# reads that still belong to the writer: they write files (dumps), need the tagger, or are the admin's
WRITER_PATHS = ("/dumps", "/catalog", "/admin", "/api/tag", "/v1/", "/api/documents", "/submit", "/review", "/api/review")
HOP = {b"host", b"connection", b"keep-alive", b"transfer-encoding", b"te", b"upgrade", b"proxy-connection", b"content-length"}


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes):
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def _is_query(scope, body: bytes) -> bool:
    """A POST to /sparql that queries (``application/sparql-query``, or a form with ``query`` and no ``update``)."""
    from urllib.parse import parse_qs

    headers = dict(scope["headers"])
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if kind == b"application/sparql-query":
        return True
    if kind == b"application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return "query" in form and "update" not in form
    return False


class ReaderRouting:
    """In a reader process: reads are answered here, over a read-only view of the store that follows
    the writer's generation (so an acknowledged write is seen by the next read in any process);
    everything else — writes, uploads, tagging, the admin's pages — goes to the writer process."""

    def __init__(self, app, hub, writer_url: str) -> None:
        import httpx

        self.app = app
        self.hub = hub
        self.client = httpx.AsyncClient(base_url=writer_url, timeout=httpx.Timeout(600.0, connect=10.0))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        body = None
        local = method in READS and not path.startswith(WRITER_PATHS)
        if not local and method == "POST" and path == "/sparql":
            body = await _body(receive)
            local = _is_query(scope, body)
            receive = _replay(body)
        if local:
            self.hub.follow_writer()
            return await self.app(scope, receive, send)
        if body is None:
            body = await _body(receive)
        await self._forward(scope, body, send)
        self.hub.follow_writer()  # this process's next read sees what it just passed on

    async def _forward(self, scope, body: bytes, send) -> None:
        import httpx

        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", client[0].encode()))
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        try:
            request = self.client.build_request(scope["method"], target.decode("latin-1"), headers=headers, content=body)
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as e:
            detail = json.dumps({"type": "about:blank", "title": "ServiceUnavailable", "status": 503, "code": "E206",
                                 "detail": f"the writer process is not answering ({type(e).__name__}); nothing was written"}).encode()
            await send({"type": "http.response.start", "status": 503, "headers": [
                (b"content-type", b"application/problem+json"), (b"retry-after", b"5"), (b"content-length", str(len(detail)).encode())]})
            await send({"type": "http.response.body", "body": detail})
            return
        try:
            raw = [(k, v) for k, v in response.headers.raw if k.lower() not in HOP or k.lower() == b"content-length"]
            await send({"type": "http.response.start", "status": response.status_code, "headers": raw})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()
