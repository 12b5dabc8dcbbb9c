"""The report's charts, rendered to inline SVG (no script, no network).

Each chart says what it shows in words too: titles, axis labels, value labels on
the bars and lines, and series told apart by dash and texture as well as colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup

from pipelines.report.data import (
    ALL_PRIORITIES,
    HISTOGRAM_EDGES,
    BacklogCell,
    PriorityCompliance,
    ResponseHistogram,
    TechnicianHours,
    WeekCompliance,
)
from pipelines.report.format import hours, minutes, month_name, percent, short_minutes
from pipelines.report.svg import (
    GRID,
    INK,
    MUTED,
    Style,
    fill_of,
    line,
    pattern_defs,
    priority_style,
    rect,
    svg,
    tag,
    text,
)

WIDTH = 560
HALO = {"paint_order": "stroke", "stroke": "#ffffff", "stroke_width": 3}
"""Text drawn over bars or lines keeps a white outline, readable on any fill."""


def styles_for(priorities: list[str]) -> dict[str, Style]:
    return {p: priority_style(p, i) for i, p in enumerate(priorities)}


def compliance_bars(rows: list[PriorityCompliance]) -> Markup:
    """Bars: compliance % per priority, labelled with the value, target and tickets."""
    height, left, top, bottom = 300, 44, 24, 62
    plot_w, plot_h = WIDTH - left - 12, height - top - bottom
    styles = styles_for([r.priority for r in rows])
    parts = _percent_grid(left, top, plot_w, plot_h, 0)
    slot = plot_w / max(len(rows), 1)
    for index, row in enumerate(rows):
        x = left + slot * index + slot * 0.18
        bar_w = slot * 0.64
        centre = x + bar_w / 2
        if row.compliance_pct is None:
            parts.append(
                text(
                    centre,
                    top + plot_h - 8,
                    "no judged tickets",
                    text_anchor="middle",
                    fill=MUTED,
                    font_size=11,
                )
            )
        else:
            bar_h = plot_h * row.compliance_pct / 100
            tooltip = (
                f"{row.priority}: {percent(row.compliance_pct)} met "
                f"({row.met:,} met, {row.breached:,} breached)"
            )
            parts.append(
                rect(
                    x, top + plot_h - bar_h, bar_w, bar_h, tooltip, fill=styles[row.priority].colour
                )
            )
            parts.append(
                text(
                    centre,
                    top + plot_h - bar_h - 5,
                    percent(row.compliance_pct),
                    text_anchor="middle",
                    font_weight="bold",
                    **HALO,
                )
            )
        target = (
            "no target" if row.target_minutes is None else f"target {minutes(row.target_minutes)}"
        )
        parts.append(
            text(centre, top + plot_h + 16, row.priority, text_anchor="middle", font_weight="bold")
        )
        parts.append(
            text(centre, top + plot_h + 31, target, text_anchor="middle", font_size=11, fill=MUTED)
        )
        parts.append(
            text(
                centre,
                top + plot_h + 45,
                f"{row.met:,} of {row.met + row.breached:,} met",
                text_anchor="middle",
                font_size=11,
                fill=MUTED,
            )
        )
    return svg(WIDTH, height, "First-response SLA compliance by priority", parts)


def weekly_trend(weeks: list[date], points: list[WeekCompliance], priorities: list[str]) -> Markup:
    """Lines: compliance % per week of creation, per priority and over all priorities."""
    height, left, top, bottom, right = 300, 44, 16, 40, 104
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    values = [p.compliance_pct for p in points if p.compliance_pct is not None]
    low = max(0.0, math.floor((min(values, default=0) - 5) / 10) * 10)
    series = [ALL_PRIORITIES, *priorities]
    styles = styles_for(priorities)
    parts = _percent_grid(left, top, plot_w, plot_h, low)
    step = plot_w / max(len(weeks) - 1, 1)
    for index, week in enumerate(weeks):
        if index % 2 == (len(weeks) - 1) % 2:
            parts.append(
                text(
                    left + step * index,
                    top + plot_h + 16,
                    week.strftime("%b %d"),
                    text_anchor="middle",
                    font_size=11,
                    fill=MUTED,
                )
            )
    parts.append(
        text(
            left + plot_w / 2,
            height - 4,
            "week of creation (starting Monday)",
            text_anchor="middle",
            font_size=11,
            fill=MUTED,
        )
    )
    by_key = {(p.week_start, p.priority): p for p in points}
    labels: list[tuple[float, str, str]] = []
    for rank, name in enumerate(series):
        style = Style(INK, "", "solid") if name == ALL_PRIORITIES else styles[name]
        coords = []
        for index, week in enumerate(weeks):
            point = by_key.get((week, name))
            value = point.compliance_pct if point else None
            y = None if value is None else top + plot_h * (100 - value) / (100 - low)
            coords.append((left + step * index, y, point))
        parts.append(_polyline(coords, style, bold=name == ALL_PRIORITIES))
        parts.extend(_markers(coords, style, rank, name))
        last = next((y for _, y, _ in reversed(coords) if y is not None), None)
        if last is not None:
            labels.append((last, name, style.colour))
    if not labels:
        parts.append(
            text(
                left + plot_w / 2,
                top + plot_h / 2,
                "no judged tickets in these weeks",
                text_anchor="middle",
                fill=MUTED,
            )
        )
    for y, name, colour in _spread(labels, 13, top, top + plot_h):
        parts.append(
            text(left + plot_w + 8, y + 4, name, fill=colour, font_size=11, font_weight="bold")
        )
    return svg(WIDTH, height, "Weekly first-response SLA compliance, last 12 weeks", parts)


def response_histogram(histogram: ResponseHistogram, median: float | None, position: int) -> Markup:
    """Bars: fulfilled tickets of one priority per response-time bin, the target marked."""
    height, left, top, bottom = 210, 40, 34, 36
    plot_w, plot_h = WIDTH - left - 12, height - top - bottom
    style = priority_style(histogram.priority, position)
    bins = len(histogram.counts)
    slot = plot_w / bins
    peak = max(histogram.counts, default=0)
    answered = sum(histogram.counts)
    title = f"{histogram.priority}: {answered:,} answered"
    if median is not None:
        title += f", median {minutes(median)}"
    if histogram.not_fulfilled:
        title += f"; {histogram.not_fulfilled:,} not yet"
    parts = [text(left, 16, title, font_weight="bold", font_size=13)]
    parts.append(line(left, top + plot_h, left + plot_w, top + plot_h, stroke=MUTED))
    for index, count in enumerate(histogram.counts):
        bar_h = plot_h * count / peak if peak else 0
        x = left + slot * index + 2
        low = 0 if index == 0 else HISTOGRAM_EDGES[index - 1]
        span = (
            f"{short_minutes(low)}–{short_minutes(HISTOGRAM_EDGES[index])}"
            if index < len(HISTOGRAM_EDGES)
            else f"over {short_minutes(low)}"
        )
        parts.append(
            rect(
                x,
                top + plot_h - bar_h,
                slot - 4,
                bar_h,
                f"{span}: {count:,} tickets",
                fill=style.colour,
            )
        )
        if count:
            parts.append(
                text(
                    x + (slot - 4) / 2,
                    top + plot_h - bar_h - 3,
                    f"{count:,}",
                    text_anchor="middle",
                    font_size=10,
                )
            )
    edges = ["0", *(short_minutes(e) for e in HISTOGRAM_EDGES), "more"]
    for index, label in enumerate(edges):
        parts.append(
            text(
                left + slot * index,
                top + plot_h + 14,
                label,
                text_anchor="middle",
                font_size=10,
                fill=MUTED,
            )
        )
    parts.append(
        text(
            left + plot_w / 2,
            height - 4,
            "minutes to first response or resolution",
            text_anchor="middle",
            font_size=11,
            fill=MUTED,
        )
    )
    parts.append(
        text(
            8,
            top + plot_h / 2,
            "tickets",
            font_size=11,
            fill=MUTED,
            transform=f"rotate(-90 12 {top + plot_h / 2:.0f})",
            text_anchor="middle",
        )
    )
    if histogram.target_minutes is not None:
        x = left + slot * _bin_position(histogram.target_minutes)
        parts.append(
            line(x, top - 6, x, top + plot_h, stroke=INK, stroke_width=2, stroke_dasharray="5 3")
        )
        parts.append(
            text(
                x + 4,
                top + 2,
                f"target {minutes(histogram.target_minutes)}",
                font_size=11,
                font_weight="bold",
                **HALO,
            )
        )
    return svg(
        WIDTH, height, f"Response times, {histogram.priority}", parts, class_="chart histogram"
    )


def backlog_stacked(cells: list[BacklogCell], priorities: list[str]) -> Markup:
    """Stacked bars: open tickets per age bucket, one segment per priority."""
    height, left, top, bottom = 300, 44, 40, 34
    plot_w, plot_h = WIDTH - left - 12, height - top - bottom
    buckets = list(dict.fromkeys(c.age_bucket for c in cells))
    present = [p for p in priorities if any(c.priority == p for c in cells)]
    styles = styles_for(present)
    totals = {b: sum(c.tickets for c in cells if c.age_bucket == b) for b in buckets}
    scale_max, ticks = _nice_scale(max(totals.values(), default=0))
    parts: list[Markup] = [pattern_defs("backlog", styles)]
    for tick in ticks:
        y = top + plot_h - plot_h * tick / scale_max
        parts.append(line(left, y, left + plot_w, y))
        parts.append(
            text(left - 6, y + 4, f"{tick:,}", text_anchor="end", font_size=11, fill=MUTED)
        )
    parts.append(
        _legend(left, 14, [(p, fill_of("backlog", styles, p), styles[p].colour) for p in present])
    )
    slot = plot_w / max(len(buckets), 1)
    for index, bucket in enumerate(buckets):
        x, bar_w, base = left + slot * index + slot * 0.2, slot * 0.6, float(top + plot_h)
        for cell in (c for c in cells if c.age_bucket == bucket and c.tickets):
            seg = plot_h * cell.tickets / scale_max
            base -= seg
            tooltip = (
                f"{bucket}, {cell.priority}: {cell.tickets:,} open ({cell.sla_breached:,} breached)"
            )
            parts.append(
                rect(
                    x,
                    base,
                    bar_w,
                    seg,
                    tooltip,
                    fill=fill_of("backlog", styles, cell.priority),
                    stroke=styles[cell.priority].colour,
                )
            )
            if seg >= 14:
                parts.append(
                    text(
                        x + bar_w / 2,
                        base + seg / 2 + 4,
                        f"{cell.tickets:,}",
                        text_anchor="middle",
                        font_size=10,
                        **HALO,
                    )
                )
        parts.append(
            text(
                x + bar_w / 2,
                base - 5,
                f"{totals[bucket]:,}",
                text_anchor="middle",
                font_weight="bold",
            )
        )
        parts.append(
            text(x + bar_w / 2, top + plot_h + 16, bucket, text_anchor="middle", font_size=11)
        )
    parts.append(
        text(
            left + plot_w / 2,
            height - 2,
            "age of the open ticket",
            text_anchor="middle",
            font_size=11,
            fill=MUTED,
        )
    )
    return svg(WIDTH, height, "Open backlog by age and priority", parts)


def hours_bars(rows: list[TechnicianHours], months: tuple[date, date]) -> Markup:
    """Horizontal bars: billable hours per technician, last full month and this month."""
    left, top, row_h, label_w = 150, 34, 34, 60
    height = top + row_h * max(len(rows), 1) + 38
    plot_w = WIDTH - left - label_w
    peak = max((max(r.previous_billable, r.current_billable) for r in rows), default=0)
    scale_max, ticks = _nice_scale(peak)
    colours = ("#9ecae1", "#08519c")
    names = (f"{month_name(months[0])} (full month)", f"{month_name(months[1])} (to date)")
    parts: list[Markup] = [_legend(left, 14, list(zip(names, colours, colours, strict=True)))]
    bottom = top + row_h * max(len(rows), 1)
    for tick in ticks:
        x = left + plot_w * tick / scale_max
        parts.append(line(x, top - 4, x, bottom))
        parts.append(
            text(x, bottom + 14, f"{tick:,} h", text_anchor="middle", font_size=10, fill=MUTED)
        )
    for index, row in enumerate(rows):
        y = top + row_h * index
        parts.append(
            text(
                left - 8,
                y + row_h / 2 + 4,
                row.technician or "(no technician)",
                text_anchor="end",
                font_size=12,
            )
        )
        for offset, (value, colour, name) in enumerate(
            zip((row.previous_billable, row.current_billable), colours, names, strict=True)
        ):
            bar_y = y + 3 + offset * 14
            bar_w = plot_w * value / scale_max if scale_max else 0
            parts.append(
                rect(
                    left,
                    bar_y,
                    bar_w,
                    13,
                    f"{row.technician or '(no technician)'}, {name}: {hours(value)} billable",
                    fill=colour,
                )
            )
            parts.append(text(left + bar_w + 4, bar_y + 11, hours(value), font_size=11))
    parts.append(
        text(
            left + plot_w / 2,
            bottom + 30,
            "billable hours",
            text_anchor="middle",
            font_size=11,
            fill=MUTED,
        )
    )
    if not rows:
        parts.append(text(left, top + 20, "no work hours logged in these months", fill=MUTED))
    return svg(WIDTH, height, "Billable hours by technician", parts)


def _percent_grid(
    left: float, top: float, plot_w: float, plot_h: float, low: float
) -> list[Markup]:
    parts: list[Markup] = []
    step = 10 if 100 - low <= 50 else 25
    value = 100.0
    while value >= low - 1e-9:
        y = top + plot_h * (100 - value) / (100 - low)
        parts.append(line(left, y, left + plot_w, y, stroke=GRID if value > low else MUTED))
        parts.append(
            text(left - 6, y + 4, f"{value:.0f}%", text_anchor="end", font_size=11, fill=MUTED)
        )
        value -= step
    return parts


def _polyline(
    coords: Sequence[tuple[float, float | None, object]], style: Style, *, bold: bool
) -> Markup:
    path, pen_down = [], False
    for x, y, _ in coords:
        if y is None:
            pen_down = False
            continue
        path.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return tag(
        "path",
        d=" ".join(path) or "M0,0",
        fill="none",
        stroke=style.colour,
        stroke_width=3 if bold else 1.8,
        stroke_dasharray=style.dash or None,
    )


def _markers(
    coords: list[tuple[float, float | None, WeekCompliance | None]],
    style: Style,
    rank: int,
    name: str,
) -> list[Markup]:
    marks: list[Markup] = []
    for x, y, point in coords:
        if y is None or point is None:
            continue
        tooltip = tag(
            "title",
            f"{name}, week of {point.week_start:%b %d}: {percent(point.compliance_pct)} "
            f"({point.met:,} met, {point.breached:,} breached)",
        )
        marks.append(_marker(rank, x, y, style.colour, tooltip))
    return marks


def _marker(rank: int, x: float, y: float, colour: str, tooltip: Markup) -> Markup:
    shape = rank % 5
    if shape == 0:
        return tag("circle", [tooltip], cx=x, cy=y, r=3.5, fill=colour)
    if shape == 1:
        return tag("rect", [tooltip], x=x - 3.5, y=y - 3.5, width=7, height=7, fill=colour)
    if shape == 2:
        return tag("path", [tooltip], d=f"M{x:.1f},{y - 4.5:.1f} l4.5,8 h-9 z", fill=colour)
    if shape == 3:
        return tag(
            "path", [tooltip], d=f"M{x:.1f},{y - 5:.1f} l4.5,5 l-4.5,5 l-4.5,-5 z", fill=colour
        )
    return tag(
        "circle", [tooltip], cx=x, cy=y, r=3.5, fill="#ffffff", stroke=colour, stroke_width=2
    )


def _legend(x: float, y: float, entries: list[tuple[str, str, str]]) -> Markup:
    parts: list[Markup] = []
    for name, fill, stroke in entries:
        parts.append(rect(x, y - 10, 14, 12, fill=fill, stroke=stroke))
        parts.append(text(x + 19, y, name, font_size=11))
        x += 30 + 6.5 * len(name)
    return tag("g", parts, class_="legend")


def _spread(
    labels: list[tuple[float, str, str]], gap: float, low: float, high: float
) -> list[tuple[float, str, str]]:
    """End-of-line labels moved apart vertically so that none overlap."""
    placed: list[tuple[float, str, str]] = []
    for y, name, colour in sorted(labels):
        y = max(y, placed[-1][0] + gap) if placed else y
        placed.append((y, name, colour))
    overflow = placed[-1][0] - high if placed else 0
    if overflow > 0:
        placed = [(max(y - overflow, low), n, c) for y, n, c in placed]
    return placed


def _nice_scale(peak: float) -> tuple[float, list[int]]:
    """An axis maximum at or above `peak` and about five round ticks from 0."""
    if peak <= 0:
        return 1.0, [0]
    raw = peak / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(step), 1)
    top = math.ceil(peak / step) * step
    return float(top), list(range(0, int(top) + 1, step))


def _bin_position(target: float) -> float:
    """Where `target` minutes falls on the histogram's axis, in bins from the left."""
    low = 0.0
    for index, edge in enumerate(HISTOGRAM_EDGES):
        if target <= edge:
            return index + (target - low) / (edge - low)
        low = edge
    return len(HISTOGRAM_EDGES) + 0.5
