"""API tokens for editors: created by a command, stored only as hashes, checked on every write.

A token is ``chmkg_`` followed by 32 random bytes (url-safe base64). The tokens file keeps, per
token name, the SHA-256 of the secret (a random 256-bit secret needs no slow password hash: there
is nothing to guess), its role and its expiry. Clients send ``Authorization: Bearer <token>``, or
HTTP Basic with the token as the password (what rdflib's SPARQLUpdateStore and SPARQLWrapper send).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ontology.errors import ChmError

ROLES = ("reader", "editor", "publisher", "admin")


class Unauthorized(ChmError):
    code = "E501"
    http_status = 401


class Forbidden(ChmError):
    code = "E502"
    http_status = 403


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class JsonFile:
    """A small JSON file of secrets (mode 0600): re-read when it changes on disk (another process may
    have written it), written atomically (temporary file, fsync, rename)."""

    def __init__(self, path: str | Path, what: str) -> None:
        self.path = Path(path)
        self.what = what
        self.lock = threading.Lock()
        self._cache: tuple[float, dict] | None = None

    def read(self) -> dict:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache and self._cache[0] == mtime:
            return self._cache[1]
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ChmError(f"{self.path}: the {self.what} file cannot be read ({e})") from None
        self._cache = (mtime, data)
        return data

    def write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2, sort_keys=True))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        self._cache = None


class TokenStore:
    """The tokens file (JSON), read on change; writes are atomic (write + rename)."""

    def __init__(self, path: str | Path) -> None:
        self.file = JsonFile(path, "tokens")
        self.path = self.file.path
        self._lock = self.file.lock

    def _read(self) -> dict:
        return self.file.read()

    def _write(self, data: dict) -> None:
        self.file.write(data)

    def create(self, name: str, role: str, days: int | None = 365) -> str:
        """Create (or replace) the token ``name``; returns the secret, which is never stored."""
        if role not in ROLES:
            raise ChmError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ChmError("a token name is letters, digits, '-' and '_'")
        secret = "chmkg_" + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._lock:
            data = dict(self._read())
            data[name] = {
                "sha256": _hash(secret),
                "role": role,
                "created": now.isoformat(timespec="seconds"),
                "expires": (now + timedelta(days=days)).isoformat(timespec="seconds") if days else None,
            }
            self._write(data)
        return secret

    def revoke(self, name: str) -> bool:
        with self._lock:
            data = dict(self._read())
            if data.pop(name, None) is None:
                return False
            self._write(data)
            return True

    def list(self) -> list[dict]:
        return [{"name": k, **{f: v for f, v in d.items() if f != "sha256"}} for k, d in sorted(self._read().items())]

    def verify(self, secret: str) -> Principal:
        digest = _hash(secret)
        for name, entry in self._read().items():
            if hmac.compare_digest(entry["sha256"], digest):
                expires = entry.get("expires")
                if expires and datetime.fromisoformat(expires) < datetime.now(UTC):
                    raise Unauthorized(f"the token {name!r} expired on {expires}")
                return Principal(name, entry["role"])
        raise Unauthorized("the token is not valid")


def credentials(authorization: str | None) -> str | None:
    """The token secret in an Authorization header (Bearer, or Basic with the token as password)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return value.strip() or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("malformed Basic credentials") from None
        return decoded.partition(":")[2] or None
    raise Unauthorized(f"unsupported authorization scheme {scheme!r}; send a Bearer token")
