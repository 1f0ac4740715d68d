"""The review as one self-contained HTML page, each finding highlighted in its document's text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from extractor.schemas import Finding, Review


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
        f"<p>Recommendation: <strong>{escape(review.recommendation)}</strong> (prefilled; a human decides)</p>",
        "<h2>Indications</h2><table><tr><th>indication</th><th>status</th><th>evidence</th></tr>",
    ]
    for ind in review.indications:
        evidence = "<br>".join(evidence_link(f) for f in ind.evidence)
        if ind.missing:
            evidence += f'<br><span class="flags">missing: {escape("; ".join(ind.missing))}</span>'
        out.append(
            f'<tr><td>{escape(ind.title)}<br><span class="flags">{escape(ind.id)} ({ind.kind})</span></td>'
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
        out.append(f'<p class="flags">{escape(d.type or "")}, {d.pages} page(s)</p>')
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
