"""Editors' accounts: argon2 password hashes and per-user feed tokens."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import User

_hasher = PasswordHasher()
USERNAME_MAX = 64
PASSWORD_MIN = 8
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("cnst-radar: no such user")


class AccountError(ValueError):
    pass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def add_user(session: Session, username: str, password: str) -> User:
    username = username.strip()
    if not username or len(username) > USERNAME_MAX or any(c.isspace() for c in username):
        raise AccountError(f"a user name is 1–{USERNAME_MAX} characters without spaces")
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"the password must have at least {PASSWORD_MIN} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists (use `crawl users passwd {username}` to change the password)")
    user = User(username=username, password_hash=_hasher.hash(password), feed_token=new_token())
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"the password must have at least {PASSWORD_MIN} characters")
    user.password_hash = _hasher.hash(password)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def by_token(session: Session, token: str) -> User | None:
    if not token or len(token) > 128:
        return None
    user = session.scalar(select(User).where(User.feed_token == token))
    # The lookup found it; compare anyway so a future index change cannot make this a prefix match.
    return user if user is not None and secrets.compare_digest(user.feed_token, token) else None


def session_stamp(user: User) -> str:
    """Changes when the password does: a session cookie stops working after a password change."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class LoginThrottle:
    """Too many failed logins from one address, or for one user name, within ``window``
    seconds: further attempts are refused until the oldest failure ages out. Kept in memory —
    a restart forgives, which is fine against password guessing at argon2's pace."""

    def __init__(self, failures: int = 5, window: float = 900.0, clock=time.monotonic):  # type: ignore[no-untyped-def]
        self.failures, self.window, self.clock = failures, window, clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> int:
        """Seconds until ``keys`` may try again; 0 when they may now."""
        now = self.clock()
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                self._seen[key].append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._seen.pop(key, None)

    def _wait(self, key: str, now: float) -> int:
        times = self._seen.get(key)
        if not times:
            return 0
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.failures:
            return 0
        return max(1, math.ceil(self.window - (now - times[0])))

