"""A small helper for hand-written SVG: elements whose text and attributes are escaped.

Every element is built with `tag`, which escapes its attributes and any text
content that is not already `Markup` (markupsafe), so data from the warehouse
(customer and technician names) can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

Content = Markup | str | Iterable[Markup] | None

PRIORITY_STYLES: dict[str, tuple[str, str, str]] = {
    # colour (Okabe-Ito, safe for colour-blind readers), dash pattern, hatch pattern
    "Critical": ("#d55e00", "", "solid"),
    "High": ("#e69f00", "7 3", "stripes"),
    "Medium": ("#0072b2", "2 3", "dots"),
    "Low": ("#009e73", "9 3 2 3", "cross"),
    "Unknown": ("#777777", "1 2", "solid"),
}
EXTRA_COLOURS = ("#cc79a7", "#56b4e9", "#8c564b", "#f0e442")
INK = "#222222"
MUTED = "#666666"
GRID = "#dddddd"


def tag(name: str, content: Content = None, /, **attributes: object) -> Markup:
    """`<name a="v">content</name>`; attribute `class_` is `class`, `_` in names is `-`.

    None-valued attributes are left out; floats are written with at most 2 decimals.
    """
    rendered = Markup("").join(
        Markup(' {}="{}"').format(Markup(_attribute_name(key)), _value(value))
        for key, value in attributes.items()
        if value is not None
    )
    if content is None:
        return Markup("<{}{}/>").format(Markup(name), rendered)
    # Markup is a str that escape() keeps as it is; plain text is escaped
    body = escape(content) if isinstance(content, str) else Markup("").join(content)
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(name), rendered, body)


def svg(
    width: float, height: float, title: str, parts: Iterable[Markup], **attributes: object
) -> Markup:
    """A scalable SVG document with an accessible title (shown as a tooltip too)."""
    return tag(
        "svg",
        [tag("title", title), *parts],
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {_number(width)} {_number(height)}",
        role="img",
        aria_label=title,
        **{"class_": "chart", **attributes},
    )


def text(x: float, y: float, content: str, **attributes: object) -> Markup:
    attributes.setdefault("font_size", 12)
    attributes.setdefault("fill", INK)
    return tag("text", content, x=x, y=y, **attributes)


def line(x1: float, y1: float, x2: float, y2: float, **attributes: object) -> Markup:
    attributes.setdefault("stroke", GRID)
    return tag("line", x1=x1, y1=y1, x2=x2, y2=y2, **attributes)


def rect(
    x: float,
    y: float,
    width: float,
    height: float,
    tooltip: str | None = None,
    **attributes: object,
) -> Markup:
    content = tag("title", tooltip) if tooltip is not None else None
    return tag("rect", content, x=x, y=y, width=max(width, 0), height=max(height, 0), **attributes)


@dataclass(frozen=True)
class Style:
    """How one series is drawn: colour, line dash, fill pattern."""

    colour: str
    dash: str
    pattern: str


def priority_style(priority: str, position: int) -> Style:
    """The style of a priority; configured extra priorities get the spare colours."""
    if priority in PRIORITY_STYLES:
        return Style(*PRIORITY_STYLES[priority])
    return Style(EXTRA_COLOURS[position % len(EXTRA_COLOURS)], "4 2 1 2", "solid")


def pattern_defs(prefix: str, styles: dict[str, Style]) -> Markup:
    """`<defs>` with one fill pattern per series (id `<prefix>-<n>`), so that the series
    of a stacked bar differ by texture as well as colour."""
    patterns = [_pattern(f"{prefix}-{index}", style) for index, style in enumerate(styles.values())]
    return tag("defs", patterns)


def fill_of(prefix: str, styles: dict[str, Style], key: str) -> str:
    style = styles[key]
    if style.pattern == "solid":
        return style.colour
    return f"url(#{prefix}-{list(styles).index(key)})"


def _pattern(pattern_id: str, style: Style) -> Markup:
    base = rect(0, 0, 8, 8, fill=style.colour, fill_opacity=0.35)
    marks: list[Markup] = [base]
    if style.pattern == "stripes":
        marks.append(
            tag(
                "path",
                d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4",
                stroke=style.colour,
                stroke_width=2.2,
            )
        )
    elif style.pattern == "dots":
        marks.append(tag("circle", cx=2, cy=2, r=1.8, fill=style.colour))
        marks.append(tag("circle", cx=6, cy=6, r=1.8, fill=style.colour))
    elif style.pattern == "cross":
        marks.append(tag("path", d="M0,4 h8 M4,0 v8", stroke=style.colour, stroke_width=2))
    else:
        marks = [rect(0, 0, 8, 8, fill=style.colour)]
    return tag("pattern", marks, id=pattern_id, width=8, height=8, patternUnits="userSpaceOnUse")


def _attribute_name(key: str) -> str:
    return "class" if key == "class_" else key.replace("_", "-")


def _value(value: object) -> str:
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")
