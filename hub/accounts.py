"""People who edit: accounts with roles, passwords hashed with Argon2, browser sessions with CSRF.

- Accounts live in a JSON file in the store's state folder (``users.json``, mode 0600): name → Argon2id hash,
  role, created, disabled. There is no default account: the first admin is created by
  ``chmkg user create NAME --role admin``.
- A browser session is a signed, timestamped cookie (itsdangerous) holding the user name and a
  random CSRF secret; the signing key is generated once into ``secret.key`` in the store's state folder (0600),
  so every hub process over the same store accepts the same sessions. Sessions expire after
  ``max_age`` seconds and die with the account (disabled, removed, or password changed).
- Every form that changes something carries the session's CSRF token in a hidden ``csrf`` field;
  API clients use tokens (hub/auth.py) and need none.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hub.auth import ROLES, Forbidden, JsonFile, Principal, Unauthorized
from ontology.errors import ChmError

COOKIE = "chmkg_session"
MIN_PASSWORD = 10
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")


class CsrfError(ChmError):
    code = "E503"
    http_status = 403


class Accounts:
    """The accounts file; re-read when it changes on disk (another process may have written it)."""

    def __init__(self, path: str | Path) -> None:
        self.file = JsonFile(path, "accounts")
        self.path = self.file.path
        self.hasher = PasswordHasher()
        self._lock = self.file.lock

    def _read(self) -> dict:
        return self.file.read()

    def _write(self, data: dict) -> None:
        self.file.write(data)

    def create(self, name: str, role: str, password: str) -> None:
        if not _NAME.match(name):
            raise ChmError("a user name is 2–40 characters: lowercase letters, digits, '.', '_' and '-'")
        if role not in ROLES:
            raise ChmError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        check_password(password, name)
        with self._lock:
            data = dict(self._read())
            if name in data:
                raise ChmError(f"the user {name!r} exists; use `chmkg user passwd` or `chmkg user role`")
            data[name] = {"hash": self.hasher.hash(password), "role": role,
                          "created": datetime.now(UTC).isoformat(timespec="seconds"), "disabled": False}
            self._write(data)

    def set_password(self, name: str, password: str) -> None:
        check_password(password, name)
        self._change(name, hash=self.hasher.hash(password))

    def set_role(self, name: str, role: str) -> None:
        if role not in ROLES:
            raise ChmError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
        self._change(name, role=role)

    def disable(self, name: str) -> None:
        self._change(name, disabled=True)

    def _change(self, name: str, **fields: object) -> None:
        with self._lock:
            data = dict(self._read())
            if name not in data:
                raise ChmError(f"no user {name!r}")
            data[name] = {**data[name], **fields}
            self._write(data)

    def list(self) -> list[dict]:
        return [{"name": k, "role": v["role"], "created": v["created"], "disabled": v.get("disabled", False)}
                for k, v in sorted(self._read().items())]

    def verify(self, name: str, password: str) -> Principal:
        entry = self._read().get(name)
        if entry is None or entry.get("disabled"):
            self.hasher.hash(password)  # same work either way: no user enumeration by timing
            raise Unauthorized("unknown user name or wrong password")
        try:
            self.hasher.verify(entry["hash"], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise Unauthorized("unknown user name or wrong password") from None
        if self.hasher.check_needs_rehash(entry["hash"]):
            self._change(name, hash=self.hasher.hash(password))
        return Principal(name, entry["role"])

    def fingerprint(self, name: str) -> str | None:
        """Changes when the password changes or the account is disabled: old sessions die."""
        entry = self._read().get(name)
        if entry is None or entry.get("disabled"):
            return None
        return entry["hash"][-16:]

    def principal(self, name: str) -> Principal | None:
        entry = self._read().get(name)
        return None if entry is None or entry.get("disabled") else Principal(name, entry["role"])


def check_password(password: str, name: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise ChmError(f"a password needs at least {MIN_PASSWORD} characters")
    if name and name.lower() in password.lower():
        raise ChmError("a password must not contain the user name")


def load_secret(path: str | Path) -> bytes:
    """The session signing key; created (256 random bits, mode 0600) on first use."""
    path = Path(path)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    except ValueError:
        raise ChmError(f"{path}: the session key is not hex; delete it to make a new one") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


class Sessions:
    def __init__(self, accounts: Accounts, secret: bytes, max_age: int = 8 * 3600, secure: bool = False) -> None:
        self.accounts = accounts
        self.signer = URLSafeTimedSerializer(secret, salt="chmkg-session")
        self.max_age = max_age
        self.secure = secure

    def issue(self, who: Principal) -> tuple[str, str]:
        """A new session cookie value and its CSRF token."""
        csrf = secrets.token_urlsafe(24)
        value = self.signer.dumps({"u": who.name, "c": csrf, "f": self.accounts.fingerprint(who.name)})
        return value, csrf

    def read(self, cookie: str | None) -> tuple[Principal, str] | None:
        """The principal and CSRF token of a valid session cookie, else None."""
        if not cookie:
            return None
        try:
            data = self.signer.loads(cookie, max_age=self.max_age)
        except (SignatureExpired, BadSignature):
            return None
        name = data.get("u") if isinstance(data, dict) else None
        if not isinstance(name, str) or self.accounts.fingerprint(name) != data.get("f"):
            return None
        who = self.accounts.principal(name)
        return (who, data["c"]) if who else None


def check_csrf(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected, given):
        raise CsrfError("the form's CSRF token is missing or does not match your session; reload the page and try again")


def require_role(who: Principal | None, role: str, what: str = "this operation") -> Principal:
    if who is None:
        raise Unauthorized(f"{what} needs you to log in (or an API token) with the {role} role")
    if not who.can(role):
        raise Forbidden(f"{who.name!r} has the {who.role} role; {what} needs {role}")
    return who
