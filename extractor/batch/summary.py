"""What a finished backfill reports: counts by outcome, recommendation, indication, guideline and month."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from extractor.private import write_private
from extractor.schemas import RECOMMENDATIONS

from .state import ERROR, OK, state_engine, summary_rows

# --- summary ---------------------------------------------------------------------------------------


@dataclass
class Summary:
    total: int = 0
    ok: int = 0
    failed: int = 0
    quarantined: int = 0
    recommendations: dict[str, int] = field(default_factory=dict)
    indications: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    guideline_versions: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)


def summarize(state: str, case_ids: Sequence[str]) -> Summary:
    """Counts over the finished rows of these cases, from the small summary columns (no review parsing)."""
    wanted = set(case_ids)
    engine = state_engine(state)
    s = Summary()
    try:
        rows = summary_rows(engine)
    finally:
        engine.dispose()
    for r in rows:
        if r.case_id not in wanted:
            continue
        s.total += 1
        if r.status == OK:
            s.ok += 1
            s.recommendations[r.recommendation] = s.recommendations.get(r.recommendation, 0) + 1
            s.guideline_versions[r.guideline_version] = s.guideline_versions.get(r.guideline_version, 0) + 1
            month = s.by_month.setdefault(r.request_month, {})
            month[r.recommendation] = month.get(r.recommendation, 0) + 1
            for ind, status in json.loads(r.indications).items():
                counts = s.indications.setdefault(ind, {})
                counts[status] = counts.get(status, 0) + 1
        elif r.status == ERROR:
            s.failed += 1
            s.quarantined += bool(r.quarantined)
            s.failures[r.reason or "error"] = s.failures.get(r.reason or "error", 0) + 1
    s.by_month = dict(sorted(s.by_month.items()))
    return s


COLORS = {
    "likely_meets_criteria": "#2e7d32",
    "experimental_investigational": "#f9a825",
    "needs_clinical_review": "#1565c0",
}


def print_summary(summary: Summary, console: Console, report: Path | None = None, output: Path | None = None) -> None:
    console.print(
        f"[bold]{summary.total} cases[/]: {summary.ok} ok, {summary.failed} failed"
        + (f" ({summary.quarantined} quarantined)" if summary.quarantined else "")
    )
    t = Table(title="Recommendations", title_justify="left")
    t.add_column("recommendation")
    t.add_column("cases", justify="right")
    for rec in RECOMMENDATIONS:
        t.add_row(rec, str(summary.recommendations.get(rec, 0)))
    console.print(t)
    statuses = ["supported", "partial", "present", "not_found"]
    t = Table(title="Indications", title_justify="left")
    t.add_column("indication")
    for s in statuses:
        t.add_column(s, justify="right")
    for ind, counts in summary.indications.items():
        t.add_row(ind, *(str(counts.get(s, 0)) if counts.get(s) else "" for s in statuses))
    console.print(t)
    if summary.failures:
        t = Table(title="Failures by reason", title_justify="left")
        t.add_column("reason")
        t.add_column("cases", justify="right")
        for reason, n in sorted(summary.failures.items(), key=lambda kv: -kv[1]):
            t.add_row(reason, str(n))
        console.print(t)
    if summary.guideline_versions:
        versions = ", ".join(f"{v}: {n}" for v, n in sorted(summary.guideline_versions.items()))
        console.print(f"Guideline versions: {versions}")
    if output:
        console.print(f"Results: {output}")
    if report:
        console.print(f"Report: {report}")


def month_chart(by_month: dict[str, dict[str, int]], width: int = 760, height: int = 260) -> str:
    """Stacked bars of recommendations per month of request, as inline SVG."""
    if not by_month:
        return "<p>No reviewed cases.</p>"
    months = list(by_month)
    top = max(sum(v.values()) for v in by_month.values())
    left, bottom, pad = 40, 40, 10
    plot_w, plot_h = width - left - pad, height - bottom - pad
    bar = plot_w / len(months)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img" '
        f'aria-label="Recommendations by month of request">'
    ]
    parts.append(f'<line x1="{left}" y1="{pad + plot_h}" x2="{left + plot_w}" y2="{pad + plot_h}" stroke="#444"/>')
    parts.append(f'<text x="{left - 6}" y="{pad + 8}" text-anchor="end" font-size="11">{top}</text>')
    parts.append(f'<text x="{left - 6}" y="{pad + plot_h}" text-anchor="end" font-size="11">0</text>')
    label_every = max(1, len(months) // 12)
    for i, month in enumerate(months):
        x = left + i * bar
        y = pad + plot_h
        for rec in RECOMMENDATIONS:
            n = by_month[month].get(rec, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{x + bar * 0.1:.1f}" y="{y:.1f}" width="{bar * 0.8:.1f}" height="{h:.1f}" '
                f'fill="{COLORS[rec]}"><title>{html.escape(month)} {rec}: {n}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{pad + plot_h + 16}" text-anchor="middle" font-size="11">'
                f"{html.escape(month)}</text>"
            )
    for j, rec in enumerate(RECOMMENDATIONS):
        lx = left + j * 240
        parts.append(f'<rect x="{lx}" y="{height + 10}" width="12" height="12" fill="{COLORS[rec]}"/>')
        parts.append(f'<text x="{lx + 16}" y="{height + 20}" font-size="12">{rec}</text>')
    parts.append("</svg>")
    return "".join(parts)


def write_report(path: Path, summary: Summary, source: str) -> None:
    """A small self-contained HTML page (no scripts, no external assets, counts only: no PHI)."""

    def table(head: list[str], rows: list[list[object]]) -> str:
        th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
        return f"<table><tr>{th}</tr>{body}</table>"

    statuses = ["supported", "partial", "present", "not_found"]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backfill report</title>
<style>body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:left}}td:not(:first-child){{text-align:right}}</style>
</head><body>
<h1>Backfill report</h1>
<p>Input: {html.escape(source)}<br>Generated: {generated}</p>
<p><strong>{summary.total}</strong> cases: <strong>{summary.ok}</strong> reviewed,
<strong>{summary.failed}</strong> failed ({summary.quarantined} quarantined).</p>
<h2>Recommendations by month of request</h2>
{month_chart(summary.by_month)}
<h2>Recommendations</h2>
{table(["recommendation", "cases"], [[r, summary.recommendations.get(r, 0)] for r in RECOMMENDATIONS])}
<h2>Indications</h2>
{table(["indication", *statuses], [[i, *(c.get(s, 0) for s in statuses)] for i, c in summary.indications.items()])}
<h2>Failures by reason</h2>
{table(["reason", "cases"], sorted(([r, n] for r, n in summary.failures.items()), key=lambda x: -x[1]))}
<h2>Guideline versions</h2>
{table(["version", "cases"], sorted([v, n] for v, n in summary.guideline_versions.items()))}
</body></html>
"""
    write_private(path, page.encode("utf-8"))
