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


class RateLimit:
    def __init__(self, app, rate: float, burst: int, verify=None) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None
        self.verify = verify

    async def __call__(self, scope, receive, send):
        if self.buckets is None or scope["type"] != "http" or scope["path"].startswith(EXEMPT):
            return await self.app(scope, receive, send)
        wait = self.buckets.take(client_key(scope, self.verify))
        if wait <= 0:
            return await self.app(scope, receive, send)
        retry = max(1, int(wait + 0.999))
        body = json.dumps({"type": "about:blank", "title": "TooManyRequests", "status": 429, "code": "E312",
                           "detail": f"too many requests from this client; slow down (retry after {retry} s)"}).encode()
        await send({"type": "http.response.start", "status": 429,
                    "headers": [(b"content-type", b"application/problem+json"), (b"retry-after", str(retry).encode()),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class SyncGeneration:
    def __init__(self, app, hub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and self.hub.sync_due():
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, self.hub.sync)
        return await self.app(scope, receive, send)
