"""Server-side sparklines: a list of numbers becomes the points of a small SVG polyline.

Pure and dependency-free so the dashboard needs no JavaScript chart library.
"""

from __future__ import annotations

from collections.abc import Sequence

WIDTH = 100.0
HEIGHT = 30.0


def sparkline_points(values: Sequence[float | None], width: float = WIDTH, height: float = HEIGHT) -> str:
    """``"x,y x,y ..."`` for an SVG polyline in a ``0 0 width height`` viewBox; missing values are skipped.

    The y axis starts at zero (not at the minimum) so a flat but busy series does not look like noise.
    """
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    if not points:
        return ""
    top = max(value for _, value in points) or 1.0
    step = width / max(len(values) - 1, 1)
    margin = 1.0  # keep the stroke inside the box at the extremes
    usable = height - 2 * margin
    return " ".join(f"{index * step:.1f},{margin + usable - (value / top) * usable:.1f}" for index, value in points)


def area_points(line: str, width: float = WIDTH, height: float = HEIGHT) -> str:
    """The polygon under a polyline, for a light fill."""
    if not line:
        return ""
    first_x = line.split(" ", 1)[0].split(",")[0]
    last_x = line.rsplit(" ", 1)[-1].split(",")[0]
    return f"{first_x},{height} {line} {last_x},{height}"


def rates(samples: Sequence[tuple[float, float | None]]) -> list[float | None]:
    """Per-second rates between consecutive (time, cumulative counter) samples; a counter reset gives None."""
    out: list[float | None] = []
    for (t0, v0), (t1, v1) in zip(samples, samples[1:], strict=False):
        if v0 is None or v1 is None or t1 <= t0 or v1 < v0:
            out.append(None)
        else:
            out.append((v1 - v0) / (t1 - t0))
    return out
