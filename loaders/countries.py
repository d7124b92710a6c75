"""Countries and who is Party to what: ``../shared/data/cbd-reference/countries`` (InforMEA's country list:
ISO codes, names in the UN languages, UNEP regions) and ``../shared/data/treaty-memberships`` (ECOLEX:
signature, consent to be bound and entry into force of the CBD, Cartagena and Nagoya Protocols).

A country is an agent, ``country/<iso2>`` (``foaf:Agent``, ``org:FormalOrganization``), with its names and
codes; being Party to an instrument is an ``org:Membership`` of the body of its Parties (the COP, the
CP-MOP, the NP-MOP) with the role ``chm:Party`` and the dates (``chm:signed``, ``chm:consented``,
``chm:inForceFrom``). A State that signed but never consented to be bound has the membership with its
signature date and the role ``chm:Signatory`` instead. The ECOLEX snapshot ends about 2018: later parties
are missing or show a signature only (each membership says its source).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

from loaders.rdf import read_bytes
from loaders.triples import TripleSet, lit
from ontology import CHM, DCTERMS, FOAF, ORG, RDF, SKOS, XSD
from ontology.errors import SourceError
from ontology.iris import Minter
from writes.ingest import ParsedSource

COUNTRIES = Path("cbd-reference") / "countries" / "informea_countries_multilingual.json"
MEMBERSHIPS = Path("treaty-memberships") / "cbd_cp_np_memberships_ecolex.csv"
ECOLEX_TREATIES = {"TRE-001148": ("cbd", "cop"), "TRE-001327": ("cartagena", "cp-mop"), "TRE-155959": ("nagoya", "np-mop")}
INSTRUMENT_NAMES = {"cbd": "the Convention on Biological Diversity", "cartagena": "the Cartagena Protocol",
                    "nagoya": "the Nagoya Protocol"}


def membership_label(country: str, instrument: str, party: bool) -> str:
    """``Colombia: Party to the Convention on Biological Diversity`` — how a page names the membership."""
    return f"{country}: {'Party to' if party else 'Signatory of'} {INSTRUMENT_NAMES[instrument]}"
LANGS = ("en", "fr", "es", "ar", "ru", "zh")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def read_countries(shared_data: Path, base: str) -> ParsedSource:
    m = Minter(base)
    t = TripleSet()
    countries_raw = read_bytes(shared_data / COUNTRIES)
    try:
        countries = json.loads(countries_raw)
    except json.JSONDecodeError as e:
        raise SourceError(f"{shared_data / COUNTRIES}: not valid JSON ({e})") from None
    iso3: dict[str, str] = {}
    english: dict[str, str] = {"EU": "European Union"}
    for c in countries:
        code2, code3 = str(c.get("code2l") or "").upper(), str(c.get("code3l") or "").upper()
        if not re.fullmatch(r"[A-Z]{2}", code2):
            continue
        iso3[code3] = code2
        node = m.country(code2)
        for cls in (FOAF.Agent, ORG.Organization, ORG.FormalOrganization):
            t.add(node, RDF.type, cls)
        t.add(node, SKOS.notation, lit(code2))
        if re.fullmatch(r"[A-Z]{3}", code3):
            t.add(node, SKOS.notation, lit(code3))
        names = {n["language"]: n["name"] for n in c.get("countryNames") or []
                 if isinstance(n, dict) and n.get("language") in LANGS and isinstance(n.get("name"), str) and n["name"].strip()}
        names.setdefault("en", str(c.get("name") or code2))
        english[code2] = names["en"].strip()
        for lang, name in names.items():
            t.add(node, SKOS.prefLabel, lit(name.strip(), lang))
        if isinstance(c.get("nameOfficial"), str) and c["nameOfficial"].strip() and c["nameOfficial"] != names["en"]:
            t.add(node, SKOS.altLabel, lit(c["nameOfficial"].strip(), "en"))
        for region in c.get("countryRegions") or []:
            if isinstance(region, dict) and region.get("isUnep") and isinstance(region.get("region"), str):
                t.add(node, CHM.region, lit(region["region"]))
    iso3.setdefault("EUE", "EU")  # ECOLEX writes the European Union as EUE
    for role, labels in ((CHM.Party, ("Party", "Partie", "Parte")), (CHM.Signatory, ("Signatory", "Signataire", "Signatario"))):
        t.add(role, RDF.type, ORG.Role)
        for lang, label in zip(("en", "fr", "es"), labels):
            t.add(role, SKOS.prefLabel, lit(label, lang))
    raw = countries_raw
    path = shared_data / MEMBERSHIPS
    if path.is_file():
        data = read_bytes(path)
        raw += data
        for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
            treaty = ECOLEX_TREATIES.get(row.get("EcolexID", ""))
            code2 = iso3.get((row.get("StatID") or "").upper())
            if not treaty or not code2:
                continue
            instrument, body = treaty
            node = m.country(code2)
            if code2 == "EU":
                for cls in (FOAF.Agent, ORG.Organization, ORG.FormalOrganization):
                    t.add(node, RDF.type, cls)
                t.add(node, SKOS.prefLabel, lit("European Union", "en"))
                t.add(node, SKOS.notation, lit("EU"))
            ms = m.party_membership(code2, instrument)
            t.add(ms, RDF.type, ORG.Membership)
            t.add(ms, ORG.member, node)
            t.add(ms, ORG.organization, m.actor(body))
            consented = _DATE.match((row.get("Rat") or "").strip())
            t.add(ms, CHM.nodeRole, CHM.Party if consented else CHM.Signatory)
            t.add(ms, SKOS.prefLabel, lit(membership_label(english.get(code2, code2), instrument, bool(consented)), "en"))
            t.add(ms, DCTERMS.source, lit("ECOLEX " + row["EcolexID"]))
            for field, prop in (("Sign", CHM.signed), ("Rat", CHM.consented), ("Force", CHM.inForceFrom)):
                value = (row.get(field) or "").strip()
                if _DATE.match(value):
                    t.add(ms, prop, lit(value, datatype=XSD.date))
    return ParsedSource("countries", "countries", f"{shared_data / COUNTRIES}, {path}",
                        "sha256:" + hashlib.sha256(raw + m.base.encode()).hexdigest(), t.ntriples(),
                        "Countries and party status (InforMEA countries, ECOLEX memberships)")
