"""The lineage picture: an SVG drawn by the hub (no script, no CDN) from the lineage edges.

Rows by distance from the decision — what it builds on above (back to the Convention's articles),
what later built on it below; each node links to its page, each edge says its kind. A long chain
grows downwards, not sideways: the picture is as wide as its widest row, scales into its box (a
viewBox and no fixed size), and the decision's row is centred; the nodes are links, reachable with
the keyboard.
"""

from __future__ import annotations

from collections import defaultdict, deque

from markupsafe import escape

from hub.web.views.resource import Edge

W, H, GAP_X, GAP_Y, PAD = 230, 46, 24, 44, 12
KIND_COLOURS = {"recalls": "#33658a", "amends": "#86400f", "supersedes": "#8b1e3f", "retires": "#5b2a86",
                "based on": "#2f6b2f", "implements": "#2f6b2f"}


def _walk(depth: dict[str, int], start: str, links: dict[str, list[str]], step: int) -> None:
    """Breadth-first from ``start`` along ``links``, giving each new node its parent's depth + step."""
    queue = deque([start])
    while queue:
        n = queue.popleft()
        for m in links[n]:
            if m not in depth:
                depth[m] = depth[n] + step
                queue.append(m)


def _depths(center: str, up: list[Edge], down: list[Edge]) -> dict[str, int]:
    """Columns: what the decision builds on to the left (negative), what built on it to the right."""
    builds_on, built_on_by = defaultdict(list), defaultdict(list)
    for e in up:
        builds_on[e.source].append(e.target)
    for e in down:
        built_on_by[e.target].append(e.source)
    depth = {center: 0}
    _walk(depth, center, builds_on, -1)
    _walk(depth, center, built_on_by, +1)
    return depth


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lineage_svg(center: str, center_label: str, up: list[Edge], down: list[Edge], title: str, page_href,
                kind_label=lambda kind: kind) -> str:
    edges = list({(e.source, e.kind, e.target): e for e in up + down}.values())
    labels = {center: center_label}
    for e in edges:
        labels.setdefault(e.source, e.source_label)
        labels.setdefault(e.target, e.target_label)
    depth = _depths(center, up, down)
    rows: dict[int, list[str]] = defaultdict(list)
    for node, d in sorted(depth.items(), key=lambda kv: labels.get(kv[0], kv[0])):
        rows[d].append(node)
    lo, hi = min(rows), max(rows)
    widest = max(len(v) for v in rows.values())
    width = widest * (W + GAP_X) - GAP_X + 2 * PAD
    height = (hi - lo + 1) * (H + GAP_Y) - GAP_Y + 2 * PAD
    pos = {}
    for d, nodes in rows.items():
        y = PAD + (d - lo) * (H + GAP_Y)
        offset = (widest - len(nodes)) * (W + GAP_X) / 2  # each row centred, the decision's too
        for i, n in enumerate(nodes):
            pos[n] = (PAD + offset + i * (W + GAP_X), y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="group" aria-labelledby="lineage-title" class="lineage" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="100%" preserveAspectRatio="xMidYMin meet" '
        f'style="max-width:{width:.0f}px">',
        f'<title id="lineage-title">{escape(title)}</title>',
    ]
    for e in edges:
        if e.source not in pos or e.target not in pos:
            continue
        (sx, sy), (tx, ty) = pos[e.source], pos[e.target]
        # an edge runs from the later node (source, below) to what it builds on (target, above)
        up_edge = ty < sy
        x1, y1 = sx + W / 2, sy + (0 if up_edge else H)
        x2, y2 = tx + W / 2, ty + (H if up_edge else 0)
        colour = KIND_COLOURS.get(e.kind, "#444")
        parts.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{colour}" stroke-width="1.5"/>')
        parts.append(f'<text x="{(x1 + x2) / 2 + 4:.0f}" y="{(y1 + y2) / 2 + 3:.0f}" font-size="10" fill="{colour}">{escape(kind_label(e.kind))}</text>')
    for n, (x, y) in pos.items():
        fill = "#fff4d6" if n == center else "#f4f8f8"
        current = ' aria-current="page"' if n == center else ""
        parts.append(
            f'<a href="{escape(page_href(n))}"{current}><rect x="{x:.0f}" y="{y:.0f}" width="{W}" height="{H}" rx="4" fill="{fill}" stroke="#355"/>'
            f'<text x="{x + 8:.0f}" y="{y + 19:.0f}" font-size="12" fill="#1a1a1a">{escape(_short(labels.get(n, n)))}</text>'
            f'<text x="{x + 8:.0f}" y="{y + 36:.0f}" font-size="10" fill="#444">{escape(_short(n.rsplit("/", 3)[-3:] and "/".join(n.rsplit("/", 3)[-3:]), 40))}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)
