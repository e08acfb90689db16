"""Ruled tables from the line segments of a page (vector drawings of a PDF, or the lines an
image morphology found on a scan): rows between horizontal rules, cells between the vertical
rules that cross each row (a missing rule is a merged cell).

PyMuPDF's own `find_tables()` was tried first: on LibreOffice's exports of these forms it
found 2 of 5 columns and split rows at every wrapped line, so the grid is read here from the
rules themselves, which every ruled form has.
"""

from __future__ import annotations

from assistant.ingest.layout import Cell, Row, Table, VLine

Seg = tuple[float, float, float, float]  # x0, y0, x1, y1


def _merge(segs: list[Seg], horizontal: bool, tol: float = 1.5) -> list[Seg]:
    """Collinear, touching segments as one."""
    if horizontal:
        segs = sorted(segs, key=lambda s: (round(s[1]), s[0]))
    else:
        segs = sorted(segs, key=lambda s: (round(s[0]), s[1]))
    out: list[list[float]] = []
    for s in segs:
        if out:
            p = out[-1]
            if horizontal and abs(p[1] - s[1]) <= tol and s[0] <= p[2] + tol:
                p[2] = max(p[2], s[2])
                continue
            if not horizontal and abs(p[0] - s[0]) <= tol and s[1] <= p[3] + tol:
                p[3] = max(p[3], s[3])
                continue
        out.append(list(s))
    return [tuple(s) for s in out]  # type: ignore[misc]


def spans_a_cell(s: Seg, v: list[Seg], tol: float = 3.0) -> bool:
    """Does horizontal segment `s` run from one vertical rule to another (a cell's border)?
    A line inside a cell that reaches neither side — the underline of a blank to fill in
    (`支持力度________万元`) — is not a row boundary."""
    xs = sorted(t[0] for t in v if t[1] - tol <= s[1] <= t[3] + tol)
    return any(b - a >= 8.0 for a in xs if s[0] <= a + tol for b in xs if s[2] >= b - tol)


def tables_from_segments(hsegs: list[Seg], vsegs: list[Seg], min_len: float = 8.0) -> list[Table]:
    v = [s for s in _merge(vsegs, False) if s[3] - s[1] >= min_len]
    h = [s for s in _merge(hsegs, True) if s[2] - s[0] >= min_len and spans_a_cell(s, v)]
    if len(h) < 2 or not v:
        return []
    # distinct rule heights (rules of one row boundary drawn in pieces share a y)
    ys: list[float] = []
    for s in sorted(h, key=lambda s: s[1]):
        if not ys or s[1] - ys[-1] > 2.0:
            ys.append(s[1])
    tables: list[Table] = []
    current: Table | None = None
    for a, b in zip(ys, ys[1:]):
        mid = (a + b) / 2
        crossing = sorted({round(s[0], 1) for s in v if s[1] <= mid <= s[3] and s[1] <= a + 2 and s[3] >= b - 2})
        if len(crossing) < 2:
            current = None  # not a row of a table: the band between two tables
            continue
        xs: list[float] = []
        for x in crossing:
            if not xs or x - xs[-1] > 2.0:
                xs.append(x)
        row = Row(a, b, [Cell(x0, x1) for x0, x1 in zip(xs, xs[1:])])
        if current is None:
            current = Table(a, b)
            tables.append(current)
        current.rows.append(row)
        current.y1 = b
    return [t for t in tables if t.rows]


def place_lines(tables: list[Table], lines: list[VLine]) -> list[VLine]:
    """Put each line whose centre falls in a cell into that cell; return the others."""
    rest = []
    for ln in lines:
        cx, cy = (ln.x0 + ln.x1) / 2, (ln.y0 + ln.y1) / 2
        placed = False
        for t in tables:
            if not (t.y0 - 1 <= cy <= t.y1 + 1):
                continue
            for r in t.rows:
                if r.y0 - 1 <= cy <= r.y1 + 1:
                    for c in r.cells:
                        if c.x0 - 1 <= ln.x0 + 1 and cx <= c.x1 + 1 and ln.x0 < c.x1:
                            c.lines.append(ln)
                            placed = True
                            break
                if placed:
                    break
            if placed:
                break
        if not placed:
            rest.append(ln)
    return rest
