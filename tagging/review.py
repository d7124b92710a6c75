"""The editors' review of a submission's suggestions: accept one (its concept becomes
``dcterms:subject`` of the record), reject one, or add a subject the tagger missed.

Each function returns a SPARQL update built from checked terms (:mod:`sparql.builder`); the hub
commits it through :func:`writes.update.apply_update`, so a subject that is not a concept fails the
shapes and nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyoxigraph as ox

from ontology import CHM, DCTERMS, XSD
from ontology.errors import ChmError
from sparql.builder import Update, iri, literal, prefixed
from sparql.store import Store


class ReviewError(ChmError):
    code = "E607"
    http_status = 404


class StaleReview(ChmError):
    code = "E608"
    http_status = 409


SUGGESTION = prefixed("SELECT ?s ?g ?r ?c ?st WHERE { GRAPH ?g { ?s chm:suggestedFor ?r ; chm:suggestedConcept ?c ; chm:reviewStatus ?st } }")
RECORD_GRAPH = prefixed("SELECT ?g ?r WHERE { GRAPH ?g { ?r a chm:Record } }")


def review_update(store: Store, suggestion: str, action: str, reviewer: str, now: datetime | None = None) -> Update:
    """accept → the concept becomes dcterms:subject of the record; reject → marked rejected."""
    if action not in ("accept", "reject"):
        raise ReviewError(f"unknown review action {action!r} (accept or reject)")
    node = iri(suggestion, "suggestion")
    rows = store.select(SUGGESTION, {"s": node}, union=False)
    if not rows:
        raise ReviewError(f"no suggestion {suggestion}")
    g, record, concept, status = rows[0]["g"], rows[0]["r"], rows[0]["c"], rows[0]["st"].value
    if status != "pending":
        raise StaleReview(f"the suggestion was already {status} by another editor; reload the queue")
    stamp = literal((now or datetime.now(UTC)).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    new = "accepted" if action == "accept" else "rejected"
    update = (Update()
              .delete_data(g, [(node, ox.NamedNode(CHM.reviewStatus), literal("pending"))])
              .insert_data(g, [(node, ox.NamedNode(CHM.reviewStatus), literal(new)),
                               (node, ox.NamedNode(DCTERMS.contributor), literal(reviewer)),
                               (node, ox.NamedNode(DCTERMS.modified), stamp)]))
    if action == "accept":
        update.insert_data(iri(record_graph(store, record.value)), [(record, ox.NamedNode(DCTERMS.subject), concept)])
    return update


def record_graph(store: Store, record: str) -> str:
    rows = store.select(RECORD_GRAPH, {"r": iri(record, "record")}, union=False)
    if not rows:
        raise ReviewError(f"no record {record}")
    return rows[0]["g"].value


def add_subject_update(store: Store, record: str, concept: str) -> Update:
    """An editor adds a subject the tagger did not suggest (validated: it must be a skos:Concept)."""
    subject = iri(concept, "concept")
    return Update().insert_data(iri(record_graph(store, record)),
                                [(iri(record, "record"), ox.NamedNode(DCTERMS.subject), subject)])


QUEUE = prefixed("""SELECT ?s ?r ?title ?c ?label ?score ?rank ?status WHERE {
  ?s a chm:Suggestion ; chm:reviewStatus ?status ; chm:suggestedFor ?r ;
     chm:suggestedConcept ?c ; chm:score ?score ; chm:rank ?rank .
  ?r dcterms:title ?title .
  OPTIONAL { ?c skos:prefLabel ?label FILTER (langMatches(lang(?label), "en")) }
} ORDER BY ?r ?rank""")


def review_queue(store: Store, status: str = "pending", limit: int = 200) -> list[dict]:
    if status not in ("pending", "accepted", "rejected"):
        raise ReviewError(f"unknown review status {status!r}")
    _, rows = store.select_table(QUEUE, {"status": literal(status)}, limit=max(0, int(limit)) * 4)
    out: dict[str, dict] = {}
    for r in rows:
        key = r["s"].value
        if key in out:
            continue
        if len(out) >= limit:
            break
        out[key] = {"suggestion": key, "record": r["r"].value, "title": r["title"].value, "concept": r["c"].value,
                    "label": r["label"].value if r.get("label") else r["c"].value, "score": float(r["score"].value),
                    "rank": int(r["rank"].value), "status": status}
    return list(out.values())
