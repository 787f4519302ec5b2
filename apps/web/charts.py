"""Server-rendered charts: plain numbers in, SVG geometry out (the templates draw it; no JS library)."""

from __future__ import annotations

import math

SEVERITIES = ["P1", "P2", "P3", "P4"]


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _ticks(top: float) -> list[float]:
    """Whole-number ticks where the axis allows it (4, 5 or 2 steps)."""
    count = next((n for n in (4, 5, 2) if (top / n) == int(top / n)), 4)
    return [top * i / count for i in range(count + 1)]


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def stacked_bars(months: list[str], labels: list[str], counts: dict, *, width=640, height=220) -> dict:
    """Incidents per month stacked by severity. `counts` maps (month, severity) to a number."""
    left, right, top, bottom = 34, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(counts.get((m, s), 0) for s in [*SEVERITIES, ""]) for m in months]
    axis_max = max(_nice_max(max(totals or [0])), 4)
    slot = plot_w / max(len(months), 1)
    bar_w = max(slot * 0.62, 4)
    bars = []
    for index, (month, label) in enumerate(zip(months, labels, strict=True)):
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h
        segments = []
        for severity in [*SEVERITIES, ""]:
            n = counts.get((month, severity), 0)
            if not n:
                continue
            h = plot_h * n / axis_max
            y -= h
            segments.append({"y": round(y, 1), "h": round(h, 1), "severity": severity or "none", "n": n})
        bars.append(
            {
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "cx": round(x + bar_w / 2, 1),
                "label": label,
                "total": totals[index],
                "top": round(y, 1),
                "segments": segments,
            }
        )
    grid = [{"y": round(top + plot_h - plot_h * t / axis_max, 1), "label": _fmt(t)} for t in _ticks(axis_max)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "base": top + plot_h,
        "label_y": height - 8,
        "bars": bars,
        "grid": grid,
        "empty": not any(totals),
    }


def lines(labels: list[str], series: dict[str, list[float | None]], *, width=640, height=220) -> dict:
    """One polyline per series over the same x labels; None values break nothing, they are skipped."""
    left, right, top, bottom = 40, 8, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for points in series.values() for v in points if v is not None]
    axis_max = max(_nice_max(max(values or [0])), 4)
    step = plot_w / max(len(labels) - 1, 1)
    out = []
    for key, points in series.items():
        coords = [
            {
                "x": round(left + i * step, 1),
                "y": round(top + plot_h - plot_h * v / axis_max, 1),
                "value": _fmt(v),
                "label": labels[i],
            }
            for i, v in enumerate(points)
            if v is not None
        ]
        out.append({"key": key, "points": coords, "path": " ".join(f"{c['x']},{c['y']}" for c in coords)})
    grid = [{"y": round(top + plot_h - plot_h * t / axis_max, 1), "label": _fmt(t)} for t in _ticks(axis_max)]
    x_labels = [{"x": round(left + i * step, 1), "label": label} for i, label in enumerate(labels)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "base": top + plot_h,
        "label_y": height - 8,
        "series": out,
        "grid": grid,
        "x_labels": x_labels,
        "empty": not values,
    }
