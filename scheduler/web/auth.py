"""Editors' accounts: argon2 password hashes and per-user feed tokens."""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
import unicodedata
from collections import defaultdict, deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Triage, User

_hasher = PasswordHasher()
USERNAME_MAX = 64
PASSWORD_MIN = 8
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY = _hasher.hash("cnst-radar: no such user")
# The password hash of a removed user who has triage history (kept so the history keeps its
# author): no password verifies against it.
REMOVED = "!removed"


class AccountError(ValueError):
    pass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalise_username(username: str) -> str:
    """The one form of a login name, for lookups and the login throttle alike: surrounding
    whitespace dropped and compatibility forms folded (NFKC), so "kim\t" or a full-width
    "ｋｉｍ" is the same name as "kim". Case is kept: names are stored case-sensitively."""
    return unicodedata.normalize("NFKC", username).strip()


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def _existing(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None or is_removed(user):
        raise AccountError(f"no user {normalise_username(username)!r}")
    return user


def is_removed(user: User) -> bool:
    return user.password_hash == REMOVED


def add_user(session: Session, username: str, password: str) -> User:
    username = normalise_username(username)
    if not username or len(username) > USERNAME_MAX or any(c.isspace() or not c.isprintable() for c in username):
        raise AccountError(f"a user name is 1–{USERNAME_MAX} characters without spaces")
    _check_password(password)
    user = find_user(session, username)
    if user is not None and not is_removed(user):
        raise AccountError(f"user {username!r} already exists (use `crawl users passwd {username}` to change the password)")
    if user is not None:  # a removed user with history comes back under the same name
        user.password_hash, user.feed_token = _hasher.hash(password), new_token()
        end_sessions(user)
        return user
    user = User(username=username, password_hash=_hasher.hash(password), feed_token=new_token())
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """A new password ends the user's sessions and replaces their feed token: whoever learnt
    the old password may have read the token on the Feeds page."""
    user = _existing(session, username)
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    user.feed_token = new_token()
    end_sessions(user)
    return user


def rotate_token(session: Session, username: str) -> User:
    user = _existing(session, username)
    user.feed_token = new_token()
    return user


def remove_user(session: Session, username: str) -> bool:
    """Remove an account: its sessions and feed token stop working at once. A user who has
    triaged keeps a disabled row so the history keeps its author (True: deleted outright)."""
    user = _existing(session, username)
    if session.scalar(select(Triage.id).where(Triage.user_id == user.id).limit(1)) is None:
        session.delete(user)
        session.flush()
        return True
    user.password_hash, user.feed_token = REMOVED, new_token()
    end_sessions(user)
    return False


def end_sessions(user: User) -> None:
    """Every session cookie issued to ``user`` so far stops working (see ``session_stamp``)."""
    user.session_generation = (user.session_generation or 0) + 1


def _check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"the password must have at least {PASSWORD_MIN} characters")


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = find_user(session, username)
    if user is not None and is_removed(user):
        user = None
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
    if user is None or is_removed(user) or not secrets.compare_digest(user.feed_token, token):
        return None
    return user


def session_stamp(user: User) -> str:
    """What a session cookie must carry to be valid: it changes with the session generation
    (logout, password change, removal) and with the password hash, so older cookies end."""
    return hashlib.sha256(f"{user.session_generation or 0}:{user.password_hash}".encode()).hexdigest()[:16]


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

