"""Users, passwords (argon2) and tokens: secrets are stored only as digests."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import (
    bindparam,
    delete,
    select,
)
from sqlalchemy.orm import Session

from .tables import ROLES, StoreError, Token, User, utcnow

# --- users and tokens ---------------------------------------------------------------------------

_hasher = None


def _password_hasher():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
MAX_NAME = 100
MAX_PASSWORD = 1024  # longer is refused before hashing: argon2 hashes any length, at a cost the caller chooses


def check_password(password: str) -> None:
    if len(password) < 8:
        raise StoreError("password must have at least 8 characters")
    if len(password) > MAX_PASSWORD:
        raise StoreError(f"password must have at most {MAX_PASSWORD} characters")


def add_user(session: Session, name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if not _NAME.match(name):
        raise StoreError("user name: 1-100 letters, digits, _ . @ -")
    check_password(password)
    if session.scalar(select(User).where(User.name == name)):
        raise StoreError(f"user {name!r} exists")
    user = User(name=name, role=role, password_hash=_password_hasher().hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    """A new password revokes every session and token the old one gave out."""
    check_password(password)
    user.password_hash = _password_hasher().hash(password)
    revoke_all(session, user)


def set_active(session: Session, name: str, active: bool) -> User:
    """Deactivating a user ends every session and token for good: they are deleted, so reactivating the user
    revives none of them. Reactivating deletes them too: a token issued by a login racing the deactivation
    (refused meanwhile, as token_for checks `active`) must not come back with the user."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise StoreError(f"no user {name!r}")
    user.active = active
    revoke_all(session, user)
    return user


def revoke_all(session: Session, user: User) -> int:
    """Delete every session and API token of the user; how many there were."""
    result = session.execute(delete(Token).where(Token.user_id == user.id))
    return result.rowcount or 0


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user of this name and password, else None; an over-long name or password is refused before
    any hashing (the caller bounds how many hashes run at once)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if len(name) > MAX_NAME or len(password) > MAX_PASSWORD:
        return None

    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    if user is None:
        _password_hasher().hash(password)  # same cost whether or not the user exists
        return None
    try:
        _password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, user: User, kind: Literal["api", "session"], hours: float) -> tuple[str, Token]:
    """A new random secret for the user; the caller hands it out once, the store keeps its hash."""
    session.execute(delete(Token).where(Token.expires_at < utcnow()))
    secret = secrets.token_urlsafe(32)
    token = Token(
        token_hash=_digest(secret),
        user_id=user.id,
        kind=kind,
        csrf=secrets.token_urlsafe(32) if kind == "session" else None,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(token)
    session.flush()
    return secret, token


def token_for(session: Session, secret: str, kind: str) -> Token | None:
    token = session.scalar(select(Token).where(Token.token_hash == _digest(secret), Token.kind == kind))
    if token is None or token.expires_at < utcnow() or not token.user.active:
        return None
    return token


@dataclass(frozen=True, slots=True)
class Reader:
    """Who presented a valid token, as a read needs them (the read policy's role and id, the audit row's name):
    no ORM object, so the most frequent check costs one plain query."""

    id: int
    name: str
    role: str


_users, _tokens = User.__table__, Token.__table__
# Built once: building a statement costs about as much CPU as running it (SQLAlchemy caches the compiled form).
_READER = (
    select(_users.c.id, _users.c.name, _users.c.role, _users.c.active, _tokens.c.expires_at)
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user_id))
    .where(_tokens.c.token_hash == bindparam("digest"), _tokens.c.kind == bindparam("kind"))
)


def reader_for(session: Session, secret: str, kind: str) -> Reader | None:
    """token_for's check (the token exists now, of this kind, unexpired, its user active) in one SQLAlchemy Core
    query on the session's connection and transaction: a revoked token fails at the next read as before."""
    row = session.connection().execute(_READER, {"digest": _digest(secret), "kind": kind}).first()
    if row is None or row.expires_at < utcnow() or not row.active:
        return None
    return Reader(row.id, row.name, row.role)


def revoke(session: Session, secret: str, kind: str | None = None) -> bool:
    """Delete the token of this secret (of this kind, when given); whether there was one."""
    query = select(Token).where(Token.token_hash == _digest(secret))
    if kind is not None:
        query = query.where(Token.kind == kind)
    token = session.scalar(query)
    if token is not None:
        session.delete(token)
    return token is not None
