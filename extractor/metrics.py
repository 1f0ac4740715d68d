"""Figures of the request clock and of oversight of the prefill (SPEC "Request clock", docs/metrics.md).

`report` is exactly what `GET /api/metrics` answers; `oversight` adds what the admin page and the quarterly AI
tool review show (agreement per recommendation and indication with the disagreeing cases, the QA sample's
inter-rater agreement, decision times by week). Every figure is over cases *received* in [start, end]."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor import PIPELINE_VERSION, clock, knowledge, store
from extractor.schemas import DECISIONS, RECOMMENDATIONS

APPROVE, LIKELY = "approve", "likely_meets_criteria"


@dataclass
class Period:
    """Receipt dates [start, end], both inclusive; None is open."""

    start: date | None = None
    end: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        low = datetime.combine(self.start, time()) if self.start else None
        high = datetime.combine(self.end + timedelta(days=1), time()) if self.end else None
        return low, high


def quarter(label: str) -> Period:
    """ "2026-Q4" (or "2026Q4") as its dates; ValueError for anything else."""
    text = label.strip().upper().replace("-", "")
    if len(text) != 6 or text[4] != "Q" or text[5] not in "1234" or not text[:4].isdigit():
        raise ValueError("quarter must look like 2026-Q4")
    year, q = int(text[:4]), int(text[5])
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - timedelta(days=1)
    return Period(start, end)


def cases_in(session: Session, period: Period) -> list[store.Case]:
    low, high = period.bounds()
    query = select(store.Case)
    if low is not None:
        query = query.where(store.Case.received_at >= low)
    if high is not None:
        query = query.where(store.Case.received_at < high)
    return list(session.scalars(query.order_by(store.Case.received_at, store.Case.id)))


def hours(case: store.Case) -> float:
    return (case.decided_at - case.received_at).total_seconds() / 3600


def _fraction(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def recommendation_agrees(decision: str, recommendation: str | None) -> bool:
    """A reviewer's approval meets likely_meets_criteria; a non-approval meets any other recommendation."""
    return (decision == APPROVE) == (recommendation == LIKELY)


def _overridden(session: Session, case_ids: list[str]) -> dict[str, set[str]]:
    """Indications each case's reviewers changed (across every decision of the case)."""
    found: dict[str, set[str]] = defaultdict(set)
    if case_ids:
        rows = session.execute(
            select(store.Decision.case_id, store.Override.indication_id)
            .join(store.Override, store.Override.decision_id == store.Decision.id)
            .where(store.Decision.case_id.in_(case_ids))
        )
        for case_id, indication in rows:
            found[case_id].add(indication)
    return found


def _indications(session: Session, case_ids: list[str]) -> dict[str, list[str]]:
    """The indication ids each case's review reports (every review lists all of them)."""
    out: dict[str, list[str]] = {}
    if case_ids:
        for case_id, raw in session.execute(
            select(store.ReviewRow.case_id, store.ReviewRow.review_json).where(store.ReviewRow.case_id.in_(case_ids))
        ):
            out[case_id] = [i["id"] for i in json.loads(raw).get("indications", [])]
    return out


def report(session: Session, period: Period) -> dict:
    """The figures of `GET /api/metrics` (SPEC "Request clock")."""
    cases = cases_in(session, period)
    decided = [c for c in cases if c.decision and c.decided_at and c.received_at]
    counts = Counter(c.decision or "undecided" for c in cases)
    out: dict = {"cases": len(cases), "by_decision": {d: counts.get(d, 0) for d in (*DECISIONS, "undecided")}}
    for urgency in clock.URGENCIES:
        mine = [c for c in decided if c.urgency == urgency]
        times = [hours(c) for c in mine]
        out[urgency] = {
            "decided": len(mine),
            "decision_hours": {
                "mean": statistics.fmean(times) if times else None,
                "median": statistics.median(times) if times else None,
            },
            "within_clock": _fraction(sum(bool(clock.within_clock(c.due_at, c.decided_at)) for c in mine), len(mine)),
        }
    ids = [c.id for c in decided]
    overridden, indications = _overridden(session, ids), _indications(session, ids)
    pairs = [(c.id, i) for c in decided for i in indications.get(c.id, [])]
    out["agreement"] = {
        "recommendation": _fraction(sum(recommendation_agrees(c.decision, c.recommendation) for c in decided),
                                    len(decided)),
        "indications": _fraction(sum(i not in overridden[c] for c, i in pairs), len(pairs)),
    }  # fmt: skip
    return out


