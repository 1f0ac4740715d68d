"""Da Vinci PAS routes (SPEC "Da Vinci PAS"): `Claim/$submit` and `Claim/$inquire`, bearer token as the API.

Every answer, errors included, is FHIR JSON: a PAS response Bundle, or an OperationOutcome (the app's
HTTPException handler gives one for every /fhir/ error; a bad request Bundle gives its own here)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from extractor import store
from extractor.errors import PasRequestError
from extractor.render import fhir

from . import pas_actions
from .actions import FHIR_JSON
from .deps import api_user, db, require

router = APIRouter(prefix="/fhir")
Db = Annotated[Session, Depends(db)]
ApiUser = Annotated[store.User, Depends(api_user)]


def _fhir(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=FHIR_JSON)


async def _body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise PasRequestError("the body is not JSON (send a FHIR Bundle as application/fhir+json)") from None


def _refused(exc: PasRequestError) -> Response:
    return _fhir(fhir.operation_outcome(exc.diagnostic, exc.expression), exc.status)


@router.post("/Claim/$submit")
async def submit(request: Request, session: Db, user: ApiUser):
    require(user, "intake", "admin")
    try:
        return _fhir(pas_actions.submit(request, session, user, await _body(request)))
    except PasRequestError as exc:
        return _refused(exc)


@router.post("/Claim/$inquire")
async def inquire(request: Request, session: Db, user: ApiUser):
    require(user, "intake", "admin")
    try:
        return _fhir(pas_actions.inquire(request, session, user, await _body(request)))
    except PasRequestError as exc:
        return _refused(exc)
