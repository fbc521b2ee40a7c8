"""Admin authentication: scrypt password hashes, signed sessions, CSRF, rate limiting.

- The password is stored (app setting `admin_password`) as
  `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`: hashlib.scrypt from the standard library, so
  no new dependency; parameters are stored with the hash so they can be raised later.
- Sessions: the cookie holds its expiry, a per-session CSRF token, a tag of the current
  password hash and the session generation, signed with HMAC-SHA256 under the secret
  (`secret_key`, else one generated on first use and kept in the database, so every web server
  shares it). The generation (app setting `session_generation`, a random value) is replaced
  at every sign-out and password change, which ends every session at once, on every server.
- The cookie is HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS (the
  request's scheme; web/edge.py sets it from X-Forwarded-Proto only for a trusted proxy).
- CSRF: every admin form carries the session's token; the login form uses a double-submit
  token (cookie + field). Both are compared in constant time.
- Login rate limiting: every attempt is a row in the database (`login_failures`) recorded
  before the password is checked, and counted per client address (IPv6: per /64) and for the
  account (all addresses together) over `login_window_s`; see `claim_login_attempt`. All web
  servers and all concurrent requests share one limit; a burst never checks more passwords
  than the limit allows. The client address is the connection's (web/edge.py resolves
  trusted proxies).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
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
GENERATION_KEY = "session_generation"
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


def end_all_sessions(store: AdminStore) -> None:
    """Invalidate every admin session cookie issued so far (a new session generation)."""
    store.set_setting(GENERATION_KEY, secrets.token_urlsafe(12))


def set_admin_password(store: AdminStore, password: str) -> None:
    """Store a new admin password; every existing session ends."""
    store.set_setting(PASSWORD_KEY, hash_password(password))
    end_all_sessions(store)


def rate_key(address: str) -> str:
    """The address the login limiter counts: IPv6 clients by /64 (one host usually holds a
    whole /64, so counting single addresses would let it rotate), IPv4 as is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


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

    def generation(self) -> str:
        return self.store.setting_or_create(GENERATION_KEY, secrets.token_urlsafe(12))

    def new_session_cookie(self, now: datetime) -> str:
        stored = self.password_hash() or ""
        payload = _b64(
            json.dumps(
                {
                    "exp": (now + timedelta(seconds=self.settings.admin_session_s)).timestamp(),
                    "csrf": secrets.token_urlsafe(24),
                    "pw": self._password_tag(stored),
                    "gen": self.generation(),
                }
            ).encode()
        )
        return f"{payload}.{self._sign(payload)}"

    def session(self, request: Request, now: datetime) -> Session | None:
        """The request's valid session, or None (missing, forged, expired, signed out, or the
        password changed)."""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        payload, _, signature = cookie.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            expires, csrf = float(data["exp"]), str(data["csrf"])
            tag, generation = str(data["pw"]), str(data["gen"])
        except (ValueError, KeyError, TypeError):
            return None
        if now.timestamp() >= expires:
            return None
        stored = self.password_hash()
        if stored is None or not hmac.compare_digest(tag, self._password_tag(stored)):
            return None
        current = self.store.get_setting(GENERATION_KEY)
        if current is None or not hmac.compare_digest(generation, current):
            return None
        return Session(expires, csrf)

    def end_all_sessions(self) -> None:
        end_all_sessions(self.store)

    @staticmethod
    def is_https(request: Request) -> bool:
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

    @staticmethod
    def client(request: Request) -> str:
        """The limiter's key for the request's client (see `rate_key`)."""
        return rate_key(request.client.host) if request.client else "unknown"

    def claim_attempt(self, client: str, now: datetime) -> bool:
        """Record a sign-in attempt; False when the client or the account is locked out."""
        since = now - timedelta(seconds=self.settings.login_window_s)
        claimed = self.store.claim_login_attempt(
            client,
            now,
            since,
            per_client=self.settings.login_max_failures,
            total=self.settings.login_account_max_failures,
        )
        return claimed is not None

    def failed(self, now: datetime) -> None:
        """The claimed attempt stays as a failure; rows older than the window are dropped."""
        window = timedelta(seconds=self.settings.login_window_s)
        self.store.forget_login_failures(before=now - 2 * window)

    def succeeded(self, client: str, now: datetime) -> None:
        self.store.forget_login_failures(client=client, before=now)
