"""Renderers of a review: JSON for machines, a terminal summary for reviewers, a drafted rationale."""

from __future__ import annotations

import io
from collections.abc import Mapping
from itertools import zip_longest
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import knowledge
from .guideline import qualifies, strength

if TYPE_CHECKING:
    from .knowledge import Guideline, Indication, RationaleTemplates
    from .schemas import Finding, IndicationResult, Review

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


def draft_rationale(review: Review, guideline: Guideline, texts: Mapping[str, str] | None = None) -> str:
    """A short plain-language draft for the reviewer to edit; it never denies.

    Supported: the covered indication and, per criterion, quoted evidence with document and page. Otherwise:
    the guideline's reason (the BACKGROUND statement for an experimental use, or no covered indication) and
    the documentation that would change the outcome. With `texts` (document name -> extracted text) every
    quote is taken verbatim from the document (whitespace collapsed); the wording is models/rationale.json.
    """
    t = knowledge.rationale_templates()
    ref = t.guideline_ref.format(guideline_id=guideline.id, guideline_version=guideline.version)
    specs = {i.id: i for i in guideline.indications}
    covered = [i for i in review.indications if i.kind == "covered"]
    parts: list[str] = []
    supported = [i for i in covered if i.status == "supported"]
    for ind in supported:
        spec = specs[ind.id]
        evidence = _criteria_evidence(t, spec, ind, texts)
        parts.append(t.supported.format(indication=_clause(spec.text), guideline_ref=ref, evidence=evidence))
    if not supported:
        present = [i for i in review.indications if i.kind == "experimental" and i.status == "present"]
        by_statement: dict[tuple[str, ...], list[IndicationResult]] = {}
        for ind in present:
            by_statement.setdefault(tuple(specs[ind.id].guideline_quote or [specs[ind.id].text]), []).append(ind)
        for statement, inds in by_statement.items():
            quotes = [q for i in inds for q in _quotes(t, i.evidence, texts, 1)]
            parts.append(
                t.experimental.format(
                    topics=_join([i.title.lower() for i in inds]),
                    evidence="; ".join(quotes),
                    guideline_ref=ref,
                    statement=" ... ".join(s.rstrip(".") for s in statement),
                )
            )
        if not present:
            parts.append(t.no_covered.format(guideline_ref=ref))
        partial = [i for i in covered if i.status == "partial"]
        for ind in partial:
            found = _criteria_evidence(t, specs[ind.id], ind, texts, per_criterion=1)
            parts.append(
                t.partial.format(indication=_clause(specs[ind.id].text), found=found, missing="; ".join(ind.missing))
            )
        if partial:
            items = [t.change_item.format(missing=_join(i.missing), indication=_lower_first(i.title)) for i in partial]
            parts.append(t.change_partial.format(items="; ".join(items)))
        if not partial:
            # an indication this guideline version does not have is no route to coverage
            wanted = "; ".join(f'"{_clause(specs[i.id].text)}"' for i in covered if not specs[i.id].not_in_version)
            parts.append(t.change_none.format(guideline_ref=ref, indications=wanted))
    missing_docs = [d.description for d in review.documentation if d.status == "missing"]
    if missing_docs:
        parts.append(t.checklist_missing.format(items="; ".join(_lower_first(_clause(d)) for d in missing_docs)))
    parts.append(t.closing)
    return " ".join(parts)


def _clause(text: str) -> str:
    return text.strip().rstrip(".")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _criteria_evidence(
    t: RationaleTemplates,
    spec: Indication,
    ind: IndicationResult,
    texts: Mapping[str, str] | None,
    per_criterion: int = 2,
) -> str:
    """Per met criterion, quotes of the indication's evidence that satisfy it, taking turns between the
    criterion's alternatives ("radiation necrosis" and "enhancing nodule", not two lesions)."""
    met = {c.id for c in ind.criteria if c.met}
    out = []
    for criterion in spec.criteria:
        if criterion.id not in met:
            continue
        groups: list[list[Finding]] = [[] for _ in criterion.any_of]
        for f in ind.evidence:
            n = next((n for n, check in enumerate(criterion.any_of) if qualifies(f, check)), None)
            if n is not None:
                groups[n].append(f)
        for group in groups:
            group.sort(key=lambda f: (-strength(f), -len(f.text)))
        turns = [f for row in zip_longest(*groups) for f in row if f is not None]
        quotes = _quotes(t, turns, texts, per_criterion, ranked=True)
        if quotes:
            out.append(t.criterion.format(criterion=criterion.description, quotes=", ".join(quotes)))
    return "; ".join(out)


def _quotes(
    t: RationaleTemplates,
    findings: list[Finding],
    texts: Mapping[str, str] | None,
    limit: int,
    ranked: bool = False,
) -> list[str]:
    """Distinct quotes, strongest and most specific first unless `ranked` already. A quote the document
    breaks ("metas-" at a line end) is used only when no clean one exists."""

    def verbatim(f: Finding) -> str:
        if texts is not None and f.document in texts:
            return " ".join(texts[f.document][f.start : f.end].split())
        return f.text

    clean = [f for f in findings if verbatim(f) == f.text]
    candidates = clean or findings
    if not ranked:
        candidates = sorted(candidates, key=lambda f: (-strength(f), -len(f.text)))
    out: list[str] = []
    seen: set[str] = set()
    for f in candidates:
        text = verbatim(f)
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        flags = t.flags.format(flags=", ".join(f.flags())) if f.flags() else ""
        out.append(t.quote.format(text=text, document=f.document, page=f.page, flags=flags))
        if len(out) == limit:
            break
    return out


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


