"""The report as one self-contained HTML page: inline CSS, inline SVG, no script.

Every value from the warehouse is escaped (markupsafe's `Markup.format` escapes
its arguments); only the page's own markup is trusted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from markupsafe import Markup

from pipelines import __version__
from pipelines.report import charts
from pipelines.report.data import BREACH_WINDOW, HISTOGRAM_EDGES, ReportData
from pipelines.report.format import hours, local_time, minutes, month_name, percent, short_minutes
from pipelines.report.svg import tag

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       sans-serif; color: #222; background: #f4f5f7; }
main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 40px; }
header { background: #1f2d3d; color: #fff; padding: 18px 24px; }
header .inner { max-width: 1200px; margin: 0 auto; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 2px 0; color: #d5dde6; }
header strong { color: #fff; }
.grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 16px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 14px 16px;
          margin-top: 16px; break-inside: avoid; }
.grid > section { margin-top: 0; }
.wide { margin-top: 16px; }
h2 { font-size: 17px; margin: 0 0 2px; }
p.note { margin: 0 0 8px; color: #555; font-size: 13px; }
svg.chart { width: 100%; height: auto; display: block; font-family: inherit; }
.histograms { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 6px 18px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e6ea; }
th { background: #f0f2f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: 8px; font-size: 13px; }
summary { cursor: pointer; color: #1f4e79; }
.empty { color: #666; font-style: italic; }
footer { max-width: 1200px; margin: 0 auto; padding: 0 24px 24px; color: #666; font-size: 12px; }
@media (max-width: 900px) { .grid, .histograms { grid-template-columns: 1fr; } }
@media print {
  @page { size: A4; margin: 12mm; }
  body { background: #fff; font-size: 11px; }
  header { background: #fff; color: #000; border-bottom: 2px solid #000; padding: 0 0 8px; }
  header p, header strong { color: #000; }
  main { padding: 0; max-width: none; }
  .grid { grid-template-columns: 1fr 1fr; }
  section { border: 1px solid #bbb; }
  details > summary { display: none; }
  details:not([open]) > * { display: block; }
}
"""


def render_page(data: ReportData, generated_at: datetime, source: str) -> str:
    """The whole HTML document for `data`; `source` names the warehouse file."""
    names = [row.priority for row in data.compliance]
    body = [
        _header(data, generated_at, source),
        tag(
            "main",
            [
                tag("div", [_compliance(data), _trend(data, names)], class_="grid"),
                _histograms(data),
                tag("div", [_backlog(data, names), _hours(data)], class_="grid wide"),
                _breaches(data),
            ],
        ),
        tag(
            "footer",
            Markup(
                "Self-contained report: no script, no network. Figures from the marts in "
                "schema <code>{}</code>; definitions in docs/sla.md."
            ).format(data.schema),
        ),
    ]
    document = Markup(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n{}\n</body>\n</html>\n"
    ).format(_title(data), Markup(CSS), Markup("\n").join(body))
    return str(document)


def _title(data: ReportData) -> str:
    if data.as_of is None:
        return "Atera SLA report"
    return f"Atera SLA report, as of {local_time(data.as_of, data.time_zone)} {data.time_zone}"


def _header(data: ReportData, generated_at: datetime, source: str) -> Markup:
    basis = (
        "point-in-time build (atera-sync models --as-of)"
        if data.schema != "analytics"
        else "the last sync whose data landed"
    )
    return tag(
        "header",
        [
            tag(
                "div",
                [
                    tag("h1", "Atera SLA report"),
                    _as_of_line(data, basis),
                    tag(
                        "p",
                        f"Warehouse {source}, schema {data.schema}: {data.tickets:,} tickets, "
                        f"{data.customers:,} customers",
                    ),
                    tag(
                        "p",
                        f"Generated {local_time(generated_at, data.time_zone)} "
                        f"{data.time_zone} by atera-sync {__version__}",
                    ),
                ],
                class_="inner",
            )
        ],
    )


def _as_of_line(data: ReportData, basis: str) -> Markup:
    if data.as_of is None:
        return tag("p", "As of: unknown, the marts hold no tickets")
    return tag(
        "p",
        Markup("As of <strong>{} {}</strong> ({})").format(
            local_time(data.as_of, data.time_zone), data.time_zone, basis
        ),
    )


def _section(title: str, note: str, content: Iterable[Markup], **attributes: object) -> Markup:
    return tag("section", [tag("h2", title), tag("p", note, class_="note"), *content], **attributes)


def _table(
    table_id: str, headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]
) -> Markup:
    head = tag(
        "tr", [tag("th", h, class_="num" if i in numeric else None) for i, h in enumerate(headers)]
    )
    body = [
        tag(
            "tr",
            [tag("td", str(v), class_="num" if i in numeric else None) for i, v in enumerate(row)],
        )
        for row in rows
    ]
    return tag("table", [tag("thead", [head]), tag("tbody", body)], id=table_id)


def _figures(table: Markup) -> Markup:
    return tag("details", [tag("summary", "Figures"), table])


