"""The report's charts as inline SVG strings (pure): a heatmap, horizontal bars, weekly lines.

Inline ``<svg>`` in HTML needs no namespace declaration, so the page names no URL at all.

Colours are SVG presentation attributes, not ``style``: the Reach page's Content-Security-Policy
forbids inline style, and attributes are not style. Every label is escaped; a cell's exact
figure is in its ``<title>`` (the browser's tooltip), so the chart needs no script.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

INK = "#1d3557"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
CELL = 14
LABEL_W = 44


def _svg(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{body}</svg>'
    )


def heatmap(
    cells: Mapping[tuple[int, int], float],
    days: Sequence[str],
    label: str,
    fmt: str,
    written: Callable[[float], str] = str,
) -> str:
    """A 7 x 24 grid, one cell per (day of week, hour), shaded by its value over the largest.
    ``fmt`` formats a cell's tooltip with ``{day}``, ``{hour}`` and ``{value}`` (as ``written``)."""
    peak = max(cells.values(), default=0)
    parts = [
        f'<text x="{LABEL_W + h * CELL}" y="10" font-size="9" fill="{INK}">{h:02d}</text>'
        for h in range(0, 24, 3)
    ]
    for d, day in enumerate(days):
        y = 14 + d * CELL
        parts.append(f'<text x="0" y="{y + 11}" font-size="10" fill="{INK}">{escape(day)}</text>')
        for h in range(24):
            value = cells.get((d, h), 0)
            opacity = 0.06 + 0.94 * value / peak if peak else 0.06
            tip = fmt.format(day=day, hour=f"{h:02d}:00", value=written(value))
            parts.append(
                f'<rect x="{LABEL_W + h * CELL}" y="{y}" width="{CELL - 1}" height="{CELL - 1}" '
                f'fill="{PALETTE[0]}" fill-opacity="{opacity:.2f}"><title>{escape(tip)}</title></rect>'
            )
    return _svg(LABEL_W + 24 * CELL, 14 + 7 * CELL, "".join(parts), label)


def bars(rows: Sequence[tuple[str, int, str]], label: str, width: int = 520) -> str:
    """One horizontal bar per (label, value, value as written), longest for the largest."""
    label_w, bar_h = 170, 18
    peak = max((v for _, v, _ in rows), default=0)
    room = width - label_w - 80
    parts = []
    for i, (name, value, written) in enumerate(rows):
        y = i * (bar_h + 4)
        length = round(room * value / peak) if peak else 0
        short = name if len(name) <= 26 else name[:25] + "…"
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="11" fill="{INK}">{escape(short)}<title>{escape(name)}</title></text>'
            f'<rect x="{label_w}" y="{y}" width="{length}" height="{bar_h}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + length + 4}" y="{y + 13}" font-size="11" fill="{INK}">{escape(written)}</text>'
        )
    return _svg(width, max(1, len(rows)) * (bar_h + 4), "".join(parts), label)


def lines(
    series: Mapping[str, Sequence[int]], ticks: Sequence[str], label: str, peak_written: str, width: int = 620
) -> str:
    """One line per series over the ``ticks`` (weeks, oldest first), with a legend; the top of
    the scale is the largest value, written ``peak_written``."""
    height, left, top, plot_h = 224, 40, 14, 150
    peak = max((v for values in series.values() for v in values), default=0) or 1
    step = (width - left - 20) / max(1, len(ticks) - 1)
    parts = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="{INK}"/>',
        f'<line x1="{left}" y1="{top}" x2="{width - 10}" y2="{top}" stroke="{INK}" stroke-opacity="0.2"/>',
        f'<text x="{left}" y="{top - 2}" font-size="9" fill="{INK}">{escape(peak_written)}</text>',
    ]
    every = max(1, len(ticks) // 8)  # a readable axis for a year of weeks too
    for i, tick in enumerate(ticks):
        if i % every == 0 or i == len(ticks) - 1:
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{top + plot_h + 14}" font-size="9" '
                f'text-anchor="middle" fill="{INK}">{escape(tick[5:])}</text>'
            )
    for n, (name, values) in enumerate(sorted(series.items())):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(
            f"{left + i * step:.1f},{top + plot_h - plot_h * v / peak:.1f}" for i, v in enumerate(values)
        )
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        x = left + (n % 4) * 140
        y = top + plot_h + 30 + (n // 4) * 14
        parts.append(
            f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{y + 1}" font-size="10" fill="{INK}">{escape(name)}</text>'
        )
    extra = ((len(series) - 1) // 4) * 14 if series else 0
    return _svg(width, height + extra, "".join(parts), label)
