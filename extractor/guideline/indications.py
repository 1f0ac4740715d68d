"""Findings in, indication statuses and the recommendation out; generic over the guideline model."""

from __future__ import annotations

from extractor.knowledge import ConceptCheck, Guideline
from extractor.schemas import CriterionResult, Finding, IndicationResult

FLAG_STRENGTH = {"uncertain": 0.85, "hypothetical": 0.7}
MAX_EVIDENCE_PER_CRITERION = 25


FLAG_STRENGTH = {"uncertain": 0.85, "hypothetical": 0.7}
MAX_EVIDENCE_PER_CRITERION = 25


def qualifies(finding: Finding, check: ConceptCheck) -> bool:
    return finding.concept in check.concepts and not any(getattr(finding, flag) for flag in check.exclude)


def strength(finding: Finding) -> float:
    value = 1.0
    for flag, weight in FLAG_STRENGTH.items():
        if getattr(finding, flag):
            value = min(value, weight)
    return value


def evaluate_indications(guideline: Guideline, findings: list[Finding]) -> list[IndicationResult]:
    results = []
    for ind in guideline.indications:
        if ind.not_in_version:
            results.append(
                IndicationResult(
                    id=ind.id,
                    kind=ind.kind,
                    title=ind.title,
                    status="not_found",
                    score=0.0,
                    missing=[ind.not_in_version],
                )
            )
            continue
        criteria: list[CriterionResult] = []
        evidence: dict[int, Finding] = {}
        for criterion in ind.criteria:
            hits = [f for f in findings if any(qualifies(f, check) for check in criterion.any_of)]
            best = max((strength(f) for f in hits), default=0.0)
            criteria.append(
                CriterionResult(id=criterion.id, description=criterion.description, met=bool(hits), strength=best)
            )
            strongest = sorted(hits, key=strength, reverse=True)[:MAX_EVIDENCE_PER_CRITERION]
            evidence.update((id(f), f) for f in strongest)
        met = {c.id for c in criteria if c.met}
        missing = [c.description for c in criteria if not c.met]
        if ind.kind == "experimental":
            status = "present" if met else "not_found"
            score = max((c.strength for c in criteria), default=0.0)
        else:
            status = "not_found"
            for word, rule in (("supported", ind.supported_when), ("partial", ind.partial_when)):
                if rule and len(met) >= rule.min_met and set(rule.required) <= met:
                    status = word
                    break
            score = sum(c.strength for c in criteria) / len(criteria)
        ordered = sorted(evidence.values(), key=lambda f: (f.document, f.start))
        results.append(
            IndicationResult(
                id=ind.id,
                kind=ind.kind,
                title=ind.title,
                status=status,
                score=round(score, 2),
                evidence=ordered,
                missing=missing if status not in ("supported", "present") else [],
                criteria=criteria,
            )
        )
    return results


def recommend(guideline: Guideline, results: list[IndicationResult]) -> str:
    for rule in guideline.recommendation_rules:
        if any(all(getattr(r, k) == v for k, v in rule.when_any.items()) for r in results):
            return rule.recommendation
    return guideline.default_recommendation
