"""Charts drawn by the hub as SVG (no script, no CDN): each bar segment is a link to the list it
counts, with a title a screen reader and a pointer both get; the table beside it holds the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from markupsafe import escape

# the fills of the status badges (hub.css), darker so that white text is not needed
STATUS_COLOURS = {"active": "#5aa35a", "implemented": "#4f7fb8", "elapsed": "#c9a53c", "stagnant": "#b08a2e",
                  "superseded": "#8c8c8c", "retired": "#6b6b6b", "inactive": "#a9a9a9", "require-funding": "#b5651d"}
ROW, BAR, LABEL_W, WIDTH, PAD = 22, 16, 90, 640, 6


def stacked_bars(rows: list[tuple[str, Mapping[str, int]]], statuses: list[str], title: str,
                 href: Callable[[str, str], str], status_label: Callable[[str], str]) -> str:
    """One horizontal bar per row (a meeting), split by status, scaled to the largest total."""
    if not rows:
        return ""
    largest = max(sum(counts.values()) for _key, counts in rows) or 1
    scale = (WIDTH - LABEL_W - 2 * PAD - 40) / largest
    height = len(rows) * ROW + 2 * PAD
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="group" aria-labelledby="chart-title" '
             f'viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px">',
             f'<title id="chart-title">{escape(title)}</title>']
    for i, (key, counts) in enumerate(rows):
        y = PAD + i * ROW
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + BAR - 3}" font-size="12" text-anchor="end">{escape(key)}</text>')
        x = float(LABEL_W)
        for status in statuses:
            n = counts.get(status, 0)
            if not n:
                continue
            w = n * scale
            label = f"{key}: {status_label(status)} {n}"
            parts.append(f'<a href="{escape(href(key, status))}" aria-label="{escape(label)}"><rect x="{x:.1f}" y="{y}" '
                         f'width="{max(w, 1):.1f}" height="{BAR}" fill="{STATUS_COLOURS.get(status, "#777")}">'
                         f'<title>{escape(label)}</title></rect></a>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + BAR - 3}" font-size="11" fill="#333">{sum(counts.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)
