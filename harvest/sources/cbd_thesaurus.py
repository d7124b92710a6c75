"""``cbd-thesaurus``: the SCBD thesaurus domains (``/api/v2013/thesaurus/domains/{domain}/terms``) and the
countries (``/api/v2013/countries``) → SKOS.

Terms of CBD-SUBJECTS become the concepts records and decisions already point at (``scheme/cbd-subjects``);
targets and goals are linked to the hub's Aichi and KMGBF concepts (``skos:exactMatch``); a country becomes the
agent ``country/<iso2>`` (as ``chmkg build`` makes it from the shared country list), with its party status per
instrument as ORG memberships.
Each domain answers with one plain array (no paging).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from harvest.client import Client, HarvestHTTPError
from harvest.sources.base import FetchContext, Item, Mapped, Source, digest, lstrings, strings
from loaders.chm_records import term_concept
from loaders.countries import membership_label
from loaders.triples import lit
from ontology import CHM, FOAF, ORG, RDF, SKOS, XSD
from ontology.errors import SourceError

DOMAINS = ("CBD-SUBJECTS", "GBF-GOALS", "GBF-TARGETS", "AICHI-TARGETS", "REGIONS")
TREATIES = {"XXVII8": ("cbd", "cop"), "XXVII8a": ("cartagena", "cp-mop"), "XXVII8b": ("nagoya", "np-mop")}


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
        """A country as the agent the countries reader makes (``country/<iso2>``), and the instruments it is
        Party to as memberships of their Parties' body, with the date (the same nodes as the build's)."""
        m, out = self.m, Mapped()
        code = country["code"].upper()
        node = m.country(code)
        out.subjects.append(node)
        for cls in (FOAF.Agent, ORG.Organization, ORG.FormalOrganization):
            out.own.add(node, RDF.type, cls)
        out.own.add(node, SKOS.notation, lit(code))
        for lang, text in lstrings(country.get("name")) or [("en", code)]:
            out.own.add(node, SKOS.prefLabel, lit(text, lang))
        treaties = country.get("treaties") if isinstance(country.get("treaties"), dict) else {}
        for treaty, status in treaties.items():
            instrument = TREATIES.get(treaty)
            if not instrument or not isinstance(status, dict):
                continue
            party = str(status.get("party") or "")[:10]
            signed = str(status.get("signature") or "")[:10]
            if not (re.fullmatch(r"\d{4}-\d{2}-\d{2}", party) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", signed)):
                continue
            ms = m.party_membership(code, instrument[0])
            out.own.add(ms, RDF.type, ORG.Membership)
            out.own.add(ms, ORG.member, node)
            out.own.add(ms, ORG.organization, m.actor(instrument[1]))
            is_party = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", party))
            out.own.add(ms, CHM.nodeRole, CHM.Party if is_party else CHM.Signatory)
            name = dict(lstrings(country.get("name"))).get("en", code)
            out.own.add(ms, SKOS.prefLabel, lit(membership_label(name, instrument[0], is_party), "en"))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", party):
                out.own.add(ms, CHM.inForceFrom, lit(party, datatype=XSD.date))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", signed):
                out.own.add(ms, CHM.signed, lit(signed, datatype=XSD.date))
            deposit = str(status.get("deposit") or "")[:10]
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", deposit):
                out.own.add(ms, CHM.consented, lit(deposit, datatype=XSD.date))
            for role, label in ((CHM.Party, "Party"), (CHM.Signatory, "Signatory")):
                out.shared.add(role, RDF.type, ORG.Role)
                out.shared.add(role, SKOS.prefLabel, lit(label, "en"))
        return out
