"""Admin authentication: scrypt password hashes, signed stateless sessions, CSRF, rate limiting.

- The password is stored (app setting `admin_password`) as
  `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`: hashlib.scrypt from the standard library, so
  no new dependency; parameters are stored with the hash so they can be raised later.
- Sessions are stateless: the cookie holds its expiry, a per-session CSRF token and a tag of
  the current password hash, signed with HMAC-SHA256 under the secret (`secret_key`, else one
  generated on first use and kept in the database, so every web server shares it). Setting a
  new password ends every session. Logout deletes the cookie; a copied cookie stays valid
  until it expires (`admin_session_s`), the price of keeping no session state on the server.
- The cookie is HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS
  (request scheme, or X-Forwarded-Proto with `trust_proxy_headers`).
- CSRF: every admin form carries the session's token; the login form uses a double-submit
  token (cookie + field). Both are compared in constant time.
- Login rate limiting: failed logins are rows in the database (`login_failures`), counted
  per client address over `login_window_s`, so all web servers enforce one limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from netplanet.settings import Settings
from netplanet.store.base import AdminStore

PASSWORD_KEY = "admin_password"
SECRET_KEY = "session_secret"
SESSION_COOKIE = "np_admin"
LOGIN_COOKIE = "np_login"
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and ~50-100 ms per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        got = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True, slots=True)
class Session:
    expires: float
    csrf: str


class Auth:
    """Sessions, CSRF and the login limiter for one web app."""

    def __init__(self, store: AdminStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._secret: bytes | None = None

    # ------------------------------------------------------------------ keys

    def password_hash(self) -> str | None:
        return self.store.get_setting(PASSWORD_KEY)

    def secret(self) -> bytes:
        if self._secret is None:
            if self.settings.secret_key:
                self._secret = self.settings.secret_key.encode()
            else:
                generated = secrets.token_urlsafe(32)
                self._secret = self.store.setting_or_create(SECRET_KEY, generated).encode()
        return self._secret

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.secret(), payload.encode(), hashlib.sha256).digest())

    def _password_tag(self, stored: str) -> str:
        return self._sign("pw:" + stored)[:16]

    # ------------------------------------------------------------------ sessions

    def new_session_cookie(self, now: datetime) -> str:
        stored = self.password_hash() or ""
        payload = _b64(
            json.dumps(
                {
                    "exp": (now + timedelta(seconds=self.settings.admin_session_s)).timestamp(),
                    "csrf": secrets.token_urlsafe(24),
                    "pw": self._password_tag(stored),
                }
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}"

    def session(self, request: Request, now: datetime) -> Session | None:
        """The request's valid session, or None (missing, forged, expired, or password changed)."""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        payload, _, signature = cookie.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            expires, csrf, tag = float(data["exp"]), str(data["csrf"]), str(data["pw"])
        except (ValueError, KeyError, TypeError):
            return None
        stored = self.password_hash()
        if stored is None or not hmac.compare_digest(tag, self._password_tag(stored)):
            return None
        if now.timestamp() >= expires:
            return None
        return Session(expires, csrf)

    def is_https(self, request: Request) -> bool:
        if self.settings.trust_proxy_headers:
            forwarded = request.headers.get("x-forwarded-proto", "")
            if forwarded:
                return forwarded.split(",")[0].strip().lower() == "https"
        return request.url.scheme == "https"

    def set_cookie(self, response: Response, request: Request, name: str, value: str) -> None:
        response.set_cookie(
            name,
            value,
            max_age=self.settings.admin_session_s,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=self.is_https(request),
        )

    def clear_cookie(self, response: Response, request: Request, name: str) -> None:
        response.delete_cookie(
            name,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=self.is_https(request),
        )

    # ------------------------------------------------------------------ CSRF

    @staticmethod
    def token_ok(expected: str, given: object) -> bool:
        return isinstance(given, str) and bool(expected) and hmac.compare_digest(expected, given)

    # ------------------------------------------------------------------ login limiter

    def client(self, request: Request) -> str:
        if self.settings.trust_proxy_headers:
            forwarded = request.headers.get("x-forwarded-for", "")
            if forwarded:
                return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def locked_out(self, client: str, now: datetime) -> bool:
        since = now - timedelta(seconds=self.settings.login_window_s)
        return self.store.count_login_failures(client, since) >= self.settings.login_max_failures

    def failed(self, client: str, now: datetime) -> None:
        self.store.record_login_failure(client, now)
        # Old rows are useless to the limiter; dropping them keeps the table tiny.
        window = timedelta(seconds=self.settings.login_window_s)
        self.store.forget_login_failures(before=now - 2 * window)

    def succeeded(self, client: str, now: datetime) -> None:
        self.store.forget_login_failures(client=client, before=now)
