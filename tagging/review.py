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


class BatchTooLarge(ChmError):
    code = "E610"
    http_status = 413


MAX_BATCH = 500  # suggestions reviewed in one request


SUGGESTION = prefixed("SELECT ?s ?g ?r ?c ?st WHERE { GRAPH ?g { ?s chm:suggestedFor ?r ; chm:suggestedConcept ?c ; chm:reviewStatus ?st } }")
RECORD_GRAPH = prefixed("SELECT ?g ?r WHERE { GRAPH ?g { ?r a chm:Record } }")


def review_update(store: Store, suggestion: str, action: str, reviewer: str, now: datetime | None = None) -> Update:
    """accept → the concept becomes dcterms:subject of the record; reject → marked rejected."""
    return batch_review_update(store, [(suggestion, action)], reviewer, now)


def batch_review_update(store: Store, items: list[tuple[str, str]], reviewer: str, now: datetime | None = None) -> Update:
    """One update for several (suggestion, "accept" | "reject") pairs, across records: all or nothing."""
    if not items:
        raise ReviewError("no suggestions to review")
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(f"{len(items)} suggestions in one review; at most {MAX_BATCH}")
    stamp = literal((now or datetime.now(UTC)).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    update = Update()
    graphs: dict[str, str] = {}
    seen: set[str] = set()
    for suggestion, action in items:
        if action not in ("accept", "reject"):
            raise ReviewError(f"unknown review action {action!r} (accept or reject)")
        if suggestion in seen:
            raise ReviewError(f"the suggestion {suggestion} is reviewed twice in one request")
        seen.add(suggestion)
        node = iri(suggestion, "suggestion")
        rows = store.select(SUGGESTION, {"s": node}, union=False)
        if not rows:
            raise ReviewError(f"no suggestion {suggestion}")
        g, record, concept, status = rows[0]["g"], rows[0]["r"], rows[0]["c"], rows[0]["st"].value
        if status != "pending":
            raise StaleReview(f"the suggestion {suggestion} was already {status} by another editor; reload the queue")
        new = "accepted" if action == "accept" else "rejected"
        update.delete_data(g, [(node, ox.NamedNode(CHM.reviewStatus), literal("pending"))])
        update.insert_data(g, [(node, ox.NamedNode(CHM.reviewStatus), literal(new)),
                               (node, ox.NamedNode(DCTERMS.contributor), literal(reviewer)),
                               (node, ox.NamedNode(DCTERMS.modified), stamp)])
        if action == "accept":
            if record.value not in graphs:
                graphs[record.value] = record_graph(store, record.value)
            update.insert_data(iri(graphs[record.value]), [(record, ox.NamedNode(DCTERMS.subject), concept)])
    return update


PENDING_OF_RECORD = prefixed("SELECT ?s ?r WHERE { ?s chm:suggestedFor ?r ; chm:reviewStatus \"pending\" }")


def pending_of(store: Store, record: str) -> list[str]:
    """The record's suggestions still pending review."""
    return sorted(r["s"].value for r in store.select(PENDING_OF_RECORD, {"r": iri(record, "record")}))


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
