"""The case page's content: the review summary and the documents with the findings drawn on them.

The HTML route (`pages.case_page`) only asks the read policy, audits and fills the page; what is drawn is built here,
once per stored review (cached by case and review time), since it does not depend on who reads it."""

from __future__ import annotations

import json

from fastapi import HTTPException, Request
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor import knowledge, store
from extractor.errors import DocumentError

from . import actions, page_images, views
from .deps import client, commit, state
from .templating import templates


def on_files(case: store.Case, findings: list[dict]) -> list[dict]:
    """Findings placed on the stored files: a split packet's part ("fax.pdf#2") is drawn on its file, its
    offsets moved to where the part starts in the file's stored text (page numbers already count in the file)."""
    where = {}
    for d in case.documents:
        where[d.name] = (d.name, 0)
        for part, offset in (d.parts or {}).items():
            where[part] = (d.name, offset)
    out = []
    for f in findings:
        name, offset = where.get(f["document"], (f["document"], 0))
        if name == f["document"]:
            out.append(f)
        else:
            out.append({**f, "document": name, "part": f["document"], "start": f["start"] + offset,
                        "end": f["end"] + offset})  # fmt: skip
    return out


def review_fragments(case: store.Case, review: dict) -> dict:
    """The reader-independent parts of the case page (review summary, documents with boxes), rendered once."""
    pdf_names = {d.name for d in case.documents if d.kind == "pdf" and d.page_sizes}
    findings = review.get("findings", [])
    marks = page_images.marks({"findings": on_files(case, findings)}, pdf_names)
    index = {page_images.finding_key(f): m for f, m in zip(findings, marks, strict=True)}
    info: dict[str, dict] = {}
    for d in review.get("documents", []):  # a split packet's parts are shown together on their file
        merged = info.setdefault(d.get("source") or d["name"], {"types": [], "warnings": [], "error": None})
        merged["types"] += [d["type"]] if d.get("type") else []
        merged["warnings"] += d.get("warnings", [])
        merged["error"] = merged["error"] or d.get("error")
    docs = []
    for d in case.documents:
        own = [m for m in marks if m.finding["document"] == d.name]
        pages = []
        for number, size in enumerate(d.page_sizes or [], start=1):
            boxes = [m for m in own if m.finding["page"] == number and m.finding.get("bbox")]
            pages.append({"number": number, "width": size[0], "height": size[1], "marks": boxes})
        segments = page_images.text_segments(d.text, own) if d.text else []
        docs.append({"row": d, "info": info.get(d.name, {}), "pages": pages, "segments": segments})
    context = {
        "case": case,
        "review": review,
        "docs": docs,
        "marks": marks,
        "concepts": knowledge.pipeline_config().concepts,
    }
    context["mark_for"] = lambda f: index.get(page_images.finding_key(f))
    return {
        "summary": Markup(templates.get_template("_review_summary.html").render(context)),
        "documents": Markup(templates.get_template("_review_documents.html").render(context)),
        "review": {
            "recommendation": review.get("recommendation"),
            "rationale": review.get("rationale", ""),
            "indications": [
                {"id": i["id"], "kind": i["kind"], "status": i["status"]} for i in review.get("indications", [])
            ],
        },
    }


def case_fragments(request: Request, session: Session, case: store.Case) -> dict | None:
    """The case's rendered fragments from the cache, built on a miss; None while the case has no review.

    A case imported by the backfill has no stored texts or page sizes yet: they are read from its files here."""
    stamp = session.scalar(select(store.ReviewRow.created_at).where(store.ReviewRow.case_id == case.id))
    if stamp is None:
        return None
    cache = state(request).fragments
    fragments = cache.get((case.id, stamp))
    if fragments is None:
        views.fill_views(session, case, state(request).data_dir)
        review = json.loads(store.load_review_json(session, case.id) or "null")
        fragments = review_fragments(case, review)
        cache.put((case.id, stamp), fragments)
    return fragments


def page_png(request: Request, session: Session, user: store.User, case: store.Case, doc_id: int, number: int) -> bytes:
    """One page of a stored PDF as PNG (rendered once, kept under the data folder), audited."""
    doc = actions.stored_document(case, doc_id)
    if doc.kind != "pdf" or not (1 <= number <= len(doc.page_sizes or [])):
        raise HTTPException(404, "no such page")
    st = state(request)
    turn = page_images.page_rotation(doc.page_sizes[number - 1])
    try:
        png = page_images.page_png(store.stored_path(st.data_dir, doc), st.data_dir / "renders", number, turn)
    except (IndexError, DocumentError):  # a page the bounded worker cannot draw has no image
        raise HTTPException(404, "no such page") from None
    store.audit(
        session,
        user,
        "page_viewed",
        case_id=case.id,
        document_id=doc.id,
        detail=f"page {number}",
        client=client(request),
    )
    commit(request, session)
    return png
