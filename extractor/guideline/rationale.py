"""The drafted rationale: the reviewer's starting text, from the guideline's templates and the evidence."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import zip_longest
from typing import TYPE_CHECKING

from extractor import knowledge
from extractor.guideline.indications import qualifies, strength

if TYPE_CHECKING:
    from extractor.knowledge import Guideline, Indication, RationaleTemplates
    from extractor.schemas import Finding, IndicationResult, Review


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
