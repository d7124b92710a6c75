"""Feeds for every list: Atom (feedgen) and JSON Feed 1.1, from the same entries a page shows.

An entry's id is the item's IRI (stable across renders and hosts); its updated date is the time the
graph holding the item was last loaded or changed (the OAI-PMH index's datestamps), so a reader sees
an entry again only when it changed. Pages advertise their feeds with ``<link rel="alternate">``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

FORMATS = {"atom": "application/atom+xml", "jsonfeed": "application/feed+json"}


@dataclass
class Entry:
    id: str
    title: str
    link: str
    updated: str = ""  # YYYY-MM-DDThh:mm:ssZ
    summary: str = ""
    tags: list[str] = field(default_factory=list)


def wanted(request: Request) -> str | None:
    """The feed format a request asks for (``?format=atom|jsonfeed``), else None."""
    fmt = request.query_params.get("format")
    return fmt if fmt in FORMATS else None


def alternates(request: Request) -> list[tuple[str, str]]:
    """(media type, URL) of the feeds of the page being rendered."""
    params = {k: v for k, v in request.query_params.items() if k not in ("format", "lang")}
    return [(media, request.url.path + "?" + urlencode({**params, "format": fmt})) for fmt, media in FORMATS.items()]


def respond(request: Request, fmt: str, title: str, entries: list[Entry], description: str = "") -> Response:
    base = str(request.base_url).rstrip("/")
    params = {k: v for k, v in request.query_params.items() if k not in ("format", "lang")}
    page = base + request.url.path + ("?" + urlencode(params) if params else "")
    self_url = base + request.url.path + "?" + urlencode({**params, "format": fmt})
    stamps = [e.updated for e in entries if e.updated]
    updated = max(stamps) if stamps else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def absolute(link: str) -> str:
        return link if link.startswith(("http://", "https://")) else base + link

    if fmt == "jsonfeed":
        body = {"version": "https://jsonfeed.org/version/1.1", "title": title, "home_page_url": page, "feed_url": self_url,
                "description": description or title,
                "items": [{"id": e.id, "url": absolute(e.link), "title": e.title, "date_modified": e.updated or updated,
                           **({"summary": e.summary, "content_text": e.summary} if e.summary else {"content_text": e.title}),
                           **({"tags": e.tags} if e.tags else {})} for e in entries]}
        return Response(json.dumps(body, ensure_ascii=False), media_type=FORMATS[fmt] + "; charset=utf-8")
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.id(page)
    fg.title(title)
    fg.subtitle(description or title)
    fg.link(href=page, rel="alternate")
    fg.link(href=self_url, rel="self")
    fg.updated(_dt(updated))
    fg.generator("CHM Knowledge Hub")
    for e in reversed(entries):  # feedgen prepends: the feed keeps the page's order
        fe = fg.add_entry()
        fe.id(e.id)
        fe.title(e.title)
        fe.link(href=absolute(e.link))
        fe.updated(_dt(e.updated or updated))
        if e.summary:
            fe.summary(e.summary)
        for tag in e.tags:
            fe.category(term=tag)
    return Response(fg.atom_str(pretty=False), media_type=FORMATS[fmt] + "; charset=utf-8")


def _dt(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
