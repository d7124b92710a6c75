"""Matchmaking for technical and scientific cooperation: needs against offers (and back), scored from
what they share and explained.

A match's score (0–1) adds up, with these weights:

- **concepts** (0.35): each subject of one side meets its best counterpart on the other through the
  thesaurus — the same concept (1.0), a mapping (exact/close match, 0.9), one step broader or
  narrower (0.7), siblings under one broader concept or two steps (0.5), related (0.5) — averaged
  both ways; so "marine protected area" meets "marine ecosystem" and "coral reef";
- **targets** (0.15): KMGBF (or Aichi) targets both address;
- **text** (0.20): BM25 (``bm25s``) over titles and descriptions, folded and stop-worded in
  English, French and Spanish, scaled to the best candidate;
- **kind of support** (0.10), **region** (0.10: the need's country or region among the offer's, or an
  offer open everywhere at half), **language** (0.10: a working language in common).

Each match lists why, one reason per part that counted. The text-only baseline ranks by BM25 alone.
"""

from __future__ import annotations

import hashlib as _hashlib
import logging as _logging
import math
import re
import unicodedata
import uuid as _uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC as _UTC, datetime as _datetime

import pyoxigraph as ox

from ontology import CHM, DCTERMS, PROV, RDF, SCHEMA, SKOS, XSD
from ontology.errors import ChmError
from sparql.builder import Update, iri as _iri, literal as _lit, prefixed

_logging.getLogger("bm25s").setLevel(_logging.WARNING)

WEIGHTS = {"concepts": 0.35, "targets": 0.15, "text": 0.20, "kind": 0.10, "region": 0.10, "language": 0.10}
LINKS = {"same": 1.0, "mapping": 0.9, "broader": 0.7, "narrower": 0.7, "sibling": 0.5, "related": 0.5, "two steps": 0.5}
STOP = set("""a an and are as at be by for from has have in into is it its of on or that the their this to with will we our
les des une un et en la le du de dans pour par sur au aux est sont qui que leur nos notre avec ces cette
los las el del una uno y en para por con sobre al es son que su sus nuestro nuestra este esta estos""".split())
TARGET_SCHEMES = ("/scheme/gbf-targets/", "/scheme/aichi-targets/")


@dataclass
class Side:
    """A need or an offer as the matcher sees it."""

    iri: str
    kind: str                      # need | offer
    title: str
    description: str = ""
    who: str = ""
    subjects: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    support: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    status: str = "published"


@dataclass
class Match:
    iri: str
    score: float
    parts: dict[str, float]
    reasons: list[str]

    def to_dict(self) -> dict:
        return {"iri": self.iri, "score": round(self.score, 4), "parts": {k: round(v, 4) for k, v in self.parts.items()},
                "reasons": self.reasons}


@dataclass
class ConceptGraph:
    broader: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    related: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    mapped: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: dict[str, str] = field(default_factory=dict)

    def add(self, a: str, rel: str, b: str) -> None:
        if rel == "broader":
            self.broader[a].add(b)
        elif rel == "narrower":
            self.broader[b].add(a)
        elif rel == "related":
            self.related[a].add(b)
            self.related[b].add(a)
        elif rel == "mapping":
            self.mapped[a].add(b)
            self.mapped[b].add(a)

    def label(self, c: str) -> str:
        return self.labels.get(c) or c.rstrip("/").rsplit("/", 1)[-1].replace("-", " ")

    def link(self, a: str, b: str) -> tuple[float, str]:
        """How closely two concepts meet, and how."""
        if a == b:
            return LINKS["same"], "same"
        if b in self.mapped.get(a, ()):
            return LINKS["mapping"], "mapping"
        up_a, up_b = self.broader.get(a, set()), self.broader.get(b, set())
        if b in up_a:
            return LINKS["narrower"], "narrower"   # a is narrower than b
        if a in up_b:
            return LINKS["broader"], "broader"     # a is broader than b
        if up_a & up_b:
            return LINKS["sibling"], "sibling"
        if b in self.related.get(a, ()):
            return LINKS["related"], "related"
        if any(b in self.broader.get(x, ()) for x in up_a) or any(a in self.broader.get(x, ()) for x in up_b):
            return LINKS["two steps"], "two steps"
        return 0.0, ""


