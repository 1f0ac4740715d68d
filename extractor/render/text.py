"""The review for machines (JSON) and for a reviewer at a terminal (Rich)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from extractor.schemas import Review


STATUS_STYLE = {"supported": "bold green", "present": "bold yellow", "partial": "yellow", "not_found": "dim"}
FLAG_STYLE = {
    "negated": "red",
    "family": "magenta",
    "hypothetical": "cyan",
    "historical": "blue",
    "uncertain": "yellow",
}


def to_json(review: Review) -> str:
    return review.model_dump_json(indent=2)


def to_text(review: Review, width: int = 110) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=False, color_system=None, highlight=False, markup=False)
    r = review.request
    console.print(
        Text(f"Brain MRS prior-authorization review  ({review.guideline.id} v{review.guideline.version})", style="bold")
    )
    console.print(f"Patient: {r.patient_name or '-'}   DOB: {r.date_of_birth or '-'}   Member: {r.member_id or '-'}")
    console.print(
        f"Ordering: {r.ordering_clinician or '-'}   CPT: {', '.join(r.cpt_codes) or '-'}   "
        f"Request date: {r.request_date} ({r.request_date_source})"
    )
    if r.received_at:
        console.print(f"Urgency: {r.urgency} ({r.urgency_source})   Received: {r.received_at} ({r.received_at_source})")
    console.print(Text(f"Recommendation: {review.recommendation}", style="bold"))
    console.print()
    for ind in review.indications:
        console.print(
            Text(
                f"[{ind.status:^9}] {ind.id} ({ind.kind}, score {ind.score:.2f}) - {ind.title}",
                style=STATUS_STYLE.get(ind.status, ""),
            )
        )
        for f in ind.evidence[:8]:
            flags = ",".join(f.flags()) or "affirmed"
            console.print(f'      {f.concept:<18} "{f.text}"  [{flags}]  {f.document} p.{f.page}')
        if len(ind.evidence) > 8:
            console.print(f"      ... {len(ind.evidence) - 8} more")
        if ind.missing:
            console.print(f"      missing: {'; '.join(ind.missing)}")
    console.print()
    table = Table(title="Documentation checklist", show_lines=False)
    table.add_column("item")
    table.add_column("status")
    table.add_column("evidence")
    for item in review.documentation:
        table.add_row(item.id, item.status, "; ".join(f"{e.text[:60]} ({e.document})" for e in item.evidence[:2]))
    console.print(table)
    console.print("Documents:")
    for d in review.documents:
        state = f"error: {d.error}" if d.error else f"{d.type}, {d.pages} page(s)"
        if not d.error and d.source and d.source != d.name:
            state += f", pages {d.first_page}-{d.first_page + d.pages - 1} of {d.source}"
        if d.ocr_pages:
            state += f", OCR'd: {', '.join(map(str, d.ocr_pages))}"
        console.print(f"  {d.name}: {state}" + (f"  warnings: {'; '.join(d.warnings)}" if d.warnings else ""))
    console.print()
    console.print(Text("Draft rationale: ", style="bold") + Text(review.rationale))
    return buf.getvalue()
