"""Paging the CBD search index (Solr behind ``/api/v2013/index/select``) with ``start``/``rows``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from harvest.client import Client, HarvestHTTPError

ROWS = 200
PUBLIC = "NOT version_s:*"  # current versions only (CBD-API.md §2.4)


def solr_date(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def select(client: Client, q: str, fq: list[str], start: int = 0, rows: int = ROWS, fl: str | None = None,
           since: datetime | None = None) -> Iterator[tuple[dict[str, Any], int]]:
    """Every document matching ``q`` and the filters, oldest update first; yields (doc, page start)."""
    filters = [PUBLIC, *fq]
    if since is not None:
        filters.append(f"updatedDate_dt:[{solr_date(since)} TO *]")
    while True:
        params: dict[str, Any] = {"q": q, "fq": filters, "sort": "updatedDate_dt asc, id asc", "start": start,
                                  "rows": rows, "wt": "json"}
        if fl:
            params["fl"] = fl
        data = client.get_json("/api/v2013/index/select", params).data
        response = data.get("response") if isinstance(data, dict) else None
        if not isinstance(response, dict) or not isinstance(response.get("docs"), list):
            raise HarvestHTTPError("/api/v2013/index/select: the answer has no response.docs (not a Solr answer)")
        docs = response["docs"]
        found = response.get("numFound")
        for doc in docs:
            if isinstance(doc, dict):
                yield doc, start
        start += len(docs)
        if not docs or (isinstance(found, int) and start >= found) or len(docs) < rows:
            return


def per_language(doc: dict[str, Any], field: str) -> list[tuple[str, str]]:
    """``title_EN_t``, ``title_FR_s`` … → [(en, …), (fr, …)]; the bare ``title_t``/``title_s`` as English
    when no English field is there."""
    out: dict[str, str] = {}
    for lang in ("EN", "FR", "ES", "AR", "RU", "ZH"):
        for suffix in ("_t", "_s"):
            value = doc.get(f"{field}_{lang}{suffix}")
            if isinstance(value, str) and value.strip():
                out.setdefault(lang.lower(), " ".join(value.split()))
    if "en" not in out:
        for suffix in ("_t", "_s"):
            value = doc.get(f"{field}{suffix}")
            if isinstance(value, str) and value.strip():
                out["en"] = " ".join(value.split())
                break
    return list(out.items())
