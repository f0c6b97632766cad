"""Logging in and out: session cookies, CSRF tokens, a login rate limit.

The session cookie holds a random token; the catalog keeps only its SHA-256
(the session table of the access store), so a copy of the database opens no
session, and logging out (or disabling the user) ends it on the server.

CSRF: every form carries the token of the ``kholuu_csrf`` cookie
(double-submit; the cookie is HttpOnly and SameSite=Strict, so another site can
neither read nor send it) and a POST from another origin is refused outright.

Who the user is stops here: ``request.state.user`` is a ``kholuu.access.User``,
and the access filter is built from it alone, so an external identity provider
(OIDC) can later set the same user without touching any check.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SESSION_COOKIE = "kholuu_session"
CSRF_COOKIE = "kholuu_csrf"
SESSION_HOURS = 12
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def well_formed(token: str | None) -> bool:
    return bool(token) and bool(_TOKEN_RE.match(token or ""))


def session_expiry(now: datetime) -> datetime:
    return now + timedelta(hours=SESSION_HOURS)


def cookie_options(scheme: str) -> dict:
    """HttpOnly, SameSite=Lax, Secure on https (the session must travel on a
    link from a bookmark, hence Lax; forms are protected by the CSRF token)."""
    return {"httponly": True, "samesite": "lax", "secure": scheme == "https", "path": "/"}


def csrf_matches(cookie_token: str | None, form_token: str | None) -> bool:
    return well_formed(cookie_token) and well_formed(form_token) and \
        hmac.compare_digest(str(cookie_token), str(form_token))


def same_origin(origin_or_referer: str | None, scheme: str, host: str) -> bool:
    """True when the header is absent or names this site."""
    if not origin_or_referer:
        return True
    if origin_or_referer == "null":         # sandboxed frames, privacy redirects: not us
        return False
    parts = urlsplit(origin_or_referer)
    return parts.scheme == scheme and parts.netloc == host


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a local path only (no open redirect)."""
    t = (target or "").strip()
    if not t.startswith("/") or t.startswith("//") or "\\" in t or any(ord(c) < 32 for c in t):
        return "/"
    return t[:500]


class LoginLimiter:
    """Failed logins per username and per address in a sliding window.

    Five wrong passwords for one name in 15 minutes, or thirty from one
    address, lock further attempts until the oldest falls out of the window.
    In memory: one web process; a restart forgets (acceptable for a limit).
    """

    def __init__(self, per_user: int = 5, per_ip: int = 30, window_s: float = 900.0):
        self.per_user, self.per_ip, self.window_s = per_user, per_ip, window_s
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def wait_s(self, username: str, ip: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = []
            for key, limit in ((f"u:{username.lower()}", self.per_user), (f"i:{ip}", self.per_ip)):
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(int(self.window_s - (now - q[0])) + 1)
            return max(waits, default=0)

    def failed(self, username: str, ip: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for key in (f"u:{username.lower()}", f"i:{ip}"):
                self._recent(key, now).append(now)
            if len(self._fails) > 100_000:          # bound memory under a flood of names
                self._fails = {k: v for k, v in self._fails.items() if v}

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._fails.pop(f"u:{username.lower()}", None)
