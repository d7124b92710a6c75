"""``bioland``: a national CHM site built with Bioland (Drupal JSON:API) → records of that country.

Reads ``/{locale}/jsonapi/node/content`` with ``jsonapi_include=1``, ``page[limit]``/``page[offset]``,
following ``links.next.href`` to the end. ``field_tags`` holds central thesaurus identifiers (an array
or a comma-separated string): CBD subjects and targets become the hub's concepts. Options:
``country`` (the site's ISO code, required) and ``locales`` (default ``en``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urljoin

from harvest.client import Client
from harvest.sources.base import FetchContext, Item, Mapped, Source, date_literal, html_text, record_type, strings, subject_concept
from loaders.triples import iri, lit
from ontology import CHM, DCTERMS, RDF, RDFS, SKOS
from ontology.errors import BadParameter, SourceError
from ontology.iris import slug

LIMIT = 50
_TERM = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


class Bioland(Source):
    name = "bioland"
    title = "National CHM site (Bioland, Drupal JSON:API)"
    default_url = ""

    def __init__(self, base: str, options: dict[str, str] | None = None) -> None:
        super().__init__(base, options)
        country = (self.options.get("country") or "").strip()
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise BadParameter("bioland needs the site's country: --option country=XX (an ISO 3166 two-letter code)")
        self.country = country.upper()
        self.name = f"bioland-{self.country.lower()}"  # one graph per national site

    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        locales = [loc for loc in (ctx.options.get("locales") or "en").split(",") if re.fullmatch(r"[a-z]{2}", loc)]
        for locale in locales:
            url: str | None = f"/{locale}/jsonapi/node/content"
            params: dict | None = {"jsonapi_include": 1, "page[limit]": LIMIT, "page[offset]": 0, "sort": "changed"}
            seen_urls: set[str] = set()
            while url:
                r = client.get_json(url, params)
                if not isinstance(r.data, dict) or not isinstance(r.data.get("data"), list):
                    raise SourceError(f"{url}: not a JSON:API document (no data array)")
                for node in r.data["data"]:
                    if not isinstance(node, dict):
                        continue
                    nid = node.get("drupal_internal__nid") or node.get("id")
                    if nid in (None, ""):
                        continue
                    yield Item(key=f"{locale}:{nid}", payload={"locale": locale, "node": node, "site": client.base_url},
                               revision=str(node.get("changed") or ""), cursor={"locale": locale})
                nxt = (r.data.get("links") or {}).get("next")
                href = nxt.get("href") if isinstance(nxt, dict) else nxt if isinstance(nxt, str) else None
                if not href or href in seen_urls:
                    break
                seen_urls.add(href)
                url, params = href, None

    def map(self, item: Item) -> Mapped:
        locale, node, site = item.payload["locale"], item.payload["node"], item.payload["site"]
        m, out = self.m, Mapped()
        nid = node.get("drupal_internal__nid") or node.get("id")
        r = m.record(f"bioland-{self.country}-{nid}")
        out.subjects.append(r)
        title = node.get("title")
        if not isinstance(title, str) or not title.strip():
            raise SourceError(f"node {nid} has no title")
        lang = node.get("langcode") if isinstance(node.get("langcode"), str) and re.fullmatch(r"[a-z]{2}", node["langcode"]) else locale
        out.own.add(r, RDF.type, CHM.Record)
        out.own.add(r, DCTERMS.title, lit(title.strip(), lang))
        out.own.add(r, SKOS.prefLabel, lit(title.strip(), lang))
        out.own.add(r, DCTERMS.language, lit(lang))
        out.own.add(r, CHM.country, lit(self.country))
        out.own.add(r, DCTERMS.identifier, lit(f"bioland:{self.country}:{nid}"))
        body = node.get("body")
        if isinstance(body, dict) and isinstance(body.get("value"), str):
            text = html_text(body["value"])
            if text:
                out.own.add(r, DCTERMS.description, lit(text, lang))
        kinds = [t.get("name") for t in node.get("field_type_placement") or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]
        kind = kinds[0] if kinds else "content"
        out.own.add(r, DCTERMS.type, record_type(m, out.shared, slug(kind), kind.lower()))
        for field, prop in (("created", DCTERMS.issued), ("changed", DCTERMS.modified)):
            value = date_literal(node.get(field))
            if value is not None:
                out.own.add(r, prop, value)
        path = node.get("path") if isinstance(node.get("path"), dict) else {}
        alias = path.get("alias") if isinstance(path.get("alias"), str) else None
        if alias:
            url = urljoin(site + "/", f"{locale}{alias}" if not alias.startswith(f"/{locale}/") else alias.lstrip("/"))
            if re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", url):
                out.own.add(r, RDFS.seeAlso, iri(url))
        for tag in strings(node.get("field_tags")):
            if _TERM.match(tag):
                out.own.add(r, DCTERMS.subject, subject_concept(m, out.shared, tag))
        return out
