"""Users, passwords (argon2) and tokens: secrets are stored only as digests."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Literal

from sqlalchemy import (
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


def add_user(session: Session, name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if not _NAME.match(name):
        raise StoreError("user name: 1-100 letters, digits, _ . @ -")
    if len(password) < 8:
        raise StoreError("password must have at least 8 characters")
    if session.scalar(select(User).where(User.name == name)):
        raise StoreError(f"user {name!r} exists")
    user = User(name=name, role=role, password_hash=_password_hasher().hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < 8:
        raise StoreError("password must have at least 8 characters")
    user.password_hash = _password_hasher().hash(password)


def set_active(session: Session, name: str, active: bool) -> User:
    """Deactivating a user ends every session and token at once (token_for checks `active`)."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise StoreError(f"no user {name!r}")
    user.active = active
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    from argon2.exceptions import InvalidHashError, VerificationError

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


def revoke(session: Session, secret: str) -> None:
    token = session.scalar(select(Token).where(Token.token_hash == _digest(secret)))
    if token is not None:
        session.delete(token)