def flatten(figures: dict, prefix: str = "") -> list[tuple[str, object]]:
    """The figures as (dotted name, value) rows, the CSV export's rows."""
    rows: list[tuple[str, object]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flatten(value, name + ".")
        else:
            rows.append((name, value))
    return rows


def _week(day: datetime) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def qa_figures(session: Session, period: Period) -> dict:
    """Inter-rater agreement of the QA sample: share of second reviews that matched the first decision, and
    Cohen's kappa (scikit-learn) over the decision categories; None while too few to say."""
    low, high = period.bounds()
    reviewed = store.qa_reviews(session, low, high)
    first = [q.first.decision for q in reviewed]
    second = [q.decision for q in reviewed]
    kappa = None
    if len(set(first) | set(second)) > 1:
        from sklearn.metrics import cohen_kappa_score  # lazy: scikit-learn and SciPy take ~1 s; only QA needs it

        kappa = float(cohen_kappa_score(first, second, labels=list(DECISIONS)))
    return {
        "reviewed": len(reviewed),
        "agreement": _fraction(sum(a == b for a, b in zip(first, second, strict=True)), len(reviewed)),
        "kappa": kappa,
        "disagreeing": [q.case_id for q in reviewed if q.first.decision != q.decision],
    }


def oversight(session: Session, period: Period) -> dict:
    """What the admin page shows beyond `report`: agreement per recommendation and per indication with the
    disagreeing cases, decision times per urgency (for the chart) and the share within the clock by week."""
    cases = cases_in(session, period)
    decided = [c for c in cases if c.decision and c.decided_at and c.received_at]
    ids = [c.id for c in decided]
    overridden, indications = _overridden(session, ids), _indications(session, ids)
    per_rec = {}
    for rec in RECOMMENDATIONS:
        mine = [c for c in decided if c.recommendation == rec]
        agreed = sum(recommendation_agrees(c.decision, rec) for c in mine)
        per_rec[rec] = {"decided": len(mine), "agreed": agreed, "agreement": _fraction(agreed, len(mine))}
    per_ind: dict[str, dict] = {}
    for c in decided:
        for ind in indications.get(c.id, []):
            row = per_ind.setdefault(ind, {"decided": 0, "overridden": 0, "cases": []})
            row["decided"] += 1
            if ind in overridden[c.id]:
                row["overridden"] += 1
                row["cases"].append(c.id)
    for row in per_ind.values():
        row["agreement"] = _fraction(row["decided"] - row["overridden"], row["decided"])
    disagreeing = [
        {"case_id": c.id, "recommendation": c.recommendation, "decision": c.decision,
         "overridden": sorted(overridden[c.id])}
        for c in decided
        if not recommendation_agrees(c.decision, c.recommendation) or overridden[c.id]
    ]  # fmt: skip
    weeks: dict[str, list[bool]] = defaultdict(list)
    for c in decided:
        weeks[_week(c.decided_at)].append(bool(clock.within_clock(c.due_at, c.decided_at)))
    return {
        "by_recommendation": per_rec,
        "by_indication": per_ind,
        "disagreeing": disagreeing,
        "decision_hours": {u: sorted(hours(c) for c in decided if c.urgency == u) for u in clock.URGENCIES},
        "within_clock_by_week": [
            {"week": w, "decided": len(v), "within_clock": sum(v) / len(v)} for w, v in sorted(weeks.items())
        ],
        "qa": qa_figures(session, period),
    }


def ai_tool_review(session: Session, period: Period, now: datetime) -> dict:
    """The periodic "AI tool review" (state laws on AI in utilization review): the figures, oversight and QA of
    the period with the guideline and pipeline versions in force and those the period's reviews used."""
    versions: Counter[tuple[str, str]] = Counter()
    ids = [c.id for c in cases_in(session, period)]
    if ids:
        for raw, pipeline in session.execute(
            select(store.ReviewRow.review_json, store.ReviewRow.pipeline_version).where(
                store.ReviewRow.case_id.in_(ids)
            )
        ):
            guideline = json.loads(raw).get("guideline", {})
            versions[(f"{guideline.get('id')}@{guideline.get('version')}", pipeline or "")] += 1
    in_force = knowledge.guideline_for(period.end or now.date())
    return {
        "kind": "ai_tool_review",
        "from": period.start.isoformat() if period.start else None,
        "to": period.end.isoformat() if period.end else None,
        "generated_at": clock.iso_z(now),
        "pipeline_version": PIPELINE_VERSION,
        "guideline": {"id": in_force.id, "version": in_force.version, "title": in_force.title},
        "reviews_by_version": [
            {"guideline": g, "pipeline_version": p, "cases": n} for (g, p), n in sorted(versions.items())
        ],
        "human_review": "every decision is a reviewer's; the system never denies (no adverse determination)",
        "metrics": report(session, period),
        "oversight": oversight(session, period),
    }
