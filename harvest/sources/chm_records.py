"""``chm-records``: public CHM records listed through the search index and read with ``/documents/{uid}/info``.

The index gives each record's identifier and ``_revision_i``: a record whose revision the hub already
holds is not fetched again. The document's ``body`` goes through the hub's CHM record reader
(:mod:`loaders.chm_records`), so a harvested record and a loaded file map the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from harvest.client import Client, HarvestHTTPError
from harvest.sources.base import FetchContext, Item, Mapped, Source
from harvest.sources.solr import select
from loaders.chm_records import SCHEMAS, map_record
from loaders.triples import TripleSet
from ontology.errors import SourceError

LISTED = ("organization", "resource", "event", "capacityBuildingInitiative", "nationalTarget", "nationalTarget7")


class ChmRecords(Source):
    name = "chm-records"
    title = "CHM records (documents API)"
    default_url = "https://api.cbd.int"
    headers = {"Realm": "CHM"}

    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        schemas = [s for s in (ctx.options.get("schemas") or ",".join(LISTED)).split(",") if s]
        q = "schema_s:(" + " OR ".join(schemas) + ")"
        start = int(ctx.cursor.get("start", 0)) if isinstance(ctx.cursor, dict) else 0
        for doc, page_start in select(client, q, ["realm_ss:chm"], start=start, since=None if ctx.full else ctx.since,
                                      fl="id,identifier_s,_revision_i,updatedDate_dt,schema_s,url_ss"):
            uid = doc.get("identifier_s")
            cursor = {"start": page_start}
            if not isinstance(uid, str) or not uid:
                yield Item(key=str(doc.get("id") or f"#{page_start}"), error="an index entry without identifier_s", cursor=cursor)
                continue
            revision = str(doc.get("_revision_i")) if doc.get("_revision_i") is not None else None
            known = ctx.known.get(uid)
            if known and revision and known.revision == revision:
                yield Item(key=uid, unchanged=True, revision=revision, cursor=cursor)
                continue
            try:
                r = client.get_json("/api/v2013/documents/" + quote(uid, safe="") + "/info", {"body": "true"}, allow=(404,))
            except HarvestHTTPError as e:
                yield Item(key=uid, error=str(e), cursor=cursor)
                continue
            if r.data is None:
                yield Item(key=uid, error=f"listed in the index but /documents/{uid}/info answered 404", cursor=cursor)
                continue
            yield Item(key=uid, payload=r.data, revision=revision or str(r.data.get("revision") or "") or None,
                       url=(doc.get("url_ss") or [""])[0] if isinstance(doc.get("url_ss"), list) else "", cursor=cursor)

    def map(self, item: Item) -> Mapped:
        info = item.payload
        body = info.get("body") if isinstance(info, dict) else None
        if not isinstance(body, dict):
            raise SourceError(f"record {item.key}: /info has no body (the record itself)")
        body = dict(body)
        header = dict(body.get("header") or {})
        header.setdefault("identifier", info.get("identifier") or item.key)
        header.setdefault("schema", (info.get("metadata") or {}).get("schema") or info.get("type"))
        if header["schema"] not in SCHEMAS:
            raise SourceError(f"record {item.key}: schema {header['schema']!r} has no mapping (known: {', '.join(sorted(SCHEMAS))})")
        body["header"] = header
        t = TripleSet()
        node = map_record(body, self.m, t, f"record {item.key}")
        out = Mapped(subjects=[node])
        for triple in t.triples():
            target = out.own if triple.subject.value == node else out.shared
            target.add(triple.subject, triple.predicate.value, triple.object)
        self.provenance(out, node, item.key, item.url or None, item.revision)
        return out