def fold(text: str) -> list[str]:
    """Words folded for BM25: lower case, no accents, no stop words, a plural's s dropped."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", text)
    return [w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words if w not in STOP and len(w) > 2]


class Matcher:
    def __init__(self, sides: list[Side], graph: ConceptGraph) -> None:
        import bm25s

        self.graph = graph
        self.by_iri = {s.iri: s for s in sides}
        self.pools: dict[str, list[Side]] = {"need": [], "offer": []}
        for s in sides:
            self.pools[s.kind].append(s)
        self.bm25: dict[str, object] = {}
        for kind, pool in self.pools.items():
            if pool:
                retriever = bm25s.BM25()
                retriever.index([fold(f"{s.title} {s.description}") or ["empty"] for s in pool], show_progress=False)
                self.bm25[kind] = retriever
        # candidates by index lookups: a side is filed under its concepts, their broader concepts and
        # theirs (the links ConceptGraph.link knows), and its targets; a query looks up the keys that
        # meet those, and only the candidates found (with the best texts) are scored
        self.keys: dict[str, dict[str, dict[str, set[int]]]] = {}
        for kind, pool in self.pools.items():
            index: dict[str, dict[str, set[int]]] = {"own": defaultdict(set), "parent": defaultdict(set), "grand": defaultdict(set),
                                                     "target": defaultdict(set)}
            for i, s in enumerate(pool):
                for c in s.subjects:
                    index["own"][c].add(i)
                    for p in graph.broader.get(c, ()):
                        index["parent"][p].add(i)
                        for g in graph.broader.get(p, ()):
                            index["grand"][g].add(i)
                for t in s.targets:
                    index["target"][t].add(i)
            self.keys[kind] = index

    def _candidates(self, item: Side, kind: str, text: list[float]) -> set[int]:
        index, g = self.keys[kind], self.graph
        found: set[int] = set()
        for c in item.subjects:
            up = g.broader.get(c, set())
            grand = {x for p in up for x in g.broader.get(p, ())}
            for key in {c} | g.mapped.get(c, set()) | up | g.related.get(c, set()) | grand:
                found |= index["own"].get(key, set())
            for key in {c} | up:
                found |= index["parent"].get(key, set())
            found |= index["grand"].get(c, set())
        for t in item.targets:
            found |= index["target"].get(t, set())
        best = sorted((i for i, x in enumerate(text) if x > 0), key=lambda i: -text[i])[:200]
        return found | set(best)

    def _concepts(self, a: Side, b: Side) -> tuple[float, list[str]]:
        if not a.subjects or not b.subjects:
            return 0.0, []
        reasons, total_a = [], 0.0
        for x in sorted(a.subjects):
            best, how, with_ = 0.0, "", ""
            for y in b.subjects:
                w, h = self.graph.link(x, y)
                if w > best:
                    best, how, with_ = w, h, y
            total_a += best
            if best:
                g = self.graph
                reasons.append(f"shares “{g.label(x)}”" if how == "same" else
                               f"“{g.label(x)}” meets “{g.label(with_)}” ({how})")
        total_b = sum(max((self.graph.link(y, x)[0] for x in a.subjects), default=0.0) for y in b.subjects)
        return (total_a / len(a.subjects) + total_b / len(b.subjects)) / 2, reasons

    def score(self, a: Side, b: Side, text: float) -> Match:
        parts: dict[str, float] = {}
        reasons: list[str] = []
        parts["concepts"], why = self._concepts(a, b)
        reasons += why[:4]
        shared_targets = a.targets & b.targets
        parts["targets"] = len(shared_targets) / len(a.targets | b.targets) if a.targets and b.targets else 0.0
        if shared_targets:
            reasons.append("both address " + ", ".join(sorted(self.graph.label(t) for t in shared_targets)))
        parts["text"] = text
        if text >= 0.2:
            reasons.append(f"similar wording (text {text:.2f})")
        shared_kinds = a.support & b.support
        parts["kind"] = 1.0 if shared_kinds else 0.0
        if shared_kinds:
            reasons.append("kind of support: " + ", ".join(sorted(shared_kinds)))
        need, offer = (a, b) if a.kind == "need" else (b, a)
        if need.countries & offer.countries:
            parts["region"] = 1.0
            reasons.append("works in " + ", ".join(sorted(c.upper() for c in need.countries & offer.countries)))
        elif need.regions & offer.regions:
            parts["region"] = 1.0
            reasons.append("works in the region " + ", ".join(sorted(need.regions & offer.regions)))
        elif not offer.countries and not offer.regions:
            parts["region"] = 0.5
            reasons.append("open to every region")
        else:
            parts["region"] = 0.0
        shared_langs = a.languages & b.languages
        parts["language"] = 1.0 if shared_langs else 0.0
        if shared_langs:
            reasons.append("common language: " + ", ".join(sorted(shared_langs)))
        total = sum(WEIGHTS[k] * v for k, v in parts.items())
        return Match(b.iri, total, parts, reasons)

    def _text_scores(self, item: Side, pool_kind: str) -> list[float]:
        retriever = self.bm25.get(pool_kind)
        if retriever is None:
            return []
        query = fold(f"{item.title} {item.description}")
        if not query:
            return [0.0] * len(self.pools[pool_kind])
        scores = [float(x) for x in retriever.get_scores(query)]
        top = max(scores) if scores else 0.0
        return [s / top if top > 0 else 0.0 for s in scores]

    def matches(self, iri: str, k: int = 10, text_only: bool = False, include_unpublished: bool = False) -> list[Match]:
        item = self.by_iri.get(iri)
        if item is None:
            return []
        other = "offer" if item.kind == "need" else "need"
        pool = self.pools[other]
        text = self._text_scores(item, other)
        chosen = range(len(pool))
        if not text_only:
            found = self._candidates(item, other, text)
            if len(found) >= 3 * k:  # enough candidates: the rest share nothing but region, language or kind
                chosen = sorted(found)
        out = []
        for i in chosen:
            s, t = pool[i], text[i]
            if s.status != "published" and not include_unpublished:
                continue
            if text_only:
                out.append(Match(s.iri, t, {"text": t}, [f"similar wording (text {t:.2f})"] if t else []))
            else:
                out.append(self.score(item, s, t))
        out.sort(key=lambda m: (-m.score, m.iri))
        return [m for m in out if m.score > 0][:k]


# -- evaluation ------------------------------------------------------------------------------------
def ndcg(ranked: list[str], gains: dict[str, int], k: int) -> float:
    dcg = sum((2 ** gains.get(x, 0) - 1) / math.log2(i + 2) for i, x in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], gains: dict[str, int], k: int) -> float:
    relevant = {x for x, g in gains.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


# -- sides from files (the labelled set) and from the store ------------------------------------------
INFORMEA = "http://www.informea.org/terms/"


def _concept(value: str) -> str:
    return value if value.startswith(("http://", "https://")) else INFORMEA + value


def _target(base: str, value) -> str:
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return value
    return f"{base}scheme/gbf-targets/target-{int(value)}"


def side_from_dict(d: dict, kind: str, base: str) -> Side:
    return Side(iri=f"{base}{kind}/{d['id']}", kind=kind, title=d["title"], description=d.get("description", ""),
                who=d.get("who", ""), subjects={_concept(c) for c in d.get("subjects", [])},
                targets={_target(base, t) for t in d.get("targets", [])}, support=set(d.get("support", [])),
                countries={c.lower() for c in d.get("countries", [])}, regions=set(d.get("regions", [])),
                languages=set(d.get("languages", [])), status=d.get("status", "published"))


def read_labelled(needs_path, offers_path, base: str) -> tuple[list[Side], dict[str, dict[str, int]]]:
    """The labelled set: needs (each with ``relevant``: offer id → gain 1 or 2) and offers, JSON lines."""
    import json
    from pathlib import Path

    from ontology.errors import SourceError

    sides: list[Side] = []
    judgments: dict[str, dict[str, int]] = {}
    for path, kind in ((needs_path, "need"), (offers_path, "offer")):
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise SourceError(f"{path}: cannot read the labelled set ({e})") from None
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                side = side_from_dict(d, kind, base)
            except (ValueError, KeyError, TypeError) as e:
                raise SourceError(f"{path}, line {n}: not a {kind} ({e})") from None
            sides.append(side)
            if kind == "need":
                judgments[side.iri] = {f"{base}offer/{k}": int(v) for k, v in d.get("relevant", {}).items()}
    return sides, judgments


@dataclass
class MatchingScores:
    needs: int
    offers: int
    ndcg5: float
    recall10: float
    baseline_ndcg5: float
    baseline_recall10: float
    per_need: list[dict] = field(default_factory=list)


def evaluate(matcher: Matcher, judgments: dict[str, dict[str, int]]) -> MatchingScores:
    rows, n5, r10, b5, b10 = [], [], [], [], []
    for need, gains in sorted(judgments.items()):
        ranked = [m.iri for m in matcher.matches(need, k=10)]
        base = [m.iri for m in matcher.matches(need, k=10, text_only=True)]
        n5.append(ndcg(ranked, gains, 5))
        r10.append(recall(ranked, gains, 10))
        b5.append(ndcg(base, gains, 5))
        b10.append(recall(base, gains, 10))
        rows.append({"need": need, "ndcg5": round(n5[-1], 4), "recall10": round(r10[-1], 4), "baseline_ndcg5": round(b5[-1], 4),
                     "top": [x.rsplit("/", 1)[-1] for x in ranked[:5]]})
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else 0.0  # noqa: E731
    return MatchingScores(len(judgments), len(matcher.pools["offer"]), mean(n5), mean(r10), mean(b5), mean(b10), rows)




def graph_from_store(store) -> ConceptGraph:
    """The thesaurus relations (broader, narrower, related, exact/close matches) and English labels."""
    g = ConceptGraph()
    rels = {"http://www.w3.org/2004/02/skos/core#broader": "broader", "http://www.w3.org/2004/02/skos/core#narrower": "narrower",
            "http://www.w3.org/2004/02/skos/core#related": "related", "http://www.w3.org/2004/02/skos/core#exactMatch": "mapping",
            "http://www.w3.org/2004/02/skos/core#closeMatch": "mapping"}
    q = prefixed("SELECT ?a ?p ?b WHERE { ?a ?p ?b FILTER (?p IN (skos:broader, skos:narrower, skos:related, skos:exactMatch, skos:closeMatch)) }")
    for r in store.select(q):
        g.add(r["a"].value, rels[r["p"].value], r["b"].value)
    for r in store.select(prefixed('SELECT ?c ?l WHERE { ?c a skos:Concept ; skos:prefLabel ?l FILTER (LANGMATCHES(LANG(?l), "en")) }')):
        g.labels.setdefault(r["c"].value, r["l"].value)
    return g


# -- needs, offers and match decisions in the store (graph "matchmaking") --------------------------------
GRAPH = "matchmaking"
SUPPORT = ("training", "expertise", "technology", "data", "funding-advice")
STATUSES = ("submitted", "published", "closed")
LANGS = ("ar", "zh", "en", "fr", "ru", "es", "pt")


def _graph(base: str) -> ox.NamedNode:
    from ontology.iris import Minter

    return ox.NamedNode(Minter(base).graph(GRAPH))


class MatchmakingError(ChmError):
    code = "E320"
    http_status = 400


def _strings(body: dict, key: str, limit: int, pattern: str | None = None, choices: tuple[str, ...] | None = None) -> list[str]:
    value = body.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(v, (str, int)) for v in value):
        raise MatchmakingError(f"{key} is a list of at most {limit} values")
    out = [str(v).strip() for v in value if str(v).strip()]
    for v in out:
        if choices and v not in choices:
            raise MatchmakingError(f"{key}: {v[:60]!r} is not one of {', '.join(choices)}")
        if pattern and not re.fullmatch(pattern, v):
            raise MatchmakingError(f"{key}: {v[:60]!r} is not well formed")
    return out


def submission(kind: str, body: dict, submitter: str, base: str, suggest=None) -> tuple[str, Update, list[str]]:
    """A need or an offer from a JSON body: (its IRI, the update inserting it, subjects the tagger added).
    Every value is checked here with a message naming the field; the shapes check the rest on commit."""
    if kind not in ("need", "offer"):
        raise MatchmakingError("a submission is a need or an offer")
    if not isinstance(body, dict):
        raise MatchmakingError("send a JSON object")
    known = {"title", "description", "language", "who", "subjects", "targets", "support", "countries", "regions", "languages",
             "start", "end", "capacity"}
    unknown = set(body) - known
    if unknown:
        raise MatchmakingError(f"unknown field(s): {', '.join(sorted(str(u)[:40] for u in unknown))}")
    title, description = body.get("title"), body.get("description")
    if not isinstance(title, str) or not title.strip() or len(title) > 300:
        raise MatchmakingError("title is a text of 1 to 300 characters")
    if not isinstance(description, str) or not description.strip() or len(description) > 5000:
        raise MatchmakingError("description is a text of 1 to 5,000 characters")
    lang = body.get("language", "en")
    if lang not in LANGS:
        raise MatchmakingError(f"language is one of {', '.join(LANGS)}")
    who = body.get("who")
    if not isinstance(who, str):
        raise MatchmakingError("who names the Party's country or the organization by its IRI")
    who_node = _iri(who if who.startswith(("http://", "https://")) else base + who, "who")
    subjects = _strings(body, "subjects", 30)
    targets = _strings(body, "targets", 23)
    support = _strings(body, "support", 5, choices=SUPPORT)
    countries = _strings(body, "countries", 60, pattern=r"[A-Za-z]{2}")
    regions = _strings(body, "regions", 10, pattern=r"[\w ,.'-]{2,60}")
    languages = _strings(body, "languages", 7, choices=LANGS)
    ident = _uuid.uuid4().hex[:12]
    node = ox.NamedNode(f"{base}{kind}/{ident}")
    g = _graph(base)
    now = _datetime.now(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    t: list[tuple] = [(node, ox.NamedNode(RDF.type), ox.NamedNode(CHM.Need if kind == "need" else CHM.Offer)),
                      (node, ox.NamedNode(RDF.type), ox.NamedNode(CHM.Record)),
                      (node, ox.NamedNode(DCTERMS.identifier), _lit(ident)),
                      (node, ox.NamedNode(DCTERMS.title), _lit(title.strip(), lang=lang)),
                      (node, ox.NamedNode(SKOS.prefLabel), _lit(title.strip(), lang=lang)),
                      (node, ox.NamedNode(DCTERMS.description), _lit(description.strip(), lang=lang)),
                      (node, ox.NamedNode(DCTERMS.language), _lit(lang)),
                      (node, ox.NamedNode(CHM.requester if kind == "need" else CHM.provider), who_node),
                      (node, ox.NamedNode(CHM.publicationStatus), _lit("submitted")),
                      (node, ox.NamedNode(DCTERMS.created), _lit(now, datatype=XSD.dateTime)),
                      (node, ox.NamedNode(PROV.wasAttributedTo), _lit(submitter))]
    concepts = [_concept(c) for c in subjects] + [_target(base, x) if not x.isdigit() or 1 <= int(x) <= 23 else "" for x in targets]
    if "" in concepts:
        raise MatchmakingError("targets are KMGBF target numbers 1 to 23 (or target IRIs)")
    tagged: list[str] = []
    if suggest is not None:
        for concept in suggest(f"{title}\n\n{description}", lang):
            if concept not in concepts:
                concepts.append(concept)
                tagged.append(concept)
    for c in concepts:
        t.append((node, ox.NamedNode(DCTERMS.subject), _iri(c, "subject")))
    t += [(node, ox.NamedNode(CHM.supportKind), _lit(s)) for s in support]
    t += [(node, ox.NamedNode(CHM.country), _lit(c.upper())) for c in countries]
    t += [(node, ox.NamedNode(CHM.region), _lit(r)) for r in regions]
    t += [(node, ox.NamedNode(CHM.workingLanguage), _lit(x)) for x in languages or [lang]]
    for key, prop in (("start", SCHEMA.startDate), ("end", SCHEMA.endDate)):
        if body.get(key) is not None:
            if not isinstance(body[key], str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", body[key]):
                raise MatchmakingError(f"{key} is a date YYYY-MM-DD")
            t.append((node, ox.NamedNode(prop), _lit(body[key], datatype=XSD.date)))
    if kind == "offer" and body.get("capacity") is not None:
        cap = body["capacity"]
        if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 10_000:
            raise MatchmakingError("capacity is a whole number from 1 to 10,000")
        t.append((node, ox.NamedNode(CHM.capacity), _lit(str(cap), datatype=XSD.integer)))
    return node.value, Update().insert_data(g, t), tagged


def status_update(base: str, node: str, status: str) -> Update:
    if status not in STATUSES:
        raise MatchmakingError(f"status is one of {', '.join(STATUSES)}")
    g, n = _graph(base), _iri(node, "need or offer")
    return Update().delete_values(g, n, ox.NamedNode(CHM.publicationStatus)).insert_data(
        g, [(n, ox.NamedNode(CHM.publicationStatus), _lit(status))])


def match_iri(base: str, need: str, offer: str) -> str:
    return f"{base}match/" + _hashlib.sha1(f"{need} {offer}".encode()).hexdigest()[:16]


def decision_update(base: str, need: str, offer: str, decision: str, who: str, score: float | None, note: str = "") -> tuple[str, Update]:
    """Record that the people concerned accepted or declined a match (PROV: who, when); a new decision
    on the same pair replaces the previous one."""
    if decision not in ("accepted", "declined"):
        raise MatchmakingError("decision is accepted or declined")
    if not isinstance(note, str) or len(note) > 2000:
        raise MatchmakingError("note is a text of at most 2,000 characters")
    g = _graph(base)
    m = ox.NamedNode(match_iri(base, need, offer))
    now = _datetime.now(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    t = [(m, ox.NamedNode(RDF.type), ox.NamedNode(CHM.Match)), (m, ox.NamedNode(CHM.matchNeed), _iri(need, "need")),
         (m, ox.NamedNode(CHM.matchOffer), _iri(offer, "offer")), (m, ox.NamedNode(CHM.matchDecision), _lit(decision)),
         (m, ox.NamedNode(PROV.wasAttributedTo), _lit(who)), (m, ox.NamedNode(PROV.generatedAtTime), _lit(now, datatype=XSD.dateTime))]
    if score is not None:
        t.append((m, ox.NamedNode(CHM.score), _lit(f"{score:.4f}", datatype=XSD.decimal)))
    if note:
        t.append((m, ox.NamedNode(DCTERMS.description), _lit(note, lang="en")))
    return m.value, Update().delete_subject(g, m).insert_data(g, t)


SIDES = prefixed("""SELECT ?g ?x ?type ?p ?o WHERE { GRAPH $g { ?x a ?type ; ?p ?o FILTER (?type IN (chm:Need, chm:Offer)) } }""")
DECISIONS = prefixed("""SELECT ?g ?m ?need ?offer ?decision ?who ?at WHERE { GRAPH $g {
  ?m a chm:Match ; chm:matchNeed ?need ; chm:matchOffer ?offer ; chm:matchDecision ?decision ; prov:wasAttributedTo ?who ;
     prov:generatedAtTime ?at } }""")


def sides_from_store(store, base: str) -> list[Side]:
    found: dict[str, Side] = {}
    targets = (f"{base}scheme/gbf-targets/", f"{base}scheme/aichi-targets/")
    for r in store.select(SIDES, {"g": _graph(base)}, union=False):
        x = r["x"].value
        s = found.setdefault(x, Side(x, "need" if r["type"].value == CHM.Need else "offer", ""))
        p, o = r["p"].value, r["o"]
        if p == DCTERMS.title:
            s.title = o.value
        elif p == DCTERMS.description:
            s.description = o.value
        elif p in (CHM.requester, CHM.provider):
            s.who = o.value
        elif p == DCTERMS.subject:
            (s.targets if o.value.startswith(targets) else s.subjects).add(o.value)
        elif p == CHM.supportKind:
            s.support.add(o.value)
        elif p == CHM.country:
            s.countries.add(o.value.lower())
        elif p == CHM.region:
            s.regions.add(o.value)
        elif p == CHM.workingLanguage:
            s.languages.add(o.value)
        elif p == CHM.publicationStatus:
            s.status = o.value
    return sorted(found.values(), key=lambda s: s.iri)


def decisions_in_store(store, base: str) -> dict[tuple[str, str], dict]:
    return {(r["need"].value, r["offer"].value): {"match": r["m"].value, "decision": r["decision"].value, "by": r["who"].value,
                                                 "at": r["at"].value}
            for r in store.select(DECISIONS, {"g": _graph(base)}, union=False)}
