"""Checks on drawn shapes that the config and the editor share: a zone or privacy mask must be a
simple polygon (its edges meet only at shared corners), because point-in-polygon tests on a
bow-tie count the crossed part inside or outside depending on the algorithm, and a person
drawing one almost always misplaced a vertex.

Pure Python on a handful of points: it runs on every config load and every editor save.
"""

from __future__ import annotations

from collections.abc import Sequence

Points = Sequence[tuple[float, float]]


def _orientation(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> int:
    cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return (cross > 0) - (cross < 0)


def _on_segment(a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def _segments_meet(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]
) -> bool:
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def crossing_edges(points: Points) -> tuple[int, int] | None:
    """The first two edges (1-based; edge i runs from point i to the next) of the closed polygon
    that cross or touch other than at their shared corner, or None for a simple polygon."""
    count = len(points)
    edges = [(points[i], points[(i + 1) % count]) for i in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            if j == i + 1 or (i == 0 and j == count - 1):
                # Neighbours share a corner; they only fail if they fold back onto each other.
                shared = edges[i][1] if j == i + 1 else edges[i][0]
                first = edges[i][0] if j == i + 1 else edges[i][1]
                second = edges[j][1] if j == i + 1 else edges[j][0]
                if _orientation(first, shared, second) == 0 and (
                    _on_segment(shared, first, second) or _on_segment(shared, second, first)
                ):
                    return i + 1, j + 1
                continue
            if _segments_meet(*edges[i], *edges[j]):
                return i + 1, j + 1
    return None


def check_simple_polygon(points: Points, what: str) -> None:
    """ValueError naming the crossing edges when the polygon is not simple."""
    crossing = crossing_edges(points)
    if crossing is not None:
        first, second = crossing
        raise ValueError(
            f"the {what} crosses itself: edge {first} (point {first} to "
            f"{first % len(points) + 1}) meets edge {second} (point {second} to "
            f"{second % len(points) + 1}); move a vertex so the edges only meet at corners"
        )
