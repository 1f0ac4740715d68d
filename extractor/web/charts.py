"""The metrics page's charts as inline SVG (no JavaScript library): decision times per urgency, and the share
decided within the clock by week. Values are numbers and labels this module builds, escaped all the same."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

HOUR_BINS = [(0, 24, "<24 h"), (24, 48, "24-48 h"), (48, 72, "48-72 h"), (72, 120, "3-5 d"), (120, 168, "5-7 d"),
             (168, float("inf"), ">7 d")]  # fmt: skip
COLOURS = {"expedited": "#b3261e", "standard": "#1f5fa8"}
WIDTH, HEIGHT, PAD = 640, 220, 36


def _svg(element_id: str, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{element_id}" role="img" width="{WIDTH}" '
            f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>')  # fmt: skip


def hour_bins(values: list[float]) -> list[int]:
    return [sum(low <= v < high for v in values) for low, high, _ in HOUR_BINS]


def decision_time_chart(hours: dict[str, list[float]]) -> Markup:
    """Grouped bars: how many cases of each urgency were decided within each span of hours after receipt."""
    counts = {u: hour_bins(v) for u, v in hours.items()}
    top = max([1, *(n for row in counts.values() for n in row)])
    group = (WIDTH - 2 * PAD) / len(HOUR_BINS)
    bar = group / (len(counts) + 1)
    parts = [_svg("chart-decision-hours", "Decision time after receipt, by urgency")]
    base = HEIGHT - PAD
    for i, (_, _, label) in enumerate(HOUR_BINS):
        x0 = PAD + i * group
        for j, (urgency, row) in enumerate(counts.items()):
            h = (base - 12) * row[i] / top
            parts.append(f'<rect class="bar bar-{escape(urgency)}" x="{x0 + j * bar + bar / 2:.1f}" y="{base - h:.1f}" '
                         f'width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS.get(urgency, "#666")}">'
                         f"<title>{escape(urgency)} {escape(label)}: {row[i]}</title></rect>")  # fmt: skip
        parts.append(f'<text x="{x0 + group / 2:.1f}" y="{base + 14}" font-size="11" text-anchor="middle">'
                     f"{escape(label)}</text>")  # fmt: skip
    for j, urgency in enumerate(counts):
        parts.append(f'<text x="{PAD + j * 110}" y="14" font-size="12" fill="{COLOURS.get(urgency, "#666")}">'
                     f"■ {escape(urgency)} ({len(hours[urgency])})</text>")  # fmt: skip
    parts.append(f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#999"/></svg>')
    return Markup("".join(parts))


def weekly_chart(weeks: list[dict]) -> Markup:
    """A line of the share decided within the clock, one point per ISO week of decision."""
    parts = [_svg("chart-within-clock", "Share decided within the clock, by week")]
    base, span = HEIGHT - PAD, HEIGHT - 2 * PAD
    step = (WIDTH - 2 * PAD) / max(1, len(weeks) - 1) if len(weeks) > 1 else 0
    points = []
    for i, w in enumerate(weeks):
        x, y = PAD + i * step if step else WIDTH / 2, base - span * w["within_clock"]
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle class="week" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f5fa8"><title>'
                     f'{escape(w["week"])}: {w["within_clock"]:.0%} of {w["decided"]}</title></circle>'
                     f'<text x="{x:.1f}" y="{base + 14}" font-size="10" text-anchor="middle">'
                     f'{escape(w["week"])}</text>')  # fmt: skip
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#1f5fa8"/>')
    for share in (0, 0.5, 1):
        y = base - span * share
        parts.append(f'<text x="4" y="{y + 4:.1f}" font-size="10">{share:.0%}</text>'
                     f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}" stroke="#ddd"/>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
