"""``cbd-thesaurus``: the SCBD thesaurus domains (``/api/v2013/thesaurus/domains/{domain}/terms``) and the
countries (``/api/v2013/countries``) → SKOS.

Terms of CBD-SUBJECTS become the concepts records and decisions already point at (``scheme/cbd-subjects``);
targets and goals are linked to the hub's Aichi and KMGBF concepts (``skos:exactMatch``); a country becomes a
concept of ``scheme/countries`` with its code as notation, and the treaties it is party to with the dates.
Each domain answers with one plain array (no paging).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from harvest.client import Client, HarvestHTTPError
from harvest.sources.base import FetchContext, Item, Mapped, Source, digest, lstrings, strings
from loaders.chm_records import term_concept
from loaders.triples import lit
from ontology import CHM, DCTERMS, RDF, SKOS, XSD
from ontology.errors import SourceError

DOMAINS = ("CBD-SUBJECTS", "GBF-GOALS", "GBF-TARGETS", "AICHI-TARGETS", "REGIONS")
TREATIES = {"XXVII8": "cbd", "XXVII8a": "cartagena", "XXVII8b": "nagoya"}


def scheme_key(domain: str) -> str:
    return "cbd-subjects" if domain == "CBD-SUBJECTS" else "cbd-" + domain.lower()


class CbdThesaurus(Source):
    name = "cbd-thesaurus"
    title = "SCBD thesaurus domains and countries"
    default_url = "https://api.cbd.int"

    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        domains = [d for d in (ctx.options.get("domains") or ",".join(DOMAINS)).split(",") if d]
        for domain in domains:
            try:
                terms = client.get_json("/api/v2013/thesaurus/domains/" + quote(domain, safe="") + "/terms").data
            except HarvestHTTPError as e:
                yield Item(key=f"domain:{domain}", error=str(e), cursor={"domain": domain})
                continue
            if not isinstance(terms, list):
                yield Item(key=f"domain:{domain}", error=f"domain {domain} did not answer an array of terms")
                continue
            for term in terms:
                ident = term.get("identifier") if isinstance(term, dict) else None
                if not isinstance(ident, str) or not ident:
                    continue
                yield Item(key=f"{domain}:{ident}", payload={"domain": domain, "term": term}, revision=digest(term),
                           cursor={"domain": domain})
        if ctx.options.get("countries", "yes") != "no":
            countries = client.get_json("/api/v2013/countries").data
            for c in countries if isinstance(countries, list) else []:
                code = c.get("code") if isinstance(c, dict) else None
                if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2}", code):
                    yield Item(key=f"country:{code.upper()}", payload={"country": c}, revision=digest(c), cursor={"domain": "countries"})

    def map(self, item: Item) -> Mapped:
        if "country" in item.payload:
            return self._country(item.payload["country"])
        domain, term = item.payload["domain"], item.payload["term"]
        m, out = self.m, Mapped()
        key = scheme_key(domain)
        scheme = m.scheme(key)
        ident = term["identifier"]
        c = m.concept(key, ident)
        out.subjects.append(c)
        out.shared.add(scheme, RDF.type, SKOS.ConceptScheme)
        out.shared.add(scheme, SKOS.prefLabel, lit(f"SCBD thesaurus {domain}", "en"))
        out.own.add(c, RDF.type, SKOS.Concept)
        out.own.add(c, SKOS.inScheme, scheme)
        out.own.add(c, SKOS.notation, lit(ident))
        titles = lstrings(term.get("title"))
        if not titles and isinstance(term.get("name"), str) and term["name"].strip():
            titles = [("en", term["name"].strip())]
        if not titles:
            raise SourceError(f"term {ident} has no title")
        for lang, text in titles:
            out.own.add(c, SKOS.prefLabel, lit(text, lang))
        for lang, text in lstrings(term.get("shortTitle")):
            if (lang, text) not in titles:
                out.own.add(c, SKOS.altLabel, lit(text, lang))
        for lang, text in lstrings(term.get("longDescription")):
            out.own.add(c, SKOS.definition, lit(text, lang))
        for field in ("nonPreferedTerms", "nonPreferredTerms"):
            for alt in term.get(field) or []:
                if isinstance(alt, str) and alt.strip():
                    out.own.add(c, SKOS.hiddenLabel, lit(alt.strip(), "en"))
        broader = strings(term.get("broaderTerms"))
        for b in broader:
            out.own.add(c, SKOS.broader, m.concept(key, b))
        if not broader:
            out.own.add(c, SKOS.topConceptOf, scheme)
        for n in strings(term.get("narrowerTerms")):
            out.own.add(c, SKOS.narrower, m.concept(key, n))
        for r in strings(term.get("relatedTerms")):
            out.own.add(c, SKOS.related, m.concept(key, r))
        hub = term_concept(m, ident)
        if hub and hub != c:
            out.own.add(c, SKOS.exactMatch, hub)
        return out

    def _country(self, country: dict) -> Mapped:
        m, out = self.m, Mapped()
        code = country["code"].upper()
        scheme = m.scheme("countries")
        c = m.concept("countries", code)
        out.subjects.append(c)
        out.shared.add(scheme, RDF.type, SKOS.ConceptScheme)
        out.shared.add(scheme, SKOS.prefLabel, lit("Countries (SCBD)", "en"))
        out.own.add(c, RDF.type, SKOS.Concept)
        out.own.add(c, SKOS.inScheme, scheme)
        out.own.add(c, SKOS.topConceptOf, scheme)
        out.own.add(c, SKOS.notation, lit(code))
        names = lstrings(country.get("name")) or [("en", code)]
        for lang, text in names:
            out.own.add(c, SKOS.prefLabel, lit(text, lang))
        treaties = country.get("treaties") if isinstance(country.get("treaties"), dict) else {}
        for treaty, status in treaties.items():
            instrument = TREATIES.get(treaty)
            if not instrument or not isinstance(status, dict) or not status.get("party"):
                continue
            party = str(status["party"])[:10]
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", party):
                continue
            out.own.add(c, CHM.partyTo, m.instrument(instrument))
            node = c + "/party/" + instrument
            out.own.add(node, RDF.type, CHM.PartyStatus)
            out.own.add(node, CHM.country, lit(code))
            out.own.add(node, CHM.instrument, m.instrument(instrument))
            out.own.add(node, DCTERMS.date, lit(party, datatype=XSD.date))
            if isinstance(status.get("instrument"), str):
                out.own.add(node, DCTERMS.type, lit(status["instrument"]))
            out.own.add(c, CHM.partyStatus, node)
        return out