def _compliance(data: ReportData) -> Markup:
    rows = [
        (
            r.priority,
            minutes(r.target_minutes),
            f"{r.tickets:,}",
            f"{r.met:,}",
            f"{r.breached:,}",
            f"{r.pending:,}",
            percent(r.compliance_pct),
            minutes(r.median_response_minutes),
            minutes(r.p90_response_minutes),
        )
        for r in data.compliance
    ]
    table = _table(
        "compliance-figures",
        [
            "priority",
            "target",
            "tickets",
            "met",
            "breached",
            "pending",
            "compliance",
            "median",
            "p90",
        ],
        rows,
        set(range(1, 9)),
    )
    return _section(
        "Compliance by priority",
        "Share of judged tickets (met or breached) answered or resolved within the "
        "priority's first-response target.",
        [charts.compliance_bars(data.compliance), _figures(table)],
        id="compliance",
    )


def _trend(data: ReportData, names: list[str]) -> Markup:
    rows = [
        (
            f"{p.week_start:%Y-%m-%d}",
            p.priority,
            f"{p.tickets:,}",
            f"{p.met:,}",
            f"{p.breached:,}",
            percent(p.compliance_pct),
        )
        for p in data.weekly
    ]
    table = _table(
        "trend-figures",
        ["week", "priority", "tickets", "met", "breached", "compliance"],
        rows,
        {2, 3, 4, 5},
    )
    return _section(
        "Weekly compliance trend",
        f"Tickets by week of creation (weeks start on Monday, {data.time_zone}); the "
        "current week is still running. A gap: no judged ticket that week.",
        [charts.weekly_trend(data.weeks, data.weekly, names), _figures(table)],
        id="trend",
    )


def _histograms(data: ReportData) -> Markup:
    medians = {r.priority: r.median_response_minutes for r in data.compliance}
    panels = [
        charts.response_histogram(h, medians.get(h.priority), i)
        for i, h in enumerate(data.histograms)
    ]
    bins = ["0", *(short_minutes(e) for e in HISTOGRAM_EDGES)]
    labels = [
        f"≤ {short_minutes(HISTOGRAM_EDGES[0])}",
        *(f"{bins[i]}–{bins[i + 1]}" for i in range(1, len(HISTOGRAM_EDGES))),
        f"> {bins[-1]}",
    ]
    rows = [
        (h.priority, *(f"{c:,}" for c in h.counts), f"{h.not_fulfilled:,}") for h in data.histograms
    ]
    table = _table(
        "histogram-figures", ["priority", *labels, "not yet"], rows, set(range(1, len(labels) + 2))
    )
    content = (
        [tag("div", panels, class_="histograms")]
        if panels
        else [tag("p", "No tickets.", class_="empty")]
    )
    return _section(
        "Response-time distribution",
        "Minutes from creation to the first response or resolution (whichever came first), "
        "per priority; the dashed line is the priority's target.",
        [*content, _figures(table)],
        id="distribution",
        class_="wide",
    )


def _backlog(data: ReportData, names: list[str]) -> Markup:
    rows = [
        (c.age_bucket, c.priority, f"{c.tickets:,}", f"{c.sla_breached:,}") for c in data.backlog
    ]
    table = _table(
        "backlog-figures", ["age", "priority", "open tickets", "SLA breached"], rows, {2, 3}
    )
    total = sum(c.tickets for c in data.backlog)
    return _section(
        "Backlog by age",
        f"{total:,} tickets not yet resolved, by calendar age at the as-of time and priority "
        "(bottom to top: most urgent first).",
        [charts.backlog_stacked(data.backlog, names), _figures(table)],
        id="backlog",
    )


def _hours(data: ReportData) -> Markup:
    if data.months is None:
        return _section("Billable hours by technician", "No as-of time.", [])
    previous, current = (month_name(m) for m in data.months)
    rows = [
        (
            r.technician or "(no technician)",
            hours(r.previous_billable),
            hours(r.previous_non_billable),
            hours(r.current_billable),
            hours(r.current_non_billable),
        )
        for r in data.hours
    ]
    table = _table(
        "hours-figures",
        [
            "technician",
            f"{previous} billable",
            f"{previous} non-billable",
            f"{current} billable",
            f"{current} non-billable",
        ],
        rows,
        {1, 2, 3, 4},
    )
    return _section(
        "Billable hours by technician",
        f"Work hours logged by each technician: {previous} (the last full month) and "
        f"{current} up to the as-of time ({data.time_zone}).",
        [charts.hours_bars(data.hours, data.months), _figures(table)],
        id="hours",
    )


def _breaches(data: ReportData) -> Markup:
    days = BREACH_WINDOW.days
    rows = [
        (
            f"{b.ticket_id}",
            b.priority,
            b.customer_name or "–",
            b.technician_full_name or "(unassigned)",
            local_time(b.created_at, data.time_zone),
            local_time(b.due_at, data.time_zone),
            f"{b.minutes:,.1f}" + (" (still open)" if b.still_open else "")
            if b.minutes is not None
            else "–",
        )
        for b in data.breaches
    ]
    headers = ["ticket", "priority", "customer", "technician", "created", "due", "minutes"]
    content = (
        [_table("breaches", headers, rows, {0, 6})]
        if rows
        else [tag("p", f"No first-response SLA breached in the last {days} days.", class_="empty")]
    )
    more = data.breaches_total - len(data.breaches)
    if more > 0:
        content.append(
            tag("p", f"… and {more:,} more (the most recent are listed).", class_="note")
        )
    return _section(
        f"Breached in the last {days} days",
        f"{data.breaches_total:,} tickets whose first-response target passed in the {days} days "
        f"before the as-of time, unanswered or answered late; times in {data.time_zone}; minutes "
        "to the response, or so far for tickets still waiting.",
        content,
        id="breached",
        class_="wide",
    )
