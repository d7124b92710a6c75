"""Atom and JSON Feed for the lists (class indexes with their filters, search, the tracking list),
read with a real feed parser (feedparser): stable ids, updated dates that move only for what changed,
the pages' alternate links, and hostile filter values."""

from __future__ import annotations

import json

import httpx
import pyoxigraph as ox
import pytest
from conftest import start_live_hub
from hostile import hostile_strings

from writes.ingest import ParsedSource, checksum, ingest

feedparser = pytest.importorskip("feedparser")


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    hub, stop = start_live_hub(tmp_path_factory.mktemp("feeds"), "embedded")
    yield hub
    stop()


def get(live, path: str, **params) -> httpx.Response:
    r = httpx.get(live.url + path, params=params, timeout=60)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r


def test_decisions_of_a_meeting_as_atom_and_json_feed(live):
    cop15 = live.settings.base + "meeting/cop/15"
    atom = get(live, "/decisions", meeting=cop15, sort="date", order="desc", format="atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(atom.content)
    assert feed.bozo == 0 and feed.version == "atom10"
    ids = [e.id for e in feed.entries]
    assert ids and all(i.startswith(live.settings.base + "decision/cop/15/") for i in ids)
    assert all(e.updated_parsed and e.link.endswith(".html") for e in feed.entries)
    assert any(link.rel == "self" and "format=atom" in link.href for link in feed.feed.links)
    jf = get(live, "/decisions", meeting=cop15, sort="date", order="desc", format="jsonfeed")
    body = json.loads(jf.content)
    assert body["version"] == "https://jsonfeed.org/version/1.1" and [i["id"] for i in body["items"]] == ids
    assert all(i["date_modified"].endswith("Z") or "+" in i["date_modified"] for i in body["items"])
    # the same list again: the same ids in the same order (stable)
    assert [e.id for e in feedparser.parse(get(live, "/decisions", meeting=cop15, sort="date", order="desc", format="atom").content).entries] == ids


def test_pages_advertise_their_feeds(live):
    page = get(live, "/decisions", meeting=live.settings.base + "meeting/cop/15").text
    assert '<link rel="alternate" type="application/atom+xml"' in page and '<link rel="alternate" type="application/feed+json"' in page
    assert 'type="application/atom+xml" href="/tracking/decisions?meeting=COP-15&amp;format=atom"' in get(live, "/tracking/decisions", meeting="COP-15").text
    assert "application/atom+xml" in get(live, "/search", q="clearing-house").text


def test_search_and_tracking_feeds(live):
    search = feedparser.parse(get(live, "/search", q="clearing-house", format="atom").content)
    assert search.bozo == 0 and len(search.entries) >= 3
    tracked = feedparser.parse(get(live, "/tracking/decisions", meeting="COP-10", format="atom").content)
    assert tracked.bozo == 0 and tracked.entries
    assert all(e.tags[0].term in ("active", "elapsed", "superseded", "retired", "implemented") for e in tracked.entries)
    assert all(":" in e.summary for e in tracked.entries)  # "status: why"


def test_an_entry_is_updated_when_its_graph_changes_and_the_rest_keep_their_dates(live):
    hub = live.hub
    before = {e.id: e.updated for e in feedparser.parse(get(live, "/records", format="atom").content).entries}
    rec = ox.NamedNode(live.settings.base + "record/feed-test")
    nt = ox.serialize([ox.Triple(rec, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("https://w3id.org/chmkg/ns#Record")),
                       ox.Triple(rec, ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal("A new record", language="en")),
                       ox.Triple(rec, ox.NamedNode("http://purl.org/dc/terms/language"), ox.Literal("en"))], format=ox.RdfFormat.N_TRIPLES)
    hub.write(lambda: ingest(hub.store, ParsedSource("feed-test", "test", "inline", checksum(nt), nt, "feed test"),
                             hub.settings.graph("feed-test"), hub.settings.meta_graph), "test", "feed test")
    after = {e.id: e.updated for e in feedparser.parse(get(live, "/records", format="atom").content).entries}
    new = live.settings.base + "record/feed-test"
    assert new in after and new not in before
    assert all(after[i] == before[i] for i in before if i in after)


@pytest.mark.parametrize("value", hostile_strings())
def test_hostile_filter_values_give_well_formed_feeds(live, value):
    for path, params in (("/decisions", {"meeting": value}), ("/records", {"country": value, "subject": value}),
                         ("/search", {"q": value}), ("/tracking/decisions", {"actor": value, "meeting": value})):
        r = httpx.get(live.url + path, params={**params, "format": "atom"}, timeout=60)
        assert r.status_code in (200, 400, 404), (path, r.status_code)
        if r.status_code == 200:
            assert feedparser.parse(r.content).bozo == 0
