"""Inline SVG for the public site (no script, no CDN): a KPI's monthly line against its target, and progress bars.

Every chart carries its numbers in words too (a <title> and the table beside it), so colour is never the only cue.
"""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 200, 36


def line_chart(points: list[tuple[str, float | None]], target: float | None, label: str) -> Markup:
    """Monthly values (None = withheld or not reported: a gap in the line) with the target as a dashed line."""
    values = [v for _, v in points if v is not None] + ([target] if target is not None else [])
    if not points or not values:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.1, high + span * 0.1

    def x(i: int) -> float:
        return PAD + (WIDTH - 2 * PAD) * (i / max(len(points) - 1, 1))

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * ((v - low) / (high - low))

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}">']
    if target is not None:
        parts.append(f'<line class="target" x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(target):.1f}" y2="{y(target):.1f}"/>'
                     f'<text class="axis" x="{WIDTH - PAD}" y="{y(target) - 4:.1f}" text-anchor="end">target</text>')
    segment: list[str] = []
    for i, (_, value) in enumerate(points + [("", None)]):
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline class="line" points="{" ".join(segment)}"/>')
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(value):.1f}")
    for i, (period, value) in enumerate(points):
        if value is not None:
            parts.append(f'<circle class="dot" cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.5">'
                         f"<title>{escape(period)}: {value:,.1f}</title></circle>")
    parts.append(f'<text class="axis" x="{PAD}" y="{HEIGHT - 10}">{escape(points[0][0])}</text>'
                 f'<text class="axis" x="{WIDTH - PAD}" y="{HEIGHT - 10}" text-anchor="end">{escape(points[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar(share: float | None, label: str, css: str = "") -> Markup:
    """A horizontal bar filled to ``share`` (0-1), labelled in words."""
    filled = 0.0 if share is None else max(0.0, min(1.0, float(share)))
    return Markup(f'<svg class="bar {escape(css)}" viewBox="0 0 300 14" role="img" aria-label="{escape(label)}">'
                  f'<rect class="track" x="0" y="0" width="300" height="14" rx="3"/>'
                  f'<rect class="fill" x="0" y="0" width="{300 * filled:.1f}" height="14" rx="3"/></svg>')
