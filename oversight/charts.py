"""Server-side SVG charts (no JavaScript, no third-party resource, nothing inline that a strict
CSP refuses: only SVG presentation attributes, never ``style``). Every chart carries a <title>
and the figures as text, so a screen reader or a printout loses nothing."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

BAR = "#2f6f9f"
DONE = "#3c8d5a"
GRID = "#d5dbe1"
INK = "#1f2933"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label={quoteattr(title)} class="chart"><title>{escape(title)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, s: str, anchor: str = "start", size: int = 12, fill: str = INK) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(s)}</text>'


def bars(title: str, items: list[tuple[str, int, int]], first: str = "收到", second: str = "已销号") -> str:
    """Horizontal bars per department (or any category): the first value as a bar, the second as
    a darker bar inside it (e.g. received vs signed off)."""
    rows = items[:20]
    width, label_w, row_h = 720, 190, 24
    height = 34 + row_h * max(1, len(rows))
    top = max((a for _, a, _ in rows), default=0) or 1
    scale = (width - label_w - 70) / top
    body = [_text(label_w, 16, f"■ {first}", size=11, fill=BAR), _text(label_w + 80, 16, f"■ {second}", size=11, fill=DONE)]
    for i, (label, a, b) in enumerate(rows):
        y = 28 + i * row_h
        body.append(_text(label_w - 6, y + 14, label[:14], "end"))
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{a * scale:.1f}" height="{row_h - 8}" fill="{BAR}" opacity="0.45"/>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{b * scale:.1f}" height="{row_h - 8}" fill="{DONE}"/>')
        body.append(_text(label_w + a * scale + 6, y + 14, f"{a} / {b}", size=11))
    return _svg(width, height, title, body)


def trend(title: str, weeks: list[tuple[str, int, int]]) -> str:
    """Weekly columns (received) with the signed-off count as a line, oldest week first."""
    weeks = weeks[-26:]
    width, height, left, bottom = 720, 240, 40, 200
    top = max((max(a, b) for _, a, b in weeks), default=0) or 1
    step = (width - left - 10) / max(1, len(weeks))
    body = [f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="{GRID}"/>',
            _text(left - 4, 20, str(top), "end", 10), _text(left - 4, bottom, "0", "end", 10),
            _text(left, 14, "■ 收到举报", size=11, fill=BAR), _text(left + 90, 14, "● 已验收销号", size=11, fill=DONE)]
    points = []
    for i, (week, a, b) in enumerate(weeks):
        x = left + i * step
        h = (bottom - 24) * a / top
        body.append(f'<rect x="{x + 2:.1f}" y="{bottom - h:.1f}" width="{max(1.0, step - 4):.1f}" height="{h:.1f}" fill="{BAR}" opacity="0.6"/>')
        cy = bottom - (bottom - 24) * b / top
        points.append(f"{x + step / 2:.1f},{cy:.1f}")
        body.append(f'<circle cx="{x + step / 2:.1f}" cy="{cy:.1f}" r="2.5" fill="{DONE}"/>')
        if i % max(1, len(weeks) // 8) == 0:
            body.append(_text(x + step / 2, bottom + 16, week[5:], "middle", 10))
    if len(points) > 1:
        body.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{DONE}" stroke-width="1.5"/>')
    return _svg(width, height, title, body)


def grid(title: str, tiles: list[tuple[str, int, str]], columns: int = 5) -> str:
    """Towns as a tile grid shaded by count (a schematic map: no geodata, nothing fetched)."""
    width, tile_w, tile_h = 720, 140, 58
    rows = -(-len(tiles) // columns) if tiles else 1
    top = max((n for _, n, _ in tiles), default=0) or 1
    body = []
    for i, (name, n, note) in enumerate(tiles):
        x, y = (i % columns) * (tile_w + 4), (i // columns) * (tile_h + 4)
        shade = 0.12 + 0.78 * n / top
        body.append(f'<rect x="{x}" y="{y}" width="{tile_w}" height="{tile_h}" rx="4" fill="{BAR}" opacity="{shade:.2f}"/>')
        ink = "#ffffff" if shade > 0.55 else INK
        body.append(_text(x + 8, y + 22, name[:9], size=13, fill=ink))
        body.append(_text(x + 8, y + 44, f"{n} 件 {note}", size=11, fill=ink))
    return _svg(width, rows * (tile_h + 4), title, body)
