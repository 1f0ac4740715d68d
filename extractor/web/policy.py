"""The one read policy (SPEC "Web application"): who may read which case, and what of it, on every front.

Reviewers and admins read every case. An intake user reads only the cases they uploaded, and of those only
the status, the review and the FHIR Bundle (never the stored documents, their page images or the decisions).
Someone else's case, or one that does not exist, is the same 404: the answer never tells an intake user that
a case id exists. Lists are filtered by the same rule (`owner_scope`), so a case is listed exactly when it
can be read."""

from __future__ import annotations

from typing import Literal, TypeVar

from fastapi import HTTPException
from sqlalchemy.orm import Session

from extractor import store

Part = Literal["status", "review", "bundle", "documents", "decisions", "page"]
READ_ALL = ("reviewer", "admin")
INTAKE_PARTS = frozenset({"status", "review", "bundle"})  # "page": the case page shows the documents
C = TypeVar("C", store.Case, store.CaseHead)
Reader = store.User | store.Reader  # the ORM user (most routes) or the token's reader (the API's review read)


def owner_scope(user: Reader) -> int | None:
    """None: the user reads every case; else the id of the only uploader whose cases they read."""
    return None if user.role in READ_ALL else user.id


def allowed(case: C | None, user: Reader, part: Part) -> C:
    """The rule itself, on a case already loaded (None: there is none): the case if `user` may read `part` of
    it; 404 when it is not theirs to see, 403 when it is theirs but the part is not (an intake user asking for
    the documents of their own upload)."""
    owner = owner_scope(user)
    if case is None or (owner is not None and case.created_by != owner):
        raise HTTPException(404, "no such case")
    if owner is not None and part not in INTAKE_PARTS:
        raise HTTPException(403, f"this needs the {' or '.join(READ_ALL)} role")
    return case


def readable_case(session: Session, user: store.User, case_id: str, part: Part) -> store.Case:
    """The case if `user` may read `part` of it (see `allowed`)."""
    return allowed(store.get_case(session, case_id), user, part)


def readable_review(session: Session, user: Reader, case_id: str) -> tuple[store.CaseHead, str | None]:
    """readable_case(..., "review") and the case's stored review JSON (None until it is ready), loaded in one
    Core query: the API's review read is the most frequent read there is."""
    found, review = store.case_with_review(session, case_id)
    case = allowed(found, user, "review")
    return case, review if case.status == "ready" else None
