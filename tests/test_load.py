"""A bounded load test on 127.0.0.1 (the full figures are bench/load_mix.py's): a mix of page views,
searches, SPARQL lookups and lineage queries from 32 concurrent clients with writes going on, and a
flooding client that the rate limit holds back while a polite one is served."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import httpx
import pytest

from conftest import start_live_hub

pytestmark = pytest.mark.slow
ALLOWED = {200, 201, 204, 303, 304, 429, 503}
ACCEPT = "text/html,application/sparql-results+json;q=0.9,application/json;q=0.8"  # what a browser-ish client sends


def _paths(live) -> list[str]:
    base = live.settings.base
    decisions = ["cop/1/3", "cop/2/3", "cop/10/15", "cop/11/2", "cop/15/16", "cop/15/8", "cop/14/25"]
    out = []
    for d in decisions:
        out += [f"/decision/{d}.html", f"/decision/{d}", "/sparql?query=" + quote(f"SELECT ?p ?o WHERE {{ <{base}decision/{d}> ?p ?o }}"),
                "/api/queries/lineage-up?decision=" + quote(base + "decision/" + d), "/search?q=" + quote(d.split("/", 1)[1])]
    return out + ["/", "/decisions", "/search?q=clearing-house", "/thesaurus", "/.well-known/void"]


def test_mixed_load_with_writes_answers_nothing_but_success_or_intended_refusals(tmp_path):
    """32 concurrent clients and a writer: every answer is a success or an intended refusal.

    Counted in requests, not seconds: how fast the hub answers is measured by bench/load_mix.py.
    """
    live, stop = start_live_hub(tmp_path, "embedded", query_workers=4, query_queue=8)
    paths = _paths(live)
    statuses: Counter = Counter()
    writes: list[int] = []
    per_client, n_writes = 15, 6

    def client(seed: int) -> None:
        rnd = random.Random(seed)
        with httpx.Client(base_url=live.url, timeout=120, follow_redirects=False) as c:
            for _ in range(per_client):
                statuses[c.get(rnd.choice(paths), headers={"Accept": ACCEPT}).status_code] += 1

    def writer() -> None:
        with httpx.Client(timeout=120) as c:
            for i in range(n_writes):
                r = c.put(live.url + "/gsp", params={"graph": live.settings.base + "graph/load-writes"},
                          content=f"<http://x.org/{i}> <http://x.org/p> \"{i}\" .".encode(),
                          headers={**live.auth(), "Content-Type": "application/n-triples"})
                writes.append(r.status_code)

    try:
        w = threading.Thread(target=writer)
        w.start()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(client, range(32)))
        w.join(timeout=300)
    finally:
        stop()
    assert set(statuses) <= ALLOWED, statuses
    assert sum(statuses.values()) == 32 * per_client and statuses[200] > 0
    assert len(writes) == n_writes and set(writes) <= {201, 204}, writes


def test_a_flooding_client_does_not_starve_a_polite_one(tmp_path):
    live, stop = start_live_hub(tmp_path, "embedded", rate_limit=20, rate_burst=20)
    flooder = live.hub.tokens.create("flood", "reader")
    polite_token = live.hub.tokens.create("polite", "reader")
    flood: Counter = Counter()
    polite: list[int] = []
    start = time.monotonic()
    end = start + 3
    query = "/sparql?query=" + quote("ASK { ?s ?p ?o }")

    def flood_client() -> None:
        with httpx.Client(base_url=live.url, timeout=10) as c:
            for _ in range(5000):  # bounded
                if time.monotonic() > end:
                    return
                flood[c.get(query, headers={"Authorization": f"Bearer {flooder}"}).status_code] += 1

    def polite_client() -> None:
        with httpx.Client(base_url=live.url, timeout=10) as c:
            while time.monotonic() < end:
                polite.append(c.get(query, headers={"Authorization": f"Bearer {polite_token}"}).status_code)
                time.sleep(0.1)

    try:
        threads = [threading.Thread(target=flood_client) for _ in range(8)] + [threading.Thread(target=polite_client)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        window = time.monotonic() - start
    finally:
        stop()
    # the bucket's arithmetic, not a speed: at most the burst plus 20 per second of the window
    # (a slow machine lowers the count; it cannot raise it)
    allowed = 20 + 20 * (window + 1)
    assert flood[429] > flood[200] and flood[200] <= allowed
    assert polite and set(polite) == {200}