_HTML_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:75em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
.supported{color:#06602a;font-weight:bold}.partial{color:#8a5a00}.present{color:#8a3d00;font-weight:bold}
.not_found,.chk-missing{color:#777}.chk-present{color:#06602a}
pre{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:1em}
mark{background:#fff2a8;border-radius:2px}mark.negated{background:#ffd6d6;text-decoration:line-through}
mark.family{background:#f0d9ff}mark.hypothetical{background:#d6f3ff}mark.historical{background:#dfe8ff}
mark.uncertain{outline:1px dashed #b58900}.flags{color:#555;font-size:.9em}
.rationale{background:#f4f8ff;border-left:4px solid #4a78c2;padding:.6em 1em}
"""


def to_html(review: Review, texts: Mapping[str, str]) -> str:
    """A standalone HTML review: indications and checklist link to the evidence highlighted in each document.

    `texts` maps document names to their extracted text (the text the offsets index). No external resources.
    """
    from html import escape

    r = review.request
    names = {d.name: n for n, d in enumerate(review.documents)}

    def anchor(document: str, start: int | None) -> str:
        return f"d{names.get(document, 0)}-{start}"

    def evidence_link(f: Finding) -> str:
        flags = ", ".join(f.flags()) or "affirmed"
        return (
            f'<a href="#{anchor(f.document, f.start)}">&ldquo;{escape(f.text)}&rdquo;</a> '
            f'<span class="flags">{escape(f.concept)}, {flags}; {escape(f.document)} p.{f.page}</span>'
        )

    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Brain MRS review ({escape(review.guideline.id)} v{escape(review.guideline.version)})</title>",
        f"<style>{_HTML_STYLE}</style></head><body>",
        f"<h1>Brain MRS prior-authorization review &mdash; {escape(review.guideline.id)} "
        f"version {escape(review.guideline.version)}</h1>",
        f"<p>Patient: {escape(r.patient_name or '-')} &middot; DOB: {escape(r.date_of_birth or '-')} &middot; "
        f"Member: {escape(r.member_id or '-')} &middot; Ordering: {escape(r.ordering_clinician or '-')} &middot; "
        f"CPT: {escape(', '.join(r.cpt_codes) or '-')} &middot; Request date: {escape(r.request_date)}</p>",
        f'<p>Recommendation: <strong>{escape(review.recommendation)}</strong> (prefilled; a human decides)</p>',
        "<h2>Indications</h2><table><tr><th>indication</th><th>status</th><th>evidence</th></tr>",
    ]
    for ind in review.indications:
        evidence = "<br>".join(evidence_link(f) for f in ind.evidence)
        if ind.missing:
            evidence += f'<br><span class="flags">missing: {escape("; ".join(ind.missing))}</span>'
        out.append(
            f"<tr><td>{escape(ind.title)}<br><span class=\"flags\">{escape(ind.id)} ({ind.kind})</span></td>"
            f'<td class="{ind.status}">{ind.status} ({ind.score:.2f})</td><td>{evidence}</td></tr>'
        )
    out.append("</table><h2>Documentation checklist</h2><table>")
    for item in review.documentation:
        links = "<br>".join(
            f'<a href="#{anchor(e.document, e.start)}">{escape(e.text)}</a>' if e.start is not None else escape(e.text)
            for e in item.evidence[:5]
        )
        status = f'<td class="chk-{item.status}">{item.status}</td>'
        out.append(f"<tr><td>{escape(item.description)}</td>{status}<td>{links}</td></tr>")
    out.append("</table>")
    out.append(f'<h2>Draft rationale</h2><p class="rationale">{escape(review.rationale)}</p>')
    spans: dict[str, list[tuple[int, int, str, str]]] = {}
    for f in review.findings:
        label = f"{f.concept}: {', '.join(f.flags()) or 'affirmed'}"
        spans.setdefault(f.document, []).append((f.start, f.end, " ".join(f.flags()), label))
    for item in review.documentation:
        for e in item.evidence:
            if e.start is not None and e.end is not None:
                spans.setdefault(e.document, []).append((e.start, e.end, "", item.id))
    for d in review.documents:
        out.append(f'<h2 id="doc{names[d.name]}">{escape(d.name)}</h2>')
        if d.error:
            out.append(f"<p>Could not be read: {escape(d.error)}</p>")
            continue
        out.append(f"<p class=\"flags\">{escape(d.type or '')}, {d.pages} page(s)</p>")
        out.append(f"<pre>{_highlight(texts.get(d.name, ''), spans.get(d.name, []), names[d.name])}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _highlight(text: str, spans: list[tuple[int, int, str, str]], doc: int) -> str:
    """Escape the text and wrap each non-overlapping span in <mark> with an anchor the tables link to."""
    from html import escape

    parts = []
    pos = 0
    ids: set[int] = set()
    for start, end, classes, label in sorted(set(spans)):
        if end > len(text) or start in ids:
            continue
        if start < pos:
            parts.append(f'<span id="d{doc}-{start}"></span>')
            ids.add(start)
            continue
        ids.add(start)
        parts.append(escape(text[pos:start]))
        parts.append(
            f'<mark id="d{doc}-{start}" class="{classes}" title="{escape(label)}">{escape(text[start:end])}</mark>'
        )
        pos = end
    parts.append(escape(text[pos:]))
    return "".join(parts)
